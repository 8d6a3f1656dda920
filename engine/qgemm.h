/* engine/qgemm.h - int8 matrix product for the quantized path
 * (engine-internal; no other folder includes this).
 *
 *   y (M, N) = (q8(x) (M, K) . W8^T (N, K)) * x_scale[m] * w_scale[n] + bias[n]
 *
 * Weights: int8 symmetric, one scale per output channel (row n of W):
 *   w_scale[n] = max_k |w[n][k]| / 127, W8[n][k] = rint(w[n][k] / w_scale[n]) in
 *   [-127, 127] (-128 is rejected: the AVX2 sign trick cannot negate it).
 *   Packed once at load (eng_qgemm_pack) into the one layout all kernels read:
 *     panels of 64 output channels; inside a panel, for each group of 4 k,
 *     4 blocks of 16 channels x 4 bytes (channel j's k..k+3 in bytes 4j..4j+3),
 *     i.e. exactly one zmm register per block for vpdpbusd (two ymm for AVX2).
 *     N is padded to a multiple of 64, K to a multiple of 4, with zero weights.
 *
 * Activations: quantized per row at run time, symmetric, stored as u8 with
 *   zero point 128: xq = 128 + clamp(rint(x * 127 / max|x_row|), -127, 127),
 *   x_scale[m] = max|x_row| / 127 (0 for an all-zero row). Rows have stride
 *   ldq >= eng_qgemm_act_stride(K); the padding bytes are 128 (value 0).
 *   - AVX-512 VNNI uses xq as the unsigned operand of vpdpbusd (u8 x s8 -> s32,
 *     no intermediate saturation) and subtracts comp[n] = 128 * sum_k W8[n][k],
 *     precomputed at pack time.
 *   - AVX2 flips xq back to s8 (xor 0x80) and uses the sign trick:
 *     vpmaddubsw(|q|, sign(W8, q)). Each int16 pair sum is at most
 *     2 * 128 * 127 = 32512 < 32767, so vpmaddubsw never saturates (this is why
 *     W8 excludes -128); vpmaddwd with ones widens to int32.
 *   - The reference computes sum_k (xq - 128) W8 directly.
 *   All three produce the same int32 sum (|sum| <= K * 128 * 127 < 2^31 for
 *   K <= SENTI_QGEMM_MAX_K), then the same float steps, so the outputs are
 *   bit-identical: y = (float)acc * (x_scale[m] * w_scale[n]) (+ bias[n]),
 *   one multiply then one add, no FMA (then the activation, if any).
 */
#ifndef SENTI_ENGINE_QGEMM_H
#define SENTI_ENGINE_QGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "engine/kern.h"

/* int32 accumulation bound: K * 128 * 127 < 2^31 */
#define SENTI_QGEMM_MAX_K 131071u
#define ENG_QGEMM_PANEL 64 /* output channels per panel */

/* A view of packed weights; the bytes live in the caller's buffer. */
typedef struct eng_qweights {
    size_t n, k;         /* logical shape of W (N, K) */
    size_t np, kp;       /* padded: np = round_up(n, 64), kp = round_up(k, 4) */
    const int8_t *w;     /* np * kp bytes, panel layout above, 64-byte aligned */
    const int32_t *comp; /* np: 128 * sum_k W8[n][k] (0 on padding) */
    const float *scale;  /* np: w_scale[n] (0 on padding) */
} eng_qweights;

/* Bytes eng_qgemm_pack needs for W (N, K); 0 if N or K is 0, K exceeds
 * SENTI_QGEMM_MAX_K, or the size overflows. */
size_t eng_qgemm_packed_size(size_t n, size_t k);

/* Packs W8 (N, K) row-major and its scales into buf (64-byte aligned, at least
 * eng_qgemm_packed_size bytes) and points *out into it. Borrows w8/scale only
 * during the call; *out is valid while buf lives. SENTI_E_INVALID on a bad
 * shape, a small or misaligned buffer, or a weight of -128 (names n and k). */
senti_status eng_qgemm_pack(const int8_t *w8, const float *scale, size_t n, size_t k, void *buf,
                            size_t buf_size, eng_qweights *out, senti_err *err);

/* The output channels [lo, hi) of w as a view of their own; lo a multiple of
 * ENG_QGEMM_PANEL, hi <= w->n. */
eng_qweights eng_qgemm_sub(const eng_qweights *w, size_t lo, size_t hi);

/* The weight quantizer is wt_quantize_rows_int8 (weights/weights.h): one
 * implementation for the converter, the engine and the tests. */

/* Bytes per quantized activation row for K: round_up(K, 64). */
size_t eng_qgemm_act_stride(size_t k);

typedef struct eng_qgemm_kern {
    const char *isa; /* "ref", "avx2", "avx512" */

    /* x (M, K) fp32 with row stride ldx (floats), finite -> xq (M, ldq) u8 with
     * zero point 128 (padding k..ldq-1 set to 128), x_scale (M). */
    void (*quantize_rows)(const float *x, size_t m, size_t k, size_t ldx, uint8_t *xq,
                          size_t ldq, float *x_scale);

    /* y (M, N) row stride ldy (floats) = act(dequant(xq (M, ldq) . W^T) + bias
     * (N)); bias may be NULL; act as the same set's eng_kern would apply it (so
     * the ref's differs from the others' by the gelu rounding only). Writes only
     * y[m][0..N). */
    void (*gemm)(const uint8_t *xq, size_t ldq, const float *x_scale, size_t m,
                 const eng_qweights *w, const float *bias, eng_act act, float *y, size_t ldy);
} eng_qgemm_kern;

const eng_qgemm_kern *eng_qgemm_ref(void);
/* NULL when the CPU lacks the set (avx512 needs F/BW/DQ/VL + VNNI). */
const eng_qgemm_kern *eng_qgemm_avx2(void);
const eng_qgemm_kern *eng_qgemm_avx512(void);

/* Same names and rules as eng_kern_select (kern_select.c), SENTI_ISA included. */
senti_status eng_qgemm_select(const char *name, const eng_qgemm_kern **out, senti_err *err);

#endif
