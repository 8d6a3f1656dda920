/* engine/kern_internal.h - constants shared by the SIMD kernel files
 * (kern_avx2.c, kern_avx512.c, attn_*.c) and the prototypes of the attention
 * kernels; no intrinsics here, so any file may include it.
 *
 * The polynomials were fitted for this project by Chebyshev interpolation at
 * degree+1 nodes against long-double expl / erfl / erfcl, then rounded to float
 * and checked in float arithmetic (fmaf Horner) over every float of the range:
 *   exp on [-87, 88] (with the reduction below): max 0.99 ulp vs expl;
 *   erf by pieces on [0, 4): max abs error 5.9e-8 (kern_erf_tab, AVX-512) and
 *   6.4e-8 (kern_erf_tab8, AVX2) vs erfl (glibc erff: 5.8e-8).
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

/* erf(a) on [0, 4) by 16 pieces of width 1/4 (gelu512: one table lookup per
 * coefficient with vpermps, no branch blend): piece i = floor(4a) covers
 * [i/4, (i+1)/4), erf(a) = sum_d kern_erf_tab[d][i] t^d, t = a - (i + 1/2)/4.
 * Chebyshev fits of degree 5 (scripts/fit_erf.py, 40 digits, fit error 6e-9),
 * rounded to float; fmaf Horner over every float of [0, 4): max abs error
 * 5.9e-8 vs erfl, as glibc erff's 5.8e-8 (GELU needs erf to absolute, not
 * relative, accuracy: it adds 1). From KERN_ERF_ONE on, erf is 1.0f exactly, as
 * (float)erfl is (so gelu(-inf) is NaN and gelu(FLT_MAX) is FLT_MAX, as the
 * reference gives). */
#define KERN_ERF_TAB_DEG 5
#define KERN_ERF_TAB_MAX 3.99999976f /* the largest float below 4 */
#define KERN_ERF_ONE 3.9192059f      /* the smallest float a with (float)erfl(a) == 1 */
static const float kern_erf_tab[KERN_ERF_TAB_DEG + 1][16] = {
    {
     1.403162032e-01f, 4.041168988e-01f, 6.232408881e-01f, 7.840750813e-01f,
     8.883882165e-01f, 9.481700659e-01f, 9.784437418e-01f, 9.919900298e-01f,
     9.973459840e-01f, 9.992170334e-01f, 9.997946024e-01f, 9.999521375e-01f,
     9.999901056e-01f, 9.999982119e-01f, 9.999997020e-01f, 9.999999404e-01f,
    },
    {
     1.110885262e+00f, 9.803528190e-01f, 7.634995580e-01f, 5.247450471e-01f,
     3.182739615e-01f, 1.703597754e-01f, 8.047226071e-02f, 3.354582936e-02f,
     1.234082039e-02f, 4.006478004e-03f, 1.147875213e-03f, 2.902283450e-04f,
     6.475871487e-05f, 1.275175327e-05f, 2.215924042e-06f, 3.398233446e-07f,
    },
    {
     -1.388575584e-01f, -3.676254451e-01f, -4.771815538e-01f, -4.591504931e-01f,
     -3.580603302e-01f, -2.342477143e-01f, -1.307694018e-01f, -6.289899349e-02f,
     -2.622399852e-02f, -9.514959529e-03f, -3.012863686e-03f, -8.342493093e-04f,
     -2.023084235e-04f, -4.301684748e-05f, -8.027220247e-06f, -1.315554641e-06f,
    },
    {
     -3.587200940e-01f, -2.348754406e-01f, -5.567374080e-02f, 9.292105585e-02f,
     1.624510139e-01f, 1.579378992e-01f, 1.148414612e-01f, 6.744176894e-02f,
     3.303766251e-02f, 1.373051759e-02f, 4.890333395e-03f, 1.502463478e-03f,
     3.999831097e-04f, 9.256885096e-05f, 1.866938510e-05f, 3.287375421e-06f,
    },
    {
     6.817823648e-02f, 1.654136330e-01f, 1.754935831e-01f, 1.121528149e-01f,
     2.833496407e-02f, -2.998295985e-02f, -4.938125610e-02f, -4.216307774e-02f,
     -2.640294842e-02f, -1.320595481e-02f, -5.466939416e-03f, -1.908536186e-03f,
     -5.682209157e-04f, -1.453420991e-04f, -3.210335854e-05f, -6.146363376e-06f,
    },
    {
     1.036211103e-01f, 4.534745961e-02f, -2.708888799e-02f, -6.678137928e-02f,
     -6.109867245e-02f, -3.063858859e-02f, -2.279288135e-03f, 1.134722400e-02f,
     1.245155279e-02f, 8.360142820e-03f, 4.233775660e-03f, 1.725644921e-03f,
     5.832175957e-04f, 1.661776914e-04f, 4.033509686e-05f, 8.398557839e-06f,
    },
};

/* The same for AVX2 (gelu256), whose vpermps picks from 8 floats: 8 pieces of
 * width 1/2, degree 7 (scripts/fit_erf.py 8 7, fit error 1.2e-9): piece
 * i = floor(2a), t = a - (i + 1/2)/2; max abs error 6.4e-8 over every float of
 * [0, 4) vs erfl. KERN_ERF_TAB_MAX and KERN_ERF_ONE as above. */
#define KERN_ERF_TAB8_DEG 7
static const float kern_erf_tab8[KERN_ERF_TAB8_DEG + 1][8] = {
    {
     2.763263881e-01f, 7.111556530e-01f, 9.229001403e-01f, 9.866716862e-01f,
     9.985373020e-01f, 9.998993874e-01f, 9.999957085e-01f, 9.999998808e-01f,
    },
    {
     1.060014129e+00f, 6.429310441e-01f, 2.365211248e-01f, 5.277499557e-02f,
     7.142318878e-03f, 5.862772814e-04f, 2.918902283e-05f, 8.814314469e-07f,
    },
    {
     -2.650029659e-01f, -4.821981490e-01f, -2.956517339e-01f, -9.235620499e-02f,
     -1.607015729e-02f, -1.612267457e-03f, -9.486933413e-05f, -3.306069630e-06f,
    },
    {
     -3.091706336e-01f, 2.678855695e-02f, 1.675358415e-01f, 9.015733749e-02f,
     2.172453143e-02f, 2.760384232e-03f, 1.958112698e-04f, 7.969994840e-06f,
    },
    {
     1.269345284e-01f, 1.506756395e-01f, -6.132016890e-03f, -4.810553417e-02f,
     -1.908825710e-02f, -3.257709090e-03f, -2.861694666e-04f, -1.378546858e-05f,
    },
    {
     8.004061878e-02f, -5.322369188e-02f, -4.718514532e-02f, 6.619999185e-03f,
     1.065944694e-02f, 2.756164875e-03f, 3.136722953e-04f, 1.834072282e-05f,
    },
    {
     -3.934035450e-02f, -2.658287063e-02f, 2.059754543e-02f, 9.049599990e-03f,
     -2.779561328e-03f, -1.667863922e-03f, -2.737579634e-04f, -2.069178481e-05f,
    },
    {
     -1.584315859e-02f, 1.794584654e-02f, 3.732251003e-03f, -5.947051104e-03f,
     -7.159299566e-04f, 6.369699840e-04f, 1.731994416e-04f, 1.704719580e-05f,
    },
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
