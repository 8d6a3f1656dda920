/* net/lru.c - fixed-capacity LRU map with byte-string keys and fixed-size
 * values, used by the prediction cache and the rate limiter.
 *
 * Entries live in one array allocated at creation; a chained hash (indices)
 * finds them and a doubly linked list (indices) orders them by recency. Only
 * the key copies are allocated on insert.
 */
#include <string.h>

#include "common/alloc.h"
#include "net/net_internal.h"

#define NIL UINT32_MAX

typedef struct lru_entry {
    unsigned char *key;
    size_t klen;
    uint64_t hash;
    uint32_t chain;      /* next in hash bucket */
    uint32_t prev, next; /* recency list; head = most recent */
    bool used;
} lru_entry;

struct net_lru {
    uint32_t capacity, count, n_buckets;
    size_t value_size;
    lru_entry *e;
    unsigned char *values;
    uint32_t *buckets;
    uint32_t head, tail, free_head; /* free list threaded through chain */
};

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

net_lru *net_lru_create(uint32_t capacity, size_t value_size)
{
    if (capacity == 0 || capacity > (1u << 26)) return NULL;
    net_lru *l = senti_calloc(1, sizeof *l);
    if (!l) return NULL;
    l->capacity = capacity;
    l->value_size = value_size;
    l->n_buckets = 16;
    while (l->n_buckets < capacity * 2u) l->n_buckets *= 2;
    l->e = senti_calloc(capacity, sizeof *l->e);
    l->values = senti_calloc(capacity, value_size ? value_size : 1);
    l->buckets = senti_malloc((size_t)l->n_buckets * sizeof *l->buckets);
    if (!l->e || !l->values || !l->buckets) {
        net_lru_free(l);
        return NULL;
    }
    for (uint32_t i = 0; i < l->n_buckets; i++) l->buckets[i] = NIL;
    for (uint32_t i = 0; i < capacity; i++) l->e[i].chain = i + 1 < capacity ? i + 1 : NIL;
    l->free_head = 0;
    l->head = l->tail = NIL;
    return l;
}

void net_lru_free(net_lru *l)
{
    if (!l) return;
    if (l->e)
        for (uint32_t i = 0; i < l->capacity; i++) senti_free(l->e[i].key);
    senti_free(l->e);
    senti_free(l->values);
    senti_free(l->buckets);
    senti_free(l);
}

uint32_t net_lru_count(const net_lru *l) { return l->count; }

static void list_unlink(net_lru *l, uint32_t i)
{
    lru_entry *x = &l->e[i];
    if (x->prev != NIL) l->e[x->prev].next = x->next;
    else l->head = x->next;
    if (x->next != NIL) l->e[x->next].prev = x->prev;
    else l->tail = x->prev;
    x->prev = x->next = NIL;
}

static void list_push_front(net_lru *l, uint32_t i)
{
    lru_entry *x = &l->e[i];
    x->prev = NIL;
    x->next = l->head;
    if (l->head != NIL) l->e[l->head].prev = i;
    l->head = i;
    if (l->tail == NIL) l->tail = i;
}

static uint32_t find(const net_lru *l, const void *key, size_t klen, uint64_t h)
{
    for (uint32_t i = l->buckets[h & (l->n_buckets - 1)]; i != NIL; i = l->e[i].chain) {
        const lru_entry *x = &l->e[i];
        if (x->hash == h && x->klen == klen && !memcmp(x->key, key, klen)) return i;
    }
    return NIL;
}

static void remove_at(net_lru *l, uint32_t i)
{
    lru_entry *x = &l->e[i];
    uint32_t *pp = &l->buckets[x->hash & (l->n_buckets - 1)];
    while (*pp != i) pp = &l->e[*pp].chain;
    *pp = x->chain;
    list_unlink(l, i);
    senti_free(x->key);
    *x = (lru_entry){.chain = l->free_head, .prev = NIL, .next = NIL};
    l->free_head = i;
    l->count--;
}

void *net_lru_get(net_lru *l, const void *key, size_t klen)
{
    uint32_t i = find(l, key, klen, hash_bytes(key, klen));
    if (i == NIL) return NULL;
    list_unlink(l, i);
    list_push_front(l, i);
    return l->values + (size_t)i * l->value_size;
}

void *net_lru_put(net_lru *l, const void *key, size_t klen, bool *created)
{
    uint64_t h = hash_bytes(key, klen);
    uint32_t i = find(l, key, klen, h);
    if (created) *created = false;
    if (i != NIL) {
        list_unlink(l, i);
        list_push_front(l, i);
        return l->values + (size_t)i * l->value_size;
    }
    unsigned char *k = senti_malloc(klen ? klen : 1);
    if (!k) return NULL;
    memcpy(k, key, klen);
    if (l->free_head == NIL) remove_at(l, l->tail);
    i = l->free_head;
    l->free_head = l->e[i].chain;
    lru_entry *x = &l->e[i];
    *x = (lru_entry){.key = k, .klen = klen, .hash = h, .used = true, .prev = NIL, .next = NIL};
    uint32_t *b = &l->buckets[h & (l->n_buckets - 1)];
    x->chain = *b;
    *b = i;
    list_push_front(l, i);
    l->count++;
    memset(l->values + (size_t)i * l->value_size, 0, l->value_size);
    if (created) *created = true;
    return l->values + (size_t)i * l->value_size;
}

void net_lru_remove(net_lru *l, const void *key, size_t klen)
{
    uint32_t i = find(l, key, klen, hash_bytes(key, klen));
    if (i != NIL) remove_at(l, i);
}
