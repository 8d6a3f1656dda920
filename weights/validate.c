/* weights/validate.c - what DistilBertForSequenceClassification needs: the
 * config's values against limits.h, and every tensor with the exact shape the
 * config implies (Hugging Face state-dict names). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "weights/weights_internal.h"

#define ARCH_NAME "DistilBertForSequenceClassification"

/* Per-layer tensors: suffix, kind of shape. */
enum { S_DD, S_D, S_HD, S_H, S_DH, S_VD, S_PD, S_LD, S_L };
typedef struct spec {
    const char *name;
    int shape;
    bool matrix;
} spec;

static const spec embed_specs[] = {
    {"distilbert.embeddings.word_embeddings.weight", S_VD, false},
    {"distilbert.embeddings.position_embeddings.weight", S_PD, false},
    {"distilbert.embeddings.LayerNorm.weight", S_D, false},
    {"distilbert.embeddings.LayerNorm.bias", S_D, false},
};
static const spec layer_specs[] = {
    {"attention.q_lin.weight", S_DD, true},   {"attention.q_lin.bias", S_D, false},
    {"attention.k_lin.weight", S_DD, true},   {"attention.k_lin.bias", S_D, false},
    {"attention.v_lin.weight", S_DD, true},   {"attention.v_lin.bias", S_D, false},
    {"attention.out_lin.weight", S_DD, true}, {"attention.out_lin.bias", S_D, false},
    {"sa_layer_norm.weight", S_D, false},     {"sa_layer_norm.bias", S_D, false},
    {"ffn.lin1.weight", S_HD, true},          {"ffn.lin1.bias", S_H, false},
    {"ffn.lin2.weight", S_DH, true},          {"ffn.lin2.bias", S_D, false},
    {"output_layer_norm.weight", S_D, false}, {"output_layer_norm.bias", S_D, false},
};
static const spec head_specs[] = {
    {"pre_classifier.weight", S_DD, true},
    {"pre_classifier.bias", S_D, false},
    {"classifier.weight", S_LD, true},
    {"classifier.bias", S_L, false},
};
#define N_EMBED (sizeof embed_specs / sizeof embed_specs[0])
#define N_LAYER (sizeof layer_specs / sizeof layer_specs[0])
#define N_HEAD (sizeof head_specs / sizeof head_specs[0])

uint32_t wt_expect_count(const wt_config *c)
{
    return (uint32_t)(N_EMBED + N_HEAD + N_LAYER * (size_t)c->n_layers);
}

static void set_shape(const wt_config *c, int kind, wt_expect *e)
{
    uint64_t D = c->dim, H = c->hidden_dim;
    e->ndim = 2;
    switch (kind) {
    case S_DD: e->shape[0] = D, e->shape[1] = D, e->why = "dim x dim"; break;
    case S_HD: e->shape[0] = H, e->shape[1] = D, e->why = "hidden_dim x dim"; break;
    case S_DH: e->shape[0] = D, e->shape[1] = H, e->why = "dim x hidden_dim"; break;
    case S_VD: e->shape[0] = c->vocab_size, e->shape[1] = D, e->why = "vocab_size x dim"; break;
    case S_PD:
        e->shape[0] = c->max_positions, e->shape[1] = D;
        e->why = "max_position_embeddings x dim";
        break;
    case S_LD: e->shape[0] = c->n_labels, e->shape[1] = D, e->why = "n_labels x dim"; break;
    case S_D: e->ndim = 1, e->shape[0] = D, e->why = "dim"; break;
    case S_H: e->ndim = 1, e->shape[0] = H, e->why = "hidden_dim"; break;
    default: e->ndim = 1, e->shape[0] = c->n_labels, e->why = "n_labels"; break;
    }
}

