/* engine/attn_ref.c - scalar reference of the fused attention kernel: the
 * definition of correct for attn_avx2.c and attn_avx512.c.
 *
 * One head of one sequence, query row by query row (each row on its own, so
 * any subset of the queries gives the same rows):
 *   s (T)      = scale * (q_i K^T)  (float, summed over d in order)
 *   e (T)      = exp(s - max s), inv = 1 / sum e   (softmax_rows_ref's steps)
 *   ctx_i (dh) = inv * (e V)        (float, summed over keys in order)
 * i.e. softmax(scale q_i K^T) V with the normalization applied to the dh
 * outputs instead of the T weights (one rounding apart from softmax_rows + a
 * product). The SIMD twins do the same arithmetic by blocks of rows; they
 * differ only in fused multiply-adds, their exp polynomial and the order of
 * the softmax sum.
 */
#include <math.h>

#include "engine/kern_internal.h"

size_t eng_attn_scratch_ref(size_t max_seq, size_t dh)
{
    (void)dh;
    return max_seq; /* one row of scores */
}

/* ctx (nq, dh) stride ldc = softmax(scale q k^T) v; q (nq, dh) stride ldq,
 * k, v (T, dh) stride ld */
void eng_attn_ref(const float *q, size_t ldq, size_t nq, const float *k, const float *v,
                  size_t ld, size_t T, size_t dh, float scale, float *ctx, size_t ldc,
                  float *scratch)
{
    float *p = scratch;
    for (size_t i = 0; i < nq; i++) {
        const float *qi = q + i * ldq;
        float mx = -INFINITY;
        for (size_t j = 0; j < T; j++) {
            const float *kj = k + j * ld;
            float dot = 0.0f;
            for (size_t d = 0; d < dh; d++) dot += qi[d] * kj[d];
            p[j] = dot * scale;
            if (p[j] > mx) mx = p[j];
        }
        float sum = 0.0f;
        for (size_t j = 0; j < T; j++) {
            p[j] = expf(p[j] - mx);
            sum += p[j];
        }
        float inv = 1.0f / sum;
        float *ci = ctx + i * ldc;
        for (size_t c = 0; c < dh; c++) ci[c] = 0.0f;
        for (size_t j = 0; j < T; j++) {
            const float *vj = v + j * ld;
            for (size_t c = 0; c < dh; c++) ci[c] += p[j] * vj[c];
        }
        for (size_t c = 0; c < dh; c++) ci[c] *= inv;
    }
}
