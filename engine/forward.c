/* engine/forward.c - per-thread state and the fp32 forward pass of
 * DistilBertForSequenceClassification (Hugging Face semantics).
 *
 * The tokens of every sequence in a batch are packed one after another
 * (N = sum of lens rows, no padding) for the linear layers; attention runs per
 * sequence and per head over that sequence's own keys only, so a sequence's
 * result does not depend on its neighbours in the batch.
 *
 * The classifier reads one row per sequence, the last layer's output for its
 * first token ([CLS]). In a layer, only attention mixes tokens, and only
 * through the keys and values; everything else is row by row. So unless the
 * caller asks for every token's hidden state (eng_state_keep_hidden), the last
 * layer computes keys and values for all tokens and the rest (its queries,
 * attention output, FFN, layer norms) for the [CLS] rows alone: at 6 layers
 * about 1/7 of the work is skipped, and the logits do not change (bit for bit
 * with the packed and int8 kernels, whose rows do not depend on the row count).
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "engine/engine_internal.h"

/* Sub-buffers start on 64-byte boundaries: 16 floats. */
static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

senti_status eng_state_create_tokens(const eng_model *m, uint32_t max_batch, uint32_t max_seq,
                                     size_t max_tokens, eng_state **out, senti_err *err)
{
    if (!m || !out) return senti_fail(err, SENTI_E_INVALID, "engine: NULL model or output");
    const wt_config *c = &m->cfg;
    uint32_t seq_cap = c->max_positions < SENTI_MAX_SEQ ? c->max_positions : SENTI_MAX_SEQ;
    if (max_batch < 1 || max_batch > SENTI_MAX_BATCH)
        return senti_fail(err, SENTI_E_LIMIT, "engine: max_batch %u out of range 1..%u", max_batch,
                          (unsigned)SENTI_MAX_BATCH);
    if (max_seq < 1 || max_seq > seq_cap)
        return senti_fail(err, SENTI_E_LIMIT,
                          "engine: max_seq %u out of range 1..%u (model positions %u)", max_seq,
                          seq_cap, c->max_positions);
    size_t all = (size_t)max_batch * max_seq;
    if (max_tokens == 0) max_tokens = all;
    if (max_tokens < max_seq || max_tokens > all)
        return senti_fail(
            err, SENTI_E_LIMIT,
            "engine: max_tokens %zu out of range %u..%zu (max_seq..max_batch*max_seq)", max_tokens,
            max_seq, all);

    size_t D = c->dim, wide = 3 * D > c->hidden_dim ? 3 * D : c->hidden_dim;
    size_t nd, nw, nsc, nq = 0, floats = 0;
    size_t attn = round16(m->kern->attention_scratch(max_seq, D / c->n_heads));
    size_t threads = (size_t)eng_pool_threads(m->pool);
    size_t ldq = eng_qgemm_act_stride(D > c->hidden_dim ? D : c->hidden_dim);
    /* Bounded by limits.h (131072 tokens x 65536 floats), but checked anyway. */
    if (!senti_mul_size(max_tokens, round16(D), &nd) ||
        !senti_mul_size(max_tokens, round16(wide), &nw) ||
        !senti_mul_size(threads, attn, &nsc) ||
        (m->has_int8 && !senti_mul_size(max_tokens, ldq / sizeof(float), &nq)))
        return senti_fail(err, SENTI_E_LIMIT, "engine: activation size overflows");
    size_t parts[9] = {
        nd,                             /* x */
        nw,                             /* wide */
        nd,                             /* ctx */
        nd,                             /* tmp */
        nsc,                            /* attn_scratch, one per thread */
        round16((size_t)max_batch * D), /* cls */
        round16((size_t)max_batch * D), /* pre */
        nq,                             /* xq (ldq is a multiple of 64 bytes) */
        m->has_int8 ? round16(max_tokens) : 0, /* xs */
    };
    for (int i = 0; i < 9; i++)
        if (!senti_add_size(floats, parts[i], &floats))
            return senti_fail(err, SENTI_E_LIMIT, "engine: activation size overflows");
    size_t bytes;
    if (!senti_mul_size(floats, sizeof(float), &bytes))
        return senti_fail(err, SENTI_E_LIMIT, "engine: activation size overflows");

    eng_state *s = senti_calloc(1, sizeof *s);
    float *block = senti_alloc_aligned(bytes);
    size_t *offsets = senti_calloc((size_t)max_batch + 1, sizeof *offsets);
    if (!s || !block || !offsets) {
        senti_free(s);
        senti_free_aligned(block);
        senti_free(offsets);
        return senti_fail(err, SENTI_E_NOMEM,
                          "engine: out of memory for activations (%zu bytes for %zu tokens); "
                          "lower the batch size or sequence length",
                          bytes, max_tokens);
    }
    s->m = m;
    s->max_batch = max_batch;
    s->max_seq = max_seq;
    s->max_tokens = max_tokens;
    s->offsets = offsets;
    float *p = block;
    s->x = p, p += parts[0];
    s->wide = p, p += parts[1];
    s->ctx = p, p += parts[2];
    s->tmp = p, p += parts[3];
    s->attn_scratch = p, p += parts[4];
    s->attn_stride = attn;
    s->cls = p, p += parts[5];
    s->pre = p, p += parts[6];
    s->xq = m->has_int8 ? (uint8_t *)p : NULL, p += parts[7];
    s->xs = m->has_int8 ? p : NULL;
    s->nt = 1;
    *out = s;
    return SENTI_OK;
}

