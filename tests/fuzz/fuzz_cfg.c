/* tests/fuzz/fuzz_cfg.c - YAML configuration loading: the input becomes the
 * overlay <dir>/dev.yaml over an empty base.yaml, loaded with an empty
 * environment. No crash; on failure a "cfg:" message; on success the config
 * validates and prints. */
#include "cfg/cfg.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char base[512], overlay[512];
    const char *dir = fuzz_tmp_dir();
    if (!base[0]) {
        snprintf(base, sizeof base, "%s/base.yaml", dir);
        snprintf(overlay, sizeof overlay, "%s/dev.yaml", dir);
        FUZZ_CHECK(fuzz_write_file(base, (const uint8_t *)"", 0) == 0);
    }
    FUZZ_CHECK(fuzz_write_file(overlay, data, size) == 0);
    const char *envp[] = {NULL};
    cfg_load_opts o = {.env = "dev", .config_dir = dir, .envp = envp};
    cfg_config *c = NULL;
    senti_err err = {0};
    senti_status st = cfg_load(&o, &c, &err);
    if (st != SENTI_OK) {
        FUZZ_CHECK(c == NULL);
        FUZZ_CHECK(st == SENTI_E_CONFIG || st == SENTI_E_NOMEM);
        FUZZ_CHECK(!strncmp(err.msg, "cfg: ", 5));
        return 0;
    }
    FUZZ_CHECK(cfg_validate(c, &err) == SENTI_OK);
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull) {
        FUZZ_CHECK(cfg_print(c, devnull, true, &err) == SENTI_OK);
        fclose(devnull);
    }
    cfg_free(c);
    return 0;
}
