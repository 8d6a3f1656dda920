/* tests/engine/test_kern.c - every SIMD kernel (kern_avx2.c, kern_avx512.c)
 * against its scalar twin in kern_ref.c, over many shapes and every tail.
 *
 * Tolerances (stated once, used everywhere):
 *   add_bias       bit-exact (one add per element in both).
 *   add_layernorm  inputs with mean 3 and sigma ~1.2, gamma in [0.5, 1.5], beta
 *                  in [-0.5, 0.5]. Against the same formula in double (f64):
 *                  |simd - f64| <= 5e-7 kappa |gamma|max, kappa = 1 + |mean|/sigma
 *                  per row (the conditioning of the float two-pass algorithm:
 *                  about 2e-6 for these rows, and it grows for a row whose
 *                  values nearly coincide). Against the reference:
 *                  (5e-7 + 1e-9 dim) kappa |gamma|max, because kern_ref sums in
 *                  float one element after the other, so its own error grows
 *                  with dim (measured 7e-6 at dim 3072 where SIMD stays < 1e-6).
 *   gelu           |simd - ref| <= 1e-6 + 1e-6 |ref|, and the erf-level bound
 *                  |simd - ref| <= 0.5 |x| * 2e-7 + 2 ulp(ref): the two erf
 *                  approximations agree to 2e-7 absolute (each is within
 *                  ~7e-8 of the true erf).
 *   softmax_rows   |simd - ref| <= 1e-6 absolute (outputs are in [0, 1]).
 * A set the CPU lacks is skipped with a printed reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kern.h"
#include "tests/support/testutil.h"

#define LN_TOL 5e-7f
#define LN_REF_PER_DIM 1e-9f
#define GELU_ABS 1e-6f
#define GELU_REL 1e-6f
#define GELU_ERF 2e-7f
#define SOFTMAX_TOL 1e-6f

typedef struct kern_case {
    const char *name;
    const eng_kern *(*get)(void);
} kern_case;

static const kern_case case_avx2 = {"avx2", eng_kern_avx2};
static const kern_case case_avx512 = {"avx512", eng_kern_avx512};

/* The table under test, or skip the test when the CPU lacks the set. */
static const eng_kern *simd_or_skip(void **state)
{
    const kern_case *c = *state;
    const eng_kern *k = c->get();
    if (!k) {
        print_message("[  SKIP    ] kernel set '%s': this CPU does not support it\n", c->name);
        skip();
    }
    assert_string_equal(k->isa, c->name);
    return k;
}

/* xorshift32, deterministic across runs */
static uint32_t rng_state = 0x9e3779b9u;
static float frand(float lo, float hi) { return tu_frand(&rng_state, lo, hi); }
static void fill(float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) x[i] = frand(lo, hi);
}

static float ulpf(float v)
{
    v = fabsf(v);
    return nextafterf(v, INFINITY) - v;
}

/* Max |a - b| over n values with |a - b| <= abs_tol + rel_tol |b| required;
 * reports the first mismatch and fails. NaN must match NaN. */
static float expect_close(const char *what, const float *got, const float *want, size_t n,
                          float abs_tol, float rel_tol)
{
    float worst = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i]) || isnan(got[i])) {
            if (!(isnan(want[i]) && isnan(got[i]))) {
                print_error("%s: [%zu] got %.9g want %.9g\n", what, i, (double)got[i],
                            (double)want[i]);
                fail();
            }
            continue;
        }
        if (got[i] == want[i]) continue;
        float d = fabsf(got[i] - want[i]);
        if (!(d <= abs_tol + rel_tol * fabsf(want[i]))) {
            print_error("%s: [%zu] got %.9g want %.9g (diff %.3g, tol %.3g + %.3g rel)\n", what, i,
                        (double)got[i], (double)want[i], (double)d, (double)abs_tol,
                        (double)rel_tol);
            fail();
        }
        if (d > worst) worst = d;
    }
    return worst;
}

static float *xalloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* ---- add_bias ---------------------------------------------------------- */

