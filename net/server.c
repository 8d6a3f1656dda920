/* net/server.c - the server's life cycle (bind, workers, signals, drain),
 * routing, authentication, rate limiting, CORS, probes, /model-info, /metrics,
 * and the reply/log path every route shares. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "net/server_internal.h"

#ifndef SENTI_VERSION
#define SENTI_VERSION "0.0.0"
#endif
#ifndef SENTI_COMMIT
#define SENTI_COMMIT "unknown"
#endif

/* Rate-limit buckets tracked at once (LRU beyond that; see ratelimit.c). */
#define NET_RATE_CLIENTS 65536
/* How often the drain checks for in-flight work. */
#define NET_DRAIN_POLL_MS 20

bool net_server_ready(const net_server *s)
{
    return !s->draining && net_pool_warm(s->pool) == s->workers && net_pool_failed(s->pool) == 0;
}

uint16_t net_server_port(const net_server *s) { return s->port; }

/* --- replies and logs ------------------------------------------------------- */

static const char *origin_allowed(const net_server *s, const char *origin)
{
    if (!origin) return NULL;
    const cfg_cors *c = &s->cfg->api.cors;
    for (size_t i = 0; i < c->n_allowed_origins; i++) {
        if (!strcmp(c->allowed_origins[i], "*")) return "*";
        if (!strcmp(c->allowed_origins[i], origin)) return origin;
    }
    return NULL;
}

void net_reply_headers(net_server *s, struct evhttp_request *req, const char *corr)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", "application/json");
    evhttp_add_header(out, "X-Correlation-ID", corr);
    evhttp_add_header(out, "Cache-Control", "no-store");
    const char *allow =
        origin_allowed(s, evhttp_find_header(evhttp_request_get_input_headers(req), "Origin"));
    if (allow) {
        evhttp_add_header(out, "Access-Control-Allow-Origin", allow);
        evhttp_add_header(out, "Access-Control-Expose-Headers",
                          "X-Correlation-ID, X-Inference-Time-MS, Retry-After");
    }
    if (s->cfg->api.cors.n_allowed_origins) evhttp_add_header(out, "Vary", "Origin");
    if (s->draining) evhttp_add_header(out, "Connection", "close");
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
    }
}

static void client_addr(struct evhttp_request *req, char *buf, size_t cap)
{
    struct evhttp_connection *c = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;
    if (c) evhttp_connection_get_peer(c, &addr, &port);
    snprintf(buf, cap, "%s", addr ? addr : "unknown");
}

void net_reply(net_server *s, struct evhttp_request *req, const char *route, const char *corr,
               double t0, int status, char *body, const char *extra_log)
{
    if (!body) {
        status = 500;
        body = net_api_render_error(NET_ERR_INTERNAL, "out of memory", corr);
    }
    net_reply_headers(s, req, corr);
    net_conn_request_end(s, req);
    struct evbuffer *buf = evbuffer_new();
    if (buf && body) {
        evbuffer_add(buf, body, strlen(body));
        evbuffer_add(buf, "\n", 1);
    }
    evhttp_send_reply(req, status, reason(status), buf);
    if (buf) evbuffer_free(buf);
    free(body); /* jansson's json_dumps allocates with malloc */

    double secs = net_now() - t0;
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    const char *lv[] = {route, st};
    net_metric_inc(s->m.requests, lv, 1);
    net_metric_observe(s->m.req_latency, lv, secs);
    char peer[64];
    client_addr(req, peer, sizeof peer);
    senti_log_level level = status >= 500 ? SENTI_LOG_ERROR : SENTI_LOG_INFO;
    /* probes are polled constantly: keep them at debug unless they fail */
    if (status < 400 && route[0] == '/' && (!strcmp(route, "/healthz") || !strcmp(route, "/readyz") ||
                                            !strcmp(route, "/metrics")))
        level = SENTI_LOG_DEBUG;
    senti_log(level, "request", SLOG_S("correlation_id", corr), SLOG_S("route", route),
              SLOG_I("status", status), SLOG_D("latency_ms", secs * 1e3), SLOG_S("client", peer),
              SLOG_S("detail", extra_log ? extra_log : ""));
}