void wt_expect_at(const wt_config *c, uint32_t i, wt_expect *e)
{
    memset(e, 0, sizeof *e);
    const spec *s;
    if (i < N_EMBED) {
        s = &embed_specs[i];
        snprintf(e->name, sizeof e->name, "%s", s->name);
    } else if (i - N_EMBED < N_LAYER * (size_t)c->n_layers) {
        uint32_t k = (uint32_t)(i - N_EMBED);
        s = &layer_specs[k % N_LAYER];
        snprintf(e->name, sizeof e->name, "distilbert.transformer.layer.%u.%s",
                 (unsigned)(k / N_LAYER), s->name);
    } else {
        s = &head_specs[i - N_EMBED - N_LAYER * c->n_layers];
        snprintf(e->name, sizeof e->name, "%s", s->name);
    }
    e->matrix = s->matrix;
    set_shape(c, s->shape, e);
}

static bool match_spec(const spec *specs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(specs[i].name, name)) return true;
    return false;
}

bool wt_expect_known(const wt_config *c, const char *name)
{
    if (match_spec(embed_specs, N_EMBED, name) || match_spec(head_specs, N_HEAD, name))
        return true;
    static const char prefix[] = "distilbert.transformer.layer.";
    if (strncmp(name, prefix, sizeof prefix - 1)) return false;
    const char *p = name + sizeof prefix - 1;
    unsigned layer = 0;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '.')) return false;
    while (*p >= '0' && *p <= '9' && layer < 100000) layer = layer * 10 + (unsigned)(*p++ - '0');
    if (*p++ != '.' || layer >= c->n_layers) return false;
    return match_spec(layer_specs, N_LAYER, p);
}

static senti_status check_range(const char *origin, const char *key, uint64_t v, uint64_t max,
                                senti_err *err)
{
    if (v >= 1 && v <= max) return SENTI_OK;
    return senti_fail(err, SENTI_E_LIMIT, "weights: %s: %s is %" PRIu64 " (must be 1..%" PRIu64
                      ")", origin, key, v, max);
}

senti_status wt_config_check(const wt_config *c, const char *origin, senti_err *err)
{
    senti_status st;
    if (strcmp(c->architecture, ARCH_NAME))
        return senti_fail(err, SENTI_E_UNSUPPORTED, "weights: %s: architecture '%.64s' is not "
                          "supported (only " ARCH_NAME ")", origin, c->architecture);
    SENTI_TRY(check_range(origin, "dim", c->dim, SENTI_MAX_DIM, err));
    SENTI_TRY(check_range(origin, "n_layers", c->n_layers, SENTI_MAX_LAYERS, err));
    SENTI_TRY(check_range(origin, "n_heads", c->n_heads, SENTI_MAX_HEADS, err));
    SENTI_TRY(check_range(origin, "hidden_dim", c->hidden_dim, SENTI_MAX_HIDDEN, err));
    SENTI_TRY(check_range(origin, "vocab_size", c->vocab_size, SENTI_MAX_VOCAB, err));
    SENTI_TRY(check_range(origin, "max_position_embeddings", c->max_positions,
                          SENTI_MAX_POSITIONS, err));
    SENTI_TRY(check_range(origin, "number of labels", c->n_labels, SENTI_MAX_LABELS, err));
    if (c->dim % c->n_heads)
        return senti_fail(err, SENTI_E_CONFIG, "weights: %s: dim %" PRIu32 " is not a multiple "
                          "of n_heads %" PRIu32, origin, c->dim, c->n_heads);
    if (!(c->ln_eps > 0.0f) || !isfinite(c->ln_eps))
        return senti_fail(err, SENTI_E_CONFIG, "weights: %s: layer-norm eps must be a positive "
                          "finite number", origin);
    if (c->activation != WT_ACT_GELU && c->activation != WT_ACT_RELU)
        return senti_fail(err, SENTI_E_CONFIG, "weights: %s: unknown activation %d", origin,
                          (int)c->activation);
    for (uint32_t i = 0; i < c->n_labels; i++)
        if (!c->labels[i][0] || !memchr(c->labels[i], 0, sizeof c->labels[i]))
            return senti_fail(err, SENTI_E_CONFIG, "weights: %s: label %" PRIu32 " has no name",
                              origin, i);
    if (c->tok.max_length < 1 || c->tok.max_length > c->max_positions)
        return senti_fail(err, SENTI_E_CONFIG, "weights: %s: tokenizer max length %" PRIu32
                          " must be 1..max_position_embeddings (%" PRIu32 ")", origin,
                          c->tok.max_length, c->max_positions);
    return SENTI_OK;
fail:
    return st;
}

