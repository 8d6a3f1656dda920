/* net/net_internal.h - the HTTP service's pure building blocks, shared by the
 * files of net/ and by tests/net/. Nothing here touches sockets or threads,
 * except where a comment says so; every clock is passed in by the caller, so
 * tests control time.
 */
#ifndef SENTI_NET_INTERNAL_H
#define SENTI_NET_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/status.h"

/* --- growable string (buf.c) ------------------------------------------------ */
typedef struct net_sb {
    char *p;    /* NUL-terminated while non-NULL */
    size_t len, cap;
    bool oom;   /* an append failed; content is incomplete */
} net_sb;

void net_sb_free(net_sb *b);
bool net_sb_append(net_sb *b, const char *s, size_t n);
bool net_sb_puts(net_sb *b, const char *s);
bool net_sb_printf(net_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- error codes (api.c) ----------------------------------------------------- */
/* Stable: the string is the "error_code" clients see. Append-only. */
#define NET_ERR_MAP(XX)                                                                 \
    XX(NET_ERR_NONE, 200, "none")                                                       \
    XX(NET_ERR_MALFORMED_JSON, 400, "malformed_json")                                   \
    XX(NET_ERR_UNAUTHORIZED, 401, "unauthorized")                                       \
    XX(NET_ERR_FORBIDDEN, 403, "forbidden")                                             \
    XX(NET_ERR_NOT_FOUND, 404, "not_found")                                             \
    XX(NET_ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed")                           \
    XX(NET_ERR_BODY_TOO_LARGE, 413, "body_too_large")                                   \
    XX(NET_ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type")                   \
    XX(NET_ERR_MISSING_FIELD, 422, "missing_field")                                     \
    XX(NET_ERR_INVALID_TYPE, 422, "invalid_type")                                       \
    XX(NET_ERR_EMPTY_TEXT, 422, "empty_text")                                           \
    XX(NET_ERR_TOO_MANY_TEXTS, 422, "too_many_texts")                                   \
    XX(NET_ERR_TEXT_TOO_LONG, 422, "text_too_long")                                     \
    XX(NET_ERR_INVALID_UTF8, 422, "invalid_utf8")                                       \
    XX(NET_ERR_RATE_LIMITED, 429, "rate_limited")                                       \
    XX(NET_ERR_INTERNAL, 500, "internal_error")                                         \
    XX(NET_ERR_NOT_READY, 503, "not_ready")                                             \
    XX(NET_ERR_OVERLOADED, 503, "overloaded")                                           \
    XX(NET_ERR_TIMEOUT, 504, "timeout")

typedef enum net_err {
#define NET_ERR_ENUM_(name, status, code) name,
    NET_ERR_MAP(NET_ERR_ENUM_)
#undef NET_ERR_ENUM_
        NET_ERR_COUNT_
} net_err;

int net_err_status(net_err e);      /* HTTP status */
const char *net_err_code(net_err e); /* "malformed_json" */

/* {"error_code":..,"error_message":..,"correlation_id":..}; malloc'd, NULL on OOM. */
char *net_api_render_error(net_err e, const char *message, const char *correlation_id);

/* --- UTF-8 (api.c) ------------------------------------------------------------ */
/* Strict UTF-8 (no overlongs, surrogates or > U+10FFFF). Returns true if valid;
 * otherwise *bad_offset is the first bad byte. *chars gets the code point count. */
bool net_utf8_check(const char *s, size_t len, size_t *chars, size_t *bad_offset);
/* Byte length of the first max_chars code points of valid UTF-8 s. */
size_t net_utf8_prefix(const char *s, size_t len, size_t max_chars);

/* --- request parsing (api.c) --------------------------------------------------- */
typedef enum net_route_kind { NET_ROUTE_PREDICT = 0, NET_ROUTE_PREDICT_BATCH = 1 } net_route_kind;
typedef enum net_api_shape { NET_SHAPE_NATIVE = 0, NET_SHAPE_TEI = 1 } net_api_shape;

typedef struct net_api_limits {
    uint32_t max_texts;      /* per request, <= SENTI_MAX_TEXTS_PER_REQUEST */
    uint32_t max_text_chars; /* code points per text */
    bool truncate;           /* default policy for long texts: true = cut, false = 422 */
} net_api_limits;

typedef struct net_api_request {
    net_api_shape shape;
    bool batch;          /* the reply is a list (native batch, or TEI "inputs": [...]) */
    bool raw_scores;     /* TEI: logits instead of probabilities */
    bool truncate;       /* effective policy (TEI "truncate" overrides the default) */
    uint32_t n;          /* texts */
    const char **texts;  /* borrowed from root; valid until net_api_request_free */
    size_t *lens;        /* bytes, after truncation to max_text_chars */
    uint32_t *chars;     /* code points of the original text */
    json_t *root;
} net_api_request;

typedef struct net_api_error {
    net_err code;
    char msg[256];
} net_api_error;

/* Parses and validates a request body. On failure returns false and fills e
 * (req is left empty). On success the caller calls net_api_request_free. */
bool net_api_parse(net_route_kind kind, const char *body, size_t len, const net_api_limits *lim,
                   net_api_request *req, net_api_error *e);
void net_api_request_free(net_api_request *req);

/* One prediction, as the worker produced it. */
typedef struct net_api_pred {
    uint32_t label;          /* argmax */
    uint32_t n_labels;
    float probs[SENTI_MAX_LABELS];
    float logits[SENTI_MAX_LABELS];
    bool cached;
    double inference_ms;     /* model time of the batch this text ran in (0 if cached) */
    uint32_t text_chars;
    char prediction_id[40];
} net_api_pred;

typedef struct net_api_info {
    const char *model_name;
    const char *backend;
    const char *const *labels; /* n_labels names */
} net_api_info;

/* Renders the reply for req's shape (malloc'd JSON, NULL on OOM). */
char *net_api_render_preds(const net_api_request *req, const net_api_pred *preds,
                           const net_api_info *info);

/* --- correlation ids (corrid.c) ---------------------------------------------- */
#define NET_CORR_ID_MAX 128
/* Copies in to out if it is 1..NET_CORR_ID_MAX characters of [A-Za-z0-9._:-];
 * returns false (out untouched) otherwise. in may be NULL. */
bool net_corr_id_sanitize(const char *in, char out[NET_CORR_ID_MAX + 1]);
/* A random UUIDv4 string (36 chars). Thread-safe. */
void net_uuid4(char out[37]);

/* --- JWT HS256 (jwt.c) -------------------------------------------------------- */
#define NET_JWT_MAX_LEEWAY_S 300 /* clock skew we tolerate at most */
#define NET_JWT_MAX_BYTES 8192   /* longer tokens are rejected before decoding */

typedef struct net_jwt_opts {
    const unsigned char *secret; /* borrowed */
    size_t secret_len;
    const char *issuer;   /* NULL/"" = not checked */
    const char *audience; /* NULL/"" = not checked */
    long leeway_s;        /* clamped to 0..NET_JWT_MAX_LEEWAY_S */
} net_jwt_opts;

#define NET_JWT_RESULT_MAP(XX)                                                          \
    XX(NET_JWT_OK, "ok")                                                                \
    XX(NET_JWT_MALFORMED, "token is malformed")                                         \
    XX(NET_JWT_BAD_ALG, "token algorithm is not HS256")                                 \
    XX(NET_JWT_BAD_SIGNATURE, "token signature is invalid")                             \
    XX(NET_JWT_MISSING_EXP, "token has no exp claim")                                   \
    XX(NET_JWT_EXPIRED, "token has expired")                                            \
    XX(NET_JWT_NOT_YET_VALID, "token is not valid yet (nbf)")                           \
    XX(NET_JWT_BAD_ISSUER, "token issuer is not accepted")                              \
    XX(NET_JWT_BAD_AUDIENCE, "token audience is not accepted")

typedef enum net_jwt_result {
#define NET_JWT_ENUM_(name, msg) name,
    NET_JWT_RESULT_MAP(NET_JWT_ENUM_)
#undef NET_JWT_ENUM_
} net_jwt_result;

const char *net_jwt_result_message(net_jwt_result r);
/* Verifies token (len bytes). exp is required; nbf, iss, aud checked as configured.
 * On success copies the "sub" claim (or "") into sub (subcap bytes). */
net_jwt_result net_jwt_verify_hs256(const char *token, size_t len, const net_jwt_opts *o,
                                    int64_t now, char *sub, size_t subcap);
/* Signs header.payload (both JSON text) with HS256; malloc'd token. For tests and tools. */
char *net_jwt_sign_hs256(const char *header_json, const char *payload_json,
                         const unsigned char *secret, size_t secret_len);
/* base64url without padding. Decode returns false on any invalid character. */
bool net_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                       size_t *out_len);
size_t net_b64url_encode(const unsigned char *in, size_t len, char *out, size_t cap);