senti_status eng_state_create(const eng_model *m, uint32_t max_batch, uint32_t max_seq,
                              eng_state **out, senti_err *err)
{
    return eng_state_create_tokens(m, max_batch, max_seq, 0, out, err);
}

void eng_state_free(eng_state *s)
{
    if (!s) return;
    senti_free_aligned(s->x); /* the start of the one activation block */
    senti_free(s->offsets);
    senti_free(s);
}

size_t eng_state_max_tokens(const eng_state *s)
{
    return s->max_tokens;
}

void eng_state_keep_hidden(eng_state *s, bool keep)
{
    if (!s) return;
    s->keep_hidden = keep;
    s->n_last = 0;
}

const float *eng_state_hidden(const eng_state *s, uint32_t i)
{
    if (!s || i >= s->n_last) return NULL;
    return s->x + s->offsets[i] * s->m->cfg.dim;
}

/* Every check happens before the first write to the state. */
static senti_status check_input(const eng_model *m, const eng_state *s, uint32_t n,
                                const int32_t *const *ids, const uint32_t *lens,
                                const float *logits, senti_err *err)
{
    if (!m || !s || !ids || !lens || !logits)
        return senti_fail(err, SENTI_E_INVALID, "engine: NULL model, state, ids, lens or logits");
    if (s->m != m)
        return senti_fail(err, SENTI_E_INVALID,
                          "engine: the state was created for a different model");
    if (n < 1 || n > s->max_batch)
        return senti_fail(err, n < 1 ? SENTI_E_INVALID : SENTI_E_LIMIT,
                          "engine: batch of %u sequences; this state takes 1..%u", n, s->max_batch);
    size_t total = 0;
    uint32_t vocab = m->cfg.vocab_size;
    for (uint32_t i = 0; i < n; i++) {
        if (lens[i] < 1)
            return senti_fail(err, SENTI_E_INVALID, "engine: sequence %u is empty (length 0)", i);
        if (lens[i] > s->max_seq)
            return senti_fail(err, SENTI_E_LIMIT,
                              "engine: sequence %u has %u tokens; the limit is %u (truncate it)", i,
                              lens[i], s->max_seq);
        if (!ids[i]) return senti_fail(err, SENTI_E_INVALID, "engine: sequence %u: NULL ids", i);
        for (uint32_t t = 0; t < lens[i]; t++)
            if (ids[i][t] < 0 || (uint32_t)ids[i][t] >= vocab)
                return senti_fail(err, SENTI_E_INVALID,
                                  "engine: sequence %u, token %u: id %d out of range [0, %u)", i, t,
                                  (int)ids[i][t], vocab);
        total += lens[i];
    }
    if (total > s->max_tokens)
        return senti_fail(
            err, SENTI_E_LIMIT,
            "engine: batch carries %zu tokens; this state holds %zu (split the batch)", total,
            s->max_tokens);
    return SENTI_OK;
}

/* x (N, D) = LN(word[ids] + pos[0..T)) per sequence */
static void embed(const eng_model *m, eng_state *s, uint32_t n, const int32_t *const *ids,
                  const uint32_t *lens)
{
    size_t D = m->cfg.dim;
    for (uint32_t i = 0; i < n; i++) {
        float *xi = s->x + s->offsets[i] * D;
        for (uint32_t t = 0; t < lens[i]; t++)
            memcpy(xi + t * D, m->word_emb + (size_t)ids[i][t] * D, D * sizeof(float));
        m->kern->add_layernorm(xi, xi, m->pos_emb, m->emb_ln_g, m->emb_ln_b, lens[i], D,
                               m->cfg.ln_eps);
    }
}

typedef struct attn_job {
    const eng_model *m;
    eng_state *s;
    uint32_t n;
    const uint32_t *lens;
    /* NULL: every token's query from s->wide, context into s->ctx by token.
     * Else the [CLS] query of sequence i alone, at q + offsets[i] * ldq
     * (q_packed_rows: a row per token) or q + i * ldq (a row per sequence), its
     * context into row i of s->ctx. */
    const float *q;
    size_t ldq;
    bool q_packed_rows;
} attn_job;

