/* engine/gemm_f32_ref.c - the packed fp32 weight layout (gemm_f32.h) and the
 * scalar twin of its kernels: the definition of their result, bit for bit. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/gemm_f32.h"
#include "engine/kern.h"

size_t eng_f32_packed_floats(size_t n, size_t k)
{
    if (n == 0 || k == 0 || n > SIZE_MAX - ENG_F32_NR) return 0;
    size_t np = (n + ENG_F32_NR - 1) / ENG_F32_NR * ENG_F32_NR;
    if (np > SIZE_MAX / k / sizeof(float)) return 0;
    return np * k;
}

void eng_f32_pack(const float *w, size_t ldw, size_t n, size_t k, float *buf, eng_f32_packed *out)
{
    size_t np = (n + ENG_F32_NR - 1) / ENG_F32_NR * ENG_F32_NR;
    for (size_t p = 0; p < np; p += ENG_F32_NR) {
        float *panel = buf + p * k;
        for (size_t c = 0; c < k; c++)
            for (size_t j = 0; j < ENG_F32_NR; j++)
                panel[c * ENG_F32_NR + j] = p + j < n ? w[(p + j) * ldw + c] : 0.0f;
    }
    *out = (eng_f32_packed){.n = n, .k = k, .np = np, .w = buf};
}

eng_f32_packed eng_f32_sub(const eng_f32_packed *w, size_t lo, size_t hi)
{
    size_t n = hi - lo;
    return (eng_f32_packed){.n = n,
                            .k = w->k,
                            .np = (n + ENG_F32_NR - 1) / ENG_F32_NR * ENG_F32_NR,
                            .w = w->w + lo * w->k};
}

/* y (m, n) = x (m, k) . W^T + bias, in the order gemm_f32.h states */
static void gemm_ref(const float *x, size_t ldx, size_t m, const eng_f32_packed *w,
                     const float *bias, eng_act act, float *y, size_t ldy)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < w->n; j++) {
            const float *col = w->w + (j / ENG_F32_NR) * ENG_F32_NR * w->k + j % ENG_F32_NR;
            float acc = 0.0f;
            for (size_t c = 0; c < w->k; c++) acc = fmaf(x[i * ldx + c], col[c * ENG_F32_NR], acc);
            y[i * ldy + j] = bias ? acc + bias[j] : acc;
        }
    eng_act_rows_ref(act, y, m, w->n, ldy);
}

static const eng_f32_kern f32_ref = {.isa = "ref", .gemm = gemm_ref};

const eng_f32_kern *eng_f32_ref(void) { return &f32_ref; }
