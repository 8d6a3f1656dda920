/* tests/engine/test_cli.c - the built `senti predict` and `senti eval` on
 * sst2-mini: JSON lines in input order with the reference logits, bad lines
 * reported without stopping, and the SST-2 dev accuracy 698/872.
 * Needs the binary (tu_senti_bin()); `make test` builds it first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/testutil.h"

static char model[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(model, sizeof model, "%s", tu_shared_path("models/sst2-mini"));
    return 0;
}

static void need_binary(void)
{
    if (access(tu_senti_bin(), X_OK) != 0) {
        /* a failure, not a skip: `make test` always builds the binary first */
        fail_msg("%s not built (run 'make bin' or 'make test')", tu_senti_bin());
    }
}

/* Splits output into lines (in place); returns the count. */
static size_t split_lines(char *out, char **lines, size_t cap)
{
    size_t n = 0;
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l && n < cap; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    return n;
}

static void check_result(const char *line, const char *label, double l0, double l1)
{
    json_error_t jerr;
    json_t *j = json_loads(line, 0, &jerr);
    if (!j) fail_msg("not JSON: %s", line);
    const char *got = json_string_value(json_object_get(j, "label"));
    json_t *lg = json_object_get(j, "logits");
    double score = json_number_value(json_object_get(j, "score"));
    if (!got || strcmp(got, label) || json_array_size(lg) != 2) fail_msg("unexpected: %s", line);
    double g0 = json_number_value(json_array_get(lg, 0)),
           g1 = json_number_value(json_array_get(lg, 1));
    if (fabs(g0 - l0) > 1e-4 || fabs(g1 - l1) > 1e-4)
        fail_msg("logits [%g, %g], reference [%g, %g]", g0, g1, l0, l1);
    double hi = g0 > g1 ? g0 : g1, lo = g0 > g1 ? g1 : g0;
    double want_score = 1.0 / (1.0 + exp(lo - hi));
    if (fabs(score - want_score) > 1e-5) fail_msg("score %g, softmax says %g", score, want_score);
    json_decref(j);
}

static void test_predict_arguments(void **state)
{
    (void)state;
    need_binary();
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' predict --model '%s' --threads 1 --batch 2 "
             "\"it 's a charming and often affecting journey . \" "
             "'unflinchingly bleak and desperate ' "
             "\"it 's a charming and often affecting journey . \"",
             tu_senti_bin(), model);
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_non_null(out);
    assert_int_equal(status, 0);
    char *lines[8];
    assert_int_equal(split_lines(out, lines, 8), 3);
    /* logits from shared/fixtures/sst2-mini/dev_logits.jsonl rows 0 and 1 */
    check_result(lines[0], "POSITIVE", -1.7163934, 2.026099);
    check_result(lines[1], "NEGATIVE", 0.2905828, -0.3764316);
    check_result(lines[2], "POSITIVE", -1.7163934, 2.026099);
    free(out);
}

static void test_predict_stdin_jsonl_with_bad_lines(void **state)
{
    (void)state;
    need_binary();
    char *dir = tu_mkdtemp(), path[1200], cmd[16384];
    snprintf(path, sizeof path, "%s/in.jsonl", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("\"unflinchingly bleak and desperate \"\n", f);
    fputs("{not json\n", f);
    fputs("42\n", f);
    fputs("\"it 's a charming and often affecting journey . \"\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' predict --model '%s' --jsonl --threads 1 < '%s' 2>/dev/null",
             tu_senti_bin(), model, path);
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 1);
    char *lines[8];
    assert_int_equal(split_lines(out, lines, 8), 4);
    check_result(lines[0], "NEGATIVE", 0.2905828, -0.3764316);
    assert_non_null(strstr(lines[1], "{\"error\":\"line 2: bad JSON"));
    assert_non_null(strstr(lines[2], "{\"error\":\"line 3: expected a JSON string"));
    check_result(lines[3], "POSITIVE", -1.7163934, 2.026099);
    free(out);

    /* plain lines: invalid UTF-8 on line 2; stderr names the line */
    f = fopen(path, "wb");
    fputs("unflinchingly bleak and desperate \nbad \xff byte\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' predict --model '%s' --threads 1 < '%s' 2>&1 >/dev/null",
             tu_senti_bin(), model, path);
    out = tu_run(cmd, &status);
    assert_int_equal(status, 1);
    if (!strstr(out, "senti predict: line 2: ")) fail_msg("stderr: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' predict --model '%s' --threads 1 < '%s' 2>/dev/null",
             tu_senti_bin(), model, path);
    out = tu_run(cmd, &status);
    assert_int_equal(split_lines(out, lines, 8), 2);
    check_result(lines[0], "NEGATIVE", 0.2905828, -0.3764316);
    assert_non_null(strstr(lines[1], "{\"error\":\"line 2: "));
    free(out);
    tu_rmtree(dir);
    free(dir);
}

