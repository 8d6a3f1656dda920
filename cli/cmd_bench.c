/* cli/cmd_bench.c - `senti bench`: correctness check, then latency per sequence
 * length and batch, throughput on a labelled TSV, tokenizer MB/s, load time and
 * peak RSS. Prints a markdown table, or JSON with --json. Never asserts times. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "common/alloc.h"
#include "common/limits.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"
#include "weights/weights.h"

#define BENCH_MAX_POINTS 32

typedef struct bench_opts {
    const char *model, *isa, *tsv;
    int threads;
    uint32_t seqs[BENCH_MAX_POINTS], n_seqs;
    uint32_t batches[BENCH_MAX_POINTS], n_batches;
    uint32_t tput[BENCH_MAX_POINTS], n_tput;
    double seconds; /* time budget per latency point */
    int json, check;
} bench_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: senti bench --model PATH [options]\n"
            "  --model PATH       .senti file or Hugging Face directory\n"
            "  --threads N        math threads (default: all cores)\n"
            "  --seq LIST         sequence lengths incl. [CLS]/[SEP] (default 8,16,32,64,128,256,512)\n"
            "  --batch LIST       batch sizes for the latency table (default 1)\n"
            "  --tsv FILE         labelled TSV (sentence<TAB>label): throughput + tokenizer MB/s\n"
            "  --tput-batch LIST  batch sizes for the throughput run (default 1,8,32)\n"
            "  --seconds S        time budget per latency point (default 2)\n"
            "  --isa NAME         kernel set: auto, ref, avx2, avx512\n"
            "  --no-check         skip the fast-vs-reference correctness check\n"
            "  --json             one JSON document instead of tables\n");
}

static int parse_list(const char *s, uint32_t *out, uint32_t *n, uint32_t max_value)
{
    *n = 0;
    char *end;
    while (*s) {
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || errno || v == 0 || v > max_value || *n == BENCH_MAX_POINTS) return -1;
        out[(*n)++] = (uint32_t)v;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return *n ? 0 : -1;
}

static uint32_t max_of(const uint32_t *v, uint32_t n)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

/* Deterministic token ids: [CLS] body... [SEP], body ids drawn from 1000..vocab. */
static void make_ids(int32_t *ids, uint32_t T, uint32_t vocab, int32_t cls, int32_t sep,
                     uint64_t *rng)
{
    for (uint32_t i = 0; i < T; i++) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)(1000 + (*rng >> 33) % (vocab > 1000 ? vocab - 1000 : 1));
    }
    ids[0] = cls;
    if (T > 1) ids[T - 1] = sep;
}

static senti_status load_model(const char *path, wt_model **w, senti_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return senti_fail(err, SENTI_E_IO, "model '%s': %s", path, strerror(errno));
    return S_ISDIR(st.st_mode) ? wt_import_hf(path, w, err) : wt_model_load(path, w, err);
}

typedef struct sentence_set {
    char **text;
    int *label;
    size_t n, bytes;
} sentence_set;

static void sentences_free(sentence_set *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->text[i]);
    free(s->text);
    free(s->label);
}

static int read_tsv(const char *path, sentence_set *s)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "senti bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(s, 0, sizeof *s);
    size_t cap = 0, len = 0;
    char *line = NULL;
    ssize_t r;
    int lineno = 0;
    while ((r = getline(&line, &len, f)) >= 0) {
        lineno++;
        if (lineno == 1 && !strncmp(line, "sentence\t", 9)) continue;
        char *tab = strrchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        if (s->n == cap) {
            cap = cap ? cap * 2 : 1024;
            s->text = realloc(s->text, cap * sizeof *s->text);
            s->label = realloc(s->label, cap * sizeof *s->label);
        }
        s->label[s->n] = atoi(tab + 1);
        s->text[s->n] = strdup(line);
        s->bytes += strlen(line);
        s->n++;
    }
    free(line);
    fclose(f);
    return 0;
}

