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
                          "engine: tensor '%s' is %s; only linear weights may be quantized "
                          "(re-run 'senti convert')",
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

static const wt_tensor *layer_tensor(const wt_model *w, uint32_t l, const char *suffix)
{
    char name[SENTI_MAX_TENSOR_NAME];
    snprintf(name, sizeof name, "distilbert.transformer.layer.%u.%s", l, suffix);
    return wt_model_tensor(w, name);
}

/* Packer of the int8 linears: carves m->qpacked in order. */
typedef struct qcursor {
    uint8_t *p;
    size_t left;
} qcursor;

static senti_status qpack(qcursor *qc, const int8_t *w8, const float *scale, size_t n, size_t k,
                          eng_qweights *out, senti_err *err)
{
    size_t need = eng_qgemm_packed_size(n, k);
    if (need == 0 || need > qc->left)
        return senti_fail(err, SENTI_E_LIMIT, "engine: cannot pack an int8 weight of (%zu, %zu)",
                          n, k);
    senti_status st = eng_qgemm_pack(w8, scale, n, k, qc->p, need, out, err);
    qc->p += need;
    qc->left -= need;
    return st;
}

/* Packer of the f32 linears for fkern: carves m->fpacked in order (p NULL: no
 * packing, the linears borrow the stored weights). */
typedef struct fcursor {
    float *p;
    size_t left; /* floats */
} fcursor;

static senti_status fpack(fcursor *fc, const float *wt, size_t n, size_t k, eng_lin *L,
                          senti_err *err)
{
    size_t need = eng_f32_packed_floats(n, k);
    if (need == 0 || need > fc->left)
        return senti_fail(err, SENTI_E_LIMIT, "engine: cannot pack an f32 weight of (%zu, %zu)", n,
                          k);
    eng_f32_pack(wt, k, n, k, fc->p, &L->f);
    L->w = NULL;
    fc->p += need;
    fc->left -= need;
    return SENTI_OK;
}

/* A linear layer from its weight and bias tensors: f32 weights are packed into
 * fc (or borrowed when fc has no buffer), int8 ones packed into qc. */
static senti_status bind_lin(const wt_model *w, const char *wname, const char *bname, uint64_t out,
                             uint64_t in, qcursor *qc, fcursor *fc, eng_lin *L, senti_err *err)
{
    senti_status st;
    memset(L, 0, sizeof *L);
    L->out = out;
    L->in = in;
    SENTI_TRY(f32_view(w, bname, out, &L->b, err));
    const wt_tensor *t = wt_model_tensor(w, wname);
    if (t && t->dtype == WT_DTYPE_I8_ROWSCALE) {
        if (t->ndim != 2 || t->shape[0] != out || t->shape[1] != in)
            return senti_fail(err, SENTI_E_SHAPE, "engine: tensor '%s' is not (%llu, %llu)",
                              wname, (unsigned long long)out, (unsigned long long)in);
        return qpack(qc, t->data, t->scales, out, in, &L->q, err);
    }
    SENTI_TRY(f32_view(w, wname, out * in, &L->w, err));
    return fc->p ? fpack(fc, L->w, out, in, L, err) : SENTI_OK;
fail:
    return st;
}

static senti_status bind_layer_lin(const wt_model *w, uint32_t l, const char *what, uint64_t out,
                                   uint64_t in, qcursor *qc, fcursor *fc, eng_lin *L,
                                   senti_err *err)
{
    char wn[SENTI_MAX_TENSOR_NAME], bn[SENTI_MAX_TENSOR_NAME];
    snprintf(wn, sizeof wn, "distilbert.transformer.layer.%u.%s.weight", l, what);
    snprintf(bn, sizeof bn, "distilbert.transformer.layer.%u.%s.bias", l, what);
    return bind_lin(w, wn, bn, out, in, qc, fc, L, err);
}

static const char *const qkv_names[3] = {"q_lin", "k_lin", "v_lin"};