/* ctx (N, D) = concat_h softmax(Q_h K_h^T / sqrt(dh)) V_h, per sequence.
 * wide holds q|k|v per token: (N, 3D). The (sequence, head) pairs are split
 * across threads; each thread has its own scratch for the fused kernel. */
static void attention_task(void *arg, int chunk, int chunks, int tid)
{
    const attn_job *j = arg;
    const eng_model *m = j->m;
    eng_state *s = j->s;
    size_t D = m->cfg.dim, nh = m->cfg.n_heads, dh = D / nh, ld = 3 * D;
    float scale = 1.0f / sqrtf((float)dh);
    float *scratch = s->attn_scratch + (size_t)tid * s->attn_stride;
    size_t lo, hi;
    eng_split((size_t)j->n * nh, 1, chunk, chunks, &lo, &hi);
    for (size_t p = lo; p < hi; p++) {
        size_t i = p / nh, h = p % nh;
        size_t T = j->lens[i], off = s->offsets[i];
        const float *k = s->wide + off * ld + D + h * dh, *v = k + D;
        if (!j->q) {
            /* ctx_h (T, dh) = softmax(scale Q_h K_h^T) V_h */
            m->kern->attention(k - D, ld, T, k, v, ld, T, dh, scale, s->ctx + off * D + h * dh, D,
                               scratch);
        } else {
            /* the [CLS] row alone: ctx_h (1, dh) = softmax(scale q_h K_h^T) V_h */
            const float *q = j->q + (j->q_packed_rows ? off : i) * j->ldq + h * dh;
            m->kern->attention(q, j->ldq, 1, k, v, ld, T, dh, scale, s->ctx + i * D + h * dh, D,
                               scratch);
        }
    }
}

/* q == NULL: every token attends (queries in s->wide, context into s->ctx by
 * token). Else only each sequence's [CLS] row (see attn_job). */
static void attention(const eng_model *m, eng_state *s, uint32_t n, const uint32_t *lens,
                      size_t N, const float *q, size_t ldq, bool q_packed_rows)
{
    attn_job j = {.m = m,
                  .s = s,
                  .n = n,
                  .lens = lens,
                  .q = q,
                  .ldq = ldq,
                  .q_packed_rows = q_packed_rows};
    /* One chunk per (sequence, head); below ~12 tokens a head costs less than
     * waking a thread (fused kernel, DistilBERT-base, 2 threads, us per layer:
     * 8 tokens 7.7 split vs 7.5 not, 12 tokens 8.5 vs 10.4, 16: 11.4 vs 12.5). */
    int pairs = (int)(n * m->cfg.n_heads);
    eng_pool_run(m->pool, s->nt, N >= 12 ? pairs : 1, attention_task, &j);
}

/* Residual add + layer norm, split by rows across the pool when large. */
typedef struct rows_job {
    const eng_model *m;
    float *y;
    const float *x, *r, *g, *b;
    size_t rows, dim;
} rows_job;

static void rows_task(void *arg, int chunk, int chunks, int tid)
{
    (void)tid;
    const rows_job *j = arg;
    size_t lo, hi;
    eng_split(j->rows, 1, chunk, chunks, &lo, &hi);
    if (hi <= lo) return;
    size_t o = lo * j->dim;
    j->m->kern->add_layernorm(j->y + o, j->x + o, j->r + o, j->g, j->b, hi - lo, j->dim,
                              j->m->cfg.ln_eps);
}

/* Rows below which the layer norm stays on one thread (~25K floats). */
#define ROWS_PARALLEL 32

static void rows_run(const eng_model *m, eng_state *s, const rows_job *j)
{
    eng_pool_run(m->pool, s->nt, j->rows >= ROWS_PARALLEL ? 2 * s->nt : 1, rows_task, (void *)j);
}

/* The rest of a block once s->ctx holds the attention context of `rows` rows:
 * res (rows, D) = LN2(h + FFN(h)), h = LN1(res + out_lin(ctx)), in place
 * (res is s->x for a whole block, s->cls for the [CLS]-only last one). */
static void block_tail(const eng_model *m, eng_state *s, const eng_layer *L, float *res,
                       size_t rows)
{
    size_t D = m->cfg.dim;
    eng_act act = m->cfg.activation == WT_ACT_RELU ? ENG_ACT_RELU : ENG_ACT_GELU;

    eng_linear(m, s, s->tmp, s->ctx, rows, &L->o, ENG_ACT_NONE);
    rows_run(m, s,
             &(rows_job){.m = m, .y = res, .x = s->tmp, .r = res,
                         .g = L->ln1_g, .b = L->ln1_b, .rows = rows, .dim = D});
    eng_linear(m, s, s->wide, res, rows, &L->ffn1, act); /* (rows, H), activation fused */
    eng_linear(m, s, s->tmp, s->wide, rows, &L->ffn2, ENG_ACT_NONE);
    rows_run(m, s,
             &(rows_job){.m = m, .y = res, .x = s->tmp, .r = res,
                         .g = L->ln2_g, .b = L->ln2_b, .rows = rows, .dim = D});
}

