/* tests/fuzz/fuzz_safetensors.c - wt_st_parse over arbitrary bytes: no crash;
 * on success every tensor lies inside the data section and converts. */
#include "tests/fuzz/fuzz_common.h"
#include "weights/weights_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wt_st_file f;
    senti_err err = {0};
    if (wt_st_parse(data, size, "fuzz.safetensors", &f, &err) != SENTI_OK) {
        FUZZ_CHECK(err.msg[0]);
        return 0;
    }
    for (uint32_t i = 0; i < f.n; i++) {
        const wt_st_tensor *t = &f.tensors[i];
        FUZZ_CHECK(t->begin <= t->end && t->end <= f.data_len);
        if (t->dtype < 0) continue;
        uint64_t count = 1;
        for (uint32_t d = 0; d < t->ndim; d++) count *= t->shape[d];
        if (count > (1u << 20)) continue;
        float *dst = malloc((size_t)(count ? count : 1) * sizeof *dst);
        FUZZ_CHECK(dst != NULL);
        (void)wt_st_to_f32(&f, t, dst, &err);
        free(dst);
    }
    wt_st_free(&f);
    return 0;
}
