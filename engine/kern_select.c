/* engine/kern_select.c - pick the kernel table once, from cpuid or by name. */
#include <string.h>

#include "engine/kern.h"

senti_status eng_kern_select(const char *name, const eng_kern **out, senti_err *err)
{
    if (!name || !*name || strcmp(name, "auto") == 0) {
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
                          "engine: unknown kernel set '%s' (expected auto, ref, avx2 or avx512)",
                          name);
    if (!k)
        return senti_fail(err, SENTI_E_UNSUPPORTED,
                          "engine: kernel set '%s' is not supported by this CPU; use 'auto'",
                          name);
    *out = k;
    return SENTI_OK;
}
