/* tokenizer/vocab.c - the vocabulary: one string pool, an open-addressing hash
 * table (FNV-1a, linear probing) built once, creation from a token list, a
 * vocab.txt or a loaded model, and the read-only accessors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "tokenizer/tokenizer_internal.h"
#include "weights/weights.h"

static inline uint32_t fnv_bytes(uint32_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) h = tok_fnv_step(h, (unsigned char)s[i]);
    return h;
}

static inline uint32_t token_len(const tok_tokenizer *t, int32_t id)
{
    return t->off[id + 1] - t->off[id] - 1;
}

int32_t tok_vocab_find_hashed(const tok_tokenizer *t, uint32_t h, const char *s, size_t len,
                              bool continuation)
{
    size_t full = len + (continuation ? 2 : 0);
    if (full > t->max_token_bytes) return -1;
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const tok_slot *sl = &t->slots[i];
        if (sl->id < 0) return -1;
        if (sl->hash != h || token_len(t, sl->id) != full) continue;
        const char *tok = t->pool + t->off[sl->id];
        if (continuation) {
            if (tok[0] != '#' || tok[1] != '#') continue;
            tok += 2;
        }
        size_t k = 0; /* tokens are short: a plain loop beats a libc call */
        while (k < len && tok[k] == s[k]) k++;
        if (k == len) return sl->id;
    }
}

int32_t tok_vocab_find(const tok_tokenizer *t, const char *s, size_t len, bool continuation)
{
    uint32_t h = fnv_bytes(continuation ? TOK_FNV_HASHHASH : TOK_FNV_OFFSET, s, len);
    return tok_vocab_find_hashed(t, h, s, len, continuation);
}

tok_options tok_options_default(void)
{
    tok_options o = {
        .do_lower_case = true,
        .strip_accents = true,
        .tokenize_chinese_chars = true,
        .max_length = 512,
        .unk_token = "[UNK]",
        .cls_token = "[CLS]",
        .sep_token = "[SEP]",
        .pad_token = "[PAD]",
        .mask_token = "[MASK]",
    };
    return o;
}

/* Resolves one special token named in the options; required ones must exist.
 * *name is re-pointed at the pool so the tokenizer owns every string. */
static senti_status resolve_special(tok_tokenizer *t, const char **name, const char *what,
                                    bool required, int32_t *id_out, senti_err *err)
{
    if (!*name || !**name) {
        if (required)
            return senti_fail(err, SENTI_E_INVALID, "tokenizer: options name no %s", what);
        *name = NULL;
        if (id_out) *id_out = -1;
        return SENTI_OK;
    }
    int32_t id = tok_vocab_find(t, *name, strlen(*name), false);
    if (id < 0)
        return senti_fail(err, SENTI_E_MISSING,
                          "tokenizer: special token '%s' (%s) is not in the vocabulary; "
                          "check the vocabulary file or the tokenizer options",
                          *name, what);
    *name = t->pool + t->off[id];
    if (id_out) *id_out = id;
    /* Added tokens are matched in the raw text (tokenizers' AddedVocabulary). */
    for (uint32_t k = 0; k < t->n_special; k++)
        if (t->special[k].id == id) return SENTI_OK;
    tok_special *sp = &t->special[t->n_special++];
    sp->str = *name;
    sp->len = token_len(t, id);
    sp->id = id;
    t->special_first[(unsigned char)sp->str[0]] = 1;
    return SENTI_OK;
}

