/* tokenizer/encode.c - tok_encode: text -> [CLS] wordpieces... [SEP].
 *
 * One pass over the bytes, fusing the reference's stages (each acts per
 * character, so fusing them does not change the result):
 *   1. added tokens: the special tokens are matched in the raw text, leftmost
 *      then longest, and emitted as themselves (tokenizers' AddedVocabulary);
 *   2. BertNormalizer: drop NUL, U+FFFD and control/format/private-use
 *      characters, whitespace -> space, spaces around CJK ideographs, then
 *      NFD and drop Mn (strip_accents), then lower-case (in that order);
 *   3. BertPreTokenizer: whitespace ends a word, punctuation is a word of its own;
 *   4. WordPiece on each word (wordpiece.c);
 *   5. truncation to max_length keeping [SEP].
 * NFD also reorders combining marks by combining class; only marks that
 * survive stripping matter, and they are kept in order within a run (a span
 * of characters with non-zero class).
 * All state is on the stack: tok_encode allocates nothing and is thread-safe.
 */
#include <string.h>

#include "common/limits.h"
#include "tokenizer/tokenizer_internal.h"

/* A word longer than SENTI_MAX_WORD_CHARS is [UNK] whatever its content, so
 * only its first SENTI_MAX_WORD_CHARS + 1 characters are stored (4 bytes max
 * each after normalization: one code point in, at most 4 code points out, but
 * the count stops storing at the limit). */
#define WORD_BUF ((SENTI_MAX_WORD_CHARS + 1) * 4 + 16)

typedef struct enc_state {
    const tok_tokenizer *t;
    tok_sink sink;
    size_t wlen;      /* bytes stored in word */
    uint32_t wchars;  /* characters in the word (stored or not) */
    size_t run_start; /* byte offset in word where the current combining run starts */
    char word[WORD_BUF];
} enc_state;

enum { ASC_REMOVED, ASC_SPACE, ASC_PUNCT, ASC_WORD };

/* ASCII classes: controls other than \t \n \r are removed (0x0B, 0x0C, 0x1C..
 * 0x1F are Cc, and cleaning removes controls before it maps whitespace). */
static const uint8_t ascii_class[128] = {
    ['\t'] = ASC_SPACE, ['\n'] = ASC_SPACE, ['\r'] = ASC_SPACE, [' '] = ASC_SPACE,
    ['!'] = ASC_PUNCT, ['"'] = ASC_PUNCT, ['#'] = ASC_PUNCT, ['$'] = ASC_PUNCT,
    ['%'] = ASC_PUNCT, ['&'] = ASC_PUNCT, ['\''] = ASC_PUNCT, ['('] = ASC_PUNCT,
    [')'] = ASC_PUNCT, ['*'] = ASC_PUNCT, ['+'] = ASC_PUNCT, [','] = ASC_PUNCT,
    ['-'] = ASC_PUNCT, ['.'] = ASC_PUNCT, ['/'] = ASC_PUNCT,
    ['0'] = ASC_WORD, ['1'] = ASC_WORD, ['2'] = ASC_WORD, ['3'] = ASC_WORD, ['4'] = ASC_WORD,
    ['5'] = ASC_WORD, ['6'] = ASC_WORD, ['7'] = ASC_WORD, ['8'] = ASC_WORD, ['9'] = ASC_WORD,
    [':'] = ASC_PUNCT, [';'] = ASC_PUNCT, ['<'] = ASC_PUNCT, ['='] = ASC_PUNCT,
    ['>'] = ASC_PUNCT, ['?'] = ASC_PUNCT, ['@'] = ASC_PUNCT,
    ['A'] = ASC_WORD, ['B'] = ASC_WORD, ['C'] = ASC_WORD, ['D'] = ASC_WORD, ['E'] = ASC_WORD,
    ['F'] = ASC_WORD, ['G'] = ASC_WORD, ['H'] = ASC_WORD, ['I'] = ASC_WORD, ['J'] = ASC_WORD,
    ['K'] = ASC_WORD, ['L'] = ASC_WORD, ['M'] = ASC_WORD, ['N'] = ASC_WORD, ['O'] = ASC_WORD,
    ['P'] = ASC_WORD, ['Q'] = ASC_WORD, ['R'] = ASC_WORD, ['S'] = ASC_WORD, ['T'] = ASC_WORD,
    ['U'] = ASC_WORD, ['V'] = ASC_WORD, ['W'] = ASC_WORD, ['X'] = ASC_WORD, ['Y'] = ASC_WORD,
    ['Z'] = ASC_WORD,
    ['['] = ASC_PUNCT, ['\\'] = ASC_PUNCT, [']'] = ASC_PUNCT, ['^'] = ASC_PUNCT,
    ['_'] = ASC_PUNCT, ['`'] = ASC_PUNCT,
    ['a'] = ASC_WORD, ['b'] = ASC_WORD, ['c'] = ASC_WORD, ['d'] = ASC_WORD, ['e'] = ASC_WORD,
    ['f'] = ASC_WORD, ['g'] = ASC_WORD, ['h'] = ASC_WORD, ['i'] = ASC_WORD, ['j'] = ASC_WORD,
    ['k'] = ASC_WORD, ['l'] = ASC_WORD, ['m'] = ASC_WORD, ['n'] = ASC_WORD, ['o'] = ASC_WORD,
    ['p'] = ASC_WORD, ['q'] = ASC_WORD, ['r'] = ASC_WORD, ['s'] = ASC_WORD, ['t'] = ASC_WORD,
    ['u'] = ASC_WORD, ['v'] = ASC_WORD, ['w'] = ASC_WORD, ['x'] = ASC_WORD, ['y'] = ASC_WORD,
    ['z'] = ASC_WORD,
    ['{'] = ASC_PUNCT, ['|'] = ASC_PUNCT, ['}'] = ASC_PUNCT, ['~'] = ASC_PUNCT,
};

