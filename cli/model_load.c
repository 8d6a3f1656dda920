/* cli/model_load.c - what predict and eval share: load a model from a .senti
 * file or a Hugging Face directory (weights, tokenizer, engine), and classify
 * a group of texts in engine batches that respect the state's token budget. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

/* Tokens one engine call may carry: a full-length (512) text always fits, and
 * typical SST-2 batches (~25 tokens a text) of up to 160 texts go in one call.
 * Activations are ~21 KB a token at DistilBERT-base size: 4096 tokens ~ 90 MB. */
#define CLI_TOKEN_BUDGET 4096

bool cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!s || *s < '0' || *s > '9') return false;
    errno = 0;
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

bool cli_model_load(const char *cmd, const char *path, const eng_options *opt, cli_model *out)
{
    memset(out, 0, sizeof *out);
    senti_err err = {0};
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "senti %s: model '%s': %s\n", cmd, path, strerror(errno));
        return false;
    }
    senti_status st = S_ISDIR(sb.st_mode) ? wt_import_hf(path, &out->w, &err)
                                          : wt_model_load(path, &out->w, &err);
    if (st == SENTI_OK) st = tok_create_from_model(out->w, &out->tok, &err);
    if (st == SENTI_OK) st = eng_model_create(out->w, opt, &out->m, &err);
    if (st != SENTI_OK) {
        fprintf(stderr, "senti %s: %s\n", cmd, err.msg);
        cli_model_free(out);
        return false;
    }
    /* The engine keeps its own packed copy of the linear weights (int8, and f32
     * with AVX-512): drop the file's (out->w still serves config, vocabulary and
     * metadata). */
    eng_model_release_packed(out->m, out->w);
    const wt_config *c = wt_model_config(out->w);
    uint32_t max_len = tok_max_length(out->tok);
    if (max_len > c->max_positions) max_len = c->max_positions;
    if (max_len > SENTI_MAX_SEQ) max_len = SENTI_MAX_SEQ;
    out->max_len = max_len;
    out->n_labels = c->n_labels;
    return true;
}

void cli_model_free(cli_model *cm)
{
    eng_model_free(cm->m);
    tok_free(cm->tok);
    wt_model_free(cm->w);
    memset(cm, 0, sizeof *cm);
}

const char *cli_label_name(const cli_model *cm, uint32_t i, char *buf, size_t cap)
{
    const char *name = wt_model_config(cm->w)->labels[i];
    if (name[0]) return name;
    snprintf(buf, cap, "LABEL_%u", i);
    return buf;
}

bool cli_runner_init(cli_runner *r, const cli_model *cm, uint32_t batch, const char *cmd)
{
    memset(r, 0, sizeof *r);
    r->cm = cm;
    r->batch = batch;
    size_t all = (size_t)batch * cm->max_len;
    size_t budget = all < CLI_TOKEN_BUDGET ? all : CLI_TOKEN_BUDGET;
    if (budget < cm->max_len) budget = cm->max_len;
    r->budget = budget;
    senti_err err = {0};
    if (eng_state_create_tokens(cm->m, batch, cm->max_len, budget, &r->s, &err) != SENTI_OK) {
        fprintf(stderr, "senti %s: %s\n", cmd, err.msg);
        return false;
    }
    r->ids = malloc(all * sizeof *r->ids);
    r->lens = malloc(batch * sizeof *r->lens);
    r->ptr = malloc(batch * sizeof *r->ptr);
    r->slot = malloc(batch * sizeof *r->slot);
    r->logits = malloc((size_t)batch * cm->n_labels * sizeof *r->logits);
    if (!r->ids || !r->lens || !r->ptr || !r->slot || !r->logits) {
        fprintf(stderr, "senti %s: out of memory for a batch of %u\n", cmd, batch);
        cli_runner_free(r);
        return false;
    }
    return true;
}

void cli_runner_free(cli_runner *r)
{
    eng_state_free(r->s);
    free(r->ids), free(r->lens), free(r->ptr), free(r->slot), free(r->logits);
    memset(r, 0, sizeof *r);
}

/* Runs the k queued sequences and scatters their logits to their texts. */
static void run_queued(cli_runner *r, uint32_t k, float *logits, senti_status *st, senti_err *errs)
{
    if (k == 0) return;
    uint32_t L = r->cm->n_labels;
    senti_err err = {0};
    senti_status s = eng_forward(r->cm->m, r->s, k, r->ptr, r->lens, r->logits, &err);
    for (uint32_t j = 0; j < k; j++) {
        uint32_t i = r->slot[j];
        st[i] = s;
        if (s == SENTI_OK)
            memcpy(logits + (size_t)i * L, r->logits + (size_t)j * L, L * sizeof *logits);
        else
            errs[i] = err;
    }
}

void cli_runner_run(cli_runner *r, uint32_t n, const char *const *texts, const size_t *lens,
                    float *logits, senti_status *st, senti_err *errs)
{
    uint32_t k = 0;
    size_t tokens = 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t *ids = r->ids + (size_t)k * r->cm->max_len;
        tok_encoding enc;
        memset(&errs[i], 0, sizeof errs[i]);
        st[i] = tok_encode(r->cm->tok, texts[i], lens[i], ids, r->cm->max_len, &enc, &errs[i]);
        if (st[i] != SENTI_OK) continue;
        if (tokens + enc.n > r->budget) {
            /* Run what is queued; this text's ids (slot k) move to slot 0. */
            run_queued(r, k, logits, st, errs);
            if (k) memmove(r->ids, ids, enc.n * sizeof *ids);
            ids = r->ids;
            k = 0, tokens = 0;
        }
        r->ptr[k] = ids;
        r->lens[k] = enc.n;
        r->slot[k] = i;
        k++;
        tokens += enc.n;
    }
    run_queued(r, k, logits, st, errs);
}
