/* cli/cmd_convert.c - `senti convert`: a Hugging Face checkpoint (or a
 * deterministic synthetic one) into a .senti file (or an HF directory). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "weights/weights.h"

#define MAX_META_ARGS 32

static void usage(FILE *f)
{
    fprintf(f,
            "usage: senti convert --hf DIR --out FILE [options]\n"
            "       senti convert --synthetic base --seed N --vocab VOCAB --out FILE|DIR "
            "[--format senti|hf] [options]\n\n"
            "Reads a Hugging Face DistilBertForSequenceClassification checkpoint (config.json,\n"
            "model.safetensors, vocab.txt, tokenizer_config.json), or generates a deterministic\n"
            "DistilBERT-base-shaped one, checks it and writes a .senti weight file.\n\n"
            "options:\n"
            "  --hf DIR             Hugging Face checkpoint directory\n"
            "  --synthetic base     generate DistilBERT-base shapes, weights ~ N(0, 0.02)\n"
            "  --seed N             seed of the synthetic weights (default 0)\n"
            "  --vocab FILE         vocab.txt for --synthetic\n"
            "  --out PATH           output .senti file (or directory with --format hf)\n"
            "  --format senti|hf    output format (default senti)\n"
            "  --level N            zstd level 1..19 (default 3)\n"
            "  --dtype f32|int8|int8-all\n"
            "                       weight dtype (default f32; int8: transformer linear weights\n"
            "                       as i8_rowscale, per-row scales, the rest stays f32;\n"
            "                       int8-all: the classifier head's two linears too)\n"
            "  --meta KEY=VALUE     record a metadata string (repeatable)\n"
            "  -h, --help           this help\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "senti convert: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(try 'senti convert --help')\n");
    va_end(ap);
    return 2;
}

/* Weight dtypes the converter can produce; each entry transforms the f32 model
 * (NULL = keep f32). */
typedef struct dtype_opt {
    const char *name;
    senti_status (*apply)(wt_model **m, senti_err *err);
} dtype_opt;

/* int8: the transformer's linear weights become i8_rowscale (weights/quantize.c);
 * the classifier head (unless head), embeddings, biases and layer norms stay f32. */
static senti_status quantize(wt_model **m, bool head, senti_err *err)
{
    wt_model *q = NULL;
    senti_status st = wt_model_quantize_int8(*m, &(wt_quant_opts){.head = head}, &q, err);
    if (st != SENTI_OK) return st;
    wt_model_free(*m);
    *m = q;
    return SENTI_OK;
}

static senti_status to_int8(wt_model **m, senti_err *err)
{
    return quantize(m, false, err);
}

static senti_status to_int8_all(wt_model **m, senti_err *err)
{
    return quantize(m, true, err);
}

static const dtype_opt dtype_opts[] = {
    {"f32", NULL},
    {"int8", to_int8},
    {"int8-all", to_int8_all},
};

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_progress(uint64_t done, uint64_t total, void *user)
{
    (void)total;
    cli_progress_update(user, done);
}

typedef struct args {
    const char *hf, *synthetic, *vocab, *out, *format;
    uint64_t seed;
    int level;
    const dtype_opt *dtype;
    const char *meta[MAX_META_ARGS];
    int n_meta;
} args;