/* --- authentication (auth.c) ------------------------------------------------- */
typedef enum net_auth_mode { NET_AUTH_NONE = 0, NET_AUTH_API_KEY = 1, NET_AUTH_JWT = 2 } net_auth_mode;
typedef struct net_auth net_auth;

/* Copies keys (stored as SHA-256 digests) and the JWT secret. In jwt mode, API keys
 * (if any) are accepted too. */
senti_status net_auth_create(net_auth_mode mode, const char *const *api_keys, size_t n_keys,
                             const net_jwt_opts *jwt, net_auth **out, senti_err *err);
void net_auth_free(net_auth *a);
net_auth_mode net_auth_get_mode(const net_auth *a);
/* Checks a request's credentials (header values may be NULL). On success returns
 * NET_ERR_NONE and writes a principal for rate limiting ("key:<8 hex of the key's
 * digest>", "jwt:<sub>", or "" in mode none) - never the secret itself. Otherwise
 * NET_ERR_UNAUTHORIZED or NET_ERR_FORBIDDEN with a message in msg. */
net_err net_auth_check(const net_auth *a, const char *x_api_key, const char *authorization,
                       int64_t now, char *principal, size_t pcap, char *msg, size_t mcap);
/* Constant-time comparison of key against every configured key. */
bool net_auth_api_key_ok(const net_auth *a, const char *key, size_t len);

