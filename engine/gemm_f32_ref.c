/* engine/gemm_f32_ref.c - scalar twin of the small-M fp32 kernel (gemm_f32.h):
 * the definition of its result up to the order of the float sums. */
#include "engine/gemm_f32.h"

/* y (m, n) = x (m, k) . W^T (W (n, k)) + bias */
static void gemm_nt_ref(const float *x, size_t ldx, size_t m, const float *w, size_t ldw, size_t n,
                        size_t k, const float *bias, float *y, size_t ldy)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (size_t c = 0; c < k; c++) acc += x[i * ldx + c] * w[j * ldw + c];
            y[i * ldy + j] = bias ? acc + bias[j] : acc;
        }
}

static const eng_f32_kern f32_ref = {.isa = "ref", .gemm_nt = gemm_nt_ref};

const eng_f32_kern *eng_f32_ref(void) { return &f32_ref; }
