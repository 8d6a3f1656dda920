/* cfg/load.c - cfg_load: every source in precedence order onto a fresh
 * config, then cfg_validate; the caller gets a complete config or nothing. */
#include "cfg/cfg_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"

extern char **environ;

/* Canonical environment name, or NULL. */
static const char *canonical_env(const char *s)
{
    static const struct {
        const char *alias, *name;
    } envs[] = {{"dev", "dev"},         {"development", "dev"}, {"staging", "staging"},
                {"stage", "staging"},   {"prod", "prod"},       {"production", "prod"}};
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++)
        if (cfg_streq_nocase(s, envs[i].alias)) return envs[i].name;
    return NULL;
}

static senti_status resolve_env(const cfg_load_opts *o, const char *const *envp, const char **out,
                                senti_err *err)
{
    static const char *const vars[] = {"SENTI_ENV", "MLOPS_ENV", "APP_ENV"};
    const char *val = o->env, *from = "--env";
    for (size_t i = 0; !val && i < 3; i++) {
        const char *v = cfg_envp_get(envp, vars[i]);
        if (v && *v) val = v, from = vars[i];
    }
    if (!val) {
        *out = "dev";
        return SENTI_OK;
    }
    *out = canonical_env(val);
    if (*out) return SENTI_OK;
    char q[96];
    cfg_quote(q, sizeof q, val);
    return senti_fail(err, SENTI_E_CONFIG, "cfg: %s%s: must be one of dev, staging, prod (got %s)",
                      o->env ? "" : "env ", from, q);
}

/* The .env file sits in the config directory's parent: ./cfg -> ./.env. */
static void dotenv_path(const char *dir, char *buf, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (dir[i] == '/') slash = dir + i;
    const char *last = slash ? slash + 1 : dir;
    size_t ll = (size_t)(dir + n - last);
    if (ll == 0 || (ll == 1 && last[0] == '.') || (ll == 2 && strncmp(last, "..", 2) == 0))
        snprintf(buf, cap, "%.*s/../.env", (int)n, dir);
    else if (!slash) snprintf(buf, cap, ".env");
    else if (slash == dir) snprintf(buf, cap, "/.env");
    else snprintf(buf, cap, "%.*s/.env", (int)(slash - dir), dir);
}

static senti_status apply_overrides(cfg_config *c, const char *const *ov, senti_err *err)
{
    for (; ov && *ov; ov++) {
        const char *eq = strchr(*ov, '=');
        char path[128];
        if (!eq || eq == *ov || (size_t)(eq - *ov) >= sizeof path) {
            char q[96];
            cfg_quote(q, sizeof q, eq ? "(key too long)" : *ov);
            return senti_fail(err, SENTI_E_CONFIG, "cfg: flag %s: expected section.key=value", q);
        }
        memcpy(path, *ov, (size_t)(eq - *ov));
        path[eq - *ov] = '\0';
        senti_status st = cfg_set(c, path, eq + 1, err);
        if (st != SENTI_OK) return st;
    }
    return SENTI_OK;
}