/* --- LRU map with byte keys (lru.c) ------------------------------------------- */
typedef struct net_lru net_lru;
/* capacity entries of value_size bytes each, allocated up front. */
net_lru *net_lru_create(uint32_t capacity, size_t value_size);
void net_lru_free(net_lru *l);
/* Value of key, moved to most-recent; NULL if absent. */
void *net_lru_get(net_lru *l, const void *key, size_t klen);
/* Value slot for key (existing, or new and zeroed; the least recent entry is dropped
 * when full). NULL only on OOM (key copy). */
void *net_lru_put(net_lru *l, const void *key, size_t klen, bool *created);
void net_lru_remove(net_lru *l, const void *key, size_t klen);
uint32_t net_lru_count(const net_lru *l);

/* --- token-bucket rate limiter (ratelimit.c) -------------------------------- */
typedef struct net_ratelimit net_ratelimit;
/* per_minute > 0 refill rate, burst >= 1 bucket size, max_clients tracked (LRU). */
net_ratelimit *net_ratelimit_create(double per_minute, uint32_t burst, uint32_t max_clients);
void net_ratelimit_free(net_ratelimit *r);
/* Takes one token for client at time now (seconds, monotonic). Returns true if
 * allowed; otherwise *retry_after_s gets the whole seconds (>= 1) until a token. */
bool net_ratelimit_take(net_ratelimit *r, const char *client, double now, uint32_t *retry_after_s);

/* --- prediction cache (cache.c) --------------------------------------------- */
typedef struct net_cache net_cache;
/* Not thread-safe: the server uses it from the event loop only. */
net_cache *net_cache_create(uint32_t capacity, double ttl_s, const char *model_checksum);
void net_cache_free(net_cache *c);
/* Looks up the prediction for ids; true and *out filled (cached=true) on a fresh hit. */
bool net_cache_get(net_cache *c, const int32_t *ids, uint32_t n, double now, net_api_pred *out);
void net_cache_put(net_cache *c, const int32_t *ids, uint32_t n, double now,
                   const net_api_pred *pred);
uint32_t net_cache_count(const net_cache *c);

/* --- metrics (metrics.c) ------------------------------------------------------ */
/* Thread-safe (one mutex per registry). Label values are copied. */
typedef enum net_metric_type {
    NET_METRIC_COUNTER = 0,
    NET_METRIC_GAUGE = 1,
    NET_METRIC_HISTOGRAM = 2,
} net_metric_type;
#define NET_METRIC_MAX_LABELS 3
#define NET_METRIC_MAX_BUCKETS 32

typedef struct net_metrics net_metrics;
typedef struct net_metric net_metric;

