/* engine/kern_select.c - pick the kernel table once, from cpuid or by name.
 *
 * Order of precedence:
 *   1. an explicit name ("ref", "avx2", "avx512") from the caller (eng_options.isa,
 *      i.e. the config file or --isa) always wins;
 *   2. otherwise (name NULL, "" or "auto") the environment variable SENTI_ISA,
 *      with the same values plus "auto", forces a set: handy for comparing
 *      kernels or running the reference path without touching the config
 *      (SENTI_ISA=ref senti predict ...);
 *   3. otherwise the best set the CPU supports: avx512, then avx2, then ref.
 * A forced set the CPU cannot run is an error (SENTI_E_UNSUPPORTED), never a
 * silent fallback: a benchmark asking for avx512 must not measure ref.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/kern.h"

static int is_auto(const char *name) { return !name || !*name || strcmp(name, "auto") == 0; }

senti_status eng_kern_select(const char *name, const eng_kern **out, senti_err *err)
{
    const char *origin = "kernel set";
    if (is_auto(name)) {
        name = getenv("SENTI_ISA");
        origin = "SENTI_ISA";
    }
    if (is_auto(name)) {
        const eng_kern *k = eng_kern_avx512();
        if (!k) k = eng_kern_avx2();
        if (!k) k = eng_kern_ref();
        *out = k;
        return SENTI_OK;
    }
    const eng_kern *k = NULL;
    if (strcmp(name, "ref") == 0) k = eng_kern_ref();
    else if (strcmp(name, "avx2") == 0) k = eng_kern_avx2();
    else if (strcmp(name, "avx512") == 0) k = eng_kern_avx512();
    else
        return senti_fail(err, SENTI_E_INVALID,
                          "engine: unknown %s '%s' (expected auto, ref, avx2 or avx512)", origin,
                          name);
    if (!k)
        return senti_fail(err, SENTI_E_UNSUPPORTED,
                          "engine: %s '%s' is not supported by this CPU; use 'auto'", origin, name);
    *out = k;
    return SENTI_OK;
}
