/* cli/cmd_predict.c - `senti predict`: classify texts given as arguments, or
 * one per stdin line (plain, or a JSON string per line with --jsonl). One JSON
 * object per input on stdout, in input order; a bad input gets an {"error"}
 * line, a message on stderr naming it, and exit status 1 at the end. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define DEFAULT_BATCH 32

static void usage(FILE *f)
{
    fprintf(f,
            "usage: senti predict --model PATH [--jsonl] [--threads N] [--batch N] [--isa NAME]\n"
            "                     [TEXT ...]\n\n"
            "Classifies each TEXT, or each line of stdin when no TEXT is given.\n"
            "  --model PATH   a .senti file or a Hugging Face model directory\n"
            "  --jsonl        stdin lines are JSON strings (\"...\"), not plain text\n"
            "  --threads N    math threads (default 0 = all cores)\n"
            "  --batch N      texts per engine batch (1..%d, default %d)\n"
            "  --isa NAME     kernel set: auto (default), ref, avx2, avx512\n"
            "Prints one line per input: {\"label\":..,\"score\":..,\"logits\":[..]} or "
            "{\"error\":..}.\n"
            "Texts longer than the model's maximum length are truncated.\n",
            SENTI_MAX_BATCH, DEFAULT_BATCH);
}

/* One group of inputs waiting to be classified. */
typedef struct group {
    uint32_t n, cap;
    char **texts; /* owned copies (NULL when the input itself was bad) */
    size_t *lens;
    char **where;     /* "line 3" / "argument 2", owned */
    senti_status *st; /* per input; pre-set to a failure for unreadable inputs */
    senti_err *errs;
    float *logits;
    /* compacted view of the good inputs for cli_runner_run */
    const char **good_texts;
    size_t *good_lens;
    uint32_t *good_idx;
    senti_status *good_st;
    senti_err *good_errs;
    float *good_logits;
} group;

static bool group_init(group *g, uint32_t cap, uint32_t n_labels)
{
    memset(g, 0, sizeof *g);
    g->cap = cap;
    g->texts = calloc(cap, sizeof *g->texts);
    g->lens = calloc(cap, sizeof *g->lens);
    g->where = calloc(cap, sizeof *g->where);
    g->st = calloc(cap, sizeof *g->st);
    g->errs = calloc(cap, sizeof *g->errs);
    g->logits = calloc((size_t)cap * n_labels, sizeof *g->logits);
    g->good_texts = calloc(cap, sizeof *g->good_texts);
    g->good_lens = calloc(cap, sizeof *g->good_lens);
    g->good_idx = calloc(cap, sizeof *g->good_idx);
    g->good_st = calloc(cap, sizeof *g->good_st);
    g->good_errs = calloc(cap, sizeof *g->good_errs);
    g->good_logits = calloc((size_t)cap * n_labels, sizeof *g->good_logits);
    return g->texts && g->lens && g->where && g->st && g->errs && g->logits && g->good_texts &&
           g->good_lens && g->good_idx && g->good_st && g->good_errs && g->good_logits;
}

static void group_clear(group *g)
{
    for (uint32_t i = 0; i < g->n; i++) free(g->texts[i]), free(g->where[i]);
    g->n = 0;
}

static void group_free(group *g)
{
    group_clear(g);
    free(g->texts), free(g->lens), free(g->where), free(g->st), free(g->errs), free(g->logits);
    free(g->good_texts), free(g->good_lens), free(g->good_idx), free(g->good_st);
    free(g->good_errs), free(g->good_logits);
}

/* Adds an input: text (owned by the group from now on) or, if text is NULL, the
 * failure st/msg that makes it unusable. */
static void group_add(group *g, char *text, size_t len, const char *where, senti_status st,
                      const char *msg)
{
    uint32_t i = g->n++;
    g->texts[i] = text;
    g->lens[i] = len;
    g->where[i] = strdup(where);
    g->st[i] = text ? SENTI_OK : st;
    memset(&g->errs[i], 0, sizeof g->errs[i]);
    if (!text) senti_fail(&g->errs[i], st, "%s", msg);
}

static void print_error(const char *where, const char *msg)
{
    char line[SENTI_ERR_MSG_MAX + 128];
    snprintf(line, sizeof line, "%s: %s", where, msg);
    fprintf(stderr, "senti predict: %s\n", line);
    json_t *o = json_pack("{s:s}", "error", line);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    printf("%s\n", s ? s : "{\"error\":\"unprintable error\"}");
    free(s);
    json_decref(o);
}

static void print_result(const cli_model *cm, const float *logits)
{
    uint32_t L = cm->n_labels, best = 0;
    float probs[SENTI_MAX_LABELS];
    eng_softmax_logits(logits, L, probs);
    for (uint32_t k = 1; k < L; k++)
        if (logits[k] > logits[best]) best = k;
    char buf[32];
    json_t *arr = json_array();
    for (uint32_t k = 0; k < L; k++) json_array_append_new(arr, json_real((double)logits[k]));
    json_t *o = json_pack("{s:s,s:f,s:o}", "label", cli_label_name(cm, best, buf, sizeof buf),
                          "score", (double)probs[best], "logits", arr);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
    printf("%s\n", s ? s : "{\"error\":\"out of memory\"}");
    free(s);
    json_decref(o);
}

