/* net/cache.c - prediction cache: LRU with a time-to-live, keyed by the token
 * ids after tokenization (so texts that tokenize alike share an entry) and the
 * model file checksum (so a different model never answers from it). */
#include <string.h>

#include "common/alloc.h"
#include "net/net_internal.h"

typedef struct cache_value {
    double expires;
    net_api_pred pred;
} cache_value;

struct net_cache {
    double ttl;
    net_lru *lru;
    unsigned char *key;  /* scratch: checksum bytes then the ids */
    size_t prefix_len;
};

net_cache *net_cache_create(uint32_t capacity, double ttl_s, const char *model_checksum)
{
    if (capacity == 0 || !(ttl_s > 0)) return NULL;
    net_cache *c = senti_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ttl = ttl_s;
    const char *sum = model_checksum ? model_checksum : "";
    c->prefix_len = strlen(sum) + 1;
    c->key = senti_malloc(c->prefix_len + SENTI_MAX_SEQ * sizeof(int32_t));
    c->lru = net_lru_create(capacity, sizeof(cache_value));
    if (!c->key || !c->lru) {
        net_cache_free(c);
        return NULL;
    }
    memcpy(c->key, sum, c->prefix_len);
    return c;
}

void net_cache_free(net_cache *c)
{
    if (!c) return;
    net_lru_free(c->lru);
    senti_free(c->key);
    senti_free(c);
}

uint32_t net_cache_count(const net_cache *c) { return net_lru_count(c->lru); }

static size_t make_key(net_cache *c, const int32_t *ids, uint32_t n)
{
    if (n > SENTI_MAX_SEQ) n = SENTI_MAX_SEQ; /* callers never pass more */
    memcpy(c->key + c->prefix_len, ids, n * sizeof(int32_t));
    return c->prefix_len + n * sizeof(int32_t);
}

bool net_cache_get(net_cache *c, const int32_t *ids, uint32_t n, double now, net_api_pred *out)
{
    if (n > SENTI_MAX_SEQ) return false;
    size_t klen = make_key(c, ids, n);
    cache_value *v = net_lru_get(c->lru, c->key, klen);
    if (!v) return false;
    if (now >= v->expires) {
        net_lru_remove(c->lru, c->key, klen);
        return false;
    }
    *out = v->pred;
    out->cached = true;
    out->inference_ms = 0;
    return true;
}

void net_cache_put(net_cache *c, const int32_t *ids, uint32_t n, double now,
                   const net_api_pred *pred)
{
    if (n > SENTI_MAX_SEQ) return;
    size_t klen = make_key(c, ids, n);
    cache_value *v = net_lru_put(c->lru, c->key, klen, NULL);
    if (!v) return;
    v->expires = now + c->ttl;
    v->pred = *pred;
}