static void flush_word(enc_state *s)
{
    if (s->wchars) tok_wordpiece(s->t, s->word, s->wlen, s->wchars, &s->sink);
    s->wlen = 0;
    s->wchars = 0;
    s->run_start = 0;
}

/* Appends one normalized word character. ccc > 0 characters are placed after
 * every earlier character of the run with a class <= theirs (canonical order). */
static void push_char(enc_state *s, uint32_t cp, int ccc)
{
    s->wchars++;
    if (s->wchars > SENTI_MAX_WORD_CHARS + 1) return; /* [UNK] anyway; just count */
    char enc[4];
    uint32_t n = tok_utf8_encode(cp, enc);
    size_t at = s->wlen;
    if (ccc > 0) {
        while (at > s->run_start) {
            size_t prev = at - 1;
            while (prev > s->run_start && ((unsigned char)s->word[prev] & 0xC0) == 0x80) prev--;
            uint32_t pcp;
            tok_utf8_decode((const unsigned char *)s->word + prev, &pcp);
            if (tok_uni_ccc(pcp) <= ccc) break;
            at = prev;
        }
        memmove(s->word + at + n, s->word + at, s->wlen - at);
    }
    memcpy(s->word + at, enc, n);
    s->wlen += n;
    if (ccc == 0) s->run_start = s->wlen;
}

/* Pre-tokenizes one normalized character. */
static void pretok_char(enc_state *s, uint32_t cp, int ccc)
{
    if (tok_uni_is_space(cp)) {
        flush_word(s);
    } else if (tok_uni_is_punct(cp)) {
        flush_word(s);
        push_char(s, cp, 0);
        flush_word(s);
    } else {
        push_char(s, cp, ccc);
    }
}

/* Lower-cases (if enabled) and pre-tokenizes one character. */
static void lower_char(enc_state *s, uint32_t cp, int ccc)
{
    if (!s->t->opt.do_lower_case) {
        pretok_char(s, cp, ccc);
        return;
    }
    uint32_t low[2];
    int n = tok_uni_lower(cp, low);
    for (int k = 0; k < n; k++) pretok_char(s, low[k], k == 0 ? ccc : tok_uni_ccc(low[k]));
}

