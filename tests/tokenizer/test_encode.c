/* tests/tokenizer/test_encode.c - each stage of tok_encode on the real uncased
 * vocabulary: cleaning, CJK, accents, lower-casing, punctuation, special tokens
 * in the text, long words, truncation, invalid UTF-8, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "tests/support/testutil.h"
#include "tokenizer/tokenizer.h"

static tok_tokenizer *make_tok(uint32_t max_length)
{
    tok_tokenizer *t = NULL;
    senti_err err = {0};
    tok_options o = tok_options_default();
    o.max_length = max_length;
    if (tok_create_from_vocab_file(tu_shared_path("models/sst2-mini/vocab.txt"), &o, &t, &err))
        fail_msg("%s", err.msg);
    return t;
}

/* Encodes len bytes of text and returns the tokens joined by single spaces. */
static const char *tokens_n(const tok_tokenizer *t, const char *text, size_t len)
{
    static char out[8192];
    int32_t ids[512];
    tok_encoding enc;
    senti_err err = {0};
    if (tok_encode(t, text, len, ids, 512, &enc, &err) != SENTI_OK) fail_msg("%s", err.msg);
    size_t o = 0;
    for (uint32_t i = 0; i < enc.n; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? " " : "", tok_id_to_token(t, ids[i]));
    return out;
}

static const char *tokens(const tok_tokenizer *t, const char *text)
{
    return tokens_n(t, text, strlen(text));
}

static void test_empty_and_blank(void **state)
{
    tok_tokenizer *t = *state;
    assert_string_equal(tokens(t, ""), "[CLS] [SEP]");
    assert_string_equal(tokens(t, " \t\r\n\u3000 "), "[CLS] [SEP]");
    int32_t ids[4];
    tok_encoding enc;
    assert_int_equal(tok_encode(t, NULL, 0, ids, 4, &enc, NULL), SENTI_OK);
    assert_int_equal(enc.n, 2);
    assert_int_equal(ids[0], tok_token_to_id(t, "[CLS]"));
    assert_int_equal(ids[1], tok_token_to_id(t, "[SEP]"));
    assert_false(enc.truncated);
}

static void test_cleaning(void **state)
{
    tok_tokenizer *t = *state;
    /* NUL, U+FFFD, controls, format characters and private use vanish (no split) */
    assert_string_equal(tokens_n(t, "ab\0c", 4), "[CLS] abc [SEP]");
    assert_string_equal(tokens(t, "he\xef\xbf\xbd" "l\x01" "l\x7f" "o"), "[CLS] hello [SEP]");
    assert_string_equal(tokens(t, "hel\u00adlo wo\u200brld \ue000x"), "[CLS] hello world x [SEP]");
    /* \v \f U+0085 are controls: removed, not whitespace */
    assert_string_equal(tokens(t, "w\vo\fr\xc2\x85" "d"), "[CLS] word [SEP]");
    /* whitespace variants separate words */
    assert_string_equal(tokens(t, "a\tb\nc\u00a0d\u2003e\u2028f"), "[CLS] a b c d e f [SEP]");
}

static void test_cjk(void **state)
{
    tok_tokenizer *t = *state;
    assert_string_equal(tokens(t, "ab中文cd"), "[CLS] ab 中 文 cd [SEP]");
    /* kana are not in the BERT ranges: they stay in the word */
    assert_string_equal(tokens(t, "日本語のテキスト"), "[CLS] 日 本 語 の ##テ ##キ ##ス ##ト [SEP]");
    /* U+2B820..U+2B91F are not CJK for the Rust tokenizer (range starts at 0x2B920) */
    assert_string_equal(tokens(t, "a\xf0\xab\xa0\xa0" "b"), "[CLS] [UNK] [SEP]");
    assert_string_equal(tokens(t, "a\xf0\xab\xa4\xa0" "b"), "[CLS] a [UNK] b [SEP]");
}