senti_status tok_create(const char *const *tokens, uint32_t n, const tok_options *opt,
                        tok_tokenizer **out, senti_err *err)
{
    senti_status st;
    tok_tokenizer *t = NULL;
    tok_options o = opt ? *opt : tok_options_default();
    if (!tokens || !out) return senti_fail(err, SENTI_E_INVALID, "tokenizer: NULL argument");
    if (n == 0 || n > SENTI_MAX_VOCAB)
        return senti_fail(err, SENTI_E_LIMIT, "tokenizer: vocabulary size %u not in 1..%u", n,
                          (unsigned)SENTI_MAX_VOCAB);
    if (o.max_length < 2 || o.max_length > SENTI_MAX_POSITIONS)
        return senti_fail(err, SENTI_E_INVALID,
                          "tokenizer: max_length %u not in 2..%u (it counts [CLS] and [SEP])",
                          o.max_length, (unsigned)SENTI_MAX_POSITIONS);

    size_t pool_bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!tokens[i])
            return senti_fail(err, SENTI_E_INVALID, "tokenizer: vocabulary token %u is NULL", i);
        size_t l = strlen(tokens[i]);
        size_t bad;
        if (l >= SENTI_MAX_TOKEN_BYTES) /* the limit counts the NUL, as in weights/ */
            return senti_fail(err, SENTI_E_LIMIT,
                              "tokenizer: vocabulary token %u is %zu bytes (limit %u)", i, l,
                              (unsigned)SENTI_MAX_TOKEN_BYTES - 1);
        if (tok_utf8_validate(tokens[i], l, &bad) != SENTI_OK)
            return senti_fail(err, SENTI_E_FORMAT,
                              "tokenizer: vocabulary token %u: invalid UTF-8 at byte offset %zu",
                              i, bad);
        pool_bytes += l + 1; /* bounded: n * 256 <= 2^28 */
    }

    t = senti_calloc(1, sizeof *t);
    if (!t) return senti_fail(err, SENTI_E_NOMEM, "tokenizer: out of memory");
    uint32_t nslots = 1024;
    while (nslots < 2 * n) nslots *= 2; /* load factor <= 1/2 */
    t->n = n;
    t->mask = nslots - 1;
    t->pool = senti_malloc(pool_bytes);
    t->off = senti_calloc((size_t)n + 1, sizeof *t->off);
    t->slots = senti_malloc((size_t)nslots * sizeof *t->slots);
    if (!t->pool || !t->off || !t->slots) {
        st = senti_fail(err, SENTI_E_NOMEM, "tokenizer: out of memory for %u tokens", n);
        goto fail;
    }
    for (uint32_t i = 0; i < nslots; i++) t->slots[i] = (tok_slot){0, -1};

    uint32_t pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l = (uint32_t)strlen(tokens[i]);
        t->off[i] = pos;
        memcpy(t->pool + pos, tokens[i], l + 1);
        pos += l + 1;
        if (l > t->max_token_bytes) t->max_token_bytes = l;
    }
    t->off[n] = pos;
    for (uint32_t i = 0; i < n; i++) {
        const char *s = t->pool + t->off[i];
        uint32_t l = token_len(t, (int32_t)i);
        uint32_t h = fnv_bytes(TOK_FNV_OFFSET, s, l);
        uint32_t k = h & t->mask;
        for (;; k = (k + 1) & t->mask) {
            tok_slot *sl = &t->slots[k];
            if (sl->id < 0) break;
            /* A repeated token maps to its last id, as in the reference's vocab map. */
            if (sl->hash == h && token_len(t, sl->id) == l && !memcmp(t->pool + t->off[sl->id], s, l))
                break;
        }
        t->slots[k] = (tok_slot){h, (int32_t)i};
    }

    SENTI_TRY(resolve_special(t, &o.unk_token, "unk_token", true, &t->unk_id, err));
    SENTI_TRY(resolve_special(t, &o.cls_token, "cls_token", true, &t->cls_id, err));
    SENTI_TRY(resolve_special(t, &o.sep_token, "sep_token", true, &t->sep_id, err));
    SENTI_TRY(resolve_special(t, &o.pad_token, "pad_token", false, NULL, err));
    SENTI_TRY(resolve_special(t, &o.mask_token, "mask_token", false, NULL, err));
    t->opt = o;
    *out = t;
    return SENTI_OK;
fail:
    tok_free(t);
    return st;
}

void tok_free(tok_tokenizer *t)
{
    if (!t) return;
    senti_free(t->slots);
    senti_free(t->off);
    senti_free(t->pool);
    senti_free(t);
}

