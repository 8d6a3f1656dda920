/* net/corrid.c - correlation ids: accept a client's if it is sane, else make one. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "net/net_internal.h"

bool net_corr_id_sanitize(const char *in, char out[NET_CORR_ID_MAX + 1])
{
    if (!in) return false;
    size_t n = 0;
    for (const char *p = in; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok || n >= NET_CORR_ID_MAX) return false;
    }
    if (n == 0) return false;
    memcpy(out, in, n + 1);
    return true;
}

/* splitmix64 over a per-thread state seeded from getrandom (or the clock). */
static uint64_t next_random(void)
{
    static _Thread_local uint64_t state;
    static _Thread_local int seeded;
    if (!seeded) {
        if (getrandom(&state, sizeof state, GRND_NONBLOCK) != (ssize_t)sizeof state) {
            static atomic_uint_fast64_t salt;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                    (atomic_fetch_add(&salt, 0x9E3779B97F4A7C15u));
        }
        seeded = 1;
    }
    uint64_t z = (state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

void net_uuid4(char out[37])
{
    uint64_t hi = next_random(), lo = next_random();
    hi = (hi & ~0xF000ull) | 0x4000ull;                 /* version 4 */
    lo = (lo & ~(0xC0ull << 56)) | (0x80ull << 56);     /* variant 10 */
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
             (unsigned)((hi >> 16) & 0xFFFF), (unsigned)(hi & 0xFFFF), (unsigned)(lo >> 48),
             (unsigned long long)(lo & 0xFFFFFFFFFFFFull));
}
