/* tests/net/test_fuzz_replay.c - replays every seed (tests/fuzz/corpus/<target>/)
 * and every crash found so far (tests/fuzz/regress/<target>/) through the
 * libFuzzer entry points of tests/fuzz/, built here without libFuzzer, so the
 * normal suite (and `make asan`) keeps them fixed. Lives in tests/net/ because
 * it links every archive. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/testutil.h"

#define LLVMFuzzerTestOneInput fuzz_tokenizer_one
#define LLVMFuzzerInitialize fuzz_tokenizer_init
#include "tests/fuzz/fuzz_tokenizer.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize
#define LLVMFuzzerTestOneInput fuzz_api_one
#include "tests/fuzz/fuzz_api.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_cfg_one
#include "tests/fuzz/fuzz_cfg.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_safetensors_one
#include "tests/fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_senti_one
#include "tests/fuzz/fuzz_senti.c"
#undef LLVMFuzzerTestOneInput

typedef int (*fuzz_fn)(const uint8_t *, size_t);

/* Runs fn over every regular file of tests/fuzz/<kind>/<target>/; returns the count. */
static size_t replay_dir(const char *kind, const char *target, fuzz_fn fn)
{
    char dir[512];
    snprintf(dir, sizeof dir, "tests/fuzz/%s/%s", kind, target);
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len = 0;
        char *data = tu_read_file(path, &len);
        if (!data) continue;
        /* an exact-size copy, so ASan catches reads past the end */
        uint8_t *exact = malloc(len ? len : 1);
        assert_non_null(exact);
        memcpy(exact, data, len);
        free(data);
        fn(exact, len);
        free(exact);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *target, fuzz_fn fn, size_t min_seeds)
{
    size_t seeds = replay_dir("corpus", target, fn);
    size_t crashes = replay_dir("regress", target, fn);
    printf("fuzz replay %-12s %zu seeds, %zu regressions\n", target, seeds, crashes);
    assert_true(seeds >= min_seeds);
}

static void test_tokenizer(void **state) { (void)state; replay("tokenizer", fuzz_tokenizer_one, 5); }
static void test_api(void **state) { (void)state; replay("api", fuzz_api_one, 10); }
static void test_cfg(void **state) { (void)state; replay("cfg", fuzz_cfg_one, 5); }
static void test_safetensors(void **state) { (void)state; replay("safetensors", fuzz_safetensors_one, 5); }
static void test_senti(void **state) { (void)state; replay("senti", fuzz_senti_one, 3); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer), cmocka_unit_test(test_api),
        cmocka_unit_test(test_cfg),       cmocka_unit_test(test_safetensors),
        cmocka_unit_test(test_senti),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fuzz_tmp_dir());
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", fuzz_tmp_dir());
    return rc;
}