static void test_accents_and_case(void **state)
{
    tok_tokenizer *t = *state;
    assert_string_equal(tokens(t, "Québec naïve CAFÉ"), "[CLS] quebec naive cafe [SEP]");
    /* decomposed input: combining marks are stripped */
    assert_string_equal(tokens(t, "cafe\u0301 e\u0300\u0300"), "[CLS] cafe e [SEP]");
    /* İ: NFD first (I + dot), strip, then lower-case */
    assert_string_equal(tokens(t, "İstanbul"), "[CLS] istanbul [SEP]");
    /* ≠ decomposes to = + U+0338: the = is punctuation */
    assert_string_equal(tokens(t, "a≠b"), "[CLS] a = b [SEP]");
    assert_string_equal(tokens(t, "HELLO World"), "[CLS] hello world [SEP]");
}

static void test_punctuation(void **state)
{
    tok_tokenizer *t = *state;
    assert_string_equal(tokens(t, "don't"), "[CLS] don ' t [SEP]");
    assert_string_equal(tokens(t, "a$b^c`d~e"), "[CLS] a $ b ^ c ` d ~ e [SEP]");
    assert_string_equal(tokens(t, "wait...what?!"), "[CLS] wait . . . what ? ! [SEP]");
    assert_string_equal(tokens(t, "«yes» ¿qué?"), "[CLS] « yes » ¿ que ? [SEP]");
    /* symbols (S*) are not punctuation except ASCII ones */
    assert_string_equal(tokens(t, "5€"), "[CLS] 5 ##€ [SEP]");
}

static void test_special_tokens_in_text(void **state)
{
    tok_tokenizer *t = *state;
    assert_string_equal(tokens(t, "hello [SEP] world [CLS]x"), "[CLS] hello [SEP] world [CLS] x [SEP]");
    assert_string_equal(tokens(t, "[PAD][MASK][UNK]"), "[CLS] [PAD] [MASK] [UNK] [SEP]");
    /* matched case-sensitively in the raw text */
    assert_string_equal(tokens(t, "[sep]"), "[CLS] [ sep ] [SEP]");
    assert_string_equal(tokens(t, "[SE\u200bP]"), "[CLS] [ sep ] [SEP]");
}

static void test_wordpiece_and_long_words(void **state)
{
    tok_tokenizer *t = *state;
    assert_string_equal(tokens(t, "unaffable"), "[CLS] una ##ffa ##ble [SEP]");
    char word[160];
    memset(word, 'a', sizeof word);
    word[100] = '\0'; /* 100 characters: still WordPiece'd */
    const char *r = tokens(t, word);
    assert_string_not_equal(r, "[CLS] [UNK] [SEP]");
    word[100] = 'a';
    word[101] = '\0'; /* 101 characters: [UNK] */
    assert_string_equal(tokens(t, word), "[CLS] [UNK] [SEP]");
    /* the limit counts characters, not bytes: 60 two-byte letters are fine */
    char buf[256] = "";
    for (int i = 0; i < 60; i++) strcat(buf, "é");
    assert_string_not_equal(tokens(t, buf), "[CLS] [UNK] [SEP]");
    /* a word that cannot be split is one [UNK] */
    assert_string_equal(tokens(t, "x\U0001F600y ok"), "[CLS] [UNK] ok [SEP]");
}

static void test_truncation_keeps_sep(void **state)
{
    (void)state;
    tok_tokenizer *t = make_tok(6);
    int32_t ids[512];
    tok_encoding enc;
    const char *text = "one two three four five six seven";
    assert_int_equal(tok_encode(t, text, strlen(text), ids, 512, &enc, NULL), SENTI_OK);
    assert_int_equal(enc.n, 6);
    assert_true(enc.truncated);
    assert_int_equal(enc.n_untruncated, 9);
    assert_string_equal(tok_id_to_token(t, ids[0]), "[CLS]");
    assert_string_equal(tok_id_to_token(t, ids[4]), "four");
    assert_string_equal(tok_id_to_token(t, ids[5]), "[SEP]");
    /* the caller's capacity truncates the same way */
    assert_int_equal(tok_encode(t, text, strlen(text), ids, 3, &enc, NULL), SENTI_OK);
    assert_int_equal(enc.n, 3);
    assert_string_equal(tok_id_to_token(t, ids[1]), "one");
    assert_string_equal(tok_id_to_token(t, ids[2]), "[SEP]");
    /* exactly full: not truncated */
    assert_int_equal(tok_encode(t, "a b c d", 7, ids, 512, &enc, NULL), SENTI_OK);
    assert_int_equal(enc.n, 6);
    assert_false(enc.truncated);
    assert_int_equal(tok_max_length(t), 6);
    tok_free(t);
}