static void run_bias(const eng_kern *k, size_t rows, size_t dim)
{
    float *a = xalloc(rows * dim), *b = xalloc(rows * dim), *bias = xalloc(dim);
    fill(a, rows * dim, -3.0f, 3.0f);
    memcpy(b, a, rows * dim * sizeof *a);
    fill(bias, dim, -1.0f, 1.0f);
    k->add_bias(a, bias, rows, dim);
    eng_kern_ref()->add_bias(b, bias, rows, dim);
    assert_memory_equal(a, b, rows * dim * sizeof *a);
    free(a);
    free(b);
    free(bias);
}

static void test_add_bias(void **state)
{
    const eng_kern *k = simd_or_skip(state);
    for (size_t rows = 1; rows <= 5; rows++) {
        for (size_t dim = 1; dim <= 70; dim++) run_bias(k, rows, dim);
        run_bias(k, rows, 768);
        run_bias(k, rows, 3072);
    }
}

/* ---- add_layernorm ----------------------------------------------------- */

/* y = LN(v) * gamma + beta in double from v = (float)(x + r), the rounding
 * every kernel makes first; kappa[i] = 1 + |mean| / sigma of row i, the
 * condition number of the float two-pass algorithm (an error of one ulp in
 * the float mean moves every output by about ulp(mean) / sigma). */
static void layernorm_f64(float *y, float *kappa, const float *x, const float *r, const float *g,
                          const float *b, size_t rows, size_t dim, double eps)
{
    for (size_t i = 0; i < rows; i++) {
        const float *xi = x + i * dim, *ri = r ? r + i * dim : NULL;
        double sum = 0.0, var = 0.0;
#define LN_V(j) ((double)(ri ? xi[j] + ri[j] : xi[j]))
        for (size_t j = 0; j < dim; j++) sum += LN_V(j);
        double mean = sum / (double)dim;
        for (size_t j = 0; j < dim; j++) var += (LN_V(j) - mean) * (LN_V(j) - mean);
        double sigma = sqrt(var / (double)dim + eps);
        for (size_t j = 0; j < dim; j++)
            y[i * dim + j] = (float)((LN_V(j) - mean) / sigma * (double)g[j] + (double)b[j]);
#undef LN_V
        kappa[i] = (float)(1.0 + fabs(mean) / sigma);
    }
}

enum { LN_OUT, LN_ALIAS_X, LN_ALIAS_R, LN_NO_R };

static void run_layernorm(const eng_kern *k, size_t rows, size_t dim, int mode)
{
    size_t n = rows * dim;
    float *x = xalloc(n), *r = xalloc(n), *g = xalloc(dim), *be = xalloc(dim);
    float *want = xalloc(n), *x2 = xalloc(n), *r2 = xalloc(n);
    fill(x, n, -2.0f, 2.0f);
    for (size_t i = 0; i < n; i++) x[i] += 3.0f; /* a mean far from 0 */
    fill(r, n, -1.0f, 1.0f);
    fill(g, dim, 0.5f, 1.5f);
    fill(be, dim, -0.5f, 0.5f);
    memcpy(x2, x, n * sizeof *x);
    memcpy(r2, r, n * sizeof *r);
    const float *rr = mode == LN_NO_R ? NULL : r;
    eng_kern_ref()->add_layernorm(want, x, rr, g, be, rows, dim, 1e-12f);

    float *y = mode == LN_ALIAS_X ? x2 : mode == LN_ALIAS_R ? r2 : xalloc(n);
    k->add_layernorm(y, x2, mode == LN_NO_R ? NULL : r2, g, be, rows, dim, 1e-12f);
    char what[96];
    snprintf(what, sizeof what, "%s add_layernorm rows %zu dim %zu mode %d", k->isa, rows, dim,
             mode);
    float *truth = xalloc(n), kappa[8];
    layernorm_f64(truth, kappa, x, rr, g, be, rows, dim, 1e-12);
    float es = 0.0f, er = 0.0f;
    for (size_t i = 0; i < rows; i++) {
        /* max |gamma| = 1.5 */
        float tol = kappa[i] * LN_TOL * 1.5f;
        float tol_ref = kappa[i] * (LN_TOL + (float)dim * LN_REF_PER_DIM) * 1.5f;
        es = fmaxf(es, expect_close(what, y + i * dim, truth + i * dim, dim, tol, 0.0f) / kappa[i]);
        er = fmaxf(er, expect_close(what, y + i * dim, want + i * dim, dim, tol_ref, 0.0f) / kappa[i]);
    }
    if (dim >= 768 && rows == 5)
        print_message("%s: max |simd - f64| / kappa %.3g, max |simd - ref| / kappa %.3g\n", what,
                      (double)es, (double)er);
    free(truth);
    if (mode == LN_OUT || mode == LN_NO_R) free(y);
    free(x);
    free(r);
    free(g);
    free(be);
    free(want);
    free(x2);
    free(r2);
}

