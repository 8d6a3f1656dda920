/* engine/simd_avx512.h - the vector math the AVX-512 kernel files share
 * (kern_avx512.c, attn_avx512.c, gemm_f32_avx512.c, qgemm_avx512.c); include
 * only from files compiled with the AVX-512 flags. Constants and accuracy of
 * exp and erf: kern_internal.h; the scalar twins are in kern_ref.c.
 */
#ifndef SENTI_ENGINE_SIMD_AVX512_H
#define SENTI_ENGINE_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

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

/* 0.5 x (1 + erf(x / sqrt 2)) per lane, erf by pieces (kern_erf_tab): the
 * piece index selects each coefficient from a 16-float table in one vpermps,
 * so every lane runs the same 5 FMAs (the two-branch erf/erfc form cost ~3x as
 * much and was 1/3 of the int8 FFN's time). NaN stays NaN (through x);
 * -inf gives NaN, as the reference's 0.5 x (1 + erff(u)) does. */
static inline __m512 gelu512(__m512 x)
{
    const __m512 u = _mm512_mul_ps(x, _mm512_set1_ps(KERN_SQRT1_2));
    /* min returns its second operand for NaN: a NaN lane takes the last piece */
    const __m512 a = _mm512_min_ps(_mm512_abs_ps(u), _mm512_set1_ps(KERN_ERF_TAB_MAX));
    const __m512i i = _mm512_cvttps_epi32(_mm512_mul_ps(a, _mm512_set1_ps(4.0f)));
    const __m512 t = _mm512_sub_ps(a, _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_set1_ps(0.25f),
                                                      _mm512_set1_ps(0.125f)));
    __m512 p = _mm512_permutexvar_ps(i, _mm512_loadu_ps(kern_erf_tab[KERN_ERF_TAB_DEG]));
    for (int d = KERN_ERF_TAB_DEG - 1; d >= 0; d--)
        p = _mm512_fmadd_ps(p, t, _mm512_permutexvar_ps(i, _mm512_loadu_ps(kern_erf_tab[d])));
    p = _mm512_mask_mov_ps(p, _mm512_cmp_ps_mask(a, _mm512_set1_ps(KERN_ERF_ONE), _CMP_GE_OQ),
                           _mm512_set1_ps(1.0f));
    /* erf(u) = copysign(p, u) (p >= 0) */
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(u), _mm512_set1_epi32(INT32_MIN));
    const __m512 e = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(p), sign));
    return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)),
                         _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

/* act(v): the fused epilogue of the GEMM kernels, applied to each output
 * vector on its way to memory. max(v, 0) returns its second operand, 0, when v
 * is NaN. */
static inline __m512 act512(eng_act act, __m512 v)
{
    if (act == ENG_ACT_GELU) return gelu512(v);
    if (act == ENG_ACT_RELU) return _mm512_max_ps(v, _mm512_setzero_ps());
    return v;
}

/* y (rows, n) row stride ld = act(y), in place: the epilogue of a GEMM kernel
 * whose accumulators leave act512 too few registers (gemm_f32_avx512.c), run on
 * the tile just stored (still in L1). */
static inline void act_rows512(eng_act act, float *y, size_t rows, size_t n, size_t ld)
{
    if (act == ENG_ACT_NONE) return;
    for (size_t r = 0; r < rows; r++) {
        float *yr = y + r * ld;
        for (size_t c = 0; c < n; c += 16) {
            __mmask16 m = tail_mask(n - c);
            _mm512_mask_storeu_ps(yr + c, m, act512(act, _mm512_maskz_loadu_ps(m, yr + c)));
        }
    }
}

#endif
