/* tests/engine/test_qgemm.c - int8 GEMM (engine/qgemm_*.c).
 *
 * - SIMD vs reference: quantized activations, scales and outputs bit-identical
 *   (same int32 sums, same float steps) over M = 1..9 and 128, K not a multiple
 *   of 4 or 64, N tails around 8/16/32/64; bias or none; ldy > N untouched.
 * - Quantized vs fp32 product: for each element the error is within the
 *   rounding bound of symmetric quantization,
 *     |y - y32| <= sx/2 sum_k |w| + sw/2 sum_k |x^| + 1e-5 (1 + |y32|),
 *   (x^ = dequantized x; the first terms bound sum_k (e_x w + x^ e_w) with
 *   |e_x| <= sx/2, |e_w| <= sw/2), and the RMS error relative to the RMS of y
 *   is below 2% on random data (measured 0.7-1.0%).
 * - AVX2 saturation worst case: |q| = 127/128 with weights +-127 all signs
 *   aligned, so every vpmaddubsw pair sum is at its maximum; exact result.
 * - Packing and quantizer contracts, selection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "engine/qgemm.h"
#include "weights/weights.h"
#include "tests/support/act_expect.h"
#include "tests/support/testutil.h"

typedef struct q_case {
    const char *name;
    const eng_qgemm_kern *(*get)(void);
} q_case;

static const q_case case_avx2 = {"avx2", eng_qgemm_avx2};
static const q_case case_avx512 = {"avx512", eng_qgemm_avx512};

static const eng_qgemm_kern *simd_or_skip(void **state)
{
    const q_case *c = *state;
    const eng_qgemm_kern *k = c->get();
    if (!k) {
        print_message("[  SKIP    ] int8 kernel set '%s': this CPU does not support it\n", c->name);
        skip();
    }
    assert_string_equal(k->isa, c->name);
    return k;
}

static uint32_t rng_state = 0x2545f491u; /* xorshift32, deterministic across runs */
static uint32_t rnd(void) { return tu_rand(&rng_state); }
static float frand(float lo, float hi) { return tu_frand(&rng_state, lo, hi); }

/* Packed weights in an aligned buffer; free with senti_free_aligned(buf). */
typedef struct packed {
    void *buf;
    eng_qweights w;
} packed;

static packed pack_or_fail(const int8_t *w8, const float *scale, size_t n, size_t k)
{
    packed p;
    size_t sz = eng_qgemm_packed_size(n, k);
    assert_true(sz > 0);
    p.buf = senti_alloc_aligned(sz);
    assert_non_null(p.buf);
    senti_err err = {0};
    assert_int_equal(eng_qgemm_pack(w8, scale, n, k, p.buf, sz, &p.w, &err), SENTI_OK);
    return p;
}

