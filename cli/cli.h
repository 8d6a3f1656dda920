/* cli/cli.h - the `senti` command line: one function per subcommand, plus the
 * helpers they share. Each cmd_*.c returns the process exit status
 * (0 ok, 1 failure, 2 usage error); only main() exits. */
#ifndef SENTI_CLI_H
#define SENTI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"
#include "tokenizer/tokenizer.h"
#include "weights/weights.h"

int cli_cmd_convert(int argc, char **argv);
int cli_cmd_tokenize(int argc, char **argv);
int cli_cmd_predict(int argc, char **argv);
int cli_cmd_eval(int argc, char **argv);
int cli_cmd_serve(int argc, char **argv);
int cli_cmd_bench(int argc, char **argv);

/* Re-executes once with OPENBLAS_CORETYPE set when OpenBLAS fell back to its
 * slowest kernels on a CPU it does not know (see cli/blas_setup.c). Call first. */
void cli_blas_setup(char **argv);
/* OpenBLAS kernel family in use ("SkylakeX", "Haswell", ...). */
const char *cli_blas_core(void);

/* Progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct cli_progress {
    bool enabled;
    const char *label;
    uint64_t total;
    int last_permille;
} cli_progress;
void cli_progress_init(cli_progress *p, const char *label, uint64_t total);
void cli_progress_update(cli_progress *p, uint64_t done);
void cli_progress_done(cli_progress *p);

/* Parses a whole decimal string into [min, max]; false (out untouched) otherwise. */
bool cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* A model ready to classify text (cli/model_load.c). */
typedef struct cli_model {
    wt_model *w;
    tok_tokenizer *tok;
    eng_model *m;
    uint32_t max_len;  /* ids per text: min(tokenizer max, positions, SENTI_MAX_SEQ) */
    uint32_t n_labels;
} cli_model;
/* PATH is a .senti file (wt_model_load) or a Hugging Face directory (wt_import_hf).
 * On failure prints "senti CMD: <message>" to stderr and returns false. */
bool cli_model_load(const char *cmd, const char *path, const eng_options *opt, cli_model *out);
void cli_model_free(cli_model *cm);
/* The config's name for label i, or "LABEL_<i>" (written to buf) when it has none. */
const char *cli_label_name(const cli_model *cm, uint32_t i, char *buf, size_t cap);

/* Tokenizes and classifies up to `batch` texts at a time with one engine state. */
typedef struct cli_runner {
    const cli_model *cm;
    eng_state *s;
    uint32_t batch;
    size_t budget;        /* tokens per engine call */
    int32_t *ids;         /* batch x max_len */
    uint32_t *lens, *slot;
    const int32_t **ptr;
    float *logits;        /* batch x n_labels */
} cli_runner;
bool cli_runner_init(cli_runner *r, const cli_model *cm, uint32_t batch, const char *cmd);
void cli_runner_free(cli_runner *r);
/* n <= batch texts: for each, st[i] == SENTI_OK and logits[i * n_labels ...], or
 * the failure (bad UTF-8, ...) in st[i] / errs[i]. Results do not depend on grouping. */
void cli_runner_run(cli_runner *r, uint32_t n, const char *const *texts, const size_t *lens,
                    float *logits, senti_status *st, senti_err *errs);

#endif
