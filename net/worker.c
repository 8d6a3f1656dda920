/* net/worker.c - the inference worker pool: a bounded FIFO of jobs (one per
 * request, each with one or more texts) and a fixed set of threads that take
 * texts from it in dynamic batches.
 *
 * Batching is work-conserving: a free worker takes what is queued at once, in
 * FIFO order, up to its fair share (the queued texts divided among the workers
 * that are free, at most max_batch texts and max_batch_tokens tokens). It waits
 * only while more texts are known to be on their way: the event loop holds the
 * pool (net_pool_hold) while it is still reading a burst of requests and
 * releases it at the end of that loop iteration; the wait is bounded by the
 * oldest queued job's age reaching max_delay_us. Batches therefore form from
 * bursts and while every worker is busy, never by idling at low load. A
 * request with many texts may be split across batches and workers; its job
 * completes when its last text does.
 *
 * Memory: each worker allocates its engine state and batch buffers once; the
 * request path allocates nothing here.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "net/net.h"
#include "net/net_internal.h"

typedef struct worker {
    net_pool *pool;
    pthread_t thread;
    bool started;
    void *state;
    const int32_t **ids;
    uint32_t *lens;
    net_item **taken;
    float *logits;
} worker;

struct net_pool {
    net_backend be;
    net_pool_opts o;
    net_pool_done_fn done;
    net_pool_batch_fn on_batch;
    void *user;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    net_job *head, *tail;
    uint32_t depth; /* texts queued, not yet taken */
    uint32_t busy;  /* workers warming up or running a forward pass */
    bool held;      /* the loop is still submitting a burst (net_pool_hold) */
    bool stopping;
    atomic_uint warm, failed;
    worker *w;
};

double net_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void softmax(const float *x, uint32_t n, float *p)
{
    float m = x[0];
    for (uint32_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        p[i] = expf(x[i] - m);
        sum += (double)p[i];
    }
    for (uint32_t i = 0; i < n; i++) p[i] = (float)((double)p[i] / sum);
}

static void fill_pred(net_api_pred *out, const float *logits, uint32_t n_labels, double ms)
{
    out->n_labels = n_labels;
    memcpy(out->logits, logits, n_labels * sizeof *logits);
    softmax(logits, n_labels, out->probs);
    uint32_t best = 0;
    for (uint32_t i = 1; i < n_labels; i++)
        if (logits[i] > logits[best]) best = i;
    out->label = best;
    out->inference_ms = ms;
    out->cached = false;
}

/* Caller holds mu. Takes up to limit texts within the token budget. */
static uint32_t take_batch(net_pool *p, worker *w, uint32_t limit)
{
    uint32_t k = 0, tokens = 0;
    while (p->head && k < limit) {
        net_job *j = p->head;
        net_item *it = &j->items[j->next_item];
        if (k > 0 && tokens + it->n > p->o.max_batch_tokens) break;
        w->taken[k] = it;
        w->ids[k] = it->ids;
        w->lens[k] = it->n;
        tokens += it->n;
        k++;
        if (++j->next_item == j->n_items) {
            p->head = j->next;
            if (!p->head) p->tail = NULL;
        }
    }
    p->depth -= k;
    return k;
}

static void abs_deadline(double mono_deadline, struct timespec *ts)
{
    double now = net_now();
    struct timespec rt;
    clock_gettime(CLOCK_MONOTONIC, &rt);
    double wait = mono_deadline - now;
    if (wait < 0) wait = 0;
    double t = (double)rt.tv_sec + (double)rt.tv_nsec * 1e-9 + wait;
    ts->tv_sec = (time_t)t;
    ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
    if (ts->tv_nsec >= 1000000000L) ts->tv_sec++, ts->tv_nsec -= 1000000000L;
}

