/* bench/bench.h - measurement helpers behind `senti bench` and `make bench`.
 * Benchmarks report figures; they never assert times. */
#ifndef SENTI_BENCH_H
#define SENTI_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in seconds. */
double bench_now(void);
/* Peak resident set size of this process in bytes (VmHWM), 0 if unknown. */
uint64_t bench_peak_rss(void);
/* Current resident set size in bytes (VmRSS), 0 if unknown. */
uint64_t bench_rss(void);

typedef struct bench_stats {
    size_t n;
    double median, p90, min, max, mean;
} bench_stats;
/* Sorts samples in place and fills the summary (times in whatever unit given). */
void bench_summarize(double *samples, size_t n, bench_stats *out);

/* Floating-point operations of one DistilBERT forward for a T-token sequence
 * as the engine runs it by default (multiply-add counted as 2): linear layers
 * plus attention products, the last layer for the [CLS] row only (keys and
 * values for every token; engine.h, eng_state_keep_hidden). */
double bench_distilbert_flops(uint32_t T, uint32_t dim, uint32_t hidden, uint32_t layers);

/* CPU model name and the SIMD flags that matter here, for stamping results. */
void bench_cpu_info(char *name, size_t name_cap, char *flags, size_t flags_cap);

#endif
