/* tests/engine/test_reference.c - the production forward pass (OpenBLAS,
 * packed batch, selected kernels) against the independent scalar reference in
 * tests/support/ref_forward.c, on the full-size synthetic DistilBERT-base and
 * on sst2-mini.
 *
 * Tolerances: logits max |a - b| <= 1e-4; final hidden states elementwise
 * |a - b| <= 1e-4 * max(1, |b|) (b = reference). The reference is slow at full
 * size (about 25 G multiply-adds at 512 tokens), so each length runs once, the
 * production side as a single mixed-length batch. Under tu_quick() (valgrind)
 * only sst2-mini at short lengths runs.
 *
 * The batch runs twice: keeping every token's hidden state (checked), and the
 * default way, whose last layer computes the [CLS] rows only (logits checked
 * against the reference too). */
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
#include "tests/support/ref_forward.h"
#include "tests/support/testutil.h"
#include "weights/weights.h"

#define TOL 1e-4f

/* Deterministic ids: [CLS] (101), words from the whole vocabulary, [SEP] (102). */
static void make_ids(int32_t *ids, uint32_t len, uint32_t vocab, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (uint32_t t = 0; t < len; t++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ids[t] = (int32_t)(x % vocab);
    }
    ids[0] = 101 % (int32_t)vocab;
    if (len > 1) ids[len - 1] = 102 % (int32_t)vocab;
}

static void compare_model(const wt_model *w, const uint32_t *lens, uint32_t n, const char *what)
{
    const wt_config *c = wt_model_config(w);
    uint32_t D = c->dim, L = c->n_labels, max_len = 0;
    for (uint32_t i = 0; i < n; i++) max_len = lens[i] > max_len ? lens[i] : max_len;
    eng_model *m = NULL;
    eng_state *s = NULL;
    senti_err err = {0};
    assert_int_equal(eng_model_create(w, &(eng_options){.threads = 0}, &m, &err), SENTI_OK);
    assert_int_equal(eng_state_create(m, n, max_len, &s, &err), SENTI_OK);
    eng_state_keep_hidden(s, true);

    int32_t **ids = calloc(n, sizeof *ids);
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = calloc(lens[i], sizeof **ids);
        make_ids(ids[i], lens[i], c->vocab_size, 1000u + i);
    }
    float *logits = calloc((size_t)n * L, sizeof *logits), *want = calloc(L, sizeof *want);
    float *cls_logits = calloc((size_t)n * L, sizeof *cls_logits);
    float *want_h = calloc((size_t)max_len * D, sizeof *want_h);
    if (eng_forward(m, s, n, (const int32_t *const *)ids, lens, logits, &err) != SENTI_OK)
        fail_msg("%s: %s", what, err.msg);
    eng_state *sc = NULL; /* the default: the last layer for the [CLS] rows only */
    assert_int_equal(eng_state_create(m, n, max_len, &sc, &err), SENTI_OK);
    if (eng_forward(m, sc, n, (const int32_t *const *)ids, lens, cls_logits, &err) != SENTI_OK)
        fail_msg("%s: %s", what, err.msg);
    eng_state_free(sc);

    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(ref_forward(w, ids[i], lens[i], want, want_h, &err), SENTI_OK);
        float dl = 0.0f, dh = 0.0f, dc = 0.0f;
        for (uint32_t k = 0; k < L; k++) dl = fmaxf(dl, fabsf(logits[i * L + k] - want[k]));
        for (uint32_t k = 0; k < L; k++) dc = fmaxf(dc, fabsf(cls_logits[i * L + k] - want[k]));
        const float *h = eng_state_hidden(s, i);
        size_t bad = 0, first = 0;
        for (size_t j = 0; j < (size_t)lens[i] * D; j++) {
            float d = fabsf(h[j] - want_h[j]), lim = TOL * fmaxf(1.0f, fabsf(want_h[j]));
            dh = fmaxf(dh, d / fmaxf(1.0f, fabsf(want_h[j])));
            if (!(d <= lim) && bad++ == 0) first = j;
        }
        printf("%s: len %4u: max |logit diff| %.3g ([CLS]-only last layer %.3g), max hidden rel "
               "diff %.3g\n",
               what, lens[i], (double)dl, (double)dc, (double)dh);
        if (!(dc <= TOL))
            fail_msg("%s: len %u: [CLS]-only logits differ by %g (got %g, want %g)", what, lens[i],
                     (double)dc, (double)cls_logits[i * L], (double)want[0]);
        if (!(dl <= TOL))
            fail_msg("%s: len %u: logits differ by %g (got %g, want %g)", what, lens[i], (double)dl,
                     (double)logits[i * L], (double)want[0]);
        if (bad)
            fail_msg("%s: len %u: %zu hidden values off; first token %zu dim %zu: got %g want %g",
                     what, lens[i], bad, first / D, first % D, (double)h[first],
                     (double)want_h[first]);
    }
    for (uint32_t i = 0; i < n; i++) free(ids[i]);
    free(ids), free(logits), free(cls_logits), free(want), free(want_h);
    eng_state_free(s);
    eng_model_free(m);
}

static void test_sst2_mini(void **state)
{
    (void)state;
    wt_model *w = NULL;
    senti_err err = {0};
    if (wt_import_hf(tu_shared_path("models/sst2-mini"), &w, &err) != SENTI_OK)
        fail_msg("%s", err.msg);
    static const uint32_t full[] = {1, 7, 64, 512}, quick[] = {1, 7, 20};
    if (tu_quick())
        compare_model(w, quick, 3, "sst2-mini");
    else
        compare_model(w, full, 4, "sst2-mini");
    wt_model_free(w);
}

static void test_synthetic_base(void **state)
{
    (void)state;
    if (tu_quick()) skip(); /* full size under valgrind would take hours */
    wt_model *w = NULL;
    senti_err err = {0};
    const char *vocab =
        tu_shared_path("models/distilbert-base-uncased-finetuned-sst-2-english/vocab.txt");
    if (wt_synthetic_base(42, vocab, &w, &err) != SENTI_OK) fail_msg("%s", err.msg);
    static const uint32_t lens[] = {1, 7, 64, 512};
    compare_model(w, lens, 4, "synthetic-base");
    wt_model_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sst2_mini),
        cmocka_unit_test(test_synthetic_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
