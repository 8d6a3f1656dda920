/* tests/engine/test_pool.c - the engine's fork-join pool: every chunk of every
 * job runs exactly once, across generations, with workers that fall asleep
 * between jobs (futex path) and pools created and freed back to back. A lost
 * wakeup or a lost chunk shows as a wrong count or a hang (tests/run.sh times
 * out a hung test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "engine/engine_internal.h"
#include "tests/support/testutil.h"

#define MAX_CHUNKS 64

typedef struct job {
    atomic_int hits[MAX_CHUNKS];
    atomic_int bad_tid;
    int threads;
} job;

static void count_task(void *arg, int chunk, int chunks, int tid)
{
    job *j = arg;
    if (chunk < 0 || chunk >= chunks || chunks > MAX_CHUNKS || tid < 0 || tid >= j->threads)
        atomic_fetch_add(&j->bad_tid, 1);
    else
        atomic_fetch_add(&j->hits[chunk], 1);
}

static void nap_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static void run_jobs(int threads, int jobs, int nap_every)
{
    eng_pool *p = NULL;
    senti_err err = {0};
    assert_int_equal(eng_pool_create(threads, &p, &err), SENTI_OK);
    assert_int_equal(eng_pool_threads(p), threads);
    uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)threads;
    job j;
    for (int i = 0; i < jobs; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int chunks = 2 + (int)((rng >> 33) % (MAX_CHUNKS - 1));
        memset(&j, 0, sizeof j);
        j.threads = threads;
        eng_pool_run(p, threads, chunks, count_task, &j);
        assert_int_equal(atomic_load(&j.bad_tid), 0);
        for (int c = 0; c < chunks; c++)
            if (atomic_load(&j.hits[c]) != 1)
                fail_msg("job %d (threads %d, chunks %d): chunk %d ran %d times", i, threads,
                         chunks, c, atomic_load(&j.hits[c]));
        /* let the workers' spin run out so the next job must wake them */
        if (nap_every && i % nap_every == 0) nap_us(400 + (long)((rng >> 40) % 600));
    }
    eng_pool_free(p);
}

static void test_every_chunk_once(void **state)
{
    (void)state;
    int jobs = tu_quick() ? 2000 : 100000;
    for (int t = 2; t <= 4; t++) run_jobs(t, jobs, 0);
}

static void test_wake_from_sleep(void **state)
{
    (void)state;
    int jobs = tu_quick() ? 300 : 3000;
    for (int t = 2; t <= 3; t++) run_jobs(t, jobs, 1);
    run_jobs(2, tu_quick() ? 2000 : 40000, 7); /* mixed: some jobs find workers spinning */
}

static void test_create_free_churn(void **state)
{
    (void)state;
    for (int i = 0; i < (tu_quick() ? 20 : 300); i++) {
        eng_pool *p = NULL;
        senti_err err = {0};
        assert_int_equal(eng_pool_create(2 + i % 3, &p, &err), SENTI_OK);
        if (i % 2) { /* one job right after creation, before workers settle */
            job j;
            memset(&j, 0, sizeof j);
            j.threads = 2 + i % 3;
            eng_pool_run(p, j.threads, 5, count_task, &j);
            for (int c = 0; c < 5; c++) assert_int_equal(atomic_load(&j.hits[c]), 1);
        }
        eng_pool_free(p);
    }
}

static void test_acquire_is_exclusive(void **state)
{
    (void)state;
    eng_pool *p = NULL;
    senti_err err = {0};
    assert_int_equal(eng_pool_create(2, &p, &err), SENTI_OK);
    assert_true(eng_pool_acquire(p));
    assert_false(eng_pool_acquire(p));
    eng_pool_release(p);
    assert_true(eng_pool_acquire(p));
    eng_pool_release(p);
    eng_pool_free(p);
    eng_pool_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_chunk_once),
        cmocka_unit_test(test_wake_from_sleep),
        cmocka_unit_test(test_create_free_churn),
        cmocka_unit_test(test_acquire_is_exclusive),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
