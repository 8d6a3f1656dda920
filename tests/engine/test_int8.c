/* tests/engine/test_int8.c - the int8 path end to end on sst2-mini, quantized
 * in memory (wt_model_quantize_int8): SST-2 dev accuracy within 0.5 points of
 * fp32 (698/872), labels agree on >= 99% of the 872 rows, |logit diff| printed
 * (for the default int8 model and for int8-all, whose classifier head is int8 too);
 * a .senti round trip of the int8 model gives identical logits; the thread
 * count does not change int8 results; mixed dtypes are rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "tests/support/sst2_fixture.h"
#include "tests/support/testutil.h"
#include "weights/weights.h"

#define BATCH 8
#define MAX_SEQ 128
#define WANT_ROWS 872
#define FP32_CORRECT 698

typedef tu_sst2_row row;

typedef struct fx {
    wt_model *w, *w8, *w8all;
    size_t n;
    row *rows;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    senti_err err = {0};
    if (wt_import_hf(tu_shared_path("models/sst2-mini"), &f->w, &err) != SENTI_OK ||
        wt_model_quantize_int8(f->w, NULL, &f->w8, &err) != SENTI_OK ||
        wt_model_quantize_int8(f->w, &(wt_quant_opts){.head = true}, &f->w8all, &err) !=
            SENTI_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    f->rows = tu_sst2_read(MAX_SEQ, &f->n);
    if (!f->rows || f->n != WANT_ROWS) {
        fprintf(stderr, "setup: expected %d fixture rows, read %zu\n", WANT_ROWS, f->n);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tu_sst2_free(f->rows, f->n);
    wt_model_free(f->w8);
    wt_model_free(f->w8all);
    wt_model_free(f->w);
    free(f);
    return 0;
}

/* logits (n rows x 2) of the first n fixture rows, in batches of BATCH */
static float *run_all(const wt_model *w, const eng_options *o, const fx *f, size_t n)
{
    senti_err err = {0};
    eng_model *m = NULL;
    eng_state *s = NULL;
    assert_int_equal(eng_model_create(w, o, &m, &err), SENTI_OK);
    assert_int_equal(eng_state_create(m, BATCH, MAX_SEQ, &s, &err), SENTI_OK);
    float *out = calloc(n * 2, sizeof *out);
    for (size_t i = 0; i < n; i += BATCH) {
        uint32_t k = (uint32_t)(n - i < BATCH ? n - i : BATCH), lens[BATCH];
        const int32_t *ids[BATCH];
        for (uint32_t j = 0; j < k; j++) ids[j] = f->rows[i + j].ids, lens[j] = f->rows[i + j].len;
        assert_int_equal(eng_forward(m, s, k, ids, lens, out + 2 * i, &err), SENTI_OK);
    }
    eng_state_free(s);
    eng_model_free(m);
    return out;
}

static int argmax2(const float *l)
{
    return l[1] > l[0] ? 1 : 0;
}

/* The accuracy guard for one int8 model against the fp32 logits l32. */
static void accuracy_guard(const fx *f, const wt_model *w8, const char *what, const float *l32,
                           size_t n)
{
    float *l8 = run_all(w8, &(eng_options){.threads = 1}, f, n);
    size_t c32 = 0, c8 = 0, agree = 0;
    double maxd = 0, sumd = 0;
    for (size_t i = 0; i < n; i++) {
        int p32 = argmax2(l32 + 2 * i), p8 = argmax2(l8 + 2 * i);
        c32 += p32 == f->rows[i].label;
        c8 += p8 == f->rows[i].label;
        agree += p32 == p8;
        for (int k = 0; k < 2; k++) {
            double d = fabs((double)l32[2 * i + k] - (double)l8[2 * i + k]);
            maxd = fmax(maxd, d);
            sumd += d;
        }
    }
    printf("%s vs fp32 on %zu SST-2 dev rows: fp32 accuracy %zu/%zu (%.2f%%), %s %zu/%zu "
           "(%.2f%%), labels agree %zu/%zu (%.2f%%), |logit diff| max %.4f mean %.4f\n",
           what, n, c32, n, 100.0 * (double)c32 / (double)n, what, c8, n,
           100.0 * (double)c8 / (double)n,
           agree, n, 100.0 * (double)agree / (double)n, maxd, sumd / (double)(2 * n));
    if (n == f->n) {
        assert_int_equal(c32, FP32_CORRECT);
        /* within 0.5 points: |c8 - c32| / 872 <= 0.005 */
        assert_true(fabs((double)c8 - (double)c32) <= 0.005 * (double)n);
        assert_true((double)agree >= 0.99 * (double)n);
    }
    free(l8);
}

