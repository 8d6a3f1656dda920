/* engine/engine.h - DistilBertForSequenceClassification forward pass.
 *
 * eng_model: read-only, built once from a wt_model, shared by all threads.
 * eng_state: per-thread activations and scratch, sized once for a maximum batch
 * and sequence length, so eng_forward does not allocate.
 *
 * Weights: linear weights may be f32 or int8 (WT_DTYPE_I8_ROWSCALE, from
 * `senti convert --dtype int8`). int8 weights, and with the AVX-512 kernel set
 * f32 ones too, are packed once at model creation into the layout their GEMM
 * kernel reads (engine/qgemm.h, engine/gemm_f32.h); eng_model_release_packed
 * then frees the wt_model's copies. Other tensors (embeddings, biases, norms)
 * are borrowed from the wt_model. int8 activations are quantized per token at
 * run time; layer norms, softmax, attention and GELU stay f32. Attention is one
 * fused kernel per (sequence, head): no T x T matrix leaves the cache.
 *
 * Threads: each model owns one pool of (threads - 1) workers plus the calling
 * thread, used by the linear layers (split by output channels), attention
 * (split by sequence x head) and the row-wise kernels. OpenBLAS is set to one
 * thread (process-wide) so the two never oversubscribe. Several states of one
 * model may run eng_forward concurrently (a server's workers): the first to
 * start takes the pool, the others run single-threaded on their own callers
 * until it is free again (a trylock per forward, never a wait), so the process
 * uses at most threads + (concurrent forwards - 1) cores.
 */
#ifndef SENTI_ENGINE_H
#define SENTI_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "weights/weights.h"

typedef struct eng_model eng_model;
typedef struct eng_state eng_state;

typedef struct eng_options {
    const char *isa; /* kernel set: NULL/"auto" (cpuid), "ref", "avx2", "avx512" */
    int threads;     /* threads of the model's pool, the caller included; 0 = number
                      * of cores. OpenBLAS is set to 1 thread (process-wide). */
} eng_options;

/* Borrows w: it must outlive the model. Validates names/shapes (wt_model_validate). */
senti_status eng_model_create(const wt_model *w, const eng_options *opt, eng_model **out,
                              senti_err *err);
void eng_model_free(eng_model *m); /* NULL is a no-op */
/* Frees, in w, the data of the linear weights m packed into its own layout
 * (int8 ones always; f32 ones with the AVX-512 kernel set): m never reads them
 * again, and the process stops holding them twice (about 170 MB f32 or 43 MB
 * int8 at DistilBERT-base size). w must be
 * the model m was created from; afterwards w still serves its config, vocabulary
 * and metadata, but cannot be saved, exported, quantized or used to create
 * another engine (wt_model_validate names the released tensor). Returns the
 * bytes released (0 when m packed nothing). */
size_t eng_model_release_packed(const eng_model *m, wt_model *w);
const wt_config *eng_model_config(const eng_model *m);
const char *eng_model_isa(const eng_model *m); /* kernel set in use */
int eng_model_threads(const eng_model *m);     /* math threads in use (0 resolved to cores) */

/* max_batch <= SENTI_MAX_BATCH, max_seq <= min(SENTI_MAX_SEQ, max_positions).
 * Sized for max_batch * max_seq tokens: at DistilBERT-base size and the maximum
 * 256 x 512 that is 2.8 GB, so servers should cap tokens with the _tokens variant. */
senti_status eng_state_create(const eng_model *m, uint32_t max_batch, uint32_t max_seq,
                              eng_state **out, senti_err *err);
/* Same, with a cap on the tokens one eng_forward may carry (the sum of lens):
 * activation memory is proportional to it (about (3D + max(3D, H)) floats per
 * token, 21 KB for DistilBERT-base). 0 means max_batch * max_seq; otherwise
 * max_seq <= max_tokens <= max_batch * max_seq. */
senti_status eng_state_create_tokens(const eng_model *m, uint32_t max_batch, uint32_t max_seq,
                                     size_t max_tokens, eng_state **out, senti_err *err);
void eng_state_free(eng_state *s); /* NULL is a no-op */
/* The token capacity of s (sum of lens per eng_forward). */
size_t eng_state_max_tokens(const eng_state *s);

/* Runs n sequences (1..max_batch). ids[i] has lens[i] token ids (1..max_seq, each in
 * [0, vocab)), sum of lens <= the state's token capacity. Writes n * n_labels logits
 * (row i = sequence i). Does not allocate. m must be the model s was created for.
 * A sequence's result does not depend on the other sequences in the batch. Fails
 * (SENTI_E_INVALID/E_LIMIT) on bad input, never crashes. */
senti_status eng_forward(const eng_model *m, eng_state *s, uint32_t n, const int32_t *const *ids,
                         const uint32_t *lens, float *logits, senti_err *err);

/* Whether eng_forward computes the last transformer layer for every token
 * (keep = true) or, by default, only what the classifier reads: the keys and
 * values of every token and the rest for each sequence's first token ([CLS])
 * alone. The logits are the same either way (bit for bit with the AVX-512 and
 * int8 kernels; within float rounding where OpenBLAS computes the fp32
 * products); the default skips about 1/7 of the work of a 6-layer model.
 * eng_state_hidden needs keep = true. NULL s is a no-op. */
void eng_state_keep_hidden(eng_state *s, bool keep);

/* After eng_forward on a state with eng_state_keep_hidden(s, true): the last
 * transformer layer's output for sequence i, lens[i] x dim floats, valid until
 * the next eng_forward on s. NULL if i is not a sequence of the last successful
 * eng_forward, or that forward did not keep every token's hidden state. */
const float *eng_state_hidden(const eng_state *s, uint32_t i);

/* Numerically stable softmax of one row of logits into probs (n values). */
void eng_softmax_logits(const float *logits, uint32_t n, float *probs);

#endif