/* One shape: random activations and int8 weights; ref and SIMD must agree bit for bit. */
static void run_exact(const eng_qgemm_kern *q, size_t m, size_t n, size_t k, int with_bias)
{
    const eng_qgemm_kern *ref = eng_qgemm_ref();
    const size_t ldx = k + 3, ldq = eng_qgemm_act_stride(k), ldy = n + 5;
    float *x = malloc(m * ldx * sizeof *x), *bias = malloc(n * sizeof *bias);
    float *ws = malloc(n * sizeof *ws), *xs1 = malloc(m * sizeof *xs1), *xs2 = malloc(m * sizeof *xs2);
    int8_t *w8 = malloc(n * k);
    uint8_t *q1 = malloc(m * ldq), *q2 = malloc(m * ldq);
    float *y1 = malloc(m * ldy * sizeof *y1), *y2 = malloc(m * ldy * sizeof *y2);
    assert_true(x && bias && ws && xs1 && xs2 && w8 && q1 && q2 && y1 && y2);
    for (size_t i = 0; i < m * ldx; i++) x[i] = frand(-3.0f, 3.0f);
    if (m > 1)
        for (size_t j = 0; j < k; j++) x[ldx + j] = 0.0f; /* an all-zero row: scale 0 */
    for (size_t i = 0; i < n * k; i++) w8[i] = (int8_t)((int)(rnd() % 255) - 127);
    for (size_t i = 0; i < n; i++) ws[i] = frand(0.001f, 0.02f), bias[i] = frand(-1.0f, 1.0f);
    for (size_t i = 0; i < m * ldy; i++) y1[i] = y2[i] = -777.0f;

    ref->quantize_rows(x, m, k, ldx, q1, ldq, xs1);
    memset(q2, 0xee, m * ldq);
    q->quantize_rows(x, m, k, ldx, q2, ldq, xs2);
    assert_memory_equal(q1, q2, m * ldq);
    assert_memory_equal(xs1, xs2, m * sizeof *xs1);

    packed p = pack_or_fail(w8, ws, n, k);
    const float *b = with_bias ? bias : NULL;
    ref->gemm(q1, ldq, xs1, m, &p.w, b, ENG_ACT_NONE, y1, ldy);
    q->gemm(q1, ldq, xs1, m, &p.w, b, ENG_ACT_NONE, y2, ldy);
    for (size_t i = 0; i < m * ldy; i++) {
        if (memcmp(&y1[i], &y2[i], sizeof y1[i]) != 0) {
            print_error("%s qgemm M %zu N %zu K %zu bias %d: y[%zu][%zu] = %.9g, ref %.9g\n",
                        q->isa, m, n, k, with_bias, i / ldy, i % ldy, (double)y2[i],
                        (double)y1[i]);
            fail();
        }
    }
    /* fused activations: exactly the plain product then the same set's activation */
    for (int a = ENG_ACT_GELU; a <= ENG_ACT_RELU; a++) {
        memcpy(y1, y2, m * ldy * sizeof *y1);
        tu_act_rows(q->isa, (eng_act)a, y1, m, n, ldy);
        q->gemm(q1, ldq, xs1, m, &p.w, b, (eng_act)a, y2, ldy);
        if (memcmp(y1, y2, m * ldy * sizeof *y1) != 0) {
            print_error("%s qgemm M %zu N %zu K %zu: fused act %d differs\n", q->isa, m, n, k, a);
            fail();
        }
        q->gemm(q1, ldq, xs1, m, &p.w, b, ENG_ACT_NONE, y2, ldy);
    }
    senti_free_aligned(p.buf);
    free(x), free(bias), free(ws), free(xs1), free(xs2), free(w8);
    free(q1), free(q2), free(y1), free(y2);
}

static void test_bit_exact(void **state)
{
    const eng_qgemm_kern *q = simd_or_skip(state);
    static const size_t ks[] = {1, 3, 4, 5, 7, 63, 64, 65, 100, 257, 768};
    static const size_t ns[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 130};
    for (size_t m = 1; m <= 9; m++)
        for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++)
            for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++)
                run_exact(q, m, ns[b], ks[a], (int)((m + a + b) % 2));
    run_exact(q, 128, 768, 768, 1);
    run_exact(q, 13, 200, 3072, 0);
}

/* Worst case for vpmaddubsw: every pair sum at its largest magnitude. */
static void test_saturation_worst_case(void **state)
{
    const eng_qgemm_kern *q = simd_or_skip(state);
    const size_t k = 768, n = 48, m = 4, ldq = eng_qgemm_act_stride(k);
    int8_t *w8 = malloc(n * k);
    uint8_t *xq = malloc(m * ldq);
    float ws[48], xs[4] = {1.0f, 1.0f, 1.0f, 1.0f}, y1[4 * 48], y2[4 * 48];
    assert_true(w8 && xq);
    for (size_t i = 0; i < n; i++) {
        ws[i] = 1.0f;
        for (size_t j = 0; j < k; j++) w8[i * k + j] = (j % 3 == 0) ? -127 : 127;
    }
    for (size_t j = 0; j < k; j++) {
        int s = (j % 3 == 0) ? -1 : 1;
        xq[0 * ldq + j] = (uint8_t)(128 + 127 * s);         /* q = +-127, signs aligned */
        xq[1 * ldq + j] = (uint8_t)(128 - 127 * s);         /* all products negative */
        xq[2 * ldq + j] = (uint8_t)(s < 0 ? 0 : 255);       /* q = -128 where w = -127 */
        xq[3 * ldq + j] = (uint8_t)(s < 0 ? 255 : 0);       /* q = -128 where w = +127 */
    }
    for (size_t i = 0; i < m; i++) memset(xq + i * ldq + k, 128, ldq - k);
    packed p = pack_or_fail(w8, ws, n, k);
    eng_qgemm_ref()->gemm(xq, ldq, xs, m, &p.w, NULL, ENG_ACT_NONE, y1, n);
    q->gemm(xq, ldq, xs, m, &p.w, NULL, ENG_ACT_NONE, y2, n);
    assert_memory_equal(y1, y2, sizeof y1);
    const float third = (float)(k / 3);
    const float want[4] = {(float)k * 127 * 127, -(float)k * 127 * 127,
                           third * 128 * 127 + (float)(k - k / 3) * 127 * 127,
                           -third * 127 * 127 - (float)(k - k / 3) * 128 * 127};
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < n; c++) assert_true(y2[i * n + c] == want[i]);
    senti_free_aligned(p.buf);
    free(w8);
    free(xq);
}