net_metrics *net_metrics_create(void);
void net_metrics_free(net_metrics *m);
/* Registers a family. label_names: n_labels names; buckets: ascending upper bounds
 * (histograms only; +Inf is implicit). Returns NULL on bad arguments or OOM. */
net_metric *net_metrics_add(net_metrics *m, net_metric_type type, const char *name,
                            const char *help, uint32_t n_labels, const char *const *label_names,
                            const double *buckets, uint32_t n_buckets);
/* label_values: n_labels strings (NULL if none). */
void net_metric_inc(net_metric *f, const char *const *label_values, double v);
void net_metric_set(net_metric *f, const char *const *label_values, double v);
void net_metric_observe(net_metric *f, const char *const *label_values, double v);
/* Value of a counter/gauge series (0 if absent), or a histogram's count. For tests. */
double net_metric_value(net_metric *f, const char *const *label_values);
/* Prometheus text exposition format 0.0.4. */
bool net_metrics_render(net_metrics *m, net_sb *out);

/* --- process statistics (procstat.c) ------------------------------------------ */
typedef struct net_procstat {
    double rss_bytes, cpu_seconds, open_fds, start_time_s;
} net_procstat;
void net_procstat_read(net_procstat *out);

/* --- worker pool and batching queue (worker.c) ------------------------------ */
/* Threads: submit and depth from any thread; the done callback runs on a worker
 * thread (or in net_pool_free for jobs that never ran) and must only hand the
 * job over (e.g. to the event loop). */
struct net_backend;

typedef struct net_item {
    const int32_t *ids; /* borrowed from the job owner until done */
    uint32_t n;
    net_api_pred *out;  /* filled by the worker: label, probs, logits, inference_ms */
    struct net_job *job; /* set by net_pool_submit */
} net_item;

typedef struct net_job {
    net_item *items;
    uint32_t n_items;
    double enqueued;        /* monotonic seconds, set by net_pool_submit */
    senti_status status;    /* SENTI_OK, or the first failure of one of its batches */
    char errmsg[160];
    bool cancelled;         /* the pool stopped before running it */
    void *user;
    /* pool bookkeeping */
    uint32_t next_item, pending;
    struct net_job *next;
} net_job;

typedef struct net_pool_opts {
    uint32_t workers;          /* >= 1 */
    uint32_t max_batch;        /* sequences per forward, 1..SENTI_MAX_BATCH */
    uint32_t max_batch_tokens; /* sum of lens per forward, >= max_seq */
    uint32_t max_seq;
    uint32_t max_delay_us;     /* longest wait for a held burst (net_pool_hold); 0 = never wait */
    uint32_t capacity;         /* queued texts before submit refuses */
    uint32_t n_labels;
    const int32_t *warmup_ids; /* run once per worker before it takes work; NULL = no warm-up */
    uint32_t warmup_n;
} net_pool_opts;

typedef struct net_pool net_pool;
typedef void (*net_pool_done_fn)(net_job *job, void *user);
/* Observer called by a worker after each forward: texts in the batch and seconds spent. */
typedef void (*net_pool_batch_fn)(uint32_t n, double seconds, void *user);

senti_status net_pool_create(const struct net_backend *b, const net_pool_opts *o,
                             net_pool_done_fn done, net_pool_batch_fn on_batch, void *user,
                             net_pool **out, senti_err *err);
/* Queues every item of job (job->n_items >= 1); false if that would exceed the
 * capacity or the pool is stopping. The pool borrows job until done(). */
bool net_pool_submit(net_pool *p, net_job *job);
/* Burst hint from the submitter (event loop): between hold and release, submit
 * does not wake the workers and a free worker with a part-full batch waits (at
 * most max_delay_us after the oldest queued job) for the rest of the burst.
 * Release wakes them all. Without a hold, workers take what is queued at once. */
void net_pool_hold(net_pool *p);
void net_pool_release(net_pool *p);
uint32_t net_pool_depth(net_pool *p);
/* Workers that finished their warm-up (== workers when warm). */
uint32_t net_pool_warm(net_pool *p);
/* Workers whose warm-up or state creation failed. */
uint32_t net_pool_failed(net_pool *p);
/* Stops the workers after their current batch; queued jobs get done() with cancelled. */
void net_pool_free(net_pool *p);

/* Monotonic seconds. */
double net_now(void);

#endif
