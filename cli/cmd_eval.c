/* cli/cmd_eval.c - `senti eval`: accuracy and confusion matrix on a labelled
 * TSV (header `sentence<TAB>label`, labels as ids or names), and throughput. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

#define DEFAULT_BATCH 32

static void usage(FILE *f)
{
    fprintf(f,
            "usage: senti eval --model PATH --tsv FILE [--reference PATH] [--batch N] [--threads N]\n"
            "                  [--isa NAME]\n\n"
            "Classifies every row of a TSV with header 'sentence<TAB>label' (label = id or name)\n"
            "and prints the accuracy, the confusion matrix and sentences/s.\n"
            "  --model PATH      a .senti file or a Hugging Face model directory\n"
            "  --reference PATH  a second model (e.g. the fp32 one of an int8 --model): also\n"
            "                    prints its accuracy, the label agreement and |logit diff|\n"
            "  --tsv FILE     the labelled data, e.g. GLUE SST-2 dev.tsv\n"
            "  --batch N      texts per engine batch (1..%d, default %d)\n"
            "  --threads N    math threads (default 0 = all cores)\n"
            "  --isa NAME     kernel set: auto (default), ref, avx2, avx512\n",
            SENTI_MAX_BATCH, DEFAULT_BATCH);
}

typedef struct row {
    char *text;
    size_t len;
    uint32_t label;
    size_t lineno;
} row;

/* Label: a decimal id below n_labels, or one of the config's label names. */
static bool parse_label(const cli_model *cm, const char *s, uint32_t *out)
{
    unsigned long v;
    if (cli_parse_ulong(s, 0, cm->n_labels - 1, &v)) {
        *out = (uint32_t)v;
        return true;
    }
    for (uint32_t k = 0; k < cm->n_labels; k++) {
        char buf[32];
        if (!strcmp(s, cli_label_name(cm, k, buf, sizeof buf))) {
            *out = k;
            return true;
        }
    }
    return false;
}

/* Reads every row; bad rows are reported (file:line) and counted, not kept. */
static row *read_tsv(const char *path, const cli_model *cm, size_t *n_rows, unsigned *bad)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "senti eval: %s: cannot open: %m\n", path);
        return NULL;
    }
    row *rows = NULL;
    size_t n = 0, cap = 0, lineno = 0, lcap = 0;
    char *line = NULL;
    ssize_t got;
    bool ok = true;
    while ((got = getline(&line, &lcap, f)) >= 0) {
        size_t len = (size_t)got;
        lineno++;
        if (len && line[len - 1] == '\n') line[--len] = '\0';
        if (len && line[len - 1] == '\r') line[--len] = '\0';
        if (lineno == 1) {
            if (strcmp(line, "sentence\tlabel") != 0) {
                fprintf(stderr, "senti eval: %s:1: expected the header 'sentence<TAB>label'\n",
                        path);
                ok = false;
                break;
            }
            continue;
        }
        if (len == 0) continue;
        char *tab = memrchr(line, '\t', len);
        uint32_t label = 0;
        if (!tab || strlen(line) != len) {
            fprintf(stderr, "senti eval: %s:%zu: expected 'sentence<TAB>label'\n", path, lineno);
            (*bad)++;
            continue;
        }
        *tab = '\0';
        if (!parse_label(cm, tab + 1, &label)) {
            fprintf(stderr, "senti eval: %s:%zu: label '%s' is not 0..%u or a label name\n", path,
                    lineno, tab + 1, cm->n_labels - 1);
            (*bad)++;
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            row *nr = realloc(rows, cap * sizeof *rows);
            if (!nr) {
                ok = false;
                break;
            }
            rows = nr;
        }
        rows[n] = (row){
            .text = strdup(line), .len = (size_t)(tab - line), .label = label, .lineno = lineno};
        if (!rows[n].text) {
            ok = false;
            break;
        }
        n++;
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "senti eval: %s: read error\n", path);
        ok = false;
    }
    free(line);
    fclose(f);
    if (!ok) {
        for (size_t i = 0; i < n; i++) free(rows[i].text);
        free(rows);
        return NULL;
    }
    *n_rows = n;
    return rows ? rows : calloc(1, sizeof *rows); /* no rows is not an error */
}

