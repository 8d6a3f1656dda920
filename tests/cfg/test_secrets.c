/* tests/cfg/test_secrets.c - API keys and the JWT secret: from the environment,
 * from *_FILE paths, from .env in dev only, refused in YAML outside dev, and
 * never shown by cfg_print(redact) or in any error message. */
#include "tests/cfg/cfgtest.h"

#define JWT "jwt-secret-0123456789abcdef0123456789"
#define KEY1 "key-alpha-4f1c-0123456789"
#define KEY2 "key-bravo-9e2d-0123456789"

static scratch S;

static int setup(void **state)
{
    (void)state;
    scratch_init(&S);
    put_file(S.dir, "base.yaml", "");
    put_file(S.dir, "dev.yaml", "");
    put_file(S.dir, "staging.yaml", "auth:\n  mode: api-key\n");
    put_file(S.dir, "prod.yaml", "auth:\n  mode: jwt\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scratch_free(&S);
    return 0;
}

/* Expects a failure whose message is `want` and holds none of the secrets. */
static void expect_error(const char *env, const char *const *envp, const char *want)
{
    cfg_config *c = NULL;
    senti_err err;
    assert_int_equal(load(&S, env, envp, NULL, &c, &err), SENTI_E_CONFIG);
    assert_null(c);
    assert_string_equal(err.msg, want);
    assert_null(strstr(err.msg, JWT));
    assert_null(strstr(err.msg, KEY1));
    assert_null(strstr(err.msg, KEY2));
    assert_null(strstr(err.msg, "short"));
}

static void test_from_env(void **state)
{
    (void)state;
    cfg_config *c;
    senti_err err;
    const char *envp[] = {"SENTI_AUTH_API_KEYS=" KEY1 "," KEY2, NULL};
    assert_int_equal(load(&S, "staging", envp, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->auth.n_api_keys, 2);
    assert_string_equal(c->auth.api_keys[1], KEY2);
    cfg_free(c);
    const char *e2[] = {"SENTI_AUTH_JWT_SECRET=" JWT, NULL};
    assert_int_equal(load(&S, "prod", e2, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->auth.jwt.secret, JWT);
    cfg_free(c);
    /* SENTI_AUTH_API_KEYS wins over MLOPS_API_KEY. */
    const char *e3[] = {"MLOPS_API_KEY=" KEY1, "SENTI_AUTH_API_KEYS=" KEY2, NULL};
    assert_int_equal(load(&S, "staging", e3, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->auth.n_api_keys, 1);
    assert_string_equal(c->auth.api_keys[0], KEY2);
    cfg_free(c);
}

static void test_from_files(void **state)
{
    (void)state;
    char jwt_path[512], keys_path[512], one_path[512], v1[600], v2[600], v3[600];
    snprintf(jwt_path, sizeof jwt_path, "%s", put_file(S.root, "jwt", JWT "\n"));
    snprintf(keys_path, sizeof keys_path, "%s", put_file(S.root, "keys", KEY1 "\n" KEY2 "\n"));
    snprintf(one_path, sizeof one_path, "%s", put_file(S.root, "one", KEY1 "\r\n"));
    snprintf(v1, sizeof v1, "SENTI_AUTH_JWT_SECRET_FILE=%s", jwt_path);
    snprintf(v2, sizeof v2, "SENTI_AUTH_API_KEYS_FILE=%s", keys_path);
    snprintf(v3, sizeof v3, "MLOPS_API_KEY_FILE=%s", one_path);
    cfg_config *c;
    senti_err err;
    const char *e1[] = {v1, v2, NULL};
    assert_int_equal(load(&S, "prod", e1, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->auth.jwt.secret, JWT); /* trailing newline trimmed */
    assert_int_equal(c->auth.n_api_keys, 2);
    assert_string_equal(c->auth.api_keys[0], KEY1);
    assert_string_equal(c->auth.api_keys[1], KEY2);
    assert_string_equal(cfg_origin(c, "auth.jwt.secret"), "env SENTI_AUTH_JWT_SECRET_FILE");
    cfg_free(c);
    const char *e2[] = {v3, NULL};
    assert_int_equal(load(&S, "staging", e2, NULL, &c, &err), SENTI_OK);
    assert_int_equal(c->auth.n_api_keys, 1);
    assert_string_equal(c->auth.api_keys[0], KEY1);
    cfg_free(c);

    /* Missing, empty, doubled: errors name the variable and the path. */
    const char *e3[] = {"SENTI_AUTH_JWT_SECRET_FILE=/nonexistent/senti/jwt", NULL};
    expect_error("prod", e3,
                 "cfg: env SENTI_AUTH_JWT_SECRET_FILE: cannot read \"/nonexistent/senti/jwt\": No "
                 "such file or directory");
    char empty[512], v4[600], want[2048];
    snprintf(empty, sizeof empty, "%s", put_file(S.root, "empty", "\n"));
    snprintf(v4, sizeof v4, "MLOPS_API_KEY_FILE=%s", empty);
    const char *e4[] = {v4, NULL};
    snprintf(want, sizeof want, "cfg: env MLOPS_API_KEY_FILE: \"%s\" is empty", empty);
    expect_error("staging", e4, want);
    const char *e5[] = {v1, "SENTI_AUTH_JWT_SECRET=" JWT, NULL};
    expect_error("prod", e5,
                 "cfg: env SENTI_AUTH_JWT_SECRET_FILE: SENTI_AUTH_JWT_SECRET is also set; set only "
                 "one");
    /* Only one newline is trimmed: a second one is part of the value, and refused. */
    char two[512], v6[600];
    snprintf(two, sizeof two, "%s", put_file(S.root, "two", JWT "\n\n"));
    snprintf(v6, sizeof v6, "SENTI_AUTH_JWT_SECRET_FILE=%s", two);
    const char *e6[] = {v6, NULL};
    expect_error("prod", e6,
                 "cfg: env SENTI_AUTH_JWT_SECRET_FILE: must not contain control characters or "
                 "newlines");
}

static void test_dotenv_dev_only(void **state)
{
    (void)state;
    put_file(S.root, ".env", "SENTI_AUTH_JWT_SECRET=" JWT "\nMLOPS_API_KEY=" KEY1 "\n");
    put_file(S.dir, "dev.yaml", "auth:\n  mode: jwt\n");
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(&S, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->auth.jwt.secret, JWT);
    assert_int_equal(c->auth.n_api_keys, 1);
    cfg_free(c);
    char want[2048];
    snprintf(want, sizeof want,
             "cfg: %s/prod.yaml:2: auth.mode: jwt requires auth.jwt.secret; set "
             "SENTI_AUTH_JWT_SECRET or SENTI_AUTH_JWT_SECRET_FILE",
             S.dir);
    expect_error("prod", NULL, want);
    snprintf(want, sizeof want,
             "cfg: %s/staging.yaml:2: auth.mode: api-key requires at least one API key; set "
             "SENTI_AUTH_API_KEYS, SENTI_AUTH_API_KEYS_FILE, MLOPS_API_KEY or MLOPS_API_KEY_FILE",
             S.dir);
    expect_error("staging", NULL, want);
    /* A .env line that is not an assignment is not echoed (it may hold a secret). */
    put_file(S.root, ".env", "SENTI_AUTH_JWT_SECRET " JWT "\n");
    snprintf(want, sizeof want, "cfg: %s:1: expected NAME=VALUE", S.dotenv);
    expect_error("dev", NULL, want);
    put_file(S.root, ".env", "");
    put_file(S.dir, "dev.yaml", "");
}

static void test_yaml_secrets(void **state)
{
    (void)state;
    cfg_config *c;
    senti_err err;
    /* dev: allowed. */
    put_file(S.dir, "dev.yaml",
             "auth:\n  mode: api-key\n  api_keys: [" KEY1 "]\n  jwt:\n    secret: " JWT "\n");
    assert_int_equal(load(&S, "dev", NULL, NULL, &c, &err), SENTI_OK);
    assert_string_equal(c->auth.api_keys[0], KEY1);
    assert_string_equal(c->auth.jwt.secret, JWT);
    cfg_free(c);
    put_file(S.dir, "dev.yaml", "");
    /* Outside dev: refused, pointing to the variables; empty values are fine. */
    put_file(S.dir, "prod.yaml",
             "auth:\n  mode: jwt\n  api_keys: []\n  jwt:\n    secret: " JWT "\n");
    char want[2048];
    snprintf(want, sizeof want,
             "cfg: %s/prod.yaml:5: auth.jwt.secret: secrets are not allowed in config files "
             "outside dev; set SENTI_AUTH_JWT_SECRET or SENTI_AUTH_JWT_SECRET_FILE",
             S.dir);
    expect_error("prod", NULL, want);
    put_file(S.dir, "prod.yaml", "auth:\n  mode: jwt\n");
    put_file(S.dir, "base.yaml", "auth:\n  api_keys:\n    - " KEY1 "\n");
    snprintf(want, sizeof want,
             "cfg: %s/base.yaml:2: auth.api_keys: secrets are not allowed in config files "
             "outside dev; set SENTI_AUTH_API_KEYS, SENTI_AUTH_API_KEYS_FILE, MLOPS_API_KEY or "
             "MLOPS_API_KEY_FILE",
             S.dir);
    expect_error("staging", NULL, want);
    put_file(S.dir, "base.yaml", "");
}

static void test_bad_secret_values_not_echoed(void **state)
{
    (void)state;
    const char *e1[] = {"SENTI_AUTH_API_KEYS=" KEY1 ",bad key " KEY2, NULL};
    expect_error("staging", e1,
                 "cfg: env SENTI_AUTH_API_KEYS: item 2: must not contain spaces, commas or control "
                 "characters");
    const char *e2[] = {"SENTI_AUTH_JWT_SECRET=short", NULL};
    expect_error("prod", e2,
                 "cfg: env SENTI_AUTH_JWT_SECRET: auth.jwt.secret: must be at least 32 bytes for "
                 "HS256 (got 5)");
    cfg_config *c;
    senti_err err;
    const char *ok[] = {"SENTI_AUTH_JWT_SECRET=" JWT, NULL};
    assert_int_equal(load(&S, "prod", ok, NULL, &c, &err), SENTI_OK);
    char big[700];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(cfg_set(c, "auth.jwt.secret", big, &err), SENTI_E_CONFIG);
    assert_string_equal(err.msg, "cfg: auth.jwt.secret: must be at most 511 bytes (got 699)");
    assert_string_equal(c->auth.jwt.secret, JWT);
    cfg_free(c);
}

static void test_redaction(void **state)
{
    (void)state;
    const char *envp[] = {"SENTI_AUTH_JWT_SECRET=" JWT, "SENTI_AUTH_API_KEYS=" KEY1 "," KEY2, NULL};
    cfg_config *c;
    senti_err err;
    assert_int_equal(load(&S, "prod", envp, NULL, &c, &err), SENTI_OK);
    char *red = print_str(c, true);
    assert_null(strstr(red, JWT));
    assert_null(strstr(red, KEY1));
    assert_null(strstr(red, KEY2));
    assert_non_null(strstr(red, "    secret: \"***\"  # env SENTI_AUTH_JWT_SECRET\n"));
    assert_non_null(strstr(red, "  api_keys: \"*** (2 keys)\"  # env SENTI_AUTH_API_KEYS\n"));
    assert_non_null(strstr(red, "# senti configuration, env prod (secrets redacted)\n"));
    char *plain = print_str(c, false);
    assert_non_null(strstr(plain, JWT));
    assert_non_null(strstr(plain, "api_keys: [\"" KEY1 "\", \"" KEY2 "\"]"));
    free(red);
    free(plain);
    /* One key, and no secret at all. */
    assert_int_equal(cfg_set(c, "auth.api_keys", KEY1, &err), SENTI_OK);
    assert_int_equal(cfg_set(c, "auth.jwt.secret", "", &err), SENTI_OK);
    red = print_str(c, true);
    assert_non_null(strstr(red, "  api_keys: \"*** (1 key)\"  # flag\n"));
    assert_non_null(strstr(red, "    secret: \"\"  # flag\n"));
    free(red);
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_env),
        cmocka_unit_test(test_from_files),
        cmocka_unit_test(test_dotenv_dev_only),
        cmocka_unit_test(test_yaml_secrets),
        cmocka_unit_test(test_bad_secret_values_not_echoed),
        cmocka_unit_test(test_redaction),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
