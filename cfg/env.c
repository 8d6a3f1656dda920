/* cfg/env.c - environment layers: the process environment (or a test's envp)
 * and, in dev, a .env file. Each layer applies MLOPS_* seed names first, then
 * SENTI_<SECTION>_<KEY> names, so SENTI_* wins within a layer. Secrets may come
 * from NAME_FILE (a path) instead of NAME; their values never reach a message. */
#include "cfg/cfg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

typedef struct cfg_envvar {
    char *name;
    const char *value;
    size_t line; /* .env line, 0 for the process environment */
} cfg_envvar;

struct cfg_env_layer {
    cfg_envvar *v;
    size_t n;
    char *file; /* .env path, NULL for the process environment */
    char *buf;  /* .env contents (names/values point into it) */
    size_t buf_len;
};

int cfg_read_file(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return errno ? errno : EIO;
    size_t cap = 4096, n = 0;
    char *buf = senti_malloc(cap);
    int e = 0;
    if (!buf) e = ENOMEM;
    while (!e) {
        if (n + 1 >= cap) {
            if (cap > max) {
                e = EFBIG;
                break;
            }
            char *nb = senti_malloc(cap * 2);
            if (!nb) {
                e = ENOMEM;
                break;
            }
            memcpy(nb, buf, n);
            explicit_bzero(buf, n);
            senti_free(buf);
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) e = EIO;
            break;
        }
    }
    fclose(f);
    if (!e && n > max) e = EFBIG;
    if (e) {
        if (buf) explicit_bzero(buf, n);
        senti_free(buf);
        return e;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

const char *cfg_envp_get(const char *const *envp, const char *name)
{
    size_t nl = strlen(name);
    const char *found = NULL;
    for (; envp && *envp; envp++)
        if (strncmp(*envp, name, nl) == 0 && (*envp)[nl] == '=') found = *envp + nl + 1;
    return found;
}

void cfg_env_layer_free(cfg_env_layer *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) senti_free(l->v[i].name);
    senti_free(l->v);
    if (l->buf) explicit_bzero(l->buf, l->buf_len);
    senti_free(l->buf);
    senti_free(l->file);
    senti_free(l);
}

static bool wanted(const char *name)
{
    return strncmp(name, "SENTI_", 6) == 0 || strncmp(name, "MLOPS_", 6) == 0;
}

static senti_status layer_add(cfg_env_layer *l, size_t *cap, const char *name, size_t nl,
                              const char *value, size_t line)
{
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        cfg_envvar *nv = senti_calloc(nc, sizeof *nv);
        if (!nv) return SENTI_E_NOMEM;
        if (l->n) memcpy(nv, l->v, l->n * sizeof *nv);
        senti_free(l->v);
        l->v = nv;
        *cap = nc;
    }
    char *nm = senti_malloc(nl + 1);
    if (!nm) return SENTI_E_NOMEM;
    memcpy(nm, name, nl);
    nm[nl] = '\0';
    l->v[l->n++] = (cfg_envvar){.name = nm, .value = value, .line = line};
    return SENTI_OK;
}

senti_status cfg_env_layer_from_envp(const char *const *envp, cfg_env_layer **out, senti_err *err)
{
    *out = NULL;
    cfg_env_layer *l = senti_calloc(1, sizeof *l);
    size_t cap = 0;
    if (!l) return senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
    for (; envp && *envp; envp++) {
        const char *eq = strchr(*envp, '=');
        if (!eq || !wanted(*envp)) continue;
        if (layer_add(l, &cap, *envp, (size_t)(eq - *envp), eq + 1, 0) != SENTI_OK) {
            cfg_env_layer_free(l);
            return senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
        }
    }
    *out = l;
    return SENTI_OK;
}

/* KEY=VALUE lines; blank lines and '#' comments ignored; optional "export ";
 * values may be wrapped in '...' or "..."; unquoted values end at " #". */
