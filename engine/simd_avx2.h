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

/* 0.5 x (1 + erf(x / sqrt 2)) per lane */
static inline __m256 gelu256(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 h = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
    __m256 u = _mm256_mul_ps(x, _mm256_set1_ps(KERN_SQRT1_2));
    __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), u);
    /* |u| < 1: erf(u) = u + u P(u^2) */
    __m256 e = _mm256_fmadd_ps(u, horner256(_mm256_mul_ps(u, u), kern_erf_p, KERN_ERF_P_DEG), u);
    __m256 g1 = _mm256_mul_ps(h, _mm256_add_ps(one, e));
    /* |u| >= 1: c = erfc(|u|); 1 + erf(u) = 2 - c for u > 0, c for u < 0 */
    __m256 s = _mm256_fmadd_ps(_mm256_min_ps(a, _mm256_set1_ps(KERN_ERFC_CLAMP)),
                               _mm256_set1_ps(KERN_ERFC_SCALE), _mm256_set1_ps(KERN_ERFC_SHIFT));
    __m256 c = _mm256_mul_ps(exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a))),
                             horner256(s, kern_erfc_q, KERN_ERFC_Q_DEG));
    __m256 neg = _mm256_cmp_ps(u, _mm256_setzero_ps(), _CMP_LT_OQ);
    __m256 f = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), c), c, neg);
    __m256 g2 = _mm256_mul_ps(h, f);
    __m256 small = _mm256_cmp_ps(a, one, _CMP_LT_OQ);
    return _mm256_blendv_ps(g2, g1, small);
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
