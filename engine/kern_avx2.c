/* engine/kern_avx2.c - AVX2+FMA twins of kern_ref.c, 8 floats per vector,
 * tails through vmaskmovps (masked lanes are neither read nor written).
 *
 * Same exp / erf / GELU as kern_avx512.c (constants in kern_internal.h); the
 * only difference is 2^n: without vscalefps it is built from exponent bits in
 * two halves, 2^(n/2) * 2^(n - n/2), so results that land in the subnormal
 * range are rounded once, as with scalef.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "engine/kern.h"
#include "engine/kern_internal.h"

/* -1 in lanes [0, rem) of an 8-lane tail, 0 elsewhere */
static inline __m256i tail_mask(size_t rem)
{
    static const int32_t tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(tab + 8 - rem));
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

/* y (rows, dim) = LN(x + r) * gamma + beta */
static void add_layernorm_avx2(float *y, const float *x, const float *r, const float *gamma,
                               const float *beta, size_t rows, size_t dim, float eps)
{
    const size_t full = dim & ~(size_t)7;
    const size_t rem = dim - full;
    const __m256i m = tail_mask(rem);
    for (size_t i = 0; i < rows; i++) {
        const float *xi = x + i * dim;
        const float *ri = r ? r + i * dim : NULL;
        float *yi = y + i * dim;
        __m256 acc = _mm256_setzero_ps();
        for (size_t j = 0; j < full; j += 8) {
            __m256 v = _mm256_loadu_ps(xi + j);
            if (ri) v = _mm256_add_ps(v, _mm256_loadu_ps(ri + j));
            _mm256_storeu_ps(yi + j, v);
            acc = _mm256_add_ps(acc, v);
        }
        if (rem) {
            __m256 v = _mm256_maskload_ps(xi + full, m);
            if (ri) v = _mm256_add_ps(v, _mm256_maskload_ps(ri + full, m));
            _mm256_maskstore_ps(yi + full, m, v);
            acc = _mm256_add_ps(acc, v);
        }
        const float mean = hsum256(acc) / (float)dim;
        const __m256 vmean = _mm256_set1_ps(mean);
        acc = _mm256_setzero_ps();
        for (size_t j = 0; j < full; j += 8) {
            __m256 d = _mm256_sub_ps(_mm256_loadu_ps(yi + j), vmean);
            acc = _mm256_fmadd_ps(d, d, acc);
        }
        if (rem) {
            __m256 d = _mm256_sub_ps(_mm256_maskload_ps(yi + full, m), vmean);
            d = _mm256_and_ps(d, _mm256_castsi256_ps(m));
            acc = _mm256_fmadd_ps(d, d, acc);
        }
        const float var = hsum256(acc) / (float)dim;
        const __m256 inv = _mm256_set1_ps(1.0f / sqrtf(var + eps));
        for (size_t j = 0; j < full; j += 8) {
            __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(yi + j), vmean), inv);
            t = _mm256_fmadd_ps(t, _mm256_loadu_ps(gamma + j), _mm256_loadu_ps(beta + j));
            _mm256_storeu_ps(yi + j, t);
        }
        if (rem) {
            __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(yi + full, m), vmean), inv);
            t = _mm256_fmadd_ps(t, _mm256_maskload_ps(gamma + full, m),
                                _mm256_maskload_ps(beta + full, m));
            _mm256_maskstore_ps(yi + full, m, t);
        }
    }
}

/* x (n) = gelu_erf(x) */
static void gelu_avx2(float *x, size_t n)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(x + j, gelu256(_mm256_loadu_ps(x + j)));
    if (j < n) {
        __m256i m = tail_mask(n - j);
        _mm256_maskstore_ps(x + j, m, gelu256(_mm256_maskload_ps(x + j, m)));
    }
}

/* x (rows, dim) += bias (dim) */
static void add_bias_avx2(float *x, const float *bias, size_t rows, size_t dim)
{
    const size_t full = dim & ~(size_t)7;
    const size_t rem = dim - full;
    const __m256i m = tail_mask(rem);
    for (size_t i = 0; i < rows; i++) {
        float *xi = x + i * dim;
        for (size_t j = 0; j < full; j += 8)
            _mm256_storeu_ps(xi + j,
                             _mm256_add_ps(_mm256_loadu_ps(xi + j), _mm256_loadu_ps(bias + j)));
        if (rem)
            _mm256_maskstore_ps(xi + full, m,
                                _mm256_add_ps(_mm256_maskload_ps(xi + full, m),
                                              _mm256_maskload_ps(bias + full, m)));
    }
}

/* x (rows, ld): row[:n] = softmax(scale * row[:n]); entries n..ld-1 untouched */
static void softmax_rows_avx2(float *x, size_t rows, size_t n, size_t ld, float scale)
{
    const size_t full = n & ~(size_t)7;
    const size_t rem = n - full;
    const __m256i m = tail_mask(rem);
    const __m256 mf = _mm256_castsi256_ps(m);
    const __m256 vs = _mm256_set1_ps(scale);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (size_t i = 0; i < rows; i++) {
        float *xi = x + i * ld;
        __m256 vmx = ninf;
        for (size_t j = 0; j < full; j += 8)
            vmx = _mm256_max_ps(vmx, _mm256_mul_ps(_mm256_loadu_ps(xi + j), vs));
        if (rem) {
            __m256 v = _mm256_mul_ps(_mm256_maskload_ps(xi + full, m), vs);
            vmx = _mm256_max_ps(vmx, _mm256_blendv_ps(ninf, v, mf));
        }
        const __m256 mx = _mm256_set1_ps(hmax256(vmx));
        __m256 acc = _mm256_setzero_ps();
        for (size_t j = 0; j < full; j += 8) {
            __m256 e = exp256(_mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(xi + j), vs), mx));
            _mm256_storeu_ps(xi + j, e);
            acc = _mm256_add_ps(acc, e);
        }
        if (rem) {
            __m256 e = exp256(_mm256_sub_ps(_mm256_mul_ps(_mm256_maskload_ps(xi + full, m), vs), mx));
            _mm256_maskstore_ps(xi + full, m, e);
            acc = _mm256_add_ps(acc, _mm256_and_ps(e, mf));
        }
        const __m256 inv = _mm256_set1_ps(1.0f / hsum256(acc));
        for (size_t j = 0; j < full; j += 8)
            _mm256_storeu_ps(xi + j, _mm256_mul_ps(_mm256_loadu_ps(xi + j), inv));
        if (rem)
            _mm256_maskstore_ps(xi + full, m, _mm256_mul_ps(_mm256_maskload_ps(xi + full, m), inv));
    }
}

static const eng_kern kern_avx2 = {
    .isa = "avx2",
    .add_layernorm = add_layernorm_avx2,
    .gelu = gelu_avx2,
    .add_bias = add_bias_avx2,
    .softmax_rows = softmax_rows_avx2,
};

const eng_kern *eng_kern_avx2(void)
{
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return NULL;
    return &kern_avx2;
}