senti_status cfg_env_layer_from_dotenv(const char *path, cfg_env_layer **out, senti_err *err)
{
    *out = NULL;
    char *text;
    size_t len;
    int e = cfg_read_file(path, CFG_FILE_MAX, &text, &len);
    if (e == ENOENT) return SENTI_OK;
    if (e == ENOMEM) return senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
    if (e) return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: cannot read: %s", path, strerror(e));
    cfg_env_layer *l = senti_calloc(1, sizeof *l);
    char *file = senti_strdup(path);
    if (!l || !file) {
        senti_free(l);
        senti_free(file);
        explicit_bzero(text, len);
        senti_free(text);
        return senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
    }
    l->buf = text;
    l->buf_len = len;
    l->file = file;
    size_t cap = 0, line = 0;
    for (char *p = text; *p;) {
        line++;
        char *end = strchr(p, '\n');
        char *next = end ? end + 1 : p + strlen(p);
        if (end) *end = '\0';
        if (end && end > p && end[-1] == '\r') end[-1] = '\0';
        while (*p == ' ' || *p == '\t') p++;
        if (strncmp(p, "export ", 7) == 0) p += 7;
        while (*p == ' ' || *p == '\t') p++;
        if (*p && *p != '#') {
            char *name = p;
            while (isalnum((unsigned char)*p) || *p == '_') p++;
            size_t nl = (size_t)(p - name);
            while (*p == ' ' || *p == '\t') p++;
            if (nl == 0 || isdigit((unsigned char)name[0]) || *p != '=') {
                cfg_env_layer_free(l);
                /* The line is not echoed: it may hold a secret. */
                return senti_fail(err, SENTI_E_CONFIG, "cfg: %s:%zu: expected NAME=VALUE", path,
                                  line);
            }
            char *v = p + 1;
            while (*v == ' ' || *v == '\t') v++;
            size_t vl = strlen(v);
            if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
                v[vl - 1] = '\0';
                v++;
            } else {
                char *hash = strstr(v, " #");
                if (hash) *hash = '\0';
                char *t = v + strlen(v);
                while (t > v && (t[-1] == ' ' || t[-1] == '\t')) *--t = '\0';
            }
            if (wanted(name) && layer_add(l, &cap, name, nl, v, line) != SENTI_OK) {
                cfg_env_layer_free(l);
                return senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
            }
        }
        p = next;
    }
    *out = l;
    return SENTI_OK;
}

/* Last definition wins (as in a shell reading the file top to bottom). */
static const cfg_envvar *layer_get(const cfg_env_layer *l, const char *name)
{
    for (size_t i = l->n; i-- > 0;)
        if (strcmp(l->v[i].name, name) == 0) return &l->v[i];
    return NULL;
}

/* "env NAME" or "<file>:<line>: NAME" */
static void where(const cfg_env_layer *l, const cfg_envvar *v, char *buf, size_t cap)
{
    if (l->file) snprintf(buf, cap, "%s:%zu: %s", l->file, v->line, v->name);
    else snprintf(buf, cap, "env %s", v->name);
}

/* Reads a secret file: one trailing newline is dropped. */
static senti_status read_secret_file(const char *w, const char *path, char **out, size_t *len,
                                     senti_err *err)
{
    char q[CFG_ORIGIN_TEXT];
    cfg_quote(q, sizeof q, path);
    int e = cfg_read_file(path, CFG_SECRET_FILE_MAX, out, len);
    if (e == ENOMEM) return senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
    if (e == EFBIG)
        return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: %s is larger than %u bytes", w, q,
                          CFG_SECRET_FILE_MAX);
    if (e) return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: cannot read %s: %s", w, q, strerror(e));
    if (*len && (*out)[*len - 1] == '\n') (*out)[--*len] = '\0';
    if (*len && (*out)[*len - 1] == '\r') (*out)[--*len] = '\0';
    if (*len == 0) {
        senti_free(*out);
        *out = NULL;
        return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: %s is empty", w, q);
    }
    return SENTI_OK;
}