void net_reply_error(net_server *s, struct evhttp_request *req, const char *route,
                     const char *corr, double t0, net_err e, const char *msg)
{
    net_reply(s, req, route, corr, t0, net_err_status(e), net_api_render_error(e, msg, corr),
              net_err_code(e));
}

static char *dump(json_t *o)
{
    if (!o) return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    return s;
}

/* --- probes, model info, metrics ------------------------------------------- */

static void reply_text(net_server *s, struct evhttp_request *req, const char *route,
                       const char *corr, double t0, int status, const char *text)
{
    json_t *o = json_pack("{s:s}", "status", text);
    net_reply(s, req, route, corr, t0, status, dump(o), NULL);
}

static void handle_health(net_server *s, struct evhttp_request *req, const char *route,
                          const char *corr, double t0)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:f}", "status", "ok", "version", SENTI_VERSION, "commit",
                          SENTI_COMMIT, "uptime_s", net_now() - s->started_at);
    net_reply(s, req, route, corr, t0, 200, dump(o), NULL);
}

static void handle_ready(net_server *s, struct evhttp_request *req, const char *route,
                         const char *corr, double t0)
{
    bool ready = net_server_ready(s);
    bool warm = net_pool_warm(s->pool) == s->workers;
    json_t *o = json_pack("{s:s,s:b,s:b,s:b,s:b,s:i,s:i}", "status", ready ? "ready" : "not_ready",
                          "ready", ready, "model_loaded", 1, "warmed_up", warm, "draining",
                          s->draining, "queue_depth", (json_int_t)net_pool_depth(s->pool),
                          "in_flight", (json_int_t)s->in_flight);
    if (!ready) evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    net_reply(s, req, route, corr, t0, ready ? 200 : 503, dump(o), NULL);
}

static void handle_model_info(net_server *s, struct evhttp_request *req, const char *route,
                              const char *corr, double t0)
{
    const net_model_info *i = s->info;
    json_t *labels = json_array();
    for (uint32_t k = 0; k < i->n_labels; k++) json_array_append_new(labels, json_string(i->labels[k]));
    const cfg_batching *b = &s->cfg->batching;
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i},s:i,s:o,s:s,s:s,s:f,s:i,s:s,s:{s:b,s:i,s:i,"
        "s:i},s:s,s:s}",
        "name", i->name, "path", i->path, "architecture", i->architecture, "config", "dim",
        (json_int_t)i->dim, "n_layers", (json_int_t)i->n_layers, "n_heads", (json_int_t)i->n_heads,
        "hidden_dim", (json_int_t)i->hidden_dim, "vocab_size", (json_int_t)i->vocab_size,
        "max_position_embeddings", (json_int_t)i->max_positions, "num_labels",
        (json_int_t)i->n_labels, "max_seq_len", (json_int_t)i->max_seq, "labels", labels, "dtype",
        i->dtype, "checksum", i->checksum, "load_time_ms", i->load_time_ms, "threads",
        (json_int_t)s->workers, "backend", i->backend, "batching", "enabled", b->enabled,
        "max_batch_size", (json_int_t)b->max_batch_size, "max_batch_tokens",
        (json_int_t)b->max_batch_tokens, "max_queue_delay_us", (json_int_t)b->max_queue_delay_us,
        "version", SENTI_VERSION, "commit", SENTI_COMMIT);
    net_reply(s, req, route, corr, t0, 200, dump(o), NULL);
}

