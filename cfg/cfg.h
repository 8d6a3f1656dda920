/* cfg/cfg.h - service configuration: YAML profiles, environment overrides,
 * secrets, validation. docs/CONFIG.md lists every key.
 *
 * Sources, lowest precedence first (each later source wins key by key):
 *   1. compiled-in defaults
 *   2. <config_dir>/base.yaml
 *   3. <config_dir>/<env>.yaml            (deep-merged over base; lists are replaced)
 *   4. <config_dir>/../.env               (env "dev" only; KEY=VALUE lines)
 *   5. MLOPS_* variables                  (seed names: MLOPS_PORT, MLOPS_API_KEY, ...)
 *   6. SENTI_<SECTION>_<KEY> variables    (SENTI_SERVER_PORT, SENTI_AUTH_JWT_SECRET_FILE, ...)
 *   7. command-line flags                 (cfg_load_opts.overrides, or cfg_set + cfg_validate)
 *
 * The server reads the struct directly (cfg->server.port). Strings and lists
 * are fixed arrays inside the struct, so a cfg_config has no owned pointers
 * apart from its private bookkeeping; it is read-only after loading and can be
 * shared by every thread.
 *
 *   cfg_load_opts o = {.env = flag_env, .config_dir = flag_dir};
 *   cfg_config *c;
 *   senti_err err = {0};
 *   if (cfg_load(&o, &c, &err) != SENTI_OK) { fprintf(stderr, "%s\n", err.msg); return 1; }
 *   ... c->server.port, c->auth.mode ...
 *   cfg_free(c);
 *
 * Error messages start with "cfg: " and name the source and key:
 *   cfg: cfg/prod.yaml:12: server.port: must be in 0..65535 (got 70000)
 *   cfg: env SENTI_SERVER_PORT: must be an integer (got "abc")
 * Secret values (auth.api_keys, auth.jwt.secret) never appear in a message.
 */
#ifndef SENTI_CFG_H
#define SENTI_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/status.h"

/* Sizes of the fixed string fields (bytes incl. NUL) and lists. */
#define CFG_ENV_MAX 32
#define CFG_HOST_MAX 256
#define CFG_PATH_MAX 4096
#define CFG_NAME_MAX 128
#define CFG_PREFIX_MAX 128
#define CFG_ORIGIN_MAX 256     /* one CORS origin, "https://example.com:8443" */
#define CFG_MAX_ORIGINS 32     /* api.cors.allowed_origins entries */
#define CFG_SECRET_MAX 512     /* one API key or the JWT secret */
#define CFG_MAX_API_KEYS 64    /* auth.api_keys entries */
#define CFG_CLAIM_MAX 256      /* auth.jwt.issuer / audience */
#define CFG_ISA_MAX 16

/* Enum values are append-only. Each has a YAML spelling (see *_name below). */
typedef enum cfg_log_level {
    CFG_LOG_LEVEL_DEBUG = 0, /* "debug" */
    CFG_LOG_LEVEL_INFO,      /* "info" */
    CFG_LOG_LEVEL_WARNING,   /* "warning" (also accepted: "warn") */
    CFG_LOG_LEVEL_ERROR,     /* "error" */
} cfg_log_level;

typedef enum cfg_auth_mode {
    CFG_AUTH_MODE_NONE = 0, /* "none": every request is accepted */
    CFG_AUTH_MODE_API_KEY,  /* "api-key": X-API-Key or "Authorization: Bearer <key>" */
    CFG_AUTH_MODE_JWT,      /* "jwt": HS256 bearer token; API keys also accepted when configured */
} cfg_auth_mode;

typedef enum cfg_rate_key {
    CFG_RATE_KEY_API_KEY = 0, /* "api-key": per API key / JWT subject; anonymous -> client address */
    CFG_RATE_KEY_CLIENT_ADDRESS, /* "client-address": per peer IP address */
} cfg_rate_key;

typedef enum cfg_overflow {
    CFG_OVERFLOW_TRUNCATE = 0, /* "truncate": keep the first max_seq_len tokens */
    CFG_OVERFLOW_REJECT,       /* "reject": 4xx for a text longer than max_seq_len tokens */
} cfg_overflow;

