/* tests/support/ref_forward.c - scalar reference DistilBERT, written from the
 * PyTorch reference (shared/anchors/distilbert_ref.py) and independently of
 * engine/: every product is a plain loop accumulated in double. */
#include "tests/support/ref_forward.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tensor access ---------------------------------------------------------- */

static const float *tensor(const wt_model *w, const char *name, uint64_t count, senti_err *err)
{
    const wt_tensor *t = wt_model_tensor(w, name);
    if (!t) {
        senti_fail(err, SENTI_E_MISSING, "ref: tensor '%s' missing", name);
        return NULL;
    }
    if (t->dtype != WT_DTYPE_F32 || t->nbytes != count * sizeof(float)) {
        senti_fail(err, SENTI_E_SHAPE, "ref: tensor '%s' is not f32 with %llu values", name,
                   (unsigned long long)count);
        return NULL;
    }
    return t->data;
}

static const float *layer_tensor(const wt_model *w, uint32_t l, const char *what, uint64_t count,
                                 senti_err *err)
{
    char name[256];
    snprintf(name, sizeof name, "distilbert.transformer.layer.%u.%s", l, what);
    return tensor(w, name, count, err);
}

/* --- the operations, one loop nest each ----------------------------------- */

/* y[t][o] = b[o] + sum_i x[t][i] * W[o][i] */
static void linear(float *y, const float *x, uint32_t T, const float *W, const float *b,
                   uint32_t out, uint32_t in)
{
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t o = 0; o < out; o++) {
            double acc = (double)b[o];
            for (uint32_t i = 0; i < in; i++)
                acc += (double)x[(size_t)t * in + i] * (double)W[(size_t)o * in + i];
            y[(size_t)t * out + o] = (float)acc;
        }
}

/* x[t] = (x[t] - mean) / sqrt(var + eps) * g + b, biased variance */
static void layernorm(float *x, uint32_t T, uint32_t D, const float *g, const float *b, double eps)
{
    for (uint32_t t = 0; t < T; t++) {
        float *r = x + (size_t)t * D;
        double mean = 0, var = 0;
        for (uint32_t i = 0; i < D; i++) mean += (double)r[i];
        mean /= D;
        for (uint32_t i = 0; i < D; i++) var += ((double)r[i] - mean) * ((double)r[i] - mean);
        var /= D;
        double inv = 1.0 / sqrt(var + eps);
        for (uint32_t i = 0; i < D; i++)
            r[i] = (float)(((double)r[i] - mean) * inv * (double)g[i] + (double)b[i]);
    }
}

/* ctx = softmax((q / sqrt(dh)) k^T) v, head by head; q, k, v, ctx (T, D) */
static void attention(float *ctx, const float *q, const float *k, const float *v, uint32_t T,
                      uint32_t D, uint32_t H, double *p)
{
    uint32_t dh = D / H;
    double scale = 1.0 / sqrt((double)dh);
    for (uint32_t h = 0; h < H; h++)
        for (uint32_t i = 0; i < T; i++) {
            double mx = -INFINITY, sum = 0;
            for (uint32_t j = 0; j < T; j++) {
                double s = 0;
                for (uint32_t e = 0; e < dh; e++)
                    s += (double)q[(size_t)i * D + h * dh + e] * scale *
                         (double)k[(size_t)j * D + h * dh + e];
                p[j] = s;
                if (s > mx) mx = s;
            }
            for (uint32_t j = 0; j < T; j++) {
                p[j] = exp(p[j] - mx);
                sum += p[j];
            }
            for (uint32_t e = 0; e < dh; e++) {
                double acc = 0;
                for (uint32_t j = 0; j < T; j++)
                    acc += p[j] / sum * (double)v[(size_t)j * D + h * dh + e];
                ctx[(size_t)i * D + h * dh + e] = (float)acc;
            }
        }
}