static void test_predict_bad_model(void **state)
{
    (void)state;
    need_binary();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' predict --model /nonexistent/model.senti hello 2>&1",
             tu_senti_bin());
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 1);
    if (strncmp(out, "senti predict: ", 15) != 0) fail_msg("got: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' predict hello 2>&1", tu_senti_bin());
    out = tu_run(cmd, &status);
    assert_int_equal(status, 2);
    free(out);
}

/* The loader's other branch: a .senti file (written by `senti convert`) gives
 * the same logits as the Hugging Face directory; a text far past 512 tokens is
 * truncated, not rejected. */
static void test_predict_senti_file_and_long_text(void **state)
{
    (void)state;
    need_binary();
    char *dir = tu_mkdtemp(), cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' convert --hf '%s' --out '%s/m.senti' >/dev/null 2>&1",
             tu_senti_bin(), model, dir);
    int status = -1;
    free(tu_run(cmd, &status));
    assert_int_equal(status, 0);
    snprintf(cmd, sizeof cmd,
             "'%s' predict --model '%s/m.senti' --threads 1 'unflinchingly bleak and desperate ' "
             "\"$(yes 'good movie' | head -n 600 | tr '\\n' ' ')\"",
             tu_senti_bin(), dir);
    char *out = tu_run(cmd, &status), *lines[4];
    assert_int_equal(status, 0);
    assert_int_equal(split_lines(out, lines, 4), 2);
    check_result(lines[0], "NEGATIVE", 0.2905828, -0.3764316);
    assert_non_null(strstr(lines[1], "\"label\":"));
    free(out);
    tu_rmtree(dir);
    free(dir);
}

static void test_eval_sst2_dev(void **state)
{
    (void)state;
    need_binary();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --tsv '%s' --batch 16 2>&1", tu_senti_bin(),
             model, tu_shared_path("data/sst2/dev.tsv"));
    int status = -1;
    char *out = tu_run(cmd, &status);
    printf("%s", out);
    assert_int_equal(status, 0);
    if (!strstr(out, "accuracy 0.8005 (698/872)")) fail_msg("got: %s", out);
    assert_non_null(strstr(out, "NEGATIVE"));
    assert_non_null(strstr(out, "POSITIVE"));
    assert_non_null(strstr(out, "sentences/s"));
    free(out);
}

/* senti bench --json: the correctness check ran and passed, every requested
 * length has a timed row, and RSS after load (the engine's packed weights,
 * before activations) is below the process peak. Times are not judged. */
static void test_bench_json(void **state)
{
    (void)state;
    need_binary();
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' bench --model '%s' --threads 2 --seq 8,20 --batch 1,2 --seconds 0.05 --json",
             tu_senti_bin(), model);
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_non_null(out);
    assert_int_equal(status, 0);
    json_error_t jerr;
    json_t *doc = json_loads(out, 0, &jerr);
    if (!doc) fail_msg("not JSON (%s): %s", jerr.text, out);
    double check = json_real_value(json_object_get(doc, "check_max_diff"));
    assert_true(check >= 0.0 && check <= 1e-3);
    double rss = json_real_value(json_object_get(doc, "rss_after_load_mb"));
    double peak = json_real_value(json_object_get(doc, "peak_rss_mb"));
    assert_true(rss > 1.0 && rss <= peak);
    json_t *res = json_object_get(doc, "results");
    assert_int_equal(json_array_size(res), 4); /* 2 lengths x 2 batch sizes */
    static const int want[4][2] = {{8, 1}, {20, 1}, {8, 2}, {20, 2}};
    for (size_t i = 0; i < 4; i++) {
        json_t *r = json_array_get(res, i);
        int seq = (int)json_integer_value(json_object_get(r, "seq"));
        int batch = (int)json_integer_value(json_object_get(r, "batch"));
        int found = 0;
        for (int k = 0; k < 4; k++) found |= want[k][0] == seq && want[k][1] == batch;
        assert_true(found);
        assert_true(json_real_value(json_object_get(r, "median_ms")) > 0.0);
        assert_true(json_integer_value(json_object_get(r, "runs")) >= 5);
    }
    json_decref(doc);
    free(out);
}

