/* weights/file_read.c - wt_model_load: the .senti reader (spec: FORMAT.md).
 * Checks the header and tables before trusting any of it, then streams the
 * frames in offset order straight into one aligned allocation carved into
 * tensor views, hashing the whole file on the way. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "common/alloc.h"
#include "weights/weights_internal.h"

#define CORRUPT "the file is corrupt; re-run 'senti convert'"

void wt_file_header_decode(const uint8_t in[WT_FILE_HEADER_SIZE], wt_file_header *h)
{
    memcpy(h->magic, in, 8);
    h->version_major = wt_get_u16(in + 8);
    h->version_minor = wt_get_u16(in + 10);
    h->header_size = wt_get_u32(in + 12);
    h->required_flags = wt_get_u64(in + 16);
    h->optional_flags = wt_get_u64(in + 24);
    h->file_size = wt_get_u64(in + 32);
    h->tables_offset = wt_get_u64(in + 40);
    h->tables_size = wt_get_u64(in + 48);
    h->data_offset = wt_get_u64(in + 56);
    h->data_size = wt_get_u64(in + 64);
    h->tables_xxh64 = wt_get_u64(in + 72);
    h->n_tensors = wt_get_u32(in + 80);
    h->n_vocab = wt_get_u32(in + 84);
    h->n_meta = wt_get_u32(in + 88);
    h->reserved0 = wt_get_u32(in + 92);
    for (int i = 0; i < 3; i++) h->reserved1[i] = wt_get_u64(in + 96 + 8 * i);
    h->header_xxh64 = wt_get_u64(in + 120);
}

/* --- sequential reader that hashes every byte ---------------------------- */
typedef struct reader {
    const char *path;
    int fd;
    uint64_t pos;
    XXH64_state_t *xs;
} reader;

static senti_status rd_read(reader *r, void *dst, size_t n, senti_err *err)
{
    uint8_t *p = dst;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(r->fd, p + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0)
            return senti_fail(err, SENTI_E_IO, "weights: reading '%s' failed: %s", r->path,
                              strerror(errno));
        if (k == 0)
            return senti_fail(err, SENTI_E_TRUNCATED, "weights: '%s' ends at byte %" PRIu64
                              "; the file is truncated", r->path, r->pos + got);
        got += (size_t)k;
    }
    XXH64_update(r->xs, dst, n);
    r->pos += n;
    return SENTI_OK;
}

/* Reads up to `to`; the bytes (padding) must be zero. */
static senti_status rd_skip_zeros(reader *r, uint64_t to, senti_err *err)
{
    uint8_t tmp[4096];
    while (r->pos < to) {
        size_t k = to - r->pos < sizeof tmp ? (size_t)(to - r->pos) : sizeof tmp;
        uint64_t at = r->pos;
        senti_status st = rd_read(r, tmp, k, err);
        if (st != SENTI_OK) return st;
        for (size_t i = 0; i < k; i++)
            if (tmp[i])
                return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': padding byte %" PRIu64
                                  " is not zero; " CORRUPT, r->path, at + i);
    }
    return SENTI_OK;
}

/* --- bounded cursor over the tables -------------------------------------- */
typedef struct cur {
    const uint8_t *p;
    uint64_t left;
    bool bad;
} cur;

static const uint8_t *take(cur *c, uint64_t n)
{
    if (c->bad || n > c->left) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    c->left -= n;
    return p;
}

static uint32_t get32(cur *c)
{
    const uint8_t *p = take(c, 4);
    return p ? wt_get_u32(p) : 0;
}

static uint64_t get64(cur *c)
{
    const uint8_t *p = take(c, 8);
    return p ? wt_get_u64(p) : 0;
}

static uint8_t get8(cur *c)
{
    const uint8_t *p = take(c, 1);
    return p ? *p : 0;
}

/* A string of at most max-1 bytes with no NUL; copied NUL-terminated into out
 * (if out) and its raw pointer / length returned via s / len. */
static bool getstr(cur *c, char *out, size_t max, const uint8_t **s, uint32_t *len)
{
    uint32_t n = get32(c);
    const uint8_t *p = take(c, n);
    if (!p || n >= max || memchr(p, 0, n)) {
        c->bad = true;
        return false;
    }
    if (out) {
        memcpy(out, p, n);
        out[n] = '\0';
    }
    if (s) *s = p;
    if (len) *len = n;
    return true;
}