static void expect_utf8_error(const tok_tokenizer *t, const char *s, size_t len, size_t offset)
{
    int32_t ids[16];
    tok_encoding enc;
    senti_err err = {0};
    char want[128];
    assert_int_equal(tok_encode(t, s, len, ids, 16, &enc, &err), SENTI_E_UTF8);
    snprintf(want, sizeof want, "tokenizer: invalid UTF-8 at byte offset %zu", offset);
    assert_string_equal(err.msg, want);
    size_t bad = 9999;
    assert_int_equal(tok_utf8_validate(s, len, &bad), SENTI_E_UTF8);
    assert_int_equal(bad, offset);
}

static void test_invalid_utf8(void **state)
{
    tok_tokenizer *t = *state;
    expect_utf8_error(t, "ab\x80", 3, 2);                /* stray continuation */
    expect_utf8_error(t, "abc\xc0\xaf", 5, 3);           /* overlong '/' */
    expect_utf8_error(t, "\xc1\xbf", 2, 0);              /* overlong */
    expect_utf8_error(t, "x\xe0\x80\xaf", 4, 1);         /* overlong 3-byte */
    expect_utf8_error(t, "xy\xf0\x80\x80\xaf", 6, 2);    /* overlong 4-byte */
    expect_utf8_error(t, "é\xed\xa0\x80", 5, 2);         /* surrogate U+D800 */
    expect_utf8_error(t, "a\xf4\x90\x80\x80", 5, 1);     /* U+110000 */
    expect_utf8_error(t, "a\xf5\x80\x80\x80", 5, 1);     /* F5 lead */
    expect_utf8_error(t, "abcdefghij\xe2\x82", 12, 10);  /* truncated at the end */
    expect_utf8_error(t, "\xe2\x82z", 3, 0);             /* truncated in the middle */
    expect_utf8_error(t, "ok\xff", 3, 2);
    /* boundaries that are valid */
    size_t bad;
    assert_int_equal(tok_utf8_validate("\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\xf0\x90\x80\x80", 14,
                                       &bad), SENTI_OK);
    assert_int_equal(tok_utf8_validate("", 0, &bad), SENTI_OK);
}

static void test_limits_and_arguments(void **state)
{
    tok_tokenizer *t = *state;
    int32_t ids[512];
    tok_encoding enc;
    senti_err err = {0};
    size_t big = (size_t)SENTI_MAX_TEXT_BYTES + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, 'a', big);
    assert_int_equal(tok_encode(t, text, big, ids, 512, &enc, &err), SENTI_E_LIMIT);
    assert_non_null(strstr(err.msg, "exceeds the limit"));
    /* exactly at the limit is fine (one long word: [UNK]) */
    assert_int_equal(tok_encode(t, text, big - 1, ids, 512, &enc, &err), SENTI_OK);
    assert_int_equal(enc.n, 3);
    /* a 1 MB text of short words: truncated, counted in full */
    for (size_t i = 1; i < big - 1; i += 2) text[i] = ' ';
    assert_int_equal(tok_encode(t, text, big - 1, ids, 512, &enc, &err), SENTI_OK);
    assert_int_equal(enc.n, 512);
    assert_int_equal(enc.n_untruncated, (big - 1 + 1) / 2 + 2);
    free(text);
    assert_int_equal(tok_encode(t, "a", 1, ids, 1, &enc, &err), SENTI_E_INVALID);
}

static int setup(void **state)
{
    *state = make_tok(512);
    return 0;
}

static int teardown(void **state)
{
    tok_free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_blank),
        cmocka_unit_test(test_cleaning),
        cmocka_unit_test(test_cjk),
        cmocka_unit_test(test_accents_and_case),
        cmocka_unit_test(test_punctuation),
        cmocka_unit_test(test_special_tokens_in_text),
        cmocka_unit_test(test_wordpiece_and_long_words),
        cmocka_unit_test(test_truncation_keeps_sep),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_limits_and_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
