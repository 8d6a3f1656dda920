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
#include "engine/simd_avx2.h"

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
    .attention = eng_attn_avx2,
    .attention_scratch = eng_attn_scratch_avx2,
};

const eng_kern *eng_kern_avx2(void)
{
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return NULL;
    return &kern_avx2;
}
