/* tests/engine/test_gemm_f32.c - the small-M fp32 kernel (engine/gemm_f32.h):
 * the AVX-512 version against its scalar _ref twin over many shapes, tails in
 * m (rows of 6), n (groups of 4) and k (vectors of 16) included, with strides
 * and with and without bias; tolerance relative to sum |x||w|. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/gemm_f32.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static float frand(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static void run(const eng_f32_kern *kk, size_t m, size_t n, size_t k, int with_bias)
{
    const size_t ldx = k + 3, ldw = k + 1, ldy = n + 2;
    float *x = malloc(m * ldx * sizeof *x), *w = malloc(n * ldw * sizeof *w);
    float *b = malloc(n * sizeof *b), *y1 = malloc(m * ldy * sizeof *y1);
    float *y2 = malloc(m * ldy * sizeof *y2);
    for (size_t i = 0; i < m * ldx; i++) x[i] = frand();
    for (size_t i = 0; i < n * ldw; i++) w[i] = frand();
    for (size_t i = 0; i < n; i++) b[i] = frand();
    for (size_t i = 0; i < m * ldy; i++) y1[i] = y2[i] = 12345.0f; /* untouched padding */
    const float *bias = with_bias ? b : NULL;
    eng_f32_ref()->gemm_nt(x, ldx, m, w, ldw, n, k, bias, y1, ldy);
    kk->gemm_nt(x, ldx, m, w, ldw, n, k, bias, y2, ldy);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double mag = with_bias ? fabs((double)b[j]) : 0.0;
            for (size_t c = 0; c < k; c++) mag += fabs((double)x[i * ldx + c] * (double)w[j * ldw + c]);
            double d = fabs((double)y1[i * ldy + j] - (double)y2[i * ldy + j]);
            if (d > 1e-5 * mag + 1e-6) {
                fprintf(stderr, "m %zu n %zu k %zu bias %d: y[%zu][%zu] ref %.9g got %.9g\n", m,
                        n, k, with_bias, i, j, (double)y1[i * ldy + j], (double)y2[i * ldy + j]);
                fail();
            }
        }
        for (size_t j = n; j < ldy; j++) assert_true(y2[i * ldy + j] == 12345.0f);
    }
    free(x), free(w), free(b), free(y1), free(y2);
}

static void test_shapes(void **state)
{
    (void)state;
    const eng_f32_kern *kk = eng_f32_avx512();
    if (!kk) skip();
    static const size_t ms[] = {1, 2, 3, 5, 6, 7, 8, 12, 13, 32, 63, 64, 97, 128}; /* up to ENG_F32_SMALL_M */
    static const size_t ns[] = {1, 2, 3, 4, 5, 7, 8, 17, 64, 66};
    static const size_t ks[] = {1, 7, 15, 16, 17, 33, 64, 100, 768};
    for (size_t a = 0; a < sizeof ms / sizeof *ms; a++)
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
            for (size_t c = 0; c < sizeof ks / sizeof *ks; c++)
                run(kk, ms[a], ns[b], ks[c], (int)((a + b + c) & 1));
}

/* The ref twin itself against a double-precision product. */
static void test_ref(void **state)
{
    (void)state;
    const size_t m = 3, n = 5, k = 40;
    float x[3 * 40], w[5 * 40], b[5], y[15];
    for (size_t i = 0; i < m * k; i++) x[i] = frand();
    for (size_t i = 0; i < n * k; i++) w[i] = frand();
    for (size_t i = 0; i < n; i++) b[i] = frand();
    eng_f32_ref()->gemm_nt(x, k, m, w, k, n, k, b, y, n);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double want = b[j];
            for (size_t c = 0; c < k; c++) want += (double)x[i * k + c] * (double)w[j * k + c];
            assert_true(fabs(want - (double)y[i * n + j]) < 1e-4);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
