/* tests/weights/test_hf_import.c - Hugging Face import/export, safetensors
 * parsing, validation messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/testutil.h"
#include "tests/weights/tiny_model.h"

static void test_import_sst2_mini(void **state)
{
    (void)state;
    wt_model *m = NULL;
    senti_err err = {0};
    senti_status st = wt_import_hf(tu_shared_path("models/sst2-mini"), &m, &err);
    if (st != SENTI_OK) fail_msg("import: %s", err.msg);
    const wt_config *c = wt_model_config(m);
    assert_string_equal(c->architecture, "DistilBertForSequenceClassification");
    assert_int_equal(c->dim, 256);
    assert_int_equal(c->n_layers, 4);
    assert_int_equal(c->n_heads, 4);
    assert_int_equal(c->hidden_dim, 1024);
    assert_int_equal(c->vocab_size, 30522);
    assert_int_equal(c->max_positions, 512);
    assert_int_equal(c->n_labels, 2);
    assert_string_equal(c->labels[0], "NEGATIVE");
    assert_string_equal(c->labels[1], "POSITIVE");
    assert_true(c->ln_eps == 1e-12f);
    assert_int_equal(c->activation, WT_ACT_GELU);
    assert_true(c->tok.do_lower_case);
    assert_true(c->tok.strip_accents); /* null follows do_lower_case */
    assert_true(c->tok.tokenize_chinese_chars);
    assert_int_equal(c->tok.max_length, 512);
    assert_string_equal(c->tok.unk_token, "[UNK]");
    assert_string_equal(c->tok.cls_token, "[CLS]");
    assert_int_equal(wt_model_vocab_size(m), 30522);
    assert_string_equal(wt_model_vocab_token(m, 0), "[PAD]");
    assert_string_equal(wt_model_vocab_token(m, 101), "[CLS]");
    assert_string_equal(wt_model_vocab_token(m, 30521), "##\xef\xbd\x9e");
    assert_null(wt_model_vocab_token(m, 30522));
    assert_int_equal(wt_model_tensor_count(m), 4 + 4 * 16 + 4);

    const wt_tensor *t = wt_model_tensor(m, "classifier.bias");
    assert_non_null(t);
    assert_int_equal(t->ndim, 1);
    assert_int_equal(t->shape[0], 2);
    assert_true(((const float *)t->data)[0] == 0.0012623233487829566f);
    assert_true(((const float *)t->data)[1] == -0.001262323814444244f);
    t = wt_model_tensor(m, "distilbert.transformer.layer.3.ffn.lin1.weight");
    assert_non_null(t);
    assert_int_equal(t->shape[0], 1024);
    assert_int_equal(t->shape[1], 256);
    assert_int_equal(t->nbytes, 1024 * 256 * 4);
    assert_int_equal((uintptr_t)t->data % 64, 0);
    assert_true(((const float *)t->data)[1000] == 0.02376813441514969f);
    t = wt_model_tensor(m, "distilbert.embeddings.word_embeddings.weight");
    assert_true(((const float *)t->data)[2054 * 256 + 7] == 1.5917255950625986e-05f);
    assert_null(wt_model_tensor(m, "vocab_projector.weight"));
    assert_null(wt_model_tensor(m, "distilbert.transformer.layer.4.ffn.lin1.weight"));
    assert_int_equal(wt_model_validate(m, &err), SENTI_OK);
    wt_model_free(m);
}

/* Writes the tiny model (missing / mis-shaped tensor) as an HF dir, imports it. */
static senti_status import_tiny(const char *skip, const char *bad, senti_err *err)
{
    wt_model *m = tiny_model(skip, bad), *back = NULL;
    assert_non_null(m);
    char *dir = tu_mkdtemp();
    assert_int_equal(wt_export_hf(m, dir, err), SENTI_OK);
    senti_status st = wt_import_hf(dir, &back, err);
    if (st == SENTI_OK) {
        assert_int_equal(wt_model_tensor_count(back), wt_model_tensor_count(m));
        for (uint32_t i = 0; i < wt_model_tensor_count(m); i++) {
            const wt_tensor *a = wt_model_tensor_at(m, i), *b = wt_model_tensor(back, a->name);
            assert_non_null(b);
            assert_int_equal(a->nbytes, b->nbytes);
            assert_memory_equal(a->data, b->data, a->nbytes);
        }
        for (uint32_t i = 0; i < 16; i++)
            assert_string_equal(wt_model_vocab_token(back, i), tiny_vocab[i]);
        assert_memory_equal(wt_model_config(back)->labels, wt_model_config(m)->labels,
                            sizeof wt_model_config(m)->labels);
        assert_int_equal(wt_model_config(back)->tok.max_length, 8);
    }
    wt_model_free(back);
    wt_model_free(m);
    tu_rmtree(dir);
    free(dir);
    return st;
}

