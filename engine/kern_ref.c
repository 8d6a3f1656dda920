/* engine/kern_ref.c - scalar reference kernels: the definition of correct for
 * every SIMD twin. Plain loops, float accumulation where PyTorch uses float. */
#include <math.h>

#include "engine/kern.h"
#include "engine/kern_internal.h"

/* y (rows, dim) = LN(x + r) * gamma + beta */
static void add_layernorm_ref(float *y, const float *x, const float *r, const float *gamma,
                              const float *beta, size_t rows, size_t dim, float eps)
{
    for (size_t i = 0; i < rows; i++) {
        const float *xi = x + i * dim;
        const float *ri = r ? r + i * dim : NULL;
        float *yi = y + i * dim;
        float sum = 0.0f;
        for (size_t j = 0; j < dim; j++) {
            float v = xi[j] + (ri ? ri[j] : 0.0f);
            yi[j] = v;
            sum += v;
        }
        float mean = sum / (float)dim;
        float var = 0.0f;
        for (size_t j = 0; j < dim; j++) {
            float d = yi[j] - mean;
            var += d * d;
        }
        var /= (float)dim;
        float inv = 1.0f / sqrtf(var + eps);
        for (size_t j = 0; j < dim; j++) yi[j] = (yi[j] - mean) * inv * gamma[j] + beta[j];
    }
}

/* x (n) = gelu_erf(x) */
static void gelu_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void eng_act_rows_ref(eng_act act, float *y, size_t rows, size_t n, size_t ld)
{
    if (act == ENG_ACT_NONE) return;
    for (size_t i = 0; i < rows; i++) {
        float *yi = y + i * ld;
        if (act == ENG_ACT_GELU)
            gelu_ref(yi, n);
        else
            for (size_t j = 0; j < n; j++)
                if (!(yi[j] > 0.0f)) yi[j] = 0.0f;
    }
}

/* x (rows, dim) += bias (dim) */
static void add_bias_ref(float *x, const float *bias, size_t rows, size_t dim)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < dim; j++) x[i * dim + j] += bias[j];
}

/* x (rows, ld): row[:n] = softmax(scale * row[:n]) */
static void softmax_rows_ref(float *x, size_t rows, size_t n, size_t ld, float scale)
{
    for (size_t i = 0; i < rows; i++) {
        float *xi = x + i * ld;
        float mx = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            xi[j] *= scale;
            if (xi[j] > mx) mx = xi[j];
        }
        float sum = 0.0f;
        for (size_t j = 0; j < n; j++) {
            xi[j] = expf(xi[j] - mx);
            sum += xi[j];
        }
        float inv = 1.0f / sum;
        for (size_t j = 0; j < n; j++) xi[j] *= inv;
    }
}

static const eng_kern kern_ref = {
    .isa = "ref",
    .add_layernorm = add_layernorm_ref,
    .gelu = gelu_ref,
    .add_bias = add_bias_ref,
    .softmax_rows = softmax_rows_ref,
    .attention = eng_attn_ref,
    .attention_scratch = eng_attn_scratch_ref,
};

const eng_kern *eng_kern_ref(void) { return &kern_ref; }
