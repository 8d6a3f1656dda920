/* engine/kern_avx512.c - AVX-512F/BW/DQ/VL twins of kern_ref.c, 16 floats per
 * vector, tails through mask registers (no scalar epilogue).
 *
 * exp and erf are our own approximations (constants and their measured
 * accuracy in kern_internal.h, shared with kern_avx2.c):
 *   exp: Cody-Waite reduction x = n ln2 + r, e^r = 1 + r + r^2 E(r); 2^n is
 *        applied with vscalefps, which rounds subnormal results correctly.
 *   erf: |u| < 1: u + u P(u^2); |u| >= 1: erfc(|u|) = exp(-u^2) Q(s).
 * GELU uses erfc directly for x < -sqrt 2, so 0.5 x (1 + erf) has no cancellation
 * there (it is more accurate than the reference, which goes through erff).
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "engine/kern.h"
#include "engine/kern_internal.h"

/* lanes [0, rem) of a 16-lane tail */
static inline __mmask16 tail_mask(size_t rem) { return (__mmask16)((1u << rem) - 1u); }

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

/* y (rows, dim) = LN(x + r) * gamma + beta */
static void add_layernorm_avx512(float *y, const float *x, const float *r, const float *gamma,
                                 const float *beta, size_t rows, size_t dim, float eps)
{
    const size_t full = dim & ~(size_t)15;
    const __mmask16 m = tail_mask(dim - full);
    for (size_t i = 0; i < rows; i++) {
        const float *xi = x + i * dim;
        const float *ri = r ? r + i * dim : NULL;
        float *yi = y + i * dim;
        __m512 acc = _mm512_setzero_ps();
        for (size_t j = 0; j < full; j += 16) {
            __m512 v = _mm512_loadu_ps(xi + j);
            if (ri) v = _mm512_add_ps(v, _mm512_loadu_ps(ri + j));
            _mm512_storeu_ps(yi + j, v);
            acc = _mm512_add_ps(acc, v);
        }
        if (m) {
            __m512 v = _mm512_maskz_loadu_ps(m, xi + full);
            if (ri) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, ri + full));
            _mm512_mask_storeu_ps(yi + full, m, v);
            acc = _mm512_add_ps(acc, v);
        }
        const float mean = _mm512_reduce_add_ps(acc) / (float)dim;
        const __m512 vmean = _mm512_set1_ps(mean);
        acc = _mm512_setzero_ps();
        for (size_t j = 0; j < full; j += 16) {
            __m512 d = _mm512_sub_ps(_mm512_loadu_ps(yi + j), vmean);
            acc = _mm512_fmadd_ps(d, d, acc);
        }
        if (m) {
            __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, yi + full), vmean);
            acc = _mm512_fmadd_ps(d, d, acc);
        }
        const float var = _mm512_reduce_add_ps(acc) / (float)dim;
        const __m512 inv = _mm512_set1_ps(1.0f / sqrtf(var + eps));
        for (size_t j = 0; j < full; j += 16) {
            __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(yi + j), vmean), inv);
            t = _mm512_fmadd_ps(t, _mm512_loadu_ps(gamma + j), _mm512_loadu_ps(beta + j));
            _mm512_storeu_ps(yi + j, t);
        }
        if (m) {
            __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, yi + full), vmean), inv);
            t = _mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(m, gamma + full),
                                _mm512_maskz_loadu_ps(m, beta + full));
            _mm512_mask_storeu_ps(yi + full, m, t);
        }
    }
}

/* x (n) = gelu_erf(x) */
static void gelu_avx512(float *x, size_t n)
{
    size_t j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(x + j, gelu512(_mm512_loadu_ps(x + j)));
    if (j < n) {
        __mmask16 m = tail_mask(n - j);
        _mm512_mask_storeu_ps(x + j, m, gelu512(_mm512_maskz_loadu_ps(m, x + j)));
    }
}

/* x (rows, dim) += bias (dim) */
static void add_bias_avx512(float *x, const float *bias, size_t rows, size_t dim)
{
    const size_t full = dim & ~(size_t)15;
    const __mmask16 m = tail_mask(dim - full);
    for (size_t i = 0; i < rows; i++) {
        float *xi = x + i * dim;
        for (size_t j = 0; j < full; j += 16)
            _mm512_storeu_ps(xi + j,
                             _mm512_add_ps(_mm512_loadu_ps(xi + j), _mm512_loadu_ps(bias + j)));
        if (m)
            _mm512_mask_storeu_ps(xi + full, m,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m, xi + full),
                                                _mm512_maskz_loadu_ps(m, bias + full)));
    }
}

/* x (rows, ld): row[:n] = softmax(scale * row[:n]); entries n..ld-1 untouched */
static void softmax_rows_avx512(float *x, size_t rows, size_t n, size_t ld, float scale)
{
    const size_t full = n & ~(size_t)15;
    const __mmask16 m = tail_mask(n - full);
    const __m512 vs = _mm512_set1_ps(scale);
    for (size_t i = 0; i < rows; i++) {
        float *xi = x + i * ld;
        __m512 vmx = _mm512_set1_ps(-INFINITY);
        for (size_t j = 0; j < full; j += 16)
            vmx = _mm512_max_ps(vmx, _mm512_mul_ps(_mm512_loadu_ps(xi + j), vs));
        if (m)
            vmx = _mm512_mask_max_ps(vmx, m, vmx, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xi + full), vs));
        const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmx));
        __m512 acc = _mm512_setzero_ps();
        for (size_t j = 0; j < full; j += 16) {
            __m512 e = exp512(_mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(xi + j), vs), mx));
            _mm512_storeu_ps(xi + j, e);
            acc = _mm512_add_ps(acc, e);
        }
        if (m) {
            __m512 e = exp512(_mm512_sub_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, xi + full), vs), mx));
            _mm512_mask_storeu_ps(xi + full, m, e);
            acc = _mm512_mask_add_ps(acc, m, acc, e);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(acc));
        for (size_t j = 0; j < full; j += 16)
            _mm512_storeu_ps(xi + j, _mm512_mul_ps(_mm512_loadu_ps(xi + j), inv));
        if (m)
            _mm512_mask_storeu_ps(xi + full, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xi + full), inv));
    }
}

static const eng_kern kern_avx512 = {
    .isa = "avx512",
    .add_layernorm = add_layernorm_avx512,
    .gelu = gelu_avx512,
    .add_bias = add_bias_avx512,
    .softmax_rows = softmax_rows_avx512,
};

const eng_kern *eng_kern_avx512(void)
{
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")))
        return NULL;
    return &kern_avx512;
}
