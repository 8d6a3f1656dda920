/* weights/safetensors.c - the Hugging Face safetensors format, parsed by hand:
 * 8-byte little-endian header length, a JSON header mapping tensor names to
 * {dtype, shape, data_offsets} (plus an optional "__metadata__" object), then
 * the data section. Also writes F32 safetensors files for wt_export_hf. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "weights/weights_internal.h"

typedef struct st_dtype {
    const char *name;
    uint32_t size;
    int dtype; /* wt_dtype we convert from, or -1 */
} st_dtype;

/* Every dtype the safetensors spec names; only the first three are converted. */
static const st_dtype st_dtypes[] = {
    {"F32", 4, WT_DTYPE_F32}, {"F16", 2, WT_DTYPE_F16}, {"BF16", 2, WT_DTYPE_BF16},
    {"F64", 8, -1},           {"I64", 8, -1},           {"U64", 8, -1},
    {"I32", 4, -1},           {"U32", 4, -1},           {"I16", 2, -1},
    {"U16", 2, -1},           {"I8", 1, -1},            {"U8", 1, -1},
    {"BOOL", 1, -1},          {"F8_E4M3", 1, -1},       {"F8_E5M2", 1, -1},
};

float wt_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float wt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13); /* inf / nan (payload kept) */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign; /* signed zero */
    } else {
        /* subnormal half: normalise (every half subnormal is a normal float) */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void wt_st_free(wt_st_file *f)
{
    if (!f) return;
    senti_free(f->tensors);
    memset(f, 0, sizeof *f);
}

static int cmp_begin(const void *a, const void *b)
{
    const wt_st_tensor *x = *(const wt_st_tensor *const *)a, *y = *(const wt_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static senti_status parse_entry(const char *what, const char *name, json_t *v, uint64_t data_len,
                                wt_st_tensor *t, senti_err *err)
{
    if (strlen(name) >= SENTI_MAX_TENSOR_NAME)
        return senti_fail(err, SENTI_E_LIMIT, "%s: tensor name '%.40s...' longer than %d bytes",
                          what, name, SENTI_MAX_TENSOR_NAME - 1);
    snprintf(t->name, sizeof t->name, "%s", name);
    if (!json_is_object(v))
        return senti_fail(err, SENTI_E_FORMAT, "%s: tensor '%s': header entry is not an object",
                          what, name);
    const char *dt = json_string_value(json_object_get(v, "dtype"));
    json_t *shape = json_object_get(v, "shape"), *offs = json_object_get(v, "data_offsets");
    if (!dt || !json_is_array(shape) || !json_is_array(offs) || json_array_size(offs) != 2)
        return senti_fail(err, SENTI_E_FORMAT, "%s: tensor '%s': needs \"dtype\" (string), "
                          "\"shape\" (array) and \"data_offsets\" ([begin, end])", what, name);
    const st_dtype *d = NULL;
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (!strcmp(dt, st_dtypes[i].name)) d = &st_dtypes[i];
    if (!d)
        return senti_fail(err, SENTI_E_UNSUPPORTED, "%s: tensor '%s': unknown dtype '%.16s'",
                          what, name, dt);
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", d->name);
    t->dtype = d->dtype;
    size_t ndim = json_array_size(shape);
    if (ndim > SENTI_MAX_TENSOR_DIMS)
        return senti_fail(err, SENTI_E_LIMIT, "%s: tensor '%s': %zu dimensions (limit %d)", what,
                          name, ndim, SENTI_MAX_TENSOR_DIMS);
    t->ndim = (uint32_t)ndim;
    uint64_t count = 1;
    const uint64_t cap = (uint64_t)1 << 56;
    for (size_t i = 0; i < ndim; i++) {
        json_t *e = json_array_get(shape, i);
        json_int_t x = json_integer_value(e);
        if (!json_is_integer(e) || x < 0 || (uint64_t)x >= cap)
            return senti_fail(err, SENTI_E_FORMAT, "%s: tensor '%s': shape[%zu] is not an "
                              "integer in 0..2^56", what, name, i);
        t->shape[i] = (uint64_t)x;
        if (x && count > cap / (uint64_t)x)
            return senti_fail(err, SENTI_E_LIMIT, "%s: tensor '%s': element count overflows",
                              what, name);
        count *= (uint64_t)x;
    }
    json_t *b = json_array_get(offs, 0), *e = json_array_get(offs, 1);
    if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 0 ||
        json_integer_value(e) < json_integer_value(b))
        return senti_fail(err, SENTI_E_FORMAT, "%s: tensor '%s': data_offsets must be "
                          "integers with 0 <= begin <= end", what, name);
    t->begin = (uint64_t)json_integer_value(b);
    t->end = (uint64_t)json_integer_value(e);
    if (t->end > data_len)
        return senti_fail(err, SENTI_E_TRUNCATED, "%s: tensor '%s': data ends at byte %" PRIu64
                          " of a %" PRIu64 "-byte data section; the file is truncated", what,
                          name, t->end, data_len);
    if (t->end - t->begin != count * d->size)
        return senti_fail(err, SENTI_E_SHAPE, "%s: tensor '%s': %" PRIu64 " bytes of data, but "
                          "its %s shape needs %" PRIu64, what, name, t->end - t->begin, d->name,
                          count * d->size);
    return SENTI_OK;
}

senti_status wt_st_parse(const uint8_t *buf, size_t len, const char *what, wt_st_file *out,
                         senti_err *err)
{
    senti_status st = SENTI_OK;
    json_t *root = NULL;
    wt_st_tensor **order = NULL;
    memset(out, 0, sizeof *out);
    if (len < 8)
        return senti_fail(err, SENTI_E_TRUNCATED, "%s: %zu bytes, too short for a safetensors "
                          "header", what, len);
    uint64_t hlen = wt_get_u64(buf);
    if (hlen > SENTI_MAX_SAFETENSORS_HEADER)
        return senti_fail(err, SENTI_E_LIMIT, "%s: header of %" PRIu64 " bytes exceeds the "
                          "limit of %u; not a safetensors file?", what, hlen,
                          SENTI_MAX_SAFETENSORS_HEADER);
    if (hlen > len - 8)
        return senti_fail(err, SENTI_E_TRUNCATED, "%s: header of %" PRIu64 " bytes but only %zu"
                          " follow; the file is truncated", what, hlen, len - 8);
    json_error_t jerr;
    root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        st = senti_fail(err, SENTI_E_FORMAT, "%s: header JSON: %s (byte %d)", what, jerr.text,
                        jerr.position);
        goto fail;
    }
    if (!json_is_object(root)) {
        st = senti_fail(err, SENTI_E_FORMAT, "%s: header is not a JSON object", what);
        goto fail;
    }
    size_t n = json_object_size(root);
    if (json_object_get(root, "__metadata__")) n--;
    if (n > SENTI_MAX_TENSORS) {
        st = senti_fail(err, SENTI_E_LIMIT, "%s: %zu tensors exceed the limit of %d", what, n,
                        SENTI_MAX_TENSORS);
        goto fail;
    }
    out->data = buf + 8 + hlen;
    out->data_len = len - 8 - hlen;
    out->tensors = senti_calloc(n ? n : 1, sizeof *out->tensors);
    order = senti_calloc(n ? n : 1, sizeof *order);
    if (!out->tensors || !order) {
        st = senti_fail(err, SENTI_E_NOMEM, "%s: out of memory for the tensor list", what);
        goto fail;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) {
                st = senti_fail(err, SENTI_E_FORMAT, "%s: __metadata__ is not an object", what);
                goto fail;
            }
            continue;
        }
        wt_st_tensor *t = &out->tensors[out->n];
        SENTI_TRY(parse_entry(what, key, val, out->data_len, t, err));
        order[out->n++] = t;
    }
    qsort(order, out->n, sizeof *order, cmp_begin);
    for (uint32_t i = 1; i < out->n; i++) {
        if (order[i]->begin < order[i - 1]->end) {
            st = senti_fail(err, SENTI_E_FORMAT, "%s: tensors '%s' and '%s' overlap (bytes %"
                            PRIu64 "..%" PRIu64 " and %" PRIu64 "..%" PRIu64 ")", what,
                            order[i - 1]->name, order[i]->name, order[i - 1]->begin,
                            order[i - 1]->end, order[i]->begin, order[i]->end);
            goto fail;
        }
    }
    senti_free(order);
    json_decref(root);
    return SENTI_OK;
