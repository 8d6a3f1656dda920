/* tests/engine/test_attn.c - the fused attention kernels (engine/attn_*.c,
 * eng_kern.attention): every SIMD set against attn_ref.c, and every set
 * (the reference included) against a naive attention in double.
 *
 * Shapes: T in {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 129,
 * 255, 257, 511, 512} x dh in {1, 3, 8, 16, 24, 64, 80}, row strides larger than
 * dh (ld = dh + 7 for q/k/v, ldc = dh + 5 for ctx) whose extra columns hold NaN
 * on input (must not be read) and a guard value on output (must not be written),
 * q/k/v in buffers of exactly (T - 1) ld + dh floats and scratch of exactly
 * attention_scratch(T, dh) floats (the sanitizer flavour catches overruns).
 *
 * Tolerances (stated once): |got - want| <= ATTN_ABS + ATTN_REL |want| with
 * ATTN_ABS = ATTN_REL = 1e-5, for SIMD vs ref and for any set vs double. Inputs
 * in [-1, 1]; scales 1/sqrt(dh), 0.3 and 1 keep scale * |q.k| below dh, so the
 * float rounding of a score (~dh ulp) stays well inside the tolerance after exp.
 * Measured worst (this machine): printed per test.
 *
 * Exact cases (bit-for-bit): with integer q, k (exact dot products) and V the
 * identity (dh = T), ctx is the softmax matrix itself; it must equal the same
 * set's softmax_rows on the exact scores bit for bit (the fused softmax is
 * softmax_rows' code). Large scores (|q.k| up to 4096 at scale 1) check the
 * max subtraction. Results must not depend on the scratch contents.
 *
 * Query subsets (the forward pass's last layer asks for the [CLS] row only):
 * any run of nq consecutive query rows, copied to a buffer of another stride,
 * must give the full run's rows bit for bit.
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

#include "engine/kern.h"
#include "tests/support/testutil.h"

#define ATTN_ABS 1e-5
#define ATTN_REL 1e-5
#define GUARD 12345.0f

typedef struct kern_case {
    const char *name;
    const eng_kern *(*get)(void);
} kern_case;

static const kern_case case_ref = {"ref", eng_kern_ref};
static const kern_case case_avx2 = {"avx2", eng_kern_avx2};
static const kern_case case_avx512 = {"avx512", eng_kern_avx512};

static const size_t Ts[] = {1,  2,  3,  5,   7,   8,   15,  16,  17,  31, 33,
                            63, 64, 65, 100, 127, 129, 255, 257, 511, 512};
static const size_t dhs[] = {1, 3, 8, 16, 24, 64, 80};

/* The table under test, or skip the test when the CPU lacks the set. */
static const eng_kern *kern_or_skip(void **state)
{
    const kern_case *c = *state;
    const eng_kern *k = c->get();
    if (!k) {
        print_message("[  SKIP    ] kernel set '%s': this CPU does not support it\n", c->name);
        skip();
    }
    assert_string_equal(k->isa, c->name);
    assert_non_null(k->attention);
    assert_non_null(k->attention_scratch);
    return k;
}

static uint32_t rng_state = 0x2545f491u; /* xorshift32, deterministic across runs */
static uint32_t rnd(void) { return tu_rand(&rng_state); }
static float frand(float lo, float hi) { return tu_frand(&rng_state, lo, hi); }

static float *xalloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* (T, dh) matrix of stride ld in exactly (T - 1) ld + dh floats: values from
 * gen, NaN in the columns past dh */
static float *matrix(size_t T, size_t dh, size_t ld, float (*gen)(void))
{
    size_t n = (T - 1) * ld + dh;
    float *m = xalloc(n);
    for (size_t i = 0; i < n; i++) m[i] = i % ld < dh ? gen() : NAN;
    return m;
}
static float gen_unit(void)
{
    return frand(-1.0f, 1.0f);
}
static float gen_int8(void)
{
    return (float)((int)(rnd() % 17u) - 8);
} /* -8..8 */

/* ctx (T, dh) = softmax(scale q k^T) v in double */
static void attn_f64(const float *q, const float *k, const float *v, size_t ld, size_t T, size_t dh,
                     float scale, double *out)
{
    double *s = malloc(T * sizeof *s);
    assert_non_null(s);
    for (size_t i = 0; i < T; i++) {
        double mx = -INFINITY, sum = 0.0;
        for (size_t j = 0; j < T; j++) {
            double dot = 0.0;
            for (size_t d = 0; d < dh; d++) dot += (double)q[i * ld + d] * (double)k[j * ld + d];
            s[j] = dot * (double)scale;
            if (s[j] > mx) mx = s[j];
        }
        for (size_t j = 0; j < T; j++) sum += s[j] = exp(s[j] - mx);
        for (size_t c = 0; c < dh; c++) {
            double acc = 0.0;
            for (size_t j = 0; j < T; j++) acc += s[j] * (double)v[j * ld + c];
            out[i * dh + c] = acc / sum;
        }
    }
    free(s);
}

