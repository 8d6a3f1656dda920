/* tests/fuzz/fuzz_common.h - helpers shared by the libFuzzer targets and their
 * replay test (tests/net/test_fuzz_replay.c). Each target defines
 * LLVMFuzzerTestOneInput; the replay test includes every target with the entry
 * points renamed, so a target keeps its statics prefixed with its own name. */
#ifndef SENTI_FUZZ_COMMON_H
#define SENTI_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Invariant violated: abort so libFuzzer (or the replay test) reports the input. */
#define FUZZ_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* The shared read-only material: $SHARED, else ../shared from the repository root. */
static inline const char *fuzz_shared_dir(void)
{
    const char *s = getenv("SHARED");
    return s && *s ? s : "../shared";
}

/* Writes data to path (created or truncated); 0 on success. */
static inline int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = size ? fwrite(data, 1, size, f) : 0;
    int rc = fclose(f);
    return (n == size && rc == 0) ? 0 : -1;
}

/* A private scratch directory for targets that need files (created once). */
static inline const char *fuzz_tmp_dir(void)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/senti-fuzz-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return dir;
}

#endif
