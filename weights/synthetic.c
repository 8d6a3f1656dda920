/* weights/synthetic.c - a deterministic DistilBERT-base-shaped checkpoint for
 * benchmarks and tests when the real weights cannot be downloaded. The
 * generator is specified in FORMAT.md ("Synthetic checkpoints"): splitmix64 +
 * Box-Muller in double precision, one generator per tensor. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "weights/weights_internal.h"

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, so log() is finite. */
static double uniform(uint64_t *s) { return ((double)(splitmix64(s) >> 11) + 0.5) * 0x1p-53; }

/* x[i] = mean + std * N(0,1), pairs from Box-Muller. */
static void fill_normal(float *x, uint64_t n, uint64_t seed, double mean, double std)
{
    uint64_t s = seed;
    const double two_pi = 6.283185307179586476925286766559;
    for (uint64_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(uniform(&s))), th = two_pi * uniform(&s);
        x[i] = (float)(mean + std * r * cos(th));
        if (i + 1 < n) x[i + 1] = (float)(mean + std * r * sin(th));
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

senti_status wt_synthetic_base(uint64_t seed, const char *vocab_path, wt_model **out,
                               senti_err *err)
{
    senti_status st;
    wt_model *m = NULL;
    wt_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.architecture, sizeof c.architecture, "DistilBertForSequenceClassification");
    c.dim = 768, c.n_layers = 6, c.n_heads = 12, c.hidden_dim = 3072, c.vocab_size = 30522;
    c.max_positions = 512, c.n_labels = 2, c.ln_eps = 1e-12f, c.activation = WT_ACT_GELU;
    snprintf(c.labels[0], sizeof c.labels[0], "NEGATIVE");
    snprintf(c.labels[1], sizeof c.labels[1], "POSITIVE");
    wt_tok_config *t = &c.tok;
    t->do_lower_case = t->strip_accents = t->tokenize_chinese_chars = true;
    t->max_length = 512;
    snprintf(t->unk_token, sizeof t->unk_token, "[UNK]");
    snprintf(t->cls_token, sizeof t->cls_token, "[CLS]");
    snprintf(t->sep_token, sizeof t->sep_token, "[SEP]");
    snprintf(t->pad_token, sizeof t->pad_token, "[PAD]");
    snprintf(t->mask_token, sizeof t->mask_token, "[MASK]");
    SENTI_TRY(wt_model_create(&c, &m, err));
    wt_model_set_origin(m, "the synthetic DistilBERT-base config");
    SENTI_TRY(wt_vocab_load_txt(m, vocab_path, err));
    uint32_t n = wt_expect_count(&c);
    SENTI_TRY(wt_model_reserve(m, n, err));
    for (uint32_t i = 0; i < n; i++) {
        wt_expect e;
        wt_expect_at(&c, i, &e);
        uint64_t count = e.shape[0] * (e.ndim == 2 ? e.shape[1] : 1);
        SENTI_TRY(wt_model_add_tensor(m, e.name, WT_DTYPE_F32, e.ndim, e.shape, NULL, count * 4,
                                      err));
        float *x = wt_model_tensor(m, e.name)->data; /* ours until the model is returned */
        bool ln = ends_with(e.name, "LayerNorm.weight") || ends_with(e.name, "layer_norm.weight");
        bool ln_bias = ends_with(e.name, "LayerNorm.bias") || ends_with(e.name, "layer_norm.bias");
        double mean = ln ? 1.0 : 0.0;
        double std = (ln || ln_bias) ? 0.02 : ends_with(e.name, ".bias") ? 0.002 : 0.02;
        fill_normal(x, count, seed + 0x9E3779B97F4A7C15ull * (i + 1), mean, std);
    }
    char seed_str[64];
    snprintf(seed_str, sizeof seed_str, "synthetic:base seed=%llu", (unsigned long long)seed);
    SENTI_TRY(wt_model_set_meta(m, "source", seed_str, err));
    SENTI_TRY(wt_model_validate(m, err));
    *out = m;
    return SENTI_OK;
fail:
    wt_model_free(m);
    return st;
}
