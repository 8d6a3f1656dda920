/* weights/model.c - the in-memory model: config, vocabulary, metadata and
 * named tensors with a hash index for lookup by name. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/alloc.h"
#include "weights/weights_internal.h"

struct wt_model {
    wt_config cfg;
    wt_tensor *tensors;
    bool *owned;          /* tensors[i].data was allocated alone (not in arena) */
    uint32_t n_tensors, cap_tensors;
    uint32_t *index;      /* open addressing: tensor index + 1, 0 = empty */
    uint32_t index_cap;   /* power of two, >= 2 * cap_tensors */
    char *vocab_blob;     /* NUL-separated tokens */
    const char **vocab;   /* pointers into vocab_blob */
    uint32_t n_vocab;
    char *meta_key[SENTI_MAX_META_ENTRIES], *meta_val[SENTI_MAX_META_ENTRIES];
    uint32_t n_meta;
    void *arena;          /* one aligned block carved into tensor views (loaded files) */
    const char *origin;
    char checksum[17];
};

static const char *const dtype_names[WT_DTYPE_COUNT_] = {"f32", "f16", "bf16", "i8_rowscale"};

const char *wt_dtype_name(wt_dtype d)
{
    return (unsigned)d < WT_DTYPE_COUNT_ ? dtype_names[d] : "unknown";
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

senti_status wt_model_create(const wt_config *cfg, wt_model **out, senti_err *err)
{
    wt_model *m = senti_calloc(1, sizeof *m);
    if (!m) return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory creating a model");
    m->cfg = *cfg;
    m->cfg.architecture[sizeof m->cfg.architecture - 1] = '\0';
    m->origin = "the model config";
    *out = m;
    return SENTI_OK;
}

void wt_model_free(wt_model *m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (m->owned[i]) senti_free_aligned(m->tensors[i].data);
    senti_free(m->tensors);
    senti_free(m->owned);
    senti_free(m->index);
    senti_free(m->vocab_blob);
    senti_free(m->vocab);
    for (uint32_t i = 0; i < m->n_meta; i++) {
        senti_free(m->meta_key[i]);
        senti_free(m->meta_val[i]);
    }
    senti_free_aligned(m->arena);
    senti_free(m);
}

static void index_insert(uint32_t *index, uint32_t cap, const char *name, uint32_t i)
{
    uint32_t mask = cap - 1, h = name_hash(name) & mask;
    while (index[h]) h = (h + 1) & mask;
    index[h] = i + 1;
}

senti_status wt_model_reserve(wt_model *m, uint32_t n, senti_err *err)
{
    if (n <= m->cap_tensors) return SENTI_OK;
    if (n > SENTI_MAX_TENSORS)
        return senti_fail(err, SENTI_E_LIMIT, "weights: %" PRIu32 " tensors exceed the limit of %d",
                          n, SENTI_MAX_TENSORS);
    uint32_t cap = m->cap_tensors ? m->cap_tensors : 16;
    while (cap < n) cap *= 2;
    uint32_t icap = 1;
    while (icap < 2 * cap) icap *= 2;
    wt_tensor *t = senti_calloc(cap, sizeof *t);
    bool *owned = senti_calloc(cap, sizeof *owned);
    uint32_t *index = senti_calloc(icap, sizeof *index);
    if (!t || !owned || !index) {
        senti_free(t);
        senti_free(owned);
        senti_free(index);
        return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for the tensor table");
    }
    if (m->n_tensors) {
        memcpy(t, m->tensors, m->n_tensors * sizeof *t);
        memcpy(owned, m->owned, m->n_tensors * sizeof *owned);
    }
    for (uint32_t i = 0; i < m->n_tensors; i++) index_insert(index, icap, t[i].name, i);
    senti_free(m->tensors);
    senti_free(m->owned);
    senti_free(m->index);
    m->tensors = t;
    m->owned = owned;
    m->index = index;
    m->cap_tensors = cap;
    m->index_cap = icap;
    return SENTI_OK;
}

senti_status wt_tensor_raw_size(const char *name, wt_dtype dtype, uint32_t ndim,
                                const uint64_t *shape, uint64_t *out, senti_err *err)
{
    const uint64_t cap = (uint64_t)1 << 62;
    if ((unsigned)dtype >= WT_DTYPE_COUNT_)
        return senti_fail(err, SENTI_E_UNSUPPORTED, "weights: tensor '%s': unknown dtype %u",
                          name, (unsigned)dtype);
    if (ndim < 1 || ndim > SENTI_MAX_TENSOR_DIMS)
        return senti_fail(err, SENTI_E_SHAPE, "weights: tensor '%s': %" PRIu32
                          " dimensions (must be 1..%d)", name, ndim, SENTI_MAX_TENSOR_DIMS);
    if (dtype == WT_DTYPE_I8_ROWSCALE && ndim != 2)
        return senti_fail(err, SENTI_E_SHAPE, "weights: tensor '%s': i8_rowscale needs 2 "
                          "dimensions, got %" PRIu32, name, ndim);
    uint64_t count = 1;
    for (uint32_t i = 0; i < ndim; i++) {
        if (shape[i] == 0 || shape[i] >= cap || count > cap / shape[i])
            return senti_fail(err, SENTI_E_SHAPE, "weights: tensor '%s': dimension %" PRIu32
                              " is %" PRIu64 " (must be 1..2^62 and the product < 2^62)",
                              name, i, shape[i]);
        count *= shape[i];
    }
    switch (dtype) {
    case WT_DTYPE_F32: *out = count * 4; break;
    case WT_DTYPE_F16:
    case WT_DTYPE_BF16: *out = count * 2; break;
    case WT_DTYPE_I8_ROWSCALE: *out = WT_ALIGN_UP(count) + 4 * shape[0]; break;
    default: return SENTI_E_INTERNAL;
    }
    return SENTI_OK;
}

static senti_status check_new_tensor(wt_model *m, const char *name, wt_dtype dtype,
                                     uint32_t ndim, const uint64_t *shape, uint64_t nbytes,
                                     senti_err *err)
{
    size_t len = strlen(name);
    if (len == 0 || len >= SENTI_MAX_TENSOR_NAME)
        return senti_fail(err, SENTI_E_LIMIT, "weights: tensor name of %zu bytes (must be 1..%d)",
                          len, SENTI_MAX_TENSOR_NAME - 1);
    if (wt_model_tensor(m, name))
        return senti_fail(err, SENTI_E_DUPLICATE, "weights: tensor '%s' appears twice", name);
    uint64_t want;
    senti_status st = wt_tensor_raw_size(name, dtype, ndim, shape, &want, err);
    if (st != SENTI_OK) return st;
    if (want != nbytes)
        return senti_fail(err, SENTI_E_SHAPE, "weights: tensor '%s': %" PRIu64 " bytes, but "
                          "its %s shape needs %" PRIu64, name, nbytes, wt_dtype_name(dtype), want);
    if (m->n_tensors >= SENTI_MAX_TENSORS)
        return senti_fail(err, SENTI_E_LIMIT, "weights: more than %d tensors", SENTI_MAX_TENSORS);
    return wt_model_reserve(m, m->n_tensors + 1, err);
}

static void put_tensor(wt_model *m, const char *name, wt_dtype dtype, uint32_t ndim,
                       const uint64_t *shape, void *data, uint64_t nbytes, bool owned)
{
    uint32_t i = m->n_tensors++;
    wt_tensor *t = &m->tensors[i];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->shape, shape, ndim * sizeof *shape);
    t->data = data;
    t->nbytes = nbytes;
    if (dtype == WT_DTYPE_I8_ROWSCALE)
        t->scales = (float *)((uint8_t *)data + WT_ALIGN_UP(shape[0] * shape[1]));
    m->owned[i] = owned;
    index_insert(m->index, m->index_cap, t->name, i);
}

