/* tokenizer/wordpiece.c - greedy longest-match-first WordPiece.
 *
 * As the reference (tokenizers' WordPiece model): a word of more than
 * max_input_chars_per_word (100) characters is [UNK]; otherwise take the
 * longest vocabulary prefix, then the longest "##"-prefixed continuation of the
 * rest, and so on; if some position has no match the whole word is [UNK].
 * No allocation: candidates are looked up in place (vocab.c hashes "##"
 * without copying).
 */
#include "common/limits.h"
#include "tokenizer/tokenizer_internal.h"

void tok_wordpiece(const tok_tokenizer *t, const char *word, size_t len, uint32_t nchars,
                   tok_sink *sink)
{
    if (nchars > SENTI_MAX_WORD_CHARS) {
        tok_sink_push(sink, t->unk_id);
        return;
    }
    /* Whole-word hit first: the common case. */
    int32_t id = tok_vocab_find(t, word, len, false);
    if (id >= 0) {
        tok_sink_push(sink, id);
        return;
    }
    int32_t pieces[SENTI_MAX_WORD_CHARS];
    uint32_t np = 0;
    /* Hash of word[start..end) for every character boundary end, in one
     * forward pass (FNV-1a is sequential), then tried longest first. */
    uint32_t hashes[SENTI_MAX_WORD_CHARS + 1];
    uint16_t ends[SENTI_MAX_WORD_CHARS + 1];
    size_t start = 0;
    while (start < len) {
        bool cont = start > 0;
        size_t pre = cont ? 2 : 0;
        size_t max_len = t->max_token_bytes > pre ? t->max_token_bytes - pre : 0;
        uint32_t h = cont ? TOK_FNV_HASHHASH : TOK_FNV_OFFSET;
        int nb = 0;
        for (size_t k = start; k < len && k - start < max_len;) {
            h = tok_fnv_step(h, (unsigned char)word[k++]);
            if (k == len || ((unsigned char)word[k] & 0xC0) != 0x80) {
                if (k - start > max_len) break;
                hashes[nb] = h;
                ends[nb++] = (uint16_t)k;
            }
        }
        int32_t found = -1;
        while (nb > 0) {
            nb--;
            found = tok_vocab_find_hashed(t, hashes[nb], word + start, ends[nb] - start, cont);
            if (found >= 0) break;
        }
        if (found < 0) {
            tok_sink_push(sink, t->unk_id);
            return;
        }
        pieces[np++] = found; /* at most one piece per character */
        start = ends[nb];
    }
    for (uint32_t i = 0; i < np; i++) tok_sink_push(sink, pieces[i]);
}
