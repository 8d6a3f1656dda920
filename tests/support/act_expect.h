/* tests/support/act_expect.h - what the GEMM kernels' fused activation must
 * produce (a separate object from testutil, so that tests which do not link the
 * engine can still use testutil). */
#ifndef SENTI_TESTS_ACT_EXPECT_H
#define SENTI_TESTS_ACT_EXPECT_H

#include <stddef.h>

#include "engine/kern.h"

/* y (rows, n) row stride ld = act(y) as kernel set `isa` ("ref", "avx2",
 * "avx512") applies it: the expected result of a GEMM's fused epilogue. */
void tu_act_rows(const char *isa, eng_act act, float *y, size_t rows, size_t n, size_t ld);

#endif
