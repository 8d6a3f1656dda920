/* engine/qgemm_avx2.c - int8 GEMM with AVX2: activations flipped back to s8
 * (xor 0x80) and the sign trick vpmaddubsw(|q|, sign(W8, q)) -> int16 pairs,
 * then vpmaddwd with ones -> int32. No saturation: W8 is in [-127, 127] and
 * |q| <= 128, so a pair sum is at most 2 * 128 * 127 = 32512 (qgemm.h).
 * Formats in qgemm.h; results bit-identical to qgemm_ref.c.
 *
 * Blocking: half a panel (32 output channels, 4 ymm of weights per group of
 * 4 k) against QG_MR rows at a time: QG_MR x 4 int32 accumulators, which
 * with the weights, |q| and ones fills the 16 ymm registers.
 */
#include <immintrin.h>
#include <string.h>

#include "engine/qgemm.h"
#include "engine/simd_avx2.h"

#define QG_MR 2

static inline __m256i bcast4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* y[0..mr)[n0..n0+32) from the half panel at hp; mr is a constant after inlining */
static inline __attribute__((always_inline)) void tile256(int mr, const uint8_t *xq, size_t ldq,
                                                          const float *xs, const int8_t *hp,
                                                          const eng_qweights *w, size_t n0,
                                                          const float *bias, eng_act act, float *y,
                                                          size_t ldy)
{
    const __m256i ones = _mm256_set1_epi16(1), flip = _mm256_set1_epi8((char)0x80);
    __m256i acc[QG_MR][4];
    #pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
        #pragma GCC unroll 8
        for (int j = 0; j < 4; j++) acc[r][j] = _mm256_setzero_si256();
    const size_t kg = w->kp / 4;
    for (size_t g = 0; g < kg; g++) {
        const int8_t *p = hp + g * 256;
        __m256i wv[4];
        #pragma GCC unroll 8
        for (int j = 0; j < 4; j++) wv[j] = _mm256_load_si256((const __m256i *)(p + 32 * j));
        #pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m256i q = _mm256_xor_si256(bcast4(xq + (size_t)r * ldq + 4 * g), flip);
            __m256i aq = _mm256_abs_epi8(q);
            #pragma GCC unroll 8
            for (int j = 0; j < 4; j++) {
                __m256i pr = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(wv[j], q));
                acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(pr, ones));
            }
        }
    }
    #pragma GCC unroll 8
    for (int j = 0; j < 4; j++) {
        size_t c = n0 + 8 * (size_t)j;
        if (c >= w->n) break;
        const int full = w->n - c >= 8;
        __m256i m = tail_mask(w->n - c);
        __m256 sc = _mm256_loadu_ps(w->scale + c);
        __m256 bi = bias ? _mm256_maskload_ps(bias + c, m) : _mm256_setzero_ps();
        #pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m256 v = _mm256_cvtepi32_ps(acc[r][j]);
            v = _mm256_mul_ps(v, _mm256_mul_ps(_mm256_set1_ps(xs[r]), sc));
            if (bias) v = _mm256_add_ps(v, bi);
            float *dst = y + (size_t)r * ldy + c;
            if (full) _mm256_storeu_ps(dst, v);
            else _mm256_maskstore_ps(dst, m, v);
        }
    }
    act_rows256(act, y + n0, (size_t)mr, w->n - n0 < 32 ? w->n - n0 : 32, ldy);
}

/* y (M, N) = dequant(xq (M, K) . W8^T) + bias */
static void gemm_avx2(const uint8_t *xq, size_t ldq, const float *x_scale, size_t m,
                      const eng_qweights *w, const float *bias, eng_act act, float *y, size_t ldy)
{
    for (size_t n0 = 0; n0 < w->n; n0 += 32) {
        /* half panel: panel n0/64, blocks 2h and 2h+1 start at byte 128 h */
        const int8_t *hp = w->w + (n0 / ENG_QGEMM_PANEL) * ENG_QGEMM_PANEL * w->kp +
                           (n0 % ENG_QGEMM_PANEL) / 32 * 128;
        size_t i = 0;
        for (; i + QG_MR <= m; i += QG_MR)
            tile256(QG_MR, xq + i * ldq, ldq, x_scale + i, hp, w, n0, bias, act, y + i * ldy, ldy);
        if (i < m)
            tile256(1, xq + i * ldq, ldq, x_scale + i, hp, w, n0, bias, act, y + i * ldy, ldy);
    }
}

/* x (M, K) -> xq (M, ldq) u8 zero point 128, x_scale (M); same steps as the ref */
static void quantize_rows_avx2(const float *x, size_t m, size_t k, size_t ldx, uint8_t *xq,
                               size_t ldq, float *x_scale)
{
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (size_t i = 0; i < m; i++) {
        const float *xi = x + i * ldx;
        uint8_t *qi = xq + i * ldq;
        __m256 vmx = _mm256_setzero_ps();
        size_t j = 0;
        for (; j + 8 <= k; j += 8)
            vmx = _mm256_max_ps(vmx, _mm256_and_ps(_mm256_loadu_ps(xi + j), absmask));
        if (j < k)
            vmx = _mm256_max_ps(vmx, _mm256_and_ps(_mm256_maskload_ps(xi + j, tail_mask(k - j)),
                                                   absmask));
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(vmx), _mm256_extractf128_ps(vmx, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        const float mx = _mm_cvtss_f32(s);
        x_scale[i] = mx / 127.0f;
        const __m256 inv = _mm256_set1_ps(mx > 0.0f ? 127.0f / mx : 0.0f);
        const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
        const __m256i zp = _mm256_set1_epi32(128);
        for (j = 0; j < k; j += 8) {
            __m256 v = k - j >= 8 ? _mm256_loadu_ps(xi + j)
                                  : _mm256_maskload_ps(xi + j, tail_mask(k - j));
            __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(v, inv));
            q = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, lo), hi), zp);
            /* 8 x int32 in [1, 255] -> 8 bytes */
            __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
            __m128i b8 = _mm_packus_epi16(w16, w16);
            uint8_t tmp[8];
            _mm_storel_epi64((__m128i *)tmp, b8);
            memcpy(qi + j, tmp, k - j >= 8 ? 8 : k - j);
        }
        memset(qi + k, 128, ldq - k);
    }
}

static const eng_qgemm_kern qgemm_avx2 = {
    .isa = "avx2",
    .quantize_rows = quantize_rows_avx2,
    .gemm = gemm_avx2,
};

const eng_qgemm_kern *eng_qgemm_avx2(void)
{
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return NULL;
    return &qgemm_avx2;
}
