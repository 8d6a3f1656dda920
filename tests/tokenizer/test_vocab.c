/* tests/tokenizer/test_vocab.c - building tokenizers: vocab.txt parsing and its
 * errors, every allocation failure path, and tok_create_from_model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "tests/support/testutil.h"
#include "tokenizer/tokenizer.h"
#include "weights/weights.h"

static char *write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static void test_vocab_file_line_endings(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    assert_non_null(dir);
    /* CRLF line endings, no final newline, an empty line (an empty token) */
    static const char data[] = "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\n\r\nhello\r\nworld";
    char *path = write_file(dir, "vocab.txt", data, sizeof data - 1);
    tok_tokenizer *t = NULL;
    senti_err err = {0};
    assert_int_equal(tok_create_from_vocab_file(path, NULL, &t, &err), SENTI_OK);
    assert_int_equal(tok_vocab_size(t), 8);
    assert_int_equal(tok_token_to_id(t, "world"), 7);
    assert_int_equal(tok_token_to_id(t, ""), 5);
    assert_string_equal(tok_id_to_token(t, 6), "hello");
    int32_t ids[8];
    tok_encoding enc;
    assert_int_equal(tok_encode(t, "Hello WORLD", 11, ids, 8, &enc, &err), SENTI_OK);
    assert_int_equal(enc.n, 4);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 6);
    assert_int_equal(ids[2], 7);
    assert_int_equal(ids[3], 3);
    tok_free(t);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void test_vocab_file_errors(void **state)
{
    (void)state;
    tok_tokenizer *t = NULL;
    senti_err err = {0};
    assert_int_equal(tok_create_from_vocab_file("/nonexistent/vocab.txt", NULL, &t, &err), SENTI_E_IO);
    assert_non_null(strstr(err.msg, "open '/nonexistent/vocab.txt'"));
    assert_null(t);

    char *dir = tu_mkdtemp();
    char *empty = write_file(dir, "empty.txt", "", 0);
    assert_int_equal(tok_create_from_vocab_file(empty, NULL, &t, &err), SENTI_E_FORMAT);
    assert_non_null(strstr(err.msg, "0 tokens"));
    char *nospecial = write_file(dir, "nospecial.txt", "a\nb\n", 4);
    assert_int_equal(tok_create_from_vocab_file(nospecial, NULL, &t, &err), SENTI_E_MISSING);
    assert_non_null(strstr(err.msg, "nospecial.txt"));
    assert_non_null(strstr(err.msg, "'[UNK]' (unk_token) is not in the vocabulary"));
    static const char badutf[] = "[UNK]\n[CLS]\n[SEP]\nok\n\xc3\n";
    char *bad = write_file(dir, "bad.txt", badutf, sizeof badutf - 1);
    assert_int_equal(tok_create_from_vocab_file(bad, NULL, &t, &err), SENTI_E_FORMAT);
    assert_non_null(strstr(err.msg, "vocabulary token 4: invalid UTF-8 at byte offset 0"));
    assert_null(t);
    free(empty);
    free(nospecial);
    free(bad);
    tu_rmtree(dir);
    free(dir);
}

/* Every allocation in creation can fail; each failure is reported cleanly
 * (valgrind checks nothing leaks), and encoding allocates nothing. */
static void test_allocation_failures(void **state)
{
    (void)state;
    const char *vocab = tu_shared_path("models/sst2-mini/vocab.txt");
    long failures = 0;
    for (long n = 0;; n++) {
        tok_tokenizer *t = NULL;
        senti_err err = {0};
        senti_alloc_fail_after(n);
        senti_status st = tok_create_from_vocab_file(vocab, NULL, &t, &err);
        senti_alloc_fail_after(-1);
        if (st == SENTI_OK) {
            senti_alloc_fail_after(0); /* any allocation now fails */
            int32_t ids[512];
            tok_encoding enc;
            const char *text = "Even an allocation-free encode: naïve café, 中文 [SEP] ok!";
            st = tok_encode(t, text, strlen(text), ids, 512, &enc, &err);
            senti_alloc_fail_after(-1);
            assert_int_equal(st, SENTI_OK);
            assert_int_equal(senti_alloc_count(), 0);
            tok_free(t);
            break;
        }
        assert_int_equal(st, SENTI_E_NOMEM);
        assert_null(t);
        failures++;
        assert_true(n < 100);
    }
    assert_true(failures >= 3);
}

static void test_create_from_model(void **state)
{
    (void)state;
    static const char *const v[] = {"<pad>", "<s>", "</s>", "<unk>", "hello", "world", "##s"};
    wt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = 7;
    cfg.tok.do_lower_case = true;
    cfg.tok.strip_accents = true;
    cfg.tok.tokenize_chinese_chars = true;
    cfg.tok.max_length = 4;
    strcpy(cfg.tok.unk_token, "<unk>");
    strcpy(cfg.tok.cls_token, "<s>");
    strcpy(cfg.tok.sep_token, "</s>");
    strcpy(cfg.tok.pad_token, "<pad>");
    wt_model *m = NULL;
    senti_err err = {0};
    assert_int_equal(wt_model_create(&cfg, &m, &err), SENTI_OK);
    assert_int_equal(wt_model_set_vocab(m, v, 7, &err), SENTI_OK);
    tok_tokenizer *t = NULL;
    assert_int_equal(tok_create_from_model(m, &t, &err), SENTI_OK);
    wt_model_free(m); /* the tokenizer keeps its own copy */
    assert_int_equal(tok_max_length(t), 4);
    int32_t ids[8];
    tok_encoding enc;
    assert_int_equal(tok_encode(t, "Hellos <s> world", 16, ids, 8, &enc, &err), SENTI_OK);
    assert_int_equal(enc.n, 4);
    assert_true(enc.truncated);
    assert_int_equal(enc.n_untruncated, 6);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 4);
    assert_int_equal(ids[2], 6);
    assert_int_equal(ids[3], 2);
    tok_free(t);

    /* a model without a vocabulary */
    assert_int_equal(wt_model_create(&cfg, &m, &err), SENTI_OK);
    assert_int_equal(tok_create_from_model(m, &t, &err), SENTI_E_MISSING);
    assert_non_null(strstr(err.msg, "no vocabulary"));
    wt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocab_file_line_endings),
        cmocka_unit_test(test_vocab_file_errors),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_create_from_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