/* q, k, v of layer l as one (3D, D) linear, so that a single GEMM produces the
 * three projections side by side per token: f32 rows copied into wqkv (then
 * packed into fc when it has a buffer), or int8 rows stacked (scratch, freed
 * here) and packed. bqkv (3D) gets the biases. */
static senti_status bind_qkv(const wt_model *w, uint32_t l, size_t D, float *wqkv, float *bqkv,
                             qcursor *qc, fcursor *fc, eng_lin *L, senti_err *err)
{
    senti_status st;
    const wt_tensor *t[3];
    for (int j = 0; j < 3; j++) {
        char sfx[64];
        const float *bt;
        snprintf(sfx, sizeof sfx, "attention.%s.bias", qkv_names[j]);
        SENTI_TRY(layer_view(w, l, sfx, D, &bt, err));
        memcpy(bqkv + (size_t)j * D, bt, D * sizeof(float));
        snprintf(sfx, sizeof sfx, "attention.%s.weight", qkv_names[j]);
        t[j] = layer_tensor(w, l, sfx);
        if (!t[j])
            return senti_fail(err, SENTI_E_MISSING,
                              "engine: tensor 'distilbert.transformer.layer.%u.%s' is missing", l,
                              sfx);
    }
    memset(L, 0, sizeof *L);
    L->out = 3 * D;
    L->in = D;
    L->b = bqkv;
    bool q8 = t[0]->dtype == WT_DTYPE_I8_ROWSCALE;
    if (t[1]->dtype != t[0]->dtype || t[2]->dtype != t[0]->dtype)
        return senti_fail(err, SENTI_E_UNSUPPORTED,
                          "engine: layer %u: q_lin, k_lin and v_lin weights must share one dtype "
                          "(%s, %s, %s); re-run 'senti convert'",
                          l, wt_dtype_name(t[0]->dtype), wt_dtype_name(t[1]->dtype),
                          wt_dtype_name(t[2]->dtype));
    if (!q8) {
        for (int j = 0; j < 3; j++) {
            char sfx[64];
            const float *wt;
            snprintf(sfx, sizeof sfx, "attention.%s.weight", qkv_names[j]);
            SENTI_TRY(layer_view(w, l, sfx, (uint64_t)D * D, &wt, err));
            memcpy(wqkv + (size_t)j * D * D, wt, D * D * sizeof(float));
        }
        L->w = wqkv;
        return fc->p ? fpack(fc, wqkv, 3 * D, D, L, err) : SENTI_OK;
    }
    int8_t *w8 = senti_malloc(3 * D * D);
    float *sc = senti_malloc(3 * D * sizeof *sc);
    if (!w8 || !sc) {
        st = senti_fail(err, SENTI_E_NOMEM, "engine: out of memory packing int8 q/k/v");
        goto out;
    }
    for (int j = 0; j < 3; j++) {
        memcpy(w8 + (size_t)j * D * D, t[j]->data, D * D);
        memcpy(sc + (size_t)j * D, t[j]->scales, D * sizeof *sc);
    }
    st = qpack(qc, w8, sc, 3 * D, D, &L->q, err);
out:
    senti_free(w8);
    senti_free(sc);
    return st;
fail:
    return st;
}

static senti_status bind_layer(const wt_model *w, uint32_t l, const wt_config *c, qcursor *qc,
                               fcursor *fc, eng_layer *L, senti_err *err)
{
    uint64_t D = c->dim, H = c->hidden_dim;
    senti_status st;
    SENTI_TRY(bind_layer_lin(w, l, "attention.out_lin", D, D, qc, fc, &L->o, err));
    SENTI_TRY(layer_view(w, l, "sa_layer_norm.weight", D, &L->ln1_g, err));
    SENTI_TRY(layer_view(w, l, "sa_layer_norm.bias", D, &L->ln1_b, err));
    SENTI_TRY(bind_layer_lin(w, l, "ffn.lin1", H, D, qc, fc, &L->ffn1, err));
    SENTI_TRY(bind_layer_lin(w, l, "ffn.lin2", D, H, qc, fc, &L->ffn2, err));
    SENTI_TRY(layer_view(w, l, "output_layer_norm.weight", D, &L->ln2_g, err));
    SENTI_TRY(layer_view(w, l, "output_layer_norm.bias", D, &L->ln2_b, err));
    return SENTI_OK;
fail:
    return st;
}

