/* engine/attn_avx512.c - fused attention of one head, AVX-512F (twin of
 * attn_ref.c). Replaces sgemm (Q K^T) + softmax_rows + sgemm (P V): no call
 * overhead at small T, and the scores never leave L1 (one block of rows at a time).
 *
 * Per head: K is transposed into Kt and V copied into Vc (T, dp), both
 * zero-padded to whole vectors (tp = T, dp = dh rounded up to 16), so the inner
 * loops need no masks. Kt is stored by panels of 64 keys, each (dh, 64)
 * contiguous (the last one narrower): a Q K^T tile reads one 16 KB stream
 * instead of dh rows 4 tp bytes apart (which alias in L1 and defeat the
 * prefetchers when tp is a power of 2). Then per block of R = 6 query rows:
 *   S (R, tp)   = scale * Q_blk Kt   tiles of R x 4 zmm (64 keys), q broadcast
 *                 (the tiles also keep each row's running max)
 *   E           = exp(S - max) per row, in place, and inv = 1 / row sum (the
 *                 code of softmax_rows_avx512, so E and inv are bit-identical)
 *   ctx (R, dh) = inv * (E Vc)       tiles of R x 4 zmm (64 columns), e broadcast;
 *                 the last vector is stored through a mask (columns dh.. untouched)
 * Normalizing ctx rows (dh products) instead of E (T products) is the one
 * difference from softmax_rows + sgemm: a rounding, not a reordering.
 * Sums run over d (then over keys) in order, one FMA per term, so a result does
 * not depend on the thread, the batch or the scratch contents.
 */
#include <immintrin.h>
#include <math.h>

#include "engine/kern_internal.h"
#include "engine/simd_avx512.h"

#define ATTN_R 6  /* query rows per block */
#define ATTN_NV 4 /* zmm per tile row: 64 keys (Q K^T) or 64 columns (P V) */

static inline size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

size_t eng_attn_scratch_avx512(size_t max_seq, size_t dh)
{
    size_t tp = round16(max_seq), dp = round16(dh);
    return dh * tp /* Kt */ + tp * dp /* Vc */ + ATTN_R * tp /* S */ + ATTN_R * 16 /* row max */;
}

/* s (R, 16 NV) stride tp = scale * q (R, dh) stride ld . kt (dh, 16 NV) (a panel);
 * rmax (R, 16) = max(rmax, s) lane-wise over the lanes of mask last in the last
 * vector (keys past T are zero padding and must not count) */
static inline __attribute__((always_inline)) void qk_tile(const int R, const int NV, const float *q,
                                                          size_t ld, const float *kt, size_t tp,
                                                          size_t dh, float scale, float *s,
                                                          float *rmax, __mmask16 last)
{
    __m512 acc[ATTN_R][ATTN_NV];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) acc[r][c] = _mm512_setzero_ps();
    for (size_t d = 0; d < dh; d++) {
        const float *kd = kt + d * 16 * NV;
        __m512 b[ATTN_NV];
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) b[c] = _mm512_loadu_ps(kd + 16 * c);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(q[(size_t)r * ld + d]);
#pragma GCC unroll 4
            for (int c = 0; c < NV; c++) acc[r][c] = _mm512_fmadd_ps(a, b[c], acc[r][c]);
        }
    }
    const __m512 vs = _mm512_set1_ps(scale);
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        __m512 mx = _mm512_loadu_ps(rmax + 16 * r);
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) {
            __m512 x = _mm512_mul_ps(acc[r][c], vs);
            _mm512_storeu_ps(s + (size_t)r * tp + 16 * c, x);
            mx = c + 1 < NV ? _mm512_max_ps(mx, x) : _mm512_mask_max_ps(mx, last, mx, x);
        }
        _mm512_storeu_ps(rmax + 16 * r, mx);
    }
}

/* ctx (R, 16 NV) stride ldc = inv (R) * (p (R, T) stride tp . vc (T, 16 NV) stride dp);
 * the last vector of each row is stored through mask last */
static inline __attribute__((always_inline)) void pv_tile(const int R, const int NV, const float *p,
                                                          size_t tp, const float *vc, size_t dp,
                                                          size_t T, const float *inv, float *ctx,
                                                          size_t ldc, __mmask16 last)
{
    __m512 acc[ATTN_R][ATTN_NV];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) acc[r][c] = _mm512_setzero_ps();
    for (size_t j = 0; j < T; j++) {
        const float *vj = vc + j * dp;
        __m512 b[ATTN_NV];
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) b[c] = _mm512_loadu_ps(vj + 16 * c);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(p[(size_t)r * tp + j]);
#pragma GCC unroll 4
            for (int c = 0; c < NV; c++) acc[r][c] = _mm512_fmadd_ps(a, b[c], acc[r][c]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        float *cr = ctx + (size_t)r * ldc;
        const __m512 vi = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 4
        for (int c = 0; c + 1 < NV; c++)
            _mm512_storeu_ps(cr + 16 * c, _mm512_mul_ps(acc[r][c], vi));
        _mm512_mask_storeu_ps(cr + 16 * (NV - 1), last, _mm512_mul_ps(acc[r][NV - 1], vi));
    }
}

