/* engine/gemm.c - the one matrix-product entry point of the forward pass.
 *
 * eng_linear dispatches on the weight form of a layer:
 *   - int8: the rows of x are quantized (per token, qgemm.h) into the state's
 *     buffer, split by rows across the pool; then qgemm in chunks of one panel
 *     of 64 output channels (times a block of 48 rows when there are 96 or
 *     more), with dequantization, bias and activation fused in its epilogue;
 *   - f32 packed at load (the AVX-512 kernel set): the kernel of gemm_f32.h,
 *     in chunks of whole panels of 48 output channels, any number of rows;
 *   - f32 otherwise: OpenBLAS sgemm, one block of rows per thread with all
 *     output channels (OpenBLAS itself runs with one thread, so the pool and
 *     OpenBLAS never oversubscribe).
 * blas_linear is the single-threaded OpenBLAS product of that last path.
 */
#include <cblas.h>
#include <stdbool.h>
#include <string.h>

#include "engine/engine_internal.h"

/* C (m,n) = A (m,k) B^T [+ bias (n)], B (n,k) (PyTorch Linear layout), with
 * single-threaded OpenBLAS (the engine pool does the threading). Row-major,
 * leading dimensions in floats; C must not alias A or B. */
static void blas_linear(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                        size_t ldb, const float *bias, float *c, size_t ldc)
{
    if (m == 0 || n == 0) return;
    float beta = 0.0f;
    if (bias) {
        /* Seed C with the bias so the product accumulates onto it: one pass over C. */
        for (size_t i = 0; i < m; i++) memcpy(c + i * ldc, bias, n * sizeof *c);
        beta = 1.0f;
    }
    if (m == 1) {
        /* One row (batch-1 classifier head, 1-token inputs): a matrix-vector
         * product skips the packing sgemm does, about 3x faster at this size. */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)k, 1.0f, b, (blasint)ldb, a,
                    1, beta, c, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                (blasint)m, (blasint)n, (blasint)k, 1.0f, a, (blasint)lda, b, (blasint)ldb, beta, c,
                (blasint)ldc);
}

typedef struct lin_job {
    const eng_model *m;
    eng_state *s;
    float *y;
    size_t ldy; /* row stride of y (floats), >= L->out */
    const float *x;
    size_t rows;
    const eng_lin *L;
    eng_act act;
    size_t panel;                 /* channels per chunk */
    size_t row_blocks, row_block; /* chunk c = panel c / row_blocks, rows of block
                                   * c % row_blocks (row_block rows each) */
} lin_job;

/* Chunks of a product, claimed dynamically by the pool's threads: blocks of
 * `panel` output channels (whole kernel panels) times, when there are many
 * rows, blocks of rows (a multiple of both kernels' tile heights, 6 and 8),
 * so that the threads finish together: one panel per chunk over all 128 rows
 * left a thread idle up to ~1/12 of a D-wide product. */
#define LIN_ROW_BLOCK 48
#define LIN_MAX_CHUNKS 4096 /* well inside the pool's limit */

/* Plans j's chunks for n output channels in blocks of `panel` (and rows in
 * blocks when split_rows); returns the count. */
static int plan_chunks(lin_job *j, size_t n, size_t panel, bool split_rows)
{
    size_t panels = (n + panel - 1) / panel;
    size_t rb = split_rows && j->rows >= 2 * LIN_ROW_BLOCK
                    ? (j->rows + LIN_ROW_BLOCK - 1) / LIN_ROW_BLOCK
                    : 1;
    size_t cap = LIN_MAX_CHUNKS / panels > 0 ? LIN_MAX_CHUNKS / panels : 1;
    if (rb > cap) rb = cap;
    size_t per = (j->rows + rb - 1) / rb;
    j->panel = panel;
    j->row_block = (per + 23) / 24 * 24;
    j->row_blocks = (j->rows + j->row_block - 1) / j->row_block;
    return (int)(panels * j->row_blocks);
}

/* [r0, r1) rows and [lo, hi) of the n channels in chunk `chunk` of `chunks`
 * (chunks == 1: the whole product) */
static void chunk_range(const lin_job *j, size_t n, int chunk, int chunks, size_t *r0, size_t *r1,
                        size_t *lo, size_t *hi)
{
    if (chunks == 1) {
        *r0 = 0, *r1 = j->rows, *lo = 0, *hi = n;
        return;
    }
    size_t p = (size_t)chunk / j->row_blocks, r = (size_t)chunk % j->row_blocks;
    *lo = p * j->panel;
    *hi = *lo + j->panel < n ? *lo + j->panel : n;
    *r0 = r * j->row_block;
    *r1 = *r0 + j->row_block < j->rows ? *r0 + j->row_block : j->rows;
}

/* a chunk of x rows -> s->xq, s->xs */
static void quantize_task(void *arg, int chunk, int chunks, int thread)
{
    (void)thread;
    const lin_job *j = arg;
    size_t lo, hi, ldq = eng_qgemm_act_stride(j->L->in);
    eng_split(j->rows, 1, chunk, chunks, &lo, &hi);
    if (hi > lo)
        j->m->qkern->quantize_rows(j->x + lo * j->L->in, hi - lo, j->L->in, j->L->in,
                                   j->s->xq + lo * ldq, ldq, j->s->xs + lo);
}