typedef enum cfg_dtype {
    CFG_DTYPE_AUTO = 0, /* "auto": compute in the dtype stored in the weight file */
    CFG_DTYPE_F32,      /* "f32" */
    CFG_DTYPE_F16,      /* "f16" */
    CFG_DTYPE_BF16,     /* "bf16" */
    CFG_DTYPE_INT8,     /* "int8" */
} cfg_dtype;

typedef struct cfg_server {
    char host[CFG_HOST_MAX];   /* bind address; "127.0.0.1" (dev), "0.0.0.0" (staging/prod) */
    uint16_t port;             /* 0..65535 (0 = any free port), default 8080 */
    uint32_t io_threads;       /* event-loop threads, 1..64 */
    uint32_t worker_threads;   /* inference threads, 0 = number of CPUs, max 256 */
    uint32_t max_connections;  /* open connections, 1..1000000 */
    uint32_t read_timeout_ms;  /* whole request must arrive within this, 1..3600000 */
    uint32_t write_timeout_ms; /* response must drain within this, 1..3600000 */
    uint32_t idle_timeout_ms;  /* keep-alive idle close, 1..3600000 */
    uint32_t drain_timeout_ms; /* on SIGTERM, finish in-flight requests for up to this, 0..3600000 */
} cfg_server;

typedef struct cfg_model {
    char path[CFG_PATH_MAX];   /* weight file, default "models/default.senti" */
    char name[CFG_NAME_MAX];   /* model name reported by the API, default "default" */
    cfg_dtype dtype;           /* compute dtype, default auto */
    uint32_t max_seq_len;      /* tokens incl. [CLS]/[SEP], 2..SENTI_MAX_SEQ, default 512 */
    cfg_overflow overflow;     /* over-long texts: truncate (default) or reject */
    bool warmup;               /* run a forward pass before accepting traffic */
    char isa[CFG_ISA_MAX];     /* "auto", "ref", "avx2", "avx512" (eng_options.isa) */
} cfg_model;

typedef struct cfg_batching {
    bool enabled;                /* false: every request runs alone */
    uint32_t max_batch_size;     /* sequences per forward pass, 1..SENTI_MAX_BATCH */
    uint32_t max_batch_tokens;   /* sum of padded lengths per pass, >= model.max_seq_len */
    uint32_t max_queue_delay_us; /* wait this long for a batch to fill, 0..1000000 */
    uint32_t queue_capacity;     /* pending texts before 503, 1..1000000 */
} cfg_batching;

typedef struct cfg_cors {
    size_t n_allowed_origins; /* 0 = no CORS headers */
    /* "*" or "scheme://host[:port]" (no path, no trailing slash) */
    char allowed_origins[CFG_MAX_ORIGINS][CFG_ORIGIN_MAX];
} cfg_cors;

typedef struct cfg_api {
    char prefix[CFG_PREFIX_MAX]; /* "" (dev) or "/api/v1": starts with '/', no trailing '/' */
    cfg_cors cors;
} cfg_api;

typedef struct cfg_jwt {
    char secret[CFG_SECRET_MAX]; /* SECRET. HS256 key, >= 32 bytes when set; "" = unset */
    char issuer[CFG_CLAIM_MAX];   /* required "iss" claim; "" = not checked */
    char audience[CFG_CLAIM_MAX]; /* required "aud" claim; "" = not checked */
    uint32_t leeway_seconds;      /* clock skew allowed for exp/nbf/iat, 0..3600 */
} cfg_jwt;

typedef struct cfg_auth {
    cfg_auth_mode mode;
    size_t n_api_keys; /* keys accepted in api-key mode, and also in jwt mode when > 0 */
    char api_keys[CFG_MAX_API_KEYS][CFG_SECRET_MAX]; /* SECRET */
    cfg_jwt jwt;
} cfg_auth;

typedef struct cfg_rate_limit {
    bool enabled;
    uint32_t requests_per_minute; /* token-bucket refill rate, 1..10000000 */
    uint32_t burst;               /* bucket size, 1..10000000 */
    cfg_rate_key key_by;
} cfg_rate_limit;

