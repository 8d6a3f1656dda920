/* net/net.h - the HTTP prediction service (`senti serve`).
 *
 * One event-loop thread (libevent evhttp) parses, validates, authenticates,
 * tokenizes and answers; a fixed pool of worker threads, each with its own
 * engine state over one shared model, runs the forward passes in dynamic
 * batches fed by a bounded queue. docs/API.md describes the routes.
 *
 *   net_server *s;
 *   if (net_server_create(cfg, &backend, &info, &s, &err) != SENTI_OK) ...
 *   net_server_run(s);          // until SIGTERM/SIGINT or net_server_stop
 *   net_server_free(s);
 */
#ifndef SENTI_NET_H
#define SENTI_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "common/status.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

/* What the server needs from a model. All functions may be called from any
 * thread; `state` belongs to one worker at a time. */
typedef struct net_backend {
    void *ctx;
    /* [CLS] ... [SEP] ids of text, at most cap; *truncated if it had more. */
    senti_status (*encode)(void *ctx, const char *text, size_t len, int32_t *ids, uint32_t cap,
                           uint32_t *n, bool *truncated, senti_err *err);
    /* Per-worker scratch for up to max_batch sequences of max_seq and max_tokens in all. */
    senti_status (*state_create)(void *ctx, uint32_t max_batch, uint32_t max_seq,
                                 uint32_t max_tokens, void **state, senti_err *err);
    void (*state_free)(void *ctx, void *state);
    /* n sequences -> n * n_labels logits. */
    senti_status (*forward)(void *ctx, void *state, uint32_t n, const int32_t *const *ids,
                            const uint32_t *lens, float *logits, senti_err *err);
} net_backend;

/* Backend over an engine model and a tokenizer (both borrowed, must outlive it). */
void net_backend_engine(eng_model *m, const tok_tokenizer *t, net_backend *out);

/* Facts for /model-info, replies and cache keys. Strings are borrowed and must
 * outlive the server. */
typedef struct net_model_info {
    const char *name;         /* model name reported in replies */
    const char *path;         /* weight file or directory */
    const char *architecture; /* "DistilBertForSequenceClassification" */
    const char *dtype;        /* "f32", ... */
    const char *checksum;     /* xxh64 of the weight file (cache key, /model-info) */
    const char *backend;      /* "cpu-avx2", ... */
    uint32_t dim, n_layers, n_heads, hidden_dim, vocab_size, max_positions;
    uint32_t max_seq;         /* ids per text the server uses (<= SENTI_MAX_SEQ) */
    uint32_t n_labels;        /* 1..SENTI_MAX_LABELS */
    const char *const *labels;
    double load_time_ms;
} net_model_info;

typedef struct net_server net_server;

/* Binds cfg->server.host:port (port 0 = ephemeral), starts the worker pool (and
 * its warm-up when cfg->model.warmup), installs SIGTERM/SIGINT handlers on its
 * loop. cfg, backend and info are borrowed until net_server_free. Logs
 * "listening on HOST:PORT". */
senti_status net_server_create(const cfg_config *cfg, const net_backend *backend,
                               const net_model_info *info, net_server **out, senti_err *err);
/* Serves until a signal or net_server_stop, then drains: readiness goes false,
 * the listener closes, in-flight requests finish (bounded by
 * server.drain_timeout_ms). Returns SENTI_OK after a clean drain. */
senti_status net_server_run(net_server *s);
/* Asks a running server to drain and return; safe from any thread or a signal handler. */
void net_server_stop(net_server *s);
/* The bound port (useful with port 0). */
uint16_t net_server_port(const net_server *s);
void net_server_free(net_server *s); /* NULL is a no-op */

#endif