/* ctx (T, ldc) for one run: guard everywhere, scratch of exactly the size asked
 * for, filled with fill_scratch */
static float *run(const eng_kern *kn, const float *q, const float *k, const float *v, size_t ld,
                  size_t T, size_t dh, float scale, size_t ldc, float fill_scratch)
{
    float *ctx = xalloc(T * ldc);
    for (size_t i = 0; i < T * ldc; i++) ctx[i] = GUARD;
    size_t ns = kn->attention_scratch(T, dh);
    float *scratch = xalloc(ns);
    for (size_t i = 0; i < ns; i++) scratch[i] = fill_scratch;
    kn->attention(q, ld, T, k, v, ld, T, dh, scale, ctx, ldc, scratch);
    free(scratch);
    for (size_t i = 0; i < T; i++)
        for (size_t c = dh; c < ldc; c++)
            if (ctx[i * ldc + c] != GUARD) {
                print_error("%s T %zu dh %zu: ctx[%zu][%zu] written (past dh)\n", kn->isa, T, dh, i,
                            c);
                fail();
            }
    return ctx;
}

/* max |got - want| with |got - want| <= ATTN_ABS + ATTN_REL |want| required;
 * reports the first mismatch and fails */
static double expect_close(const char *what, const eng_kern *kn, size_t T, size_t dh, float scale,
                           const float *got, size_t ldc, const double *want)
{
    double worst = 0.0;
    for (size_t i = 0; i < T; i++)
        for (size_t c = 0; c < dh; c++) {
            double g = (double)got[i * ldc + c], w = want[i * dh + c], d = fabs(g - w);
            if (!(d <= ATTN_ABS + ATTN_REL * fabs(w))) {
                print_error("%s %s T %zu dh %zu scale %g: ctx[%zu][%zu] got %.9g want %.9g "
                            "(diff %.3g)\n",
                            kn->isa, what, T, dh, (double)scale, i, c, g, w, d);
                fail();
            }
            if (d > worst) worst = d;
        }
    return worst;
}

/* Every shape and scale: SIMD vs ref, and vs double; deterministic across
 * scratch contents. */
static void test_shapes(void **state)
{
    const eng_kern *kn = kern_or_skip(state), *ref = eng_kern_ref();
    const bool quick = tu_quick();
    double worst_ref = 0.0, worst_f64 = 0.0;
    size_t cases = 0;
    for (size_t ti = 0; ti < sizeof Ts / sizeof *Ts; ti++)
        for (size_t di = 0; di < sizeof dhs / sizeof *dhs; di++) {
            size_t T = Ts[ti], dh = dhs[di], ld = dh + 7, ldc = dh + 5;
            if (quick && T > 129) continue;
            float scales[3] = {1.0f / sqrtf((float)dh), 0.3f, 1.0f};
            for (int si = 0; si < 3; si++) {
                float scale = scales[si];
                float *q = matrix(T, dh, ld, gen_unit), *k = matrix(T, dh, ld, gen_unit),
                      *v = matrix(T, dh, ld, gen_unit);
                double *want = malloc(T * dh * sizeof *want), *wref = malloc(T * dh * sizeof *wref);
                assert_non_null(want);
                assert_non_null(wref);
                attn_f64(q, k, v, ld, T, dh, scale, want);
                float *got = run(kn, q, k, v, ld, T, dh, scale, ldc, 0.0f);
                double w = expect_close("vs f64", kn, T, dh, scale, got, ldc, want);
                if (w > worst_f64) worst_f64 = w;
                if (kn != ref) {
                    float *r = run(ref, q, k, v, ld, T, dh, scale, ldc, 0.0f);
                    for (size_t i = 0; i < T; i++)
                        for (size_t c = 0; c < dh; c++) wref[i * dh + c] = (double)r[i * ldc + c];
                    w = expect_close("vs ref", kn, T, dh, scale, got, ldc, wref);
                    if (w > worst_ref) worst_ref = w;
                    free(r);
                }
                /* same bits whatever the scratch held before */
                float *again = run(kn, q, k, v, ld, T, dh, scale, ldc, NAN);
                assert_memory_equal(got, again, T * ldc * sizeof *got);
                free(again);
                free(got);
                free(want);
                free(wref);
                free(q);
                free(k);
                free(v);
                cases++;
            }
        }
    print_message("[  INFO    ] %s: %zu cases, max |diff| vs ref %.3g, vs f64 %.3g\n", kn->isa,
                  cases, worst_ref, worst_f64);
}