typedef void qk_fn(const float *q, size_t ld, const float *kt, size_t tp, size_t dh, float scale,
                   float *s, float *rmax, __mmask16 last);
typedef void pv_fn(const float *p, size_t tp, const float *vc, size_t dp, size_t T,
                   const float *inv, float *ctx, size_t ldc, __mmask16 last);

/* One function per (rows, vectors) shape, so every tile keeps its accumulators
 * in registers: [R - 1][NV - 1]. */
#define ATTN_TILES(R, NV)                                                                          \
    static void qk_##R##_##NV(const float *q, size_t ld, const float *kt, size_t tp, size_t dh,    \
                              float scale, float *s, float *rmax, __mmask16 last)                  \
    {                                                                                              \
        qk_tile(R, NV, q, ld, kt, tp, dh, scale, s, rmax, last);                                   \
    }                                                                                              \
    static void pv_##R##_##NV(const float *p, size_t tp, const float *vc, size_t dp, size_t T,     \
                              const float *inv, float *ctx, size_t ldc, __mmask16 last)            \
    {                                                                                              \
        pv_tile(R, NV, p, tp, vc, dp, T, inv, ctx, ldc, last);                                     \
    }
#define ATTN_TILE_ROW(R) ATTN_TILES(R, 1) ATTN_TILES(R, 2) ATTN_TILES(R, 3) ATTN_TILES(R, 4)
ATTN_TILE_ROW(1)
ATTN_TILE_ROW(2)
ATTN_TILE_ROW(3)
ATTN_TILE_ROW(4)
ATTN_TILE_ROW(5)
ATTN_TILE_ROW(6)
#define ATTN_TAB_ROW(f, R)                                                                         \
    {                                                                                              \
        f##_##R##_1, f##_##R##_2, f##_##R##_3, f##_##R##_4                                         \
    }
static qk_fn *const qk_tab[ATTN_R][ATTN_NV] = {
    ATTN_TAB_ROW(qk, 1), ATTN_TAB_ROW(qk, 2), ATTN_TAB_ROW(qk, 3),
    ATTN_TAB_ROW(qk, 4), ATTN_TAB_ROW(qk, 5), ATTN_TAB_ROW(qk, 6),
};
static pv_fn *const pv_tab[ATTN_R][ATTN_NV] = {
    ATTN_TAB_ROW(pv, 1), ATTN_TAB_ROW(pv, 2), ATTN_TAB_ROW(pv, 3),
    ATTN_TAB_ROW(pv, 4), ATTN_TAB_ROW(pv, 5), ATTN_TAB_ROW(pv, 6),
};

/* x[:n] = exp(x[:n] - mx); returns 1 / sum: softmax_rows_avx512 minus the scale
 * (already applied), the max (from the Q K^T tiles) and the final multiply
 * (applied to ctx by the P V tiles) */
static float exp_row(float *x, size_t n, float mxs)
{
    const size_t full = n & ~(size_t)15;
    const __mmask16 m = tail_mask(n - full);
    const __m512 mx = _mm512_set1_ps(mxs);
    __m512 acc = _mm512_setzero_ps();
    for (size_t j = 0; j < full; j += 16) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + j), mx));
        _mm512_storeu_ps(x + j, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (m) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + full), mx));
        _mm512_mask_storeu_ps(x + full, m, e);
        acc = _mm512_mask_add_ps(acc, m, acc, e);
    }
    return 1.0f / _mm512_reduce_add_ps(acc);
}

/* r[0..16) (16, 16) = its transpose, in 64 shuffles */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* r[4i + c], 128-bit lane L: rows 4i..4i+3 of column 4L + c */
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);     /* lanes 0, 2 */
        t[c + 4] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD); /* lanes 1, 3 */
        t[c + 8] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[c + 12] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0x88);
        r[c + 8] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0xDD);
        r[c + 4] = _mm512_shuffle_f32x4(t[c + 4], t[c + 12], 0x88);
        r[c + 12] = _mm512_shuffle_f32x4(t[c + 4], t[c + 12], 0xDD);
    }
}

