/* tests/cfg/test_errors.c - every class of configuration error, with its exact
 * message: file:line: key for YAML, the variable for the environment. */
#include "tests/cfg/cfgtest.h"

#include <unistd.h>

static scratch S;

static int setup(void **state)
{
    (void)state;
    scratch_init(&S);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scratch_free(&S);
    return 0;
}

/* base.yaml = text, dev.yaml empty; expects "cfg: <dir>/base.yaml:<rest>". */
static void expect_base(const char *text, const char *rest)
{
    put_file(S.dir, "base.yaml", text);
    put_file(S.dir, "dev.yaml", "");
    char want[2048];
    snprintf(want, sizeof want, "cfg: %s/base.yaml:%s", S.dir, rest);
    assert_load_error(&S, "dev", NULL, want);
}

static void test_values(void **state)
{
    (void)state;
    expect_base("server:\n  port: 70000\n", "2: server.port: must be in 0..65535 (got 70000)");
    expect_base("server:\n  port: -1\n", "2: server.port: must be in 0..65535 (got -1)");
    expect_base("server:\n  port: 99999999999999999999999\n",
                "2: server.port: must be in 0..65535 (got 99999999999999999999999)");
    expect_base("server:\n  port: abc\n", "2: server.port: must be an integer (got \"abc\")");
    expect_base("server:\n  port: 80.5\n", "2: server.port: must be an integer (got \"80.5\")");
    expect_base("server:\n  port:\n", "2: server.port: must be an integer (got \"\")");
    expect_base("cache:\n  enabled: maybe\n",
                "2: cache.enabled: must be true or false (got \"maybe\")");
    expect_base("logging:\n  level: verbose\n",
                "2: logging.level: must be one of debug, info, warning, error (got \"verbose\")");
    expect_base("auth:\n  mode: oauth\n",
                "2: auth.mode: must be one of none, api-key, jwt (got \"oauth\")");
    expect_base("rate_limit:\n  key_by: ip\n",
                "2: rate_limit.key_by: must be one of api-key, client-address (got \"ip\")");
    expect_base("model:\n  overflow: drop\n",
                "2: model.overflow: must be one of truncate, reject (got \"drop\")");
    expect_base("model:\n  isa: sse2\n",
                "2: model.isa: must be one of auto, ref, avx2, avx512 (got \"sse2\")");
    expect_base("model:\n  max_seq_len: 513\n", "2: model.max_seq_len: must be in 2..512 (got 513)");
    expect_base("batching:\n  max_batch_size: 0\n",
                "2: batching.max_batch_size: must be in 1..256 (got 0)");
    expect_base("limits:\n  max_body_bytes: 8388609\n",
                "2: limits.max_body_bytes: must be in 1..8388608 (got 8388609)");
    expect_base("model:\n  path: \"\"\n", "2: model.path: must not be empty");
    expect_base("server:\n  host: \"my host\"\n",
                "2: server.host: must be a host name or IP address without spaces (got \"my "
                "host\")");
    expect_base("api:\n  prefix: api/v1\n",
                "2: api.prefix: must be empty or a path like /api/v1 (leading '/', no trailing "
                "'/') (got \"api/v1\")");
    expect_base("api:\n  prefix: /api/\n",
                "2: api.prefix: must be empty or a path like /api/v1 (leading '/', no trailing "
                "'/') (got \"/api/\")");
    char longhost[400] = "server:\n  host: ";
    memset(longhost + strlen(longhost), 'h', 300);
    strcat(longhost, "\n");
    expect_base(longhost, "2: server.host: must be at most 255 bytes (got 300)");
    expect_base("api:\n  cors:\n    allowed_origins:\n      - https://ok.example\n"
                "      - https://bad.example/path\n",
                "5: api.cors.allowed_origins: item 2: must be \"*\" or an origin like "
                "https://example.com (no path) (got \"https://bad.example/path\")");
}