static void test_add_layernorm(void **state)
{
    const eng_kern *k = simd_or_skip(state);
    for (size_t rows = 1; rows <= 5; rows++) {
        for (size_t dim = 1; dim <= 70; dim++) run_layernorm(k, rows, dim, LN_OUT);
        run_layernorm(k, rows, 768, LN_OUT);
        run_layernorm(k, rows, 3072, LN_OUT);
    }
    for (int mode = LN_ALIAS_X; mode <= LN_NO_R; mode++)
        for (size_t dim = 1; dim <= 40; dim++) run_layernorm(k, 3, dim, mode);
    run_layernorm(k, 2, 768, LN_ALIAS_X);
    run_layernorm(k, 2, 768, LN_ALIAS_R);
    run_layernorm(k, 2, 768, LN_NO_R);
}

/* A constant row has zero variance: both give beta (eps keeps it finite). */
static void test_layernorm_constant_row(void **state)
{
    const eng_kern *k = simd_or_skip(state);
    float x[37], g[37], b[37], y[37], want[37];
    for (size_t i = 0; i < 37; i++) x[i] = 2.5f, g[i] = 1.0f, b[i] = (float)i * 0.1f;
    k->add_layernorm(y, x, NULL, g, b, 1, 37, 1e-12f);
    eng_kern_ref()->add_layernorm(want, x, NULL, g, b, 1, 37, 1e-12f);
    expect_close("constant row", y, want, 37, 0.0f, 0.0f);
}

/* ---- gelu -------------------------------------------------------------- */

/* got vs want for inputs x: the GELU tolerance and the erf-level bound. */
static float expect_gelu(const char *what, const float *x, const float *got, const float *want,
                        size_t n)
{
    float worst = expect_close(what, got, want, n, GELU_ABS, GELU_REL);
    float worst_erf = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i]) || got[i] == want[i]) continue;
        float d = fabsf(got[i] - want[i]);
        float bound = 0.5f * fabsf(x[i]) * GELU_ERF + 2.0f * ulpf(want[i]);
        if (!(d <= bound)) {
            print_error("%s: x %.9g got %.9g want %.9g: erf differs by %.3g > %.3g\n", what,
                        (double)x[i], (double)got[i], (double)want[i],
                        (double)(d / (0.5f * fabsf(x[i]))), (double)GELU_ERF);
            fail();
        }
        if (x[i] != 0.0f && d / (0.5f * fabsf(x[i])) > worst_erf)
            worst_erf = d / (0.5f * fabsf(x[i]));
    }
    (void)worst_erf;
    return worst;
}

static void run_gelu(const eng_kern *k, const float *x, size_t n, const char *what)
{
    float *got = xalloc(n + 2), *want = xalloc(n);
    memcpy(got, x, n * sizeof *x);
    got[n] = got[n + 1] = 12345.0f; /* guard: nothing past n is written */
    memcpy(want, x, n * sizeof *x);
    k->gelu(got, n);
    eng_kern_ref()->gelu(want, n);
    float worst = expect_gelu(what, x, got, want, n);
    if (n >= 768) print_message("%s %s (%zu values): max |simd - ref| %.3g\n", k->isa, what, n,
                                (double)worst);
    assert_true(got[n] == 12345.0f && got[n + 1] == 12345.0f);
    free(got);
    free(want);
}

static void test_gelu_shapes(void **state)
{
    const eng_kern *k = simd_or_skip(state);
    float *x = xalloc(3072 * 5);
    for (size_t n = 1; n <= 70; n++) {
        fill(x, n, -6.0f, 6.0f);
        run_gelu(k, x, n, "gelu tail");
    }
    fill(x, 3072 * 5, -8.0f, 8.0f);
    run_gelu(k, x, 768, "gelu 768");
    run_gelu(k, x, 3072 * 5, "gelu 5x3072");
    free(x);
}

