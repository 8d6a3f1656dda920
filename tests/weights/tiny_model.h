/* tests/weights/tiny_model.h - a tiny, complete DistilBERT-shaped model for the
 * weights tests (dim 8, 1 layer, 2 heads, hidden 16, vocab 16, 8 positions).
 * Header-only: each test executable includes it once. */
#ifndef SENTI_TESTS_TINY_MODEL_H
#define SENTI_TESTS_TINY_MODEL_H

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "weights/weights.h"
#include "weights/weights_internal.h"

static const char *const tiny_vocab[16] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was",
    "good", "bad", "##ly", "great", "a", ".", "!", "caf\xc3\xa9",
};

static void tiny_config(wt_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->architecture, sizeof c->architecture, "DistilBertForSequenceClassification");
    c->dim = 8, c->n_layers = 1, c->n_heads = 2, c->hidden_dim = 16, c->vocab_size = 16;
    c->max_positions = 8, c->n_labels = 2, c->ln_eps = 1e-12f, c->activation = WT_ACT_GELU;
    snprintf(c->labels[0], sizeof c->labels[0], "NEGATIVE");
    snprintf(c->labels[1], sizeof c->labels[1], "POSITIVE");
    c->tok.do_lower_case = true, c->tok.strip_accents = true, c->tok.tokenize_chinese_chars = true;
    c->tok.max_length = 8;
    snprintf(c->tok.unk_token, sizeof c->tok.unk_token, "[UNK]");
    snprintf(c->tok.cls_token, sizeof c->tok.cls_token, "[CLS]");
    snprintf(c->tok.sep_token, sizeof c->tok.sep_token, "[SEP]");
    snprintf(c->tok.pad_token, sizeof c->tok.pad_token, "[PAD]");
    snprintf(c->tok.mask_token, sizeof c->tok.mask_token, "[MASK]");
}

/* Builds the tiny model. skip: a tensor name to leave out (or NULL); bad: a
 * tensor whose last dimension is one short (or NULL). Values: tensor k, element
 * i = (k + 1) * 0.01 + i * 0.001 (exact enough to compare bit for bit after a
 * round trip, since the same floats are stored). */
static wt_model *tiny_model(const char *skip, const char *bad)
{
    wt_config c;
    tiny_config(&c);
    wt_model *m = NULL;
    senti_err err = {0};
    if (wt_model_create(&c, &m, &err) != SENTI_OK) return NULL;
    if (wt_model_set_vocab(m, tiny_vocab, 16, &err) != SENTI_OK) goto fail;
    for (uint32_t k = 0; k < wt_expect_count(&c); k++) {
        wt_expect e;
        wt_expect_at(&c, k, &e);
        if (skip && !strcmp(e.name, skip)) continue;
        if (bad && !strcmp(e.name, bad)) e.shape[e.ndim - 1]--;
        uint64_t n = e.shape[0] * (e.ndim > 1 ? e.shape[1] : 1);
        float *v = malloc(n * sizeof *v);
        for (uint64_t i = 0; i < n; i++) v[i] = (float)(k + 1) * 0.01f + (float)i * 0.001f;
        senti_status st = wt_model_add_tensor(m, e.name, WT_DTYPE_F32, e.ndim, e.shape, v,
                                              n * 4, &err);
        free(v);
        if (st != SENTI_OK) goto fail;
    }
    if (wt_model_set_meta(m, "source", "tiny test model", &err) != SENTI_OK) goto fail;
    return m;
fail:
    fprintf(stderr, "tiny_model: %s\n", err.msg);
    wt_model_free(m);
    return NULL;
}

#endif