senti_status wt_model_add_tensor(wt_model *m, const char *name, wt_dtype dtype, uint32_t ndim,
                                 const uint64_t *shape, const void *data, uint64_t nbytes,
                                 senti_err *err)
{
    senti_status st = check_new_tensor(m, name, dtype, ndim, shape, nbytes, err);
    if (st != SENTI_OK) return st;
    if (nbytes > SIZE_MAX)
        return senti_fail(err, SENTI_E_LIMIT, "weights: tensor '%s' too large", name);
    void *buf = senti_alloc_aligned((size_t)nbytes);
    if (!buf)
        return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for tensor '%s' (%" PRIu64
                          " bytes)", name, nbytes);
    if (data) memcpy(buf, data, (size_t)nbytes);
    put_tensor(m, name, dtype, ndim, shape, buf, nbytes, true);
    return SENTI_OK;
}

senti_status wt_model_add_view(wt_model *m, const char *name, wt_dtype dtype, uint32_t ndim,
                               const uint64_t *shape, void *data, uint64_t nbytes,
                               senti_err *err)
{
    senti_status st = check_new_tensor(m, name, dtype, ndim, shape, nbytes, err);
    if (st != SENTI_OK) return st;
    put_tensor(m, name, dtype, ndim, shape, data, nbytes, false);
    return SENTI_OK;
}

senti_status wt_model_release_data(wt_model *m, const char *name, senti_err *err)
{
    const wt_tensor *found = m ? wt_model_tensor(m, name) : NULL;
    if (!found)
        return senti_fail(err, SENTI_E_MISSING, "weights: no tensor '%s' to release",
                          name ? name : "(null)");
    uint32_t i = (uint32_t)(found - m->tensors);
    wt_tensor *t = &m->tensors[i];
    if (!t->data) return SENTI_OK;
    if (m->owned[i]) {
        senti_free_aligned(t->data);
    } else {
        /* A view into the arena: hand back the pages that lie wholly inside it
         * (the arena stays one block; those pages read as zeros if touched). */
        long ps = sysconf(_SC_PAGESIZE);
        uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096u;
        uintptr_t lo = ((uintptr_t)t->data + page - 1) & ~(page - 1);
        uintptr_t hi = ((uintptr_t)t->data + (uintptr_t)t->nbytes) & ~(page - 1);
        if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED); /* advice only */
    }
    t->data = NULL;
    t->scales = NULL;
    return SENTI_OK;
}

