/* tests/fuzz/fuzz_senti.c - the .senti reader (wt_model_load) over arbitrary
 * bytes written to a temporary file: no crash; on failure a message; on
 * success the model validates and its tensors and vocabulary are readable. */
#include "tests/fuzz/fuzz_common.h"
#include "weights/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[512];
    if (!path[0]) snprintf(path, sizeof path, "%s/model.senti", fuzz_tmp_dir());
    FUZZ_CHECK(fuzz_write_file(path, data, size) == 0);
    wt_model *m = NULL;
    senti_err err = {0};
    if (wt_model_load(path, &m, &err) != SENTI_OK) {
        FUZZ_CHECK(m == NULL && err.msg[0]);
        return 0;
    }
    (void)wt_model_validate(m, &err);
    for (uint32_t i = 0; i < wt_model_tensor_count(m); i++) FUZZ_CHECK(wt_model_tensor_at(m, i));
    for (uint32_t i = 0; i < wt_model_vocab_size(m); i++) FUZZ_CHECK(wt_model_vocab_token(m, i));
    (void)wt_model_file_checksum(m);
    wt_model_free(m);
    return 0;
}