/* Every 1/4096 in [-10, 10] plus a geometric sweep from 1e-30 to 10 on both
 * sides: ~290k points through the erf and erfc branches and their seams. */
static void test_gelu_dense_sweep(void **state)
{
    const eng_kern *k = simd_or_skip(state);
    const size_t lin = 20 * 4096 + 1;
    size_t n = lin, cap = lin + 2 * 60000;
    float *x = xalloc(cap);
    for (size_t i = 0; i < lin; i++) x[i] = -10.0f + (float)i / 4096.0f;
    for (float v = 1e-30f; v < 10.0f && n + 2 <= cap; v *= 1.0012f) {
        x[n++] = v;
        x[n++] = -v;
    }
    run_gelu(k, x, n, "gelu sweep");
    free(x);
}

static void test_gelu_extremes(void **state)
{
    const eng_kern *k = simd_or_skip(state);
    const float x[] = {INFINITY, -INFINITY, NAN, -NAN, 0.0f, -0.0f, 1e-45f, -1e-45f,
                       FLT_MIN, -FLT_MIN, 1e-30f, -1e-30f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX,
                       5.656854f, -5.656854f, 1.4142135f, -1.4142135f, 1.4142137f, -1.4142137f,
                       40.0f, -40.0f, 9.0f, -9.0f, 13.0f, -13.0f, 100.0f, -100.0f};
    const size_t n = sizeof x / sizeof x[0];
    float got[sizeof x / sizeof x[0]];
    memcpy(got, x, sizeof x);
    k->gelu(got, n);
    assert_true(isinf(got[0]) && got[0] > 0);           /* gelu(+inf) = +inf */
    assert_true(isnan(got[1]));                         /* -inf * 0, as ref and PyTorch */
    assert_true(isnan(got[2]) && isnan(got[3]));        /* NaN propagates */
    assert_true(got[4] == 0.0f && !signbit(got[4]));    /* +0 */
    assert_true(got[5] == 0.0f && signbit(got[5]));     /* -0 stays -0 */
    assert_true(got[14] == FLT_MAX);                    /* no overflow in 0.5 x * 2 */
    assert_true(got[15] == 0.0f);                       /* tiny negative: underflows to -0 */
    run_gelu(k, x, n, "gelu extremes");
}

/* ---- softmax_rows ------------------------------------------------------ */

static void run_softmax(const eng_kern *k, size_t rows, size_t n, size_t ld, float lo, float hi,
                        float scale)
{
    size_t total = rows * ld;
    float *a = xalloc(total), *b = xalloc(total);
    fill(a, total, lo, hi);
    memcpy(b, a, total * sizeof *a);
    k->softmax_rows(a, rows, n, ld, scale);
    eng_kern_ref()->softmax_rows(b, rows, n, ld, scale);
    char what[96];
    snprintf(what, sizeof what, "%s softmax rows %zu n %zu ld %zu", k->isa, rows, n, ld);
    for (size_t i = 0; i < rows; i++) {
        expect_close(what, a + i * ld, b + i * ld, n, SOFTMAX_TOL, 0.0f);
        /* entries n..ld-1 are not touched */
        assert_memory_equal(a + i * ld + n, b + i * ld + n, (ld - n) * sizeof *a);
        float sum = 0.0f;
        for (size_t j = 0; j < n; j++) sum += a[i * ld + j];
        assert_true(fabsf(sum - 1.0f) <= 1e-5f * (1.0f + (float)n / 64.0f));
    }
    free(a);
    free(b);
}

static void test_softmax_shapes(void **state)
{
    const eng_kern *k = simd_or_skip(state);
    for (size_t n = 1; n <= 600; n++) {
        size_t rows = 1 + n % 3;
        run_softmax(k, rows, n, n + 1 + n % 17, -8.0f, 8.0f, 0.125f);
    }
    for (size_t n = 1; n <= 70; n++) run_softmax(k, 5, n, n, -30.0f, 30.0f, 1.0f);
    run_softmax(k, 4, 512, 512, -100.0f, 100.0f, 1.0f); /* many exps underflow to 0 */
    run_softmax(k, 2, 3072, 3100, -1.0f, 1.0f, 1.0f);
}

/* Masked attention: -inf and huge negative entries give exactly 0; a row
 * with a single live entry gives exactly 1. */