void wt_model_adopt_arena(wt_model *m, void *arena)
{
    senti_free_aligned(m->arena);
    m->arena = arena;
}

senti_status wt_model_set_vocab(wt_model *m, const char *const *tokens, uint32_t n,
                                senti_err *err)
{
    if (n > SENTI_MAX_VOCAB)
        return senti_fail(err, SENTI_E_LIMIT, "weights: vocabulary of %" PRIu32
                          " tokens exceeds the limit of %u", n, SENTI_MAX_VOCAB);
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(tokens[i]);
        if (len >= SENTI_MAX_TOKEN_BYTES)
            return senti_fail(err, SENTI_E_LIMIT, "weights: vocabulary token %" PRIu32
                              " is %zu bytes (limit %d)", i, len, SENTI_MAX_TOKEN_BYTES - 1);
        total += len + 1;
    }
    char *blob = senti_malloc(total);
    const char **ptrs = senti_calloc(n ? n : 1, sizeof *ptrs);
    if (!blob || !ptrs) {
        senti_free(blob);
        senti_free(ptrs);
        return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for the vocabulary");
    }
    char *p = blob;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(tokens[i]) + 1;
        memcpy(p, tokens[i], len);
        ptrs[i] = p;
        p += len;
    }
    senti_free(m->vocab_blob);
    senti_free(m->vocab);
    m->vocab_blob = blob;
    m->vocab = ptrs;
    m->n_vocab = n;
    return SENTI_OK;
}

senti_status wt_model_set_meta(wt_model *m, const char *key, const char *value, senti_err *err)
{
    size_t klen = strlen(key), vlen = strlen(value);
    if (klen == 0 || klen >= SENTI_MAX_META_VALUE || vlen >= SENTI_MAX_META_VALUE)
        return senti_fail(err, SENTI_E_LIMIT, "weights: metadata '%.64s': key must be 1..%d "
                          "bytes and value under %d", key, SENTI_MAX_META_VALUE - 1,
                          SENTI_MAX_META_VALUE);
    char *v = senti_strdup(value);
    if (!v) return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for metadata");
    for (uint32_t i = 0; i < m->n_meta; i++) {
        if (!strcmp(m->meta_key[i], key)) {
            senti_free(m->meta_val[i]);
            m->meta_val[i] = v;
            return SENTI_OK;
        }
    }
    if (m->n_meta >= SENTI_MAX_META_ENTRIES) {
        senti_free(v);
        return senti_fail(err, SENTI_E_LIMIT, "weights: more than %d metadata entries",
                          SENTI_MAX_META_ENTRIES);
    }
    char *k = senti_strdup(key);
    if (!k) {
        senti_free(v);
        return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory for metadata");
    }
    m->meta_key[m->n_meta] = k;
    m->meta_val[m->n_meta] = v;
    m->n_meta++;
    return SENTI_OK;
}

const wt_config *wt_model_config(const wt_model *m) { return &m->cfg; }

const wt_tensor *wt_model_tensor(const wt_model *m, const char *name)
{
    if (!m->index_cap) return NULL;
    uint32_t mask = m->index_cap - 1, h = name_hash(name) & mask;
    while (m->index[h]) {
        const wt_tensor *t = &m->tensors[m->index[h] - 1];
        if (!strcmp(t->name, name)) return t;
        h = (h + 1) & mask;
    }
    return NULL;
}

uint32_t wt_model_tensor_count(const wt_model *m) { return m->n_tensors; }

const wt_tensor *wt_model_tensor_at(const wt_model *m, uint32_t i)
{
    return i < m->n_tensors ? &m->tensors[i] : NULL;
}

uint32_t wt_model_vocab_size(const wt_model *m) { return m->n_vocab; }

const char *wt_model_vocab_token(const wt_model *m, uint32_t id)
{
    return id < m->n_vocab ? m->vocab[id] : NULL;
}

const char *wt_model_meta(const wt_model *m, const char *key)
{
    for (uint32_t i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta_key[i], key)) return m->meta_val[i];
    return NULL;
}

uint32_t wt_model_meta_count(const wt_model *m) { return m->n_meta; }

void wt_model_meta_at(const wt_model *m, uint32_t i, const char **key, const char **value)
{
    *key = i < m->n_meta ? m->meta_key[i] : NULL;
    *value = i < m->n_meta ? m->meta_val[i] : NULL;
}

void wt_model_set_file_checksum(wt_model *m, uint64_t xxh)
{
    snprintf(m->checksum, sizeof m->checksum, "%016" PRIx64, xxh);
}

const char *wt_model_file_checksum(const wt_model *m) { return m->checksum; }

void wt_model_set_origin(wt_model *m, const char *origin) { m->origin = origin; }

const char *wt_model_origin(const wt_model *m) { return m->origin; }
