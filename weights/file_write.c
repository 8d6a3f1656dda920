/* weights/file_write.c - wt_model_save: the .senti writer (spec: FORMAT.md).
 * Header and tables have fixed-width fields, so their size is known before the
 * frames are compressed: write placeholders, stream one zstd frame per tensor,
 * then seek back and write the final header and tables. Atomic via a temp file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "common/alloc.h"
#include "weights/weights_internal.h"

void wt_file_header_encode(wt_file_header *h, uint8_t out[WT_FILE_HEADER_SIZE])
{
    memset(out, 0, WT_FILE_HEADER_SIZE);
    memcpy(out, h->magic, 8);
    wt_put_u16(out + 8, h->version_major);
    wt_put_u16(out + 10, h->version_minor);
    wt_put_u32(out + 12, h->header_size);
    wt_put_u64(out + 16, h->required_flags);
    wt_put_u64(out + 24, h->optional_flags);
    wt_put_u64(out + 32, h->file_size);
    wt_put_u64(out + 40, h->tables_offset);
    wt_put_u64(out + 48, h->tables_size);
    wt_put_u64(out + 56, h->data_offset);
    wt_put_u64(out + 64, h->data_size);
    wt_put_u64(out + 72, h->tables_xxh64);
    wt_put_u32(out + 80, h->n_tensors);
    wt_put_u32(out + 84, h->n_vocab);
    wt_put_u32(out + 88, h->n_meta);
    wt_put_u32(out + 92, h->reserved0);
    for (int i = 0; i < 3; i++) wt_put_u64(out + 96 + 8 * i, h->reserved1[i]);
    h->header_xxh64 = XXH64(out, 120, 0);
    wt_put_u64(out + 120, h->header_xxh64);
}

/* A growable byte buffer for the tables. */
typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} buf;

static uint8_t *buf_grow(buf *b, size_t n)
{
    if (b->oom) return NULL;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = senti_realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    uint8_t *at = b->p + b->len;
    b->len += n;
    return at;
}

static void put32(buf *b, uint32_t v)
{
    uint8_t *p = buf_grow(b, 4);
    if (p) wt_put_u32(p, v);
}

static void put64(buf *b, uint64_t v)
{
    uint8_t *p = buf_grow(b, 8);
    if (p) wt_put_u64(p, v);
}

static void put8(buf *b, uint8_t v)
{
    uint8_t *p = buf_grow(b, 1);
    if (p) *p = v;
}

static void putstr(buf *b, const char *s)
{
    size_t n = strlen(s);
    put32(b, (uint32_t)n);
    uint8_t *p = buf_grow(b, n);
    if (p) memcpy(p, s, n);
}

/* Starts a section; returns the position of its size field (patched by end_section). */
static size_t begin_section(buf *b, uint32_t tag)
{
    put32(b, tag);
    put32(b, WT_SECTION_REQUIRED);
    size_t at = b->len;
    put64(b, 0);
    return at;
}

static void end_section(buf *b, size_t at)
{
    if (!b->oom) wt_put_u64(b->p + at, b->len - at - 8);
}

typedef struct frame {
    uint64_t offset, stored, xxh;
} frame;

