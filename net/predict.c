/* net/predict.c - POST {prefix}/predict and {prefix}/predict/batch: content
 * checks, parsing, tokenization, cache, submission to the worker pool, and the
 * reply once the pool hands the job back to the event loop. */
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "net/server_internal.h"

static void req_free(net_req *r)
{
    if (!r) return;
    net_api_request_free(&r->api);
    senti_free(r->preds);
    senti_free(r->ids);
    senti_free(r->lens);
    senti_free(r->items);
    senti_free(r);
}

static bool json_content_type(const char *ct)
{
    if (!ct) return false;
    while (*ct == ' ') ct++;
    if (strncasecmp(ct, "application/json", 16) != 0) return false;
    char c = ct[16];
    return c == '\0' || c == ';' || c == ' ';
}

static void send_preds(net_server *s, net_req *r)
{
    double model_ms = 0;
    uint32_t hits = 0;
    for (uint32_t i = 0; i < r->api.n; i++) {
        net_api_pred *p = &r->preds[i];
        net_uuid4(p->prediction_id);
        if (p->inference_ms > model_ms) model_ms = p->inference_ms;
        hits += p->cached;
        const char *lv[] = {s->info->labels[p->label < p->n_labels ? p->label : 0]};
        net_metric_inc(s->m.predictions, lv, 1);
        net_metric_observe(s->m.scores, NULL, (double)p->probs[p->label]);
    }
    char hdr[32];
    snprintf(hdr, sizeof hdr, "%.3f", model_ms);
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "X-Inference-Time-MS", hdr);
    char extra[96];
    snprintf(extra, sizeof extra, "texts=%u cached=%u model_ms=%.3f", r->api.n, hits, model_ms);
    net_reply(s, r->req, r->route, r->corr, r->t0, 200,
              net_api_render_preds(&r->api, r->preds, &s->api_info), extra);
}

