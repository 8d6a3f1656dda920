/* cli/blas_setup.c - make OpenBLAS use kernels that fit this CPU.
 *
 * OpenBLAS with DYNAMIC_ARCH (Debian 12 ships 0.3.21) picks its kernels from
 * cpuid when the library is loaded, before main(). CPUs newer than the library
 * (e.g. family 6 model 0xCF, Emerald Rapids) are not recognised and fall back to
 * the "Prescott" SSE3 kernels: sgemm runs ~5x slower (measured here: 20 vs 103
 * GFLOP/s for 128x768x3072). The supported override, OPENBLAS_CORETYPE, is only
 * read at load time, so when the fallback is detected on a CPU with AVX-512 or
 * AVX2 we set it and re-execute the program once. An explicit OPENBLAS_CORETYPE
 * in the environment is always respected. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"

char *openblas_get_corename(void); /* OpenBLAS extension, not in every cblas.h */

void cli_blas_setup(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE")) return; /* the user's choice, or we already re-executed */
    const char *core = openblas_get_corename();
    if (!core || strcasecmp(core, "Prescott") != 0) return; /* only the unknown-CPU fallback */
    __builtin_cpu_init();
    const char *want = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "Haswell";
    if (!want) return;
    if (setenv("OPENBLAS_CORETYPE", want, 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc?): carry on with the slow kernels rather than fail */
}

const char *cli_blas_core(void)
{
    const char *core = openblas_get_corename();
    return core ? core : "unknown";
}