static void handle_metrics(net_server *s, struct evhttp_request *req, const char *route,
                           const char *corr, double t0)
{
    net_procstat ps;
    net_procstat_read(&ps);
    net_metric_set(s->m.rss, NULL, ps.rss_bytes);
    net_metric_set(s->m.cpu, NULL, ps.cpu_seconds);
    net_metric_set(s->m.fds, NULL, ps.open_fds);
    net_metric_set(s->m.start_time, NULL, ps.start_time_s);
    net_metric_set(s->m.queue_depth, NULL, net_pool_depth(s->pool));
    net_metric_set(s->m.ready, NULL, net_server_ready(s) ? 1 : 0);
    net_sb out = {0};
    if (!net_metrics_render(s->m.reg, &out)) {
        net_sb_free(&out);
        net_reply_error(s, req, route, corr, t0, NET_ERR_INTERNAL, "out of memory");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evhttp_add_header(h, "X-Correlation-ID", corr);
    if (s->draining) evhttp_add_header(h, "Connection", "close");
    net_conn_request_end(s, req);
    struct evbuffer *buf = evbuffer_new();
    if (buf) evbuffer_add(buf, out.p, out.len);
    evhttp_send_reply(req, 200, "OK", buf);
    if (buf) evbuffer_free(buf);
    net_sb_free(&out);
    const char *lv[] = {route, "200"};
    net_metric_inc(s->m.requests, lv, 1);
    net_metric_observe(s->m.req_latency, lv, net_now() - t0);
}

/* --- routing --------------------------------------------------------------- */

typedef enum route_id {
    ROUTE_NONE,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_HEALTH,
    ROUTE_READY,
    ROUTE_METRICS,
    ROUTE_PREDICT,
    ROUTE_BATCH,
    ROUTE_INFO,
} route_id;

static route_id match(const net_server *s, const char *path)
{
    if (!strcmp(path, "/healthz")) return ROUTE_HEALTHZ;
    if (!strcmp(path, "/readyz")) return ROUTE_READYZ;
    if (!strcmp(path, "/health")) return ROUTE_HEALTH;
    if (!strcmp(path, "/ready")) return ROUTE_READY;
    if (!strcmp(path, "/metrics") && s->cfg->metrics.enabled) return ROUTE_METRICS;
    if (!strcmp(path, s->route_predict)) return ROUTE_PREDICT;
    if (!strcmp(path, s->route_batch)) return ROUTE_BATCH;
    if (!strcmp(path, s->route_info)) return ROUTE_INFO;
    return ROUTE_NONE;
}

static const char *route_label(route_id r)
{
    static const char *const names[] = {"other",    "/healthz",       "/readyz",
                                        "/health",  "/ready",         "/metrics",
                                        "/predict", "/predict/batch", "/model-info"};
    return names[r];
}

static void handle_preflight(net_server *s, struct evhttp_request *req, route_id r,
                             const char *corr, double t0)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    const char *origin = evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
    const char *methods = (r == ROUTE_PREDICT || r == ROUTE_BATCH) ? "POST, OPTIONS" : "GET, OPTIONS";
    if (origin && !origin_allowed(s, origin)) {
        net_reply_error(s, req, route_label(r), corr, t0, NET_ERR_FORBIDDEN,
                        "origin is not allowed (api.cors.allowed_origins)");
        return;
    }
    evhttp_add_header(out, "Allow", methods);
    if (origin) {
        evhttp_add_header(out, "Access-Control-Allow-Origin", origin_allowed(s, origin));
        evhttp_add_header(out, "Access-Control-Allow-Methods", methods);
        evhttp_add_header(out, "Access-Control-Allow-Headers",
                          "Content-Type, Authorization, X-API-Key, X-Correlation-ID");
        evhttp_add_header(out, "Access-Control-Max-Age", "600");
        evhttp_add_header(out, "Vary", "Origin");
    }
    evhttp_add_header(out, "X-Correlation-ID", corr);
    if (s->draining) evhttp_add_header(out, "Connection", "close");
    net_conn_request_end(s, req);
    evhttp_send_reply(req, 204, "No Content", NULL);
    const char *lv[] = {route_label(r), "204"};
    net_metric_inc(s->m.requests, lv, 1);
}

/* Takes one token from the bucket of `key`; when it is empty, answers 429 with
 * Retry-After and `why`, counts it, and returns true (the request is done). */
