/* engine/engine_internal.h - structures shared by model.c, forward.c and gemm.c
 * (engine-internal; no other folder includes this).
 *
 * Letters: N packed tokens of the batch, T tokens of one sequence, D model dim,
 * H FFN hidden dim, L labels, nh heads, dh = D / nh.
 */
#ifndef SENTI_ENGINE_INTERNAL_H
#define SENTI_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/kern.h"

/* --- the one GEMM entry point (gemm.c) ----------------------------------- */
typedef enum eng_gemm_trans {
    ENG_GEMM_NN = 0, /* C = A B     : A (m,k), B (k,n) */
    ENG_GEMM_NT = 1, /* C = A B^T   : A (m,k), B (n,k) (PyTorch Linear weight layout) */
} eng_gemm_trans;

/* C (m,n) = A op(B) [+ bias (n), broadcast over rows]. Row-major, leading
 * dimensions in floats. C must not alias A or B. Every matrix product of the
 * forward pass goes through here, so the int8 path can slot in behind it. */
void eng_gemm_f32(eng_gemm_trans tr, size_t m, size_t n, size_t k, const float *a, size_t lda,
                  const float *b, size_t ldb, const float *bias, float *c, size_t ldc);

/* y (rows, out) = x (rows, in) W^T + b; W (out, in) as stored by PyTorch. */
void eng_linear_f32(float *y, const float *x, size_t rows, const float *w, const float *b,
                    size_t out, size_t in);

/* --- model (model.c) ------------------------------------------------------ */
typedef struct eng_layer {
    const float *wqkv, *bqkv;   /* (3D, D), (3D): q, k, v rows stacked; owned by the model */
    const float *wo, *bo;       /* attention out_lin (D, D), (D) */
    const float *ln1_g, *ln1_b; /* sa_layer_norm (D) */
    const float *w1, *b1;       /* ffn.lin1 (H, D), (H) */
    const float *w2, *b2;       /* ffn.lin2 (D, H), (D) */
    const float *ln2_g, *ln2_b; /* output_layer_norm (D) */
} eng_layer;

struct eng_model {
    const wt_model *w; /* borrowed */
    wt_config cfg;
    const eng_kern *kern;
    int threads;
    const float *word_emb; /* (vocab, D) */
    const float *pos_emb;  /* (max_positions, D) */
    const float *emb_ln_g, *emb_ln_b;
    eng_layer *layers;          /* n_layers */
    float *packed;              /* the stacked q/k/v weights and biases of every layer */
    const float *pre_w, *pre_b; /* pre_classifier (D, D), (D) */
    const float *cls_w, *cls_b; /* classifier (L, D), (L) */
};

/* --- state (forward.c) ----------------------------------------------------- */
struct eng_state {
    const eng_model *m;
    uint32_t max_batch, max_seq;
    size_t max_tokens; /* N capacity: sum of lens in one eng_forward */
    float *x;          /* (N, D) residual stream; the last layer's output after eng_forward */
    float *wide;       /* (N, max(3D, H)): q|k|v rows, then the FFN hidden rows */
    float *ctx;        /* (N, D) attention context */
    float *tmp;        /* (N, D) sublayer output before the residual add */
    float *scores;     /* (max_seq, max_seq) one head's attention matrix */
    float *cls;        /* (max_batch, D) [CLS] rows, then pre_classifier output */
    float *pre;        /* (max_batch, D) */
    size_t *offsets;   /* (max_batch + 1) first packed row of each sequence */
    uint32_t n_last;   /* sequences of the last successful eng_forward (0: none) */
};

#endif
