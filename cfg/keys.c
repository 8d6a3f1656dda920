/* cfg/keys.c - the table of configuration keys (path, type, range, field,
 * seed variable), compiled-in defaults, and setting one key from text. */
#include "cfg/cfg_internal.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/limits.h"

static_assert(sizeof(cfg_log_level) == sizeof(int), "enum fields are stored as int");
static_assert(sizeof(cfg_auth_mode) == sizeof(int), "enum fields are stored as int");
static_assert(sizeof(cfg_rate_key) == sizeof(int), "enum fields are stored as int");
static_assert(sizeof(cfg_overflow) == sizeof(int), "enum fields are stored as int");
static_assert(sizeof(cfg_dtype) == sizeof(int), "enum fields are stored as int");

/* --- enum spellings (index = value; "main|alias") ------------------------ */
static const char *const log_level_names[] = {"debug", "info", "warning|warn", "error", NULL};
static const char *const auth_mode_names[] = {"none", "api-key", "jwt", NULL};
static const char *const rate_key_names[] = {"api-key", "client-address", NULL};
static const char *const overflow_names[] = {"truncate", "reject", NULL};
static const char *const dtype_names[] = {"auto", "f32", "f16", "bf16", "int8", NULL};

/* Main spelling of names[v] (the text before '|') in a static buffer per table. */
static const char *enum_main(const char *const *names, int v, char *buf, size_t cap)
{
    int n = 0;
    while (names[n]) n++;
    if (v < 0 || v >= n) return "?";
    const char *bar = strchr(names[v], '|');
    if (!bar) return names[v];
    snprintf(buf, cap, "%.*s", (int)(bar - names[v]), names[v]);
    return buf;
}

const char *cfg_log_level_name(cfg_log_level v)
{
    static const char *const out[] = {"debug", "info", "warning", "error"};
    return (unsigned)v < 4 ? out[v] : "?";
}
const char *cfg_auth_mode_name(cfg_auth_mode v)
{
    return (unsigned)v < 3 ? auth_mode_names[v] : "?";
}
const char *cfg_rate_key_name(cfg_rate_key v)
{
    return (unsigned)v < 2 ? rate_key_names[v] : "?";
}
const char *cfg_overflow_name(cfg_overflow v)
{
    return (unsigned)v < 2 ? overflow_names[v] : "?";
}
const char *cfg_dtype_name(cfg_dtype v)
{
    return (unsigned)v < 5 ? dtype_names[v] : "?";
}

/* --- string checks -------------------------------------------------------- */
static bool has_ctl_or_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f) return true;
    return false;
}

static bool check_nonempty(const char *s, char *why, size_t cap)
{
    if (*s) return true;
    snprintf(why, cap, "must not be empty");
    return false;
}

static bool check_host(const char *s, char *why, size_t cap)
{
    if (!*s || has_ctl_or_space(s)) {
        char q[96];
        cfg_quote(q, sizeof q, s);
        snprintf(why, cap, "must be a host name or IP address without spaces (got %s)", q);
        return false;
    }
    return true;
}

static bool check_isa(const char *s, char *why, size_t cap)
{
    static const char *const isas[] = {"auto", "ref", "avx2", "avx512"};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
        if (strcmp(s, isas[i]) == 0) return true;
    char q[96];
    cfg_quote(q, sizeof q, s);
    snprintf(why, cap, "must be one of auto, ref, avx2, avx512 (got %s)", q);
    return false;
}

static bool check_prefix(const char *s, char *why, size_t cap)
{
    bool ok = true;
    if (*s) {
        size_t n = strlen(s);
        ok = s[0] == '/' && s[n - 1] != '/' && !strstr(s, "//");
        for (const char *p = s; ok && *p; p++)
            ok = isalnum((unsigned char)*p) || strchr("/-._~", *p);
    }
    if (ok) return true;
    char q[96];
    cfg_quote(q, sizeof q, s);
    snprintf(why, cap, "must be empty or a path like /api/v1 (leading '/', no trailing '/') (got %s)",
             q);
    return false;
}

static bool check_origin(const char *s, char *why, size_t cap)
{
    if (strcmp(s, "*") == 0) return true;
    const char *rest = NULL;
    if (strncmp(s, "http://", 7) == 0) rest = s + 7;
    else if (strncmp(s, "https://", 8) == 0) rest = s + 8;
    bool ok = rest && *rest && !strchr(rest, '/') && !has_ctl_or_space(rest);
    if (ok) return true;
    char q[96];
    cfg_quote(q, sizeof q, s);
    snprintf(why, cap, "must be \"*\" or an origin like https://example.com (no path) (got %s)", q);
    return false;
}