static uint32_t argmax(const float *l, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t c = 1; c < n; c++)
        if (l[c] > l[best]) best = c;
    return best;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void print_report(const cli_model *cm, const uint64_t *conf, uint64_t total,
                         uint64_t correct)
{
    uint32_t L = cm->n_labels;
    printf("accuracy %.4f (%llu/%llu)\n", total ? (double)correct / (double)total : 0.0,
           (unsigned long long)correct, (unsigned long long)total);
    printf("confusion matrix (rows: true label, columns: predicted)\n%-14s", "");
    char buf[32];
    for (uint32_t p = 0; p < L; p++) printf(" %12s", cli_label_name(cm, p, buf, sizeof buf));
    printf("\n");
    for (uint32_t t = 0; t < L; t++) {
        printf("%-14s", cli_label_name(cm, t, buf, sizeof buf));
        for (uint32_t p = 0; p < L; p++) printf(" %12llu", (unsigned long long)conf[t * L + p]);
        printf("\n");
    }
}

int cli_cmd_eval(int argc, char **argv)
{
    const char *model = NULL, *tsv = NULL, *reference = NULL;
    unsigned long threads = 0, batch = DEFAULT_BATCH;
    eng_options eo = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--model") && v)
            model = v;
        else if (!strcmp(a, "--tsv") && v)
            tsv = v;
        else if (!strcmp(a, "--reference") && v)
            reference = v;
        else if (!strcmp(a, "--isa") && v)
            eo.isa = v;
        else if (!strcmp(a, "--threads") && v) {
            if (!cli_parse_ulong(v, 0, SENTI_MAX_THREADS, &threads)) {
                fprintf(stderr, "senti eval: --threads: '%s' is not a number in 0..%d\n", v,
                        SENTI_MAX_THREADS);
                return 2;
            }
        } else if (!strcmp(a, "--batch") && v) {
            if (!cli_parse_ulong(v, 1, SENTI_MAX_BATCH, &batch)) {
                fprintf(stderr, "senti eval: --batch: '%s' is not a number in 1..%d\n", v,
                        SENTI_MAX_BATCH);
                return 2;
            }
        } else {
            fprintf(stderr, "senti eval: %s '%s'\n\n",
                    (a[0] == '-' && !v) ? "missing value for" : "unknown argument", a);
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (!model || !tsv) {
        fprintf(stderr, "senti eval: --model PATH and --tsv FILE are required\n\n");
        usage(stderr);
        return 2;
    }
    eo.threads = (int)threads;

    cli_model cm, cr;
    memset(&cr, 0, sizeof cr);
    if (!cli_model_load("eval", model, &eo, &cm)) return 1;
    if (reference && !cli_model_load("eval", reference, &eo, &cr)) {
        cli_model_free(&cm);
        return 1;
    }
    if (reference && cr.n_labels != cm.n_labels) {
        fprintf(stderr, "senti eval: --reference has %u labels, --model %u\n", cr.n_labels,
                cm.n_labels);
        cli_model_free(&cr);
        cli_model_free(&cm);
        return 1;
    }
    int rc = 1;
    unsigned bad = 0;
    size_t n = 0;
    row *rows = read_tsv(tsv, &cm, &n, &bad);
    cli_runner r, rr;
    memset(&rr, 0, sizeof rr);
    uint32_t L = cm.n_labels, B = (uint32_t)batch;
    float *rlogits = calloc((size_t)B * L, sizeof *rlogits);
    senti_status *rst = calloc(B, sizeof *rst);
    senti_err *rerrs = calloc(B, sizeof *rerrs);
    uint64_t *conf = calloc((size_t)L * L, sizeof *conf);
    const char **texts = calloc(B, sizeof *texts);
    size_t *lens = calloc(B, sizeof *lens);
    float *logits = calloc((size_t)B * L, sizeof *logits);
    senti_status *st = calloc(B, sizeof *st);
    senti_err *errs = calloc(B, sizeof *errs);
    if (!rows || !cli_runner_init(&r, &cm, B, "eval")) goto out;
    if (reference && !cli_runner_init(&rr, &cr, B, "eval")) goto out_runner;
    if (!conf || !texts || !lens || !logits || !st || !errs || !rlogits || !rst || !rerrs) {
        fprintf(stderr, "senti eval: out of memory\n");
        goto out_runner;
    }

    cli_progress prog;
    cli_progress_init(&prog, "eval", n);
    uint64_t total = 0, correct = 0, rcorrect = 0, agree = 0;
    double maxd = 0.0, sumd = 0.0, secs = 0.0;
    for (size_t i = 0; i < n; i += B) {
        uint32_t k = (uint32_t)(n - i < B ? n - i : B);
        for (uint32_t j = 0; j < k; j++) texts[j] = rows[i + j].text, lens[j] = rows[i + j].len;
        double t0 = now_seconds();
        cli_runner_run(&r, k, texts, lens, logits, st, errs);
        secs += now_seconds() - t0;
        if (reference) cli_runner_run(&rr, k, texts, lens, rlogits, rst, rerrs);
        for (uint32_t j = 0; j < k; j++) {
            const row *rw = &rows[i + j];
            if (st[j] != SENTI_OK || (reference && rst[j] != SENTI_OK)) {
                fprintf(stderr, "senti eval: %s:%zu: %s\n", tsv, rw->lineno,
                        st[j] != SENTI_OK ? errs[j].msg : rerrs[j].msg);
                bad++;
                continue;
            }
            uint32_t pred = argmax(logits + (size_t)j * L, L);
            conf[rw->label * L + pred]++;
            total++;
            correct += pred == rw->label;
            if (reference) {
                uint32_t rp = argmax(rlogits + (size_t)j * L, L);
                rcorrect += rp == rw->label;
                agree += rp == pred;
                for (uint32_t c = 0; c < L; c++) {
                    double d = fabs((double)logits[j * L + c] - (double)rlogits[j * L + c]);
                    maxd = fmax(maxd, d);
                    sumd += d;
                }
            }
        }
        cli_progress_update(&prog, i + k);
    }
    cli_progress_done(&prog);
    print_report(&cm, conf, total, correct);
    if (reference) {
        double tot = total ? (double)total : 1.0;
        printf("reference %s: accuracy %.4f (%llu/%llu)\n", reference, (double)rcorrect / tot,
               (unsigned long long)rcorrect, (unsigned long long)total);
        printf("label agreement %.2f%% (%llu/%llu), |logit diff| max %.4g mean %.4g\n",
               100.0 * (double)agree / tot, (unsigned long long)agree, (unsigned long long)total,
               maxd, sumd / (tot * L));
    }
    printf("%llu sentences in %.2f s: %.1f sentences/s (batch %u, %d threads, kernels %s)\n",
           (unsigned long long)total, secs, secs > 0 ? (double)total / secs : 0.0, B,
           eng_model_threads(cm.m), eng_model_isa(cm.m));
    if (bad) fprintf(stderr, "senti eval: %u bad row%s skipped\n", bad, bad == 1 ? "" : "s");
    rc = bad ? 1 : 0;
out_runner:
    cli_runner_free(&rr);
    cli_runner_free(&r);
out:
    for (size_t i = 0; rows && i < n; i++) free(rows[i].text);
    free(rows), free(conf), free(texts), free(lens), free(logits), free(st), free(errs);
    free(rlogits), free(rst), free(rerrs);
    cli_model_free(&cr);
    cli_model_free(&cm);
    return rc;
}