int cli_cmd_bench(int argc, char **argv)
{
    bench_opts o = {.seconds = 2.0, .check = 1};
    parse_list("8,16,32,64,128,256,512", o.seqs, &o.n_seqs, SENTI_MAX_SEQ);
    parse_list("1", o.batches, &o.n_batches, SENTI_MAX_BATCH);
    parse_list("1,8,32", o.tput, &o.n_tput, SENTI_MAX_BATCH);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) o.json = 1;
        else if (!strcmp(a, "--no-check")) o.check = 0;
        else if (!v) bad = 1;
        else if (!strcmp(a, "--model")) o.model = argv[++i];
        else if (!strcmp(a, "--isa")) o.isa = argv[++i];
        else if (!strcmp(a, "--tsv")) o.tsv = argv[++i];
        else if (!strcmp(a, "--threads")) o.threads = atoi(argv[++i]), bad = o.threads < 0;
        else if (!strcmp(a, "--seconds")) o.seconds = atof(argv[++i]), bad = !(o.seconds > 0);
        else if (!strcmp(a, "--seq")) bad = parse_list(argv[++i], o.seqs, &o.n_seqs, SENTI_MAX_SEQ);
        else if (!strcmp(a, "--batch"))
            bad = parse_list(argv[++i], o.batches, &o.n_batches, SENTI_MAX_BATCH);
        else if (!strcmp(a, "--tput-batch"))
            bad = parse_list(argv[++i], o.tput, &o.n_tput, SENTI_MAX_BATCH);
        else bad = 1;
        if (bad) {
            fprintf(stderr, "senti bench: bad or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (o.threads == 0) o.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (!o.model) {
        fprintf(stderr, "senti bench: --model is required\n");
        usage(stderr);
        return 2;
    }

    int rc = 1;
    senti_err err = {0};
    wt_model *w = NULL;
    tok_tokenizer *tok = NULL;
    eng_model *m = NULL, *mref = NULL;
    eng_state *s = NULL, *sref = NULL;
    int32_t *ids = NULL;
    float *logits = NULL, *logits_ref = NULL;
    int32_t **rows = NULL;
    uint32_t *lens = NULL;
    sentence_set set = {0};
    json_t *results = json_array(), *tput = json_array();

    double t0 = bench_now();
    if (load_model(o.model, &w, &err) != SENTI_OK) goto fail;
    double load_weights_s = bench_now() - t0;
    eng_options eo = {.isa = o.isa, .threads = o.threads};
    if (tok_create_from_model(w, &tok, &err) != SENTI_OK) goto fail;
    if (eng_model_create(w, &eo, &m, &err) != SENTI_OK) goto fail;
    double load_s = bench_now() - t0;
    uint64_t rss_loaded = 0;
    const wt_config *c = eng_model_config(m);

    uint32_t max_t = max_of(o.seqs, o.n_seqs), max_b = max_of(o.batches, o.n_batches);
    uint32_t max_tb = max_of(o.tput, o.n_tput);
    if (max_t > c->max_positions) {
        fprintf(stderr, "senti bench: --seq %u exceeds the model's %u positions\n", max_t,
                c->max_positions);
        rc = 2;
        goto fail;
    }
    uint32_t state_b = max_b > max_tb ? max_b : max_tb;
    int32_t cls = tok_token_to_id(tok, c->tok.cls_token), sep = tok_token_to_id(tok, c->tok.sep_token);
    ids = senti_calloc((size_t)state_b * max_t, sizeof *ids);
    rows = senti_calloc(state_b, sizeof *rows);
    lens = senti_calloc(state_b, sizeof *lens);
    logits = senti_calloc((size_t)state_b * c->n_labels, sizeof *logits);
    logits_ref = senti_calloc((size_t)state_b * c->n_labels, sizeof *logits_ref);
    if (!ids || !rows || !lens || !logits || !logits_ref) {
        senti_fail(&err, SENTI_E_NOMEM, "out of memory");
        goto fail;
    }
    uint64_t rng = 42;

    /* 1. correctness first: the selected kernels against the scalar reference kernels. */
    double check_diff = -1;
    /* fp32: kernels differ only in rounding. int8: a last-bit difference before a
     * per-row activation quantization can move a value by one quantization step,
     * so the fast and reference int8 paths agree to ~1e-2 on logits, not 1e-6. */
    const char *dtype = wt_model_meta(w, "dtype");
    int is_int8 = dtype && !strncmp(dtype, "int8", 4); /* "int8" or "int8-all" */
    double check_tol = is_int8 ? 5e-2 : 1e-3;
    if (o.check) {
        eng_options ro = {.isa = "ref", .threads = o.threads};
        uint32_t T = max_t < 32 ? max_t : 32;
        if (eng_model_create(w, &ro, &mref, &err) != SENTI_OK) goto fail;
        if (eng_state_create(mref, 1, T, &sref, &err) != SENTI_OK) goto fail;
        if (eng_state_create(m, 1, T, &s, &err) != SENTI_OK) goto fail;
        make_ids(ids, T, c->vocab_size, cls, sep, &rng);
        const int32_t *row = ids;
        if (eng_forward(m, s, 1, &row, &T, logits, &err) != SENTI_OK) goto fail;
        if (eng_forward(mref, sref, 1, &row, &T, logits_ref, &err) != SENTI_OK) goto fail;
        check_diff = 0;
        for (uint32_t j = 0; j < c->n_labels; j++)
            check_diff = fmax(check_diff, fabs((double)logits[j] - (double)logits_ref[j]));
        if (!(check_diff <= check_tol)) {
            fprintf(stderr, "senti bench: correctness check failed: max |logit diff| %g between "
                            "'%s' and 'ref' kernels (limit %g)\n",
                    check_diff, eng_model_isa(m), check_tol);
            goto fail;
        }
        /* the reference engine borrows w's weights: gone before they are released */
        eng_state_free(sref);
        eng_model_free(mref);
        eng_state_free(s);
        sref = NULL, mref = NULL, s = NULL;
    }
    /* as serve, predict and eval do (cli_model_load): the engine's packed copy only;
     * RSS measured before the activations are allocated, as before */
    eng_model_release_packed(m, w);
    rss_loaded = bench_rss();
    if (eng_state_create(m, state_b, max_t, &s, &err) != SENTI_OK) goto fail;

    char cpu[256], flags[256];
    bench_cpu_info(cpu, sizeof cpu, flags, sizeof flags);
    if (!o.json) {
        printf("senti bench: commit %s, cpu %s [%s], isa %s, blas %s, threads %d\n",
               SENTI_COMMIT, cpu, flags, eng_model_isa(m), cli_blas_core(), o.threads);
        printf("model: %s dim %u, layers %u, heads %u, hidden %u, vocab %u\n", o.model, c->dim,
               c->n_layers, c->n_heads, c->hidden_dim, c->vocab_size);
        printf("load: %.3f s (weights %.3f s), RSS after load %.1f MB\n", load_s, load_weights_s,
               (double)rss_loaded / 1048576.0);
        if (o.check)
            printf("check: max |logit diff| vs ref kernels %.3g (limit %g, %s) ok\n", check_diff,
                   check_tol, is_int8 ? "int8" : "fp32");
        printf("\n| batch | T | median ms | p90 ms | min ms | runs | GFLOP/s |\n"
               "|---:|---:|---:|---:|---:|---:|---:|\n");
    }

    /* 2. latency per (batch, T) */
    double *samples = NULL;
    for (uint32_t bi = 0; bi < o.n_batches; bi++) {
        for (uint32_t si = 0; si < o.n_seqs; si++) {
            uint32_t B = o.batches[bi], T = o.seqs[si];
            for (uint32_t b = 0; b < B; b++) {
                rows[b] = ids + (size_t)b * max_t;
                lens[b] = T;
                make_ids(rows[b], T, c->vocab_size, cls, sep, &rng);
            }
            const int32_t *const *crow = (const int32_t *const *)rows;
            for (int wu = 0; wu < 2; wu++)
                if (eng_forward(m, s, B, crow, lens, logits, &err) != SENTI_OK) goto fail;
            size_t cap = 512, n = 0;
            free(samples);
            samples = malloc(cap * sizeof *samples);
            double start = bench_now();
            while (n < cap && (n < 5 || bench_now() - start < o.seconds)) {
                double a = bench_now();
                if (eng_forward(m, s, B, crow, lens, logits, &err) != SENTI_OK) goto fail;
                samples[n++] = (bench_now() - a) * 1e3;
            }
            bench_stats st;
            bench_summarize(samples, n, &st);
            double gf = (double)B * bench_distilbert_flops(T, c->dim, c->hidden_dim, c->n_layers) /
                        (st.median * 1e-3) / 1e9;
            if (!o.json)
                printf("| %u | %u | %.3f | %.3f | %.3f | %zu | %.1f |\n", B, T, st.median, st.p90,
                       st.min, st.n, gf);
            json_array_append_new(
                results, json_pack("{s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:i,s:f}", "seq", (int)T, "batch",
                                   (int)B, "threads", o.threads, "median_ms", st.median, "p90_ms",
                                   st.p90, "min_ms", st.min, "max_ms", st.max, "runs", (int)st.n,
                                   "gflops", gf));
            fflush(stdout);
        }
    }
    free(samples);

    /* 3. throughput and tokenizer speed on a real text set */
    double tok_mb_s = 0;
    if (o.tsv) {
        if (read_tsv(o.tsv, &set) != 0 || set.n == 0) {
            fprintf(stderr, "senti bench: no sentences in '%s'\n", o.tsv);
            goto fail;
        }
        int32_t *all = senti_calloc(set.n * (size_t)max_t, sizeof *all);
        uint32_t *all_len = senti_calloc(set.n, sizeof *all_len);
        if (!all || !all_len) {
            senti_free(all);
            senti_free(all_len);
            senti_fail(&err, SENTI_E_NOMEM, "out of memory");
            goto fail;
        }
        size_t passes = 0;
        double start = bench_now(), el = 0;
        do {
            for (size_t i = 0; i < set.n; i++) {
                tok_encoding enc;
                if (tok_encode(tok, set.text[i], strlen(set.text[i]), all + i * max_t, max_t, &enc,
                               &err) != SENTI_OK) {
                    senti_free(all);
                    senti_free(all_len);
                    goto fail;
                }
                all_len[i] = enc.n;
            }
            passes++;
            el = bench_now() - start;
        } while (el < 0.5);
        tok_mb_s = (double)set.bytes * (double)passes / el / 1e6;
        if (!o.json)
            printf("\ntokenizer: %.1f MB/s (%zu sentences, %zu bytes, %zu passes, 1 thread)\n\n"
                   "| batch | sentences/s | accuracy |\n|---:|---:|---:|\n",
                   tok_mb_s, set.n, set.bytes, passes);
        for (uint32_t ti = 0; ti < o.n_tput; ti++) {
            uint32_t B = o.tput[ti];
            size_t correct = 0;
            start = bench_now();
            for (size_t i = 0; i < set.n; i += B) {
                uint32_t nb = (uint32_t)(set.n - i < B ? set.n - i : B);
                for (uint32_t b = 0; b < nb; b++) {
                    rows[b] = all + (i + b) * max_t;
                    lens[b] = all_len[i + b];
                }
                if (eng_forward(m, s, nb, (const int32_t *const *)rows, lens, logits, &err) !=
                    SENTI_OK) {
                    senti_free(all);
                    senti_free(all_len);
                    goto fail;
                }
                for (uint32_t b = 0; b < nb; b++) {
                    const float *lg = logits + (size_t)b * c->n_labels;
                    int best = 0;
                    for (uint32_t j = 1; j < c->n_labels; j++)
                        if (lg[j] > lg[best]) best = (int)j;
                    correct += best == set.label[i + b];
                }
            }
            el = bench_now() - start;
            double sps = (double)set.n / el;
            if (!o.json) printf("| %u | %.1f | %.4f |\n", B, sps, (double)correct / (double)set.n);
            json_array_append_new(tput, json_pack("{s:i,s:i,s:f,s:f}", "batch", (int)B, "threads",
                                                  o.threads, "sentences_per_s", sps, "accuracy",
                                                  (double)correct / (double)set.n));
            fflush(stdout);
        }
        senti_free(all);
        senti_free(all_len);
    }

    uint64_t peak = bench_peak_rss();
    if (o.json) {
        json_t *doc = json_pack(
            "{s:s,s:s,s:s,s:s,s:s,s:i,s:{s:s,s:i,s:i,s:i,s:i,s:i},s:f,s:f,s:f,s:f,s:o,s:o,s:f}",
            "commit", SENTI_COMMIT, "cpu", cpu, "flags", flags, "isa", eng_model_isa(m), "blas", cli_blas_core(), "threads",
            o.threads, "model", "path", o.model, "dim", (int)c->dim, "layers", (int)c->n_layers,
            "heads", (int)c->n_heads, "hidden", (int)c->hidden_dim, "vocab", (int)c->vocab_size,
            "load_s", load_s, "rss_after_load_mb", (double)rss_loaded / 1048576.0, "peak_rss_mb",
            (double)peak / 1048576.0, "check_max_diff", check_diff, "results", results,
            "throughput", tput, "tokenizer_mb_s", tok_mb_s);
        results = tput = NULL; /* stolen by "o" */
        char *text = json_dumps(doc, JSON_INDENT(2));
        puts(text);
        free(text);
        json_decref(doc);
    } else {
        printf("\npeak RSS %.1f MB\n", (double)peak / 1048576.0);
    }
    rc = 0;
fail:
    if (rc == 1 && err.msg[0]) fprintf(stderr, "senti bench: %s\n", err.msg);
    json_decref(results);
    json_decref(tput);
    sentences_free(&set);
    senti_free(ids);
    senti_free(rows);
    senti_free(lens);
    senti_free(logits);
    senti_free(logits_ref);
    eng_state_free(sref);
    eng_state_free(s);
    eng_model_free(mref);
    eng_model_free(m);
    tok_free(tok);
    wt_model_free(w);
    return rc;
}
