/* net/ratelimit.c - token-bucket rate limiting per client (API key principal or
 * address). Each client's bucket holds up to `burst` tokens and refills at
 * per_minute / 60 tokens per second; a request takes one token.
 *
 * At most max_clients buckets are tracked (LRU). Forgetting the least recently
 * seen client can only give it a full bucket again, which is what an idle
 * client would have had anyway once it had been quiet for burst / rate seconds.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "net/net_internal.h"

typedef struct bucket {
    double tokens;
    double last; /* time of the last refill */
} bucket;

struct net_ratelimit {
    double rate; /* tokens per second */
    double burst;
    net_lru *clients;
};

net_ratelimit *net_ratelimit_create(double per_minute, uint32_t burst, uint32_t max_clients)
{
    if (!(per_minute > 0) || burst == 0 || max_clients == 0) return NULL;
    net_ratelimit *r = senti_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->rate = per_minute / 60.0;
    r->burst = burst;
    r->clients = net_lru_create(max_clients, sizeof(bucket));
    if (!r->clients) {
        senti_free(r);
        return NULL;
    }
    return r;
}

void net_ratelimit_free(net_ratelimit *r)
{
    if (!r) return;
    net_lru_free(r->clients);
    senti_free(r);
}

bool net_ratelimit_take(net_ratelimit *r, const char *client, double now, uint32_t *retry_after_s)
{
    bool created = false;
    bucket *b = net_lru_put(r->clients, client, strlen(client), &created);
    if (!b) return true; /* out of memory: fail open rather than refuse everyone */
    if (created) {
        b->tokens = r->burst;
        b->last = now;
    } else if (now > b->last) {
        b->tokens = fmin(r->burst, b->tokens + (now - b->last) * r->rate);
        b->last = now;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    double wait = (1.0 - b->tokens) / r->rate;
    double secs = ceil(wait - 1e-9);
    if (retry_after_s) *retry_after_s = secs < 1 ? 1 : secs > 86400 ? 86400 : (uint32_t)secs;
    return false;
}
