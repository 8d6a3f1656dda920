/* engine/attn_avx2.c - fused attention of one head, AVX2+FMA (twin of
 * attn_ref.c); the layout of attn_avx512.c with 8-float vectors.
 *
 * Kt (K transposed) and Vc (T, dp) are zero-padded copies (tp, dp: T, dh
 * rounded up to 16), so every tile is whole: 16 ymm registers hold R = 6 rows x
 * 2 ymm of accumulators, 2 loaded vectors and 1 broadcast. Kt is stored by
 * panels of 16 keys, each (dh, 16) contiguous: a tile reads one stream.
 * Per block of 6 query rows:
 *   S (R, tp)   = scale * Q_blk Kt   16 keys per tile
 *   E           = exp(S - max) per row, inv = 1 / row sum (the code of
 *                 softmax_rows_avx2, so E and inv are bit-identical)
 *   ctx (R, dh) = inv * (E Vc)       16 columns per tile, the last one stored
 *                 through vmaskmovps (columns dh.. untouched)
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/kern_internal.h"
#include "engine/simd_avx2.h"

#define ATTN_R 6 /* query rows per block */

static inline size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

size_t eng_attn_scratch_avx2(size_t max_seq, size_t dh)
{
    size_t tp = round16(max_seq), dp = round16(dh);
    return dh * tp /* Kt */ + tp * dp /* Vc */ + ATTN_R * tp /* S */;
}

/* s (R, 16) stride tp = scale * q (R, dh) stride ld . kt (dh, 16) (a panel) */
static inline __attribute__((always_inline)) void qk_tile(const int R, const float *q, size_t ld,
                                                          const float *kt, size_t tp, size_t dh,
                                                          float scale, float *s)
{
    __m256 acc[ATTN_R][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (size_t d = 0; d < dh; d++) {
        const float *kd = kt + d * 16;
        __m256 b0 = _mm256_loadu_ps(kd), b1 = _mm256_loadu_ps(kd + 8);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            __m256 a = _mm256_broadcast_ss(q + (size_t)r * ld + d);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    const __m256 vs = _mm256_set1_ps(scale);
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        _mm256_storeu_ps(s + (size_t)r * tp, _mm256_mul_ps(acc[r][0], vs));
        _mm256_storeu_ps(s + (size_t)r * tp + 8, _mm256_mul_ps(acc[r][1], vs));
    }
}

/* ctx (R, 16) stride ldc = inv (R) * (p (R, T) stride tp . vc (T, 16) stride dp);
 * only the first rem (1..16) columns are stored */
static inline __attribute__((always_inline)) void pv_tile(const int R, const float *p, size_t tp,
                                                          const float *vc, size_t dp, size_t T,
                                                          const float *inv, float *ctx, size_t ldc,
                                                          size_t rem)
{
    __m256 acc[ATTN_R][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (size_t j = 0; j < T; j++) {
        const float *vj = vc + j * dp;
        __m256 b0 = _mm256_loadu_ps(vj), b1 = _mm256_loadu_ps(vj + 8);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            __m256 a = _mm256_broadcast_ss(p + (size_t)r * tp + j);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        const __m256 vi = _mm256_set1_ps(inv[r]);
        acc[r][0] = _mm256_mul_ps(acc[r][0], vi);
        acc[r][1] = _mm256_mul_ps(acc[r][1], vi);
    }
    if (rem == 16) {
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            _mm256_storeu_ps(ctx + (size_t)r * ldc, acc[r][0]);
            _mm256_storeu_ps(ctx + (size_t)r * ldc + 8, acc[r][1]);
        }
    } else {
        const __m256i m0 = tail_mask(rem < 8 ? rem : 8), m1 = tail_mask(rem > 8 ? rem - 8 : 0);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            _mm256_maskstore_ps(ctx + (size_t)r * ldc, m0, acc[r][0]);
            _mm256_maskstore_ps(ctx + (size_t)r * ldc + 8, m1, acc[r][1]);
        }
    }
}

typedef void qk_fn(const float *q, size_t ld, const float *kt, size_t tp, size_t dh, float scale,
                   float *s);
typedef void pv_fn(const float *p, size_t tp, const float *vc, size_t dp, size_t T,
                   const float *inv, float *ctx, size_t ldc, size_t rem);

/* One function per row count, so every tile keeps its accumulators in registers. */
#define ATTN_TILES(R)                                                                              \
    static void qk_##R(const float *q, size_t ld, const float *kt, size_t tp, size_t dh,           \
                       float scale, float *s)                                                      \
    {                                                                                              \
        qk_tile(R, q, ld, kt, tp, dh, scale, s);                                                   \
    }                                                                                              \
    static void pv_##R(const float *p, size_t tp, const float *vc, size_t dp, size_t T,            \
                       const float *inv, float *ctx, size_t ldc, size_t rem)                       \
    {                                                                                              \
        pv_tile(R, p, tp, vc, dp, T, inv, ctx, ldc, rem);                                          \
    }