senti_status ref_forward(const wt_model *w, const int32_t *ids, uint32_t len, float *logits,
                         float *hidden, senti_err *err)
{
    const wt_config *c = wt_model_config(w);
    uint32_t D = c->dim, Hd = c->hidden_dim, T = len, L = c->n_labels;
    if (len < 1 || len > c->max_positions)
        return senti_fail(err, SENTI_E_INVALID, "ref: bad length %u", len);
    for (uint32_t t = 0; t < T; t++)
        if (ids[t] < 0 || (uint32_t)ids[t] >= c->vocab_size)
            return senti_fail(err, SENTI_E_INVALID, "ref: bad id %d", (int)ids[t]);

    size_t TD = (size_t)T * D;
    float *x = malloc(TD * sizeof *x), *q = malloc(TD * sizeof *q), *k = malloc(TD * sizeof *k),
          *v = malloc(TD * sizeof *v), *ctx = malloc(TD * sizeof *ctx), *y = malloc(TD * sizeof *y),
          *hid = malloc((size_t)T * Hd * sizeof *hid), *pre = malloc(D * sizeof *pre);
    double *p = malloc(T * sizeof *p);
    senti_status st = SENTI_E_NOMEM;
    if (!x || !q || !k || !v || !ctx || !y || !hid || !pre || !p) goto out;

    st = SENTI_E_MISSING;
    const float *we =
        tensor(w, "distilbert.embeddings.word_embeddings.weight", (uint64_t)c->vocab_size * D, err);
    const float *pe = tensor(w, "distilbert.embeddings.position_embeddings.weight",
                             (uint64_t)c->max_positions * D, err);
    const float *eg = tensor(w, "distilbert.embeddings.LayerNorm.weight", D, err);
    const float *eb = tensor(w, "distilbert.embeddings.LayerNorm.bias", D, err);
    if (!we || !pe || !eg || !eb) goto out;
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t i = 0; i < D; i++)
            x[(size_t)t * D + i] = we[(size_t)ids[t] * D + i] + pe[(size_t)t * D + i];
    layernorm(x, T, D, eg, eb, (double)c->ln_eps);

    for (uint32_t l = 0; l < c->n_layers; l++) {
        uint64_t DD = (uint64_t)D * D, HD = (uint64_t)Hd * D;
        const float *qw = layer_tensor(w, l, "attention.q_lin.weight", DD, err),
                    *qb = layer_tensor(w, l, "attention.q_lin.bias", D, err),
                    *kw = layer_tensor(w, l, "attention.k_lin.weight", DD, err),
                    *kb = layer_tensor(w, l, "attention.k_lin.bias", D, err),
                    *vw = layer_tensor(w, l, "attention.v_lin.weight", DD, err),
                    *vb = layer_tensor(w, l, "attention.v_lin.bias", D, err),
                    *ow = layer_tensor(w, l, "attention.out_lin.weight", DD, err),
                    *ob = layer_tensor(w, l, "attention.out_lin.bias", D, err),
                    *g1 = layer_tensor(w, l, "sa_layer_norm.weight", D, err),
                    *b1 = layer_tensor(w, l, "sa_layer_norm.bias", D, err),
                    *w1 = layer_tensor(w, l, "ffn.lin1.weight", HD, err),
                    *c1 = layer_tensor(w, l, "ffn.lin1.bias", Hd, err),
                    *w2 = layer_tensor(w, l, "ffn.lin2.weight", HD, err),
                    *c2 = layer_tensor(w, l, "ffn.lin2.bias", D, err),
                    *g2 = layer_tensor(w, l, "output_layer_norm.weight", D, err),
                    *b2 = layer_tensor(w, l, "output_layer_norm.bias", D, err);
        if (!qw || !qb || !kw || !kb || !vw || !vb || !ow || !ob || !g1 || !b1 || !w1 || !c1 ||
            !w2 || !c2 || !g2 || !b2)
            goto out;
        linear(q, x, T, qw, qb, D, D);
        linear(k, x, T, kw, kb, D, D);
        linear(v, x, T, vw, vb, D, D);
        attention(ctx, q, k, v, T, D, c->n_heads, p);
        linear(y, ctx, T, ow, ob, D, D);
        for (size_t i = 0; i < TD; i++) x[i] += y[i];
        layernorm(x, T, D, g1, b1, (double)c->ln_eps);

        linear(hid, x, T, w1, c1, Hd, D);
        for (size_t i = 0; i < (size_t)T * Hd; i++) {
            double a = (double)hid[i];
            hid[i] = (float)(c->activation == WT_ACT_RELU ? (a > 0 ? a : 0)
                                                          : 0.5 * a * (1.0 + erf(a / sqrt(2.0))));
        }
        linear(y, hid, T, w2, c2, D, Hd);
        for (size_t i = 0; i < TD; i++) x[i] += y[i];
        layernorm(x, T, D, g2, b2, (double)c->ln_eps);
    }
    if (hidden) memcpy(hidden, x, TD * sizeof *x);

    const float *pw = tensor(w, "pre_classifier.weight", (uint64_t)D * D, err),
                *pb = tensor(w, "pre_classifier.bias", D, err),
                *cw = tensor(w, "classifier.weight", (uint64_t)L * D, err),
                *cb = tensor(w, "classifier.bias", L, err);
    if (!pw || !pb || !cw || !cb) goto out;
    linear(pre, x, 1, pw, pb, D, D); /* row 0 is [CLS] */
    for (uint32_t i = 0; i < D; i++)
        if (pre[i] < 0) pre[i] = 0;
    linear(logits, pre, 1, cw, cb, L, D);
    st = SENTI_OK;