/* x (N, D) -> x (N, D) through one post-LN transformer block */
static void block(const eng_model *m, eng_state *s, const eng_layer *L, uint32_t n,
                  const uint32_t *lens, size_t N)
{
    eng_linear(m, s, s->wide, s->x, N, &L->qkv, ENG_ACT_NONE); /* (N, 3D) */
    attention(m, s, n, lens, N, NULL, 0, false);
    block_tail(m, s, L, s->x, N);
}

/* s->cls (n, D) = each sequence's first row of s->x */
static void gather_cls(const eng_model *m, eng_state *s, uint32_t n)
{
    size_t D = m->cfg.dim;
    for (uint32_t i = 0; i < n; i++)
        memcpy(s->cls + i * D, s->x + s->offsets[i] * D, D * sizeof(float));
}

/* The last block for the [CLS] rows only (see the top of this file):
 * s->x (N, D) -> s->cls (n, D), the output for each sequence's first token. */
static void block_cls(const eng_model *m, eng_state *s, const eng_layer *L, uint32_t n,
                      const uint32_t *lens, size_t N)
{
    size_t D = m->cfg.dim;
    eng_lin q, kv;

    gather_cls(m, s, n);
    if (eng_lin_cols(&L->qkv, 0, D, &q) && eng_lin_cols(&L->qkv, D, 3 * D, &kv)) {
        /* keys and values of every token into s->wide (stride 3D, the q
         * columns unused), the [CLS] queries into s->pre (n, D) */
        eng_linear_ld(m, s, s->wide + D, 3 * D, s->x, N, &kv, ENG_ACT_NONE);
        eng_linear(m, s, s->pre, s->cls, n, &q, ENG_ACT_NONE);
        attention(m, s, n, lens, N, s->pre, D, false);
    } else {
        /* the packed q|k|v cannot be cut at D (D not a whole number of panels) */
        eng_linear(m, s, s->wide, s->x, N, &L->qkv, ENG_ACT_NONE);
        attention(m, s, n, lens, N, s->wide, 3 * D, true);
    }
    /* from here on, n rows: ctx, tmp, wide and cls hold one row per sequence */
    block_tail(m, s, L, s->cls, n);
}

senti_status eng_forward(const eng_model *m, eng_state *s, uint32_t n, const int32_t *const *ids,
                         const uint32_t *lens, float *logits, senti_err *err)
{
    if (s) s->n_last = 0;
    senti_status st = check_input(m, s, n, ids, lens, logits, err);
    if (st != SENTI_OK) return st;
    size_t N = 0;
    for (uint32_t i = 0; i < n; i++) {
        s->offsets[i] = N;
        N += lens[i];
    }
    s->offsets[n] = N;

    /* The pool serves one forward at a time; a concurrent one runs on its caller alone. */
    bool pooled = eng_pool_acquire(m->pool);
    s->nt = pooled ? eng_pool_threads(m->pool) : 1;
    embed(m, s, n, ids, lens);
    /* (validation guarantees n_layers >= 1; the guard keeps 0 from wrapping) */
    uint32_t layers = m->cfg.n_layers, full = s->keep_hidden || layers == 0 ? layers : layers - 1;
    for (uint32_t l = 0; l < full; l++) block(m, s, &m->layers[l], n, lens, N);
    if (full == layers)
        gather_cls(m, s, n);
    else
        block_cls(m, s, &m->layers[layers - 1], n, lens, N);

    /* Classifier head on each sequence's first token ([CLS]), now in s->cls. */
    eng_linear(m, s, s->pre, s->cls, n, &m->pre, ENG_ACT_RELU); /* pre_classifier + ReLU */
    eng_linear(m, s, logits, s->pre, n, &m->cls, ENG_ACT_NONE);
    if (pooled) eng_pool_release(m->pool);
    s->nt = 1;
    s->n_last = s->keep_hidden ? n : 0;
    return SENTI_OK;
}

void eng_softmax_logits(const float *logits, uint32_t n, float *probs)
{
    if (n == 0) return;
    float mx = logits[0];
    for (uint32_t i = 1; i < n; i++)
        if (logits[i] > mx) mx = logits[i];
    double sum = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        probs[i] = expf(logits[i] - mx);
        sum += (double)probs[i];
    }
    for (uint32_t i = 0; i < n; i++) probs[i] = (float)((double)probs[i] / sum);
}
