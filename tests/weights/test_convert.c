/* tests/weights/test_convert.c - `senti convert` end to end with the built
 * binary: sst2-mini to .senti, loaded back; usage errors exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/testutil.h"
#include "weights/weights.h"

static void need_binary(void)
{
    if (access(tu_senti_bin(), X_OK) != 0) {
        /* A missing binary is a failure, not a skip: `make test` always builds it. */
        fail_msg("no senti binary at %s (build it: make bin)", tu_senti_bin());
    }
}

static void test_convert_sst2_mini(void **state)
{
    (void)state;
    need_binary();
    char *dir = tu_mkdtemp(), cmd[8192], out[4200];
    snprintf(out, sizeof out, "%s/sst2-mini.senti", dir);
    snprintf(cmd, sizeof cmd, "'%s' convert --hf '%s' --out '%s' --level 1 --meta revision=abc 2>&1",
             tu_senti_bin(), tu_shared_path("models/sst2-mini"), out);
    int status = -1;
    char *text = tu_run(cmd, &status);
    if (status != 0) fail_msg("convert exited %d: %s", status, text);
    assert_non_null(strstr(text, "converted 72 tensors, 44.7 MB raw -> "));
    free(text);

    wt_model *m = NULL, *ref = NULL;
    senti_err err = {0};
    if (wt_model_load(out, &m, &err) != SENTI_OK) fail_msg("load: %s", err.msg);
    assert_int_equal(wt_import_hf(tu_shared_path("models/sst2-mini"), &ref, &err), SENTI_OK);
    assert_string_equal(wt_model_meta(m, "revision"), "abc");
    assert_string_equal(wt_model_meta(m, "dtype"), "f32");
    assert_non_null(strstr(wt_model_meta(m, "source"), "sst2-mini"));
    assert_non_null(strstr(wt_model_meta(m, "converter"), "senti "));
    assert_int_equal(strlen(wt_model_file_checksum(m)), 16);
    for (uint32_t i = 0; i < wt_model_tensor_count(ref); i++) {
        const wt_tensor *a = wt_model_tensor_at(ref, i), *b = wt_model_tensor(m, a->name);
        assert_non_null(b);
        assert_memory_equal(a->data, b->data, a->nbytes);
    }
    wt_model_free(ref);
    wt_model_free(m);
    tu_rmtree(dir);
    free(dir);
}

static void test_convert_usage_errors(void **state)
{
    (void)state;
    need_binary();
    const char *bad[] = {
        "convert",
        "convert --hf x",
        "convert --hf x --out y --dtype int4",
        "convert --synthetic base --out y",
        "convert --hf x --out y --level 99",
        "convert --hf x --out y --bogus 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", tu_senti_bin(), bad[i]);
        int status = -1;
        free(tu_run(cmd, &status));
        if (status != 2) fail_msg("'%s' exited %d, want 2", bad[i], status);
    }
    char cmd[4200];
    int status = -1;
    snprintf(cmd, sizeof cmd, "'%s' convert --hf /nonexistent --out /tmp/x.senti 2>&1",
             tu_senti_bin());
    char *text = tu_run(cmd, &status);
    assert_int_equal(status, 1);
    assert_string_equal(text, "senti convert: weights: /nonexistent/config.json: no such file\n");
    free(text);
    snprintf(cmd, sizeof cmd, "'%s' convert --help", tu_senti_bin());
    text = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(text, "usage: senti convert"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convert_sst2_mini),
        cmocka_unit_test(test_convert_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