static void test_accuracy_vs_fp32(void **state)
{
    fx *f = *state;
    size_t n = tu_quick() ? 16 : f->n;
    float *l32 = run_all(f->w, &(eng_options){.threads = 1}, f, n);
    accuracy_guard(f, f->w8, "int8", l32, n);
    accuracy_guard(f, f->w8all, "int8-all", l32, n);
    const wt_tensor *h = wt_model_tensor(f->w8all, "pre_classifier.weight");
    assert_int_equal(h->dtype, WT_DTYPE_I8_ROWSCALE);
    assert_string_equal(wt_model_meta(f->w8all, "dtype"), "int8-all");
    free(l32);
}

/* The int8 model through a .senti file gives the same logits bit for bit. */
static void test_round_trip(void **state)
{
    fx *f = *state;
    size_t n = tu_quick() ? 8 : 64;
    char *dir = tu_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/int8.senti", dir);
    senti_err err = {0};
    assert_int_equal(wt_model_save(f->w8, path, NULL, &err), SENTI_OK);
    wt_model *back = NULL;
    assert_int_equal(wt_model_load(path, &back, &err), SENTI_OK);
    const wt_tensor *t = wt_model_tensor(back, "distilbert.transformer.layer.0.ffn.lin1.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, WT_DTYPE_I8_ROWSCALE);
    assert_string_equal(wt_model_meta(back, "dtype"), "int8");
    float *a = run_all(f->w8, &(eng_options){.threads = 1}, f, n);
    float *b = run_all(back, &(eng_options){.threads = 1}, f, n);
    assert_memory_equal(a, b, n * 2 * sizeof *a);
    free(a);
    free(b);
    wt_model_free(back);
    tu_rmtree(dir);
    free(dir);
}

/* Splitting the work over threads changes int8 results by float rounding at
 * most (qgemm splits by output channel, quantization by row, attention by head;
 * OpenBLAS may sum a column subset in another order), and every kernel set agrees
 * with the reference closely (not exactly: fp32 kernels differ in the last bits,
 * and a flipped activation rounding moves a logit by ~1e-3). */
static void test_threads_and_isa(void **state)
{
    fx *f = *state;
    size_t n = tu_quick() ? 8 : 48;
    float *one = run_all(f->w8, &(eng_options){.threads = 1}, f, n);
    float *two = run_all(f->w8, &(eng_options){.threads = 2}, f, n);
    float *ref = run_all(f->w8, &(eng_options){.threads = 1, .isa = "ref"}, f, n);
    double maxd = 0;
    for (size_t i = 0; i < 2 * n; i++) maxd = fmax(maxd, fabs((double)one[i] - (double)two[i]));
    printf("int8 1 vs 2 threads: max |logit diff| %.3g over %zu rows\n", maxd, n);
    assert_true(maxd < 1e-4);
    maxd = 0;
    for (size_t i = 0; i < 2 * n; i++) maxd = fmax(maxd, fabs((double)one[i] - (double)ref[i]));
    printf("int8 auto vs ref kernels: max |logit diff| %.3g over %zu rows\n", maxd, n);
    assert_true(maxd < 0.05);
    free(one);
    free(two);
    free(ref);
}

/* q_lin int8 but k_lin f32 in one layer: a specific error, not a crash. */
static void test_mixed_qkv_rejected(void **state)
{
    fx *f = *state;
    senti_err err = {0};
    wt_model *mix = NULL;
    assert_int_equal(wt_model_create(wt_model_config(f->w8), &mix, &err), SENTI_OK);
    const char **toks = calloc(wt_model_vocab_size(f->w8), sizeof *toks);
    for (uint32_t i = 0; i < wt_model_vocab_size(f->w8); i++)
        toks[i] = wt_model_vocab_token(f->w8, i);
    assert_int_equal(wt_model_set_vocab(mix, toks, wt_model_vocab_size(f->w8), &err), SENTI_OK);
    free(toks);
    const char *k0 = "distilbert.transformer.layer.0.attention.k_lin.weight";
    for (uint32_t i = 0; i < wt_model_tensor_count(f->w8); i++) {
        const wt_tensor *t = wt_model_tensor_at(f->w8, i);
        if (!strcmp(t->name, k0)) t = wt_model_tensor(f->w, k0);
        assert_int_equal(wt_model_add_tensor(mix, t->name, t->dtype, t->ndim, t->shape, t->data,
                                             t->nbytes, &err),
                         SENTI_OK);
    }
    eng_model *m = NULL;
    assert_int_equal(eng_model_create(mix, NULL, &m, &err), SENTI_E_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(err.msg, "layer 0: q_lin, k_lin and v_lin weights must share one dtype"));
    wt_model_free(mix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy_vs_fp32),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_threads_and_isa),
        cmocka_unit_test(test_mixed_qkv_rejected),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