/* What packing every linear stored as `dtype` needs, by the packer's size
 * function: eng_qgemm_packed_size (bytes) for int8, eng_f32_packed_floats
 * (floats) for f32. 0: no linear of that dtype. */
static size_t packed_total(const wt_model *w, const wt_config *c, wt_dtype dtype,
                           size_t (*size)(size_t n, size_t k))
{
    size_t D = c->dim, H = c->hidden_dim, total = 0;
    const wt_tensor *t;
    for (uint32_t l = 0; l < c->n_layers; l++) {
        if ((t = layer_tensor(w, l, "attention.q_lin.weight")) && t->dtype == dtype)
            total += size(3 * D, D);
        if ((t = layer_tensor(w, l, "attention.out_lin.weight")) && t->dtype == dtype)
            total += size(D, D);
        if ((t = layer_tensor(w, l, "ffn.lin1.weight")) && t->dtype == dtype) total += size(H, D);
        if ((t = layer_tensor(w, l, "ffn.lin2.weight")) && t->dtype == dtype) total += size(D, H);
    }
    if ((t = wt_model_tensor(w, "pre_classifier.weight")) && t->dtype == dtype) total += size(D, D);
    if ((t = wt_model_tensor(w, "classifier.weight")) && t->dtype == dtype)
        total += size(c->n_labels, D);
    return total;
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
    float *stage = NULL; /* q/k/v weights stacked before packing */
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
    /* The packed fp32 kernel comes with the AVX-512 kernel set; elsewhere
     * (ref, avx2) every fp32 linear goes to OpenBLAS on the stored weights. */
    m->fkern = strcmp(kern->isa, "avx512") == 0 ? eng_f32_avx512() : NULL;

    uint64_t D = c->dim, L = c->n_labels;
    SENTI_TRY(f32_view(w, "distilbert.embeddings.word_embeddings.weight",
                       (uint64_t)c->vocab_size * D, &m->word_emb, err));
    SENTI_TRY(f32_view(w, "distilbert.embeddings.position_embeddings.weight",
                       (uint64_t)c->max_positions * D, &m->pos_emb, err));
    SENTI_TRY(f32_view(w, "distilbert.embeddings.LayerNorm.weight", D, &m->emb_ln_g, err));
    SENTI_TRY(f32_view(w, "distilbert.embeddings.LayerNorm.bias", D, &m->emb_ln_b, err));

    size_t qbytes = packed_total(w, c, WT_DTYPE_I8_ROWSCALE, eng_qgemm_packed_size);
    qcursor qc = {0};
    if (qbytes) {
        m->has_int8 = true;
        SENTI_TRY(eng_qgemm_select(o.isa, &m->qkern, err));
        m->qpacked = senti_alloc_aligned(qbytes);
        if (!m->qpacked) {
            st = senti_fail(err, SENTI_E_NOMEM,
                            "engine: out of memory packing int8 weights (%zu bytes)", qbytes);
            goto fail;
        }
        qc = (qcursor){.p = m->qpacked, .left = qbytes};
    }
    size_t ffloats = m->fkern ? packed_total(w, c, WT_DTYPE_F32, eng_f32_packed_floats) : 0;
    fcursor fc = {0};
    if (ffloats) {
        m->fpacked = senti_alloc_aligned(ffloats * sizeof(float));
        if (!m->fpacked) {
            st = senti_fail(err, SENTI_E_NOMEM,
                            "engine: out of memory packing f32 weights (%zu bytes)",
                            ffloats * sizeof(float));
            goto fail;
        }
        fc = (fcursor){.p = m->fpacked, .left = ffloats};
    }
    SENTI_TRY(
        bind_lin(w, "pre_classifier.weight", "pre_classifier.bias", D, D, &qc, &fc, &m->pre, err));
    SENTI_TRY(bind_lin(w, "classifier.weight", "classifier.bias", L, D, &qc, &fc, &m->cls, err));

    m->layers = senti_calloc(c->n_layers, sizeof *m->layers);
    /* Per layer: the q/k/v biases, then (unless packed for fkern, which stages
     * them once in `stage`) the stacked q/k/v weights. Limits above keep these
     * products far from overflow: 64 * 3 * 8192 * 8193 floats. */
    size_t wqkv_floats = 3 * (size_t)D * D;
    size_t per_layer = 3 * (size_t)D + (fc.p ? 0 : wqkv_floats);
    m->packed = senti_alloc_aligned(per_layer * c->n_layers * sizeof(float));
    if (fc.p) stage = senti_alloc_aligned(wqkv_floats * sizeof(float));
    if (!m->layers || !m->packed || (fc.p && !stage)) {
        st = senti_fail(err, SENTI_E_NOMEM, "engine: out of memory packing q/k/v (%zu bytes)",
                        (per_layer * c->n_layers + wqkv_floats) * sizeof(float));
        goto fail;
    }
    for (uint32_t l = 0; l < c->n_layers; l++) {
        float *bqkv = m->packed + l * per_layer, *wqkv = fc.p ? stage : bqkv + 3 * D;
        SENTI_TRY(bind_qkv(w, l, D, wqkv, bqkv, &qc, &fc, &m->layers[l].qkv, err));
        SENTI_TRY(bind_layer(w, l, c, &qc, &fc, &m->layers[l], err));
    }
    senti_free_aligned(stage);
    stage = NULL;
    /* The engine threads through its own pool; OpenBLAS runs single-threaded
     * inside it (process-wide setting). */
    openblas_set_num_threads(1);
    if (m->threads > 1) SENTI_TRY(eng_pool_create(m->threads, &m->pool, err));
    *out = m;
    return SENTI_OK;
fail:
    senti_free_aligned(stage);
    eng_model_free(m);
    return st;
}