/* convert --dtype int8, then eval the int8 file alone and against the fp32 model;
 * the same for int8-all; an unknown dtype is a usage error. */
static void test_eval_int8_reference(void **state)
{
    (void)state;
    need_binary();
    char *dir = tu_mkdtemp(), path[1200], cmd[16384];
    snprintf(path, sizeof path, "%s/mini8.senti", dir);
    snprintf(cmd, sizeof cmd, "'%s' convert --hf '%s' --dtype int8 --out '%s' 2>&1",
             tu_senti_bin(), model, path);
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --tsv '%s' --reference '%s' 2>&1",
             tu_senti_bin(), path, tu_shared_path("data/sst2/dev.tsv"), model);
    out = tu_run(cmd, &status);
    printf("%s", out);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "accuracy 0.80"));
    assert_non_null(strstr(out, "accuracy 0.8005 (698/872)")); /* the fp32 reference line */
    assert_non_null(strstr(out, "label agreement 99."));
    assert_non_null(strstr(out, "|logit diff| max "));
    free(out);
    /* int8-all quantizes the classifier head too: a smaller file, the same guard */
    char all[1200];
    snprintf(all, sizeof all, "%s/mini8all.senti", dir);
    snprintf(cmd, sizeof cmd, "'%s' convert --hf '%s' --dtype int8-all --out '%s' 2>&1",
             tu_senti_bin(), model, all);
    out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    free(out);
    struct stat s8, sall;
    assert_int_equal(stat(path, &s8), 0);
    assert_int_equal(stat(all, &sall), 0);
    assert_true(sall.st_size < s8.st_size);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --tsv '%s' --reference '%s' 2>&1",
             tu_senti_bin(), all, tu_shared_path("data/sst2/dev.tsv"), model);
    out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "accuracy 0.80"));
    assert_non_null(strstr(out, "label agreement "));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' convert --hf '%s' --dtype int4 --out '%s' 2>&1",
             tu_senti_bin(), model, all);
    out = tu_run(cmd, &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "not supported (f32, int8 or int8-all)"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --tsv '%s' 2>&1", tu_senti_bin(), path,
             tu_shared_path("data/sst2/dev.tsv"));
    out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "sentences/s"));
    assert_null(strstr(out, "label agreement"));
    free(out);
    tu_rmtree(dir);
    free(dir);
}

static void test_eval_bad_rows(void **state)
{
    (void)state;
    need_binary();
    char *dir = tu_mkdtemp(), path[1200], cmd[16384];
    snprintf(path, sizeof path, "%s/bad.tsv", dir);
    FILE *f = fopen(path, "wb");
    fputs("sentence\tlabel\nunflinchingly bleak and desperate \t0\nno label here\n"
          "a gorgeous film\t7\na gorgeous film\tPOSITIVE\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --tsv '%s' 2>&1", tu_senti_bin(), model,
             path);
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 1);
    if (!strstr(out, "bad.tsv:3: ") || !strstr(out, "bad.tsv:4: ") || !strstr(out, "/2)") ||
        !strstr(out, "2 bad rows skipped"))
        fail_msg("got: %s", out);
    free(out);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_predict_arguments),
        cmocka_unit_test(test_predict_stdin_jsonl_with_bad_lines),
        cmocka_unit_test(test_predict_bad_model),
        cmocka_unit_test(test_predict_senti_file_and_long_text),
        cmocka_unit_test(test_eval_sst2_dev),
        cmocka_unit_test(test_eval_bad_rows),
        cmocka_unit_test(test_eval_int8_reference),
        cmocka_unit_test(test_bench_json),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
