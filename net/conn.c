/* net/conn.c - the listening socket and the connections it accepts.
 *
 * libevent 2.1's evhttp has no connection cap, no deadline for reading a whole
 * request (its timeout restarts at every byte, so a client trickling one byte
 * every few seconds is never timed out) and no way to drain without cutting
 * off connections the kernel had already completed. This file adds them:
 *
 * - the server owns the listener (evconnlistener, bound to evhttp with
 *   evhttp_bind_listener) and pauses it at server.max_connections, or for a
 *   moment when accept() fails for lack of descriptors;
 * - each connection is tracked from accept (evhttp_set_bevcb: we create its
 *   bufferevent, watch its input buffer, and learn the evhttp_connection once
 *   evhttp has wired it, then get a close callback);
 * - a sweep closes connections that sent part of a request and did not finish
 *   it within server.read_timeout_ms (slowloris), connections idle for
 *   server.idle_timeout_ms, and, when the cap is reached, idle connections
 *   first, so a flood of idle sockets cannot lock out new clients;
 * - on drain the listener first stops completing new TCP handshakes (a socket
 *   filter drops bare SYNs: those clients retry and then get a refusal), takes
 *   every connection already completed, then closes; idle connections are
 *   closed once nothing is pending on them, and the drain ends when the last
 *   connection with a request has been answered.
 *
 * Event-loop thread only.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "net/server_internal.h"

/* Listen backlog: the kernel queues at most this many completed handshakes. */
#define NET_LISTEN_BACKLOG 1024
/* How often idle, slow and half-sent connections are checked. */
#define NET_SWEEP_MS 100
/* At the connection cap, idle connections older than this are closed to make room. */
#define NET_EVICT_IDLE_MS 1000
/* accept() failed for lack of descriptors: retry after this long. */
#define NET_ACCEPT_RETRY_MS 100
/* On drain: how long the listener keeps taking handshakes completed before the
 * SYN filter went on (loopback needs microseconds; leave room for a loaded host). */
#define NET_DRAIN_ACCEPT_MS 100
/* On drain: an idle connection younger than this may be about to send its request. */
#define NET_DRAIN_IDLE_GRACE_MS 100

struct net_conn {
    net_server *s;
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* NULL until adopted */
    struct evbuffer_cb_entry *watch;
    double since;      /* accepted, or the last reply */
    double first_byte; /* first byte of the next request since `since`; 0 = none yet */
    uint32_t busy;     /* requests handed to the server and not yet answered */
    net_conn *prev, *next, *hnext;
};

static size_t hash_of(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(v >> 7) & (NET_CONN_BUCKETS - 1);
}

static net_conn *conn_find(net_server *s, struct evhttp_connection *evcon)
{
    if (!evcon) return NULL;
    for (net_conn *c = s->conn_hash[hash_of(evcon)]; c; c = c->hnext)
        if (c->evcon == evcon) return c;
    return NULL;
}

static void list_unlink(net_conn **head, net_conn *c)
{
    if (c->prev) c->prev->next = c->next;
    else *head = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void list_push(net_conn **head, net_conn *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head) (*head)->prev = c;
    *head = c;
}

static void hash_remove(net_server *s, net_conn *c)
{
    net_conn **pp = &s->conn_hash[hash_of(c->evcon)];
    while (*pp && *pp != c) pp = &(*pp)->hnext;
    if (*pp) *pp = c->hnext;
}

uint32_t net_conn_count(const net_server *s) { return s->n_conns; }

static void listener_update(net_server *s)
{
    if (!s->lev) return;
    bool want = !s->accept_paused && s->n_conns < s->cfg->server.max_connections;
    if (want && !s->lev_enabled) evconnlistener_enable(s->lev);
    else if (!want && s->lev_enabled) evconnlistener_disable(s->lev);
    double now = net_now();
    if (want != s->lev_enabled && !want && !s->accept_paused && now - s->cap_logged_at >= 1) {
        s->cap_logged_at = now;
        senti_log(SENTI_LOG_WARNING, "connection limit reached; pausing accept",
                  SLOG_I("connections", s->n_conns),
                  SLOG_I("max_connections", s->cfg->server.max_connections));
    }
    s->lev_enabled = want;
}

static void conn_release(net_server *s, net_conn *c)
{
    if (c->watch) evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->watch);
    c->watch = NULL;
    s->n_conns--;
    senti_free(c);
    listener_update(s);
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    net_conn *c = arg;
    net_server *s = c->s;
    list_unlink(&s->conns, c);
    hash_remove(s, c);
    conn_release(s, c);
}

