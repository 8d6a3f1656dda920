/* tests/net/test_faults.c - allocation failure injected at every allocation
 * (senti_alloc_fail_after(N) for N = 0, 1, ... until the operation succeeds)
 * in model loading (.senti reader, tokenizer, engine) and in the request path
 * (parsing, rendering, auth, cache, metrics, the worker pool, server set-up).
 * Each failure must come back as a status (or NULL), never a crash, and leave
 * nothing behind (ASan / valgrind runs of the suite check the leaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "common/alloc.h"
#include "engine/engine.h"
#include "net/net.h"
#include "net/net_internal.h"
#include "tests/support/testutil.h"
#include "tokenizer/tokenizer.h"
#include "weights/weights.h"

/* Upper bound on allocations per operation; a loop that reaches it fails the test. */
#define MAX_STEPS 20000

typedef bool (*op_fn)(void *ctx); /* true = succeeded (and cleaned up after itself) */

/* Runs op with the N-th allocation failing for N = 0.. until it succeeds; returns
 * the number of failure points exercised. */
static long every_failure(op_fn op, void *ctx)
{
    for (long n = 0; n < MAX_STEPS; n++) {
        senti_alloc_fail_after(n);
        bool ok = op(ctx);
        senti_alloc_fail_after(-1);
        if (ok) return n;
    }
    fail_msg("operation still failing after %d allocations", MAX_STEPS);
    return -1;
}

/* --- model load ------------------------------------------------------------ */

static bool load_model(void *ctx)
{
    (void)ctx;
    wt_model *w = NULL;
    senti_err err = {0};
    if (wt_model_load("tests/weights/data/good.senti", &w, &err) != SENTI_OK) {
        assert_null(w);
        assert_true(err.msg[0] != '\0');
        return false;
    }
    tok_tokenizer *t = NULL;
    eng_model *m = NULL;
    eng_options eo = {.threads = 1};
    bool ok = tok_create_from_model(w, &t, &err) == SENTI_OK &&
              eng_model_create(w, &eo, &m, &err) == SENTI_OK;
    if (!ok) assert_true(err.msg[0] != '\0');
    eng_model_free(m);
    tok_free(t);
    wt_model_free(w);
    return ok;
}

static void test_model_load(void **state)
{
    (void)state;
    long n = every_failure(load_model, NULL);
    printf("model load: %ld allocation failure points\n", n);
    assert_true(n > 5);
}

/* --- request path ---------------------------------------------------------- */

static const char *const labels[] = {"NEGATIVE", "POSITIVE"};

static bool request_path(void *ctx)
{
    const char *body = ctx;
    net_api_limits lim = {.max_texts = 8, .max_text_chars = 100, .truncate = true};
    net_api_request req;
    net_api_error e;
    if (!net_api_parse(NET_ROUTE_PREDICT_BATCH, body, strlen(body), &lim, &req, &e)) {
        /* out of memory is the only way this body fails */
        assert_true(e.code == NET_ERR_INTERNAL || e.code == NET_ERR_MALFORMED_JSON);
        char *r = net_api_render_error(e.code, e.msg, "corr");
        free(r); /* may be NULL under OOM: the server answers a bare 500 then */
        return false;
    }
    net_api_pred preds[8] = {0};
    for (uint32_t i = 0; i < req.n; i++)
        preds[i] = (net_api_pred){.label = 1, .n_labels = 2, .probs = {0.2f, 0.8f}};
    net_api_info info = {.model_name = "m", .backend = "cpu", .labels = labels};
    char *out = net_api_render_preds(&req, preds, &info);
    bool ok = out != NULL;
    free(out);
    net_api_request_free(&req);

    net_cache *c = net_cache_create(4, 60, "sum");
    if (c) {
        int32_t ids[3] = {101, 2204, 102};
        net_cache_put(c, ids, 3, 1.0, &preds[0]);
        net_api_pred got;
        (void)net_cache_get(c, ids, 3, 1.5, &got);
        net_cache_free(c);
    }
    ok = ok && c != NULL;

    const char *keys[] = {"fault-key-0123456789abcdef"};
    net_auth *a = NULL;
    senti_err err = {0};
    net_jwt_opts jo = {.secret = (const unsigned char *)"fault-secret-0123456789abcdef0123456789",
                       .secret_len = 39};
    if (net_auth_create(NET_AUTH_JWT, keys, 1, &jo, &a, &err) == SENTI_OK) {
        char p[64], msg[128];
        assert_int_equal(net_auth_check(a, keys[0], NULL, 0, p, sizeof p, msg, sizeof msg),
                         NET_ERR_NONE);
        net_auth_free(a);
    } else {
        assert_int_equal(err.code, SENTI_E_NOMEM);
        ok = false;
    }

    net_ratelimit *rl = net_ratelimit_create(60, 2, 16);
    if (rl) {
        uint32_t retry;
        (void)net_ratelimit_take(rl, "addr:1", 1.0, &retry);
        net_ratelimit_free(rl);
    }
    ok = ok && rl != NULL;

    net_metrics *m = net_metrics_create();
    if (m) {
        const char *ln[] = {"route"};
        net_metric *f = net_metrics_add(m, NET_METRIC_COUNTER, "x_total", "x", 1, ln, NULL, 0);
        if (f) {
            const char *lv[] = {"/predict"};
            net_metric_inc(f, lv, 1);
        }
        net_sb sb = {0};
        bool rendered = net_metrics_render(m, &sb);
        net_sb_free(&sb);
        net_metrics_free(m);
        ok = ok && f && rendered;
    }
    return ok && m != NULL;
}

