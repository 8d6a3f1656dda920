/* engine/qgemm_avx512.c - int8 GEMM with AVX-512 VNNI (vpdpbusd): u8
 * activations (zero point 128) times s8 weights, 4 products per int32 lane per
 * instruction, no intermediate saturation; comp[n] removes the zero point.
 * Formats in qgemm.h; results bit-identical to qgemm_ref.c.
 *
 * Blocking: one panel of 64 output channels (4 zmm of weights per group of 4 k,
 * kp * 64 bytes: 48 KiB at K = 768, resident in L1/L2) against QG_MR rows of
 * activations at a time: QG_MR x 4 int32 accumulators. The first tile of a
 * panel prefetches it QG_PF groups ahead; the later tiles (12 rows or more)
 * bring the next panel into L2 meanwhile, so that fetching weights overlaps
 * the arithmetic (DistilBERT-base, 2 threads: T=32 4.1 -> 3.7 ms, T=64
 * 7.8 -> 6.9, T=128 15.9 -> 14.1).
 */
#include <immintrin.h>
#include <string.h>

#include "engine/qgemm.h"
#include "engine/simd_avx512.h"

#define QG_MR 6
#define QG_PF 8 /* prefetch distance in groups of 4 k (256 bytes of a panel) */

static inline __m512i bcast4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* y[0..mr)[n0..n0+64) for one panel; mr is a constant after inlining */
static inline __attribute__((always_inline)) void
tile512(int mr, const uint8_t *xq, size_t ldq, const float *xs, const int8_t *panel,
        const eng_qweights *w, size_t n0, const float *bias, eng_act act, float *y, size_t ldy,
        const int8_t *next, size_t nlines, size_t per_step, int first)
{
    __m512i acc[QG_MR][4];
    #pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
        #pragma GCC unroll 8
        for (int b = 0; b < 4; b++) acc[r][b] = _mm512_setzero_si512();
    const size_t kg = w->kp / 4;
    for (size_t g = 0; g < kg; g++) {
        const int8_t *p = panel + g * 256;
        if (first) { /* the panel QG_PF groups ahead, from memory or L3 */
            _mm_prefetch((const char *)(p + QG_PF * 256), _MM_HINT_T0);
            _mm_prefetch((const char *)(p + QG_PF * 256 + 64), _MM_HINT_T0);
            _mm_prefetch((const char *)(p + QG_PF * 256 + 128), _MM_HINT_T0);
            _mm_prefetch((const char *)(p + QG_PF * 256 + 192), _MM_HINT_T0);
        }
        for (size_t l = g * per_step; l < (g + 1) * per_step && l < nlines; l++)
            _mm_prefetch((const char *)(next + 64 * l), _MM_HINT_T1);
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
        __mmask16 m = tail_mask(w->n - c);
        __m512i comp = _mm512_loadu_si512(w->comp + c);
        __m512 sc = _mm512_loadu_ps(w->scale + c);
        __m512 bi = bias ? _mm512_maskz_loadu_ps(m, bias + c) : _mm512_setzero_ps();
        #pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][b], comp));
            v = _mm512_mul_ps(v, _mm512_mul_ps(_mm512_set1_ps(xs[r]), sc));
            if (bias) v = _mm512_add_ps(v, bi);
            _mm512_mask_storeu_ps(y + (size_t)r * ldy + c, m, act512(act, v));
        }
    }
}

/* y (M, N) = dequant(xq (M, K) . W8^T) + bias */
static void gemm_avx512(const uint8_t *xq, size_t ldq, const float *x_scale, size_t m,
                        const eng_qweights *w, const float *bias, eng_act act, float *y, size_t ldy)
{
    /* (below 2 full tiles the later tiles are too short to hide the next
     * panel's fetch: T=8 measured 1.36 -> 1.44 ms with it) */
    const size_t tiles = (m + QG_MR - 1) / QG_MR, lines = m >= 2 * QG_MR ? w->kp : 0;
    const size_t per_step = tiles > 1 ? (4 + tiles - 2) / (tiles - 1) : 0;
    for (size_t n0 = 0; n0 < w->n; n0 += ENG_QGEMM_PANEL) {
        /* The first tile reads the panel; the others bring the next one in
         * memory into L2 (past this view's end it is usually the caller's next
         * chunk), a share of per_step lines per group of k each. */
        const int8_t *panel = w->w + n0 * w->kp, *next = panel + ENG_QGEMM_PANEL * w->kp;
        size_t done = 0;
        for (size_t i = 0; i < m; i += QG_MR) {
            size_t cap = per_step * (w->kp / 4);
            size_t share = i == 0 ? 0 : lines - done < cap ? lines - done : cap;
            const uint8_t *q = xq + i * ldq;
            const float *s = x_scale + i;
            float *yi = y + i * ldy;
            const int8_t *nx = next + 64 * done;
            done += share;
            const int first = i == 0;
#define QG_TILE(R)                                                                          \
    tile512(R, q, ldq, s, panel, w, n0, bias, act, yi, ldy, nx, share, per_step, first)
            switch (m - i < QG_MR ? m - i : QG_MR) {
            case 6: QG_TILE(6); break;
            case 5: QG_TILE(5); break;
            case 4: QG_TILE(4); break;
            case 3: QG_TILE(3); break;
            case 2: QG_TILE(2); break;
            default: QG_TILE(1); break;
            }
#undef QG_TILE
        }
    }
}

/* x (M, K) -> xq (M, ldq) u8 zero point 128, x_scale (M); same steps as the ref */
static void quantize_rows_avx512(const float *x, size_t m, size_t k, size_t ldx, uint8_t *xq,
                                 size_t ldq, float *x_scale)
{
    const size_t full = k & ~(size_t)15;
    const __mmask16 tm = tail_mask(k - full);
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