/* Serialises every section; frames may be NULL (placeholders of the same size). */
static void build_tables(const wt_model *m, const frame *frames, buf *b)
{
    const wt_config *c = wt_model_config(m);
    b->len = 0;
    size_t at = begin_section(b, WT_TAG_CONF);
    putstr(b, c->architecture);
    const uint32_t dims[7] = {c->dim,        c->n_layers,   c->n_heads, c->hidden_dim,
                              c->vocab_size, c->max_positions, c->n_labels};
    for (int i = 0; i < 7; i++) put32(b, dims[i]);
    uint32_t eps;
    memcpy(&eps, &c->ln_eps, 4);
    put32(b, eps);
    put32(b, (uint32_t)c->activation);
    for (uint32_t i = 0; i < c->n_labels && i < SENTI_MAX_LABELS; i++) putstr(b, c->labels[i]);
    end_section(b, at);

    const wt_tok_config *t = &c->tok;
    at = begin_section(b, WT_TAG_TOKN);
    put8(b, t->do_lower_case);
    put8(b, t->strip_accents);
    put8(b, t->tokenize_chinese_chars);
    put8(b, 0);
    put32(b, t->max_length);
    putstr(b, t->unk_token);
    putstr(b, t->cls_token);
    putstr(b, t->sep_token);
    putstr(b, t->pad_token);
    putstr(b, t->mask_token);
    end_section(b, at);

    at = begin_section(b, WT_TAG_VOCB);
    for (uint32_t i = 0; i < wt_model_vocab_size(m); i++) putstr(b, wt_model_vocab_token(m, i));
    end_section(b, at);

    at = begin_section(b, WT_TAG_META);
    for (uint32_t i = 0; i < wt_model_meta_count(m); i++) {
        const char *k, *v;
        wt_model_meta_at(m, i, &k, &v);
        putstr(b, k);
        putstr(b, v);
    }
    end_section(b, at);

    at = begin_section(b, WT_TAG_TENS);
    for (uint32_t i = 0; i < wt_model_tensor_count(m); i++) {
        const wt_tensor *x = wt_model_tensor_at(m, i);
        putstr(b, x->name);
        put32(b, (uint32_t)x->dtype);
        put32(b, x->ndim);
        for (uint32_t d = 0; d < SENTI_MAX_TENSOR_DIMS; d++) put64(b, d < x->ndim ? x->shape[d] : 0);
        put64(b, frames ? frames[i].offset : 0);
        put64(b, frames ? frames[i].stored : 0);
        put64(b, x->nbytes);
        put64(b, frames ? frames[i].xxh : 0);
        put32(b, WT_CODEC_ZSTD);
        put32(b, 0);
    }
    end_section(b, at);
}

static senti_status write_all(FILE *f, const void *p, size_t n, const char *tmp, senti_err *err)
{
    if (n && fwrite(p, 1, n, f) != n)
        return senti_fail(err, SENTI_E_IO, "weights: writing '%s' failed: %s", tmp,
                          strerror(errno));
    return SENTI_OK;
}

static senti_status write_zeros(FILE *f, uint64_t n, const char *tmp, senti_err *err)
{
    static const uint8_t zeros[64];
    senti_status st = SENTI_OK;
    while (n && st == SENTI_OK) {
        size_t k = n < 64 ? (size_t)n : 64;
        st = write_all(f, zeros, k, tmp, err);
        n -= k;
    }
    return st;
}

static senti_status fsync_dir(const char *path, senti_err *err)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return SENTI_OK; /* e.g. no permission to open the directory: best effort */
    int rc = fsync(fd);
    close(fd);
    if (rc != 0 && errno != EINVAL)
        return senti_fail(err, SENTI_E_IO, "weights: fsync of the directory of '%s' failed: %s",
                          path, strerror(errno));
    return SENTI_OK;
}

