/* common/alloc.c - allocation wrappers with an optional failure hook. */
#include "common/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_after = -1;
static atomic_long alloc_count = 0;

static int should_fail(void)
{
    long n = atomic_fetch_add(&alloc_count, 1);
    long limit = atomic_load(&fail_after);
    return limit >= 0 && n >= limit;
}

void senti_alloc_fail_after(long n)
{
    atomic_store(&alloc_count, 0);
    atomic_store(&fail_after, n);
}

long senti_alloc_count(void) { return atomic_load(&alloc_count); }

int senti_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

int senti_add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}

void *senti_malloc(size_t n)
{
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *senti_calloc(size_t count, size_t size)
{
    size_t total;
    if (!senti_mul_size(count, size, &total)) return NULL;
    if (should_fail()) return NULL;
    return calloc(total ? total : 1, 1);
}

void *senti_realloc(void *p, size_t n)
{
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

char *senti_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = senti_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void senti_free(void *p) { free(p); }

void *senti_alloc_aligned(size_t n)
{
    size_t rounded;
    if (!senti_add_size(n ? n : 1, 63, &rounded)) return NULL;
    rounded &= ~(size_t)63;
    if (should_fail()) return NULL;
    void *p = aligned_alloc(64, rounded);
    if (p) memset(p, 0, rounded);
    return p;
}

void senti_free_aligned(void *p) { free(p); }