typedef struct entry {
    char name[SENTI_MAX_TENSOR_NAME];
    uint32_t dtype, ndim;
    uint64_t shape[SENTI_MAX_TENSOR_DIMS];
    uint64_t offset, stored, raw, xxh;
    void *dst;
} entry;

typedef struct load {
    const char *path;
    wt_file_header h;
    uint8_t *tables;
    cur sec[5]; /* CONF TOKN VOCB META TENS bodies */
    wt_config cfg;
    entry *ents;
    entry **order;
    char *vocab_blob;
    const char **vocab;
    void *zbuf;
    wt_model *m;
} load;

static const uint32_t known_tags[5] = {WT_TAG_CONF, WT_TAG_TOKN, WT_TAG_VOCB, WT_TAG_META,
                                       WT_TAG_TENS};
static const char *const known_names[5] = {"CONF", "TOKN", "VOCB", "META", "TENS"};

static senti_status section_end(load *L, int i, senti_err *err)
{
    cur *c = &L->sec[i];
    if (c->bad || (c->left && L->h.version_minor <= WT_FILE_MINOR))
        return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': section %s is malformed; " CORRUPT,
                          L->path, known_names[i]);
    return SENTI_OK;
}

static senti_status check_header(load *L, const uint8_t *raw, uint64_t actual, senti_err *err)
{
    wt_file_header *h = &L->h;
    const char *p = L->path;
    wt_file_header_decode(raw, h);
    if (h->version_major > WT_FILE_MAJOR || h->version_major == 0)
        return senti_fail(err, SENTI_E_VERSION, "weights: '%s' is format version %u.%u, but this "
                          "build reads %u.x; upgrade senti", p, h->version_major,
                          h->version_minor, WT_FILE_MAJOR);
    if (XXH64(raw, 120, 0) != h->header_xxh64)
        return senti_fail(err, SENTI_E_CHECKSUM, "weights: '%s': header checksum mismatch; "
                          CORRUPT, p);
    if (h->required_flags & ~(uint64_t)WT_FILE_REQUIRED_FLAGS_KNOWN)
        return senti_fail(err, SENTI_E_UNSUPPORTED, "weights: '%s': unknown required flags 0x%"
                          PRIx64 "; the file needs a newer senti", p,
                          h->required_flags & ~(uint64_t)WT_FILE_REQUIRED_FLAGS_KNOWN);
    if (h->header_size != WT_FILE_HEADER_SIZE || h->tables_offset != WT_FILE_HEADER_SIZE ||
        h->reserved0 || h->reserved1[0] || h->reserved1[1] || h->reserved1[2])
        return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': header size, tables offset or "
                          "reserved fields are wrong; " CORRUPT, p);
    if (h->n_tensors > SENTI_MAX_TENSORS || h->n_vocab > SENTI_MAX_VOCAB ||
        h->n_meta > SENTI_MAX_META_ENTRIES || h->tables_size > SENTI_MAX_SENTI_TABLES)
        return senti_fail(err, SENTI_E_LIMIT, "weights: '%s': %" PRIu32 " tensors, %" PRIu32
                          " tokens, %" PRIu32 " metadata entries, %" PRIu64 " table bytes exceed "
                          "the limits (%d, %u, %d, %u)", p, h->n_tensors, h->n_vocab, h->n_meta,
                          h->tables_size, SENTI_MAX_TENSORS, SENTI_MAX_VOCAB,
                          SENTI_MAX_META_ENTRIES, SENTI_MAX_SENTI_TABLES);
    if (h->data_offset % WT_ALIGN || h->data_offset < h->tables_offset + h->tables_size ||
        h->data_offset > h->file_size || h->data_size != h->file_size - h->data_offset)
        return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': inconsistent layout (tables end "
                          "%" PRIu64 ", data %" PRIu64 "+%" PRIu64 ", file %" PRIu64 "); " CORRUPT,
                          p, h->tables_offset + h->tables_size, h->data_offset, h->data_size,
                          h->file_size);
    if (actual < h->file_size)
        return senti_fail(err, SENTI_E_TRUNCATED, "weights: '%s' is %" PRIu64 " bytes but its "
                          "header says %" PRIu64 ": the file is truncated (interrupted copy or "
                          "download?)", p, actual, h->file_size);
    if (actual > h->file_size)
        return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': %" PRIu64 " unexpected bytes "
                          "after the end of the file", p, actual - h->file_size);
    return SENTI_OK;
}