senti_status cfg_load(const cfg_load_opts *opts, cfg_config **out, senti_err *err)
{
    static const cfg_load_opts none = {0};
    const cfg_load_opts *o = opts ? opts : &none;
    const char *const *envp = o->envp ? o->envp : (const char *const *)environ;
    cfg_config *c = NULL;
    cfg_env_layer *proc = NULL, *dot = NULL;
    const char *env;
    senti_status st;
    char path[CFG_PATH_MAX + 32];

    if (!out) return senti_fail(err, SENTI_E_INVALID, "cfg: cfg_load: out is NULL");
    *out = NULL;
    SENTI_TRY(resolve_env(o, envp, &env, err));
    const char *dir = o->config_dir;
    if (!dir) {
        dir = cfg_envp_get(envp, "SENTI_CONFIG_DIR");
        if (!dir || !*dir) dir = "cfg";
    }
    if (strlen(dir) >= CFG_PATH_MAX) {
        st = senti_fail(err, SENTI_E_CONFIG, "cfg: config directory path is too long");
        goto fail;
    }
    c = senti_calloc(1, sizeof *c);
    if (c) c->meta_ = senti_calloc(1, sizeof *c->meta_);
    if (!c || !c->meta_) {
        st = senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
        goto fail;
    }
    cfg_defaults(c);
    snprintf(c->env, sizeof c->env, "%s", env);
    bool dev = strcmp(env, "dev") == 0;

    snprintf(path, sizeof path, "%s/base.yaml", dir);
    SENTI_TRY(cfg_yaml_apply(c, path, dev, err));
    snprintf(path, sizeof path, "%s/%s.yaml", dir, env);
    SENTI_TRY(cfg_yaml_apply(c, path, dev, err));
    if (dev) {
        dotenv_path(dir, path, sizeof path);
        SENTI_TRY(cfg_env_layer_from_dotenv(path, &dot, err));
        if (dot) SENTI_TRY(cfg_env_apply(c, dot, err));
    }
    SENTI_TRY(cfg_env_layer_from_envp(envp, &proc, err));
    SENTI_TRY(cfg_env_apply(c, proc, err));
    SENTI_TRY(apply_overrides(c, o->overrides, err));
    SENTI_TRY(cfg_validate(c, err));
    cfg_env_layer_free(dot);
    cfg_env_layer_free(proc);
    *out = c;
    return SENTI_OK;
fail:
    cfg_env_layer_free(dot);
    cfg_env_layer_free(proc);
    cfg_free(c);
    return st;
}

/* "cfg: <origin>: <key>: " or "cfg: <key>: " for defaults. */
static senti_status fail_at(const cfg_config *c, const char *key, senti_err *err, const char *why)
{
    const char *o = cfg_origin(c, key);
    if (!o || strcmp(o, "default") == 0 || strcmp(o, "flag") == 0)
        return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: %s", key, why);
    return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: %s: %s", o, key, why);
}

senti_status cfg_validate(const cfg_config *c, senti_err *err)
{
    char why[CFG_WHY_MAX + 64];
    if (!c) return senti_fail(err, SENTI_E_INVALID, "cfg: cfg_validate: NULL config");
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (!cfg_key_check_value(c, i, why, sizeof why)) return fail_at(c, cfg_keys[i].path, err, why);
    if (!canonical_env(c->env) || strcmp(canonical_env(c->env), c->env) != 0)
        return senti_fail(err, SENTI_E_CONFIG, "cfg: env: must be one of dev, staging, prod");

    int ki = cfg_key_index("auth.api_keys"), si = cfg_key_index("auth.jwt.secret");
    if (c->auth.mode == CFG_AUTH_MODE_API_KEY && c->auth.n_api_keys == 0) {
        snprintf(why, sizeof why, "api-key requires at least one API key; set %s",
                 cfg_secret_sources((size_t)ki));
        return fail_at(c, "auth.mode", err, why);
    }
    if (c->auth.mode == CFG_AUTH_MODE_JWT && !c->auth.jwt.secret[0]) {
        snprintf(why, sizeof why, "jwt requires auth.jwt.secret; set %s",
                 cfg_secret_sources((size_t)si));
        return fail_at(c, "auth.mode", err, why);
    }
    size_t sl = strlen(c->auth.jwt.secret);
    if (sl > 0 && sl < 32) {
        /* RFC 7518 3.2: an HS256 key must be at least 256 bits. */
        snprintf(why, sizeof why, "must be at least 32 bytes for HS256 (got %zu)", sl);
        return fail_at(c, "auth.jwt.secret", err, why);
    }
    if (c->batching.enabled && c->batching.max_batch_tokens < c->model.max_seq_len) {
        snprintf(why, sizeof why, "must be at least model.max_seq_len (%u) (got %u)",
                 c->model.max_seq_len, c->batching.max_batch_tokens);
        return fail_at(c, "batching.max_batch_tokens", err, why);
    }
    return SENTI_OK;
}

void cfg_free(cfg_config *c)
{
    if (!c) return;
    senti_free(c->meta_);
    explicit_bzero(c, sizeof *c); /* secrets */
    senti_free(c);
}