/* one panel of 64 output channels (all of them when chunks == 1) for a block of rows */
static void qgemm_task(void *arg, int chunk, int chunks, int thread)
{
    (void)thread;
    const lin_job *j = arg;
    const eng_qweights *q = &j->L->q;
    size_t lo, hi, r0, r1;
    chunk_range(j, q->n, chunk, chunks, &r0, &r1, &lo, &hi);
    if (hi <= lo || r1 <= r0) return;
    eng_qweights sub = eng_qgemm_sub(q, lo, hi);
    size_t ldq = eng_qgemm_act_stride(q->k);
    j->m->qkern->gemm(j->s->xq + r0 * ldq, ldq, j->s->xs + r0, r1 - r0, &sub,
                      j->L->b ? j->L->b + lo : NULL, j->act, j->y + r0 * j->ldy + lo, j->ldy);
}

/* Packed: a chunk of output channels (whole panels) through the kernel, which
 * reads each of its panels once for all rows. OpenBLAS: a block of rows with
 * all output channels: splitting channels instead makes every call re-pack the
 * whole activation matrix (measured: T=512 fp32 245 ms vs 205 ms, 2 threads). */
static void f32_task(void *arg, int chunk, int chunks, int thread)
{
    (void)thread;
    const lin_job *j = arg;
    const eng_lin *L = j->L;
    size_t lo, hi;
    if (L->f.w) {
        size_t r0, r1;
        chunk_range(j, L->out, chunk, chunks, &r0, &r1, &lo, &hi);
        if (hi <= lo || r1 <= r0) return;
        eng_f32_packed sub = eng_f32_sub(&L->f, lo, hi);
        j->m->fkern->gemm(j->x + r0 * L->in, L->in, r1 - r0, &sub, L->b ? L->b + lo : NULL, j->act,
                          j->y + r0 * j->ldy + lo, j->ldy);
        return;
    }
    eng_split(j->rows, 8, chunk, chunks, &lo, &hi);
    if (hi <= lo) return;
    float *y = j->y + lo * j->ldy;
    blas_linear(hi - lo, L->out, L->in, j->x + lo * L->in, L->in, L->w, L->in, L->b, y, j->ldy);
    /* the activation of the model's own kernel set, as the fused epilogues apply it */
    if (j->act == ENG_ACT_GELU) {
        if (j->ldy == L->out)
            j->m->kern->gelu(y, (hi - lo) * L->out);
        else
            for (size_t r = 0; r < hi - lo; r++) j->m->kern->gelu(y + r * j->ldy, L->out);
    } else if (j->act == ENG_ACT_RELU) {
        eng_act_rows_ref(ENG_ACT_RELU, y, hi - lo, L->out, j->ldy);
    }
}

bool eng_lin_cols(const eng_lin *L, size_t lo, size_t hi, eng_lin *out)
{
    if (lo >= hi || hi > L->out) return false;
    eng_lin c = {.out = hi - lo, .in = L->in, .b = L->b ? L->b + lo : NULL};
    if (L->q.w) {
        if (lo % ENG_QGEMM_PANEL) return false;
        c.q = eng_qgemm_sub(&L->q, lo, hi);
    } else if (L->f.w) {
        if (lo % ENG_F32_NR) return false;
        c.f = eng_f32_sub(&L->f, lo, hi);
    } else {
        if (!L->w) return false;
        c.w = L->w + lo * L->in;
    }
    *out = c;
    return true;
}

void eng_linear_ld(const eng_model *m, eng_state *s, float *y, size_t ldy, const float *x,
                   size_t rows, const eng_lin *L, eng_act act)
{
    if (rows == 0) return;
    lin_job j = {.m = m, .s = s, .y = y, .ldy = ldy, .x = x, .rows = rows, .L = L, .act = act};
    /* Tiny products stay on the caller. */
    int nt = s->nt;
    if (L->q.w) {
        eng_pool_run(m->pool, nt, rows >= 64 ? 2 * nt : 1, quantize_task, &j);
        int n = plan_chunks(&j, L->out, ENG_QGEMM_PANEL, true);
        eng_pool_run(m->pool, nt, L->out >= 128 ? n : 1, qgemm_task, &j);
    } else if (L->f.w) {
        /* About 4 chunks a thread, of several panels each: a kernel call
         * prefetches its next panel while computing, and each panel is read
         * from memory once. Measured worse, DistilBERT-base T=128, 2 threads:
         * one panel a chunk 41 -> 43 ms; also splitting rows (as int8 does)
         * 41 -> 45 ms (each fp32 panel read once per row block). */
        size_t panels = (L->out + ENG_F32_NR - 1) / ENG_F32_NR;
        size_t per = (panels + 4 * (size_t)nt - 1) / (4 * (size_t)nt);
        int n = plan_chunks(&j, L->out, per * ENG_F32_NR, false);
        eng_pool_run(m->pool, nt, L->out < 64 ? 1 : n, f32_task, &j);
    } else {
        /* OpenBLAS: one row block per thread (see f32_task) */
        eng_pool_run(m->pool, nt, L->out < 64 ? 1 : nt, f32_task, &j);
    }
}

void eng_linear(const eng_model *m, eng_state *s, float *y, const float *x, size_t rows,
                const eng_lin *L, eng_act act)
{
    eng_linear_ld(m, s, y, L->out, x, rows, L, act);
}
