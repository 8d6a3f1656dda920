/* tests/engine/test_gemm_f32.c - the packed fp32 kernel (engine/gemm_f32.h):
 * the scalar twin against a double-precision product on the stored (unpacked)
 * weights, then the AVX-512 kernel against the twin, bit for bit (same
 * summation order), over many shapes: tails in m (tiles of 8 rows), n (panels
 * of 48 channels) and any k, strides, with and without bias, and sub-views
 * of whole panels as the engine's threads take them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gemm_f32.h"
#include "tests/support/act_expect.h"
#include "tests/support/testutil.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static float frand(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

typedef struct prob {
    size_t m, n, k, ldx, ldw, ldy;
    float *x, *w, *b, *packed;
    eng_f32_packed pw;
} prob;

static void prob_init(prob *p, size_t m, size_t n, size_t k)
{
    p->m = m, p->n = n, p->k = k;
    p->ldx = k + 3, p->ldw = k + 1, p->ldy = n + 2;
    p->x = malloc(m * p->ldx * sizeof *p->x);
    p->w = malloc(n * p->ldw * sizeof *p->w);
    p->b = malloc(n * sizeof *p->b);
    size_t nf = eng_f32_packed_floats(n, k);
    assert_true(nf >= n * k);
    p->packed = aligned_alloc(64, (nf * sizeof(float) + 63) / 64 * 64);
    assert_non_null(p->x), assert_non_null(p->w), assert_non_null(p->b);
    assert_non_null(p->packed);
    for (size_t i = 0; i < m * p->ldx; i++) p->x[i] = frand();
    for (size_t i = 0; i < n * p->ldw; i++) p->w[i] = frand();
    for (size_t i = 0; i < n; i++) p->b[i] = frand();
    eng_f32_pack(p->w, p->ldw, n, k, p->packed, &p->pw);
    assert_int_equal(p->pw.n, n);
    assert_int_equal(p->pw.k, k);
    assert_int_equal(p->pw.np % ENG_F32_NR, 0);
}

static void prob_free(prob *p)
{
    free(p->x), free(p->w), free(p->b), free(p->packed);
}

static float *out_buf(const prob *p)
{
    float *y = malloc(p->m * p->ldy * sizeof *y);
    assert_non_null(y);
    for (size_t i = 0; i < p->m * p->ldy; i++) y[i] = 12345.0f; /* untouched padding */
    return y;
}

/* kernel vs ref, bit for bit, padding columns untouched */
static void run(const eng_f32_kern *kk, size_t m, size_t n, size_t k, int with_bias)
{
    prob p;
    prob_init(&p, m, n, k);
    float *y1 = out_buf(&p), *y2 = out_buf(&p);
    const float *bias = with_bias ? p.b : NULL;
    eng_f32_ref()->gemm(p.x, p.ldx, m, &p.pw, bias, ENG_ACT_NONE, y1, p.ldy);
    kk->gemm(p.x, p.ldx, m, &p.pw, bias, ENG_ACT_NONE, y2, p.ldy);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++)
            if (memcmp(&y1[i * p.ldy + j], &y2[i * p.ldy + j], sizeof(float)) != 0) {
                fprintf(stderr, "%s m %zu n %zu k %zu bias %d: y[%zu][%zu] ref %.9g got %.9g\n",
                        kk->isa, m, n, k, with_bias, i, j, (double)y1[i * p.ldy + j],
                        (double)y2[i * p.ldy + j]);
                fail();
            }
        for (size_t j = n; j < p.ldy; j++) assert_true(y2[i * p.ldy + j] == 12345.0f);
    }
    /* fused activations: exactly the plain product then the same set's activation */
    for (int a = ENG_ACT_GELU; a <= ENG_ACT_RELU; a++) {
        memcpy(y1, y2, m * p.ldy * sizeof *y1);
        tu_act_rows(kk->isa, (eng_act)a, y1, m, n, p.ldy);
        kk->gemm(p.x, p.ldx, m, &p.pw, bias, (eng_act)a, y2, p.ldy);
        if (memcmp(y1, y2, m * p.ldy * sizeof *y1) != 0) {
            fprintf(stderr, "%s m %zu n %zu k %zu: fused act %d differs\n", kk->isa, m, n, k, a);
            fail();
        }
        kk->gemm(p.x, p.ldx, m, &p.pw, bias, ENG_ACT_NONE, y2, p.ldy);
    }
    free(y1), free(y2);
    prob_free(&p);
}