void net_handle_predict(net_server *s, struct evhttp_request *req, net_route_kind kind,
                        const char *route, const char *corr, double t0)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    if (!json_content_type(evhttp_find_header(in, "Content-Type"))) {
        net_reply_error(s, req, route, corr, t0, NET_ERR_UNSUPPORTED_MEDIA_TYPE,
                        "Content-Type must be application/json");
        return;
    }
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(body);
    if (len > s->cfg->limits.max_body_bytes) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body is %zu bytes; the limit is %zu", len,
                 s->cfg->limits.max_body_bytes);
        net_reply_error(s, req, route, corr, t0, NET_ERR_BODY_TOO_LARGE, msg);
        return;
    }
    net_req *r = senti_calloc(1, sizeof *r);
    if (!r) {
        net_reply_error(s, req, route, corr, t0, NET_ERR_INTERNAL, "out of memory");
        return;
    }
    r->s = s;
    r->req = req;
    r->route = route;
    r->t0 = t0;
    snprintf(r->corr, sizeof r->corr, "%s", corr);
    const char *text = len ? (const char *)evbuffer_pullup(body, -1) : "";
    net_api_error e;
    if (!net_api_parse(kind, text, len, &s->limits, &r->api, &e)) {
        net_reply_error(s, req, route, corr, t0, e.code, e.msg);
        req_free(r);
        return;
    }
    uint32_t n = r->api.n, L = s->info->max_seq;
    if (senti_log_enabled(SENTI_LOG_DEBUG))
        for (uint32_t i = 0; i < n; i++)
            senti_log(SENTI_LOG_DEBUG, "request text", SLOG_S("correlation_id", corr),
                      SLOG_I("index", i), SLOG_I("bytes", r->api.lens[i]));
    r->preds = senti_calloc(n, sizeof *r->preds);
    r->ids = senti_calloc((size_t)n * L, sizeof *r->ids);
    r->lens = senti_calloc(n, sizeof *r->lens);
    r->items = senti_calloc(n, sizeof *r->items);
    if (!r->preds || !r->ids || !r->lens || !r->items) {
        net_reply_error(s, req, route, corr, t0, NET_ERR_INTERNAL, "out of memory");
        req_free(r);
        return;
    }
    /* tokenize on the loop: the cache is keyed by ids, and batching needs lengths */
    double now = net_now();
    uint32_t misses = 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t *ids = r->ids + (size_t)i * L;
        bool truncated = false;
        senti_err err = {0};
        senti_status st = s->be.encode(s->be.ctx, r->api.texts[i], r->api.lens[i], ids, L,
                                       &r->lens[i], &truncated, &err);
        if (st != SENTI_OK) {
            net_reply_error(s, req, route, corr, t0,
                            st == SENTI_E_UTF8 ? NET_ERR_INVALID_UTF8 : NET_ERR_INTERNAL, err.msg);
            req_free(r);
            return;
        }
        if (truncated && !r->api.truncate) {
            char msg[200], which[32] = "text";
            if (r->api.batch) snprintf(which, sizeof which, "text %u", i);
            snprintf(msg, sizeof msg,
                     "%s has more than %u tokens (model.max_seq_len); shorten it or send "
                     "\"truncate\": true",
                     which, L);
            net_reply_error(s, req, route, corr, t0, NET_ERR_TEXT_TOO_LONG, msg);
            req_free(r);
            return;
        }
        r->preds[i].text_chars = r->api.chars[i];
        if (s->cache && net_cache_get(s->cache, ids, r->lens[i], now, &r->preds[i])) {
            r->preds[i].text_chars = r->api.chars[i];
            net_metric_inc(s->m.cache_hits, NULL, 1);
            continue;
        }
        if (s->cache) net_metric_inc(s->m.cache_misses, NULL, 1);
        r->items[misses++] = (net_item){.ids = ids, .n = r->lens[i], .out = &r->preds[i]};
    }
    if (misses == 0) {
        send_preds(s, r);
        req_free(r);
        return;
    }
    /* While draining, requests on connections accepted before the listener closed
     * are still served: readiness is false, but accepted work is never dropped. */
    if (net_pool_failed(s->pool) || (!s->draining && net_pool_warm(s->pool) < s->workers)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        net_reply_error(s, req, route, corr, t0, NET_ERR_NOT_READY, "the model is warming up");
        req_free(r);
        return;
    }
    r->job = (net_job){.items = r->items, .n_items = misses, .user = r};
    net_server_burst(s);
    if (!net_pool_submit(s->pool, &r->job)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        net_reply_error(s, req, route, corr, t0, NET_ERR_OVERLOADED,
                        "the inference queue is full; retry shortly");
        req_free(r);
        return;
    }
    s->in_flight++;
    net_metric_set(s->m.queue_depth, NULL, net_pool_depth(s->pool));
}

void net_predict_done_cb(net_job *job, void *user)
{
    net_server *s = user;
    net_req *r = job->user;
    pthread_mutex_lock(&s->done_mu);
    r->next_done = s->done_head;
    s->done_head = r;
    pthread_mutex_unlock(&s->done_mu);
    uint64_t one = 1;
    ssize_t k = write(s->wake_fd, &one, sizeof one);
    (void)k; /* the counter only saturates; the loop drains the list anyway */
}

void net_predict_complete(net_server *s, net_req *r)
{
    s->in_flight--;
    if (r->job.cancelled) {
        /* the pool stopped before running it (drain timeout): nothing can be sent */
        req_free(r);
        return;
    }
    if (r->job.status != SENTI_OK) {
        senti_log(SENTI_LOG_ERROR, "inference failed", SLOG_S("correlation_id", r->corr),
                  SLOG_S("error", r->job.errmsg));
        net_reply_error(s, r->req, r->route, r->corr, r->t0, NET_ERR_INTERNAL,
                        "inference failed; see the server log");
        req_free(r);
        return;
    }
    if (s->cache) {
        double now = net_now();
        for (uint32_t i = 0; i < r->job.n_items; i++) {
            const net_item *it = &r->items[i];
            net_cache_put(s->cache, it->ids, it->n, now, it->out);
        }
    }
    send_preds(s, r);
    req_free(r);
}
