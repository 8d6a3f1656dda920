/* tests/tokenizer/test_fixtures.c - every line of the Hugging Face tokenizer
 * fixtures ($SHARED/fixtures/tokenizer/{sst2_dev,stress,long}.jsonl) is
 * reproduced exactly, ids and tokens; also from two threads sharing one
 * tokenizer. Lines are parsed here with JSON_ALLOW_NUL (some texts hold U+0000,
 * which tu_read_jsonl would skip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/testutil.h"
#include "tokenizer/tokenizer.h"

typedef struct fixture {
    const char *text;
    size_t len;
    int32_t *ids;
    const char **tokens;
    uint32_t n;
} fixture;

typedef struct fixture_set {
    json_t **rows;
    fixture *f;
    size_t n;
} fixture_set;

/* Reads one fixture file; every non-empty line must parse. */
static void load_set(const char *rel, size_t expect_lines, fixture_set *set)
{
    const char *path = tu_shared_path(rel);
    size_t len;
    char *text = tu_read_file(path, &len);
    if (!text) fail_msg("cannot read %s (is SHARED set?)", path);
    size_t cap = expect_lines + 1;
    set->rows = calloc(cap, sizeof *set->rows);
    set->f = calloc(cap, sizeof *set->f);
    set->n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (set->n == cap) fail_msg("%s: more than %zu lines", path, expect_lines);
        json_error_t jerr;
        json_t *j = json_loads(line, JSON_ALLOW_NUL, &jerr);
        if (!j) fail_msg("%s: line %zu: bad JSON: %s", path, set->n + 1, jerr.text);
        json_t *t = json_object_get(j, "text"), *ids = json_object_get(j, "ids"),
               *toks = json_object_get(j, "tokens");
        assert_true(json_is_string(t) && json_is_array(ids) && json_is_array(toks));
        assert_int_equal(json_array_size(ids), json_array_size(toks));
        fixture *f = &set->f[set->n];
        f->text = json_string_value(t);
        f->len = json_string_length(t);
        f->n = (uint32_t)json_array_size(ids);
        f->ids = calloc(f->n, sizeof *f->ids);
        f->tokens = calloc(f->n, sizeof *f->tokens);
        for (uint32_t k = 0; k < f->n; k++) {
            f->ids[k] = (int32_t)json_integer_value(json_array_get(ids, k));
            f->tokens[k] = json_string_value(json_array_get(toks, k));
        }
        set->rows[set->n++] = j;
    }
    free(text);
    assert_int_equal(set->n, expect_lines);
}

static void free_set(fixture_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->f[i].ids);
        free(set->f[i].tokens);
        json_decref(set->rows[i]);
    }
    free(set->f);
    free(set->rows);
}

static tok_tokenizer *make_tok(void)
{
    tok_tokenizer *t = NULL;
    senti_err err = {0};
    tok_options o = tok_options_default();
    if (tok_create_from_vocab_file(tu_shared_path("models/sst2-mini/vocab.txt"), &o, &t, &err))
        fail_msg("%s", err.msg);
    return t;
}

/* Compares one encoding with the fixture; prints the details of a mismatch. */
static bool check_one(const tok_tokenizer *t, const fixture *f, size_t line, const char *name,
                      bool verbose)
{
    int32_t ids[512];
    tok_encoding enc;
    senti_err err = {0};
    senti_status st = tok_encode(t, f->text, f->len, ids, 512, &enc, &err);
    if (st != SENTI_OK) {
        if (verbose) printf("%s:%zu: %s: %s\n", name, line, senti_status_name(st), err.msg);
        return false;
    }
    uint32_t k = 0;
    while (k < enc.n && k < f->n && ids[k] == f->ids[k] &&
           !strcmp(tok_id_to_token(t, ids[k]), f->tokens[k]))
        k++;
    if (k == enc.n && k == f->n) return true;
    if (verbose) {
        printf("%s:%zu: mismatch for text \"%.*s\"\n", name, line, (int)(f->len > 300 ? 300 : f->len),
               f->text);
        printf("  first differing position %u (expected %u ids, got %u)\n", k, f->n, enc.n);
        printf("  expected:");
        for (uint32_t i = 0; i < f->n && i < 40; i++) printf(" %d:%s", f->ids[i], f->tokens[i]);
        printf("\n  got:     ");
        for (uint32_t i = 0; i < enc.n && i < 40; i++) printf(" %d:%s", ids[i], tok_id_to_token(t, ids[i]));
        printf("\n");
    }
    return false;
}

static const struct {
    const char *rel;
    size_t lines;
} sets[] = {
    {"fixtures/tokenizer/sst2_dev.jsonl", 872},
    {"fixtures/tokenizer/stress.jsonl", 3061},
    {"fixtures/tokenizer/long.jsonl", 5},
};

static void test_fixtures_exact(void **state)
{
    (void)state;
    tok_tokenizer *t = make_tok();
    size_t total = 0, bad = 0;
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        fixture_set set;
        load_set(sets[s].rel, sets[s].lines, &set);
        size_t set_bad = 0;
        for (size_t i = 0; i < set.n; i++)
            if (!check_one(t, &set.f[i], i + 1, sets[s].rel, set_bad < 20)) set_bad++;
        printf("%s: %zu lines, %zu mismatches\n", sets[s].rel, set.n, set_bad);
        total += set.n;
        bad += set_bad;
        free_set(&set);
    }
    printf("tokenizer fixtures: %zu lines, %zu mismatches\n", total, bad);
    tok_free(t);
    assert_int_equal(bad, 0);
}

/* The long fixtures really exercise truncation. */
static void test_long_fixtures_truncate(void **state)
{
    (void)state;
    tok_tokenizer *t = make_tok();
    fixture_set set;
    load_set("fixtures/tokenizer/long.jsonl", 5, &set);
    int truncated = 0;
    for (size_t i = 0; i < set.n; i++) {
        int32_t ids[512];
        tok_encoding enc;
        assert_int_equal(tok_encode(t, set.f[i].text, set.f[i].len, ids, 512, &enc, NULL), SENTI_OK);
        assert_true(enc.n <= 512);
        assert_int_equal(ids[enc.n - 1], tok_token_to_id(t, "[SEP]"));
        if (enc.truncated) {
            truncated++;
            assert_int_equal(enc.n, 512);
            assert_true(enc.n_untruncated > 512);
        } else {
            assert_int_equal(enc.n, enc.n_untruncated);
        }
    }
    assert_true(truncated > 0);
    free_set(&set);
    tok_free(t);
}

typedef struct thread_arg {
    const tok_tokenizer *t;
    const fixture_set *set;
    size_t bad;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    int reps = tu_quick() ? 1 : 3;
    for (int rep = 0; rep < reps; rep++)
        for (size_t i = 0; i < a->set->n; i++)
            if (!check_one(a->t, &a->set->f[i], i + 1, "threads", false)) a->bad++;
    return NULL;
}

/* Two threads encode on one shared tokenizer (run under `make tsan` too). */
static void test_shared_across_threads(void **state)
{
    (void)state;
    tok_tokenizer *t = make_tok();
    fixture_set set;
    load_set("fixtures/tokenizer/stress.jsonl", 3061, &set);
    thread_arg args[2] = {{t, &set, 0}, {t, &set, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    assert_int_equal(args[0].bad + args[1].bad, 0);
    free_set(&set);
    tok_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_exact),
        cmocka_unit_test(test_long_fixtures_truncate),
        cmocka_unit_test(test_shared_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