/* Secret: never quoted in the message. */
static bool check_api_key(const char *s, char *why, size_t cap)
{
    if (strlen(s) < SENTI_MIN_API_KEY_BYTES) {
        snprintf(why, cap, "must be at least %d bytes (got %zu)", SENTI_MIN_API_KEY_BYTES,
                 strlen(s));
        return false;
    }
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == ',') {
            snprintf(why, cap, "must not contain spaces, commas or control characters");
            return false;
        }
    return true;
}

static bool check_secret_text(const char *s, char *why, size_t cap)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f) {
            snprintf(why, cap, "must not contain control characters or newlines");
            return false;
        }
    return true;
}

static bool check_printable(const char *s, char *why, size_t cap)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f) {
            snprintf(why, cap, "must not contain control characters");
            return false;
        }
    return true;
}

/* --- the table ------------------------------------------------------------ */
#define FSIZE(f) sizeof(((cfg_config *)0)->f)
#define K_UINT(p, f, lo, hi, ml)                                                                   \
    {.path = p, .type = CFG_T_UINT, .off = offsetof(cfg_config, f), .size = FSIZE(f), .min = lo,   \
     .max = hi, .mlops = ml}
#define K_BOOL(p, f, ml)                                                                           \
    {.path = p, .type = CFG_T_BOOL, .off = offsetof(cfg_config, f), .size = FSIZE(f), .mlops = ml}
#define K_ENUM(p, f, nm, ml)                                                                       \
    {.path = p, .type = CFG_T_ENUM, .off = offsetof(cfg_config, f), .size = FSIZE(f), .names = nm, \
     .mlops = ml}
#define K_STR(p, f, chk, sec, ml)                                                                  \
    {.path = p, .type = CFG_T_STR, .off = offsetof(cfg_config, f), .size = FSIZE(f),               \
     .check = chk, .secret = sec, .mlops = ml}
#define K_LIST(p, f, cnt, chk, sec, ml)                                                            \
    {.path = p, .type = CFG_T_LIST, .off = offsetof(cfg_config, f), .size = FSIZE(f[0]),           \
     .count_off = offsetof(cfg_config, cnt), .max_items = FSIZE(f) / FSIZE(f[0]), .check = chk,    \
     .secret = sec, .mlops = ml}

#define MS 3600000u /* one hour in ms: ceiling of every timeout */