/* The quantized product against the fp32 one, within the stated bound. */
static void run_accuracy(const eng_qgemm_kern *q, size_t m, size_t n, size_t k)
{
    const size_t ldq = eng_qgemm_act_stride(k);
    float *x = malloc(m * k * sizeof *x), *w = malloc(n * k * sizeof *w);
    float *ws = malloc(n * sizeof *ws), *xs = malloc(m * sizeof *xs), *bias = malloc(n * sizeof *bias);
    float *y = malloc(m * n * sizeof *y);
    int8_t *w8 = malloc(n * k);
    uint8_t *xq = malloc(m * ldq);
    assert_true(x && w && ws && xs && bias && y && w8 && xq);
    for (size_t i = 0; i < m * k; i++) x[i] = frand(-2.0f, 2.0f) * (i % 7 == 0 ? 3.0f : 1.0f);
    for (size_t i = 0; i < n * k; i++) w[i] = frand(-0.1f, 0.1f);
    for (size_t i = 0; i < n; i++) bias[i] = frand(-0.5f, 0.5f);
    wt_quantize_rows_int8(w, n, k, w8, ws);
    packed p = pack_or_fail(w8, ws, n, k);
    q->quantize_rows(x, m, k, k, xq, ldq, xs);
    q->gemm(xq, ldq, xs, m, &p.w, bias, ENG_ACT_NONE, y, n);
    double se = 0.0, sy = 0.0, worst = 0.0;
    for (size_t i = 0; i < m; i++) {
        for (size_t c = 0; c < n; c++) {
            double y32 = bias[c], sw_abs = 0.0, sx_abs = 0.0;
            for (size_t j = 0; j < k; j++) {
                y32 += (double)x[i * k + j] * (double)w[c * k + j];
                sw_abs += fabs((double)w[c * k + j]);
                sx_abs += fabs(((double)xq[i * ldq + j] - 128.0) * (double)xs[i]);
            }
            double bound = 0.5 * (double)xs[i] * sw_abs + 0.5 * (double)ws[c] * sx_abs +
                           1e-5 * (1.0 + fabs(y32));
            double d = fabs((double)y[i * n + c] - y32);
            if (!(d <= bound)) {
                print_error("%s M %zu N %zu K %zu: y[%zu][%zu] = %.6g, fp32 %.6g, error %.3g > "
                            "bound %.3g\n",
                            q->isa, m, n, k, i, c, (double)y[i * n + c], y32, d, bound);
                fail();
            }
            se += d * d;
            sy += y32 * y32;
            if (d / bound > worst) worst = d / bound;
        }
    }
    double rel = sqrt(se / sy);
    print_message("%s M %zu N %zu K %zu: RMS error / RMS y = %.4f, max error / bound = %.2f\n",
                  q->isa, m, n, k, rel, worst);
    assert_true(rel < 0.02);
    senti_free_aligned(p.buf);
    free(x), free(w), free(ws), free(xs), free(bias), free(y), free(w8), free(xq);
}

static void test_accuracy_vs_fp32(void **state)
{
    const eng_qgemm_kern *q = simd_or_skip(state);
    run_accuracy(q, 9, 70, 100);
    run_accuracy(q, 16, 768, 768);
    run_accuracy(q, 3, 130, 3072);
}

static void test_accuracy_ref(void **state)
{
    (void)state;
    run_accuracy(eng_qgemm_ref(), 5, 33, 65);
}

static void test_quantize_weights(void **state)
{
    (void)state;
    const float w[2][5] = {{0.5f, -1.0f, 0.25f, 0.0f, 0.0039f}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f}};
    int8_t w8[10];
    float s[2];
    wt_quantize_rows_int8(&w[0][0], 2, 5, w8, s);
    assert_true(s[0] == 1.0f / 127.0f);
    assert_int_equal(w8[1], -127);
    assert_int_equal(w8[0], 64); /* 63.5 rounds half to even */
    assert_int_equal(w8[2], 32); /* 31.75 */
    assert_int_equal(w8[3], 0);
    assert_int_equal(w8[4], 0); /* 0.495 */
    assert_true(s[1] == 0.0f);
    for (int i = 5; i < 10; i++) assert_int_equal(w8[i], 0);
}

