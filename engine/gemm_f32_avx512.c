/* engine/gemm_f32_avx512.c - the small-M fp32 kernel (gemm_f32.h) with AVX-512F.
 *
 * For each group of 4 output channels (4 rows of W, read sequentially: 4
 * hardware-prefetched streams) and each chunk of up to 6 rows of x: 6 x 4 zmm
 * accumulators of 16 partial sums over k (24 FMAs per 4 weight loads and 6 x
 * loads), then each row's 4 accumulators are reduced together into 4 sums
 * (one xmm). W is read from memory once for all M rows (the second and later
 * chunks of x find the group's rows in L1: 4 x K floats, 12 KiB at K = 768).
 * A channel tail (n % 4) reuses the last channel's row and discards it; a k
 * tail is loaded with a mask (zeros add nothing).
 *
 * Bound by memory bandwidth at small m: on the shared 2-core VM used here a
 * plain streaming read reaches ~14 GB/s (one or two threads), so reading the
 * 170 MB of DistilBERT-base f32 weights costs ~12 ms; the T = 8 forward runs in
 * ~19 ms on one thread. The switch-over to sgemm is ENG_F32_SMALL_M in gemm.c
 * (measured there).
 */
#include <immintrin.h>

#include "engine/gemm_f32.h"

#define F32_MR 6

/* 4 zmm -> their 4 horizontal sums */
static inline __m128 sum4(__m512 a, __m512 b, __m512 c, __m512 d)
{
    __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    __m256 b8 = _mm256_add_ps(_mm512_castps512_ps256(b), _mm512_extractf32x8_ps(b, 1));
    __m256 c8 = _mm256_add_ps(_mm512_castps512_ps256(c), _mm512_extractf32x8_ps(c, 1));
    __m256 d8 = _mm256_add_ps(_mm512_castps512_ps256(d), _mm512_extractf32x8_ps(d, 1));
    __m256 ab = _mm256_hadd_ps(a8, b8), cd = _mm256_hadd_ps(c8, d8); /* a01 a23 b01 b23 | hi */
    __m256 abcd = _mm256_hadd_ps(ab, cd);                             /* a b c d | a' b' c' d' */
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/* y[0..mr)[0..nv) = x[0..mr) . (w0..w3)^T + bias; mr constant after inlining */
static inline __attribute__((always_inline)) void tile(int mr, const float *x, size_t ldx,
                                                       const float *w0, const float *w1,
                                                       const float *w2, const float *w3,
                                                       size_t k, const float *bias, size_t nv,
                                                       float *y, size_t ldy)
{
    __m512 acc[F32_MR][4];
    #pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
        #pragma GCC unroll 4
        for (int j = 0; j < 4; j++) acc[r][j] = _mm512_setzero_ps();
    size_t c = 0;
    for (; c + 16 <= k; c += 16) {
        __m512 b0 = _mm512_loadu_ps(w0 + c), b1 = _mm512_loadu_ps(w1 + c);
        __m512 b2 = _mm512_loadu_ps(w2 + c), b3 = _mm512_loadu_ps(w3 + c);
        #pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512 a = _mm512_loadu_ps(x + (size_t)r * ldx + c);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(a, b3, acc[r][3]);
        }
    }
    if (c < k) {
        __mmask16 t = (__mmask16)((1u << (k - c)) - 1u);
        __m512 b0 = _mm512_maskz_loadu_ps(t, w0 + c), b1 = _mm512_maskz_loadu_ps(t, w1 + c);
        __m512 b2 = _mm512_maskz_loadu_ps(t, w2 + c), b3 = _mm512_maskz_loadu_ps(t, w3 + c);
        #pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512 a = _mm512_maskz_loadu_ps(t, x + (size_t)r * ldx + c);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(a, b3, acc[r][3]);
        }
    }
    __mmask8 sm = (__mmask8)((1u << nv) - 1u);
    __m128 bi = bias ? _mm_maskz_loadu_ps(sm, bias) : _mm_setzero_ps();
    #pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
        __m128 v = _mm_add_ps(sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), bi);
        _mm_mask_storeu_ps(y + (size_t)r * ldy, sm, v);
    }
}

/* y (m, n) = x (m, k) . W^T (W (n, k)) + bias */
static void gemm_nt_avx512(const float *x, size_t ldx, size_t m, const float *w, size_t ldw,
                           size_t n, size_t k, const float *bias, float *y, size_t ldy)
{
    for (size_t j = 0; j < n; j += 4) {
        size_t nv = n - j < 4 ? n - j : 4;
        const float *w0 = w + j * ldw;
        const float *w1 = nv > 1 ? w0 + ldw : w0, *w2 = nv > 2 ? w0 + 2 * ldw : w0;
        const float *w3 = nv > 3 ? w0 + 3 * ldw : w0;
        const float *b = bias ? bias + j : NULL;
        size_t i = 0;
        for (; i + F32_MR <= m; i += F32_MR)
            tile(F32_MR, x + i * ldx, ldx, w0, w1, w2, w3, k, b, nv, y + i * ldy + j, ldy);
        const float *xi = x + i * ldx;
        float *yi = y + i * ldy + j;
        switch (m - i) {
        case 5: tile(5, xi, ldx, w0, w1, w2, w3, k, b, nv, yi, ldy); break;
        case 4: tile(4, xi, ldx, w0, w1, w2, w3, k, b, nv, yi, ldy); break;
        case 3: tile(3, xi, ldx, w0, w1, w2, w3, k, b, nv, yi, ldy); break;
        case 2: tile(2, xi, ldx, w0, w1, w2, w3, k, b, nv, yi, ldy); break;
        case 1: tile(1, xi, ldx, w0, w1, w2, w3, k, b, nv, yi, ldy); break;
        default: break;
        }
    }
}

static const eng_f32_kern f32_avx512 = {.isa = "avx512", .gemm_nt = gemm_nt_avx512};

const eng_f32_kern *eng_f32_avx512(void)
{
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
          __builtin_cpu_supports("avx512vl")))
        return NULL;
    return &f32_avx512;
}