static int parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->format = "senti";
    a->dtype = &dtype_opts[0];
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return 0;
        }
        if (o[0] != '-' || o[1] != '-')
            return usage_error("unexpected argument '%s'", o);
        if (i + 1 >= argc) return usage_error("%s needs a value", o);
        const char *v = argv[++i];
        char *end;
        if (!strcmp(o, "--hf")) {
            a->hf = v;
        } else if (!strcmp(o, "--synthetic")) {
            if (strcmp(v, "base")) return usage_error("--synthetic: unknown kind '%s' (base)", v);
            a->synthetic = v;
        } else if (!strcmp(o, "--seed")) {
            errno = 0;
            a->seed = strtoull(v, &end, 10);
            if (errno || *end || !*v || v[0] == '-')
                return usage_error("--seed: '%s' is not a non-negative integer", v);
        } else if (!strcmp(o, "--vocab")) {
            a->vocab = v;
        } else if (!strcmp(o, "--out")) {
            a->out = v;
        } else if (!strcmp(o, "--format")) {
            if (strcmp(v, "senti") && strcmp(v, "hf"))
                return usage_error("--format: '%s' (senti or hf)", v);
            a->format = v;
        } else if (!strcmp(o, "--level")) {
            long l = strtol(v, &end, 10);
            if (*end || !*v || l < 1 || l > 19)
                return usage_error("--level: '%s' (must be 1..19)", v);
            a->level = (int)l;
        } else if (!strcmp(o, "--dtype")) {
            a->dtype = NULL;
            for (size_t k = 0; k < sizeof dtype_opts / sizeof dtype_opts[0]; k++)
                if (!strcmp(v, dtype_opts[k].name)) a->dtype = &dtype_opts[k];
            if (!a->dtype) return usage_error("--dtype: '%s' is not supported (f32, int8 or int8-all)",
                                            v);
        } else if (!strcmp(o, "--meta")) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) return usage_error("--meta: '%s' is not KEY=VALUE", v);
            if (a->n_meta >= MAX_META_ARGS) return usage_error("too many --meta (limit %d)", MAX_META_ARGS);
            a->meta[a->n_meta++] = v;
        } else {
            return usage_error("unknown option '%s'", o);
        }
    }
    if (!a->hf == !a->synthetic) return usage_error("give exactly one of --hf DIR or --synthetic base");
    if (!a->out) return usage_error("--out is required");
    if (a->synthetic && !a->vocab) return usage_error("--vocab is required with --synthetic");
    if (a->hf && !strcmp(a->format, "hf")) return usage_error("--format hf is for --synthetic");
    if (a->dtype->apply && !strcmp(a->format, "hf"))
        return usage_error("--format hf writes f32 only (drop --dtype %s)", a->dtype->name);
    return -1; /* go on */
}

static senti_status add_meta(wt_model *m, const args *a, senti_err *err)
{
    char buf[512];
    senti_status st;
    if (a->hf) {
        snprintf(buf, sizeof buf, "hf:%s", a->hf);
        if ((st = wt_model_set_meta(m, "source", buf, err)) != SENTI_OK) return st;
    }
    snprintf(buf, sizeof buf, "senti %s (%s)", SENTI_VERSION, SENTI_COMMIT);
    if ((st = wt_model_set_meta(m, "converter", buf, err)) != SENTI_OK) return st;
    snprintf(buf, sizeof buf, "%s", a->dtype->name);
    if ((st = wt_model_set_meta(m, "dtype", buf, err)) != SENTI_OK) return st;
    for (int i = 0; i < a->n_meta; i++) { /* user values win */
        const char *eq = strchr(a->meta[i], '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - a->meta[i]), a->meta[i]);
        if ((st = wt_model_set_meta(m, key, eq + 1, err)) != SENTI_OK) return st;
    }
    return SENTI_OK;
}

int cli_cmd_convert(int argc, char **argv)
{
    args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    double t0 = now_sec();
    senti_err err = {0};
    wt_model *m = NULL;
    senti_status st = a.hf ? wt_import_hf(a.hf, &m, &err)
                           : wt_synthetic_base(a.seed, a.vocab, &m, &err);
    if (st == SENTI_OK && a.dtype->apply) st = a.dtype->apply(&m, &err);
    if (st == SENTI_OK) st = add_meta(m, &a, &err);
    uint64_t raw = 0;
    for (uint32_t i = 0; m && i < wt_model_tensor_count(m); i++)
        raw += wt_model_tensor_at(m, i)->nbytes;
    if (st == SENTI_OK) {
        if (!strcmp(a.format, "hf")) {
            st = wt_export_hf(m, a.out, &err);
        } else {
            cli_progress prog;
            cli_progress_init(&prog, "convert", raw);
            wt_save_opts opts = {.zstd_level = a.level, .progress = on_progress, .user = &prog};
            st = wt_model_save(m, a.out, &opts, &err);
            cli_progress_done(&prog);
        }
    }
    if (st != SENTI_OK) {
        fprintf(stderr, "senti convert: %s\n", err.msg);
        wt_model_free(m);
        return 1;
    }
    struct stat sb;
    char size_path[4200];
    snprintf(size_path, sizeof size_path, "%s%s", a.out,
             strcmp(a.format, "hf") ? "" : "/model.safetensors");
    double file_mb = stat(size_path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0.0;
    printf("converted %" PRIu32 " tensors, %.1f MB raw -> %.1f MB %s in %.2f s: %s\n",
           wt_model_tensor_count(m), (double)raw / 1e6, file_mb, a.format, now_sec() - t0, a.out);
    wt_model_free(m);
    return 0;
}
