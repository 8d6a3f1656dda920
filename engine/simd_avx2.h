/* engine/simd_avx2.h - the vector math the AVX2 kernel files share
 * (kern_avx2.c, attn_avx2.c, qgemm_avx2.c); include only from files compiled
 * with the AVX2/FMA flags. Constants and accuracy of exp and erf:
 * kern_internal.h; the scalar twins are in kern_ref.c.
 */
#ifndef SENTI_ENGINE_SIMD_AVX2_H
#define SENTI_ENGINE_SIMD_AVX2_H

#include <immintrin.h>

#include <stdint.h>

#include "engine/kern.h"
#include "engine/kern_internal.h"

/* -1 in lanes [0, rem) of an 8-lane vector, 0 elsewhere; rem > 8 counts as 8 */
static inline __m256i tail_mask(size_t rem)
{
    static const int32_t tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(tab + 8 - (rem > 8 ? 8 : rem)));
}

static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hmax256(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 horner256(__m256 v, const float *c, int deg)
{
    __m256 r = _mm256_set1_ps(c[deg]);
    for (int i = deg - 1; i >= 0; i--) r = _mm256_fmadd_ps(r, v, _mm256_set1_ps(c[i]));
    return r;
}

/* 2^k as float bits, for k in [-126, 127] */
static inline __m256 pow2i256(__m256i k)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
}

/* e^x per lane; NaN propagates, -inf -> 0, +inf -> inf. */
static inline __m256 exp256(__m256 x)
{
    /* max(lo, x) / min(hi, x) return x when x is NaN (second operand). */
    x = _mm256_max_ps(_mm256_set1_ps(KERN_EXP_LO), x);
    x = _mm256_min_ps(_mm256_set1_ps(KERN_EXP_HI), x);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(KERN_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(KERN_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(KERN_LN2_LO), r);
    __m256 p = horner256(r, kern_exp_poly, KERN_EXP_DEG);
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    /* n in [-150, 129]: both halves stay in [-75, 65], normal exponents */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    return _mm256_mul_ps(_mm256_mul_ps(y, pow2i256(n1)), pow2i256(n2));
}

/* 0.5 x (1 + erf(x / sqrt 2)) per lane, erf by pieces (kern_erf_tab8): each
 * coefficient picked from an 8-float table by one vpermps, the same 7 FMAs in
 * every lane (gelu512's scheme; the earlier erf/erfc two-branch form cost an
 * exp and 20 FMAs). NaN stays NaN (through x); -inf gives NaN, as the
 * reference's 0.5 x (1 + erff(u)) does. */
static inline __m256 gelu256(__m256 x)
{
    const __m256 u = _mm256_mul_ps(x, _mm256_set1_ps(KERN_SQRT1_2));
    /* min returns its second operand for NaN: a NaN lane takes the last piece */
    const __m256 a = _mm256_min_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), u),
                                   _mm256_set1_ps(KERN_ERF_TAB_MAX));
    const __m256i i = _mm256_cvttps_epi32(_mm256_mul_ps(a, _mm256_set1_ps(2.0f)));
    const __m256 t = _mm256_sub_ps(a, _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_set1_ps(0.5f),
                                                      _mm256_set1_ps(0.25f)));
    __m256 p = _mm256_permutevar8x32_ps(_mm256_loadu_ps(kern_erf_tab8[KERN_ERF_TAB8_DEG]), i);
    for (int d = KERN_ERF_TAB8_DEG - 1; d >= 0; d--)
        p = _mm256_fmadd_ps(p, t, _mm256_permutevar8x32_ps(_mm256_loadu_ps(kern_erf_tab8[d]), i));
    p = _mm256_blendv_ps(p, _mm256_set1_ps(1.0f),
                         _mm256_cmp_ps(a, _mm256_set1_ps(KERN_ERF_ONE), _CMP_GE_OQ));
    /* erf(u) = copysign(p, u) (p >= 0) */
    const __m256 e = _mm256_or_ps(p, _mm256_and_ps(u, _mm256_set1_ps(-0.0f)));
    return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)),
                         _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

/* y (rows, n) row stride ld = act(y), in place: the fused epilogue of the GEMM
 * kernels, run on a tile just stored (still in L1). */
static inline void act_rows256(eng_act act, float *y, size_t rows, size_t n, size_t ld)
{
    if (act == ENG_ACT_NONE) return;
    for (size_t r = 0; r < rows; r++) {
        float *yr = y + r * ld;
        for (size_t c = 0; c < n; c += 8) {
            __m256i m = tail_mask(n - c);
            __m256 v = _mm256_maskload_ps(yr + c, m);
            /* max(v, 0) returns its second operand, 0, when v is NaN */
            v = act == ENG_ACT_GELU ? gelu256(v) : _mm256_max_ps(v, _mm256_setzero_ps());
            _mm256_maskstore_ps(yr + c, m, v);
        }
    }
}

#endif
