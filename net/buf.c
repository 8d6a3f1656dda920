/* net/buf.c - growable NUL-terminated string for rendering replies and metrics. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "net/net_internal.h"

void net_sb_free(net_sb *b)
{
    senti_free(b->p);
    *b = (net_sb){0};
}

static bool sb_reserve(net_sb *b, size_t extra)
{
    size_t need;
    if (b->oom || !senti_add_size(b->len, extra, &need) || !senti_add_size(need, 1, &need)) {
        b->oom = true;
        return false;
    }
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = senti_realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

bool net_sb_append(net_sb *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n)) return false;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

bool net_sb_puts(net_sb *b, const char *s) { return net_sb_append(b, s, strlen(s)); }

bool net_sb_printf(net_sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return false;
    }
    if ((size_t)n < sizeof tmp) return net_sb_append(b, tmp, (size_t)n);
    if (!sb_reserve(b, (size_t)n)) return false;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}
