/* tests/fuzz/fuzz_tokenizer.c - arbitrary bytes -> tok_encode with the real
 * uncased vocabulary: no crash, and on success [CLS] ... [SEP] with every id in
 * the vocabulary and at most the capacity asked for. */
#include "tests/fuzz/fuzz_common.h"
#include "tokenizer/tokenizer.h"

static tok_tokenizer *fz_tok_t;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char path[4096];
    snprintf(path, sizeof path, "%s/models/sst2-mini/vocab.txt", fuzz_shared_dir());
    tok_options o = tok_options_default();
    senti_err err = {0};
    if (tok_create_from_vocab_file(path, &o, &fz_tok_t, &err) != SENTI_OK) {
        fprintf(stderr, "fuzz_tokenizer: %s (set SHARED)\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_tok_t) LLVMFuzzerInitialize(NULL, NULL);
    /* the first byte picks the capacity, so truncation paths are exercised too */
    uint32_t cap = size ? 2 + data[0] % 64 : 512;
    if (size && data[0] >= 192) cap = 512;
    int32_t ids[512];
    tok_encoding enc;
    senti_err err = {0};
    senti_status st = tok_encode(fz_tok_t, (const char *)data, size, ids, cap, &enc, &err);
    if (st == SENTI_OK) {
        FUZZ_CHECK(enc.n >= 2 && enc.n <= cap);
        FUZZ_CHECK(ids[0] == tok_token_to_id(fz_tok_t, "[CLS]"));
        FUZZ_CHECK(ids[enc.n - 1] == tok_token_to_id(fz_tok_t, "[SEP]"));
        for (uint32_t i = 0; i < enc.n; i++)
            FUZZ_CHECK(ids[i] >= 0 && (uint32_t)ids[i] < tok_vocab_size(fz_tok_t));
    } else {
        FUZZ_CHECK(st == SENTI_E_UTF8 && err.msg[0]);
        size_t bad = 0;
        FUZZ_CHECK(tok_utf8_validate((const char *)data, size, &bad) != SENTI_OK);
    }
    return 0;
}
