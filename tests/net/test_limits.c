/* tests/net/test_limits.c - LRU map, token-bucket rate limiter and prediction
 * cache, all driven by an explicit clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "net/net_internal.h"

static void test_lru(void **state)
{
    (void)state;
    net_lru *l = net_lru_create(3, sizeof(int));
    assert_non_null(l);
    bool created;
    for (int i = 0; i < 3; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        int *v = net_lru_put(l, k, strlen(k), &created);
        assert_true(created);
        *v = i;
    }
    assert_int_equal(net_lru_count(l), 3);
    assert_int_equal(*(int *)net_lru_get(l, "k0", 2), 0); /* k0 becomes most recent */
    int *v = net_lru_put(l, "k3", 2, &created);           /* evicts k1, the least recent */
    *v = 3;
    assert_null(net_lru_get(l, "k1", 2));
    assert_non_null(net_lru_get(l, "k0", 2));
    assert_non_null(net_lru_get(l, "k2", 2));
    assert_int_equal(net_lru_count(l), 3);
    v = net_lru_put(l, "k2", 2, &created);
    assert_false(created);
    assert_int_equal(*v, 2);
    net_lru_remove(l, "k2", 2);
    assert_null(net_lru_get(l, "k2", 2));
    assert_int_equal(net_lru_count(l), 2);
    /* keys are bytes, not strings */
    v = net_lru_put(l, "a\0b", 3, &created);
    assert_true(created);
    assert_null(net_lru_get(l, "a\0c", 3));
    /* churn: many inserts keep the count at capacity */
    for (int i = 0; i < 1000; i++) {
        char k[16];
        snprintf(k, sizeof k, "x%d", i);
        assert_non_null(net_lru_put(l, k, strlen(k), NULL));
    }
    assert_int_equal(net_lru_count(l), 3);
    assert_non_null(net_lru_get(l, "x999", 4));
    assert_null(net_lru_get(l, "x996", 4));
    net_lru_free(l);
    assert_null(net_lru_create(0, 4));
}

static void test_ratelimit(void **state)
{
    (void)state;
    /* 60/min = 1 token per second, burst 3 */
    net_ratelimit *r = net_ratelimit_create(60, 3, 100);
    uint32_t retry = 0;
    double t = 1000.0;
    for (int i = 0; i < 3; i++) assert_true(net_ratelimit_take(r, "a", t, &retry));
    assert_false(net_ratelimit_take(r, "a", t, &retry));
    assert_int_equal(retry, 1);
    assert_true(net_ratelimit_take(r, "b", t, &retry)); /* other clients are independent */
    assert_false(net_ratelimit_take(r, "a", t + 0.5, &retry));
    assert_int_equal(retry, 1);
    assert_true(net_ratelimit_take(r, "a", t + 1.0, &retry));
    assert_false(net_ratelimit_take(r, "a", t + 1.0, &retry));
    /* after a long pause the bucket holds at most burst tokens */
    t += 1000;
    for (int i = 0; i < 3; i++) assert_true(net_ratelimit_take(r, "a", t, &retry));
    assert_false(net_ratelimit_take(r, "a", t, &retry));
    /* a clock that goes backwards never adds tokens */
    assert_false(net_ratelimit_take(r, "a", t - 50, &retry));
    net_ratelimit_free(r);

    /* slow rate: Retry-After rounds up to whole seconds */
    r = net_ratelimit_create(6, 1, 10); /* one per 10 s */
    assert_true(net_ratelimit_take(r, "c", 0, &retry));
    assert_false(net_ratelimit_take(r, "c", 2.5, &retry));
    assert_int_equal(retry, 8);
    assert_true(net_ratelimit_take(r, "c", 10.0, &retry));
    net_ratelimit_free(r);
    assert_null(net_ratelimit_create(0, 1, 10));
    assert_null(net_ratelimit_create(10, 0, 10));
}

static net_api_pred pred(uint32_t label, float p)
{
    net_api_pred x = {.label = label, .n_labels = 2, .inference_ms = 3.0, .text_chars = 7};
    x.probs[label] = p;
    x.probs[1 - label] = 1 - p;
    strcpy(x.prediction_id, "orig");
    return x;
}

static void test_cache(void **state)
{
    (void)state;
    net_cache *c = net_cache_create(2, 60.0, "abc123");
    const int32_t a[] = {101, 2204, 102}, b[] = {101, 2919, 102}, d[] = {101, 2204, 102, 0};
    net_api_pred out, pa = pred(1, 0.9f), pb = pred(0, 0.8f);
    assert_false(net_cache_get(c, a, 3, 0, &out));
    net_cache_put(c, a, 3, 0, &pa);
    assert_true(net_cache_get(c, a, 3, 10, &out));
    assert_true(out.cached);
    assert_int_equal(out.label, 1);
    assert_float_equal(out.probs[1], 0.9f, 1e-6);
    assert_float_equal(out.inference_ms, 0.0, 1e-9);
    assert_false(net_cache_get(c, d, 4, 10, &out)); /* different length, different key */
    assert_false(net_cache_get(c, d, 2, 10, &out)); /* prefix is not a hit */
    /* TTL: expired at exactly put + ttl */
    assert_true(net_cache_get(c, a, 3, 59.9, &out));
    assert_false(net_cache_get(c, a, 3, 60.0, &out));
    assert_int_equal(net_cache_count(c), 0);
    /* LRU capacity */
    net_cache_put(c, a, 3, 100, &pa);
    net_cache_put(c, b, 3, 100, &pb);
    assert_true(net_cache_get(c, a, 3, 101, &out));
    net_cache_put(c, d, 4, 101, &pb); /* evicts b */
    assert_false(net_cache_get(c, b, 3, 102, &out));
    assert_true(net_cache_get(c, a, 3, 102, &out));
    assert_int_equal(net_cache_count(c), 2);
    net_cache_free(c);

    /* another model checksum shares nothing: each cache is keyed by its model */
    net_cache *c2 = net_cache_create(2, 60.0, "def456");
    assert_false(net_cache_get(c2, a, 3, 0, &out));
    net_cache_free(c2);
    assert_null(net_cache_create(0, 1, "x"));
    assert_null(net_cache_create(1, 0, "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