static void test_export_import_round_trip(void **state)
{
    (void)state;
    senti_err err = {0};
    senti_status st = import_tiny(NULL, NULL, &err);
    if (st != SENTI_OK) fail_msg("%s", err.msg);
}

static void test_missing_tensor(void **state)
{
    (void)state;
    senti_err err = {0};
    assert_int_equal(import_tiny("distilbert.transformer.layer.0.attention.v_lin.bias", NULL, &err),
                     SENTI_E_MISSING);
    assert_string_equal(err.msg, "weights: tensor 'distilbert.transformer.layer.0.attention."
                                 "v_lin.bias' is missing (required by "
                                 "DistilBertForSequenceClassification)");
}

static void test_misshaped_tensor(void **state)
{
    (void)state;
    senti_err err = {0};
    assert_int_equal(import_tiny(NULL, "distilbert.transformer.layer.0.ffn.lin1.weight", &err),
                     SENTI_E_SHAPE);
    assert_string_equal(err.msg, "weights: tensor 'distilbert.transformer.layer.0.ffn.lin1.weight"
                                 "': shape [16, 7], expected [16, 8] (hidden_dim x dim from "
                                 "config.json)");
}

/* --- safetensors parser on hand-made buffers ------------------------------- */
static size_t make_st(uint8_t *buf, const char *json, const void *data, size_t n)
{
    size_t h = strlen(json);
    wt_put_u64(buf, h);
    memcpy(buf + 8, json, h);
    memcpy(buf + 8 + h, data, n);
    return 8 + h + n;
}

static void test_safetensors_half_floats(void **state)
{
    (void)state;
    /* f16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), 2^-14 - 2^-24, inf */
    uint16_t h[6] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x7c00};
    uint16_t b[2] = {0x3f80, 0xc0a0}; /* bf16 1.0, -5.0 */
    uint8_t data[16];
    memcpy(data, h, 12);
    memcpy(data + 12, b, 4);
    uint8_t buf[512];
    size_t len = make_st(buf, "{\"__metadata__\":{\"format\":\"pt\"},"
                              "\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
                              "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]}}",
                         data, 16);
    wt_st_file f;
    senti_err err = {0};
    assert_int_equal(wt_st_parse(buf, len, "t", &f, &err), SENTI_OK);
    assert_int_equal(f.n, 2);
    float out[6];
    assert_int_equal(wt_st_to_f32(&f, &f.tensors[0], out, &err), SENTI_OK);
    assert_true(out[0] == 1.0f && out[1] == -2.0f && out[2] == 65504.0f);
    assert_true(out[3] == ldexpf(1.0f, -24));
    assert_true(out[4] == ldexpf(1.0f, -14) - ldexpf(1.0f, -24));
    assert_true(isinf(out[5]) && out[5] > 0);
    assert_int_equal(wt_st_to_f32(&f, &f.tensors[1], out, &err), SENTI_OK);
    assert_true(out[0] == 1.0f && out[1] == -5.0f);
    wt_st_free(&f);
}

static void expect_st_error(const char *json, size_t data_len, senti_status code,
                            const char *msg)
{
    uint8_t buf[1024], data[64] = {0};
    size_t len = make_st(buf, json, data, data_len);
    wt_st_file f;
    senti_err err = {0};
    assert_int_equal(wt_st_parse(buf, len, "t.safetensors", &f, &err), code);
    assert_string_equal(err.msg, msg);
}