static senti_status split_sections(load *L, senti_err *err)
{
    cur c = {L->tables, L->h.tables_size, false};
    bool seen[5] = {false};
    while (c.left) {
        uint32_t tag = get32(&c), flags = get32(&c);
        uint64_t size = get64(&c);
        const uint8_t *body = take(&c, size);
        if (!body)
            return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': section table overruns the "
                              "tables; " CORRUPT, L->path);
        int k = -1;
        for (int i = 0; i < 5; i++)
            if (tag == known_tags[i]) k = i;
        if (k < 0) {
            if (flags & WT_SECTION_REQUIRED)
                return senti_fail(err, SENTI_E_UNSUPPORTED, "weights: '%s': unknown required "
                                  "section 0x%08" PRIx32 "; the file needs a newer senti",
                                  L->path, tag);
            continue;
        }
        if (seen[k] || (flags & ~WT_SECTION_REQUIRED))
            return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': section %s is duplicated or "
                              "has unknown flags; " CORRUPT, L->path, known_names[k]);
        seen[k] = true;
        L->sec[k] = (cur){body, size, false};
    }
    for (int i = 0; i < 5; i++)
        if (!seen[i])
            return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': section %s is missing; "
                              CORRUPT, L->path, known_names[i]);
    return SENTI_OK;
}

static senti_status parse_config(load *L, senti_err *err)
{
    wt_config *cfg = &L->cfg;
    cur *c = &L->sec[0];
    getstr(c, cfg->architecture, sizeof cfg->architecture, NULL, NULL);
    uint32_t *dims[7] = {&cfg->dim,        &cfg->n_layers,      &cfg->n_heads, &cfg->hidden_dim,
                         &cfg->vocab_size, &cfg->max_positions, &cfg->n_labels};
    for (int i = 0; i < 7; i++) *dims[i] = get32(c);
    uint32_t eps = get32(c);
    memcpy(&cfg->ln_eps, &eps, 4);
    cfg->activation = (wt_activation)get32(c);
    if (cfg->n_labels > SENTI_MAX_LABELS) c->bad = true;
    for (uint32_t i = 0; !c->bad && i < cfg->n_labels; i++)
        getstr(c, cfg->labels[i], sizeof cfg->labels[i], NULL, NULL);
    senti_status st = section_end(L, 0, err);
    if (st != SENTI_OK) return st;

    wt_tok_config *t = &cfg->tok;
    c = &L->sec[1];
    uint8_t b[4] = {get8(c), get8(c), get8(c), get8(c)};
    if (b[0] > 1 || b[1] > 1 || b[2] > 1 || b[3]) c->bad = true;
    t->do_lower_case = b[0], t->strip_accents = b[1], t->tokenize_chinese_chars = b[2];
    t->max_length = get32(c);
    getstr(c, t->unk_token, sizeof t->unk_token, NULL, NULL);
    getstr(c, t->cls_token, sizeof t->cls_token, NULL, NULL);
    getstr(c, t->sep_token, sizeof t->sep_token, NULL, NULL);
    getstr(c, t->pad_token, sizeof t->pad_token, NULL, NULL);
    getstr(c, t->mask_token, sizeof t->mask_token, NULL, NULL);
    st = section_end(L, 1, err);
    if (st != SENTI_OK) return st;
    return wt_config_check(cfg, "the file's config", err);
}