void eng_model_free(eng_model *m)
{
    if (!m) return;
    eng_pool_free(m->pool);
    senti_free_aligned(m->packed);
    senti_free_aligned(m->qpacked);
    senti_free_aligned(m->fpacked);
    senti_free(m->layers);
    senti_free(m);
}

/* Releases tensor `name` of w if L was packed from it; adds its bytes to *n. */
static void release_if_packed(wt_model *w, const eng_lin *L, const char *name, size_t *n)
{
    const wt_tensor *t = wt_model_tensor(w, name);
    if ((!L->f.w && !L->q.w) || !t || !t->data) return;
    size_t bytes = (size_t)t->nbytes;
    if (wt_model_release_data(w, name, NULL) == SENTI_OK) *n += bytes;
}

size_t eng_model_release_packed(const eng_model *m, wt_model *w)
{
    if (!m || !w || (!m->fpacked && !m->qpacked)) return 0;
    size_t n = 0;
    char name[SENTI_MAX_TENSOR_NAME];
    static const char *const lins[3] = {"attention.out_lin", "ffn.lin1", "ffn.lin2"};
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) {
        const eng_layer *L = &m->layers[l];
        const eng_lin *lin[3] = {&L->o, &L->ffn1, &L->ffn2};
        for (int j = 0; j < 3; j++) {
            snprintf(name, sizeof name, "distilbert.transformer.layer.%u.attention.%s.weight", l,
                     qkv_names[j]);
            release_if_packed(w, &L->qkv, name, &n);
            snprintf(name, sizeof name, "distilbert.transformer.layer.%u.%s.weight", l, lins[j]);
            release_if_packed(w, lin[j], name, &n);
        }
    }
    release_if_packed(w, &m->pre, "pre_classifier.weight", &n);
    release_if_packed(w, &m->cls, "classifier.weight", &n);
    return n;
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