static void fmt_shape(char *buf, size_t cap, uint32_t ndim, const uint64_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%" PRIu64, i ? ", " : "", shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

static senti_status check_special(const wt_model *m, const char *what, const char *tok,
                                  senti_err *err)
{
    if (!tok[0]) return SENTI_OK;
    for (uint32_t i = 0; i < wt_model_vocab_size(m); i++)
        if (!strcmp(wt_model_vocab_token(m, i), tok)) return SENTI_OK;
    return senti_fail(err, SENTI_E_MISSING, "weights: %s token '%.32s' is not in the vocabulary",
                      what, tok);
}

senti_status wt_model_validate(const wt_model *m, senti_err *err)
{
    senti_status st;
    const wt_config *c = wt_model_config(m);
    const char *origin = wt_model_origin(m);
    SENTI_TRY(wt_config_check(c, origin, err));
    if (wt_model_vocab_size(m) != c->vocab_size)
        return senti_fail(err, SENTI_E_SHAPE, "weights: vocabulary has %" PRIu32 " tokens but "
                          "vocab_size is %" PRIu32 " in %s", wt_model_vocab_size(m),
                          c->vocab_size, origin);
    const wt_tok_config *t = &c->tok;
    SENTI_TRY(check_special(m, "unk", t->unk_token, err));
    SENTI_TRY(check_special(m, "cls", t->cls_token, err));
    SENTI_TRY(check_special(m, "sep", t->sep_token, err));
    SENTI_TRY(check_special(m, "pad", t->pad_token, err));
    SENTI_TRY(check_special(m, "mask", t->mask_token, err));
    uint32_t n = wt_expect_count(c);
    for (uint32_t i = 0; i < n; i++) {
        wt_expect e;
        wt_expect_at(c, i, &e);
        const wt_tensor *x = wt_model_tensor(m, e.name);
        char got[96], want[64];
        if (!x)
            return senti_fail(err, SENTI_E_MISSING, "weights: tensor '%s' is missing (required "
                              "by " ARCH_NAME ")", e.name);
        bool same = x->ndim == e.ndim;
        for (uint32_t d = 0; same && d < e.ndim; d++) same = x->shape[d] == e.shape[d];
        if (!same) {
            fmt_shape(got, sizeof got, x->ndim, x->shape);
            fmt_shape(want, sizeof want, e.ndim, e.shape);
            return senti_fail(err, SENTI_E_SHAPE, "weights: tensor '%s': shape %s, expected %s "
                              "(%s from %s)", e.name, got, want, e.why, origin);
        }
        if (!x->data)
            return senti_fail(err, SENTI_E_INVALID,
                              "weights: tensor '%s' was released "
                              "(an engine packed it); load the model again to use it here",
                              e.name);
        if (x->dtype != WT_DTYPE_F32 && !(e.matrix && x->dtype == WT_DTYPE_I8_ROWSCALE))
            return senti_fail(err, SENTI_E_UNSUPPORTED, "weights: tensor '%s': dtype %s is not "
                              "usable here (expected f32%s)", e.name, wt_dtype_name(x->dtype),
                              e.matrix ? " or i8_rowscale" : "");
    }
    /* Other tensors are allowed (a newer minor version may add some): they are ignored. */
    return SENTI_OK;
fail:
    return st;
}
