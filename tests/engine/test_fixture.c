/* tests/engine/test_fixture.c - sst2-mini against the PyTorch reference logits
 * (shared/fixtures/sst2-mini/dev_logits.jsonl): from the fixture's ids and from
 * the text through our tokenizer, one at a time and in mixed-length batches;
 * SST-2 dev accuracy must be exactly the reference's 698/872. */
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
#include "tokenizer/tokenizer.h"
#include "weights/weights.h"

#define TOL 1e-4f
#define BATCH 8
#define MAX_SEQ 512
#define WANT_CORRECT 698
#define WANT_ROWS 872

typedef tu_sst2_row row;

typedef struct fx {
    wt_model *w;
    eng_model *m;
    eng_state *s;
    tok_tokenizer *tok;
    size_t n, n_all; /* rows used (fewer under valgrind), rows read */
    row *rows;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    senti_err err = {0};
    tok_options topt = tok_options_default(); /* uncased BERT, 512: as tokenizer_config.json */
    if (wt_import_hf(tu_shared_path("models/sst2-mini"), &f->w, &err) != SENTI_OK ||
        eng_model_create(f->w, &(eng_options){.threads = 1}, &f->m, &err) != SENTI_OK ||
        eng_state_create(f->m, BATCH, MAX_SEQ, &f->s, &err) != SENTI_OK ||
        tok_create_from_vocab_file(tu_shared_path("models/sst2-mini/vocab.txt"), &topt, &f->tok,
                                   &err) != SENTI_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    f->rows = tu_sst2_read(MAX_SEQ, &f->n_all);
    if (!f->rows || f->n_all != WANT_ROWS) {
        fprintf(stderr, "setup: expected %d fixture rows, read %zu\n", WANT_ROWS, f->n_all);
        return -1;
    }
    f->n = tu_quick() ? 4 : f->n_all; /* valgrind: a few rows are enough */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tu_sst2_free(f->rows, f->n_all);
    tok_free(f->tok);
    eng_state_free(f->s);
    eng_model_free(f->m);
    wt_model_free(f->w);
    free(f);
    return 0;
}

static int argmax2(const float *l)
{
    return l[1] > l[0] ? 1 : 0;
}

/* Running comparison against the fixture: max diff, first mismatch, accuracy. */
typedef struct tally {
    float max_diff;
    size_t max_at, correct, bad;
    long first_bad;
    char first_msg[256];
} tally;

static void check_row(tally *t, const fx *f, size_t i, const float *got)
{
    const row *r = &f->rows[i];
    float d = fmaxf(fabsf(got[0] - r->logits[0]), fabsf(got[1] - r->logits[1]));
    if (!(d <= t->max_diff)) t->max_diff = d, t->max_at = i;
    int pred = argmax2(got);
    if (pred == r->label) t->correct++;
    if (!(d <= TOL) || pred != r->pred) {
        if (t->bad++ == 0) {
            t->first_bad = (long)i;
            snprintf(t->first_msg, sizeof t->first_msg,
                     "row %zu (%u ids): got [%.7g, %.7g] want [%.7g, %.7g], pred %d want %d", i,
                     r->len, (double)got[0], (double)got[1], (double)r->logits[0],
                     (double)r->logits[1], pred, r->pred);
        }
    }
}

static void finish(const tally *t, const fx *f, const char *what)
{
    printf("%s: %zu rows, max |logit diff| %.3g (row %zu), accuracy %zu/%zu\n", what, f->n,
           (double)t->max_diff, t->max_at, t->correct, f->n);
    if (t->bad)
        fail_msg("%s: %zu rows off by more than %g or with another label; first: %s", what, t->bad,
                 (double)TOL, t->first_msg);
    if (f->n == WANT_ROWS && t->correct != WANT_CORRECT)
        fail_msg("%s: accuracy %zu/%d, reference %d/%d", what, t->correct, WANT_ROWS, WANT_CORRECT,
                 WANT_ROWS);
}

/* Runs rows [i, i+n) as one batch of ids. */
static void run_batch(fx *f, size_t i, uint32_t n, int32_t *const *ids, const uint32_t *lens,
                      float *logits)
{
    senti_err err = {0};
    senti_status st = eng_forward(f->m, f->s, n, (const int32_t *const *)ids, lens, logits, &err);
    if (st != SENTI_OK) fail_msg("rows %zu..%zu: %s", i, i + n - 1, err.msg);
}

static void test_ids_one_at_a_time(void **state)
{
    fx *f = *state;
    tally t = {0};
    for (size_t i = 0; i < f->n; i++) {
        float got[2];
        run_batch(f, i, 1, &f->rows[i].ids, &f->rows[i].len, got);
        check_row(&t, f, i, got);
    }
    finish(&t, f, "ids, batch 1");
}

/* Batches of 8 consecutive rows: lengths in a batch differ (4..55 tokens). */
static void test_ids_batched(void **state)
{
    fx *f = *state;
    tally t = {0};
    for (size_t i = 0; i < f->n; i += BATCH) {
        uint32_t n = (uint32_t)(f->n - i < BATCH ? f->n - i : BATCH), lens[BATCH];
        int32_t *ids[BATCH];
        float got[BATCH * 2];
        for (uint32_t k = 0; k < n; k++) ids[k] = f->rows[i + k].ids, lens[k] = f->rows[i + k].len;
        run_batch(f, i, n, ids, lens, got);
        for (uint32_t k = 0; k < n; k++) check_row(&t, f, i + k, got + 2 * k);
    }
    finish(&t, f, "ids, batch 8");
}

/* From the text: tokenizer ids must equal the fixture's, then the same logits. */
static void test_text_through_tokenizer(void **state)
{
    fx *f = *state;
    tally t = {0};
    static int32_t ids[BATCH][MAX_SEQ];
    for (size_t i = 0; i < f->n; i += BATCH) {
        uint32_t n = (uint32_t)(f->n - i < BATCH ? f->n - i : BATCH), lens[BATCH];
        int32_t *p[BATCH];
        float got[BATCH * 2];
        for (uint32_t k = 0; k < n; k++) {
            const row *r = &f->rows[i + k];
            tok_encoding enc;
            senti_err err = {0};
            if (tok_encode(f->tok, r->text, strlen(r->text), ids[k], MAX_SEQ, &enc, &err) !=
                SENTI_OK)
                fail_msg("row %zu: tokenizer: %s", i + k, err.msg);
            if (enc.n != r->len || memcmp(ids[k], r->ids, r->len * sizeof(int32_t)) != 0)
                fail_msg("row %zu: tokenizer gives %u ids, fixture %u (or different ids)", i + k,
                         enc.n, r->len);
            p[k] = ids[k], lens[k] = enc.n;
        }
        run_batch(f, i, n, p, lens, got);
        for (uint32_t k = 0; k < n; k++) check_row(&t, f, i + k, got + 2 * k);
    }
    finish(&t, f, "text, batch 8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_one_at_a_time),
        cmocka_unit_test(test_ids_batched),
        cmocka_unit_test(test_text_through_tokenizer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