/* Applies variable `name` (and name_FILE for secrets) of layer l to key ki. */
static senti_status apply_var(cfg_config *c, const cfg_env_layer *l, size_t ki, const char *name,
                              senti_err *err)
{
    const cfg_key *k = &cfg_keys[ki];
    char fname[96], w[CFG_ORIGIN_TEXT];
    snprintf(fname, sizeof fname, "%s_FILE", name);
    const cfg_envvar *v = layer_get(l, name), *vf = k->secret ? layer_get(l, fname) : NULL;
    if (!v && !vf) return SENTI_OK;
    if (v && vf) {
        where(l, vf, w, sizeof w);
        return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: %s is also set; set only one", w, name);
    }
    char *text = NULL;
    size_t len = 0;
    senti_status st;
    if (vf) {
        where(l, vf, w, sizeof w);
        st = read_secret_file(w, vf->value, &text, &len, err);
        if (st != SENTI_OK) return st;
    } else {
        where(l, v, w, sizeof w);
    }
    char why[CFG_WHY_MAX];
    st = cfg_key_set_text(c, ki, text ? text : v->value, why, sizeof why);
    if (text) explicit_bzero(text, len);
    senti_free(text);
    if (st != SENTI_OK) return senti_fail(err, st, "cfg: %s: %s", w, why);
    cfg_set_origin(c, ki, "%s", w);
    return SENTI_OK;
}

static const char *const sections[] = {"SERVER_", "MODEL_",  "BATCHING_", "API_",     "AUTH_",
                                       "RATE_LIMIT_", "CACHE_", "LIMITS_", "LOGGING_", "METRICS_"};

/* A SENTI_<SECTION>_* name that matches no key is most likely a typo. */
static senti_status check_unknown(const cfg_env_layer *l, senti_err *err)
{
    char names[2 * CFG_KEYS_MAX][96];
    const char *cands[2 * CFG_KEYS_MAX];
    size_t nc = 0;
    for (size_t i = 0; i < cfg_nkeys; i++) {
        cfg_key_env_name(i, names[nc], sizeof names[nc]);
        cands[nc] = names[nc];
        nc++;
        if (cfg_keys[i].secret) {
            memcpy(names[nc], names[nc - 1], sizeof names[nc]);
            strncat(names[nc], "_FILE", sizeof names[nc] - strlen(names[nc]) - 1);
            cands[nc] = names[nc];
            nc++;
        }
    }
    for (size_t i = 0; i < l->n; i++) {
        const char *n = l->v[i].name;
        if (strncmp(n, "SENTI_", 6) != 0) continue;
        bool in_section = false, known = false;
        for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++)
            in_section = in_section || strncmp(n + 6, sections[s], strlen(sections[s])) == 0;
        for (size_t j = 0; j < nc && !known; j++) known = strcmp(n, cands[j]) == 0;
        if (!in_section || known) continue;
        char w[CFG_ORIGIN_TEXT];
        where(l, &l->v[i], w, sizeof w);
        const char *s = cfg_suggest(n, cands, nc);
        if (s)
            return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: unknown setting (did you mean %s?)",
                              w, s);
        return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: unknown setting", w);
    }
    return SENTI_OK;
}

senti_status cfg_env_apply(cfg_config *c, const cfg_env_layer *l, senti_err *err)
{
    senti_status st;
    SENTI_TRY(check_unknown(l, err));
    /* Seed names first. */
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (cfg_keys[i].mlops) SENTI_TRY(apply_var(c, l, i, cfg_keys[i].mlops, err));
    /* MLOPS_DEBUG=true is the "debug everything" switch: it wins over MLOPS_LOG_LEVEL. */
    const cfg_envvar *dbg = layer_get(l, "MLOPS_DEBUG");
    if (dbg) {
        char w[CFG_ORIGIN_TEXT], q[96];
        where(l, dbg, w, sizeof w);
        bool on = cfg_streq_nocase(dbg->value, "true") || cfg_streq_nocase(dbg->value, "yes") ||
                  cfg_streq_nocase(dbg->value, "on") || strcmp(dbg->value, "1") == 0;
        bool off = cfg_streq_nocase(dbg->value, "false") || cfg_streq_nocase(dbg->value, "no") ||
                   cfg_streq_nocase(dbg->value, "off") || strcmp(dbg->value, "0") == 0 ||
                   !*dbg->value;
        if (!on && !off) {
            cfg_quote(q, sizeof q, dbg->value);
            return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: must be true or false (got %s)", w, q);
        }
        if (on) {
            int li = cfg_key_index("logging.level");
            c->logging.level = CFG_LOG_LEVEL_DEBUG;
            cfg_set_origin(c, (size_t)li, "%s", w);
        }
    }
    for (size_t i = 0; i < cfg_nkeys; i++) {
        char name[96];
        cfg_key_env_name(i, name, sizeof name);
        SENTI_TRY(apply_var(c, l, i, name, err));
    }
    return SENTI_OK;
fail:
    return st;
}
