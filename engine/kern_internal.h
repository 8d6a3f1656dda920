/* engine/kern_internal.h - constants shared by the SIMD kernel files
 * (kern_avx2.c, kern_avx512.c, attn_*.c) and the prototypes of the attention
 * kernels; no intrinsics here, so any file may include it.
 *
 * The polynomials were fitted for this project by Chebyshev interpolation at
 * degree+1 nodes against long-double expl / erfl / erfcl, then rounded to float
 * and checked in float arithmetic (fmaf Horner) over every float of the range:
 *   exp on [-87, 88] (with the reduction below): max 0.99 ulp vs expl;
 *   erf on [0, 6]: max 1.10 ulp, max abs error 6.6e-8 vs erfl
 *   (glibc erff: 0.97 ulp, 5.8e-8).
 * tests/engine/test_kern.c checks the kernels built on them against libm.
 */
#ifndef SENTI_ENGINE_KERN_INTERNAL_H
#define SENTI_ENGINE_KERN_INTERNAL_H

#include <stddef.h>

/* exp(x): clamp x to [LO, HI] (NaN kept), n = rint(x log2 e),
 * r = x - n ln2 (ln2 split in HI + LO: n * HI is exact for |n| < 2^15),
 * e^r = 1 + r + r^2 E(r), result e^r * 2^n. exp(LO) underflows to 0 and
 * exp(HI) overflows to inf, so the clamp does not change any float result. */
#define KERN_EXP_LO (-104.0f)
#define KERN_EXP_HI 89.0f
#define KERN_LOG2E 1.44269504088896341f
#define KERN_LN2_HI 0.693359375f
#define KERN_LN2_LO (-2.12194440e-4f)
#define KERN_EXP_DEG 5
static const float kern_exp_poly[KERN_EXP_DEG + 1] = {
    5.000000000e-01f, 1.666666716e-01f, 4.166646674e-02f,
    8.333310485e-03f, 1.393364160e-03f, 1.989098091e-04f,
};

/* erf(u) = u + u P(u^2) for |u| < 1 (P = erf(u)/u - 1 as a polynomial in u^2). */
#define KERN_ERF_P_DEG 8
static const float kern_erf_p[KERN_ERF_P_DEG + 1] = {
    1.283791661e-01f,  -3.761263788e-01f, 1.128379107e-01f,
    -2.686613239e-02f, 5.223783664e-03f,  -8.542637806e-04f,
    1.195656223e-04f,  -1.390933994e-05f, 1.058938096e-06f,
};

/* erfc(a) = exp(-a^2) Q(s) for a >= 1, s = (min(a, 4) - 2.5) / 1.5 in [-1, 1]
 * (Q = erfcx = erfc(a) exp(a^2) on [1, 4]). Past 4, erfc < 1.6e-8: holding Q at
 * Q(4) keeps the result within a factor 2 of erfc, far below float resolution
 * of 1 - erfc and of the GELU values it feeds. */
#define KERN_ERFC_CLAMP 4.0f
#define KERN_ERFC_SCALE (1.0f / 1.5f)
#define KERN_ERFC_SHIFT (-2.5f / 1.5f)
#define KERN_ERFC_Q_DEG 11
static const float kern_erfc_q[KERN_ERFC_Q_DEG + 1] = {
    2.108063549e-01f,  -1.115210205e-01f, 5.611094832e-02f,  -2.700545825e-02f,
    1.248412300e-02f,  -5.568837747e-03f, 2.425638959e-03f,  -1.013662550e-03f,
    3.681510861e-04f,  -1.474161400e-04f, 9.629120177e-05f,  -3.566417945e-05f,
};

/* (float)M_SQRT1_2, the same rounding kern_ref.c uses */
#define KERN_SQRT1_2 0.707106781186547524f

/* The fused attention kernels (attn_ref.c, attn_avx2.c, attn_avx512.c), reached
 * through eng_kern.attention / .attention_scratch (contract in kern.h). */
size_t eng_attn_scratch_ref(size_t max_seq, size_t dh);
size_t eng_attn_scratch_avx2(size_t max_seq, size_t dh);
size_t eng_attn_scratch_avx512(size_t max_seq, size_t dh);
void eng_attn_ref(const float *q, size_t ldq, size_t nq, const float *k, const float *v,
                  size_t ld, size_t T, size_t dh, float scale, float *ctx, size_t ldc,
                  float *scratch);
void eng_attn_avx2(const float *q, size_t ldq, size_t nq, const float *k, const float *v,
                   size_t ld, size_t T, size_t dh, float scale, float *ctx, size_t ldc,
                   float *scratch);
void eng_attn_avx512(const float *q, size_t ldq, size_t nq, const float *k, const float *v,
                     size_t ld, size_t T, size_t dh, float scale, float *ctx, size_t ldc,
                     float *scratch);

#endif