/* Order = print order; keys of one section (and sub-section) are contiguous. */
const cfg_key cfg_keys[] = {
    K_STR("server.host", server.host, check_host, false, NULL),
    K_UINT("server.port", server.port, 0, 65535, "MLOPS_PORT"),
    K_UINT("server.io_threads", server.io_threads, 1, 64, NULL),
    K_UINT("server.worker_threads", server.worker_threads, 0, 256, NULL),
    K_UINT("server.max_connections", server.max_connections, 1, 1000000, NULL),
    K_UINT("server.read_timeout_ms", server.read_timeout_ms, 1, MS, NULL),
    K_UINT("server.write_timeout_ms", server.write_timeout_ms, 1, MS, NULL),
    K_UINT("server.idle_timeout_ms", server.idle_timeout_ms, 1, MS, NULL),
    K_UINT("server.drain_timeout_ms", server.drain_timeout_ms, 0, MS, NULL),

    K_STR("model.path", model.path, check_nonempty, false, "MLOPS_MODEL_PATH"),
    K_STR("model.name", model.name, check_printable, false, NULL),
    K_ENUM("model.dtype", model.dtype, dtype_names, NULL),
    K_UINT("model.max_seq_len", model.max_seq_len, 2, SENTI_MAX_SEQ, NULL),
    K_ENUM("model.overflow", model.overflow, overflow_names, NULL),
    K_BOOL("model.warmup", model.warmup, "MLOPS_WARMUP_ENABLED"),
    K_STR("model.isa", model.isa, check_isa, false, NULL),

    K_BOOL("batching.enabled", batching.enabled, NULL),
    K_UINT("batching.max_batch_size", batching.max_batch_size, 1, SENTI_MAX_BATCH, NULL),
    K_UINT("batching.max_batch_tokens", batching.max_batch_tokens, 2,
           (uint64_t)SENTI_MAX_BATCH * SENTI_MAX_SEQ, NULL),
    K_UINT("batching.max_queue_delay_us", batching.max_queue_delay_us, 0, 1000000, NULL),
    K_UINT("batching.queue_capacity", batching.queue_capacity, 1, 1000000, NULL),

    K_STR("api.prefix", api.prefix, check_prefix, false, NULL),
    K_LIST("api.cors.allowed_origins", api.cors.allowed_origins, api.cors.n_allowed_origins,
           check_origin, false, NULL),

    K_ENUM("auth.mode", auth.mode, auth_mode_names, NULL),
    K_LIST("auth.api_keys", auth.api_keys, auth.n_api_keys, check_api_key, true, "MLOPS_API_KEY"),
    K_STR("auth.jwt.secret", auth.jwt.secret, check_secret_text, true, NULL),
    K_STR("auth.jwt.issuer", auth.jwt.issuer, check_printable, false, NULL),
    K_STR("auth.jwt.audience", auth.jwt.audience, check_printable, false, NULL),
    K_UINT("auth.jwt.leeway_seconds", auth.jwt.leeway_seconds, 0, 3600, NULL),

    K_BOOL("rate_limit.enabled", rate_limit.enabled, NULL),
    K_UINT("rate_limit.requests_per_minute", rate_limit.requests_per_minute, 1, 10000000, NULL),
    K_UINT("rate_limit.burst", rate_limit.burst, 1, 10000000, NULL),
    K_ENUM("rate_limit.key_by", rate_limit.key_by, rate_key_names, NULL),

    K_BOOL("cache.enabled", cache.enabled, NULL),
    K_UINT("cache.max_entries", cache.max_entries, 1, 100000000, NULL),
    K_UINT("cache.ttl_seconds", cache.ttl_seconds, 1, 31536000, NULL),

    K_UINT("limits.max_body_bytes", limits.max_body_bytes, 1, SENTI_MAX_BODY_BYTES, NULL),
    K_UINT("limits.max_texts_per_request", limits.max_texts_per_request, 1,
           SENTI_MAX_TEXTS_PER_REQUEST, NULL),
    K_UINT("limits.max_text_chars", limits.max_text_chars, 1, SENTI_MAX_TEXT_BYTES, NULL),

    K_ENUM("logging.level", logging.level, log_level_names, "MLOPS_LOG_LEVEL"),
    K_BOOL("logging.json", logging.json, NULL),

    K_BOOL("metrics.enabled", metrics.enabled, "MLOPS_ENABLE_METRICS"),
};
const size_t cfg_nkeys = sizeof cfg_keys / sizeof cfg_keys[0];
static_assert(sizeof cfg_keys / sizeof cfg_keys[0] <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX");

/* Same values as cfg/base.yaml (a test checks they agree). */
void cfg_defaults(cfg_config *c)
{
    snprintf(c->env, sizeof c->env, "dev");
    snprintf(c->server.host, sizeof c->server.host, "127.0.0.1");
    c->server.port = 8080;
    c->server.io_threads = 2;
    c->server.worker_threads = 0;
    c->server.max_connections = 1024;
    c->server.read_timeout_ms = 30000;
    c->server.write_timeout_ms = 30000;
    c->server.idle_timeout_ms = 60000;
    c->server.drain_timeout_ms = 10000;

    snprintf(c->model.path, sizeof c->model.path, "models/default.senti");
    snprintf(c->model.name, sizeof c->model.name, "default");
    c->model.dtype = CFG_DTYPE_AUTO;
    c->model.max_seq_len = SENTI_MAX_SEQ;
    c->model.overflow = CFG_OVERFLOW_TRUNCATE;
    c->model.warmup = false;
    snprintf(c->model.isa, sizeof c->model.isa, "auto");

    c->batching.enabled = true;
    c->batching.max_batch_size = 32;
    c->batching.max_batch_tokens = 8192;
    c->batching.max_queue_delay_us = 2000;
    c->batching.queue_capacity = 1024;

    c->auth.mode = CFG_AUTH_MODE_NONE;
    c->auth.jwt.leeway_seconds = 30;

    c->rate_limit.enabled = false;
    c->rate_limit.requests_per_minute = 100;
    c->rate_limit.burst = 100;
    c->rate_limit.key_by = CFG_RATE_KEY_CLIENT_ADDRESS;

    c->cache.enabled = false;
    c->cache.max_entries = 10000;
    c->cache.ttl_seconds = 3600;

    c->limits.max_body_bytes = 1u << 20;
    c->limits.max_texts_per_request = 64;
    c->limits.max_text_chars = 10000;

    c->logging.level = CFG_LOG_LEVEL_INFO;
    c->logging.json = false;
    c->metrics.enabled = true;
}

/* --- lookups and messages ------------------------------------------------- */
int cfg_key_index(const char *path)
{
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (strcmp(cfg_keys[i].path, path) == 0) return (int)i;
    return -1;
}

void cfg_key_env_name(size_t i, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "SENTI_%s", cfg_keys[i].path);
    for (int j = 6; j < n && (size_t)j < cap; j++)
        buf[j] = buf[j] == '.' ? '_' : (char)toupper((unsigned char)buf[j]);
}

