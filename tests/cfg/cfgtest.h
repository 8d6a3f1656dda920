/* tests/cfg/cfgtest.h - helpers shared by the cfg tests: a scratch directory
 * laid out like the repository (root/cfg/NAME.yaml, root/.env). */
#ifndef SENTI_TESTS_CFGTEST_H
#define SENTI_TESTS_CFGTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg/cfg.h"
#include "tests/support/testutil.h"

typedef struct scratch {
    char *root;
    char dir[256];     /* <root>/cfg */
    char dotenv[256]; /* <root>/.env */
} scratch;

static inline void scratch_init(scratch *s)
{
    s->root = tu_mkdtemp();
    assert_non_null(s->root);
    snprintf(s->dir, sizeof s->dir, "%s/cfg", s->root);
    snprintf(s->dotenv, sizeof s->dotenv, "%s/.env", s->root);
    assert_int_equal(mkdir(s->dir, 0700), 0);
}

static inline void scratch_free(scratch *s)
{
    tu_rmtree(s->root);
    free(s->root);
}

/* Writes <dir>/<name> (name may be "../.env"); returns its path in a static buffer. */
static inline const char *put_file(const char *dir, const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Loads from s->dir with the given env name, environment and flags. */
static inline senti_status load(const scratch *s, const char *env, const char *const *envp,
                                const char *const *overrides, cfg_config **c, senti_err *err)
{
    static const char *const empty[] = {NULL};
    cfg_load_opts o = {.env = env, .config_dir = s ? s->dir : NULL,
                       .envp = envp ? envp : empty, .overrides = overrides};
    memset(err, 0, sizeof *err);
    return cfg_load(&o, c, err);
}

/* Expects cfg_load to fail with SENTI_E_CONFIG and exactly this message. */
#define assert_load_error(s, env, envp, expected)                                                  \
    do {                                                                                           \
        cfg_config *c_ = (cfg_config *)1;                                                          \
        senti_err e_;                                                                              \
        senti_status st_ = load((s), (env), (envp), NULL, &c_, &e_);                               \
        if (st_ == SENTI_OK) fail_msg("expected an error: %s", (expected));                        \
        assert_int_equal(st_, SENTI_E_CONFIG);                                                     \
        assert_null(c_);                                                                           \
        assert_string_equal(e_.msg, (expected));                                                   \
    } while (0)

/* cfg_print output as a string (caller frees). */
static inline char *print_str(const cfg_config *c, bool redact)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    senti_err err = {0};
    assert_int_equal(cfg_print(c, f, redact, &err), SENTI_OK);
    fclose(f);
    return buf;
}

#endif
