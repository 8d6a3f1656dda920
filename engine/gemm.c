/* engine/gemm.c - the one matrix-product entry point of the forward pass.
 *
 * fp32 goes to OpenBLAS (cblas_sgemm). Keeping every product behind this file
 * lets the int8 kernels be added beside it and benchmarked against it. */
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

/* y (rows, out) = x (rows, in) W^T + b, W (out, in) */
void eng_linear_f32(float *y, const float *x, size_t rows, const float *w, const float *b,
                    size_t out, size_t in)
{
    eng_gemm_f32(ENG_GEMM_NT, rows, out, in, x, in, w, in, b, y, out);
}
