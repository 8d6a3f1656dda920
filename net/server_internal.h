/* net/server_internal.h - the server object shared by server.c (lifecycle,
 * probes, metrics, replies) and predict.c (the prediction routes). Event-loop
 * thread only unless a field says otherwise. */
#ifndef SENTI_NET_SERVER_INTERNAL_H
#define SENTI_NET_SERVER_INTERNAL_H

#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdatomic.h>

#include "net/net.h"
#include "net/net_internal.h"

typedef struct net_req net_req;
typedef struct net_conn net_conn;

/* Buckets of the connection table (evhttp_connection -> net_conn); a power of two. */
#define NET_CONN_BUCKETS 1024

typedef struct server_metrics {
    net_metrics *reg;
    net_metric *requests, *req_latency, *infer_latency, *batch_size, *queue_depth, *cache_hits,
        *cache_misses, *predictions, *scores, *model_loaded, *ready, *build_info, *rss, *cpu,
        *fds, *start_time, *rate_limited;
} server_metrics;

struct net_server {
    const cfg_config *cfg;
    net_backend be;
    const net_model_info *info;
    net_api_limits limits;
    net_api_info api_info;
    uint32_t workers;

    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *sig_term, *sig_int, *wake_ev, *drain_timer, *flush_ev;

    /* conn.c: listener and connection tracking */
    struct evconnlistener *lev;
    bool lev_enabled, accept_paused;
    struct event *adopt_ev, *sweep_ev, *resume_ev, *close_ev;
    net_conn *conns, *conns_new;
    net_conn *conn_hash[NET_CONN_BUCKETS];
    uint32_t n_conns;
    double cap_logged_at;
    bool burst; /* the pool is held while this loop iteration submits (net_server_burst) */
    int wake_fd; /* eventfd: workers and net_server_stop poke the loop */
    uint16_t port;

    net_pool *pool;
    net_auth *auth;
    net_ratelimit *rl;
    net_cache *cache;
    server_metrics m;
    int32_t *warmup_ids;

    /* completions from workers (any thread) */
    pthread_mutex_t done_mu;
    net_req *done_head;
    atomic_bool stop_requested;

    uint32_t in_flight; /* jobs submitted and not yet answered */
    bool draining;
    double drain_started, started_at, last_request;
    char route_predict[CFG_PREFIX_MAX + 32], route_batch[CFG_PREFIX_MAX + 32],
        route_info[CFG_PREFIX_MAX + 32];
};

/* One request on its way through the server. */
struct net_req {
    net_server *s;
    struct evhttp_request *req;
    const char *route; /* metrics label */
    char corr[NET_CORR_ID_MAX + 1];
    double t0;
    net_api_request api;
    net_api_pred *preds;
    int32_t *ids;      /* n x max_seq */
    uint32_t *lens;
    net_item *items;
    net_job job;
    net_req *next_done;
};

/* server.c */
bool net_server_ready(const net_server *s);
/* Common headers (JSON type, correlation id, CORS, Connection: close while draining). */
void net_reply_headers(net_server *s, struct evhttp_request *req, const char *corr);
/* Sends body (takes ownership of a malloc'd string; NULL = OOM -> 500) and records
 * metrics and the access log line. */
void net_reply(net_server *s, struct evhttp_request *req, const char *route, const char *corr,
               double t0, int status, char *body, const char *extra_log);
void net_reply_error(net_server *s, struct evhttp_request *req, const char *route,
                     const char *corr, double t0, net_err e, const char *msg);

/* Marks a submission in this loop iteration: the pool is held (see
 * net_pool_hold) until every event of the iteration has run. */
void net_server_burst(net_server *s);

/* conn.c */
senti_status net_conn_listen(net_server *s, senti_err *err);
/* A request was handed to the server / answered (call before evhttp_send_reply). */
void net_conn_request_begin(net_server *s, struct evhttp_request *req);
void net_conn_request_end(net_server *s, struct evhttp_request *req);
/* Closes idle, slow and (at the cap or while draining) spare connections. */
void net_conn_sweep(net_server *s);
/* Stops taking new connections after the ones already completed. */
void net_conn_drain_begin(net_server *s);
bool net_conn_listening(const net_server *s);
uint32_t net_conn_count(const net_server *s);
/* After evhttp_free, before event_base_free. */
void net_conn_free(net_server *s);

/* predict.c */
void net_handle_predict(net_server *s, struct evhttp_request *req, net_route_kind kind,
                        const char *route, const char *corr, double t0);
/* Runs on the loop for each finished job. */
void net_predict_complete(net_server *s, net_req *r);
/* Worker-thread callback: queue r for the loop. */
void net_predict_done_cb(net_job *job, void *user);

#endif
