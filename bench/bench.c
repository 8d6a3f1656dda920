/* bench/bench.c - clocks, RSS, statistics and FLOP counts for the benchmarks. */
#include "bench/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    uint64_t kb = 0;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            kb = strtoull(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb * 1024;
}

uint64_t bench_peak_rss(void) { return status_kb("VmHWM"); }
uint64_t bench_rss(void) { return status_kb("VmRSS"); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile on sorted data. */
static double percentile(const double *s, size_t n, double p)
{
    size_t rank = (size_t)(p * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return s[rank - 1];
}

void bench_summarize(double *samples, size_t n, bench_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0) return;
    qsort(samples, n, sizeof *samples, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += samples[i];
    out->n = n;
    out->min = samples[0];
    out->max = samples[n - 1];
    out->mean = sum / (double)n;
    out->median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
    out->p90 = percentile(samples, n, 0.90);
}

double bench_distilbert_flops(uint32_t T, uint32_t dim, uint32_t hidden, uint32_t layers)
{
    if (layers == 0) return 0.0;
    double t = T, d = dim, h = hidden;
    double linear = 2.0 * t * (4.0 * d * d + 2.0 * d * h); /* q,k,v,out + lin1,lin2 */
    double attn = 2.0 * 2.0 * t * t * d;                    /* QK^T and PV over all heads */
    /* the last layer: k, v for every token; q, out, lin1, lin2 and the
     * attention products for the [CLS] row */
    double last = 2.0 * t * 2.0 * d * d + 2.0 * (2.0 * d * d + 2.0 * d * h) + 2.0 * 2.0 * t * d;
    return (double)(layers - 1) * (linear + attn) + last +
           2.0 * (d * d + 2.0 * d); /* + classifier head */
}

void bench_cpu_info(char *name, size_t name_cap, char *flags, size_t flags_cap)
{
    snprintf(name, name_cap, "unknown");
    flags[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[8192];
    int have_name = 0, have_flags = 0;
    while (fgets(line, sizeof line, f) && !(have_name && have_flags)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *val = colon + 1;
        while (*val == ' ') val++;
        val[strcspn(val, "\n")] = '\0';
        if (!have_name && !strncmp(line, "model name", 10)) {
            snprintf(name, name_cap, "%s", val);
            have_name = 1;
        } else if (!have_flags && !strncmp(line, "flags", 5)) {
            static const char *const wanted[] = {"avx2",     "fma",         "avx512f",
                                                 "avx512bw", "avx512_vnni", "avx512_bf16",
                                                 "avx_vnni", "amx_int8"};
            size_t used = 0;
            for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
                char pat[32];
                snprintf(pat, sizeof pat, " %s ", wanted[i]);
                char padded[8200];
                snprintf(padded, sizeof padded, " %s ", val);
                if (strstr(padded, pat) && used + strlen(wanted[i]) + 2 < flags_cap)
                    used += (size_t)snprintf(flags + used, flags_cap - used, "%s%s",
                                             used ? "," : "", wanted[i]);
            }
            have_flags = 1;
        }
    }
    fclose(f);
}