static bool rate_limited(net_server *s, struct evhttp_request *req, const char *key,
                         const char *route, const char *corr, double t0, const char *why)
{
    uint32_t retry = 1;
    if (net_ratelimit_take(s->rl, key, net_now(), &retry)) return false;
    char ra[16];
    snprintf(ra, sizeof ra, "%u", retry);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
    net_metric_inc(s->m.rate_limited, NULL, 1);
    net_reply_error(s, req, route, corr, t0, NET_ERR_RATE_LIMITED, why);
    return true;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    net_server *s = arg;
    double t0 = net_now();
    s->last_request = t0;
    net_conn_request_begin(s, req);
    char corr[NET_CORR_ID_MAX + 1];
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    if (!net_corr_id_sanitize(evhttp_find_header(in, "X-Correlation-ID"), corr)) net_uuid4(corr);

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    route_id r = match(s, path && *path ? path : "/");
    const char *label = route_label(r);
    if (r == ROUTE_NONE) {
        net_reply_error(s, req, label, corr, t0, NET_ERR_NOT_FOUND, "no such route");
        return;
    }
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    bool post_route = r == ROUTE_PREDICT || r == ROUTE_BATCH;
    if (m == EVHTTP_REQ_OPTIONS) {
        handle_preflight(s, req, r, corr, t0);
        return;
    }
    if ((post_route && m != EVHTTP_REQ_POST) || (!post_route && m != EVHTTP_REQ_GET)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          post_route ? "POST, OPTIONS" : "GET, OPTIONS");
        net_reply_error(s, req, label, corr, t0, NET_ERR_METHOD_NOT_ALLOWED,
                        post_route ? "use POST" : "use GET");
        return;
    }
    switch (r) {
    case ROUTE_HEALTHZ: reply_text(s, req, label, corr, t0, 200, "alive"); return;
    case ROUTE_READYZ:
        if (net_server_ready(s)) reply_text(s, req, label, corr, t0, 200, "ready");
        else reply_text(s, req, label, corr, t0, 503, "not_ready");
        return;
    case ROUTE_HEALTH: handle_health(s, req, label, corr, t0); return;
    case ROUTE_READY: handle_ready(s, req, label, corr, t0); return;
    case ROUTE_METRICS: handle_metrics(s, req, label, corr, t0); return;
    default: break;
    }

    /* API routes: authentication, then rate limiting */
    char principal[128], msg[160];
    net_err e = net_auth_check(s->auth, evhttp_find_header(in, "X-API-Key"),
                               evhttp_find_header(in, "Authorization"), (int64_t)time(NULL),
                               principal, sizeof principal, msg, sizeof msg);
    if (e != NET_ERR_NONE) {
        /* failed credentials cost the caller's address a token: guessing keys or
         * forging tokens runs into the rate limiter like any other flood */
        if (s->rl) {
            char peer[64], key[80];
            client_addr(req, peer, sizeof peer);
            snprintf(key, sizeof key, "addr:%s", peer);
            if (rate_limited(s, req, key, label, corr, t0,
                             "too many failed authentication attempts; retry after the "
                             "Retry-After seconds"))
                return;
        }
        if (e == NET_ERR_UNAUTHORIZED)
            evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                              net_auth_get_mode(s->auth) == NET_AUTH_JWT ? "Bearer" : "ApiKey");
        net_reply_error(s, req, label, corr, t0, e, msg);
        return;
    }
    if (s->rl) {
        char key[160];
        if (s->cfg->rate_limit.key_by == CFG_RATE_KEY_API_KEY && principal[0]) {
            snprintf(key, sizeof key, "%s", principal);
        } else {
            char peer[64];
            client_addr(req, peer, sizeof peer);
            snprintf(key, sizeof key, "addr:%s", peer);
        }
        if (rate_limited(s, req, key, label, corr, t0,
                         "rate limit exceeded; retry after the Retry-After seconds"))
            return;
    }
    if (r == ROUTE_INFO) handle_model_info(s, req, label, corr, t0);
    else net_handle_predict(s, req, r == ROUTE_BATCH ? NET_ROUTE_PREDICT_BATCH : NET_ROUTE_PREDICT,
                            label, corr, t0);
}

/* --- loop events: completions, stop, drain ---------------------------------- */

static void begin_drain(net_server *s, const char *why)
{
    if (s->draining) return;
    s->draining = true;
    s->drain_started = net_now();
    net_conn_drain_begin(s);
    senti_log(SENTI_LOG_INFO, "draining", SLOG_S("reason", why), SLOG_I("in_flight", s->in_flight),
              SLOG_I("connections", net_conn_count(s)),
              SLOG_I("drain_timeout_ms", s->cfg->server.drain_timeout_ms));
    struct timeval tv = {0, NET_DRAIN_POLL_MS * 1000};
    event_add(s->drain_timer, &tv);
}

/* The drain ends when the listener is closed, nothing is in flight and every
 * connection is gone: answered ones close after their reply (Connection: close),
 * idle ones are closed by the sweep once nothing is pending on them. */
