/* engine/kern.h - the elementwise / row kernels around the matrix products
 * (engine-internal; no other folder includes this).
 *
 * One table per instruction set: kern_ref.c (scalar, defines correctness),
 * kern_avx2.c (AVX2+FMA), kern_avx512.c (AVX-512F/BW/DQ/VL). The table is chosen
 * once at model creation (cpuid, overridable); every SIMD entry has a _ref twin
 * with the same signature, compared over many shapes in tests/engine/test_kern.c.
 *
 * Letters: T tokens, D model dim, H hidden dim; rows are contiguous with the
 * given leading dimension (ld, in floats).
 */
#ifndef SENTI_ENGINE_KERN_H
#define SENTI_ENGINE_KERN_H

#include <stddef.h>

#include "common/status.h"

/* The activation a linear layer's epilogue may apply to its outputs
 * (eng_linear, the fp32 and int8 GEMM kernels): fused, it costs no extra pass
 * over the (rows, hidden) matrix. */
typedef enum eng_act {
    ENG_ACT_NONE = 0,
    ENG_ACT_GELU, /* exactly eng_kern.gelu of the same kernel set */
    ENG_ACT_RELU, /* max(x, 0); NaN -> 0 */
} eng_act;

typedef struct eng_kern {
    const char *isa; /* "ref", "avx2", "avx512" */

    /* y (rows, dim) = layernorm(x + r) * gamma + beta, row by row; r may be NULL;
     * y may alias x or r. Mean/variance in float with two passes (as PyTorch). */
    void (*add_layernorm)(float *y, const float *x, const float *r, const float *gamma,
                          const float *beta, size_t rows, size_t dim, float eps);

    /* x (n) = 0.5 x (1 + erf(x / sqrt 2)) in place (exact GELU, not tanh). */
    void (*gelu)(float *x, size_t n);

    /* x (rows, dim) += bias (dim) */
    void (*add_bias)(float *x, const float *bias, size_t rows, size_t dim);

    /* x (rows, n) with row stride ld: each row = softmax(scale * row) over its
     * first n entries. n >= 1. */
    void (*softmax_rows)(float *x, size_t rows, size_t n, size_t ld, float scale);

    /* One head of one sequence (attn_*.c):
     *   ctx (nq, dh) = softmax(scale q k^T) v
     * q (nq, dh) rows of stride ldq; k, v (T, dh) rows of stride ld; ctx rows of
     * stride ldc (floats); columns dh.. of the ctx rows are not written, so heads
     * of one row may be computed concurrently. The softmax is softmax_rows'
     * (scale, max, exp, sum, one reciprocal). scratch: attention_scratch(T or
     * more, dh) floats, any contents, borrowed for the call (64-byte aligned is
     * fastest). nq >= 1, T >= 1, dh >= 1. Deterministic and row-wise: ctx row i
     * depends on q row i, k and v only (not on nq, the other queries or the
     * scratch), so a subset of the queries gives the same rows bit for bit. */
    void (*attention)(const float *q, size_t ldq, size_t nq, const float *k, const float *v,
                      size_t ld, size_t T, size_t dh, float scale, float *ctx, size_t ldc,
                      float *scratch);
    /* floats of scratch attention needs for sequences of up to max_seq tokens */
    size_t (*attention_scratch)(size_t max_seq, size_t dh);
} eng_kern;

/* y (rows, n) row stride ld = act(y), with the ref set's gelu (the scalar
 * epilogue of the GEMM kernels' _ref twins). */
void eng_act_rows_ref(eng_act act, float *y, size_t rows, size_t n, size_t ld);

const eng_kern *eng_kern_ref(void);
/* NULL when the binary or the CPU lacks the instruction set. */
const eng_kern *eng_kern_avx2(void);
const eng_kern *eng_kern_avx512(void);

/* name: NULL, "" or "auto" picks the best the CPU supports; "ref", "avx2",
 * "avx512" force one (SENTI_E_UNSUPPORTED if the CPU cannot run it). */
senti_status eng_kern_select(const char *name, const eng_kern **out, senti_err *err);

#endif