static senti_status parse_vocab_meta(load *L, senti_err *err)
{
    uint32_t n = L->h.n_vocab;
    cur c = L->sec[2], again = L->sec[2];
    size_t total = 0;
    for (uint32_t i = 0; i < n && !c.bad; i++) {
        uint32_t len = 0;
        getstr(&c, NULL, SENTI_MAX_TOKEN_BYTES, NULL, &len);
        total += len + 1;
    }
    L->sec[2] = c;
    senti_status st = section_end(L, 2, err);
    if (st != SENTI_OK) return st;
    L->vocab_blob = senti_malloc(total ? total : 1);
    L->vocab = senti_calloc(n ? n : 1, sizeof *L->vocab);
    if (!L->vocab_blob || !L->vocab)
        return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for the vocabulary");
    char *p = L->vocab_blob;
    for (uint32_t i = 0; i < n; i++) { /* already checked: cannot fail */
        const uint8_t *s;
        uint32_t len;
        getstr(&again, NULL, SENTI_MAX_TOKEN_BYTES, &s, &len);
        memcpy(p, s, len);
        p[len] = '\0';
        L->vocab[i] = p;
        p += len + 1;
    }
    st = wt_model_set_vocab(L->m, L->vocab, n, err);
    if (st != SENTI_OK) return st;

    cur *mc = &L->sec[3];
    char *k = senti_malloc(SENTI_MAX_META_VALUE), *val = senti_malloc(SENTI_MAX_META_VALUE);
    if (!k || !val) {
        senti_free(k);
        senti_free(val);
        return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for metadata");
    }
    for (uint32_t i = 0; i < L->h.n_meta && st == SENTI_OK && !mc->bad; i++) {
        k[0] = '\0';
        getstr(mc, k, SENTI_MAX_META_VALUE, NULL, NULL);
        getstr(mc, val, SENTI_MAX_META_VALUE, NULL, NULL);
        if (mc->bad || !k[0])
            mc->bad = true;
        else if (wt_model_meta(L->m, k))
            st = senti_fail(err, SENTI_E_DUPLICATE, "weights: '%s': metadata key '%.64s' appears "
                            "twice; " CORRUPT, L->path, k);
        else
            st = wt_model_set_meta(L->m, k, val, err);
    }
    senti_free(k);
    senti_free(val);
    if (st != SENTI_OK) return st;
    return section_end(L, 3, err);
}