static const size_t ms[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 64, 100, 129};
static const size_t ns[] = {1, 2, 3, 15, 16, 17, 47, 48, 49, 96, 100, 145};
static const size_t ks[] = {1, 2, 7, 15, 16, 17, 33, 64, 100, 768};

static void test_avx512_vs_ref(void **state)
{
    (void)state;
    const eng_f32_kern *kk = eng_f32_avx512();
    if (!kk) skip();
    for (size_t a = 0; a < sizeof ms / sizeof *ms; a++)
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
            for (size_t c = 0; c < sizeof ks / sizeof *ks; c++)
                run(kk, ms[a], ns[b], ks[c], (int)((a + b + c) & 1));
}

/* The twin (and so the layout) against a double-precision product on the
 * stored weights; tolerance relative to sum |x||w|. */
static void test_ref_vs_double(void **state)
{
    (void)state;
    static const size_t shapes[][3] = {{1, 1, 1},     {3, 5, 40},  {9, 50, 97},
                                       {17, 96, 768}, {2, 2, 768}, {33, 145, 17}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        prob p;
        prob_init(&p, shapes[s][0], shapes[s][1], shapes[s][2]);
        float *y = out_buf(&p);
        eng_f32_ref()->gemm(p.x, p.ldx, p.m, &p.pw, p.b, ENG_ACT_NONE, y, p.ldy);
        for (size_t i = 0; i < p.m; i++)
            for (size_t j = 0; j < p.n; j++) {
                double want = p.b[j], mag = fabs((double)p.b[j]);
                for (size_t c = 0; c < p.k; c++) {
                    double t = (double)p.x[i * p.ldx + c] * (double)p.w[j * p.ldw + c];
                    want += t, mag += fabs(t);
                }
                double d = fabs(want - (double)y[i * p.ldy + j]);
                if (d > 1e-6 * mag + 1e-7) {
                    fprintf(stderr, "ref m %zu n %zu k %zu: y[%zu][%zu] %.9g want %.9g\n", p.m, p.n,
                            p.k, i, j, (double)y[i * p.ldy + j], want);
                    fail();
                }
            }
        free(y);
        prob_free(&p);
    }
}

/* Whole-panel sub-views (how threads split a product) give the same columns. */
static void test_sub_views(void **state)
{
    (void)state;
    const eng_f32_kern *kern[2] = {eng_f32_ref(), eng_f32_avx512()};
    for (int t = 0; t < 2; t++) {
        if (!kern[t]) continue;
        prob p;
        prob_init(&p, 11, 3 * ENG_F32_NR + 5, 70);
        float *whole = out_buf(&p), *parts = out_buf(&p);
        kern[t]->gemm(p.x, p.ldx, p.m, &p.pw, p.b, ENG_ACT_NONE, whole, p.ldy);
        size_t cuts[] = {0, ENG_F32_NR, 3 * ENG_F32_NR, p.n};
        for (int c = 0; c < 3; c++) {
            eng_f32_packed sub = eng_f32_sub(&p.pw, cuts[c], cuts[c + 1]);
            assert_int_equal(sub.n, cuts[c + 1] - cuts[c]);
            kern[t]->gemm(p.x, p.ldx, p.m, &sub, p.b + cuts[c], ENG_ACT_NONE, parts + cuts[c], p.ldy);
        }
        assert_memory_equal(whole, parts, p.m * p.ldy * sizeof(float));
        free(whole), free(parts);
        prob_free(&p);
    }
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(eng_f32_packed_floats(0, 5), 0);
    assert_int_equal(eng_f32_packed_floats(5, 0), 0);
    assert_int_equal(eng_f32_packed_floats(1, 1), ENG_F32_NR);
    assert_int_equal(eng_f32_packed_floats(ENG_F32_NR + 1, 3), 2 * ENG_F32_NR * 3);
    assert_int_equal(eng_f32_packed_floats(SIZE_MAX, 1), 0);
    assert_int_equal(eng_f32_packed_floats(1u << 20, SIZE_MAX / 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avx512_vs_ref),
        cmocka_unit_test(test_ref_vs_double),
        cmocka_unit_test(test_sub_views),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