senti_status wt_model_save(const wt_model *m, const char *path, const wt_save_opts *opts,
                           senti_err *err)
{
    senti_status st;
    buf tables = {0};
    frame *frames = NULL;
    void *zbuf = NULL;
    ZSTD_CCtx *cctx = NULL;
    FILE *f = NULL;
    char tmp[4096];
    int level = opts && opts->zstd_level ? opts->zstd_level : 3;
    uint32_t n = wt_model_tensor_count(m);
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return senti_fail(err, SENTI_E_INVALID, "weights: path too long: '%.64s...'", path);
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return senti_fail(err, SENTI_E_INVALID, "weights: zstd level %d (must be %d..%d)", level,
                          ZSTD_minCLevel(), ZSTD_maxCLevel());

    /* Never write a file the reader would reject. */
    st = wt_model_validate(m, err);
    if (st != SENTI_OK) return st;
    uint64_t total = 0, max_raw = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t r = wt_model_tensor_at(m, i)->nbytes;
        total += r;
        if (r > max_raw) max_raw = r;
    }
    frames = senti_calloc(n ? n : 1, sizeof *frames);
    size_t bound = ZSTD_compressBound((size_t)max_raw);
    zbuf = senti_malloc(bound);
    cctx = ZSTD_createCCtx();
    if (!frames || !zbuf || !cctx) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory saving '%s'", path);
        goto fail;
    }
    build_tables(m, NULL, &tables);
    if (tables.oom) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory saving '%s'", path);
        goto fail;
    }
    wt_file_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, WT_FILE_MAGIC, 8);
    h.version_major = WT_FILE_MAJOR;
    h.version_minor = WT_FILE_MINOR;
    h.header_size = WT_FILE_HEADER_SIZE;
    h.tables_offset = WT_FILE_HEADER_SIZE;
    h.tables_size = tables.len;
    h.data_offset = WT_ALIGN_UP(WT_FILE_HEADER_SIZE + tables.len);
    h.n_tensors = n;
    h.n_vocab = wt_model_vocab_size(m);
    h.n_meta = wt_model_meta_count(m);

    f = fopen(tmp, "wb");
    if (!f) {
        st = senti_fail(err, SENTI_E_IO, "weights: cannot create '%s': %s", tmp, strerror(errno));
        goto fail;
    }
    SENTI_TRY(write_zeros(f, h.data_offset, tmp, err)); /* header + tables, patched later */
    uint64_t pos = h.data_offset, done = 0;
    for (uint32_t i = 0; i < n; i++) {
        const wt_tensor *x = wt_model_tensor_at(m, i);
        uint64_t aligned = WT_ALIGN_UP(pos);
        SENTI_TRY(write_zeros(f, aligned - pos, tmp, err));
        size_t z = ZSTD_compressCCtx(cctx, zbuf, bound, x->data, (size_t)x->nbytes, level);
        if (ZSTD_isError(z)) {
            st = senti_fail(err, SENTI_E_COMPRESSION, "weights: tensor '%s': zstd: %s", x->name,
                            ZSTD_getErrorName(z));
            goto fail;
        }
        SENTI_TRY(write_all(f, zbuf, z, tmp, err));
        frames[i].offset = aligned;
        frames[i].stored = z;
        frames[i].xxh = XXH64(x->data, (size_t)x->nbytes, 0);
        pos = aligned + z;
        done += x->nbytes;
        if (opts && opts->progress) opts->progress(done, total, opts->user);
    }
    h.file_size = pos;
    h.data_size = pos - h.data_offset;
    build_tables(m, frames, &tables);
    if (tables.oom) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory saving '%s'", path);
        goto fail;
    }
    h.tables_xxh64 = XXH64(tables.p, tables.len, 0);
    uint8_t hdr[WT_FILE_HEADER_SIZE];
    wt_file_header_encode(&h, hdr);
    if (fseeko(f, 0, SEEK_SET) != 0) {
        st = senti_fail(err, SENTI_E_IO, "weights: seek in '%s' failed: %s", tmp, strerror(errno));
        goto fail;
    }
    SENTI_TRY(write_all(f, hdr, sizeof hdr, tmp, err));
    SENTI_TRY(write_all(f, tables.p, tables.len, tmp, err));
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        st = senti_fail(err, SENTI_E_IO, "weights: flushing '%s' failed: %s", tmp,
                        strerror(errno));
        goto fail;
    }
    int rc = fclose(f);
    f = NULL;
    if (rc != 0) {
        st = senti_fail(err, SENTI_E_IO, "weights: closing '%s' failed: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        st = senti_fail(err, SENTI_E_IO, "weights: rename '%s' -> '%s' failed: %s", tmp, path,
                        strerror(errno));
        goto fail;
    }
    st = fsync_dir(path, err);
    ZSTD_freeCCtx(cctx);
    senti_free(zbuf);
    senti_free(frames);
    senti_free(tables.p);
    return st;
fail:
    if (f) fclose(f);
    unlink(tmp);
    ZSTD_freeCCtx(cctx);
    senti_free(zbuf);
    senti_free(frames);
    senti_free(tables.p);
    return st;
}
