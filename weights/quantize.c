/* weights/quantize.c - the int8 weight quantizer (the only one: the engine's
 * tests and the converter both call wt_quantize_rows_int8) and the whole-model
 * f32 -> int8 conversion behind `senti convert --dtype int8`.
 *
 * Scheme (FORMAT.md, "i8_rowscale"): symmetric, one scale per output row,
 *   scale[r] = max_c |w[r][c]| / 127, q[r][c] = rint(w[r][c] / scale[r]) in
 *   [-127, 127] (round half to even; -128 never occurs, which the AVX2 int8
 *   kernel relies on). An all-zero row has scale 0 and q = 0.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "weights/weights_internal.h"

/* q = rint(v * inv) clamped to [-127, 127] (round half to even, as cvtps2dq) */
static int8_t quant1(float v, float inv)
{
    float q = nearbyintf(v * inv);
    return (int8_t)(q > 127.0f ? 127 : q < -127.0f ? -127 : (int)q);
}

void wt_quantize_rows_int8(const float *w, size_t n, size_t k, int8_t *q, float *scale)
{
    for (size_t i = 0; i < n; i++) {
        const float *wi = w + i * k;
        float mx = 0.0f;
        for (size_t j = 0; j < k; j++) mx = fmaxf(mx, fabsf(wi[j]));
        scale[i] = mx / 127.0f;
        float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
        for (size_t j = 0; j < k; j++) q[i * k + j] = quant1(wi[j], inv);
    }
}

/* The linear weights of the transformer blocks; the head's only with o->head. */
static bool wants_int8(const wt_expect *e, const wt_quant_opts *o)
{
    if (!e->matrix) return false;
    if (!strncmp(e->name, "distilbert.transformer.layer.", 29)) return true;
    return o && o->head;
}

static senti_status add_int8(wt_model *dst, const wt_tensor *t, senti_err *err)
{
    uint64_t rows = t->shape[0], cols = t->shape[1];
    uint64_t qbytes = WT_ALIGN_UP(rows * cols), raw = qbytes + 4 * rows;
    uint8_t *buf = senti_alloc_aligned((size_t)raw);
    if (!buf)
        return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory quantizing '%s' (%llu bytes)",
                          t->name, (unsigned long long)raw);
    memset(buf, 0, (size_t)raw);
    wt_quantize_rows_int8(t->data, (size_t)rows, (size_t)cols, (int8_t *)buf,
                          (float *)(buf + qbytes));
    senti_status st = wt_model_add_tensor(dst, t->name, WT_DTYPE_I8_ROWSCALE, 2, t->shape, buf,
                                          raw, err);
    senti_free_aligned(buf);
    return st;
}

senti_status wt_model_quantize_int8(const wt_model *src, const wt_quant_opts *o, wt_model **out,
                                    senti_err *err)
{
    if (!src || !out) return senti_fail(err, SENTI_E_INVALID, "weights: NULL model or output");
    senti_status st;
    wt_model *dst = NULL;
    SENTI_TRY(wt_model_validate(src, err));
    const wt_config *c = wt_model_config(src);
    SENTI_TRY(wt_model_create(c, &dst, err));
    uint32_t nv = wt_model_vocab_size(src);
    const char **tokens = senti_calloc(nv ? nv : 1, sizeof *tokens);
    if (!tokens) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory copying the vocabulary");
        goto fail;
    }
    for (uint32_t i = 0; i < nv; i++) tokens[i] = wt_model_vocab_token(src, i);
    st = wt_model_set_vocab(dst, tokens, nv, err);
    senti_free(tokens);
    if (st != SENTI_OK) goto fail;
    for (uint32_t i = 0; i < wt_model_meta_count(src); i++) {
        const char *k, *v;
        wt_model_meta_at(src, i, &k, &v);
        SENTI_TRY(wt_model_set_meta(dst, k, v, err));
    }
    SENTI_TRY(wt_model_set_meta(dst, "dtype", (o && o->head) ? "int8-all" : "int8", err));

    /* Required tensors in state-dict order, then any extra ones unchanged. */
    uint32_t n = wt_expect_count(c);
    for (uint32_t i = 0; i < n; i++) {
        wt_expect e;
        wt_expect_at(c, i, &e);
        const wt_tensor *t = wt_model_tensor(src, e.name);
        if (t->dtype == WT_DTYPE_F32 && wants_int8(&e, o))
            SENTI_TRY(add_int8(dst, t, err));
        else
            SENTI_TRY(wt_model_add_tensor(dst, t->name, t->dtype, t->ndim, t->shape, t->data,
                                          t->nbytes, err));
    }
    for (uint32_t i = 0; i < wt_model_tensor_count(src); i++) {
        const wt_tensor *t = wt_model_tensor_at(src, i);
        if (wt_expect_known(c, t->name)) continue;
        SENTI_TRY(wt_model_add_tensor(dst, t->name, t->dtype, t->ndim, t->shape, t->data,
                                      t->nbytes, err));
    }
    *out = dst;
    return SENTI_OK;
fail:
    wt_model_free(dst);
    return st;
}