static void on_input(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
    net_conn *c = arg;
    if (info->n_added && c->first_byte == 0 && c->busy == 0) c->first_byte = net_now();
}

/* evhttp asks for a bufferevent for each accepted connection. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    net_server *s = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) return NULL; /* evhttp makes its own; that connection goes untracked */
    net_conn *c = senti_calloc(1, sizeof *c);
    if (!c) return bev;
    c->s = s;
    c->bev = bev;
    c->since = net_now();
    c->watch = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
    /* keep bev alive until adopt() has looked at it, even if evhttp drops it first */
    bufferevent_incref(bev);
    list_push(&s->conns_new, c);
    s->n_conns++;
    listener_update(s);
    event_active(s->adopt_ev, EV_TIMEOUT, 1);
    return bev;
}

/* Runs right after the accept callback: evhttp has now wired the bufferevent to
 * its connection (the callbacks' argument), so the close callback can be set. */
static void adopt(evutil_socket_t fd, short what, void *arg)
{
    net_server *s = arg;
    while (s->conns_new) {
        net_conn *c = s->conns_new;
        list_unlink(&s->conns_new, c);
        struct bufferevent *bev = c->bev;
        bufferevent_data_cb rcb = NULL, wcb = NULL;
        bufferevent_event_cb ecb = NULL;
        void *cbarg = NULL;
        bufferevent_getcb(bev, &rcb, &wcb, &ecb, &cbarg);
        if (!ecb || !cbarg) {
            /* evhttp already freed the connection (it cleared the callbacks) */
            conn_release(s, c);
            bufferevent_decref(bev);
            continue;
        }
        c->evcon = cbarg;
        evhttp_connection_set_closecb(c->evcon, on_conn_close, c);
        size_t h = hash_of(c->evcon);
        c->hnext = s->conn_hash[h];
        s->conn_hash[h] = c;
        list_push(&s->conns, c);
        bufferevent_decref(bev);
    }
}

void net_conn_request_begin(net_server *s, struct evhttp_request *req)
{
    net_conn *c = conn_find(s, evhttp_request_get_connection(req));
    if (c) c->busy++;
}

void net_conn_request_end(net_server *s, struct evhttp_request *req)
{
    net_conn *c = conn_find(s, evhttp_request_get_connection(req));
    if (!c) return;
    if (c->busy) c->busy--;
    c->since = net_now();
    /* a pipelined request may already be waiting in the buffer */
    c->first_byte = evbuffer_get_length(bufferevent_get_input(c->bev)) ? c->since : 0;
}

/* Bytes the kernel holds for this connection that evhttp has not read yet. */
static bool has_pending_bytes(net_conn *c)
{
    int n = 0;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    return fd >= 0 && ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

static void conn_close(net_conn *c, const char *why)
{
    senti_log(SENTI_LOG_DEBUG, "closing connection", SLOG_S("reason", why),
              SLOG_D("age_ms", (net_now() - c->since) * 1e3));
    evhttp_connection_free(c->evcon); /* calls on_conn_close, which frees c */
}

void net_conn_sweep(net_server *s)
{
    double now = net_now();
    const cfg_server *cs = &s->cfg->server;
    bool full = s->n_conns >= cs->max_connections;
    for (net_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->busy) continue;
        if (c->first_byte > 0) {
            if ((now - c->first_byte) * 1e3 >= (double)cs->read_timeout_ms)
                conn_close(c, "request not received within server.read_timeout_ms");
            continue;
        }
        double idle_ms = (now - c->since) * 1e3;
        if (has_pending_bytes(c)) continue; /* evhttp is about to read it */
        if (s->draining && idle_ms >= NET_DRAIN_IDLE_GRACE_MS) conn_close(c, "draining");
        else if (idle_ms >= (double)cs->idle_timeout_ms) conn_close(c, "idle timeout");
        else if (full && idle_ms >= NET_EVICT_IDLE_MS) conn_close(c, "connection limit");
    }
}

static void on_sweep(evutil_socket_t fd, short what, void *arg) { net_conn_sweep(arg); }

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    net_server *s = arg;
    s->accept_paused = false;
    listener_update(s);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    net_server *s = arg;
    int e = EVUTIL_SOCKET_ERROR();
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        /* out of descriptors: stop spinning on a readable listener, sweep, retry */
        senti_log(SENTI_LOG_WARNING, "accept failed; pausing", SLOG_S("error", strerror(e)),
                  SLOG_I("connections", s->n_conns));
        s->accept_paused = true;
        listener_update(s);
        net_conn_sweep(s);
        struct timeval tv = {0, NET_ACCEPT_RETRY_MS * 1000};
        event_add(s->resume_ev, &tv);
    }
}

