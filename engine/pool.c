/* engine/pool.c - the engine's fork-join thread pool (see engine_internal.h).
 *
 * A job is published by bumping `gen` (the futex word). Workers that saw the
 * previous generation spin on it for a while (jobs of one forward pass follow
 * each other within microseconds), then sleep in FUTEX_WAIT. The caller wakes
 * sleepers only when some are registered, so a busy forward pays no syscall.
 * Ordering: a worker registers in `sleepers` before FUTEX_WAIT re-checks `gen`;
 * the caller bumps `gen` before reading `sleepers` (both seq_cst), so either the
 * caller sees the sleeper or the worker sees the new generation.
 *
 * Work is handed out in chunks from `ticket` = (generation << 32 | chunk count
 * << 16 | next chunk), claimed by compare-and-swap. The count travels inside the
 * ticket on purpose: a claimer must judge "is there a chunk left" from the same
 * atomic value its CAS checks. (Reading a separate `chunks` field let a worker
 * holding a stale ticket of job g-1 see job g's larger count, win the CAS against
 * the not-yet-reset ticket and run a chunk twice: found by tests/engine/test_pool.c.)
 * Every thread, the caller included, takes chunks
 * until none is left, and the caller returns once all chunks are finished. A
 * worker that is descheduled (the machine is shared) or still waking up simply
 * claims fewer chunks, instead of holding the whole forward back; one that wakes
 * after its job is over finds the generation changed and claims nothing.
 */
#include <errno.h>
#include <immintrin.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/alloc.h"
#include "engine/engine_internal.h"

/* Pause iterations a worker spins before sleeping: about 100-300 us. */
#define POOL_SPIN 4000

typedef struct worker {
    eng_pool *p;
    int tid;
    pthread_t th;
} worker;

struct eng_pool {
    int n; /* threads, caller included */
    worker *w;
    pthread_mutex_t busy;
    _Alignas(64) atomic_uint gen;
    _Alignas(64) atomic_uint_least64_t ticket; /* gen << 32 | chunks << 16 | next chunk */
    _Alignas(64) atomic_int finished;          /* chunks of the current job done */
    atomic_int sleepers;
    atomic_int stop;
    /* the job: written before the ticket is published, read after a chunk of it
     * is claimed (the claim proves the job is still the current one) */
    eng_task_fn fn;
    void *arg;
};

#define POOL_MAX_CHUNKS 0xFFFF /* fits the ticket's 16-bit fields */

/* Claims and runs chunks of job generation g until none is left. */
static void take_chunks(eng_pool *p, unsigned g, int tid)
{
    for (;;) {
        uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
        if ((unsigned)(t >> 32) != g) return;
        int n = (int)((t >> 16) & 0xFFFF), c = (int)(t & 0xFFFF);
        if (c >= n) return;
        if (!atomic_compare_exchange_weak_explicit(&p->ticket, &t, t + 1, memory_order_acq_rel,
                                                   memory_order_relaxed))
            continue;
        /* The CAS succeeded on a ticket of job g with chunk c unclaimed, so job g
         * is still running and fn/arg (published before the ticket) are its own. */
        p->fn(p->arg, c, n, tid);
        atomic_fetch_add_explicit(&p->finished, 1, memory_order_release);
    }
}

static void futex_wait(atomic_uint *addr, unsigned val)
{
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_all(atomic_uint *addr)
{
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    eng_pool *p = w->p;
    unsigned seen = 0; /* gen starts at 0 before any worker exists; a job (or stop)
                        * published before this thread ran is still seen */
    for (;;) {
        unsigned g = seen;
        for (int i = 0; i < POOL_SPIN; i++) {
            g = atomic_load_explicit(&p->gen, memory_order_acquire);
            if (g != seen) break;
            _mm_pause();
        }
        while (g == seen) {
            atomic_fetch_add(&p->sleepers, 1);
            futex_wait(&p->gen, seen);
            atomic_fetch_sub(&p->sleepers, 1);
            g = atomic_load(&p->gen);
        }
        seen = g;
        if (atomic_load(&p->stop)) return NULL;
        take_chunks(p, g, w->tid);
    }
}

senti_status eng_pool_create(int threads, eng_pool **out, senti_err *err)
{
    if (threads < 1) threads = 1;
    eng_pool *p = senti_calloc(1, sizeof *p);
    worker *w = threads > 1 ? senti_calloc((size_t)threads - 1, sizeof *w) : NULL;
    if (!p || (threads > 1 && !w)) {
        senti_free(p);
        senti_free(w);
        return senti_fail(err, SENTI_E_NOMEM, "engine: out of memory for the thread pool");
    }
    p->n = threads;
    p->w = w;
    pthread_mutex_init(&p->busy, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->ticket, 0);
    atomic_init(&p->finished, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, 0);
    for (int i = 0; i < threads - 1; i++) {
        w[i] = (worker){.p = p, .tid = i + 1};
        int rc = pthread_create(&w[i].th, NULL, worker_main, &w[i]);
        if (rc != 0) {
            p->n = i + 1; /* the workers started so far */
            eng_pool_free(p);
            return senti_fail(err, SENTI_E_NOMEM,
                              "engine: cannot start math thread %d of %d (error %d); lower "
                              "the thread count",
                              i + 1, threads, rc);
        }
    }
    *out = p;
    return SENTI_OK;
}

void eng_pool_free(eng_pool *p)
{
    if (!p) return;
    atomic_store(&p->stop, 1);
    atomic_fetch_add(&p->gen, 1);
    futex_wake_all(&p->gen);
    for (int i = 0; i < p->n - 1; i++) pthread_join(p->w[i].th, NULL);
    pthread_mutex_destroy(&p->busy);
    senti_free(p->w);
    senti_free(p);
}

int eng_pool_threads(const eng_pool *p)
{
    return p ? p->n : 1;
}

bool eng_pool_acquire(eng_pool *p)
{
    return p && pthread_mutex_trylock(&p->busy) == 0;
}

void eng_pool_release(eng_pool *p)
{
    if (p) pthread_mutex_unlock(&p->busy);
}

void eng_pool_run(eng_pool *p, int nt, int chunks, eng_task_fn fn, void *arg)
{
    if (!p || nt <= 1 || p->n <= 1 || chunks <= 1) {
        fn(arg, 0, 1, 0);
        return;
    }
    /* The previous job is complete (all its chunks finished), so no thread
     * touches the job fields until the generation below is published. */
    if (chunks > POOL_MAX_CHUNKS) chunks = POOL_MAX_CHUNKS; /* fn splits by the count it gets */
    unsigned g = atomic_load_explicit(&p->gen, memory_order_relaxed) + 1;
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->finished, 0, memory_order_relaxed);
    atomic_store_explicit(&p->ticket, (uint64_t)g << 32 | (uint64_t)chunks << 16,
                          memory_order_release);
    atomic_store(&p->gen, g); /* seq_cst: publishes the job */
    if (atomic_load(&p->sleepers) > 0) futex_wake_all(&p->gen);
    take_chunks(p, g, 0);
    while (atomic_load_explicit(&p->finished, memory_order_acquire) != chunks) _mm_pause();
}

void eng_split(size_t n, size_t unit, int part, int parts, size_t *lo, size_t *hi)
{
    size_t units = (n + unit - 1) / unit;
    size_t a = units * (size_t)part / (size_t)parts, b = units * (size_t)(part + 1) / (size_t)parts;
    a *= unit, b *= unit;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
}