static void test_shapes(void **state)
{
    (void)state;
    expect_base("server: 5\n", "1: server: must be a mapping (got a scalar)");
    expect_base("server:\n  - port\n", "1: server: must be a mapping (got a list)");
    expect_base("server:\n  port: [1]\n", "2: server.port: must be a scalar (got a list)");
    expect_base("api:\n  cors:\n    allowed_origins: https://a.example\n",
                "3: api.cors.allowed_origins: must be a list (got a scalar)");
    expect_base("api:\n  cors:\n    allowed_origins:\n      - {a: 1}\n",
                "4: api.cors.allowed_origins: item 1: must be a string (got a mapping)");
    expect_base("- server\n",
                "1: top level must be a mapping of sections (server:, model:, ...) (got a list)");
    expect_base("a: 1\n---\nb: 2\n", "3: more than one YAML document; keep one per file");
    /* Empty sections and an empty file are fine. */
    put_file(S.dir, "base.yaml", "server:\nmodel: ~\n");
    put_file(S.dir, "dev.yaml", "---\n");
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(&S, "dev", NULL, NULL, &c, &err), SENTI_OK);
    cfg_free(c);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_base("server:\n  prot: 1\n", "2: server.prot: unknown key (did you mean server.port?)");
    expect_base("sever:\n  port: 1\n", "1: sever: unknown key (did you mean server?)");
    expect_base("auth:\n  jwt:\n    secert: x\n",
                "3: auth.jwt.secert: unknown key (did you mean auth.jwt.secret?)");
    expect_base("server:\n  completely_different: 1\n", "2: server.completely_different: unknown key");
    expect_base("model:\n  path:\n    x: 1\n", "2: model.path: must be a scalar (got a mapping)");
}

static void test_malformed_yaml(void **state)
{
    (void)state;
    expect_base("server:\n\tport: 1\n",
                "2: invalid YAML: found character that cannot start any token while scanning for "
                "the next token (tabs are not allowed; indent with spaces)");
    expect_base("server:\n  port: 1\n host: x\n",
                "3: invalid YAML: did not find expected key while parsing a block mapping");
    expect_base("server:\n  port: 1\n    host: x\n",
                "3: invalid YAML: mapping values are not allowed in this context");
    expect_base("server: {port: 1\n",
                "2: invalid YAML: did not find expected ',' or '}' while parsing a flow mapping");
    expect_base("server:\n  host: a\n  port: 1\n  port: 2\n",
                "4: server.port: duplicate key (first at line 3)");
    expect_base("logging:\n  level: info\nserver:\n  port: 1\nlogging:\n  json: true\n",
                "5: logging: duplicate key (first at line 1)");
}

/* The overlay file is checked the same way and named in the message. */
static void test_overlay_and_missing_files(void **state)
{
    (void)state;
    put_file(S.dir, "base.yaml", "server:\n  port: 1000\n");
    put_file(S.dir, "staging.yaml", "# staging\nserver:\n  port: 65536\n");
    char want[2048];
    snprintf(want, sizeof want, "cfg: %s/staging.yaml:3: server.port: must be in 0..65535 (got 65536)",
             S.dir);
    assert_load_error(&S, "staging", NULL, want);
    snprintf(want, sizeof want,
             "cfg: %s/prod.yaml: cannot read: No such file or directory (set --config-dir or "
             "SENTI_CONFIG_DIR)",
             S.dir);
    assert_load_error(&S, "prod", NULL, want);
    scratch empty;
    scratch_init(&empty);
    snprintf(want, sizeof want,
             "cfg: %s/base.yaml: cannot read: No such file or directory (set --config-dir or "
             "SENTI_CONFIG_DIR)",
             empty.dir);
    assert_load_error(&empty, "dev", NULL, want);
    scratch_free(&empty);
}

