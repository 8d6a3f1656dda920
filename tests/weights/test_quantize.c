/* tests/weights/test_quantize.c - weights/quantize.c: the row quantizer's
 * contract (scales, rounding, range, zero rows) and the whole-model conversion
 * (which tensors become i8_rowscale, what stays f32, metadata, validation,
 * .senti round trip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "tests/support/testutil.h"
#include "tests/weights/tiny_model.h"

static void test_rows(void **state)
{
    (void)state;
    const float w[3][5] = {
        {0.5f, -1.0f, 0.25f, 0.0f, 1.0f}, /* max 1: q = rint(127 w) */
        {0.0f, 0.0f, 0.0f, 0.0f, 0.0f},   /* zero row: scale 0, q 0 */
        {-2.0f, 1.0f, 0.01f, -0.99f, 2.0f},
    };
    int8_t q[15];
    float s[3];
    wt_quantize_rows_int8(&w[0][0], 3, 5, q, s);
    assert_true(s[0] == 1.0f / 127.0f);
    assert_true(s[1] == 0.0f);
    assert_true(s[2] == 2.0f / 127.0f);
    const int8_t want[15] = {64, -127, 32, 0, 127, 0, 0, 0, 0, 0, -127, 64, 1, -63, 127};
    /* 63.5 rounds half to even: 64; 0.635 -> 1; -62.865 -> -63 */
    assert_memory_equal(q, want, sizeof want);
    for (int i = 0; i < 15; i++) assert_true(q[i] >= -127);
    /* dequantized error is at most half a step per element */
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 5; c++)
            assert_true(fabsf(w[r][c] - (float)q[r * 5 + c] * s[r]) <= 0.5f * s[r] + 1e-7f);
}

static void check_model(const wt_model *src, const wt_model *q8, bool head)
{
    senti_err err = {0};
    assert_int_equal(wt_model_validate(q8, &err), SENTI_OK);
    assert_int_equal(wt_model_tensor_count(q8), wt_model_tensor_count(src));
    assert_int_equal(wt_model_vocab_size(q8), wt_model_vocab_size(src));
    assert_string_equal(wt_model_meta(q8, "dtype"), head ? "int8-all" : "int8");
    for (uint32_t i = 0; i < wt_model_tensor_count(src); i++) {
        const wt_tensor *a = wt_model_tensor_at(src, i), *b = wt_model_tensor(q8, a->name);
        assert_non_null(b);
        bool lin = a->ndim == 2 && strstr(a->name, ".weight") &&
                   (strstr(a->name, "_lin.") || strstr(a->name, "ffn.lin"));
        bool want8 = lin || (head && (strstr(a->name, "classifier.weight") != NULL));
        if (!want8) {
            assert_int_equal(b->dtype, WT_DTYPE_F32);
            assert_memory_equal(a->data, b->data, a->nbytes);
            continue;
        }
        assert_int_equal(b->dtype, WT_DTYPE_I8_ROWSCALE);
        size_t rows = a->shape[0], cols = a->shape[1];
        int8_t *q = malloc(rows * cols);
        float *s = malloc(rows * sizeof *s);
        wt_quantize_rows_int8(a->data, rows, cols, q, s);
        assert_memory_equal(b->data, q, rows * cols);
        assert_memory_equal(b->scales, s, rows * sizeof *s);
        free(q);
        free(s);
    }
}

static void test_model(void **state)
{
    (void)state;
    wt_model *src = tiny_model(NULL, NULL), *q8 = NULL, *all = NULL;
    senti_err err = {0};
    assert_int_equal(wt_model_quantize_int8(src, NULL, &q8, &err), SENTI_OK);
    check_model(src, q8, false);
    assert_int_equal(wt_model_quantize_int8(src, &(wt_quant_opts){.head = true}, &all, &err),
                     SENTI_OK);
    check_model(src, all, true);

    /* through a .senti file: bytes and scales intact */
    char *dir = tu_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/q.senti", dir);
    assert_int_equal(wt_model_save(q8, path, NULL, &err), SENTI_OK);
    wt_model *back = NULL;
    assert_int_equal(wt_model_load(path, &back, &err), SENTI_OK);
    check_model(src, back, false);
    wt_model_free(back);
    tu_rmtree(dir);
    free(dir);
    wt_model_free(all);
    wt_model_free(q8);
    wt_model_free(src);
}

static void test_errors(void **state)
{
    (void)state;
    senti_err err = {0};
    wt_model *out = NULL;
    assert_int_equal(wt_model_quantize_int8(NULL, NULL, &out, &err), SENTI_E_INVALID);
    wt_model *bad = tiny_model("classifier.bias", NULL);
    assert_int_equal(wt_model_quantize_int8(bad, NULL, &out, &err), SENTI_E_MISSING);
    assert_null(out);
    assert_non_null(strstr(err.msg, "classifier.bias"));
    wt_model_free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
