/* tests/support/act_expect.c - see act_expect.h */
#include "tests/support/act_expect.h"

void tu_act_rows(const char *isa, eng_act act, float *y, size_t rows, size_t n, size_t ld)
{
    const eng_kern *k = NULL;
    senti_err err = {0};
    if (act == ENG_ACT_NONE) return;
    if (act == ENG_ACT_RELU || eng_kern_select(isa, &k, &err) != SENTI_OK) {
        eng_act_rows_ref(act, y, rows, n, ld);
        return;
    }
    for (size_t i = 0; i < rows; i++) k->gelu(y + i * ld, n);
}
