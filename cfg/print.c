/* cfg/print.c - cfg_print: the effective configuration as YAML, each value
 * annotated with where it came from. Unredacted output loads back as a config
 * file (in dev, where secrets in files are allowed). */
#include "cfg/cfg_internal.h"

#include <stdio.h>
#include <string.h>

static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < ' ' || ch == 0x7f) fprintf(f, "\\x%02x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

/* Origin as a comment: no control characters can break the line. */
static void put_comment(FILE *f, const char *s)
{
    fputs("  # ", f);
    for (; *s; s++) fputc((unsigned char)*s < ' ' ? '?' : *s, f);
}

static void put_value(FILE *f, const cfg_config *c, const cfg_key *k, bool redact)
{
    const char *field = (const char *)c + k->off;
    switch (k->type) {
    case CFG_T_BOOL: {
        bool b;
        memcpy(&b, field, sizeof b);
        fputs(b ? "true" : "false", f);
        break;
    }
    case CFG_T_UINT: {
        unsigned long long v = 0;
        if (k->size == 2) {
            uint16_t x;
            memcpy(&x, field, 2);
            v = x;
        } else if (k->size == 4) {
            uint32_t x;
            memcpy(&x, field, 4);
            v = x;
        } else {
            uint64_t x;
            memcpy(&x, field, 8);
            v = x;
        }
        fprintf(f, "%llu", v);
        break;
    }
    case CFG_T_ENUM: {
        int v;
        memcpy(&v, field, sizeof v);
        const char *name = "?";
        if (k->names == NULL) break;
        if (strcmp(k->path, "logging.level") == 0) name = cfg_log_level_name((cfg_log_level)v);
        else if (v >= 0) {
            int n = 0;
            while (k->names[n]) n++;
            if (v < n) name = k->names[v];
        }
        fputs(name, f);
        break;
    }
    case CFG_T_STR:
        if (redact && k->secret && *field) fputs("\"***\"", f);
        else put_quoted(f, field);
        break;
    case CFG_T_LIST: {
        size_t n;
        memcpy(&n, (const char *)c + k->count_off, sizeof n);
        if (redact && k->secret && n > 0) {
            fprintf(f, "\"*** (%zu key%s)\"", n, n == 1 ? "" : "s");
            break;
        }
        fputc('[', f);
        for (size_t j = 0; j < n; j++) {
            if (j) fputs(", ", f);
            put_quoted(f, field + j * k->size);
        }
        fputc(']', f);
        break;
    }
    }
}

senti_status cfg_print(const cfg_config *c, FILE *f, bool redact, senti_err *err)
{
    if (!c || !f) return senti_fail(err, SENTI_E_INVALID, "cfg: cfg_print: NULL argument");
    fprintf(f, "# senti configuration, env %s%s\n", c->env, redact ? " (secrets redacted)" : "");
    const char *prev = "";
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const cfg_key *k = &cfg_keys[i];
        /* Open every section level that differs from the previous key's. */
        size_t common = 0, depth = 0;
        const char *p = k->path, *q = prev;
        for (;;) {
            size_t lp = strcspn(p, "."), lq = strcspn(q, ".");
            if (!p[lp] || !q[lq] || lp != lq || strncmp(p, q, lp) != 0) break;
            common++;
            p += lp + 1;
            q += lq + 1;
        }
        p = k->path;
        for (;;) {
            size_t lp = strcspn(p, ".");
            if (!p[lp]) {
                fprintf(f, "%*s%s: ", (int)(2 * depth), "", p);
                break;
            }
            if (depth >= common) fprintf(f, "%*s%.*s:\n", (int)(2 * depth), "", (int)lp, p);
            depth++;
            p += lp + 1;
        }
        put_value(f, c, k, redact);
        put_comment(f, cfg_origin(c, k->path));
        fputc('\n', f);
        prev = k->path;
    }
    if (fflush(f) != 0 || ferror(f))
        return senti_fail(err, SENTI_E_IO, "cfg: cannot write the configuration");
    return SENTI_OK;
}
