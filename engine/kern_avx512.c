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
#include "engine/simd_avx512.h"


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
    .attention = eng_attn_avx512,
    .attention_scratch = eng_attn_scratch_avx512,
};

const eng_kern *eng_kern_avx512(void)
{
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")))
        return NULL;
    return &kern_avx512;
}
