/* tests/support/ref_forward.h - an independent scalar DistilBERT forward pass
 * (plain loops, double accumulation, no BLAS, no engine code) that the engine
 * is checked against, plus a tiny random model for fast engine tests.
 * Depends only on weights/ and common/. */
#ifndef SENTI_TEST_REF_FORWARD_H
#define SENTI_TEST_REF_FORWARD_H

#include <stdint.h>

#include "common/status.h"
#include "weights/weights.h"

/* One sequence of len ids: writes n_labels logits and, if hidden is not NULL,
 * the last transformer layer's output (len x dim floats). F32 tensors only. */
senti_status ref_forward(const wt_model *w, const int32_t *ids, uint32_t len, float *logits,
                         float *hidden, senti_err *err);

/* A small DistilBertForSequenceClassification with N(0, std) weights and
 * layer norms near 1 / 0: dim, heads, hidden, layers, vocab (>= 5: [PAD],
 * [UNK], [CLS], [SEP], [MASK], then "tok5"...), positions, labels. */
typedef struct ref_tiny_shape {
    uint32_t dim, n_heads, hidden_dim, n_layers, vocab_size, max_positions, n_labels;
    float std;
} ref_tiny_shape;
senti_status ref_tiny_model(uint64_t seed, const ref_tiny_shape *shape, wt_model **out,
                            senti_err *err);

#endif
