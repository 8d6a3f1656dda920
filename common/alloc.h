/* common/alloc.h - the project's allocation entry points.
 *
 * Every allocation in library code goes through these, so tests can inject
 * failures (fail the Nth allocation) and check that each error path cleans up.
 */
#ifndef SENTI_COMMON_ALLOC_H
#define SENTI_COMMON_ALLOC_H

#include <stddef.h>

void *senti_malloc(size_t n);
void *senti_calloc(size_t count, size_t size); /* checks count*size overflow */
void *senti_realloc(void *p, size_t n);
char *senti_strdup(const char *s);
void senti_free(void *p);

/* 64-byte aligned (cache line, AVX-512 vector), zeroed; free with senti_free_aligned. */
void *senti_alloc_aligned(size_t n);
void senti_free_aligned(void *p);

/* Fault injection for tests: after `n` more successful allocations, every
 * allocation fails until reset. n < 0 disables (the default). Not thread-safe
 * to change while other threads allocate. */
void senti_alloc_fail_after(long n);
/* Number of allocations performed since the last senti_alloc_fail_after(). */
long senti_alloc_count(void);

/* Overflow-checked helpers: return 0 and leave *out alone on overflow. */
int senti_mul_size(size_t a, size_t b, size_t *out);
int senti_add_size(size_t a, size_t b, size_t *out);

#endif