typedef struct cfg_cache {
    bool enabled;
    uint32_t max_entries; /* LRU capacity, 1..100000000 */
    uint32_t ttl_seconds; /* entry lifetime, 1..31536000 */
} cfg_cache;

typedef struct cfg_limits {
    size_t max_body_bytes;          /* 1..SENTI_MAX_BODY_BYTES */
    uint32_t max_texts_per_request; /* 1..SENTI_MAX_TEXTS_PER_REQUEST */
    uint32_t max_text_chars;        /* characters (Unicode code points) per text, 1..SENTI_MAX_TEXT_BYTES */
} cfg_limits;

typedef struct cfg_logging {
    cfg_log_level level;
    bool json; /* one JSON object per line instead of text */
} cfg_logging;

typedef struct cfg_metrics {
    bool enabled; /* GET /metrics (Prometheus text format), outside api.prefix */
} cfg_metrics;

typedef struct cfg_meta cfg_meta; /* private: where each value came from */

typedef struct cfg_config {
    char env[CFG_ENV_MAX]; /* "dev", "staging" or "prod" */
    cfg_server server;
    cfg_model model;
    cfg_batching batching;
    cfg_api api;
    cfg_auth auth;
    cfg_rate_limit rate_limit;
    cfg_cache cache;
    cfg_limits limits;
    cfg_logging logging;
    cfg_metrics metrics;
    cfg_meta *meta_; /* private, owned */
} cfg_config;

typedef struct cfg_load_opts {
    /* "dev", "staging", "prod" (aliases: development, stage, production).
     * NULL: SENTI_ENV, else MLOPS_ENV, else APP_ENV, else "dev". */
    const char *env;
    /* Directory holding base.yaml and <env>.yaml. NULL: SENTI_CONFIG_DIR, else "cfg". */
    const char *config_dir;
    /* NULL-terminated "NAME=VALUE" array used instead of the process
     * environment (tests); NULL = the process environment. Borrowed. */
    const char *const *envp;
    /* NULL-terminated "section.key=value" array applied last (command-line
     * flags), with cfg_set's parsing; NULL = none. Borrowed. */
    const char *const *overrides;
} cfg_load_opts;

/* Builds the configuration from every source above and validates it. On
 * success *out is a complete config (free with cfg_free); on failure *out is
 * NULL, err says why and the status is SENTI_E_CONFIG (SENTI_E_NOMEM if
 * allocation failed). o may be NULL (all defaults). */
senti_status cfg_load(const cfg_load_opts *o, cfg_config **out, senti_err *err);

/* Sets one key from text, as a flag would: path "server.port", value "9000".
 * Lists (api.cors.allowed_origins, auth.api_keys) take a comma-separated
 * value. Checks type, range and enum spelling; on error c is unchanged.
 * Cross-key rules are not checked: call cfg_validate after the last cfg_set. */
senti_status cfg_set(cfg_config *c, const char *path, const char *value, senti_err *err);

/* Cross-key and environment rules (auth mode needs its secret, batch tokens
 * fit a sequence, ...). cfg_load runs it. */
senti_status cfg_validate(const cfg_config *c, senti_err *err);

/* Writes the configuration as YAML (loadable as a config file). With redact,
 * secrets print as "***" (API keys as "*** (N keys)"). SENTI_E_IO on write error. */
senti_status cfg_print(const cfg_config *c, FILE *f, bool redact, senti_err *err);

/* Wipes secrets and frees. NULL is a no-op. */
void cfg_free(cfg_config *c);

/* YAML spellings of the enums ("debug", "api-key", ...). */
const char *cfg_log_level_name(cfg_log_level v);
const char *cfg_auth_mode_name(cfg_auth_mode v);
const char *cfg_rate_key_name(cfg_rate_key v);
const char *cfg_overflow_name(cfg_overflow v);
const char *cfg_dtype_name(cfg_dtype v);

/* Where a key's value came from: "default", "cfg/prod.yaml:12",
 * "env SENTI_SERVER_PORT", "flag", ...; NULL for an unknown path. Valid until
 * the next cfg_set or cfg_free. For --check-config and start-up logs. */
const char *cfg_origin(const cfg_config *c, const char *path);

#endif