static void test_env_errors(void **state)
{
    (void)state;
    put_file(S.dir, "base.yaml", "");
    put_file(S.dir, "dev.yaml", "");
    const char *e1[] = {"SENTI_SERVER_PORT=abc", NULL};
    assert_load_error(&S, "dev", e1, "cfg: env SENTI_SERVER_PORT: must be an integer (got \"abc\")");
    const char *e2[] = {"MLOPS_PORT=65536", NULL};
    assert_load_error(&S, "dev", e2, "cfg: env MLOPS_PORT: must be in 0..65535 (got 65536)");
    /* too short to be a real key; the message never echoes the value */
    const char *ek[] = {"SENTI_AUTH_API_KEYS=short", NULL};
    assert_load_error(&S, "dev", ek,
                      "cfg: env SENTI_AUTH_API_KEYS: item 1: must be at least 16 bytes (got 5)");
    const char *e3[] = {"SENTI_SERVER_PROT=80", NULL};
    assert_load_error(&S, "dev", e3,
                      "cfg: env SENTI_SERVER_PROT: unknown setting (did you mean SENTI_SERVER_PORT?)");
    const char *e4[] = {"SENTI_CACHE_SIZE_IN_ENTRIES=80", NULL};
    assert_load_error(&S, "dev", e4, "cfg: env SENTI_CACHE_SIZE_IN_ENTRIES: unknown setting");
    const char *e5[] = {"MLOPS_DEBUG=maybe", NULL};
    assert_load_error(&S, "dev", e5, "cfg: env MLOPS_DEBUG: must be true or false (got \"maybe\")");
    const char *e6[] = {"SENTI_LOGGING_LEVEL=loud", NULL};
    assert_load_error(&S, "dev", e6,
                      "cfg: env SENTI_LOGGING_LEVEL: must be one of debug, info, warning, error "
                      "(got \"loud\")");
    const char *e7[] = {"SENTI_API_CORS_ALLOWED_ORIGINS=https://a.example,ftp://b", NULL};
    assert_load_error(&S, "dev", e7,
                      "cfg: env SENTI_API_CORS_ALLOWED_ORIGINS: item 2: must be \"*\" or an origin "
                      "like https://example.com (no path) (got \"ftp://b\")");
    const char *e8[] = {"SENTI_MODEL_NAME=a\tb", NULL};
    assert_load_error(&S, "dev", e8, "cfg: env SENTI_MODEL_NAME: must not contain control characters");
    /* Names outside the config sections are left alone (SENTI_BIN, SENTI_TEST_QUICK, ...). */
    const char *ok[] = {"SENTI_BIN=/x", "SENTI_TEST_QUICK=1", "MLOPS_SOMETHING=1", "PATH=/bin", NULL};
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(&S, "dev", ok, NULL, &c, &err), SENTI_OK);
    cfg_free(c);

    /* Cross-key rule: the origin of the offending value is named. */
    const char *e9[] = {"SENTI_AUTH_MODE=api-key", NULL};
    assert_load_error(&S, "dev", e9,
                      "cfg: env SENTI_AUTH_MODE: auth.mode: api-key requires at least one API key; "
                      "set SENTI_AUTH_API_KEYS, SENTI_AUTH_API_KEYS_FILE, MLOPS_API_KEY or "
                      "MLOPS_API_KEY_FILE");
    put_file(S.dir, "dev.yaml", "model:\n  max_seq_len: 256\nbatching:\n  max_batch_tokens: 128\n");
    char want[2048];
    snprintf(want, sizeof want,
             "cfg: %s/dev.yaml:4: batching.max_batch_tokens: must be at least model.max_seq_len "
             "(256) (got 128)",
             S.dir);
    assert_load_error(&S, "dev", NULL, want);
}

static void test_dotenv_errors(void **state)
{
    (void)state;
    put_file(S.dir, "base.yaml", "");
    put_file(S.dir, "dev.yaml", "");
    put_file(S.root, ".env", "# comment\n\nexport SENTI_SERVER_PORT=\"8081\"\nSENTI_SERVER_HOST='::'\n"
                             "MLOPS_LOG_LEVEL=error # trailing comment\nOTHER_APP_VAR=ignored\n");
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(&S, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->server.port, 8081);
    assert_string_equal(c->server.host, "::");
    assert_int_equal(c->logging.level, CFG_LOG_LEVEL_ERROR);
    cfg_free(c);

    char want[2048];
    put_file(S.root, ".env", "SENTI_SERVER_PORT=8081\nthis is not an assignment\n");
    snprintf(want, sizeof want, "cfg: %s:2: expected NAME=VALUE", S.dotenv);
    assert_load_error(&S, "dev", NULL, want);
    put_file(S.root, ".env", "\n\nSENTI_SERVER_PORT=port\n");
    snprintf(want, sizeof want, "cfg: %s:3: SENTI_SERVER_PORT: must be an integer (got \"port\")",
             S.dotenv);
    assert_load_error(&S, "dev", NULL, want);
    put_file(S.root, ".env", "SENTI_SERVER_PROT=1\n");
    snprintf(want, sizeof want,
             "cfg: %s:1: SENTI_SERVER_PROT: unknown setting (did you mean SENTI_SERVER_PORT?)",
             S.dotenv);
    assert_load_error(&S, "dev", NULL, want);
    unlink(S.dotenv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),         cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_unknown_keys),   cmocka_unit_test(test_malformed_yaml),
        cmocka_unit_test(test_overlay_and_missing_files), cmocka_unit_test(test_env_errors),
        cmocka_unit_test(test_dotenv_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
