/* tokenizer/tokenizer.h - BERT WordPiece (Hugging Face BertTokenizer semantics).
 *
 * A tok_tokenizer is read-only after creation and may be shared across threads;
 * tok_encode keeps all per-call state on the caller's side.
 */
#ifndef SENTI_TOKENIZER_H
#define SENTI_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

typedef struct tok_options {
    bool do_lower_case;          /* lower-case (and, with strip_accents, NFD + drop Mn) */
    bool strip_accents;
    bool tokenize_chinese_chars; /* put spaces around CJK ideographs */
    uint32_t max_length;         /* incl. [CLS]/[SEP]; truncation keeps [SEP] */
    const char *unk_token, *cls_token, *sep_token, *pad_token, *mask_token;
} tok_options;

/* Options for the uncased BERT vocabulary: lower-case, strip accents, CJK on, 512. */
tok_options tok_options_default(void);

typedef struct tok_tokenizer tok_tokenizer;

/* tokens[i] is the string of id i; copied. Special tokens named in opt must exist. */
senti_status tok_create(const char *const *tokens, uint32_t n, const tok_options *opt,
                        tok_tokenizer **out, senti_err *err);
/* Reads a vocab.txt (one token per line, id = line number). */
senti_status tok_create_from_vocab_file(const char *path, const tok_options *opt,
                                        tok_tokenizer **out, senti_err *err);
/* From a loaded model: its vocabulary (wt_model_vocab_token) and tokenizer
 * settings (wt_model_config(m)->tok). Borrows m only during the call. */
typedef struct wt_model wt_model; /* weights/weights.h */
senti_status tok_create_from_model(const wt_model *m, tok_tokenizer **out, senti_err *err);
void tok_free(tok_tokenizer *t); /* NULL is a no-op */

typedef struct tok_encoding {
    uint32_t n;          /* ids written, incl. [CLS] and [SEP] */
    bool truncated;      /* the text had more tokens than max_length allows */
    uint32_t n_untruncated; /* token count before truncation (incl. specials) */
} tok_encoding;

/* Encodes text (len bytes of UTF-8, need not be NUL-terminated) to
 * [CLS] wordpieces... [SEP], at most min(cap, max_length) ids.
 * Invalid UTF-8 -> SENTI_E_UTF8 with the byte offset in err. */
senti_status tok_encode(const tok_tokenizer *t, const char *text, size_t len, int32_t *ids,
                        uint32_t cap, tok_encoding *enc, senti_err *err);

/* Token string for an id, NULL if out of range. */
const char *tok_id_to_token(const tok_tokenizer *t, int32_t id);
/* Id of an exact token string, -1 if absent. */
int32_t tok_token_to_id(const tok_tokenizer *t, const char *token);
uint32_t tok_vocab_size(const tok_tokenizer *t);
uint32_t tok_max_length(const tok_tokenizer *t);

/* Validates UTF-8; on failure returns SENTI_E_UTF8 and sets *bad_offset. */
senti_status tok_utf8_validate(const char *s, size_t len, size_t *bad_offset);

#endif
