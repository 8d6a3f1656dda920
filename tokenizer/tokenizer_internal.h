/* tokenizer/tokenizer_internal.h - shared by the tokenizer's .c files only.
 *
 * The pipeline reproduces Hugging Face `tokenizers` (Rust) with the
 * bert-base-uncased tokenizer.json: added (special) tokens matched in the raw
 * text, then BertNormalizer (clean text, CJK spacing, NFD + strip Mn, lower),
 * BertPreTokenizer (split on whitespace, isolate punctuation), WordPiece.
 *   utf8.c        validation and decoding
 *   unicode.c     character classes as the reference sees them
 *   vocab.c       vocabulary hash table, creation, accessors
 *   wordpiece.c   greedy longest-match-first WordPiece
 *   encode.c      tok_encode: the driver
 */
#ifndef SENTI_TOKENIZER_INTERNAL_H
#define SENTI_TOKENIZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

/* Number of special tokens the options can name (unk, cls, sep, pad, mask). */
#define TOK_N_SPECIAL 5

typedef struct tok_slot {
    uint32_t hash;   /* FNV-1a of the token bytes; 0 never stored (see vocab.c) */
    int32_t id;      /* -1 = empty slot */
} tok_slot;

typedef struct tok_special {
    const char *str; /* points into the vocabulary pool */
    uint32_t len;
    int32_t id;
} tok_special;

struct tok_tokenizer {
    tok_options opt;        /* string fields point at the specials below */
    uint32_t n;             /* vocabulary size */
    char *pool;             /* all tokens, NUL-terminated, back to back */
    uint32_t *off;          /* n+1 offsets into pool (token i: off[i] .. off[i+1]-1) */
    tok_slot *slots;        /* open addressing, linear probing */
    uint32_t mask;          /* slot count - 1 (power of two) */
    uint32_t max_token_bytes;
    int32_t unk_id, cls_id, sep_id;
    tok_special special[TOK_N_SPECIAL]; /* added tokens matched in raw text */
    uint32_t n_special;
    uint8_t special_first[256];         /* 1 if some special token starts with this byte */
};

/* --- utf8.c ------------------------------------------------------------- */
/* Decodes one code point from already validated UTF-8 at s; returns its length. */
static inline uint32_t tok_utf8_decode(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xE0) {
        *cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        return 2;
    }
    if (c < 0xF0) {
        *cp = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        return 3;
    }
    *cp = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
    return 4;
}
/* Encodes cp (a valid scalar value) into out (>= 4 bytes); returns the length. */
uint32_t tok_utf8_encode(uint32_t cp, char *out);

/* --- unicode.c ------------------------------------------------------------ */
/* What the normalizer and pre-tokenizer make of one code point. */
enum {
    TOK_CH_WORD = 0,   /* part of a word */
    TOK_CH_SPACE = 1,  /* whitespace: ends a word, emits nothing */
    TOK_CH_PUNCT = 2,  /* punctuation: a word of its own */
};
/* Clean-text step: true if the reference removes cp (NUL, U+FFFD, control,
 * format and private-use characters other than \t \n \r). */
bool tok_uni_is_removed(uint32_t cp);
/* White_Space as Rust's char::is_whitespace sees it. */
bool tok_uni_is_space(uint32_t cp);
/* The BERT "Chinese character" ranges (as in the Rust BertNormalizer). */
bool tok_uni_is_cjk(uint32_t cp);
/* Nonspacing mark (Mn) in the reference's Unicode 8.0 tables. */
bool tok_uni_is_mn(uint32_t cp);
/* BertPreTokenizer punctuation: ASCII punctuation or Unicode 8.0 P*. */
bool tok_uni_is_punct(uint32_t cp);
/* Canonical combining class. */
int tok_uni_ccc(uint32_t cp);
/* Canonical (NFD) decomposition of cp into out[cap]; returns the count. */
int tok_uni_nfd(uint32_t cp, uint32_t *out, int cap);
/* Full lower-case mapping of cp into out[2] (as Rust's char::to_lowercase);
 * returns the count (1, or 2 for U+0130). */
int tok_uni_lower(uint32_t cp, uint32_t *out);

/* Generated table (unicode8_table.c): code points present in Unicode 8.0. */
extern const uint32_t tok_unicode8_ranges[];
extern const uint32_t tok_unicode8_nranges;

/* --- vocab.c -------------------------------------------------------------- */
/* FNV-1a, 32 bits. A "##" continuation is hashed as if the prefix were there
 * (starting from TOK_FNV_HASHHASH), so lookups never copy the candidate. */
#define TOK_FNV_OFFSET 2166136261u
#define TOK_FNV_PRIME 16777619u
#define TOK_FNV_HASHHASH (((TOK_FNV_OFFSET ^ 0x23u) * TOK_FNV_PRIME ^ 0x23u) * TOK_FNV_PRIME)
static inline uint32_t tok_fnv_step(uint32_t h, unsigned char c)
{
    return (h ^ c) * TOK_FNV_PRIME;
}
/* Id of the byte string (optionally prefixed with "##"), -1 if absent. */
int32_t tok_vocab_find(const tok_tokenizer *t, const char *s, size_t len, bool continuation);
/* The same, given h = the FNV-1a hash of the (prefixed) string. */
int32_t tok_vocab_find_hashed(const tok_tokenizer *t, uint32_t h, const char *s, size_t len,
                              bool continuation);

/* --- wordpiece.c ---------------------------------------------------------- */
/* Where ids go: the first `keep` are stored, all are counted (so the caller
 * learns the untruncated length). */
typedef struct tok_sink {
    int32_t *ids;
    uint32_t keep;  /* ids[] slots available for content (excl. the final [SEP]) */
    uint32_t n;     /* ids produced so far, stored or not */
} tok_sink;

static inline void tok_sink_push(tok_sink *s, int32_t id)
{
    if (s->n < s->keep) s->ids[s->n] = id;
    s->n++;
}

/* Appends the WordPiece ids of one word (len bytes, nchars code points): the
 * greedy longest-match-first split with "##" continuations; a word that cannot
 * be split, or has more than SENTI_MAX_WORD_CHARS characters, yields [UNK]. */
void tok_wordpiece(const tok_tokenizer *t, const char *word, size_t len, uint32_t nchars,
                   tok_sink *sink);

#endif