static void on_drain_timer(evutil_socket_t fd, short what, void *arg)
{
    net_server *s = arg;
    double waited = net_now() - s->drain_started;
    net_conn_sweep(s);
    if (s->in_flight == 0 && !net_conn_listening(s) && net_conn_count(s) == 0) {
        senti_log(SENTI_LOG_INFO, "drained", SLOG_D("waited_ms", waited * 1e3));
        event_base_loopexit(s->base, NULL);
        return;
    }
    if (waited * 1e3 >= (double)s->cfg->server.drain_timeout_ms) {
        senti_log(SENTI_LOG_WARNING, "drain timeout; abandoning in-flight requests",
                  SLOG_I("in_flight", s->in_flight), SLOG_I("connections", net_conn_count(s)));
        event_base_loopexit(s->base, NULL);
        return;
    }
    struct timeval tv = {0, NET_DRAIN_POLL_MS * 1000};
    event_add(s->drain_timer, &tv);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    net_server *s = arg;
    s->burst = false;
    net_pool_release(s->pool);
}

void net_server_burst(net_server *s)
{
    if (s->burst) return;
    s->burst = true;
    net_pool_hold(s->pool);
    /* queued behind every event this iteration already activated */
    event_active(s->flush_ev, EV_TIMEOUT, 1);
}

