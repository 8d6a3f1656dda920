/* tests/cfg/test_load.c - shipped profiles, deep merge, environment selection,
 * precedence chain, cfg_set/cfg_validate, cfg_print round trip, allocation failures. */
#include "tests/cfg/cfgtest.h"

#include "common/alloc.h"

#define JWT_SECRET "0123456789abcdef0123456789abcdef-prod"

static void test_dev_profile(void **state)
{
    (void)state;
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(NULL, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->env, "dev");
    assert_string_equal(c->server.host, "127.0.0.1");
    assert_int_equal(c->server.port, 8080);
    assert_string_equal(c->model.path, "models/default.senti");
    assert_int_equal(c->logging.level, CFG_LOG_LEVEL_DEBUG);
    assert_string_equal(c->api.prefix, "");
    assert_int_equal(c->auth.mode, CFG_AUTH_MODE_NONE);
    assert_false(c->rate_limit.enabled);
    assert_false(c->cache.enabled);
    assert_false(c->model.warmup);
    assert_true(c->metrics.enabled);
    assert_string_equal(cfg_origin(c, "logging.level"), "cfg/dev.yaml:21");
    assert_string_equal(cfg_origin(c, "server.port"), "cfg/base.yaml:10");
    assert_null(cfg_origin(c, "server.nope"));
    cfg_free(c);
    /* No env anywhere: dev. */
    assert_int_equal(load(NULL, NULL, NULL, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->env, "dev");
    cfg_free(c);
}

static void test_staging_profile(void **state)
{
    (void)state;
    const char *envp[] = {"SENTI_ENV=staging", "SENTI_AUTH_API_KEYS=key-one-0123456789,key-two-0123456789", NULL};
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(NULL, NULL, envp, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->env, "staging");
    assert_string_equal(c->server.host, "0.0.0.0");
    assert_int_equal(c->server.port, 8080);
    assert_int_equal(c->logging.level, CFG_LOG_LEVEL_INFO);
    assert_string_equal(c->api.prefix, "/api/v1");
    assert_int_equal(c->auth.mode, CFG_AUTH_MODE_API_KEY);
    assert_int_equal(c->auth.n_api_keys, 2);
    assert_string_equal(c->auth.api_keys[0], "key-one-0123456789");
    assert_string_equal(c->auth.api_keys[1], "key-two-0123456789");
    assert_true(c->rate_limit.enabled);
    assert_int_equal(c->rate_limit.requests_per_minute, 100);
    assert_int_equal(c->rate_limit.key_by, CFG_RATE_KEY_API_KEY);
    assert_true(c->cache.enabled);
    assert_int_equal(c->cache.ttl_seconds, 3600);
    cfg_free(c);
}

static void test_prod_profile(void **state)
{
    (void)state;
    const char *envp[] = {"MLOPS_ENV=production", "SENTI_AUTH_JWT_SECRET=" JWT_SECRET, NULL};
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(NULL, NULL, envp, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->env, "prod");
    assert_string_equal(c->server.host, "0.0.0.0");
    assert_int_equal(c->server.port, 8080);
    assert_int_equal(c->logging.level, CFG_LOG_LEVEL_WARNING);
    assert_true(c->logging.json);
    assert_string_equal(c->api.prefix, "/api/v1");
    assert_int_equal(c->auth.mode, CFG_AUTH_MODE_JWT);
    assert_string_equal(c->auth.jwt.secret, JWT_SECRET);
    assert_int_equal(c->auth.n_api_keys, 0);
    assert_true(c->rate_limit.enabled);
    assert_int_equal(c->rate_limit.requests_per_minute, 1000);
    assert_int_equal(c->rate_limit.burst, 2000);
    assert_true(c->api.cors.n_allowed_origins >= 1);
    assert_string_not_equal(c->api.cors.allowed_origins[0], "*");
    assert_true(c->cache.enabled);
    assert_int_equal(c->cache.ttl_seconds, 7200);
    assert_true(c->model.warmup);
    cfg_free(c);

    /* API keys are accepted beside JWT when configured. */
    const char *envp2[] = {"APP_ENV=prod", "SENTI_AUTH_JWT_SECRET=" JWT_SECRET,
                           "MLOPS_API_KEY=legacy-key-0123456789", NULL};
    assert_int_equal(load(NULL, NULL, envp2, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->auth.mode, CFG_AUTH_MODE_JWT);
    assert_int_equal(c->auth.n_api_keys, 1);
    assert_string_equal(c->auth.api_keys[0], "legacy-key-0123456789");
    cfg_free(c);
}

static void test_missing_secrets_in_profiles(void **state)
{
    (void)state;
    assert_load_error(NULL, "staging", NULL,
                      "cfg: cfg/staging.yaml:12: auth.mode: api-key requires at least one API key; "
                      "set SENTI_AUTH_API_KEYS, SENTI_AUTH_API_KEYS_FILE, MLOPS_API_KEY or "
                      "MLOPS_API_KEY_FILE");
    assert_load_error(NULL, "prod", NULL,
                      "cfg: cfg/prod.yaml:20: auth.mode: jwt requires auth.jwt.secret; set "
                      "SENTI_AUTH_JWT_SECRET or SENTI_AUTH_JWT_SECRET_FILE");
}

/* The compiled-in defaults and cfg/base.yaml agree. */
static void test_defaults_match_base_yaml(void **state)
{
    (void)state;
    scratch s;
    scratch_init(&s);
    put_file(s.dir, "base.yaml", "");
    put_file(s.dir, "dev.yaml", "# nothing\n");
    cfg_config *a, *b;
    senti_err err;
    assert_int_equal(load(&s, "dev", NULL, NULL, &a, &err), SENTI_OK);
    assert_string_equal(cfg_origin(a, "server.port"), "default");
    size_t len;
    char *base = tu_read_file("cfg/base.yaml", &len);
    assert_non_null(base);
    put_file(s.dir, "base.yaml", base);
    free(base);
    assert_int_equal(load(&s, "dev", NULL, NULL, &b, &err), SENTI_OK);
    assert_memory_equal(&a->server, &b->server, sizeof a->server);
    assert_memory_equal(&a->model, &b->model, sizeof a->model);
    assert_memory_equal(&a->batching, &b->batching, sizeof a->batching);
    assert_memory_equal(&a->api, &b->api, sizeof a->api);
    assert_memory_equal(&a->auth, &b->auth, sizeof a->auth);
    assert_memory_equal(&a->rate_limit, &b->rate_limit, sizeof a->rate_limit);
    assert_memory_equal(&a->cache, &b->cache, sizeof a->cache);
    assert_memory_equal(&a->limits, &b->limits, sizeof a->limits);
    assert_memory_equal(&a->logging, &b->logging, sizeof a->logging);
    assert_memory_equal(&a->metrics, &b->metrics, sizeof a->metrics);
    cfg_free(a);
    cfg_free(b);
    scratch_free(&s);
}

static void test_deep_merge(void **state)
{
    (void)state;
    scratch s;
    scratch_init(&s);
    put_file(s.dir, "base.yaml",
             "server:\n  host: 10.0.0.1\n  port: 9000\n  io_threads: 3\n"
             "api:\n  prefix: /base\n  cors:\n    allowed_origins: [https://a.example, "
             "https://b.example]\n"
             "auth:\n  jwt:\n    issuer: base-iss\n    audience: base-aud\n");
    put_file(s.dir, "staging.yaml",
             "server:\n  port: 9100\n"
             "api:\n  cors:\n    allowed_origins:\n      - https://c.example\n"
             "auth:\n  mode: jwt\n  jwt:\n    audience: stg-aud\n");
    const char *envp[] = {"SENTI_AUTH_JWT_SECRET=" JWT_SECRET, NULL};
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(&s, "staging", envp, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->server.host, "10.0.0.1"); /* base only */
    assert_int_equal(c->server.port, 9100);          /* overlay wins */
    assert_int_equal(c->server.io_threads, 3);
    assert_int_equal(c->server.max_connections, 1024); /* default */
    assert_string_equal(c->api.prefix, "/base");
    assert_int_equal(c->api.cors.n_allowed_origins, 1); /* lists are replaced */
    assert_string_equal(c->api.cors.allowed_origins[0], "https://c.example");
    assert_string_equal(c->api.cors.allowed_origins[1], "");
    assert_string_equal(c->auth.jwt.issuer, "base-iss");
    assert_string_equal(c->auth.jwt.audience, "stg-aud");
    cfg_free(c);
    scratch_free(&s);
}

static void test_env_selection(void **state)
{
    (void)state;
    scratch s;
    scratch_init(&s);
    put_file(s.dir, "base.yaml", "");
    put_file(s.dir, "dev.yaml", "server:\n  port: 1001\n");
    put_file(s.dir, "staging.yaml", "server:\n  port: 1002\n");
    put_file(s.dir, "prod.yaml", "server:\n  port: 1003\n");
    cfg_config *c;
    senti_err err;
    const char *e1[] = {"APP_ENV=prod", "MLOPS_ENV=staging", "SENTI_ENV=dev", NULL};
    assert_int_equal(load(&s, NULL, e1, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 1001); /* SENTI_ENV first */
    cfg_free(c);
    const char *e2[] = {"APP_ENV=prod", "MLOPS_ENV=staging", "SENTI_ENV=", NULL};
    assert_int_equal(load(&s, NULL, e2, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 1002); /* empty counts as unset */
    cfg_free(c);
    const char *e3[] = {"APP_ENV=Production", NULL};
    assert_int_equal(load(&s, NULL, e3, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 1003);
    assert_string_equal(c->env, "prod");
    cfg_free(c);
    assert_int_equal(load(&s, "stage", e3, NULL, &c, &err), SENTI_OK); /* --env wins */
    assert_string_equal(c->env, "staging");
    cfg_free(c);
    assert_load_error(&s, "qa", NULL, "cfg: --env: must be one of dev, staging, prod (got \"qa\")");
    const char *e4[] = {"MLOPS_ENV=test", NULL};
    assert_load_error(&s, NULL, e4,
                      "cfg: env MLOPS_ENV: must be one of dev, staging, prod (got \"test\")");

    /* Config directory from SENTI_CONFIG_DIR. */
    char var[1100];
    snprintf(var, sizeof var, "SENTI_CONFIG_DIR=%s", s.dir);
    const char *e5[] = {var, "SENTI_ENV=staging", NULL};
    cfg_load_opts o = {.envp = e5};
    assert_int_equal(cfg_load(&o, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 1002);
    cfg_free(c);
    scratch_free(&s);
}

/* defaults < base.yaml < <env>.yaml < .env < MLOPS_* < SENTI_* < flags */
static void test_precedence_chain(void **state)
{
    (void)state;
    scratch s;
    scratch_init(&s);
    cfg_config *c;
    senti_err err;
    put_file(s.dir, "base.yaml", "");
    put_file(s.dir, "dev.yaml", "");
    assert_int_equal(load(&s, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 8080);
    cfg_free(c);

    put_file(s.dir, "base.yaml", "server:\n  port: 1000\n");
    assert_int_equal(load(&s, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 1000);
    cfg_free(c);

    put_file(s.dir, "dev.yaml", "server:\n  port: 2000\n");
    assert_int_equal(load(&s, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 2000);
    cfg_free(c);

    put_file(s.root, ".env", "# local\nMLOPS_PORT=2500\nSENTI_SERVER_PORT=3000\n");
    assert_int_equal(load(&s, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 3000);
    char origin[512];
    snprintf(origin, sizeof origin, "%s:3: SENTI_SERVER_PORT", s.dotenv);
    assert_string_equal(cfg_origin(c, "server.port"), origin);
    cfg_free(c);

    const char *e1[] = {"MLOPS_PORT=4000", NULL};
    assert_int_equal(load(&s, "dev", e1, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 4000);
    assert_string_equal(cfg_origin(c, "server.port"), "env MLOPS_PORT");
    cfg_free(c);

    const char *e2[] = {"SENTI_SERVER_PORT=5000", "MLOPS_PORT=4000", NULL};
    assert_int_equal(load(&s, "dev", e2, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 5000);
    cfg_free(c);

    const char *flags[] = {"server.port=6000", NULL};
    assert_int_equal(load(&s, "dev", e2, flags, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 6000);
    assert_string_equal(cfg_origin(c, "server.port"), "flag");
    cfg_free(c);

    /* .env is read in dev only. */
    put_file(s.dir, "prod.yaml", "auth:\n  mode: none\n");
    assert_int_equal(load(&s, "prod", NULL, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 1000);
    cfg_free(c);
    scratch_free(&s);
}

static void test_mlops_seed_names(void **state)
{
    (void)state;
    cfg_config *c;
    senti_err err;
    const char *envp[] = {"MLOPS_DEBUG=true",         "MLOPS_LOG_LEVEL=ERROR",
                          "MLOPS_ENABLE_METRICS=false", "MLOPS_WARMUP_ENABLED=1",
                          "MLOPS_PORT=8181",          "MLOPS_MODEL_PATH=/models/x.senti",
                          "SENTI_ENV=staging",        "MLOPS_API_KEY=seed-key-0123456789",
                          NULL};
    assert_int_equal(load(NULL, NULL, envp, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->logging.level, CFG_LOG_LEVEL_DEBUG); /* MLOPS_DEBUG wins */
    assert_string_equal(cfg_origin(c, "logging.level"), "env MLOPS_DEBUG");
    assert_false(c->metrics.enabled);
    assert_true(c->model.warmup);
    assert_int_equal(c->server.port, 8181);
    assert_string_equal(c->model.path, "/models/x.senti");
    assert_int_equal(c->auth.n_api_keys, 1);
    cfg_free(c);

    const char *e2[] = {"MLOPS_DEBUG=false", "MLOPS_LOG_LEVEL=Warn", NULL};
    assert_int_equal(load(NULL, "dev", e2, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->logging.level, CFG_LOG_LEVEL_WARNING);
    cfg_free(c);

    const char *e3[] = {"MLOPS_LOG_LEVEL=error", "SENTI_LOGGING_LEVEL=info", NULL};
    assert_int_equal(load(NULL, "dev", e3, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->logging.level, CFG_LOG_LEVEL_INFO); /* SENTI_* wins */
    cfg_free(c);
}

static void test_senti_env_every_type(void **state)
{
    (void)state;
    cfg_config *c;
    senti_err err;
    const char *envp[] = {"SENTI_SERVER_HOST=::1",
                          "SENTI_SERVER_WORKER_THREADS=4",
                          "SENTI_MODEL_DTYPE=INT8",
                          "SENTI_MODEL_OVERFLOW=reject",
                          "SENTI_MODEL_ISA=avx2",
                          "SENTI_BATCHING_ENABLED=off",
                          "SENTI_BATCHING_MAX_BATCH_SIZE=64",
                          "SENTI_API_PREFIX=/v2",
                          "SENTI_API_CORS_ALLOWED_ORIGINS= https://a.example , http://b.example:8080,",
                          "SENTI_RATE_LIMIT_KEY_BY=client-address",
                          "SENTI_LIMITS_MAX_BODY_BYTES=8388608",
                          "SENTI_AUTH_JWT_LEEWAY_SECONDS=0",
                          "SENTI_LOGGING_JSON=yes",
                          NULL};
    assert_int_equal(load(NULL, "dev", envp, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->server.host, "::1");
    assert_int_equal(c->server.worker_threads, 4);
    assert_int_equal(c->model.dtype, CFG_DTYPE_INT8);
    assert_int_equal(c->model.overflow, CFG_OVERFLOW_REJECT);
    assert_string_equal(c->model.isa, "avx2");
    assert_false(c->batching.enabled);
    assert_int_equal(c->batching.max_batch_size, 64);
    assert_string_equal(c->api.prefix, "/v2");
    assert_int_equal(c->api.cors.n_allowed_origins, 2);
    assert_string_equal(c->api.cors.allowed_origins[0], "https://a.example");
    assert_string_equal(c->api.cors.allowed_origins[1], "http://b.example:8080");
    assert_int_equal(c->rate_limit.key_by, CFG_RATE_KEY_CLIENT_ADDRESS);
    assert_int_equal(c->limits.max_body_bytes, 8388608);
    assert_int_equal(c->auth.jwt.leeway_seconds, 0);
    assert_true(c->logging.json);
    cfg_free(c);
    /* An empty list variable clears the list. */
    const char *e2[] = {"SENTI_ENV=prod", "SENTI_AUTH_JWT_SECRET=" JWT_SECRET,
                        "SENTI_API_CORS_ALLOWED_ORIGINS=", NULL};
    assert_int_equal(load(NULL, NULL, e2, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->api.cors.n_allowed_origins, 0);
    cfg_free(c);
}

static void test_cfg_set_and_validate(void **state)
{
    (void)state;
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(NULL, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_int_equal(cfg_set(c, "server.port", "9000", &err), SENTI_OK);
    assert_int_equal(c->server.port, 9000);
    assert_int_equal(cfg_set(c, "server.port", "70000", &err), SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: server.port: must be in 0..65535 (got 70000)");
    assert_int_equal(c->server.port, 9000); /* unchanged */
    assert_int_equal(cfg_set(c, "server.prot", "1", &err), SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: unknown key \"server.prot\" (did you mean server.port?)");
    assert_int_equal(cfg_set(c, "api.cors.allowed_origins", "https://ok.example,bad", &err),
                     SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: api.cors.allowed_origins: item 2: must be \"*\" or an "
                                 "origin like https://example.com (no path) (got \"bad\")");
    assert_int_equal(c->api.cors.n_allowed_origins, 0); /* nothing half-applied */
    assert_int_equal(cfg_set(c, "api.cors.allowed_origins", "*,https://a.example", &err),
                     SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: api.cors.allowed_origins: item 1: \"*\" must be the only "
                                 "entry");

    /* Flags may leave cross-key rules broken until cfg_validate. */
    assert_int_equal(cfg_set(c, "auth.mode", "jwt", &err), SENTI_OK);
    assert_int_equal(cfg_validate(c, &err), SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: auth.mode: jwt requires auth.jwt.secret; set "
                                 "SENTI_AUTH_JWT_SECRET or SENTI_AUTH_JWT_SECRET_FILE");
    assert_int_equal(cfg_set(c, "auth.jwt.secret", "short-secret", &err), SENTI_OK);
    assert_int_equal(cfg_validate(c, &err), SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: auth.jwt.secret: must be at least 32 bytes for HS256 "
                                 "(got 12)");
    assert_int_equal(cfg_set(c, "auth.jwt.secret", JWT_SECRET, &err), SENTI_OK);
    assert_int_equal(cfg_validate(c, &err), SENTI_OK);
    assert_int_equal(cfg_set(c, "batching.max_batch_tokens", "100", &err), SENTI_OK);
    assert_int_equal(cfg_validate(c, &err), SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: batching.max_batch_tokens: must be at least "
                                 "model.max_seq_len (512) (got 100)");
    assert_int_equal(cfg_set(c, "batching.enabled", "false", &err), SENTI_OK);
    assert_int_equal(cfg_validate(c, &err), SENTI_OK);
    /* Fields written directly are re-checked too. */
    c->server.io_threads = 0;
    assert_int_equal(cfg_validate(c, &err), SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: cfg/base.yaml:11: server.io_threads: must be in 1..64 "
                                 "(got 0)");
    cfg_free(c);
    cfg_free(NULL);

    const char *bad[] = {"server.port", NULL};
    assert_int_equal(load(NULL, "dev", NULL, bad, &c, &err), SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: flag \"server.port\": expected section.key=value");
}

static void test_enum_names(void **state)
{
    (void)state;
    assert_string_equal(cfg_log_level_name(CFG_LOG_LEVEL_WARNING), "warning");
    assert_string_equal(cfg_auth_mode_name(CFG_AUTH_MODE_API_KEY), "api-key");
    assert_string_equal(cfg_rate_key_name(CFG_RATE_KEY_CLIENT_ADDRESS), "client-address");
    assert_string_equal(cfg_overflow_name(CFG_OVERFLOW_REJECT), "reject");
    assert_string_equal(cfg_dtype_name(CFG_DTYPE_BF16), "bf16");
    assert_string_equal(cfg_dtype_name((cfg_dtype)99), "?");
}

/* Unredacted cfg_print output loads back to the same values. */
static void test_print_round_trip(void **state)
{
    (void)state;
    const char *envp[] = {"SENTI_AUTH_API_KEYS=k1-0123456789abcdef,k2-0123456789abcdef", "SENTI_API_CORS_ALLOWED_ORIGINS=*",
                          "SENTI_MODEL_NAME=quote\"d \\ name", "SENTI_LOGGING_LEVEL=warn", NULL};
    cfg_config *a, *b;
    senti_err err;
    assert_int_equal(load(NULL, "dev", envp, NULL, &a, &err), SENTI_OK);
    char *text = print_str(a, false);
    assert_non_null(strstr(text, "  port: 8080  # cfg/base.yaml:10\n"));
    assert_non_null(strstr(text, "  cors:\n    allowed_origins: [\"*\"]  # env "
                                 "SENTI_API_CORS_ALLOWED_ORIGINS\n"));
    assert_non_null(strstr(text, "  level: warning  # env SENTI_LOGGING_LEVEL\n"));
    scratch s;
    scratch_init(&s);
    put_file(s.dir, "base.yaml", text);
    put_file(s.dir, "dev.yaml", "");
    assert_int_equal(load(&s, "dev", NULL, NULL, &b, &err), SENTI_OK);
    assert_memory_equal(&a->server, &b->server, sizeof a->server);
    assert_memory_equal(&a->model, &b->model, sizeof a->model);
    assert_memory_equal(&a->api, &b->api, sizeof a->api);
    assert_memory_equal(&a->auth, &b->auth, sizeof a->auth);
    assert_memory_equal(&a->logging, &b->logging, sizeof a->logging);
    free(text);
    cfg_free(a);
    cfg_free(b);
    scratch_free(&s);
}

/* Every allocation failure ends in SENTI_E_NOMEM and no output (ASan/valgrind check leaks). */
static void test_allocation_failures(void **state)
{
    (void)state;
    const char *envp[] = {"SENTI_ENV=staging", "SENTI_AUTH_API_KEYS=a-key-0123456789abc,b-key-0123456789abc", NULL};
    cfg_config *c;
    senti_err err;
    bool succeeded = false;
    for (long n = 0; n < 200 && !succeeded; n++) {
        senti_alloc_fail_after(n);
        senti_status st = load(NULL, NULL, envp, NULL, &c, &err);
        senti_alloc_fail_after(-1);
        if (st == SENTI_OK) {
            succeeded = true;
            assert_int_equal(c->auth.n_api_keys, 2);
            cfg_free(c);
        } else {
            assert_int_equal(st, SENTI_E_NOMEM);
            assert_null(c);
        }
    }
    assert_true(succeeded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_profile),
        cmocka_unit_test(test_staging_profile),
        cmocka_unit_test(test_prod_profile),
        cmocka_unit_test(test_missing_secrets_in_profiles),
        cmocka_unit_test(test_defaults_match_base_yaml),
        cmocka_unit_test(test_deep_merge),
        cmocka_unit_test(test_env_selection),
        cmocka_unit_test(test_precedence_chain),
        cmocka_unit_test(test_mlops_seed_names),
        cmocka_unit_test(test_senti_env_every_type),
        cmocka_unit_test(test_cfg_set_and_validate),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
