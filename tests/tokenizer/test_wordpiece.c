/* tests/tokenizer/test_wordpiece.c - WordPiece and the vocabulary on small
 * hand-made vocabularies: greedy longest match, "##" continuations, [UNK] for
 * unsplittable words, special-token ids taken from the vocabulary, options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

/* Special tokens deliberately not at BERT's ids (0, 100..103). */
static const char *const VOCAB[] = {
    "un", "[SEP]", "##aff", "##able", "[UNK]", "want", "##s", "[CLS]", "una", "##ffa",
    "##ble", "a", "##a", "[PAD]", "[MASK]", "wants", ",", "run", "##ning", "##n", "ß",
    "##ß", "x",
};
#define NV ((uint32_t)(sizeof VOCAB / sizeof VOCAB[0]))

static const char *tokens(const tok_tokenizer *t, const char *text)
{
    static char out[4096];
    int32_t ids[64];
    tok_encoding enc;
    senti_err err = {0};
    if (tok_encode(t, text, strlen(text), ids, 64, &enc, &err) != SENTI_OK) fail_msg("%s", err.msg);
    size_t o = 0;
    for (uint32_t i = 0; i < enc.n; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? " " : "", tok_id_to_token(t, ids[i]));
    return out;
}

static int setup(void **state)
{
    tok_tokenizer *t = NULL;
    senti_err err = {0};
    if (tok_create(VOCAB, NV, NULL, &t, &err) != SENTI_OK) fail_msg("%s", err.msg);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tok_free(*state);
    return 0;
}

static void test_longest_match_first(void **state)
{
    tok_tokenizer *t = *state;
    /* "una" beats "un"; then "##ffa" + "##ble" */
    assert_string_equal(tokens(t, "unaffable"), "[CLS] una ##ffa ##ble [SEP]");
    /* whole word in vocab wins over pieces */
    assert_string_equal(tokens(t, "wants"), "[CLS] wants [SEP]");
    assert_string_equal(tokens(t, "running"), "[CLS] run ##ning [SEP]");
    assert_string_equal(tokens(t, "aaa"), "[CLS] a ##a ##a [SEP]");
    /* continuation lookups of multi-byte characters: "ß" then "##ß" */
    assert_string_equal(tokens(t, "ßß"), "[CLS] ß ##ß [SEP]");
}

static void test_unsplittable_word_is_unk(void **state)
{
    tok_tokenizer *t = *state;
    /* "runz": run + no "##z" -> the whole word is [UNK], no partial pieces */
    assert_string_equal(tokens(t, "runz wants"), "[CLS] [UNK] wants [SEP]");
    assert_string_equal(tokens(t, "z"), "[CLS] [UNK] [SEP]");
    assert_string_equal(tokens(t, "wants,x"), "[CLS] wants , x [SEP]");
}

static void test_special_ids_from_vocab(void **state)
{
    tok_tokenizer *t = *state;
    int32_t ids[8];
    tok_encoding enc;
    assert_int_equal(tok_encode(t, "z", 1, ids, 8, &enc, NULL), SENTI_OK);
    assert_int_equal(enc.n, 3);
    assert_int_equal(ids[0], 7);
    assert_int_equal(ids[1], 4);
    assert_int_equal(ids[2], 1);
    assert_int_equal(tok_token_to_id(t, "[MASK]"), 14);
    assert_int_equal(tok_token_to_id(t, "nope"), -1);
    assert_string_equal(tok_id_to_token(t, 2), "##aff");
    assert_null(tok_id_to_token(t, (int32_t)NV));
    assert_null(tok_id_to_token(t, -1));
    assert_int_equal(tok_vocab_size(t), NV);
    assert_int_equal(tok_max_length(t), 512);
    /* special tokens in the text use their vocabulary ids */
    assert_string_equal(tokens(t, "a[MASK]a"), "[CLS] a [MASK] a [SEP]");
}

static void test_missing_special_token(void **state)
{
    (void)state;
    static const char *const v[] = {"[CLS]", "[SEP]", "a"};
    tok_tokenizer *t = NULL;
    senti_err err = {0};
    assert_int_equal(tok_create(v, 3, NULL, &t, &err), SENTI_E_MISSING);
    assert_null(t);
    assert_non_null(strstr(err.msg, "'[UNK]' (unk_token) is not in the vocabulary"));
    /* optional ones may be switched off */
    static const char *const v2[] = {"[CLS]", "[SEP]", "[UNK]", "a"};
    tok_options o = tok_options_default();
    o.pad_token = NULL;
    o.mask_token = NULL;
    assert_int_equal(tok_create(v2, 4, &o, &t, &err), SENTI_OK);
    assert_string_equal(tokens(t, "a [PAD]"), "[CLS] a [UNK] [UNK] [UNK] [SEP]");
    tok_free(t);
}

static void test_duplicates_last_wins(void **state)
{
    (void)state;
    static const char *const v[] = {"[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]", "a", "a"};
    tok_tokenizer *t = NULL;
    assert_int_equal(tok_create(v, 7, NULL, &t, NULL), SENTI_OK);
    assert_int_equal(tok_token_to_id(t, "a"), 6);
    assert_string_equal(tok_id_to_token(t, 5), "a");
    tok_free(t);
}

static void test_options(void **state)
{
    (void)state;
    static const char *const v[] = {"[CLS]", "[SEP]", "[UNK]", "Café", "cafe", "café", "中文", "中", "##文"};
    tok_tokenizer *t = NULL;
    tok_options o = tok_options_default();
    o.pad_token = o.mask_token = NULL;
    o.do_lower_case = false;
    o.strip_accents = false;
    o.tokenize_chinese_chars = false;
    assert_int_equal(tok_create(v, 9, &o, &t, NULL), SENTI_OK);
    assert_string_equal(tokens(t, "Café 中文"), "[CLS] Café 中文 [SEP]");
    tok_free(t);
    o.do_lower_case = true; /* lower-case, keep accents */
    assert_int_equal(tok_create(v, 9, &o, &t, NULL), SENTI_OK);
    assert_string_equal(tokens(t, "CAFÉ"), "[CLS] café [SEP]");
    tok_free(t);
    o.strip_accents = true;
    o.tokenize_chinese_chars = true;
    assert_int_equal(tok_create(v, 9, &o, &t, NULL), SENTI_OK);
    assert_string_equal(tokens(t, "CAFÉ 中文"), "[CLS] cafe 中 [UNK] [SEP]");
    tok_free(t);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    tok_tokenizer *t = NULL;
    senti_err err = {0};
    tok_options o = tok_options_default();
    o.max_length = 1;
    assert_int_equal(tok_create(VOCAB, NV, &o, &t, &err), SENTI_E_INVALID);
    assert_non_null(strstr(err.msg, "max_length 1"));
    assert_int_equal(tok_create(VOCAB, 0, NULL, &t, &err), SENTI_E_LIMIT);
    static const char *const bad[] = {"[CLS]", "[SEP]", "[UNK]", "ok\xff"};
    assert_int_equal(tok_create(bad, 4, NULL, &t, &err), SENTI_E_FORMAT);
    assert_string_equal(err.msg, "tokenizer: vocabulary token 3: invalid UTF-8 at byte offset 2");
    assert_null(t);
    tok_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_match_first),
        cmocka_unit_test(test_unsplittable_word_is_unk),
        cmocka_unit_test(test_special_ids_from_vocab),
        cmocka_unit_test(test_missing_special_token),
        cmocka_unit_test(test_duplicates_last_wins),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