static int cmp_offset(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static senti_status parse_tensors(load *L, uint64_t *arena_size, uint64_t *max_stored,
                                  senti_err *err)
{
    uint32_t n = L->h.n_tensors;
    cur *c = &L->sec[4];
    L->ents = senti_calloc(n ? n : 1, sizeof *L->ents);
    L->order = senti_calloc(n ? n : 1, sizeof *L->order);
    if (!L->ents || !L->order)
        return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for the tensor table");
    uint64_t total = 0;
    *max_stored = 0;
    for (uint32_t i = 0; i < n; i++) {
        entry *e = &L->ents[i];
        getstr(c, e->name, sizeof e->name, NULL, NULL);
        e->dtype = get32(c);
        e->ndim = get32(c);
        for (int d = 0; d < SENTI_MAX_TENSOR_DIMS; d++) e->shape[d] = get64(c);
        e->offset = get64(c);
        e->stored = get64(c);
        e->raw = get64(c);
        e->xxh = get64(c);
        uint32_t codec = get32(c), reserved = get32(c);
        if (c->bad || !e->name[0]) return section_end(L, 4, err);
        if (e->dtype >= WT_DTYPE_COUNT_)
            return senti_fail(err, SENTI_E_UNSUPPORTED, "weights: '%s': tensor '%s': unknown "
                              "dtype %" PRIu32 "; the file needs a newer senti", L->path, e->name,
                              e->dtype);
        if (codec != WT_CODEC_ZSTD)
            return senti_fail(err, SENTI_E_UNSUPPORTED, "weights: '%s': tensor '%s': unknown "
                              "codec %" PRIu32 "; the file needs a newer senti", L->path, e->name,
                              codec);
        bool zero_tail = reserved == 0;
        for (uint32_t d = e->ndim; d < SENTI_MAX_TENSOR_DIMS && e->ndim <= SENTI_MAX_TENSOR_DIMS; d++)
            zero_tail = zero_tail && e->shape[d] == 0;
        if (!zero_tail)
            return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': tensor '%s': reserved or "
                              "unused shape fields are not zero; " CORRUPT, L->path, e->name);
        uint64_t want;
        senti_status st = wt_tensor_raw_size(e->name, (wt_dtype)e->dtype, e->ndim, e->shape,
                                             &want, err);
        if (st != SENTI_OK) return st;
        if (want != e->raw)
            return senti_fail(err, SENTI_E_SHAPE, "weights: '%s': tensor '%s': raw size %" PRIu64
                              " but its %s shape needs %" PRIu64 "; " CORRUPT, L->path, e->name,
                              e->raw, wt_dtype_name((wt_dtype)e->dtype), want);
        if (e->offset % WT_ALIGN)
            return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': tensor '%s' starts at byte %"
                              PRIu64 ", not a multiple of %u; " CORRUPT, L->path, e->name,
                              e->offset, WT_ALIGN);
        if (e->stored == 0 || e->offset < L->h.data_offset || e->offset > L->h.file_size ||
            e->stored > L->h.file_size - e->offset)
            return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': tensor '%s': bytes %" PRIu64
                              "+%" PRIu64 " lie outside the data section (%" PRIu64 "..%" PRIu64
                              "); " CORRUPT, L->path, e->name, e->offset, e->stored,
                              L->h.data_offset, L->h.file_size);
        total += WT_ALIGN_UP(e->raw); /* each raw < 2^62 and n <= 4096: no overflow */
        if (total > SENTI_MAX_WEIGHT_BYTES)
            return senti_fail(err, SENTI_E_LIMIT, "weights: '%s': tensors total more than %"
                              PRIu64 " bytes", L->path, (uint64_t)SENTI_MAX_WEIGHT_BYTES);
        if (e->stored > *max_stored) *max_stored = e->stored;
        L->order[i] = e;
    }
    senti_status st = section_end(L, 4, err);
    if (st != SENTI_OK) return st;
    qsort(L->order, n, sizeof *L->order, cmp_offset);
    for (uint32_t i = 1; i < n; i++) {
        const entry *a = L->order[i - 1], *b = L->order[i];
        if (b->offset < a->offset + a->stored)
            return senti_fail(err, SENTI_E_FORMAT, "weights: '%s': tensors '%s' and '%s' overlap "
                              "(bytes %" PRIu64 "+%" PRIu64 " and %" PRIu64 "+%" PRIu64 "); "
                              CORRUPT, L->path, a->name, b->name, a->offset, a->stored,
                              b->offset, b->stored);
    }
    *arena_size = total;
    return SENTI_OK;
}

static senti_status stream_frames(load *L, reader *r, senti_err *err)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx) return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for zstd");
    senti_status st = SENTI_OK;
    for (uint32_t i = 0; i < L->h.n_tensors && st == SENTI_OK; i++) {
        entry *e = L->order[i];
        st = rd_skip_zeros(r, e->offset, err);
        if (st == SENTI_OK) st = rd_read(r, L->zbuf, (size_t)e->stored, err);
        if (st != SENTI_OK) break;
        size_t got = ZSTD_decompressDCtx(dctx, e->dst, (size_t)e->raw, L->zbuf, (size_t)e->stored);
        if (ZSTD_isError(got))
            st = senti_fail(err, SENTI_E_COMPRESSION, "weights: '%s': tensor '%s': zstd: %s; "
                            CORRUPT, L->path, e->name, ZSTD_getErrorName(got));
        else if (got != e->raw)
            st = senti_fail(err, SENTI_E_COMPRESSION, "weights: '%s': tensor '%s': decompressed "
                            "to %zu bytes, expected %" PRIu64 "; " CORRUPT, L->path, e->name, got,
                            e->raw);
        else if (XXH64(e->dst, (size_t)e->raw, 0) != e->xxh)
            st = senti_fail(err, SENTI_E_CHECKSUM, "weights: '%s': tensor '%s': checksum "
                            "mismatch; " CORRUPT, L->path, e->name);
    }
    ZSTD_freeDCtx(dctx);
    if (st == SENTI_OK) st = rd_skip_zeros(r, L->h.file_size, err);
    return st;
}

