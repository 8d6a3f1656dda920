/* engine/model.c - build the read-only eng_model from a wt_model: tensor views,
 * the stacked q/k/v matrices, the kernel table and the math thread count. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "engine/engine_internal.h"

/* An F32 tensor view by name. Shapes were checked by wt_model_validate; the
 * element count is checked again here because the engine indexes with it. */
static senti_status f32_view(const wt_model *w, const char *name, uint64_t count, const float **out,
                             senti_err *err)
{
    const wt_tensor *t = wt_model_tensor(w, name);
    if (!t) return senti_fail(err, SENTI_E_MISSING, "engine: tensor '%s' is missing", name);
    if (t->dtype != WT_DTYPE_F32)
        return senti_fail(err, SENTI_E_UNSUPPORTED,
                          "engine: tensor '%s' is %s; this engine runs f32 weights only "
                          "(re-run 'senti convert' without quantization)",
                          name, wt_dtype_name(t->dtype));
    if (t->nbytes != count * sizeof(float))
        return senti_fail(err, SENTI_E_SHAPE, "engine: tensor '%s' has %llu bytes, expected %llu",
                          name, (unsigned long long)t->nbytes,
                          (unsigned long long)(count * sizeof(float)));
    *out = t->data;
    return SENTI_OK;
}

static senti_status layer_view(const wt_model *w, uint32_t l, const char *suffix, uint64_t count,
                               const float **out, senti_err *err)
{
    char name[SENTI_MAX_TENSOR_NAME];
    snprintf(name, sizeof name, "distilbert.transformer.layer.%u.%s", l, suffix);
    return f32_view(w, name, count, out, err);
}

static senti_status check_config(const wt_config *c, senti_err *err)
{
    if (c->dim == 0 || c->n_heads == 0 || c->dim % c->n_heads != 0)
        return senti_fail(err, SENTI_E_SHAPE, "engine: dim %u is not a multiple of n_heads %u",
                          c->dim, c->n_heads);
    if (c->dim > SENTI_MAX_DIM || c->hidden_dim == 0 || c->hidden_dim > SENTI_MAX_HIDDEN ||
        c->n_layers == 0 || c->n_layers > SENTI_MAX_LAYERS || c->vocab_size == 0 ||
        c->vocab_size > SENTI_MAX_VOCAB || c->max_positions == 0 ||
        c->max_positions > SENTI_MAX_POSITIONS || c->n_labels == 0 ||
        c->n_labels > SENTI_MAX_LABELS)
        return senti_fail(err, SENTI_E_LIMIT,
                          "engine: config out of range (dim %u, hidden %u, layers %u, vocab %u, "
                          "positions %u, labels %u); see common/limits.h",
                          c->dim, c->hidden_dim, c->n_layers, c->vocab_size, c->max_positions,
                          c->n_labels);
    if (c->activation != WT_ACT_GELU && c->activation != WT_ACT_RELU)
        return senti_fail(err, SENTI_E_UNSUPPORTED, "engine: unknown activation %d",
                          (int)c->activation);
    return SENTI_OK;
}

/* Copies q, k, v of layer l into one (3D, D) matrix and a (3D) bias so that a
 * single GEMM produces the three projections side by side per token. */
static senti_status pack_qkv(const wt_model *w, uint32_t l, size_t D, float *wqkv, float *bqkv,
                             senti_err *err)
{
    static const char *const names[3] = {"q_lin", "k_lin", "v_lin"};
    senti_status st;
    for (int j = 0; j < 3; j++) {
        char sfx[64];
        const float *wt, *bt;
        snprintf(sfx, sizeof sfx, "attention.%s.weight", names[j]);
        SENTI_TRY(layer_view(w, l, sfx, (uint64_t)D * D, &wt, err));
        snprintf(sfx, sizeof sfx, "attention.%s.bias", names[j]);
        SENTI_TRY(layer_view(w, l, sfx, D, &bt, err));
        memcpy(wqkv + (size_t)j * D * D, wt, D * D * sizeof(float));
        memcpy(bqkv + (size_t)j * D, bt, D * sizeof(float));
    }
    return SENTI_OK;
fail:
    return st;
}

