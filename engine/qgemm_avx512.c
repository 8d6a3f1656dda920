/* engine/qgemm_avx512.c - int8 GEMM with AVX-512 VNNI (vpdpbusd): u8
 * activations (zero point 128) times s8 weights, 4 products per int32 lane per
 * instruction, no intermediate saturation; comp[n] removes the zero point.
 * Formats in qgemm.h; results bit-identical to qgemm_ref.c.
 *
 * Blocking: one panel of 64 output channels (4 zmm of weights per group of 4 k,
 * kp * 64 bytes: 48 KiB at K = 768, resident in L1/L2) against QG_MR rows of
 * activations at a time: QG_MR x 4 int32 accumulators.
 */
#include <immintrin.h>
#include <string.h>

#include "engine/qgemm.h"
#include "engine/simd_avx512.h"

#define QG_MR 6

static inline __m512i bcast4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* y[0..mr)[n0..n0+64) for one panel; mr is a constant after inlining */
static inline __attribute__((always_inline)) void tile512(int mr, const uint8_t *xq, size_t ldq,
                                                          const float *xs, const int8_t *panel,
                                                          const eng_qweights *w, size_t n0,
                                                          const float *bias, eng_act act, float *y, size_t ldy)
{
    __m512i acc[QG_MR][4];
    #pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
        #pragma GCC unroll 8
        for (int b = 0; b < 4; b++) acc[r][b] = _mm512_setzero_si512();
    const size_t kg = w->kp / 4;
    for (size_t g = 0; g < kg; g++) {
        const int8_t *p = panel + g * 256;
        __m512i w0 = _mm512_load_si512(p), w1 = _mm512_load_si512(p + 64);
        __m512i w2 = _mm512_load_si512(p + 128), w3 = _mm512_load_si512(p + 192);
        #pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512i a = bcast4(xq + (size_t)r * ldq + 4 * g);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a, w0);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a, w1);
            acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], a, w2);
            acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], a, w3);
        }
    }
    #pragma GCC unroll 8
    for (int b = 0; b < 4; b++) {
        size_t c = n0 + 16 * (size_t)b;
        if (c >= w->n) break;
        __mmask16 m = w->n - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (w->n - c)) - 1u);
        __m512i comp = _mm512_loadu_si512(w->comp + c);
        __m512 sc = _mm512_loadu_ps(w->scale + c);
        __m512 bi = bias ? _mm512_maskz_loadu_ps(m, bias + c) : _mm512_setzero_ps();
        #pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][b], comp));
            v = _mm512_mul_ps(v, _mm512_mul_ps(_mm512_set1_ps(xs[r]), sc));
            if (bias) v = _mm512_add_ps(v, bi);
            _mm512_mask_storeu_ps(y + (size_t)r * ldy + c, m, v);
        }
    }
    size_t nv = w->n - n0 < ENG_QGEMM_PANEL ? w->n - n0 : ENG_QGEMM_PANEL;
    act_rows512(act, y + n0, (size_t)mr, nv, ldy);
}

/* y (M, N) = dequant(xq (M, K) . W8^T) + bias */
static void gemm_avx512(const uint8_t *xq, size_t ldq, const float *x_scale, size_t m,
                        const eng_qweights *w, const float *bias, eng_act act, float *y,
                        size_t ldy)
{
    for (size_t n0 = 0; n0 < w->n; n0 += ENG_QGEMM_PANEL) {
        const int8_t *panel = w->w + n0 * w->kp;
        size_t i = 0;
        for (; i + QG_MR <= m; i += QG_MR)
            tile512(QG_MR, xq + i * ldq, ldq, x_scale + i, panel, w, n0, bias, act, y + i * ldy, ldy);
        const uint8_t *q = xq + i * ldq;
        const float *s = x_scale + i;
        float *yi = y + i * ldy;
        switch (m - i) {
        case 5: tile512(5, q, ldq, s, panel, w, n0, bias, act, yi, ldy); break;
        case 4: tile512(4, q, ldq, s, panel, w, n0, bias, act, yi, ldy); break;
        case 3: tile512(3, q, ldq, s, panel, w, n0, bias, act, yi, ldy); break;
        case 2: tile512(2, q, ldq, s, panel, w, n0, bias, act, yi, ldy); break;
        case 1: tile512(1, q, ldq, s, panel, w, n0, bias, act, yi, ldy); break;
        default: break;
        }
    }
}

/* x (M, K) -> xq (M, ldq) u8 zero point 128, x_scale (M); same steps as the ref */
static void quantize_rows_avx512(const float *x, size_t m, size_t k, size_t ldx, uint8_t *xq,
                                 size_t ldq, float *x_scale)
{
    const size_t full = k & ~(size_t)15;
    const __mmask16 tm = (__mmask16)((1u << (k - full)) - 1u);
    for (size_t i = 0; i < m; i++) {
        const float *xi = x + i * ldx;
        uint8_t *qi = xq + i * ldq;
        __m512 vmx = _mm512_setzero_ps();
        for (size_t j = 0; j < full; j += 16)
            vmx = _mm512_max_ps(vmx, _mm512_abs_ps(_mm512_loadu_ps(xi + j)));
        if (tm) vmx = _mm512_max_ps(vmx, _mm512_abs_ps(_mm512_maskz_loadu_ps(tm, xi + full)));
        const float mx = _mm512_reduce_max_ps(vmx);
        x_scale[i] = mx / 127.0f;
        const __m512 inv = _mm512_set1_ps(mx > 0.0f ? 127.0f / mx : 0.0f);
        const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
        const __m512i zp = _mm512_set1_epi32(128);
        for (size_t j = 0; j < k; j += 16) {
            __mmask16 m16 = k - j >= 16 ? (__mmask16)0xffff : tm;
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m16, xi + j), inv));
            q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi), zp);
            _mm_mask_storeu_epi8(qi + j, m16, _mm512_cvtepi32_epi8(q));
        }
        memset(qi + k, 128, ldq - k);
    }
}

static const eng_qgemm_kern qgemm_avx512 = {
    .isa = "avx512",
    .quantize_rows = quantize_rows_avx512,
    .gemm = gemm_avx512,
};

const eng_qgemm_kern *eng_qgemm_avx512(void)
{
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
          __builtin_cpu_supports("avx512vnni")))
        return NULL;
    return &qgemm_avx512;
}