/* Integer q, k: exact scores. V = identity (dh = T): ctx is the softmax
 * matrix, bit-identical to the same set's softmax_rows of the exact scores. */
static void test_softmax_exact(void **state)
{
    const eng_kern *kn = kern_or_skip(state);
    const size_t sizes[] = {1, 2, 5, 15, 16, 17, 33, 64, 65, 100};
    const float scales[] = {0.125f, 0.3f, 1.0f};
    for (size_t ti = 0; ti < sizeof sizes / sizeof *sizes; ti++)
        for (size_t si = 0; si < sizeof scales / sizeof *scales; si++) {
            size_t T = sizes[ti], dh = T, ld = dh + 3, ldc = dh + 1;
            float scale = scales[si];
            float *q = matrix(T, dh, ld, gen_int8), *k = matrix(T, dh, ld, gen_int8);
            float *v = matrix(T, dh, ld, gen_unit);
            for (size_t j = 0; j < T; j++)
                for (size_t c = 0; c < dh; c++) v[j * ld + c] = j == c ? 1.0f : 0.0f;
            float *sm = xalloc(T * T);
            for (size_t i = 0; i < T; i++)
                for (size_t j = 0; j < T; j++) {
                    float dot = 0.0f; /* exact: |terms| <= 64, sums < 2^24 */
                    for (size_t d = 0; d < dh; d++) dot += q[i * ld + d] * k[j * ld + d];
                    sm[i * T + j] = dot;
                }
            kn->softmax_rows(sm, T, T, T, scale);
            float *got = run(kn, q, k, v, ld, T, dh, scale, ldc, 0.0f);
            for (size_t i = 0; i < T; i++)
                for (size_t j = 0; j < T; j++)
                    if (memcmp(&got[i * ldc + j], &sm[i * T + j], sizeof(float)) != 0) {
                        print_error("%s T %zu scale %g: p[%zu][%zu] %.9g, softmax_rows %.9g\n",
                                    kn->isa, T, (double)scale, i, j, (double)got[i * ldc + j],
                                    (double)sm[i * T + j]);
                        fail();
                    }
            free(got);
            free(sm);
            free(q);
            free(k);
            free(v);
        }
}

/* Scores up to +-4096 (integer q, k at scale 1): exp would overflow without
 * the max subtraction. Checked against double (a score error is 0 here). */
static void test_large_scores(void **state)
{
    const eng_kern *kn = kern_or_skip(state);
    const size_t sizes[] = {1, 7, 16, 33, 64, 129, 257};
    double worst = 0.0;
    for (size_t ti = 0; ti < sizeof sizes / sizeof *sizes; ti++) {
        size_t T = sizes[ti], dh = 64, ld = 3 * dh, ldc = dh;
        float *q = matrix(T, dh, ld, gen_int8), *k = matrix(T, dh, ld, gen_int8);
        float *v = matrix(T, dh, ld, gen_unit);
        /* a key of all 8s: the largest scores, the same key for many queries */
        for (size_t d = 0; d < dh; d++) k[(T / 2) * ld + d] = 8.0f;
        double *want = malloc(T * dh * sizeof *want);
        assert_non_null(want);
        attn_f64(q, k, v, ld, T, dh, 1.0f, want);
        float *got = run(kn, q, k, v, ld, T, dh, 1.0f, ldc, 0.0f);
        for (size_t i = 0; i < T * dh; i++) assert_true(isfinite(got[i]));
        double w = expect_close("large", kn, T, dh, 1.0f, got, ldc, want);
        if (w > worst) worst = w;
        free(want);
        free(got);
        free(q);
        free(k);
        free(v);
    }
    print_message("[  INFO    ] %s: large scores, max |diff| vs f64 %.3g\n", kn->isa, worst);
}

/* A scratch sized for a longer sequence serves a shorter one (the engine sizes
 * it once for max_seq), and q/k/v may be the interleaved rows of one buffer,
 * as in the forward pass (q|k|v per token, stride 3D). */