senti_status wt_model_load(const char *path, wt_model **out, senti_err *err)
{
    senti_status st;
    load L;
    reader r = {path, -1, 0, NULL};
    memset(&L, 0, sizeof L);
    L.path = path;
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0)
        return senti_fail(err, errno == ENOENT ? SENTI_E_MISSING : SENTI_E_IO,
                          "weights: cannot open '%s': %s", path, strerror(errno));
    r.xs = XXH64_createState();
    if (!r.xs) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory");
        goto fail;
    }
    XXH64_reset(r.xs, 0);
    struct stat sb;
    if (fstat(r.fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = senti_fail(err, SENTI_E_IO, "weights: '%s' is not a regular file", path);
        goto fail;
    }
    uint64_t actual = (uint64_t)sb.st_size;
    uint8_t raw[WT_FILE_HEADER_SIZE] = {0};
    size_t first = actual < sizeof raw ? (size_t)actual : sizeof raw;
    SENTI_TRY(rd_read(&r, raw, first, err));
    if (first < 8 || memcmp(raw, WT_FILE_MAGIC, 8)) {
        st = senti_fail(err, SENTI_E_FORMAT, "weights: '%s' is not a senti weight file (bad "
                        "magic); convert a checkpoint with 'senti convert'", path);
        goto fail;
    }
    if (first < sizeof raw) {
        st = senti_fail(err, SENTI_E_TRUNCATED, "weights: '%s' is %" PRIu64 " bytes, shorter "
                        "than the header: the file is truncated", path, actual);
        goto fail;
    }
    SENTI_TRY(check_header(&L, raw, actual, err));

    L.tables = senti_malloc((size_t)L.h.tables_size);
    if (!L.tables) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for the tables of '%s'", path);
        goto fail;
    }
    SENTI_TRY(rd_read(&r, L.tables, (size_t)L.h.tables_size, err));
    if (XXH64(L.tables, (size_t)L.h.tables_size, 0) != L.h.tables_xxh64) {
        st = senti_fail(err, SENTI_E_CHECKSUM, "weights: '%s': tables checksum mismatch; " CORRUPT,
                        path);
        goto fail;
    }
    SENTI_TRY(split_sections(&L, err));
    SENTI_TRY(parse_config(&L, err));
    SENTI_TRY(wt_model_create(&L.cfg, &L.m, err));
    wt_model_set_origin(L.m, "the file's config");
    SENTI_TRY(parse_vocab_meta(&L, err));
    uint64_t arena_size = 0, max_stored = 0;
    SENTI_TRY(parse_tensors(&L, &arena_size, &max_stored, err));

    /* One allocation for every tensor, carved in table order. */
    SENTI_TRY(wt_model_reserve(L.m, L.h.n_tensors, err));
    uint8_t *arena = senti_alloc_aligned((size_t)arena_size);
    if (!arena) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for %" PRIu64 " bytes of "
                        "weights from '%s'", arena_size, path);
        goto fail;
    }
    wt_model_adopt_arena(L.m, arena);
    uint64_t at = 0;
    for (uint32_t i = 0; i < L.h.n_tensors; i++) {
        entry *e = &L.ents[i];
        e->dst = arena + at;
        at += WT_ALIGN_UP(e->raw);
        st = wt_model_add_view(L.m, e->name, (wt_dtype)e->dtype, e->ndim, e->shape, e->dst,
                               e->raw, err);
        if (st == SENTI_E_DUPLICATE)
            senti_fail(err, st, "weights: '%s': tensor '%s' appears twice; " CORRUPT, path,
                       e->name);
        if (st != SENTI_OK) goto fail;
    }
    SENTI_TRY(wt_model_validate(L.m, err)); /* missing / mis-shaped: before reading data */
    L.zbuf = senti_malloc((size_t)max_stored);
    if (!L.zbuf) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for a %" PRIu64 "-byte frame",
                        max_stored);
        goto fail;
    }
    SENTI_TRY(stream_frames(&L, &r, err));
    wt_model_set_file_checksum(L.m, XXH64_digest(r.xs));
    *out = L.m;
    L.m = NULL;
    st = SENTI_OK;
fail:
    wt_model_free(L.m);
    senti_free(L.zbuf);
    senti_free(L.order);
    senti_free(L.ents);
    senti_free(L.vocab);
    senti_free(L.vocab_blob);
    senti_free(L.tables);
    XXH64_freeState(r.xs);
    close(r.fd);
    return st;
}
