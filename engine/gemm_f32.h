/* engine/gemm_f32.h - fp32 matrix product on pre-packed weights
 * (engine-internal; no other folder includes this).
 *
 *   y (M, N) = x (M, K) . W^T + bias,   W (N, K) row-major (PyTorch Linear)
 *
 * The weights of every fp32 linear are packed once at load (eng_f32_pack) into
 * panels of ENG_F32_NR = 48 output channels: panel p is K rows of 48 floats,
 * row c holding W[48p + j][c] for j = 0..47 (zeros past N). A product then
 * walks each panel once, front to back, as one sequential stream, and needs
 * no packing at run time:
 *   - the AVX-512 kernel keeps a tile of 8 rows of x x 48 channels in 24 zmm
 *     accumulators; each k step loads 3 zmm of the panel and broadcasts 8
 *     values of x (24 FMAs per 11 loads);
 *   - for every panel it runs all M rows (8 at a time), so W is read from
 *     memory once per product whatever M is: at small M the product streams W
 *     at memory speed, at large M the panel (48 x K floats, 144 KiB at
 *     K = 768, 576 KiB at K = 3072) stays in L2 while x streams by.
 *   - threads split the panels (eng_f32_sub).
 * Summation order, for every output: acc = 0; acc = fma(x[k], w[k], acc) for
 * k = 0..K-1; y = acc + bias. The scalar _ref twin does exactly this, so the
 * kernels agree bit for bit without activation (tests/engine/test_gemm_f32.c);
 * with one, each matches its own kernel set's activation.
 */
#ifndef SENTI_ENGINE_GEMM_F32_H
#define SENTI_ENGINE_GEMM_F32_H

#include <stddef.h>

#include "engine/kern.h"

#define ENG_F32_NR 48 /* output channels per packed panel */

/* A view of packed weights; the floats live in the caller's buffer. */
typedef struct eng_f32_packed {
    size_t n, k;    /* logical shape of W (N, K) */
    size_t np;      /* N rounded up to ENG_F32_NR */
    const float *w; /* np * k floats, panel layout above, 64-byte aligned */
} eng_f32_packed;

/* Floats eng_f32_pack needs for W (N, K); 0 if N or K is 0 or on overflow. */
size_t eng_f32_packed_floats(size_t n, size_t k);

/* Packs W (N, K), row stride ldw, into buf (64-byte aligned, at least
 * eng_f32_packed_floats(n, k) floats) and points *out into it. Borrows w only
 * during the call. */
void eng_f32_pack(const float *w, size_t ldw, size_t n, size_t k, float *buf, eng_f32_packed *out);

/* The output channels [lo, hi) of w as a view of their own; lo a multiple of
 * ENG_F32_NR, hi <= w->n. */
eng_f32_packed eng_f32_sub(const eng_f32_packed *w, size_t lo, size_t hi);

typedef struct eng_f32_kern {
    const char *isa; /* "ref", "avx512" */
    /* y (m, w->n) row stride ldy = act(x (m, w->k) row stride ldx . W^T + bias)
     * (bias w->n floats, may be NULL; act as the same set's eng_kern would
     * apply it). Writes only y[i][0..w->n). */
    void (*gemm)(const float *x, size_t ldx, size_t m, const eng_f32_packed *w, const float *bias,
                 eng_act act, float *y, size_t ldy);
} eng_f32_kern;

const eng_f32_kern *eng_f32_ref(void);
/* NULL when the CPU lacks AVX-512F/DQ/VL. */
const eng_f32_kern *eng_f32_avx512(void);

#endif
