/* net/backend.c - the net_backend over the real engine and tokenizer. */
#include "net/net.h"

typedef struct eng_pair {
    eng_model *m;
    const tok_tokenizer *t;
} eng_pair;

static senti_status be_encode(void *ctx, const char *text, size_t len, int32_t *ids, uint32_t cap,
                              uint32_t *n, bool *truncated, senti_err *err)
{
    const eng_pair *p = ctx;
    tok_encoding enc = {0};
    senti_status st = tok_encode(p->t, text, len, ids, cap, &enc, err);
    if (st != SENTI_OK) return st;
    *n = enc.n;
    *truncated = enc.truncated || enc.n_untruncated > enc.n;
    return SENTI_OK;
}

static senti_status be_state_create(void *ctx, uint32_t max_batch, uint32_t max_seq,
                                    uint32_t max_tokens, void **state, senti_err *err)
{
    const eng_pair *p = ctx;
    eng_state *s = NULL;
    senti_status st = eng_state_create_tokens(p->m, max_batch, max_seq, max_tokens, &s, err);
    if (st == SENTI_OK) *state = s;
    return st;
}

static void be_state_free(void *ctx, void *state)
{
    (void)ctx;
    eng_state_free(state);
}

static senti_status be_forward(void *ctx, void *state, uint32_t n, const int32_t *const *ids,
                               const uint32_t *lens, float *logits, senti_err *err)
{
    const eng_pair *p = ctx;
    return eng_forward(p->m, state, n, ids, lens, logits, err);
}

void net_backend_engine(eng_model *m, const tok_tokenizer *t, net_backend *out)
{
    /* One pair per process is all `senti serve` needs; the storage is static so
     * the backend has nothing to free. */
    static eng_pair pair;
    pair.m = m;
    pair.t = t;
    *out = (net_backend){.ctx = &pair,
                         .encode = be_encode,
                         .state_create = be_state_create,
                         .state_free = be_state_free,
                         .forward = be_forward};
}
