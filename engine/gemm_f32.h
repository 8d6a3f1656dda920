/* engine/gemm_f32.h - fp32 matrix product for few rows (engine-internal).
 *
 *   y (M, N) = x (M, K) . W^T + bias,   W (N, K) row-major (PyTorch Linear)
 *
 * At batch 1 and short inputs (M = tokens <= ~32) a linear layer is bound by
 * reading W once from memory; sgemm's packing and blocking for large M cost
 * more than the arithmetic there. These kernels read W in its stored layout,
 * row after row (sequential streams, so no packed copy is kept): a group of 4
 * output channels is dotted with up to 6 rows of x at a time, x staying in L1
 * (M x K floats), each weight row being read from memory once for all M rows.
 * The scalar _ref twin defines the result up to float summation order.
 */
#ifndef SENTI_ENGINE_GEMM_F32_H
#define SENTI_ENGINE_GEMM_F32_H

#include <stddef.h>

typedef struct eng_f32_kern {
    const char *isa; /* "ref", "avx512" */
    /* y (m, n) row stride ldy = x (m, k) row stride ldx . W^T + bias (n);
     * W (n, k) row stride ldw; bias may be NULL. */
    void (*gemm_nt)(const float *x, size_t ldx, size_t m, const float *w, size_t ldw, size_t n,
                    size_t k, const float *bias, float *y, size_t ldy);
} eng_f32_kern;

const eng_f32_kern *eng_f32_ref(void);
/* NULL when the CPU lacks AVX-512F. */
const eng_f32_kern *eng_f32_avx512(void);

#endif