senti_status net_conn_listen(net_server *s, senti_err *err)
{
    const cfg_server *c = &s->cfg->server;
    s->adopt_ev = event_new(s->base, -1, 0, adopt, s);
    s->sweep_ev = event_new(s->base, -1, EV_PERSIST, on_sweep, s);
    s->resume_ev = evtimer_new(s->base, on_resume, s);
    struct timeval sweep = {0, NET_SWEEP_MS * 1000};
    if (!s->adopt_ev || !s->sweep_ev || !s->resume_ev || event_add(s->sweep_ev, &sweep))
        return senti_fail(err, SENTI_E_INTERNAL, "net: cannot register connection events");

    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_STREAM,
                                    .ai_protocol = IPPROTO_TCP,
                                    .ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG};
    struct evutil_addrinfo *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)c->port);
    int rc = evutil_getaddrinfo(c->host, port, &hints, &ai);
    if (rc != 0 || !ai)
        return senti_fail(err, SENTI_E_NETWORK, "net: cannot resolve server.host '%s': %s",
                          c->host, evutil_gai_strerror(rc));
    s->lev = evconnlistener_new_bind(s->base, NULL, NULL,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                         LEV_OPT_CLOSE_ON_EXEC,
                                     NET_LISTEN_BACKLOG, ai->ai_addr, (int)ai->ai_addrlen);
    int bind_errno = errno;
    evutil_freeaddrinfo(ai);
    if (!s->lev)
        return senti_fail(err, SENTI_E_NETWORK,
                          "net: cannot listen on %s:%u: %s; set server.host / server.port",
                          c->host, (unsigned)c->port, strerror(bind_errno));
    s->lev_enabled = true;
    evconnlistener_set_error_cb(s->lev, on_accept_error);
    evhttp_set_bevcb(s->http, on_new_connection, s);
    s->bound = evhttp_bind_listener(s->http, s->lev);
    if (!s->bound) {
        evconnlistener_free(s->lev);
        s->lev = NULL;
        return senti_fail(err, SENTI_E_NOMEM, "net: out of memory for the listener");
    }
    return SENTI_OK;
}

/* Drops bare SYNs (flags SYN without ACK) on the listening socket, so no new
 * handshake completes while the backlog is emptied. The filter sees the TCP
 * header at offset 0; byte 13 holds the flags. */
static void refuse_new_handshakes(evutil_socket_t fd)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12), /* SYN | ACK */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0), /* SYN alone: drop */
        BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
        senti_log(SENTI_LOG_DEBUG, "cannot filter SYNs on drain", SLOG_S("error", strerror(errno)));
}

static void close_listener(evutil_socket_t fd, short what, void *arg)
{
    net_server *s = arg;
    if (!s->bound) return;
    evhttp_del_accept_socket(s->http, s->bound); /* frees the listener and closes its socket */
    s->bound = NULL;
    s->lev = NULL;
}

void net_conn_drain_begin(net_server *s)
{
    if (!s->lev) return;
    refuse_new_handshakes(evconnlistener_get_fd(s->lev));
    s->accept_paused = false;
    listener_update(s);
    struct timeval tv = {0, NET_DRAIN_ACCEPT_MS * 1000};
    s->close_ev = evtimer_new(s->base, close_listener, s);
    if (!s->close_ev || event_add(s->close_ev, &tv)) close_listener(-1, 0, s);
}

bool net_conn_listening(const net_server *s) { return s->bound != NULL; }

void net_conn_free(net_server *s)
{
    /* evhttp_free closed the tracked connections (their close callbacks freed
     * them); what is left was accepted but never adopted */
    while (s->conns_new) {
        net_conn *c = s->conns_new;
        list_unlink(&s->conns_new, c);
        bufferevent_decref(c->bev);
        senti_free(c);
    }
    if (s->adopt_ev) event_free(s->adopt_ev);
    if (s->sweep_ev) event_free(s->sweep_ev);
    if (s->resume_ev) event_free(s->resume_ev);
    if (s->close_ev) event_free(s->close_ev);
    s->adopt_ev = s->sweep_ev = s->resume_ev = s->close_ev = NULL;
}