static void warm_up(net_pool *p, worker *w)
{
    if (!p->o.warmup_ids) return;
    const int32_t *ids = p->o.warmup_ids;
    uint32_t n = p->o.warmup_n;
    senti_err err = {0};
    p->be.forward(p->be.ctx, w->state, 1, &ids, &n, w->logits, &err);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    net_pool *p = w->pool;
    uint32_t L = p->o.n_labels;
    warm_up(p, w);
    atomic_fetch_add(&p->warm, 1);

    pthread_mutex_lock(&p->mu);
    p->busy--;
    for (;;) {
        while (!p->head && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
        if (p->stopping) break;
        if (p->held && p->depth < p->o.max_batch) {
            /* the loop is mid-burst: more texts are coming; wait for the rest of
             * it, at most until the oldest queued job is max_delay_us old */
            double deadline = p->head->enqueued + (double)p->o.max_delay_us * 1e-6;
            struct timespec ts;
            abs_deadline(deadline, &ts);
            while (p->head && p->held && p->depth < p->o.max_batch && !p->stopping &&
                   net_now() < deadline) {
                if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) == ETIMEDOUT) break;
            }
            if (p->stopping) break;
            if (!p->head) continue; /* another worker took it */
        }
        /* fair share: split what is queued among the free workers (this one included) */
        uint32_t free_workers = p->o.workers - p->busy;
        if (free_workers == 0) free_workers = 1;
        uint32_t share = (p->depth + free_workers - 1) / free_workers;
        if (share > p->o.max_batch) share = p->o.max_batch;
        if (share == 0) share = 1;
        uint32_t k = take_batch(p, w, share);
        p->busy++;
        /* texts left over (the share, or the token budget, cut the batch): wake a peer */
        if (p->head) pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);

        double t0 = net_now();
        senti_err err = {0};
        senti_status st = p->be.forward(p->be.ctx, w->state, k, w->ids, w->lens, w->logits, &err);
        double secs = net_now() - t0;
        for (uint32_t i = 0; i < k && st == SENTI_OK; i++)
            fill_pred(w->taken[i]->out, w->logits + (size_t)i * L, L, secs * 1e3);
        if (p->on_batch) p->on_batch(k, secs, p->user);

        /* completion: a job is done when its last text is; done() runs unlocked */
        net_job *finished[SENTI_MAX_BATCH];
        uint32_t n_fin = 0;
        pthread_mutex_lock(&p->mu);
        for (uint32_t i = 0; i < k; i++) {
            net_job *j = w->taken[i]->job;
            if (st != SENTI_OK && j->status == SENTI_OK) {
                j->status = st;
                snprintf(j->errmsg, sizeof j->errmsg, "%.150s", err.msg);
            }
            if (--j->pending == 0) finished[n_fin++] = j;
        }
        p->busy--;
        pthread_mutex_unlock(&p->mu);
        for (uint32_t i = 0; i < n_fin; i++) p->done(finished[i], p->user);
        pthread_mutex_lock(&p->mu);
        /* done() ran unlocked: count this worker free again */
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