static void test_request_path(void **state)
{
    (void)state;
    char body[] = "{\"texts\":[\"a gorgeous, witty, seductive movie.\",\"dull\",\"fine\"]}";
    long n = every_failure(request_path, body);
    printf("request path: %ld allocation failure points\n", n);
    assert_true(n > 5);
}

/* --- worker pool and server set-up over a fake backend ------------------------ */

static senti_status fake_encode(void *ctx, const char *text, size_t len, int32_t *ids,
                                uint32_t cap, uint32_t *n, bool *truncated, senti_err *err)
{
    ids[0] = 101;
    ids[1] = (int32_t)(len % 100);
    ids[2] = 102;
    *n = 3;
    *truncated = false;
    return SENTI_OK;
}

static senti_status fake_state_create(void *ctx, uint32_t max_batch, uint32_t max_seq,
                                      uint32_t max_tokens, void **state, senti_err *err)
{
    *state = senti_malloc(64);
    return *state ? SENTI_OK : senti_fail(err, SENTI_E_NOMEM, "fake: out of memory");
}

static void fake_state_free(void *ctx, void *state) { senti_free(state); }

static senti_status fake_forward(void *ctx, void *state, uint32_t n, const int32_t *const *ids,
                                 const uint32_t *lens, float *logits, senti_err *err)
{
    for (uint32_t i = 0; i < n; i++) {
        logits[2 * i] = 0.0f;
        logits[2 * i + 1] = (float)lens[i];
    }
    return SENTI_OK;
}

static const net_backend fake_backend = {.encode = fake_encode,
                                         .state_create = fake_state_create,
                                         .state_free = fake_state_free,
                                         .forward = fake_forward};

typedef struct pool_ctx {
    pthread_mutex_t mu;
    int done;
} pool_ctx;

static void on_done(net_job *job, void *user)
{
    pool_ctx *c = user;
    pthread_mutex_lock(&c->mu);
    c->done++;
    pthread_mutex_unlock(&c->mu);
}

static bool pool_run(void *ctx)
{
    pool_ctx *c = ctx;
    c->done = 0;
    net_pool_opts o = {.workers = 2, .max_batch = 4, .max_batch_tokens = 16, .max_seq = 4,
                       .max_delay_us = 100, .capacity = 8, .n_labels = 2};
    net_pool *p = NULL;
    senti_err err = {0};
    if (net_pool_create(&fake_backend, &o, on_done, NULL, c, &p, &err) != SENTI_OK) {
        assert_null(p);
        return false;
    }
    int32_t ids[3] = {101, 7, 102};
    net_api_pred out[3];
    net_item items[3];
    for (int i = 0; i < 3; i++) items[i] = (net_item){.ids = ids, .n = 3, .out = &out[i]};
    net_job job = {.items = items, .n_items = 3};
    net_pool_hold(p);
    assert_true(net_pool_submit(p, &job));
    net_pool_release(p);
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&c->mu);
        int d = c->done;
        pthread_mutex_unlock(&c->mu);
        if (d) break;
        usleep(1000);
    }
    net_pool_free(p);
    assert_int_equal(c->done, 1);
    return true;
}

static void test_pool(void **state)
{
    (void)state;
    pool_ctx c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    long n = every_failure(pool_run, &c);
    printf("worker pool: %ld allocation failure points\n", n);
    assert_true(n > 3);
}

typedef struct server_ctx {
    cfg_config *cfg;
    net_model_info info;
} server_ctx;

static bool server_setup(void *ctx)
{
    server_ctx *c = ctx;
    net_server *s = NULL;
    senti_err err = {0};
    if (net_server_create(c->cfg, &fake_backend, &c->info, &s, &err) != SENTI_OK) {
        assert_null(s);
        assert_true(err.msg[0] != '\0');
        return false;
    }
    net_server_free(s);
    return true;
}

static void test_server_setup(void **state)
{
    (void)state;
    const char *envp[] = {NULL};
    const char *ovr[] = {"server.port=0", "server.host=127.0.0.1", "server.worker_threads=2",
                         "cache.enabled=true", "rate_limit.enabled=true", "model.warmup=true",
                         "logging.level=error", NULL};
    char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/base.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/dev.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    cfg_load_opts o = {.env = "dev", .config_dir = dir, .envp = envp, .overrides = ovr};
    server_ctx c = {0};
    senti_err err = {0};
    senti_status st = cfg_load(&o, &c.cfg, &err);
    if (st != SENTI_OK) fail_msg("%s", err.msg);
    c.info = (net_model_info){.name = "fake", .path = "fake", .architecture = "x", .dtype = "f32",
                              .checksum = "sum", .backend = "cpu", .max_seq = 8, .n_labels = 2,
                              .labels = labels};
    long n = every_failure(server_setup, &c);
    printf("server set-up: %ld allocation failure points\n", n);
    assert_true(n > 5);
    cfg_free(c.cfg);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_load),
        cmocka_unit_test(test_request_path),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_server_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