out:
    if (st == SENTI_E_NOMEM) senti_fail(err, st, "ref: out of memory");
    free(x), free(q), free(k), free(v), free(ctx), free(y), free(hid), free(pre), free(p);
    return st;
}

/* --- tiny random model ------------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return ((double)(splitmix(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
    double u1 = uniform(s), u2 = uniform(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static senti_status add_random(wt_model *m, uint64_t *rng, const char *name, uint64_t rows,
                               uint64_t cols, double mean, double std, senti_err *err)
{
    uint64_t n = rows * (cols ? cols : 1);
    uint64_t shape[2] = {rows, cols};
    float *d = malloc(n * sizeof *d);
    if (!d) return senti_fail(err, SENTI_E_NOMEM, "ref: out of memory");
    for (uint64_t i = 0; i < n; i++) d[i] = (float)(mean + std * normal(rng));
    senti_status st =
        wt_model_add_tensor(m, name, WT_DTYPE_F32, cols ? 2 : 1, shape, d, n * sizeof *d, err);
    free(d);
    return st;
}

senti_status ref_tiny_model(uint64_t seed, const ref_tiny_shape *sh, wt_model **out, senti_err *err)
{
    wt_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.architecture, sizeof c.architecture, "DistilBertForSequenceClassification");
    c.dim = sh->dim, c.n_layers = sh->n_layers, c.n_heads = sh->n_heads;
    c.hidden_dim = sh->hidden_dim, c.vocab_size = sh->vocab_size;
    c.max_positions = sh->max_positions, c.n_labels = sh->n_labels;
    c.ln_eps = 1e-12f;
    c.activation = WT_ACT_GELU;
    for (uint32_t i = 0; i < sh->n_labels && i < SENTI_MAX_LABELS; i++)
        snprintf(c.labels[i], sizeof c.labels[i], "LABEL_%u", i);
    c.tok.do_lower_case = true, c.tok.strip_accents = true, c.tok.tokenize_chinese_chars = true;
    c.tok.max_length = sh->max_positions;
    snprintf(c.tok.unk_token, sizeof c.tok.unk_token, "[UNK]");
    snprintf(c.tok.cls_token, sizeof c.tok.cls_token, "[CLS]");
    snprintf(c.tok.sep_token, sizeof c.tok.sep_token, "[SEP]");
    snprintf(c.tok.pad_token, sizeof c.tok.pad_token, "[PAD]");
    snprintf(c.tok.mask_token, sizeof c.tok.mask_token, "[MASK]");

    wt_model *m = NULL;
    char **vocab = NULL;
    senti_status st;
    SENTI_TRY(wt_model_create(&c, &m, err));
    uint64_t rng = seed, D = sh->dim, H = sh->hidden_dim;
    double sd = sh->std;
    char name[256];
    SENTI_TRY(add_random(m, &rng, "distilbert.embeddings.word_embeddings.weight", sh->vocab_size, D,
                         0, sd, err));
    SENTI_TRY(add_random(m, &rng, "distilbert.embeddings.position_embeddings.weight",
                         sh->max_positions, D, 0, sd, err));
    SENTI_TRY(add_random(m, &rng, "distilbert.embeddings.LayerNorm.weight", D, 0, 1, 0.1, err));
    SENTI_TRY(add_random(m, &rng, "distilbert.embeddings.LayerNorm.bias", D, 0, 0, 0.1, err));
    static const struct {
        const char *what;
        int rows, cols; /* 'D' / 'H' / 0 */
        double mean, std;
    } parts[] = {
        {"attention.q_lin.weight", 'D', 'D', 0, -1},   {"attention.q_lin.bias", 'D', 0, 0, -1},
        {"attention.k_lin.weight", 'D', 'D', 0, -1},   {"attention.k_lin.bias", 'D', 0, 0, -1},
        {"attention.v_lin.weight", 'D', 'D', 0, -1},   {"attention.v_lin.bias", 'D', 0, 0, -1},
        {"attention.out_lin.weight", 'D', 'D', 0, -1}, {"attention.out_lin.bias", 'D', 0, 0, -1},
        {"sa_layer_norm.weight", 'D', 0, 1, 0.1},      {"sa_layer_norm.bias", 'D', 0, 0, 0.1},
        {"ffn.lin1.weight", 'H', 'D', 0, -1},          {"ffn.lin1.bias", 'H', 0, 0, -1},
        {"ffn.lin2.weight", 'D', 'H', 0, -1},          {"ffn.lin2.bias", 'D', 0, 0, -1},
        {"output_layer_norm.weight", 'D', 0, 1, 0.1},  {"output_layer_norm.bias", 'D', 0, 0, 0.1},
    };
    for (uint32_t l = 0; l < sh->n_layers; l++)
        for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++) {
            snprintf(name, sizeof name, "distilbert.transformer.layer.%u.%s", l, parts[j].what);
            uint64_t r = parts[j].rows == 'D' ? D : H;
            uint64_t cl = parts[j].cols == 'D' ? D : parts[j].cols == 'H' ? H : 0;
            SENTI_TRY(add_random(m, &rng, name, r, cl, parts[j].mean,
                                 parts[j].std < 0 ? sd : parts[j].std, err));
        }
    SENTI_TRY(add_random(m, &rng, "pre_classifier.weight", D, D, 0, sd, err));
    SENTI_TRY(add_random(m, &rng, "pre_classifier.bias", D, 0, 0, sd, err));
    SENTI_TRY(add_random(m, &rng, "classifier.weight", sh->n_labels, D, 0, sd, err));
    SENTI_TRY(add_random(m, &rng, "classifier.bias", sh->n_labels, 0, 0, sd, err));

    static const char *const special[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    vocab = calloc(sh->vocab_size, sizeof *vocab);
    if (!vocab) {
        st = senti_fail(err, SENTI_E_NOMEM, "ref: out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < sh->vocab_size; i++) {
        vocab[i] = malloc(16);
        if (!vocab[i]) {
            st = senti_fail(err, SENTI_E_NOMEM, "ref: out of memory");
            goto fail;
        }
        if (i < 5)
            snprintf(vocab[i], 16, "%s", special[i]);
        else
            snprintf(vocab[i], 16, "tok%u", i);
    }
    SENTI_TRY(wt_model_set_vocab(m, (const char *const *)vocab, sh->vocab_size, err));
    for (uint32_t i = 0; i < sh->vocab_size; i++) free(vocab[i]);
    free(vocab);
    *out = m;
    return SENTI_OK;
fail:
    if (vocab)
        for (uint32_t i = 0; i < sh->vocab_size; i++) free(vocab[i]);
    free(vocab);
    wt_model_free(m);
    return st;
}
