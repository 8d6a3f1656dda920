/* tests/weights/test_synthetic.c - the deterministic DistilBERT-base checkpoint,
 * and its Hugging Face export read back by the importer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/testutil.h"
#include "weights/weights.h"

#define VOCAB "models/distilbert-base-uncased-finetuned-sst-2-english/vocab.txt"

static void stats(const wt_tensor *t, double *mean, double *std)
{
    const float *x = t->data;
    uint64_t n = t->nbytes / 4;
    double s = 0, s2 = 0;
    for (uint64_t i = 0; i < n; i++) {
        double v = (double)x[i];
        s += v, s2 += v * v;
    }
    *mean = s / (double)n;
    *std = sqrt(s2 / (double)n - *mean * *mean);
}

static void test_synthetic_base(void **state)
{
    (void)state;
    if (tu_quick()) skip(); /* 268 MB */
    wt_model *m = NULL;
    senti_err err = {0};
    if (wt_synthetic_base(42, tu_shared_path(VOCAB), &m, &err) != SENTI_OK)
        fail_msg("synthetic: %s", err.msg);
    const wt_config *c = wt_model_config(m);
    assert_int_equal(c->dim, 768);
    assert_int_equal(c->n_layers, 6);
    assert_int_equal(c->n_heads, 12);
    assert_int_equal(c->hidden_dim, 3072);
    assert_int_equal(c->vocab_size, 30522);
    assert_int_equal(c->max_positions, 512);
    assert_string_equal(c->labels[1], "POSITIVE");
    assert_int_equal(wt_model_tensor_count(m), 104);
    assert_int_equal(wt_model_vocab_size(m), 30522);
    assert_string_equal(wt_model_vocab_token(m, 2054), "what");
    assert_int_equal(wt_model_validate(m, &err), SENTI_OK);
    uint64_t params = 0;
    for (uint32_t i = 0; i < wt_model_tensor_count(m); i++)
        params += wt_model_tensor_at(m, i)->nbytes / 4;
    assert_int_equal(params, 66955010);

    double mean, std;
    stats(wt_model_tensor(m, "distilbert.embeddings.word_embeddings.weight"), &mean, &std);
    assert_true(fabs(mean) < 1e-4 && fabs(std - 0.02) < 2e-4);
    stats(wt_model_tensor(m, "distilbert.transformer.layer.5.ffn.lin1.weight"), &mean, &std);
    assert_true(fabs(mean) < 1e-4 && fabs(std - 0.02) < 2e-4);
    stats(wt_model_tensor(m, "distilbert.transformer.layer.2.sa_layer_norm.weight"), &mean, &std);
    assert_true(fabs(mean - 1.0) < 0.005 && fabs(std - 0.02) < 0.003);
    stats(wt_model_tensor(m, "distilbert.transformer.layer.2.ffn.lin1.bias"), &mean, &std);
    assert_true(fabs(std - 0.002) < 0.0002);

    /* Pinned values: the generator is specified in FORMAT.md and must not drift. */
    const float *w = wt_model_tensor(m, "classifier.weight")->data;
    char got[128];
    snprintf(got, sizeof got, "%.9g %.9g %.9g", (double)w[0], (double)w[1], (double)w[1535]);
    assert_string_equal(got, "-0.00223697792 -0.0128200678 -0.00217166916");

    /* same seed, same bytes; export + import gives identical tensors */
    char *dir = tu_mkdtemp();
    assert_int_equal(wt_export_hf(m, dir, &err), SENTI_OK);
    wt_model *back = NULL;
    if (wt_import_hf(dir, &back, &err) != SENTI_OK) fail_msg("import: %s", err.msg);
    assert_memory_equal(wt_model_config(back), c, sizeof *c);
    for (uint32_t i = 0; i < wt_model_tensor_count(m); i++) {
        const wt_tensor *a = wt_model_tensor_at(m, i), *b = wt_model_tensor(back, a->name);
        assert_non_null(b);
        assert_int_equal(a->nbytes, b->nbytes);
        assert_memory_equal(a->data, b->data, a->nbytes);
    }
    for (uint32_t i = 0; i < 30522; i++)
        assert_string_equal(wt_model_vocab_token(back, i), wt_model_vocab_token(m, i));
    wt_model_free(back);
    tu_rmtree(dir);
    free(dir);
    wt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