senti_status tok_create_from_vocab_file(const char *path, const tok_options *opt,
                                        tok_tokenizer **out, senti_err *err)
{
    senti_status st;
    char *buf = NULL;
    const char **toks = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return senti_fail(err, SENTI_E_IO, "tokenizer: open '%s': %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = senti_fail(err, SENTI_E_IO, "tokenizer: '%s': cannot determine size", path);
        goto fail;
    }
    if ((unsigned long)size > (unsigned long)SENTI_MAX_VOCAB * (SENTI_MAX_TOKEN_BYTES + 2)) {
        st = senti_fail(err, SENTI_E_LIMIT, "tokenizer: '%s': %ld bytes is too large for a vocabulary",
                        path, size);
        goto fail;
    }
    buf = senti_malloc((size_t)size + 1);
    if (!buf) {
        st = senti_fail(err, SENTI_E_NOMEM, "tokenizer: out of memory reading '%s'", path);
        goto fail;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = senti_fail(err, SENTI_E_IO, "tokenizer: read '%s': short read", path);
        goto fail;
    }
    buf[size] = '\0';

    size_t n = 0;
    for (long i = 0; i < size; i++) n += buf[i] == '\n';
    if (size > 0 && buf[size - 1] != '\n') n++; /* last line without newline */
    if (n == 0 || n > SENTI_MAX_VOCAB) {
        st = senti_fail(err, SENTI_E_FORMAT, "tokenizer: '%s': %zu tokens (expected 1..%u, one per line)",
                        path, n, (unsigned)SENTI_MAX_VOCAB);
        goto fail;
    }
    toks = senti_calloc(n, sizeof *toks);
    if (!toks) {
        st = senti_fail(err, SENTI_E_NOMEM, "tokenizer: out of memory reading '%s'", path);
        goto fail;
    }
    char *p = buf, *end = buf + size;
    for (size_t i = 0; i < n; i++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        if (e > p && e[-1] == '\r') e--;
        if (memchr(p, '\0', (size_t)(e - p))) {
            st = senti_fail(err, SENTI_E_FORMAT, "tokenizer: '%s': line %zu contains a NUL byte", path,
                            i + 1);
            goto fail;
        }
        *e = '\0';
        toks[i] = p;
        p = nl ? nl + 1 : end;
    }
    st = tok_create(toks, (uint32_t)n, opt, out, err);
    if (st != SENTI_OK) senti_err_prefix(err, "vocabulary file '%s' (token N is on line N+1)", path);
fail:
    senti_free(toks);
    senti_free(buf);
    fclose(f);
    return st;
}

senti_status tok_create_from_model(const wt_model *m, tok_tokenizer **out, senti_err *err)
{
    senti_status st;
    const wt_config *cfg = wt_model_config(m);
    uint32_t n = wt_model_vocab_size(m);
    if (n == 0)
        return senti_fail(err, SENTI_E_MISSING,
                          "tokenizer: the model has no vocabulary; re-run 'senti convert'");
    const char **toks = senti_calloc(n, sizeof *toks);
    if (!toks) return senti_fail(err, SENTI_E_NOMEM, "tokenizer: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        toks[i] = wt_model_vocab_token(m, i);
        if (!toks[i]) {
            st = senti_fail(err, SENTI_E_FORMAT, "tokenizer: model vocabulary token %u is missing", i);
            goto fail;
        }
    }
    const wt_tok_config *tc = &cfg->tok;
    tok_options o = tok_options_default();
    o.do_lower_case = tc->do_lower_case;
    o.strip_accents = tc->strip_accents;
    o.tokenize_chinese_chars = tc->tokenize_chinese_chars;
    if (tc->max_length) o.max_length = tc->max_length;
    /* Empty names in the file mean the BERT defaults (required ones) or none. */
    if (tc->unk_token[0]) o.unk_token = tc->unk_token;
    if (tc->cls_token[0]) o.cls_token = tc->cls_token;
    if (tc->sep_token[0]) o.sep_token = tc->sep_token;
    o.pad_token = tc->pad_token[0] ? tc->pad_token : NULL;
    o.mask_token = tc->mask_token[0] ? tc->mask_token : NULL;
    st = tok_create(toks, n, &o, out, err);
fail:
    senti_free(toks);
    return st;
}

const char *tok_id_to_token(const tok_tokenizer *t, int32_t id)
{
    if (!t || id < 0 || (uint32_t)id >= t->n) return NULL;
    return t->pool + t->off[id];
}

int32_t tok_token_to_id(const tok_tokenizer *t, const char *token)
{
    if (!t || !token) return -1;
    return tok_vocab_find(t, token, strlen(token), false);
}

uint32_t tok_vocab_size(const tok_tokenizer *t)
{
    return t ? t->n : 0;
}

uint32_t tok_max_length(const tok_tokenizer *t)
{
    return t ? t->opt.max_length : 0;
}