bool net_pool_submit(net_pool *p, net_job *job)
{
    if (job->n_items == 0) return false;
    pthread_mutex_lock(&p->mu);
    bool ok = !p->stopping && job->n_items <= p->o.capacity &&
              p->depth <= p->o.capacity - job->n_items;
    if (ok) {
        job->enqueued = net_now();
        job->next_item = 0;
        job->pending = job->n_items;
        job->status = SENTI_OK;
        job->cancelled = false;
        job->next = NULL;
        for (uint32_t i = 0; i < job->n_items; i++) job->items[i].job = job;
        if (p->tail) p->tail->next = job;
        else p->head = job;
        p->tail = job;
        p->depth += job->n_items;
        /* while held, the release wakes the workers once for the whole burst */
        if (!p->held) pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return ok;
}

uint32_t net_pool_depth(net_pool *p)
{
    pthread_mutex_lock(&p->mu);
    uint32_t d = p->depth;
    pthread_mutex_unlock(&p->mu);
    return d;
}

void net_pool_hold(net_pool *p)
{
    if (p->o.max_delay_us == 0) return; /* no batching delay allowed: never hold */
    pthread_mutex_lock(&p->mu);
    p->held = true;
    pthread_mutex_unlock(&p->mu);
}

void net_pool_release(net_pool *p)
{
    pthread_mutex_lock(&p->mu);
    bool was = p->held;
    p->held = false;
    if (was) pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

uint32_t net_pool_warm(net_pool *p) { return atomic_load(&p->warm); }
uint32_t net_pool_failed(net_pool *p) { return atomic_load(&p->failed); }

static void worker_release(net_pool *p, worker *w)
{
    if (w->state) p->be.state_free(p->be.ctx, w->state);
    senti_free(w->ids);
    senti_free(w->lens);
    senti_free(w->taken);
    senti_free(w->logits);
}

void net_pool_free(net_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t i = 0; p->w && i < p->o.workers; i++)
        if (p->w[i].started) pthread_join(p->w[i].thread, NULL);
    /* jobs never (fully) run: hand them back cancelled. A job some of whose texts
     * ran is still in the list only if it had untaken texts. */
    for (net_job *j = p->head, *next; j; j = next) {
        next = j->next;
        j->cancelled = true;
        p->done(j, p->user);
    }
    for (uint32_t i = 0; p->w && i < p->o.workers; i++) worker_release(p, &p->w[i]);
    senti_free(p->w);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    senti_free(p);
}

senti_status net_pool_create(const struct net_backend *b, const net_pool_opts *o,
                             net_pool_done_fn done, net_pool_batch_fn on_batch, void *user,
                             net_pool **out, senti_err *err)
{
    if (o->workers == 0 || o->max_batch == 0 || o->max_batch > SENTI_MAX_BATCH ||
        o->max_seq == 0 || o->max_batch_tokens < o->max_seq || o->capacity == 0 ||
        o->n_labels == 0 || o->n_labels > SENTI_MAX_LABELS)
        return senti_fail(err, SENTI_E_INVALID,
                          "net: worker pool: bad options (workers %u, batch %u, tokens %u, "
                          "seq %u, capacity %u, labels %u)",
                          o->workers, o->max_batch, o->max_batch_tokens, o->max_seq, o->capacity,
                          o->n_labels);
    senti_status st = SENTI_OK;
    net_pool *p = senti_calloc(1, sizeof *p);
    if (!p) return senti_fail(err, SENTI_E_NOMEM, "net: out of memory for the worker pool");
    p->be = *b;
    p->o = *o;
    p->done = done;
    p->on_batch = on_batch;
    p->user = user;
    p->busy = o->workers; /* each worker counts itself free after its warm-up */
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->w = senti_calloc(o->workers, sizeof *p->w);
    if (!p->w) {
        st = senti_fail(err, SENTI_E_NOMEM, "net: out of memory for %u workers", o->workers);
        goto fail;
    }
    for (uint32_t i = 0; i < o->workers; i++) {
        worker *w = &p->w[i];
        w->pool = p;
        w->ids = senti_calloc(o->max_batch, sizeof *w->ids);
        w->lens = senti_calloc(o->max_batch, sizeof *w->lens);
        w->taken = senti_calloc(o->max_batch, sizeof *w->taken);
        w->logits = senti_calloc((size_t)o->max_batch * o->n_labels, sizeof *w->logits);
        if (!w->ids || !w->lens || !w->taken || !w->logits) {
            st = senti_fail(err, SENTI_E_NOMEM, "net: out of memory for worker %u", i);
            goto fail;
        }
        st = b->state_create(b->ctx, o->max_batch, o->max_seq, o->max_batch_tokens, &w->state,
                             err);
        if (st != SENTI_OK) {
            senti_err_prefix(err, "net: worker %u", i);
            goto fail;
        }
    }
    for (uint32_t i = 0; i < o->workers; i++) {
        if (pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]) != 0) {
            st = senti_fail(err, SENTI_E_INTERNAL, "net: cannot start worker thread %u", i);
            goto fail;
        }
        p->w[i].started = true;
    }
    *out = p;
    return SENTI_OK;
fail:
    net_pool_free(p);
    return st;
}