const char *cfg_secret_sources(size_t i)
{
    if (strcmp(cfg_keys[i].path, "auth.api_keys") == 0)
        return "SENTI_AUTH_API_KEYS, SENTI_AUTH_API_KEYS_FILE, MLOPS_API_KEY or MLOPS_API_KEY_FILE";
    return "SENTI_AUTH_JWT_SECRET or SENTI_AUTH_JWT_SECRET_FILE";
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 99;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
                                        tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *cfg_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3; /* accept distance <= 2, and only if the word is not tiny */
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < best_d && d < strlen(cands[i])) best = cands[i], best_d = d;
    }
    return best;
}

void cfg_quote(char *buf, size_t cap, const char *s)
{
    size_t o = 0, shown = 0;
    if (cap < 8) {
        if (cap) buf[0] = '\0';
        return;
    }
    buf[o++] = '"';
    for (; *s && o + 8 < cap; s++, shown++) {
        unsigned char ch = (unsigned char)*s;
        if (shown == 64) break;
        if (ch == '"' || ch == '\\') buf[o++] = '\\', buf[o++] = (char)ch;
        else if (ch < ' ' || ch == 0x7f) o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
        else buf[o++] = (char)ch;
    }
    if (*s) buf[o++] = '.', buf[o++] = '.', buf[o++] = '.';
    buf[o++] = '"';
    buf[o] = '\0';
}

bool cfg_streq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

void cfg_set_origin(cfg_config *c, size_t i, const char *fmt, ...)
{
    if (!c->meta_ || i >= CFG_KEYS_MAX) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->meta_->origin[i], CFG_ORIGIN_TEXT, fmt, ap);
    va_end(ap);
}

const char *cfg_origin(const cfg_config *c, const char *path)
{
    int i = c ? cfg_key_index(path) : -1;
    if (i < 0) return NULL;
    if (!c->meta_ || !c->meta_->origin[i][0]) return "default";
    return c->meta_->origin[i];
}

/* --- parsing one value ---------------------------------------------------- */
static bool parse_bool(const char *s, bool *v)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (cfg_streq_nocase(s, yes[i])) return *v = true, true;
        if (cfg_streq_nocase(s, no[i])) return *v = false, true;
    }
    return false;
}

static bool parse_enum(const char *const *names, const char *s, int *v)
{
    for (int i = 0; names[i]; i++) {
        const char *p = names[i];
        for (;;) {
            const char *bar = strchr(p, '|');
            size_t n = bar ? (size_t)(bar - p) : strlen(p);
            if (strlen(s) == n && strncasecmp(s, p, n) == 0) return *v = i, true;
            if (!bar) break;
            p = bar + 1;
        }
    }
    return false;
}

static void enum_list(const char *const *names, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && o < cap; i++) {
        char tmp[64];
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "",
                              enum_main(names, i, tmp, sizeof tmp));
    }
}

/* Decimal only; "-5" and overflow are reported as range errors. */
static senti_status parse_uint(const cfg_key *k, const char *s, uint64_t *v, char *why, size_t cap)
{
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    bool digits = *p != '\0';
    for (const char *q = p; *q; q++) digits = digits && isdigit((unsigned char)*q);
    char q[96];
    if (!digits) {
        cfg_quote(q, sizeof q, s);
        snprintf(why, cap, "must be an integer (got %s)", q);
        return SENTI_E_CONFIG;
    }
    errno = 0;
    unsigned long long x = strtoull(p, NULL, 10);
    if (neg || errno == ERANGE || x < k->min || x > k->max) {
        snprintf(why, cap, "must be in %llu..%llu (got %.40s)", (unsigned long long)k->min,
                 (unsigned long long)k->max, s);
        return SENTI_E_CONFIG;
    }
    *v = x;
    return SENTI_OK;
}