fail:
    senti_free(order);
    json_decref(root);
    wt_st_free(out);
    return st;
}

senti_status wt_st_to_f32(const wt_st_file *f, const wt_st_tensor *t, float *dst, senti_err *err)
{
    const uint8_t *src = f->data + t->begin;
    uint64_t bytes = t->end - t->begin;
    switch (t->dtype) {
    case WT_DTYPE_F32:
        memcpy(dst, src, (size_t)bytes); /* little-endian host (see FORMAT.md) */
        return SENTI_OK;
    case WT_DTYPE_F16:
        for (uint64_t i = 0; i < bytes / 2; i++) dst[i] = wt_f16_to_f32(wt_get_u16(src + 2 * i));
        return SENTI_OK;
    case WT_DTYPE_BF16:
        for (uint64_t i = 0; i < bytes / 2; i++) dst[i] = wt_bf16_to_f32(wt_get_u16(src + 2 * i));
        return SENTI_OK;
    default:
        return senti_fail(err, SENTI_E_UNSUPPORTED, "safetensors: tensor '%s': dtype %s is not "
                          "supported (expected F32, F16 or BF16)", t->name, t->dtype_name);
    }
}

senti_status wt_st_write_model(const wt_model *m, const char *path, senti_err *err)
{
    senti_status st = SENTI_OK;
    json_t *root = json_object();
    char *hdr = NULL;
    FILE *f = NULL;
    if (!root) return senti_fail(err, SENTI_E_NOMEM, "safetensors: out of memory");
    uint64_t off = 0;
    for (uint32_t i = 0; i < wt_model_tensor_count(m); i++) {
        const wt_tensor *t = wt_model_tensor_at(m, i);
        if (t->dtype != WT_DTYPE_F32) {
            st = senti_fail(err, SENTI_E_UNSUPPORTED, "safetensors: tensor '%s': only f32 can "
                            "be exported, not %s", t->name, wt_dtype_name(t->dtype));
            goto fail;
        }
        json_t *e = json_object(), *shape = json_array(), *offs = json_array();
        if (e) json_object_set_new(e, "dtype", json_string("F32"));
        for (uint32_t d = 0; shape && d < t->ndim; d++)
            json_array_append_new(shape, json_integer((json_int_t)t->shape[d]));
        if (offs) {
            json_array_append_new(offs, json_integer((json_int_t)off));
            json_array_append_new(offs, json_integer((json_int_t)(off + t->nbytes)));
        }
        if (!e || !shape || !offs || json_object_set_new(e, "shape", shape) ||
            json_object_set_new(e, "data_offsets", offs) || json_object_set_new(root, t->name, e)) {
            st = senti_fail(err, SENTI_E_NOMEM, "safetensors: out of memory");
            goto fail;
        }
        off += t->nbytes;
    }
    json_t *meta = json_pack("{s:s}", "format", "pt");
    if (!meta || json_object_set_new(root, "__metadata__", meta)) {
        st = senti_fail(err, SENTI_E_NOMEM, "safetensors: out of memory");
        goto fail;
    }
    hdr = json_dumps(root, JSON_COMPACT);
    if (!hdr) {
        st = senti_fail(err, SENTI_E_NOMEM, "safetensors: out of memory");
        goto fail;
    }
    size_t hlen = strlen(hdr), padded = (hlen + 7) & ~(size_t)7; /* 8-aligned data section */
    f = fopen(path, "wb");
    if (!f) {
        st = senti_fail(err, SENTI_E_IO, "safetensors: cannot create '%s': %s", path,
                        strerror(errno));
        goto fail;
    }
    uint8_t len8[8];
    wt_put_u64(len8, padded);
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, hlen, f) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', f) != EOF;
    for (uint32_t i = 0; ok && i < wt_model_tensor_count(m); i++) {
        const wt_tensor *t = wt_model_tensor_at(m, i);
        ok = fwrite(t->data, 1, (size_t)t->nbytes, f) == t->nbytes;
    }
    if (fclose(f) != 0) ok = 0;
    f = NULL;
    if (!ok) st = senti_fail(err, SENTI_E_IO, "safetensors: writing '%s' failed: %s", path,
                             strerror(errno));
fail:
    if (f) fclose(f);
    free(hdr); /* jansson allocates with malloc */
    json_decref(root);
    return st;
}