/* Classifies and prints the group in order; returns the number of failures. */
static unsigned group_flush(group *g, cli_runner *r)
{
    uint32_t L = r->cm->n_labels, k = 0;
    for (uint32_t i = 0; i < g->n; i++)
        if (g->texts[i]) {
            g->good_texts[k] = g->texts[i];
            g->good_lens[k] = g->lens[i];
            g->good_idx[k++] = i;
        }
    if (k)
        cli_runner_run(r, k, g->good_texts, g->good_lens, g->good_logits, g->good_st, g->good_errs);
    for (uint32_t j = 0; j < k; j++) {
        uint32_t i = g->good_idx[j];
        g->st[i] = g->good_st[j];
        g->errs[i] = g->good_errs[j];
        memcpy(g->logits + (size_t)i * L, g->good_logits + (size_t)j * L, L * sizeof(float));
    }
    unsigned bad = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (g->st[i] == SENTI_OK)
            print_result(r->cm, g->logits + (size_t)i * L);
        else
            print_error(g->where[i], g->errs[i].msg), bad++;
    }
    fflush(stdout);
    group_clear(g);
    return bad;
}

/* A stdin line in --jsonl mode must be one JSON string. */
static char *decode_jsonl(const char *line, size_t len, size_t *out_len, char *msg, size_t cap)
{
    json_error_t jerr;
    json_t *j = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j) {
        snprintf(msg, cap, "bad JSON: %s (column %d)", jerr.text, jerr.column);
        return NULL;
    }
    if (!json_is_string(j)) {
        snprintf(msg, cap, "expected a JSON string, got another JSON value");
        json_decref(j);
        return NULL;
    }
    size_t n = json_string_length(j);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, json_string_value(j), n);
        s[n] = '\0';
        *out_len = n;
    } else {
        snprintf(msg, cap, "out of memory");
    }
    json_decref(j);
    return s;
}

int cli_cmd_predict(int argc, char **argv)
{
    const char *model = NULL;
    bool jsonl = false;
    unsigned long threads = 0, batch = DEFAULT_BATCH;
    eng_options eo = {0};
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') break;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--jsonl")) {
            jsonl = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--model") && v)
            model = v;
        else if (!strcmp(a, "--isa") && v)
            eo.isa = v;
        else if (!strcmp(a, "--threads") && v) {
            if (!cli_parse_ulong(v, 0, SENTI_MAX_THREADS, &threads)) {
                fprintf(stderr, "senti predict: --threads: '%s' is not a number in 0..%d\n", v,
                        SENTI_MAX_THREADS);
                return 2;
            }
        } else if (!strcmp(a, "--batch") && v) {
            if (!cli_parse_ulong(v, 1, SENTI_MAX_BATCH, &batch)) {
                fprintf(stderr, "senti predict: --batch: '%s' is not a number in 1..%d\n", v,
                        SENTI_MAX_BATCH);
                return 2;
            }
        } else {
            fprintf(stderr, "senti predict: %s '%s'\n\n",
                    v ? "unknown option" : "missing value for", a);
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (!model) {
        fprintf(stderr, "senti predict: --model PATH is required\n\n");
        usage(stderr);
        return 2;
    }
    eo.threads = (int)threads;

    cli_model cm;
    if (!cli_model_load("predict", model, &eo, &cm)) return 1;
    cli_runner r;
    group g;
    unsigned bad = 0;
    int rc = 1;
    if (!cli_runner_init(&r, &cm, (uint32_t)batch, "predict")) goto out_model;
    if (!group_init(&g, (uint32_t)batch, cm.n_labels)) {
        fprintf(stderr, "senti predict: out of memory\n");
        goto out;
    }
    char where[64];
    if (i < argc) {
        for (int k = i; k < argc; k++) {
            snprintf(where, sizeof where, "argument %d", k - i + 1);
            group_add(&g, strdup(argv[k]), strlen(argv[k]), where, SENTI_OK, NULL);
            if (g.n == g.cap) bad += group_flush(&g, &r);
        }
    } else {
        char *line = NULL;
        size_t cap = 0, lineno = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            size_t len = (size_t)n;
            lineno++;
            if (len && line[len - 1] == '\n') len--;
            if (len && line[len - 1] == '\r') len--;
            snprintf(where, sizeof where, "line %zu", lineno);
            if (len > SENTI_MAX_TEXT_BYTES) {
                char msg[96];
                snprintf(msg, sizeof msg, "text of %zu bytes is longer than the %u-byte limit", len,
                         (unsigned)SENTI_MAX_TEXT_BYTES);
                group_add(&g, NULL, 0, where, SENTI_E_LIMIT, msg);
            } else if (jsonl) {
                char msg[256];
                size_t tlen = 0;
                char *t = decode_jsonl(line, len, &tlen, msg, sizeof msg);
                group_add(&g, t, tlen, where, SENTI_E_INVALID, msg);
            } else {
                char *t = malloc(len + 1);
                if (t) memcpy(t, line, len), t[len] = '\0';
                group_add(&g, t, len, where, SENTI_E_NOMEM, "out of memory");
            }
            if (g.n == g.cap) bad += group_flush(&g, &r);
        }
        free(line);
        if (ferror(stdin)) {
            fprintf(stderr, "senti predict: reading stdin failed\n");
            bad++;
        }
    }
    bad += group_flush(&g, &r);
    rc = bad ? 1 : 0;
    if (bad) fprintf(stderr, "senti predict: %u input%s failed\n", bad, bad == 1 ? "" : "s");
out:
    group_free(&g);
    cli_runner_free(&r);
out_model:
    cli_model_free(&cm);
    return rc;
}
