/* cfg/cfg_internal.h - the key table and helpers shared by the cfg/ sources only. */
#ifndef SENTI_CFG_INTERNAL_H
#define SENTI_CFG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "common/limits.h"

/* Largest config / secret file: SENTI_MAX_CONFIG_FILE_BYTES, SENTI_MAX_SECRET_FILE_BYTES
 * in common/limits.h. */
#define CFG_FILE_MAX SENTI_MAX_CONFIG_FILE_BYTES
#define CFG_SECRET_FILE_MAX SENTI_MAX_SECRET_FILE_BYTES
/* "cfg/prod.yaml:12", "env SENTI_AUTH_JWT_SECRET_FILE": truncated if longer. */
#define CFG_ORIGIN_TEXT 320
/* Room for "must be ..." explanations (the "why" part of a message). */
#define CFG_WHY_MAX 384
#define CFG_KEYS_MAX 64

typedef enum cfg_type {
    CFG_T_BOOL,
    CFG_T_UINT, /* uint16_t / uint32_t / uint64_t (size_t) field, range min..max */
    CFG_T_STR,  /* char[size] */
    CFG_T_ENUM, /* int-sized enum; names[value], "a|b" lists an alias after the main spelling */
    CFG_T_LIST, /* char[max_items][size] plus a size_t count at count_off */
} cfg_type;

/* Extra check of one string value (or one list item). Returns false and
 * writes "must be ..." into why. Checks of secret keys never quote the value. */
typedef bool (*cfg_check_fn)(const char *s, char *why, size_t cap);

typedef struct cfg_key {
    const char *path; /* "server.port" */
    cfg_type type;
    size_t off;  /* field offset in cfg_config */
    size_t size; /* UINT: field bytes; STR: buffer bytes; LIST: bytes per item */
    uint64_t min, max;         /* UINT */
    const char *const *names;  /* ENUM, NULL-terminated */
    size_t count_off;          /* LIST */
    size_t max_items;          /* LIST */
    cfg_check_fn check;        /* STR, LIST items; may be NULL */
    bool secret;
    const char *mlops;         /* seed variable (MLOPS_PORT) or NULL */
} cfg_key;

extern const cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

struct cfg_meta {
    char origin[CFG_KEYS_MAX][CFG_ORIGIN_TEXT];
};

/* Index of the key with this exact path, or -1. */
int cfg_key_index(const char *path);
/* SENTI_<PATH> name of key i into buf ("SENTI_SERVER_PORT"). */
void cfg_key_env_name(size_t i, char *buf, size_t cap);
/* Closest candidate within a small edit distance, or NULL. */
const char *cfg_suggest(const char *word, const char *const *cands, size_t n);

/* Compiled-in defaults; c must be zeroed. */
void cfg_defaults(cfg_config *c);

/* Sets key i from text (lists: comma- or newline-separated). On failure c is
 * unchanged, *why explains (never quoting a secret) and the status is
 * SENTI_E_CONFIG (or SENTI_E_NOMEM). */
senti_status cfg_key_set_text(cfg_config *c, size_t i, const char *text, char *why, size_t cap);
/* Sets list key i from items. On a bad item, *bad_item is its index. */
senti_status cfg_key_set_list(cfg_config *c, size_t i, const char *const *items, size_t n,
                              size_t *bad_item, char *why, size_t cap);
/* Re-checks the stored value of key i (range, enum, string rules). */
bool cfg_key_check_value(const cfg_config *c, size_t i, char *why, size_t cap);
/* True when key i holds a non-empty secret. */
bool cfg_key_has_secret(const cfg_config *c, size_t i);

void cfg_set_origin(cfg_config *c, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes s quoted and escaped, truncated to a readable length, into buf. */
void cfg_quote(char *buf, size_t cap, const char *s);
bool cfg_streq_nocase(const char *a, const char *b);

/* Names of the environment variables that provide a secret key, for messages
 * ("SENTI_AUTH_JWT_SECRET or SENTI_AUTH_JWT_SECRET_FILE"). */
const char *cfg_secret_sources(size_t i);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer.
 * Returns 0, or an errno value (EFBIG when larger than max). */
int cfg_read_file(const char *path, size_t max, char **out, size_t *len);

/* yaml.c: applies one YAML file onto c. Secret values are refused unless
 * allow_secrets (env dev). */
senti_status cfg_yaml_apply(cfg_config *c, const char *path, bool allow_secrets, senti_err *err);

/* env.c: environment layers. envp is NULL-terminated "NAME=VALUE". */
typedef struct cfg_env_layer cfg_env_layer;
const char *cfg_envp_get(const char *const *envp, const char *name);
senti_status cfg_env_layer_from_envp(const char *const *envp, cfg_env_layer **out, senti_err *err);
/* Reads a .env file; *out = NULL (and SENTI_OK) when the file does not exist. */
senti_status cfg_env_layer_from_dotenv(const char *path, cfg_env_layer **out, senti_err *err);
senti_status cfg_env_apply(cfg_config *c, const cfg_env_layer *l, senti_err *err);
void cfg_env_layer_free(cfg_env_layer *l);

#endif