static void store_uint(void *field, size_t size, uint64_t v)
{
    if (size == 2) {
        uint16_t x = (uint16_t)v;
        memcpy(field, &x, 2);
    } else if (size == 4) {
        uint32_t x = (uint32_t)v;
        memcpy(field, &x, 4);
    } else {
        memcpy(field, &v, 8);
    }
}

static uint64_t load_uint(const void *field, size_t size)
{
    if (size == 2) {
        uint16_t x;
        memcpy(&x, field, 2);
        return x;
    }
    if (size == 4) {
        uint32_t x;
        memcpy(&x, field, 4);
        return x;
    }
    uint64_t x;
    memcpy(&x, field, 8);
    return x;
}

static bool check_string(const cfg_key *k, const char *s, char *why, size_t cap)
{
    size_t n = strlen(s);
    if (n >= k->size) {
        snprintf(why, cap, "must be at most %zu bytes (got %zu)", k->size - 1, n);
        return false;
    }
    return !k->check || k->check(s, why, cap);
}

senti_status cfg_key_set_list(cfg_config *c, size_t i, const char *const *items, size_t n,
                              size_t *bad_item, char *why, size_t cap)
{
    const cfg_key *k = &cfg_keys[i];
    *bad_item = SIZE_MAX;
    if (n > k->max_items) {
        snprintf(why, cap, "must have at most %zu items (got %zu)", k->max_items, n);
        return SENTI_E_CONFIG;
    }
    for (size_t j = 0; j < n; j++) {
        char sub[CFG_WHY_MAX];
        if (!*items[j]) snprintf(sub, sizeof sub, "must not be empty");
        if (!*items[j] || !check_string(k, items[j], sub, sizeof sub)) {
            snprintf(why, cap, "item %zu: %s", j + 1, sub);
            *bad_item = j;
            return SENTI_E_CONFIG;
        }
        if (k->check == check_origin && strcmp(items[j], "*") == 0 && n > 1) {
            snprintf(why, cap, "item %zu: \"*\" must be the only entry", j + 1);
            *bad_item = j;
            return SENTI_E_CONFIG;
        }
    }
    char *base = (char *)c + k->off;
    for (size_t j = 0; j < k->max_items; j++) {
        char *dst = base + j * k->size;
        explicit_bzero(dst, k->size);
        if (j < n) memcpy(dst, items[j], strlen(items[j]));
    }
    memcpy((char *)c + k->count_off, &n, sizeof n);
    return SENTI_OK;
}

static bool is_sep(char ch) { return ch == ',' || ch == '\n' || ch == '\r'; }

senti_status cfg_key_set_text(cfg_config *c, size_t i, const char *text, char *why, size_t cap)
{
    const cfg_key *k = &cfg_keys[i];
    void *field = (char *)c + k->off;
    char q[96];
    switch (k->type) {
    case CFG_T_BOOL: {
        bool b;
        if (!parse_bool(text, &b)) {
            cfg_quote(q, sizeof q, text);
            snprintf(why, cap, "must be true or false (got %s)", q);
            return SENTI_E_CONFIG;
        }
        memcpy(field, &b, sizeof b);
        return SENTI_OK;
    }
    case CFG_T_UINT: {
        uint64_t v;
        senti_status st = parse_uint(k, text, &v, why, cap);
        if (st == SENTI_OK) store_uint(field, k->size, v);
        return st;
    }
    case CFG_T_ENUM: {
        int v;
        if (!parse_enum(k->names, text, &v)) {
            char list[160];
            enum_list(k->names, list, sizeof list);
            cfg_quote(q, sizeof q, text);
            snprintf(why, cap, "must be one of %s (got %s)", list, q);
            return SENTI_E_CONFIG;
        }
        memcpy(field, &v, sizeof v);
        return SENTI_OK;
    }
    case CFG_T_STR:
        if (!check_string(k, text, why, cap)) return SENTI_E_CONFIG;
        explicit_bzero(field, k->size);
        memcpy(field, text, strlen(text));
        return SENTI_OK;
    case CFG_T_LIST: {
        /* Split a copy on ',' and newlines, trimming blanks; empty items are skipped. */
        size_t len = strlen(text), n = 0;
        char *buf = senti_malloc(len + 1);
        const char **items = senti_calloc(len / 2 + 2, sizeof *items);
        senti_status st = SENTI_E_NOMEM;
        if (!buf || !items) {
            snprintf(why, cap, "out of memory");
            goto done;
        }
        memcpy(buf, text, len + 1);
        for (char *p = buf; *p;) {
            char *end = p;
            while (*end && !is_sep(*end)) end++;
            char next = *end;
            *end = '\0';
            while (*p == ' ' || *p == '\t') p++;
            char *t = p + strlen(p);
            while (t > p && (t[-1] == ' ' || t[-1] == '\t')) *--t = '\0';
            if (*p) items[n++] = p;
            p = next ? end + 1 : end;
        }
        size_t bad;
        st = cfg_key_set_list(c, i, items, n, &bad, why, cap);
    done:
        if (buf) explicit_bzero(buf, len + 1);
        senti_free(buf);
        senti_free(items);
        return st;
    }
    }
    snprintf(why, cap, "unknown key type");
    return SENTI_E_INTERNAL;
}