static void test_safetensors_errors(void **state)
{
    (void)state;
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                    16, SENTI_E_FORMAT,
                    "t.safetensors: tensors 'a' and 'b' overlap (bytes 0..8 and 4..12)");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                    SENTI_E_SHAPE, "t.safetensors: tensor 'a': 8 bytes of data, but its F32 "
                                   "shape needs 12");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
                    SENTI_E_TRUNCATED, "t.safetensors: tensor 'a': data ends at byte 16 of a "
                                       "8-byte data section; the file is truncated");
    expect_st_error("{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
                    SENTI_E_UNSUPPORTED, "t.safetensors: tensor 'a': unknown dtype 'C64'");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}, \"a\":1}",
                    8, SENTI_E_FORMAT,
                    "t.safetensors: header JSON: duplicate object key near '\"a\"' (byte 58)");

    uint8_t buf[16];
    wt_put_u64(buf, (uint64_t)SENTI_MAX_SAFETENSORS_HEADER + 1);
    wt_st_file f;
    senti_err err = {0};
    assert_int_equal(wt_st_parse(buf, 16, "x", &f, &err), SENTI_E_LIMIT);
    wt_put_u64(buf, 100);
    assert_int_equal(wt_st_parse(buf, 16, "x", &f, &err), SENTI_E_TRUNCATED);
    assert_string_equal(err.msg, "x: header of 100 bytes but only 8 follow; the file is truncated");
}

static void test_unsupported_dtype_on_import(void **state)
{
    (void)state;
    /* An I64 tensor the model does not need is ignored; one it needs is rejected. */
    uint8_t buf[512], data[8] = {0};
    size_t len = make_st(buf, "{\"distilbert.embeddings.position_ids\":{\"dtype\":\"I64\","
                              "\"shape\":[1],\"data_offsets\":[0,8]}}", data, 8);
    wt_st_file f;
    senti_err err = {0};
    assert_int_equal(wt_st_parse(buf, len, "t", &f, &err), SENTI_OK);
    float out[2];
    assert_int_equal(wt_st_to_f32(&f, &f.tensors[0], out, &err), SENTI_E_UNSUPPORTED);
    assert_string_equal(err.msg, "safetensors: tensor 'distilbert.embeddings.position_ids': "
                                 "dtype I64 is not supported (expected F32, F16 or BF16)");
    wt_st_free(&f);
}

static void test_model_basics(void **state)
{
    (void)state;
    wt_model *m = tiny_model(NULL, NULL);
    assert_non_null(m);
    senti_err err = {0};
    assert_int_equal(wt_model_validate(m, &err), SENTI_OK);
    uint64_t shape[2] = {8, 8};
    float z[64] = {0};
    assert_int_equal(wt_model_add_tensor(m, "classifier.bias", WT_DTYPE_F32, 1, shape, z, 32, &err),
                     SENTI_E_DUPLICATE);
    assert_string_equal(err.msg, "weights: tensor 'classifier.bias' appears twice");
    assert_int_equal(wt_model_add_tensor(m, "x", WT_DTYPE_F32, 2, shape, z, 255, &err),
                     SENTI_E_SHAPE);
    assert_string_equal(err.msg, "weights: tensor 'x': 255 bytes, but its f32 shape needs 256");
    assert_int_equal(wt_model_set_meta(m, "source", "again", &err), SENTI_OK);
    assert_string_equal(wt_model_meta(m, "source"), "again");
    assert_int_equal(wt_model_meta_count(m), 1);
    assert_null(wt_model_meta(m, "nope"));
    assert_string_equal(wt_dtype_name(WT_DTYPE_I8_ROWSCALE), "i8_rowscale");
    wt_model_free(m);
    wt_model_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_sst2_mini),
        cmocka_unit_test(test_export_import_round_trip),
        cmocka_unit_test(test_missing_tensor),
        cmocka_unit_test(test_misshaped_tensor),
        cmocka_unit_test(test_safetensors_half_floats),
        cmocka_unit_test(test_safetensors_errors),
        cmocka_unit_test(test_unsupported_dtype_on_import),
        cmocka_unit_test(test_model_basics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