static void test_pack_contract(void **state)
{
    (void)state;
    senti_err err = {0};
    eng_qweights qw;
    assert_int_equal(eng_qgemm_packed_size(0, 5), 0);
    assert_int_equal(eng_qgemm_packed_size(5, 0), 0);
    assert_int_equal(eng_qgemm_packed_size(1, SENTI_QGEMM_MAX_K + 1), 0);
    assert_int_equal(eng_qgemm_packed_size(SIZE_MAX / 4, 1000), 0);
    assert_int_equal(eng_qgemm_packed_size(65, 5), 128 * 8 + 128 * 8); /* np 128, kp 8 */
    size_t sz = eng_qgemm_packed_size(2, 3);
    unsigned char *buf = senti_alloc_aligned(sz + 64);
    assert_non_null(buf);
    int8_t w8[6] = {1, 2, 3, -127, 127, -128};
    float s[2] = {1.0f, 2.0f};
    assert_int_equal(eng_qgemm_pack(w8, s, 2, 3, buf, sz, &qw, &err), SENTI_E_INVALID);
    assert_string_equal(err.msg, "qgemm: weight (1, 2) is -128; int8 weights must be in "
                                 "[-127, 127] (quantize with wt_quantize_rows_int8)");
    w8[5] = 5;
    assert_int_equal(eng_qgemm_pack(w8, s, 2, 3, buf, sz - 1, &qw, &err), SENTI_E_INVALID);
    assert_int_equal(eng_qgemm_pack(w8, s, 2, 3, buf + 4, sz, &qw, &err), SENTI_E_INVALID);
    assert_int_equal(eng_qgemm_pack(w8, s, 0, 3, buf, sz, &qw, &err), SENTI_E_INVALID);
    assert_int_equal(eng_qgemm_pack(w8, s, 2, 3, buf, sz, &qw, &err), SENTI_OK);
    assert_int_equal(qw.np, 64);
    assert_int_equal(qw.kp, 4);
    assert_int_equal(qw.comp[0], 128 * 6);
    assert_int_equal(qw.comp[1], 128 * (-127 + 127 + 5));
    assert_int_equal(qw.comp[2], 0);
    assert_true(qw.scale[1] == 2.0f && qw.scale[2] == 0.0f);
    /* channel 1, k 0..3 in bytes 4..7 of the first group */
    assert_int_equal(qw.w[4], -127);
    assert_int_equal(qw.w[6], 5);
    assert_int_equal(qw.w[7], 0);
    senti_free_aligned(buf);
    assert_int_equal(eng_qgemm_act_stride(1), 64);
    assert_int_equal(eng_qgemm_act_stride(768), 768);
    assert_int_equal(eng_qgemm_act_stride(769), 832);
}

static void test_select(void **state)
{
    (void)state;
    senti_err err = {0};
    const eng_qgemm_kern *k = NULL;
    unsetenv("SENTI_ISA");
    assert_int_equal(eng_qgemm_select("ref", &k, &err), SENTI_OK);
    assert_ptr_equal(k, eng_qgemm_ref());
    assert_int_equal(eng_qgemm_select(NULL, &k, &err), SENTI_OK);
    assert_ptr_equal(k, eng_qgemm_avx512()   ? eng_qgemm_avx512()
                        : eng_qgemm_avx2() ? eng_qgemm_avx2()
                                           : eng_qgemm_ref());
    assert_int_equal(eng_qgemm_select("mmx", &k, &err), SENTI_E_INVALID);
    setenv("SENTI_ISA", "ref", 1);
    assert_int_equal(eng_qgemm_select("auto", &k, &err), SENTI_OK);
    assert_ptr_equal(k, eng_qgemm_ref());
    unsetenv("SENTI_ISA");
}

#define PER_SET(fn)                                                                                \
    {#fn "/avx2", fn, NULL, NULL, (void *)&case_avx2},                                             \
        {#fn "/avx512", fn, NULL, NULL, (void *)&case_avx512}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_SET(test_bit_exact),
        PER_SET(test_saturation_worst_case),
        PER_SET(test_accuracy_vs_fp32),
        cmocka_unit_test(test_accuracy_ref),
        cmocka_unit_test(test_quantize_weights),
        cmocka_unit_test(test_pack_contract),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