static void test_softmax_masked(void **state)
{
    const eng_kern *k = simd_or_skip(state);
    float a[3 * 40], b[3 * 40];
    fill(a, 3 * 40, -4.0f, 4.0f);
    for (size_t j = 20; j < 37; j++) a[j] = -INFINITY;
    for (size_t j = 40 + 5; j < 40 + 37; j++) a[j] = -1e9f;
    for (size_t j = 80 + 1; j < 80 + 37; j++) a[j] = -INFINITY;
    memcpy(b, a, sizeof a);
    k->softmax_rows(a, 3, 37, 40, 0.125f);
    eng_kern_ref()->softmax_rows(b, 3, 37, 40, 0.125f);
    for (size_t i = 0; i < 3; i++) expect_close("softmax masked", a + i * 40, b + i * 40, 37, SOFTMAX_TOL, 0.0f);
    for (size_t j = 20; j < 37; j++) assert_true(a[j] == 0.0f);
    for (size_t j = 40 + 5; j < 40 + 37; j++) assert_true(a[j] == 0.0f);
    assert_true(a[80] == 1.0f);
}

/* ---- selection --------------------------------------------------------- */

static void test_select(void **state)
{
    (void)state;
    senti_err err = {0};
    const eng_kern *k = NULL;
    unsetenv("SENTI_ISA");
    const eng_kern *best = eng_kern_avx512() ? eng_kern_avx512()
                           : eng_kern_avx2() ? eng_kern_avx2()
                                             : eng_kern_ref();
    assert_int_equal(eng_kern_select(NULL, &k, &err), SENTI_OK);
    assert_ptr_equal(k, best);
    assert_int_equal(eng_kern_select("auto", &k, &err), SENTI_OK);
    assert_ptr_equal(k, best);
    assert_int_equal(eng_kern_select("ref", &k, &err), SENTI_OK);
    assert_ptr_equal(k, eng_kern_ref());
    assert_int_equal(eng_kern_select("sse9", &k, &err), SENTI_E_INVALID);
    assert_string_equal(err.msg,
                        "engine: unknown kernel set 'sse9' (expected auto, ref, avx2 or avx512)");
    if (!eng_kern_avx512()) {
        assert_int_equal(eng_kern_select("avx512", &k, &err), SENTI_E_UNSUPPORTED);
    } else {
        assert_int_equal(eng_kern_select("avx512", &k, &err), SENTI_OK);
        assert_string_equal(k->isa, "avx512");
    }

    /* SENTI_ISA applies when the caller does not force a set */
    setenv("SENTI_ISA", "ref", 1);
    assert_int_equal(eng_kern_select(NULL, &k, &err), SENTI_OK);
    assert_ptr_equal(k, eng_kern_ref());
    assert_int_equal(eng_kern_select("auto", &k, &err), SENTI_OK);
    assert_ptr_equal(k, eng_kern_ref());
    if (eng_kern_avx2()) {
        assert_int_equal(eng_kern_select("avx2", &k, &err), SENTI_OK); /* explicit wins */
        assert_string_equal(k->isa, "avx2");
    }
    setenv("SENTI_ISA", "auto", 1);
    assert_int_equal(eng_kern_select(NULL, &k, &err), SENTI_OK);
    assert_ptr_equal(k, best);
    setenv("SENTI_ISA", "neon", 1);
    assert_int_equal(eng_kern_select(NULL, &k, &err), SENTI_E_INVALID);
    assert_string_equal(err.msg,
                        "engine: unknown SENTI_ISA 'neon' (expected auto, ref, avx2 or avx512)");
    unsetenv("SENTI_ISA");
}

/* one test per kernel set, named e.g. "test_gelu_shapes/avx2" */
#define PER_SET(fn)                                                                                \
    {#fn "/avx2", fn, NULL, NULL, (void *)&case_avx2},                                             \
        {#fn "/avx512", fn, NULL, NULL, (void *)&case_avx512}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_SET(test_add_bias),        PER_SET(test_add_layernorm),
        PER_SET(test_layernorm_constant_row), PER_SET(test_gelu_shapes),
        PER_SET(test_gelu_dense_sweep), PER_SET(test_gelu_extremes),
        PER_SET(test_softmax_shapes),  PER_SET(test_softmax_masked),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
