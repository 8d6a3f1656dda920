/* tests/support/sst2_fixture.h - the PyTorch reference rows for sst2-mini
 * ($SHARED/fixtures/sst2-mini/dev_logits.jsonl), parsed once for the engine tests. */
#ifndef SENTI_TESTS_SST2_FIXTURE_H
#define SENTI_TESTS_SST2_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tu_sst2_row {
    char *text;       /* owned */
    int label, pred;  /* gold label, PyTorch argmax */
    uint32_t len;     /* token ids incl. [CLS]/[SEP] */
    int32_t *ids;     /* owned, len ids */
    float logits[2];  /* PyTorch float32 logits */
} tu_sst2_row;

/* Reads every row; NULL (with the reason on stderr) when the file is missing, a
 * row is malformed, or a row has more than max_len ids. Free with tu_sst2_free. */
tu_sst2_row *tu_sst2_read(uint32_t max_len, size_t *n);
void tu_sst2_free(tu_sst2_row *rows, size_t n);

#endif