ATTN_TILES(1)
ATTN_TILES(2)
ATTN_TILES(3)
ATTN_TILES(4)
ATTN_TILES(5)
ATTN_TILES(6)
static qk_fn *const qk_tab[ATTN_R] = {qk_1, qk_2, qk_3, qk_4, qk_5, qk_6};
static pv_fn *const pv_tab[ATTN_R] = {pv_1, pv_2, pv_3, pv_4, pv_5, pv_6};

/* x[:n] = exp(x[:n] - max x[:n]); returns 1 / sum: softmax_rows_avx2 minus the
 * scale (already applied) and the final multiply (applied to ctx by pv_tile) */
static float exp_row(float *x, size_t n)
{
    const size_t full = n & ~(size_t)7;
    const size_t rem = n - full;
    const __m256i m = tail_mask(rem);
    const __m256 mf = _mm256_castsi256_ps(m);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 vmx = ninf;
    for (size_t j = 0; j < full; j += 8) vmx = _mm256_max_ps(vmx, _mm256_loadu_ps(x + j));
    if (rem) vmx = _mm256_max_ps(vmx, _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + full, m), mf));
    const __m256 mx = _mm256_set1_ps(hmax256(vmx));
    __m256 acc = _mm256_setzero_ps();
    for (size_t j = 0; j < full; j += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), mx));
        _mm256_storeu_ps(x + j, e);
        acc = _mm256_add_ps(acc, e);
    }
    if (rem) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_maskload_ps(x + full, m), mx));
        _mm256_maskstore_ps(x + full, m, e);
        acc = _mm256_add_ps(acc, _mm256_and_ps(e, mf));
    }
    return 1.0f / hsum256(acc);
}

/* r[0..8) (8, 8) = its transpose, in 24 shuffles */
static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[c + 4], 0x20);
        r[c + 4] = _mm256_permute2f128_ps(u[c], u[c + 4], 0x31);
    }
}

/* kt = k (T, dh)^T by panels: keys [p, p + 16) at kt + p dh as a (dh, 16)
 * matrix; keys T..tp zero. By 8 x 8 blocks, masked at the edges. */
static void transpose_k(const float *k, size_t ld, size_t T, size_t dh, float *kt, size_t tp)
{
    for (size_t j0 = 0; j0 < tp; j0 += 8) {
        float *panel = kt + (j0 & ~(size_t)15) * dh + (j0 & 15);
        for (size_t d0 = 0; d0 < dh; d0 += 8) {
            const size_t nd = dh - d0 < 8 ? dh - d0 : 8;
            const __m256i md = tail_mask(nd);
            __m256 r[8];
            for (size_t j = 0; j < 8; j++)
                r[j] = j0 + j < T ? _mm256_maskload_ps(k + (j0 + j) * ld + d0, md)
                                  : _mm256_setzero_ps();
            transpose8(r);
            for (size_t d = 0; d < nd; d++) _mm256_storeu_ps(panel + (d0 + d) * 16, r[d]);
        }
    }
}

/* ctx (nq, dh) stride ldc = softmax(scale q k^T) v; q (nq, dh) stride ldq,
 * k, v (T, dh) stride ld */
void eng_attn_avx2(const float *q, size_t ldq, size_t nq, const float *k, const float *v,
                   size_t ld, size_t T, size_t dh, float scale, float *ctx, size_t ldc,
                   float *scratch)
{
    const size_t tp = round16(T), dp = round16(dh);
    float *kt = scratch, *vc = kt + dh * tp, *s = vc + tp * dp;
    float inv[ATTN_R];

    transpose_k(k, ld, T, dh, kt, tp);
    for (size_t j = 0; j < T; j++) {
        memcpy(vc + j * dp, v + j * ld, dh * sizeof *vc);
        memset(vc + j * dp + dh, 0, (dp - dh) * sizeof *vc);
    }

    for (size_t i0 = 0; i0 < nq; i0 += ATTN_R) {
        const size_t R = nq - i0 < ATTN_R ? nq - i0 : ATTN_R;
        for (size_t j0 = 0; j0 < tp; j0 += 16)
            qk_tab[R - 1](q + i0 * ldq, ldq, kt + j0 * dh, tp, dh, scale, s + j0);
        for (size_t r = 0; r < R; r++) inv[r] = exp_row(s + r * tp, T);
        for (size_t c0 = 0; c0 < dp; c0 += 16)
            pv_tab[R - 1](s, tp, vc + c0, dp, T, inv, ctx + i0 * ldc + c0, ldc,
                          dh - c0 < 16 ? dh - c0 : 16);
    }
}