bool cfg_key_check_value(const cfg_config *c, size_t i, char *why, size_t cap)
{
    const cfg_key *k = &cfg_keys[i];
    const char *field = (const char *)c + k->off;
    switch (k->type) {
    case CFG_T_BOOL: return true;
    case CFG_T_UINT: {
        uint64_t v = load_uint(field, k->size);
        if (v >= k->min && v <= k->max) return true;
        snprintf(why, cap, "must be in %llu..%llu (got %llu)", (unsigned long long)k->min,
                 (unsigned long long)k->max, (unsigned long long)v);
        return false;
    }
    case CFG_T_ENUM: {
        int v, n = 0;
        memcpy(&v, field, sizeof v);
        while (k->names[n]) n++;
        if (v >= 0 && v < n) return true;
        snprintf(why, cap, "invalid enum value %d", v);
        return false;
    }
    case CFG_T_STR:
        if (!memchr(field, '\0', k->size)) {
            snprintf(why, cap, "is not NUL-terminated");
            return false;
        }
        return check_string(k, field, why, cap);
    case CFG_T_LIST: {
        size_t n;
        memcpy(&n, (const char *)c + k->count_off, sizeof n);
        if (n > k->max_items) {
            snprintf(why, cap, "must have at most %zu items (got %zu)", k->max_items, n);
            return false;
        }
        for (size_t j = 0; j < n; j++) {
            const char *item = field + j * k->size;
            char sub[CFG_WHY_MAX] = "must not be empty";
            if (!memchr(item, '\0', k->size) || !*item || !check_string(k, item, sub, sizeof sub)) {
                snprintf(why, cap, "item %zu: %s", j + 1, sub);
                return false;
            }
        }
        return true;
    }
    }
    return false;
}

bool cfg_key_has_secret(const cfg_config *c, size_t i)
{
    const cfg_key *k = &cfg_keys[i];
    if (!k->secret) return false;
    if (k->type == CFG_T_LIST) {
        size_t n;
        memcpy(&n, (const char *)c + k->count_off, sizeof n);
        return n > 0;
    }
    return ((const char *)c + k->off)[0] != '\0';
}

/* --- public cfg_set ------------------------------------------------------- */
static void unknown_key(const char *path, senti_err *err)
{
    const char *cands[CFG_KEYS_MAX];
    for (size_t i = 0; i < cfg_nkeys; i++) cands[i] = cfg_keys[i].path;
    const char *s = cfg_suggest(path, cands, cfg_nkeys);
    char q[96];
    cfg_quote(q, sizeof q, path);
    if (s) senti_fail(err, SENTI_E_CONFIG, "cfg: unknown key %s (did you mean %s?)", q, s);
    else senti_fail(err, SENTI_E_CONFIG, "cfg: unknown key %s", q);
}

senti_status cfg_set(cfg_config *c, const char *path, const char *value, senti_err *err)
{
    if (!c || !path || !value)
        return senti_fail(err, SENTI_E_INVALID, "cfg: cfg_set: NULL argument");
    int i = cfg_key_index(path);
    if (i < 0) {
        unknown_key(path, err);
        return SENTI_E_CONFIG;
    }
    char why[CFG_WHY_MAX];
    senti_status st = cfg_key_set_text(c, (size_t)i, value, why, sizeof why);
    if (st != SENTI_OK) return senti_fail(err, st, "cfg: %s: %s", path, why);
    cfg_set_origin(c, (size_t)i, "flag");
    return SENTI_OK;
}
