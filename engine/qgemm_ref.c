/* engine/qgemm_ref.c - the portable half of the int8 path: packing, kernel
 * selection, and the scalar reference kernels that define the
 * exact results of qgemm_avx2.c / qgemm_avx512.c (see qgemm.h for the formats). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "engine/qgemm.h"

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

size_t eng_qgemm_act_stride(size_t k) { return round_up(k, 64); }

eng_qweights eng_qgemm_sub(const eng_qweights *w, size_t lo, size_t hi)
{
    return (eng_qweights){.n = hi - lo,
                          .k = w->k,
                          .np = round_up(hi - lo, ENG_QGEMM_PANEL),
                          .kp = w->kp,
                          .w = w->w + lo * w->kp,
                          .comp = w->comp + lo,
                          .scale = w->scale + lo};
}

size_t eng_qgemm_packed_size(size_t n, size_t k)
{
    if (n == 0 || k == 0 || k > SENTI_QGEMM_MAX_K || n > SIZE_MAX / 2) return 0;
    size_t np = round_up(n, ENG_QGEMM_PANEL), kp = round_up(k, 4), wbytes, total;
    /* weights, then comp (int32) and scale (float) per padded channel */
    if (!senti_mul_size(np, kp, &wbytes) || !senti_add_size(wbytes, np * 8, &total)) return 0;
    return total;
}

/* byte offset of W8[n][k] in the panel layout */
static size_t packed_offset(size_t kp, size_t n, size_t k)
{
    size_t panel = n / ENG_QGEMM_PANEL, in = n % ENG_QGEMM_PANEL;
    return panel * ENG_QGEMM_PANEL * kp + (k / 4) * (ENG_QGEMM_PANEL * 4) + (in / 16) * 64 +
           (in % 16) * 4 + k % 4;
}

senti_status eng_qgemm_pack(const int8_t *w8, const float *scale, size_t n, size_t k, void *buf,
                            size_t buf_size, eng_qweights *out, senti_err *err)
{
    size_t need = eng_qgemm_packed_size(n, k);
    if (need == 0)
        return senti_fail(err, SENTI_E_INVALID,
                          "qgemm: cannot pack weights (%zu, %zu): N and K must be >= 1 and K <= %u",
                          n, k, SENTI_QGEMM_MAX_K);
    if (buf_size < need || ((uintptr_t)buf & 63) != 0)
        return senti_fail(err, SENTI_E_INVALID,
                          "qgemm: pack buffer for (%zu, %zu) must be 64-byte aligned and hold %zu "
                          "bytes (got %zu); size it with eng_qgemm_packed_size",
                          n, k, need, buf_size);
    const size_t np = round_up(n, ENG_QGEMM_PANEL), kp = round_up(k, 4);
    int8_t *w = buf;
    int32_t *comp = (int32_t *)(w + np * kp);
    float *sc = (float *)(comp + np);
    memset(buf, 0, need);
    for (size_t i = 0; i < n; i++) {
        int32_t sum = 0;
        for (size_t j = 0; j < k; j++) {
            int8_t v = w8[i * k + j];
            if (v == INT8_MIN)
                return senti_fail(err, SENTI_E_INVALID,
                                  "qgemm: weight (%zu, %zu) is -128; int8 weights must be in "
                                  "[-127, 127] (quantize with wt_quantize_rows_int8)",
                                  i, j);
            w[packed_offset(kp, i, j)] = v;
            sum += v;
        }
        comp[i] = 128 * sum;
        sc[i] = scale[i];
    }
    *out = (eng_qweights){.n = n, .k = k, .np = np, .kp = kp, .w = w, .comp = comp, .scale = sc};
    return SENTI_OK;
}

/* q = rint(v * inv) clamped to [-127, 127] (round half to even, as cvtps2dq) */
static int32_t quant1(float v, float inv)
{
    float q = nearbyintf(v * inv);
    return q > 127.0f ? 127 : q < -127.0f ? -127 : (int32_t)q;
}

/* x (M, K) -> xq (M, ldq) u8, zero point 128; x_scale (M) */
static void quantize_rows_ref(const float *x, size_t m, size_t k, size_t ldx, uint8_t *xq,
                              size_t ldq, float *x_scale)
{
    for (size_t i = 0; i < m; i++) {
        const float *xi = x + i * ldx;
        uint8_t *qi = xq + i * ldq;
        float mx = 0.0f;
        for (size_t j = 0; j < k; j++) mx = fmaxf(mx, fabsf(xi[j]));
        x_scale[i] = mx / 127.0f;
        float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
        for (size_t j = 0; j < k; j++) qi[j] = (uint8_t)(quant1(xi[j], inv) + 128);
        memset(qi + k, 128, ldq - k);
    }
}

/* y (M, N) = dequant(xq (M, K) . W8^T) + bias */
static void gemm_ref(const uint8_t *xq, size_t ldq, const float *x_scale, size_t m,
                     const eng_qweights *w, const float *bias, eng_act act, float *y, size_t ldy)
{
    for (size_t i = 0; i < m; i++) {
        const uint8_t *qi = xq + i * ldq;
        for (size_t n = 0; n < w->n; n++) {
            int32_t acc = 0;
            for (size_t j = 0; j < w->k; j++)
                acc += ((int32_t)qi[j] - 128) * w->w[packed_offset(w->kp, n, j)];
            float v = (float)acc * (x_scale[i] * w->scale[n]);
            y[i * ldy + n] = bias ? v + bias[n] : v;
        }
    }
    eng_act_rows_ref(act, y, m, w->n, ldy);
}

static const eng_qgemm_kern qgemm_ref = {
    .isa = "ref",
    .quantize_rows = quantize_rows_ref,
    .gemm = gemm_ref,
};

const eng_qgemm_kern *eng_qgemm_ref(void) { return &qgemm_ref; }

static int is_auto(const char *name) { return !name || !*name || strcmp(name, "auto") == 0; }

senti_status eng_qgemm_select(const char *name, const eng_qgemm_kern **out, senti_err *err)
{
    const char *origin = "kernel set";
    if (is_auto(name)) {
        name = getenv("SENTI_ISA");
        origin = "SENTI_ISA";
    }
    if (is_auto(name)) {
        const eng_qgemm_kern *k = eng_qgemm_avx512();
        if (!k) k = eng_qgemm_avx2();
        if (!k) k = eng_qgemm_ref();
        *out = k;
        return SENTI_OK;
    }
    const eng_qgemm_kern *k = NULL;
    if (strcmp(name, "ref") == 0) k = eng_qgemm_ref();
    else if (strcmp(name, "avx2") == 0) k = eng_qgemm_avx2();
    else if (strcmp(name, "avx512") == 0) k = eng_qgemm_avx512();
    else
        return senti_fail(err, SENTI_E_INVALID,
                          "qgemm: unknown %s '%s' (expected auto, ref, avx2 or avx512)", origin,
                          name);
    if (!k)
        return senti_fail(err, SENTI_E_UNSUPPORTED,
                          "qgemm: %s '%s' (int8) is not supported by this CPU; use 'auto'", origin,
                          name);
    *out = k;
    return SENTI_OK;
}
