/* engine/simd_avx512.h - the vector math the AVX-512 kernel files share
 * (kern_avx512.c, attn_avx512.c, gemm_f32_avx512.c, qgemm_avx512.c); include
 * only from files compiled with the AVX-512 flags. Constants and accuracy of
 * exp and erf: kern_internal.h; the scalar twins are in kern_ref.c.
 */
#ifndef SENTI_ENGINE_SIMD_AVX512_H
#define SENTI_ENGINE_SIMD_AVX512_H

#include <immintrin.h>

#include "engine/kern.h"
#include "engine/kern_internal.h"

/* lanes [0, rem) of a 16-lane vector; rem in 0..16 (16: all) */
static inline __mmask16 tail_mask(size_t rem)
{
    return rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1u);
}

static inline __m512 horner512(__m512 v, const float *c, int deg)
{
    __m512 r = _mm512_set1_ps(c[deg]);
    for (int i = deg - 1; i >= 0; i--) r = _mm512_fmadd_ps(r, v, _mm512_set1_ps(c[i]));
    return r;
}

/* e^x per lane; NaN propagates, -inf -> 0, +inf -> inf. */
static inline __m512 exp512(__m512 x)
{
    /* max(lo, x) / min(hi, x) return x when x is NaN (second operand). */
    x = _mm512_max_ps(_mm512_set1_ps(KERN_EXP_LO), x);
    x = _mm512_min_ps(_mm512_set1_ps(KERN_EXP_HI), x);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(KERN_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(KERN_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(KERN_LN2_LO), r);
    __m512 p = horner512(r, kern_exp_poly, KERN_EXP_DEG);
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

/* 0.5 x (1 + erf(x / sqrt 2)) per lane */
static inline __m512 gelu512(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 h = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
    __m512 u = _mm512_mul_ps(x, _mm512_set1_ps(KERN_SQRT1_2));
    __m512 a = _mm512_abs_ps(u);
    /* |u| < 1: erf(u) = u + u P(u^2) */
    __m512 e = _mm512_fmadd_ps(u, horner512(_mm512_mul_ps(u, u), kern_erf_p, KERN_ERF_P_DEG), u);
    __m512 g1 = _mm512_mul_ps(h, _mm512_add_ps(one, e));
    /* |u| >= 1: c = erfc(|u|); 1 + erf(u) = 2 - c for u > 0, c for u < 0 */
    __m512 s = _mm512_fmadd_ps(_mm512_min_ps(a, _mm512_set1_ps(KERN_ERFC_CLAMP)),
                               _mm512_set1_ps(KERN_ERFC_SCALE), _mm512_set1_ps(KERN_ERFC_SHIFT));
    __m512 c = _mm512_mul_ps(exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(a, a))),
                             horner512(s, kern_erfc_q, KERN_ERFC_Q_DEG));
    __mmask16 neg = _mm512_cmp_ps_mask(u, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 f = _mm512_mask_blend_ps(neg, _mm512_sub_ps(_mm512_set1_ps(2.0f), c), c);
    __m512 g2 = _mm512_mul_ps(h, f);
    __mmask16 small = _mm512_cmp_ps_mask(a, one, _CMP_LT_OQ);
    return _mm512_mask_blend_ps(small, g2, g1);
}

/* y (rows, n) row stride ld = act(y), in place: the fused epilogue of the GEMM
 * kernels, run on a tile just stored (still in L1) rather than on the live
 * accumulators, which would leave gelu512 too few registers. */
static inline void act_rows512(eng_act act, float *y, size_t rows, size_t n, size_t ld)
{
    if (act == ENG_ACT_NONE) return;
    for (size_t r = 0; r < rows; r++) {
        float *yr = y + r * ld;
        for (size_t c = 0; c < n; c += 16) {
            __mmask16 m = tail_mask(n - c);
            __m512 v = _mm512_maskz_loadu_ps(m, yr + c);
            /* max(v, 0) returns its second operand, 0, when v is NaN */
            v = act == ENG_ACT_GELU ? gelu512(v) : _mm512_max_ps(v, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(yr + c, m, v);
        }
    }
}

#endif