static void test_engine_layout(void **state)
{
    const eng_kern *kn = kern_or_skip(state), *ref = eng_kern_ref();
    const size_t D = 768, nh = 12, dh = 64, ld = 3 * D, max_seq = 130;
    float scale = 1.0f / sqrtf((float)dh);
    size_t ns = kn->attention_scratch(max_seq, dh);
    assert_true(ns >= kn->attention_scratch(1, dh));
    float *scratch = xalloc(ns), *rs = xalloc(ref->attention_scratch(max_seq, dh));
    for (size_t T = 1; T <= max_seq; T += 43) {
        float *wide = xalloc(T * ld), *ctx = xalloc(T * D), *want = xalloc(T * D);
        for (size_t i = 0; i < T * ld; i++) wide[i] = frand(-2.0f, 2.0f);
        for (size_t h = 0; h < nh; h++) {
            const float *q = wide + h * dh;
            kn->attention(q, ld, T, q + D, q + 2 * D, ld, T, dh, scale, ctx + h * dh, D, scratch);
            ref->attention(q, ld, T, q + D, q + 2 * D, ld, T, dh, scale, want + h * dh, D, rs);
        }
        for (size_t i = 0; i < T * D; i++)
            if (!(fabs((double)ctx[i] - (double)want[i]) <=
                  ATTN_ABS + ATTN_REL * fabs((double)want[i]))) {
                print_error("%s T %zu: ctx[%zu] %.9g ref %.9g\n", kn->isa, T, i, (double)ctx[i],
                            (double)want[i]);
                fail();
            }
        free(wide);
        free(ctx);
        free(want);
    }
    free(scratch);
    free(rs);
}

/* Queries [a, a + nq) of a full run, from a compact copy (stride dh + 2), give
 * the full run's rows bit for bit: a row does not depend on the other queries. */
static void test_query_subset(void **state)
{
    const eng_kern *kn = kern_or_skip(state);
    const size_t sizes[] = {1, 2, 7, 16, 17, 64, 65, 129, 300};
    const size_t heads[] = {8, 24, 64, 80};
    size_t cases = 0;
    for (size_t ti = 0; ti < sizeof sizes / sizeof *sizes; ti++)
        for (size_t hi = 0; hi < sizeof heads / sizeof *heads; hi++) {
            size_t T = sizes[ti], dh = heads[hi], ld = dh + 7, ldc = dh + 5, ldq = dh + 2;
            float scale = 1.0f / sqrtf((float)dh);
            float *q = matrix(T, dh, ld, gen_unit), *k = matrix(T, dh, ld, gen_unit),
                  *v = matrix(T, dh, ld, gen_unit);
            float *full = run(kn, q, k, v, ld, T, dh, scale, ldc, 0.0f);
            /* the first row alone, one in the middle, a run crossing a block of 6
             * rows, the last rows */
            size_t starts[4] = {0, T / 2, T > 9 ? 5 : 0, T > 3 ? T - 3 : 0};
            size_t counts[4] = {1, 1, T > 9 ? 9 : T, T > 3 ? 3 : T};
            for (int c = 0; c < 4; c++) {
                size_t a = starts[c], nq = counts[c];
                float *qs = xalloc(nq * ldq), *got = xalloc(nq * dh);
                size_t ns = kn->attention_scratch(T, dh);
                float *scratch = xalloc(ns);
                for (size_t i = 0; i < ns; i++) scratch[i] = NAN;
                for (size_t i = 0; i < nq; i++)
                    memcpy(qs + i * ldq, q + (a + i) * ld, dh * sizeof *qs);
                kn->attention(qs, ldq, nq, k, v, ld, T, dh, scale, got, dh, scratch);
                for (size_t i = 0; i < nq; i++)
                    if (memcmp(got + i * dh, full + (a + i) * ldc, dh * sizeof *got) != 0) {
                        print_error("%s T %zu dh %zu: queries [%zu, %zu): row %zu differs from "
                                    "the full run\n",
                                    kn->isa, T, dh, a, a + nq, a + i);
                        fail();
                    }
                free(qs);
                free(got);
                free(scratch);
                cases++;
            }
            free(full);
            free(q);
            free(k);
            free(v);
        }
    print_message("[  INFO    ] %s: %zu query subsets bit-identical to the full runs\n", kn->isa,
                  cases);
}

/* one test per kernel set, named e.g. "test_shapes/avx2" */
#define PER_SET(fn)                                                                                \
    {#fn "/ref", fn, NULL, NULL, (void *)&case_ref},                                               \
        {#fn "/avx2", fn, NULL, NULL, (void *)&case_avx2},                                         \
    {                                                                                              \
#fn "/avx512", fn, NULL, NULL, (void *)&case_avx512                                        \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_SET(test_shapes),
        PER_SET(test_softmax_exact),
        PER_SET(test_large_scores),
        PER_SET(test_engine_layout),
        PER_SET(test_query_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
