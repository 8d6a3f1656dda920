/* engine/kern_simd_stub.c - TEMPORARY until kern_avx2.c / kern_avx512.c land:
 * report the SIMD sets as unavailable so selection falls back to ref. */
#include <stddef.h>

#include "engine/kern.h"

const eng_kern *eng_kern_avx2(void) { return NULL; }
const eng_kern *eng_kern_avx512(void) { return NULL; }
