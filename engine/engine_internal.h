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
#include "engine/gemm_f32.h"
#include "engine/qgemm.h"

/* --- thread pool (pool.c) --------------------------------------------------- */
/* A persistent fork-join pool: threads - 1 workers plus the calling thread.
 * Workers spin briefly after a job (the next one of a forward pass follows
 * within microseconds), then sleep on a futex. A job is split into chunks that
 * the threads claim dynamically, so a thread the OS has descheduled does not
 * stall the others. One forward at a time may use a pool: eng_pool_acquire is a
 * trylock, and a forward that does not get the pool runs single-threaded
 * (engine.h explains why). */
typedef struct eng_pool eng_pool;
/* fn(arg, chunk, chunks, tid) runs once for each chunk in 0..chunks-1, on some
 * thread tid (0 = the caller, < eng_pool_threads): per-thread scratch is
 * indexed by tid, the work by chunk. */
typedef void (*eng_task_fn)(void *arg, int chunk, int chunks, int tid);

senti_status eng_pool_create(int threads, eng_pool **out, senti_err *err);
void eng_pool_free(eng_pool *p); /* NULL is a no-op; joins the workers */
int eng_pool_threads(const eng_pool *p);
bool eng_pool_acquire(eng_pool *p); /* false: busy (another forward has it) */
void eng_pool_release(eng_pool *p);
/* Runs the chunks of fn over up to nt threads and returns when all are done.
 * p NULL, nt <= 1 or chunks <= 1: fn(arg, 0, 1, 0) on the caller (one chunk).
 * Does not allocate. */
void eng_pool_run(eng_pool *p, int nt, int chunks, eng_task_fn fn, void *arg);

/* [lo, hi) of part `part` when n items are split into `parts` parts in units of
 * `unit` items (the last part takes the remainder). */
void eng_split(size_t n, size_t unit, int part, int parts, size_t *lo, size_t *hi);

/* --- the one GEMM entry point (gemm.c) ----------------------------------- */
/* A linear layer y = x W^T + b, W (out, in), in one of two forms. */
typedef struct eng_lin {
    size_t out, in;
    const float *b; /* (out) f32 */
    const float *w;   /* f32 (out, in) as stored by PyTorch; NULL when int8 or packed */
    eng_f32_packed f; /* f32, packed (gemm_f32.h) when the model has an fkern; f.w NULL else */
    eng_qweights q;   /* int8, packed (qgemm.h); q.w == NULL when f32 */
} eng_lin;

/* The one entry point for every linear layer of the forward pass:
 * y (rows, out) = act(x (rows, in) W^T + b). Dispatches on the weight form:
 * f32 packed (AVX-512 kernel, split over N across the pool), f32 stored
 * (OpenBLAS, split over rows) or int8 (activations quantized per row into
 * s->xq, qgemm, split over N). Bias and activation are fused into the kernels'
 * epilogues (OpenBLAS: applied to each thread's block right after it). */
void eng_linear(const eng_model *m, eng_state *s, float *y, const float *x, size_t rows,
                const eng_lin *L, eng_act act);
/* The same with y rows ldy floats apart (ldy >= L->out; columns past L->out
 * untouched). */
void eng_linear_ld(const eng_model *m, eng_state *s, float *y, size_t ldy, const float *x,
                   size_t rows, const eng_lin *L, eng_act act);

/* *out = the output channels [lo, hi) of L as a layer of their own (same input,
 * a view into L's weights and bias). False, *out untouched, when lo >= hi,
 * hi > L->out, or L's packed form cannot be cut at lo (not a panel boundary:
 * ENG_F32_NR for f32 packed, ENG_QGEMM_PANEL for int8). */
bool eng_lin_cols(const eng_lin *L, size_t lo, size_t hi, eng_lin *out);

/* --- model (model.c) ------------------------------------------------------ */
typedef struct eng_layer {
    eng_lin qkv;                /* (3D, D): q, k, v rows stacked; owned by the model */
    eng_lin o;                  /* attention out_lin (D, D) */
    const float *ln1_g, *ln1_b; /* sa_layer_norm (D) */
    eng_lin ffn1;               /* ffn.lin1 (H, D) */
    eng_lin ffn2;               /* ffn.lin2 (D, H) */
    const float *ln2_g, *ln2_b; /* output_layer_norm (D) */
} eng_layer;

struct eng_model {
    const wt_model *w; /* borrowed */
    wt_config cfg;
    const eng_kern *kern;
    const eng_qgemm_kern *qkern;
    const eng_f32_kern *fkern;  /* packed fp32 kernel; NULL = OpenBLAS on the stored layout */
    int threads;
    eng_pool *pool;             /* threads - 1 workers; NULL when threads == 1 */
    bool has_int8;              /* some linear is int8: states get quantization buffers */
    const float *word_emb; /* (vocab, D) */
    const float *pos_emb;  /* (max_positions, D) */
    const float *emb_ln_g, *emb_ln_b;
    eng_layer *layers;          /* n_layers */
    float *packed;              /* the stacked q/k/v biases, and weights (f32 without fkern) */
    float *fpacked;             /* every f32 linear packed for fkern (gemm_f32.h); the
                                 * wt_model's copies are released by eng_model_release_packed */
    void *qpacked;              /* every int8 linear, packed for qgemm (the wt_model's
                                 * copies are released by eng_model_release_packed) */
    eng_lin pre, cls;           /* pre_classifier (D, D), classifier (L, D) */
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
    float *attn_scratch; /* threads x attn_stride: kern->attention's scratch, one per thread */
    size_t attn_stride;  /* floats per thread: attention_scratch(max_seq, dh) rounded up to 16 */
    uint8_t *xq;       /* (N, act_stride(max(D, H))) quantized activations (int8 models) */
    float *xs;         /* (N) their per-row scales */
    int nt;            /* threads for the current forward (1 without the pool) */
    float *cls;        /* (max_batch, D) [CLS] rows, then pre_classifier output */
    float *pre;        /* (max_batch, D) */
    size_t *offsets;   /* (max_batch + 1) first packed row of each sequence */
    uint32_t n_last;   /* sequences of the last successful eng_forward whose hidden
                        * states s->x holds (0: none, or keep_hidden was off) */
    bool keep_hidden;  /* eng_state_keep_hidden: the last layer for every token */
};

#endif
