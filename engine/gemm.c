/* engine/gemm.c - the one matrix-product entry point of the forward pass.
 *
 * eng_linear dispatches on the weight form of a layer:
 *   - int8: the rows of x are quantized (per token, qgemm.h) into the state's
 *     buffer, split by rows across the pool; then qgemm, split by panels of 64
 *     output channels, with the dequantization and bias fused in its epilogue;
 *   - f32 packed at load (the AVX-512 kernel set): the kernel of gemm_f32.h,
 *     split by panels of 48 output channels, any number of rows;
 *   - f32 otherwise: OpenBLAS sgemm, one block of rows per thread with all
 *     output channels (OpenBLAS itself runs with one thread, so the pool and
 *     OpenBLAS never oversubscribe).
 * eng_gemm_f32 is the plain single-threaded OpenBLAS product (the non-packed
 * path above).
 */
#include <cblas.h>
#include <string.h>

#include "engine/engine_internal.h"

/* C (m,n) = A (m,k) op(B) [+ bias (n)] */
void eng_gemm_f32(eng_gemm_trans tr, size_t m, size_t n, size_t k, const float *a, size_t lda,
                  const float *b, size_t ldb, const float *bias, float *c, size_t ldc)
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
        if (tr == ENG_GEMM_NT)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)k, 1.0f, b, (blasint)ldb,
                        a, 1, beta, c, 1);
        else
            cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)k, (blasint)n, 1.0f, b, (blasint)ldb, a,
                        1, beta, c, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, tr == ENG_GEMM_NT ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, 1.0f, a, (blasint)lda, b, (blasint)ldb, beta, c,
                (blasint)ldc);
}

typedef struct lin_job {
    const eng_model *m;
    eng_state *s;
    float *y;
    const float *x;
    size_t rows;
    const eng_lin *L;
    eng_act act;
} lin_job;

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

/* a chunk of output channels, in whole panels of 64 */
static void qgemm_task(void *arg, int chunk, int chunks, int thread)
{
    (void)thread;
    const lin_job *j = arg;
    const eng_qweights *q = &j->L->q;
    size_t lo, hi;
    eng_split(q->n, ENG_QGEMM_PANEL, chunk, chunks, &lo, &hi);
    if (hi <= lo) return;
    eng_qweights sub = {.n = hi - lo,
                        .k = q->k,
                        .np = (hi - lo + ENG_QGEMM_PANEL - 1) / ENG_QGEMM_PANEL * ENG_QGEMM_PANEL,
                        .kp = q->kp,
                        .w = q->w + lo * q->kp,
                        .comp = q->comp + lo,
                        .scale = q->scale + lo};
    j->m->qkern->gemm(j->s->xq, eng_qgemm_act_stride(q->k), j->s->xs, j->rows, &sub,
                      j->L->b ? j->L->b + lo : NULL, j->act, j->y + lo, q->n);
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
        eng_split(L->out, ENG_F32_NR, chunk, chunks, &lo, &hi);
        if (hi <= lo) return;
        eng_f32_packed sub = eng_f32_sub(&L->f, lo, hi);
        j->m->fkern->gemm(j->x, L->in, j->rows, &sub, L->b ? L->b + lo : NULL, j->act, j->y + lo,
                          L->out);
        return;
    }
    eng_split(j->rows, 8, chunk, chunks, &lo, &hi);
    if (hi <= lo) return;
    eng_gemm_f32(ENG_GEMM_NT, hi - lo, L->out, L->in, j->x + lo * L->in, L->in, L->w, L->in, L->b,
                 j->y + lo * L->out, L->out);
    /* the activation of the model's own kernel set, as the fused epilogues apply it */
    if (j->act == ENG_ACT_GELU)
        j->m->kern->gelu(j->y + lo * L->out, (hi - lo) * L->out);
    else if (j->act == ENG_ACT_RELU)
        eng_act_rows_ref(ENG_ACT_RELU, j->y + lo * L->out, hi - lo, L->out, L->out);
}

void eng_linear(const eng_model *m, eng_state *s, float *y, const float *x, size_t rows,
                const eng_lin *L, eng_act act)
{
    if (rows == 0) return;
    lin_job j = {.m = m, .s = s, .y = y, .x = x, .rows = rows, .L = L, .act = act};
    /* About 4 chunks a thread (dynamically claimed); tiny products stay on the caller. */
    int nt = s->nt, chunks = 4 * nt;
    if (L->q.w) {
        eng_pool_run(m->pool, nt, rows >= 64 ? 2 * nt : 1, quantize_task, &j);
        eng_pool_run(m->pool, nt, L->out >= 128 ? chunks : 1, qgemm_task, &j);
    } else {
        /* OpenBLAS: one row block per thread (see f32_task) */
        eng_pool_run(m->pool, nt, L->out < 64 ? 1 : L->f.w ? chunks : nt, f32_task, &j);
    }
}