static void drain_completions(net_server *s)
{
    pthread_mutex_lock(&s->done_mu);
    net_req *list = s->done_head;
    s->done_head = NULL;
    pthread_mutex_unlock(&s->done_mu);
    /* the list is LIFO; order does not matter for independent requests */
    while (list) {
        net_req *next = list->next_done;
        net_predict_complete(s, list);
        list = next;
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    net_server *s = arg;
    uint64_t v;
    ssize_t k = read(fd, &v, sizeof v);
    (void)k;
    drain_completions(s);
    if (atomic_load(&s->stop_requested)) begin_drain(s, "stop requested");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    begin_drain(arg, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

void net_server_stop(net_server *s)
{
    atomic_store(&s->stop_requested, true);
    uint64_t one = 1;
    ssize_t k = write(s->wake_fd, &one, sizeof one);
    (void)k;
}

static void on_batch(uint32_t n, double seconds, void *user)
{
    net_server *s = user;
    net_metric_observe(s->m.batch_size, NULL, n);
    net_metric_observe(s->m.infer_latency, NULL, seconds);
}

/* --- set-up ------------------------------------------------------------------ */

static senti_status metrics_init(net_server *s, senti_err *err)
{
    static const double lat[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
    static const double bs[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    static const double sc[] = {0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1};
    const char *rs[] = {"route", "status"}, *lb[] = {"label"},
               *bi[] = {"version", "commit", "model"};
    server_metrics *m = &s->m;
    m->reg = net_metrics_create();
    if (!m->reg) return senti_fail(err, SENTI_E_NOMEM, "net: out of memory for metrics");
    m->requests = net_metrics_add(m->reg, NET_METRIC_COUNTER, "senti_http_requests_total",
                                  "HTTP requests by route and status.", 2, rs, NULL, 0);
    m->req_latency = net_metrics_add(m->reg, NET_METRIC_HISTOGRAM,
                                     "senti_http_request_duration_seconds",
                                     "Request latency from arrival to reply.", 2, rs, lat, 13);
    m->infer_latency = net_metrics_add(m->reg, NET_METRIC_HISTOGRAM,
                                       "senti_inference_duration_seconds",
                                       "Forward-pass time per batch.", 0, NULL, lat, 13);
    m->batch_size = net_metrics_add(m->reg, NET_METRIC_HISTOGRAM, "senti_batch_size",
                                    "Texts per forward pass.", 0, NULL, bs, 9);
    m->queue_depth = net_metrics_add(m->reg, NET_METRIC_GAUGE, "senti_queue_depth",
                                     "Texts waiting for a worker.", 0, NULL, NULL, 0);
    m->cache_hits = net_metrics_add(m->reg, NET_METRIC_COUNTER, "senti_cache_hits_total",
                                    "Texts answered from the prediction cache.", 0, NULL, NULL, 0);
    m->cache_misses = net_metrics_add(m->reg, NET_METRIC_COUNTER, "senti_cache_misses_total",
                                      "Texts not found in the prediction cache.", 0, NULL, NULL, 0);
    m->predictions = net_metrics_add(m->reg, NET_METRIC_COUNTER, "senti_predictions_total",
                                     "Predictions by label.", 1, lb, NULL, 0);
    m->scores = net_metrics_add(m->reg, NET_METRIC_HISTOGRAM, "senti_prediction_score",
                                "Probability of the predicted label.", 0, NULL, sc, 8);
    m->rate_limited = net_metrics_add(m->reg, NET_METRIC_COUNTER, "senti_rate_limited_total",
                                      "Requests refused by the rate limiter.", 0, NULL, NULL, 0);
    m->model_loaded = net_metrics_add(m->reg, NET_METRIC_GAUGE, "senti_model_loaded",
                                      "1 when the model is loaded.", 0, NULL, NULL, 0);
    m->ready = net_metrics_add(m->reg, NET_METRIC_GAUGE, "senti_ready",
                               "1 when the server accepts predictions.", 0, NULL, NULL, 0);
    m->build_info = net_metrics_add(m->reg, NET_METRIC_GAUGE, "senti_build_info",
                                    "Build and model identity (always 1).", 3, bi, NULL, 0);
    m->rss = net_metrics_add(m->reg, NET_METRIC_GAUGE, "process_resident_memory_bytes",
                             "Resident memory size in bytes.", 0, NULL, NULL, 0);
    m->cpu = net_metrics_add(m->reg, NET_METRIC_GAUGE, "process_cpu_seconds_total",
                             "User and system CPU time in seconds.", 0, NULL, NULL, 0);
    m->fds = net_metrics_add(m->reg, NET_METRIC_GAUGE, "process_open_fds",
                             "Open file descriptors.", 0, NULL, NULL, 0);
    m->start_time = net_metrics_add(m->reg, NET_METRIC_GAUGE, "process_start_time_seconds",
                                    "Start time since the epoch in seconds.", 0, NULL, NULL, 0);
    if (!m->requests || !m->req_latency || !m->infer_latency || !m->batch_size ||
        !m->queue_depth || !m->cache_hits || !m->cache_misses || !m->predictions || !m->scores ||
        !m->rate_limited || !m->model_loaded || !m->ready || !m->build_info || !m->rss ||
        !m->cpu || !m->fds || !m->start_time)
        return senti_fail(err, SENTI_E_NOMEM, "net: out of memory for metrics");
    net_metric_set(m->model_loaded, NULL, 1);
    const char *bv[] = {SENTI_VERSION, SENTI_COMMIT, s->info->name};
    net_metric_set(m->build_info, bv, 1);
    for (uint32_t i = 0; i < s->info->n_labels; i++) {
        const char *lv[] = {s->info->labels[i]};
        net_metric_inc(m->predictions, lv, 0);
    }
    return SENTI_OK;
}

static senti_status auth_init(net_server *s, senti_err *err)
{
    const cfg_auth *a = &s->cfg->auth;
    const char *keys[CFG_MAX_API_KEYS];
    for (size_t i = 0; i < a->n_api_keys; i++) keys[i] = a->api_keys[i];
    net_jwt_opts jo = {.secret = (const unsigned char *)a->jwt.secret,
                       .secret_len = strlen(a->jwt.secret),
                       .issuer = a->jwt.issuer,
                       .audience = a->jwt.audience,
                       .leeway_s = (long)a->jwt.leeway_seconds};
    net_auth_mode mode = a->mode == CFG_AUTH_MODE_JWT       ? NET_AUTH_JWT
                         : a->mode == CFG_AUTH_MODE_API_KEY ? NET_AUTH_API_KEY
                                                            : NET_AUTH_NONE;
    return net_auth_create(mode, keys, a->n_api_keys, &jo, &s->auth, err);
}

static uint32_t worker_count(const cfg_config *c)
{
    if (c->server.worker_threads) return c->server.worker_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

static senti_status pool_init(net_server *s, senti_err *err)
{
    const cfg_batching *b = &s->cfg->batching;
    uint32_t seq = s->info->max_seq;
    net_pool_opts o = {
        .workers = s->workers,
        .max_batch = b->enabled ? b->max_batch_size : 1,
        .max_batch_tokens = b->enabled && b->max_batch_tokens >= seq ? b->max_batch_tokens : seq,
        .max_seq = seq,
        .max_delay_us = b->enabled ? b->max_queue_delay_us : 0,
        .capacity = b->queue_capacity,
        .n_labels = s->info->n_labels,
    };
    if (o.max_batch > SENTI_MAX_BATCH) o.max_batch = SENTI_MAX_BATCH;
    /* more tokens than max_batch full-length texts can never be used */
    if ((uint64_t)o.max_batch_tokens > (uint64_t)o.max_batch * seq) o.max_batch_tokens = o.max_batch * seq;
    if (s->cfg->model.warmup) {
        s->warmup_ids = senti_calloc(seq, sizeof *s->warmup_ids);
        if (!s->warmup_ids) return senti_fail(err, SENTI_E_NOMEM, "net: out of memory");
        bool trunc;
        uint32_t n = 0;
        static const char text[] = "warm-up: a short sentence to exercise every kernel once.";
        senti_status st = s->be.encode(s->be.ctx, text, sizeof text - 1, s->warmup_ids, seq,
                                       &n, &trunc, err);
        if (st != SENTI_OK) return st;
        o.warmup_ids = s->warmup_ids;
        o.warmup_n = n;
    }
    return net_pool_create(&s->be, &o, net_predict_done_cb, on_batch, s, &s->pool, err);
}

static senti_status bind_listener(net_server *s, senti_err *err)
{
    senti_status st = net_conn_listen(s, err);
    if (st != SENTI_OK) return st;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s->bound);
    s->port = s->cfg->server.port;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6) s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return SENTI_OK;
}

senti_status net_server_create(const cfg_config *cfg, const net_backend *backend,
                               const net_model_info *info, net_server **out, senti_err *err)
{
    senti_status st = SENTI_OK;
    if (info->n_labels == 0 || info->n_labels > SENTI_MAX_LABELS || info->max_seq < 2 ||
        info->max_seq > SENTI_MAX_SEQ)
        return senti_fail(err, SENTI_E_INVALID, "net: model has %u labels and max_seq %u",
                          info->n_labels, info->max_seq);
    static bool threads_on;
    if (!threads_on) {
        /* the loop and the workers touch libevent only through the eventfd, but
         * locking keeps evhttp safe should a callback ever run elsewhere */
        if (evthread_use_pthreads() != 0)
            return senti_fail(err, SENTI_E_INTERNAL, "net: libevent has no pthread support");
        threads_on = true;
    }
    net_server *s = senti_calloc(1, sizeof *s);
    if (!s) return senti_fail(err, SENTI_E_NOMEM, "net: out of memory");
    s->cfg = cfg;
    s->be = *backend;
    s->info = info;
    s->wake_fd = -1;
    s->started_at = net_now();
    s->workers = worker_count(cfg);
    pthread_mutex_init(&s->done_mu, NULL);
    s->limits = (net_api_limits){.max_texts = cfg->limits.max_texts_per_request,
                                 .max_text_chars = cfg->limits.max_text_chars,
                                 .truncate = cfg->model.overflow == CFG_OVERFLOW_TRUNCATE};
    s->api_info = (net_api_info){.model_name = info->name, .backend = info->backend,
                                 .labels = info->labels};
    snprintf(s->route_predict, sizeof s->route_predict, "%s/predict", cfg->api.prefix);
    snprintf(s->route_batch, sizeof s->route_batch, "%s/predict/batch", cfg->api.prefix);
    snprintf(s->route_info, sizeof s->route_info, "%s/model-info", cfg->api.prefix);

    SENTI_TRY(metrics_init(s, err));
    SENTI_TRY(auth_init(s, err));
    if (cfg->rate_limit.enabled) {
        s->rl = net_ratelimit_create(cfg->rate_limit.requests_per_minute, cfg->rate_limit.burst,
                                     NET_RATE_CLIENTS);
        if (!s->rl) {
            st = senti_fail(err, SENTI_E_NOMEM, "net: out of memory for the rate limiter");
            goto fail;
        }
    }
    if (cfg->cache.enabled) {
        s->cache = net_cache_create(cfg->cache.max_entries, cfg->cache.ttl_seconds, info->checksum);
        if (!s->cache) {
            st = senti_fail(err, SENTI_E_NOMEM, "net: out of memory for a cache of %u entries",
                            cfg->cache.max_entries);
            goto fail;
        }
    }
    s->base = event_base_new();
    s->http = s->base ? evhttp_new(s->base) : NULL;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!s->base || !s->http || s->wake_fd < 0) {
        st = senti_fail(err, SENTI_E_INTERNAL, "net: cannot create the event loop");
        goto fail;
    }
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    /* libevent's own ceiling; the configured limit is checked per request so the
     * client gets the JSON 413 */
    evhttp_set_max_body_size(s->http, SENTI_MAX_BODY_BYTES);
    evhttp_set_max_headers_size(s->http, 64 * 1024);
    /* evhttp's own timeout restarts at every byte: a backstop only. conn.c
     * enforces read_timeout_ms per request and idle_timeout_ms per connection. */
    uint32_t to_ms = cfg->server.read_timeout_ms;
    if (cfg->server.idle_timeout_ms > to_ms) to_ms = cfg->server.idle_timeout_ms;
    if (cfg->server.write_timeout_ms > to_ms) to_ms = cfg->server.write_timeout_ms;
    struct timeval tv = {to_ms / 1000, (to_ms % 1000) * 1000};
    evhttp_set_timeout_tv(s->http, &tv);
    evhttp_set_gencb(s->http, on_request, s);

    s->wake_ev = event_new(s->base, s->wake_fd, EV_READ | EV_PERSIST, on_wake, s);
    s->sig_term = evsignal_new(s->base, SIGTERM, on_signal, s);
    s->sig_int = evsignal_new(s->base, SIGINT, on_signal, s);
    s->drain_timer = evtimer_new(s->base, on_drain_timer, s);
    s->flush_ev = event_new(s->base, -1, 0, on_flush, s);
    if (!s->flush_ev || !s->wake_ev || !s->sig_term || !s->sig_int || !s->drain_timer ||
        event_add(s->wake_ev, NULL) || event_add(s->sig_term, NULL) || event_add(s->sig_int, NULL)) {
        st = senti_fail(err, SENTI_E_INTERNAL, "net: cannot register loop events");
        goto fail;
    }
    SENTI_TRY(pool_init(s, err));
    SENTI_TRY(bind_listener(s, err));
    char addr[300];
    snprintf(addr, sizeof addr, "%s:%u", cfg->server.host, (unsigned)s->port);
    char msg[320];
    snprintf(msg, sizeof msg, "listening on %s", addr);
    senti_log(SENTI_LOG_INFO, msg, SLOG_S("addr", addr), SLOG_I("port", s->port),
              SLOG_I("workers", s->workers), SLOG_S("prefix", cfg->api.prefix),
              SLOG_S("auth", cfg_auth_mode_name(cfg->auth.mode)));
    *out = s;
    return SENTI_OK;
fail:
    net_server_free(s);
    return st;
}

senti_status net_server_run(net_server *s)
{
    event_base_dispatch(s->base);
    bool clean = s->in_flight == 0;
    /* stop the workers; jobs still queued come back cancelled */
    net_pool_free(s->pool);
    s->pool = NULL;
    drain_completions(s);
    senti_log(clean ? SENTI_LOG_INFO : SENTI_LOG_WARNING, "stopped", SLOG_B("clean", clean));
    return clean ? SENTI_OK : SENTI_E_INTERNAL;
}

void net_server_free(net_server *s)
{
    if (!s) return;
    if (s->pool) {
        net_pool_free(s->pool);
        s->pool = NULL;
        drain_completions(s);
    }
    /* evhttp_free frees the listener and closes every connection (their close
     * callbacks update the count): nothing may touch the listener after it */
    s->lev = NULL;
    s->bound = NULL;
    if (s->http) evhttp_free(s->http);
    net_conn_free(s);
    if (s->flush_ev) event_free(s->flush_ev);
    if (s->wake_ev) event_free(s->wake_ev);
    if (s->sig_term) event_free(s->sig_term);
    if (s->sig_int) event_free(s->sig_int);
    if (s->drain_timer) event_free(s->drain_timer);
    if (s->base) event_base_free(s->base);
    if (s->wake_fd >= 0) close(s->wake_fd);
    net_auth_free(s->auth);
    net_ratelimit_free(s->rl);
    net_cache_free(s->cache);
    net_metrics_free(s->m.reg);
    senti_free(s->warmup_ids);
    pthread_mutex_destroy(&s->done_mu);
    senti_free(s);
}