static senti_status bind_layer(const wt_model *w, uint32_t l, const wt_config *c, eng_layer *L,
                               senti_err *err)
{
    uint64_t D = c->dim, H = c->hidden_dim;
    senti_status st;
    SENTI_TRY(layer_view(w, l, "attention.out_lin.weight", D * D, &L->wo, err));
    SENTI_TRY(layer_view(w, l, "attention.out_lin.bias", D, &L->bo, err));
    SENTI_TRY(layer_view(w, l, "sa_layer_norm.weight", D, &L->ln1_g, err));
    SENTI_TRY(layer_view(w, l, "sa_layer_norm.bias", D, &L->ln1_b, err));
    SENTI_TRY(layer_view(w, l, "ffn.lin1.weight", H * D, &L->w1, err));
    SENTI_TRY(layer_view(w, l, "ffn.lin1.bias", H, &L->b1, err));
    SENTI_TRY(layer_view(w, l, "ffn.lin2.weight", D * H, &L->w2, err));
    SENTI_TRY(layer_view(w, l, "ffn.lin2.bias", D, &L->b2, err));
    SENTI_TRY(layer_view(w, l, "output_layer_norm.weight", D, &L->ln2_g, err));
    SENTI_TRY(layer_view(w, l, "output_layer_norm.bias", D, &L->ln2_b, err));
    return SENTI_OK;
fail:
    return st;
}

static int threads_wanted(int threads)
{
    if (threads > 0) return threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

senti_status eng_model_create(const wt_model *w, const eng_options *opt, eng_model **out,
                              senti_err *err)
{
    if (!w || !out) return senti_fail(err, SENTI_E_INVALID, "engine: NULL model or output");
    eng_options o = {0};
    if (opt) o = *opt;
    if (o.threads < 0 || o.threads > SENTI_MAX_THREADS)
        return senti_fail(err, SENTI_E_INVALID,
                          "engine: threads %d out of range 0..%d (0 = all cores)", o.threads,
                          SENTI_MAX_THREADS);
    senti_status st;
    const eng_kern *kern = NULL;
    eng_model *m = NULL;
    SENTI_TRY(eng_kern_select(o.isa, &kern, err));
    SENTI_TRY(wt_model_validate(w, err));
    const wt_config *c = wt_model_config(w);
    SENTI_TRY(check_config(c, err));

    m = senti_calloc(1, sizeof *m);
    if (!m) return senti_fail(err, SENTI_E_NOMEM, "engine: out of memory for the model");
    m->w = w;
    m->cfg = *c;
    m->kern = kern;
    m->threads = threads_wanted(o.threads);

    uint64_t D = c->dim, L = c->n_labels;
    SENTI_TRY(f32_view(w, "distilbert.embeddings.word_embeddings.weight",
                       (uint64_t)c->vocab_size * D, &m->word_emb, err));
    SENTI_TRY(f32_view(w, "distilbert.embeddings.position_embeddings.weight",
                       (uint64_t)c->max_positions * D, &m->pos_emb, err));
    SENTI_TRY(f32_view(w, "distilbert.embeddings.LayerNorm.weight", D, &m->emb_ln_g, err));
    SENTI_TRY(f32_view(w, "distilbert.embeddings.LayerNorm.bias", D, &m->emb_ln_b, err));
    SENTI_TRY(f32_view(w, "pre_classifier.weight", D * D, &m->pre_w, err));
    SENTI_TRY(f32_view(w, "pre_classifier.bias", D, &m->pre_b, err));
    SENTI_TRY(f32_view(w, "classifier.weight", L * D, &m->cls_w, err));
    SENTI_TRY(f32_view(w, "classifier.bias", L, &m->cls_b, err));

    m->layers = senti_calloc(c->n_layers, sizeof *m->layers);
    /* Limits above keep this product far from overflow: 64 * 3 * 8192 * 8193 floats. */
    size_t per_layer = 3 * (size_t)D * D + 3 * (size_t)D;
    m->packed = senti_alloc_aligned(per_layer * c->n_layers * sizeof(float));
    if (!m->layers || !m->packed) {
        st = senti_fail(err, SENTI_E_NOMEM, "engine: out of memory packing q/k/v (%zu bytes)",
                        per_layer * c->n_layers * sizeof(float));
        goto fail;
    }
    for (uint32_t l = 0; l < c->n_layers; l++) {
        float *wqkv = m->packed + l * per_layer, *bqkv = wqkv + 3 * D * D;
        SENTI_TRY(pack_qkv(w, l, D, wqkv, bqkv, err));
        m->layers[l].wqkv = wqkv;
        m->layers[l].bqkv = bqkv;
        SENTI_TRY(bind_layer(w, l, c, &m->layers[l], err));
    }
    openblas_set_num_threads(m->threads);
    *out = m;
    return SENTI_OK;
fail:
    eng_model_free(m);
    return st;
}

void eng_model_free(eng_model *m)
{
    if (!m) return;
    senti_free_aligned(m->packed);
    senti_free(m->layers);
    senti_free(m);
}

const wt_config *eng_model_config(const eng_model *m)
{
    return &m->cfg;
}

const char *eng_model_isa(const eng_model *m)
{
    return m->kern->isa;
}

int eng_model_threads(const eng_model *m)
{
    return m->threads;
}