/* Normalizes and pre-tokenizes one non-ASCII (or any) code point. */
static void process_cp(enc_state *s, uint32_t cp)
{
    const tok_options *o = &s->t->opt;
    if (tok_uni_is_removed(cp)) return;
    if (tok_uni_is_space(cp)) {
        flush_word(s);
        return;
    }
    bool cjk = o->tokenize_chinese_chars && tok_uni_is_cjk(cp);
    if (cjk) flush_word(s);
    if (o->strip_accents) {
        uint32_t d[8];
        int nd = tok_uni_nfd(cp, d, 8);
        for (int k = 0; k < nd; k++) {
            int ccc = tok_uni_ccc(d[k]);
            if (tok_uni_is_mn(d[k])) {
                if (ccc == 0) s->run_start = s->wlen; /* a dropped starter still ends the run */
                continue;
            }
            lower_char(s, d[k], ccc);
        }
    } else {
        lower_char(s, cp, 0); /* no NFD, so no reordering */
    }
    if (cjk) flush_word(s);
}

/* Length of the special token matching at p (leftmost-longest), 0 if none. */
static uint32_t match_special(const tok_tokenizer *t, const char *p, size_t avail, int32_t *id)
{
    uint32_t best = 0;
    for (uint32_t k = 0; k < t->n_special; k++) {
        const tok_special *sp = &t->special[k];
        if (sp->len > best && sp->len <= avail && memcmp(p, sp->str, sp->len) == 0) {
            best = sp->len;
            *id = sp->id;
        }
    }
    return best;
}

senti_status tok_encode(const tok_tokenizer *t, const char *text, size_t len, int32_t *ids,
                        uint32_t cap, tok_encoding *enc, senti_err *err)
{
    if (!t || (!text && len) || !ids || !enc)
        return senti_fail(err, SENTI_E_INVALID, "tokenizer: NULL argument");
    if (cap < 2)
        return senti_fail(err, SENTI_E_INVALID,
                          "tokenizer: output capacity %u cannot hold [CLS] and [SEP]", cap);
    if (len > SENTI_MAX_TEXT_BYTES)
        return senti_fail(err, SENTI_E_LIMIT, "tokenizer: text of %zu bytes exceeds the limit of %u",
                          len, (unsigned)SENTI_MAX_TEXT_BYTES);
    size_t bad;
    if (tok_utf8_validate(text, len, &bad) != SENTI_OK)
        return senti_fail(err, SENTI_E_UTF8, "tokenizer: invalid UTF-8 at byte offset %zu", bad);

    uint32_t limit = cap < t->opt.max_length ? cap : t->opt.max_length;
    enc_state s;
    s.t = t;
    s.sink = (tok_sink){.ids = ids, .keep = limit - 1, .n = 0};
    s.wlen = 0;
    s.wchars = 0;
    s.run_start = 0;
    tok_sink_push(&s.sink, t->cls_id);

    const unsigned char *p = (const unsigned char *)text;
    const bool lower = t->opt.do_lower_case;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (t->special_first[c]) {
            int32_t sid;
            uint32_t m = match_special(t, text + i, len - i, &sid);
            if (m) {
                flush_word(&s);
                tok_sink_push(&s.sink, sid);
                i += m;
                continue;
            }
        }
        if (c < 0x80) {
            switch (ascii_class[c]) {
            case ASC_WORD:
                if (++s.wchars <= SENTI_MAX_WORD_CHARS + 1) {
                    s.word[s.wlen++] = (char)(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
                    s.run_start = s.wlen;
                }
                break;
            case ASC_SPACE:
                flush_word(&s);
                break;
            case ASC_PUNCT:
                flush_word(&s);
                s.word[0] = (char)c;
                tok_wordpiece(t, s.word, 1, 1, &s.sink);
                break;
            default: /* removed control character */
                break;
            }
            i++;
            continue;
        }
        uint32_t cp;
        i += tok_utf8_decode(p + i, &cp);
        process_cp(&s, cp);
    }
    flush_word(&s);

    uint32_t total = s.sink.n + 1; /* + [SEP] */
    enc->n_untruncated = total;
    enc->truncated = total > limit;
    enc->n = enc->truncated ? limit : total;
    ids[enc->n - 1] = t->sep_id;
    return SENTI_OK;
}