/* kt = k (T, dh)^T by panels: keys [p, p + w) (p a multiple of 64, w =
 * min(64, tp - p)) at kt + p dh as a (dh, w) matrix; keys T..tp zero. By 16 x 16
 * blocks, masked at the edges (missing keys load as zero rows). */
static void transpose_k(const float *k, size_t ld, size_t T, size_t dh, float *kt, size_t tp)
{
    for (size_t j0 = 0; j0 < tp; j0 += 16) {
        const size_t p = j0 & ~(size_t)63, w = tp - p < 64 ? tp - p : 64;
        float *panel = kt + p * dh + (j0 - p);
        /* the next block's rows: 16 rows 4 ld bytes apart, too far apart for the
         * hardware prefetchers */
        for (size_t j = j0 + 16; j < j0 + 32 && j < T; j++)
            for (size_t d = 0; d < dh; d += 16)
                _mm_prefetch((const char *)(k + j * ld + d), _MM_HINT_T0);
        for (size_t d0 = 0; d0 < dh; d0 += 16) {
            const size_t nd = dh - d0 < 16 ? dh - d0 : 16;
            const __mmask16 md = tail_mask(nd);
            __m512 r[16];
            for (size_t j = 0; j < 16; j++)
                r[j] = j0 + j < T ? _mm512_maskz_loadu_ps(md, k + (j0 + j) * ld + d0)
                                  : _mm512_setzero_ps();
            transpose16(r);
            for (size_t d = 0; d < nd; d++) _mm512_storeu_ps(panel + (d0 + d) * w, r[d]);
        }
    }
}

/* vc (T, dp) = v (T, dh), columns dh..dp zero */
static void copy_v(const float *v, size_t ld, size_t T, size_t dh, float *vc, size_t dp)
{
    const size_t full = dh & ~(size_t)15;
    const __mmask16 m = tail_mask(dh - full);
    for (size_t j = 0; j < T; j++) {
        const float *vj = v + j * ld;
        float *cj = vc + j * dp;
        for (size_t c = 0; c < full; c += 16) _mm512_storeu_ps(cj + c, _mm512_loadu_ps(vj + c));
        if (m) _mm512_storeu_ps(cj + full, _mm512_maskz_loadu_ps(m, vj + full));
    }
}

/* ctx (nq, dh) stride ldc = softmax(scale q k^T) v; q (nq, dh) stride ldq,
 * k, v (T, dh) stride ld */
void eng_attn_avx512(const float *q, size_t ldq, size_t nq, const float *k, const float *v,
                     size_t ld, size_t T, size_t dh, float scale, float *ctx, size_t ldc,
                     float *scratch)
{
    const size_t tp = round16(T), dp = round16(dh);
    float *kt = scratch, *vc = kt + dh * tp, *s = vc + tp * dp, *rmax = s + ATTN_R * tp;
    float inv[ATTN_R];

    transpose_k(k, ld, T, dh, kt, tp);
    copy_v(v, ld, T, dh, vc, dp);

    for (size_t i0 = 0; i0 < nq; i0 += ATTN_R) {
        const size_t R = nq - i0 < ATTN_R ? nq - i0 : ATTN_R;
        for (size_t r = 0; r < R; r++) _mm512_storeu_ps(rmax + 16 * r, _mm512_set1_ps(-INFINITY));
        for (size_t j0 = 0; j0 < tp; j0 += 16 * ATTN_NV) {
            size_t nv = (tp - j0) / 16 < ATTN_NV ? (tp - j0) / 16 : ATTN_NV;
            size_t rem = T - (j0 + 16 * (nv - 1)); /* keys from the last vector on */
            qk_tab[R - 1][nv - 1](q + i0 * ldq, ldq, kt + j0 * dh, tp, dh, scale, s + j0, rmax,
                                  tail_mask(rem < 16 ? rem : 16));
        }
        for (size_t r = 0; r < R; r++)
            inv[r] = exp_row(s + r * tp, T, _mm512_reduce_max_ps(_mm512_loadu_ps(rmax + 16 * r)));
        for (size_t c0 = 0; c0 < dp; c0 += 16 * ATTN_NV) {
            size_t nv = (dp - c0) / 16 < ATTN_NV ? (dp - c0) / 16 : ATTN_NV;
            size_t rem = dh - (c0 + 16 * (nv - 1)); /* columns from the last vector on */
            pv_tab[R - 1][nv - 1](s, tp, vc + c0, dp, T, inv, ctx + i0 * ldc + c0, ldc,
                                  tail_mask(rem < 16 ? rem : 16));
        }
    }
}
