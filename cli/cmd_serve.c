/* cli/cmd_serve.c - `senti serve`: load the configuration and the model, then
 * run the HTTP service until SIGTERM/SIGINT (exit 0 after a clean drain). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg/cfg.h"
#include "cli/cli.h"
#include "common/log.h"
#include "net/net.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: senti serve [--env E] [--config-dir D] [--model PATH] [--host H] [--port P]\n"
            "                   [--print-config] [--check-config]\n"
            "  --env E           profile: dev (default), staging, prod\n"
            "  --config-dir D    directory with base.yaml and <env>.yaml (default: cfg)\n"
            "  --model PATH      .senti file or Hugging Face directory (model.path)\n"
            "  --host H          bind address (server.host)\n"
            "  --port P          port, 0 = any free port (server.port)\n"
            "  --print-config    print the effective configuration (secrets redacted) and exit\n"
            "  --check-config    validate the configuration and exit (0 = valid)\n"
            "Routes are described in docs/API.md.\n");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *model_dtype(const wt_model *w)
{
    const wt_tensor *t = wt_model_tensor(w, "distilbert.transformer.layer.0.attention.q_lin.weight");
    if (!t) t = wt_model_tensor_count(w) ? wt_model_tensor_at(w, 0) : NULL;
    return t ? wt_dtype_name(t->dtype) : "unknown";
}

static int serve(const cfg_config *c)
{
    eng_options eo = {.isa = c->model.isa[0] ? c->model.isa : NULL, .threads = 1};
    cli_model cm;
    double t0 = now_ms();
    senti_log(SENTI_LOG_INFO, "loading model", SLOG_S("path", c->model.path));
    if (!cli_model_load("serve", c->model.path, &eo, &cm)) return 1;
    double load_ms = now_ms() - t0;

    static char label_buf[SENTI_MAX_LABELS][SENTI_MAX_LABEL_NAME + 16];
    static const char *labels[SENTI_MAX_LABELS];
    uint32_t n_labels = cm.n_labels > SENTI_MAX_LABELS ? SENTI_MAX_LABELS : cm.n_labels;
    for (uint32_t i = 0; i < n_labels; i++)
        labels[i] = cli_label_name(&cm, i, label_buf[i], sizeof label_buf[i]);
    const wt_config *wc = wt_model_config(cm.w);
    char backend[48];
    snprintf(backend, sizeof backend, "cpu-%s", eng_model_isa(cm.m));
    const char *sum = wt_model_file_checksum(cm.w);
    uint32_t max_seq = cm.max_len < c->model.max_seq_len ? cm.max_len : c->model.max_seq_len;
    net_model_info info = {
        .name = c->model.name,
        .path = c->model.path,
        .architecture = wc->architecture[0] ? wc->architecture : "DistilBertForSequenceClassification",
        .dtype = model_dtype(cm.w),
        .checksum = sum && *sum ? sum : "none",
        .backend = backend,
        .dim = wc->dim,
        .n_layers = wc->n_layers,
        .n_heads = wc->n_heads,
        .hidden_dim = wc->hidden_dim,
        .vocab_size = wc->vocab_size,
        .max_positions = wc->max_positions,
        .max_seq = max_seq,
        .n_labels = n_labels,
        .labels = labels,
        .load_time_ms = load_ms,
    };
    senti_log(SENTI_LOG_INFO, "model loaded", SLOG_S("name", info.name),
              SLOG_S("checksum", info.checksum), SLOG_D("load_ms", load_ms),
              SLOG_S("backend", backend), SLOG_I("max_seq", max_seq));

    net_backend be;
    net_backend_engine(cm.m, cm.tok, &be);
    net_server *s = NULL;
    senti_err err = {0};
    int rc = 1;
    if (net_server_create(c, &be, &info, &s, &err) != SENTI_OK) {
        senti_log(SENTI_LOG_ERROR, "cannot start the server", SLOG_S("error", err.msg));
        fprintf(stderr, "senti serve: %s\n", err.msg);
        goto out;
    }
    /* the bound address is always announced (scripts wait for it), even when
     * the log level hides the info line */
    if (!senti_log_enabled(SENTI_LOG_INFO))
        fprintf(stderr, "senti serve: listening on %s:%u\n", c->server.host,
                (unsigned)net_server_port(s));
    rc = net_server_run(s) == SENTI_OK ? 0 : 1;
out:
    net_server_free(s);
    cli_model_free(&cm);
    return rc;
}

int cli_cmd_serve(int argc, char **argv)
{
    const char *env = NULL, *dir = NULL;
    bool print = false, check = false;
    /* flags become "section.key=value" overrides applied last by cfg_load */
    static char ovr_buf[3][CFG_PATH_MAX + 32];
    const char *ovr[4] = {0};
    int n_ovr = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char *key = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--print-config")) {
            print = true;
            continue;
        } else if (!strcmp(a, "--check-config")) {
            check = true;
            continue;
        } else if (!strcmp(a, "--env")) {
            key = "";
            if (v) env = v;
        } else if (!strcmp(a, "--config-dir")) {
            key = "";
            if (v) dir = v;
        } else if (!strcmp(a, "--model")) {
            key = "model.path";
        } else if (!strcmp(a, "--host")) {
            key = "server.host";
        } else if (!strcmp(a, "--port")) {
            key = "server.port";
        } else {
            fprintf(stderr, "senti serve: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (!v) {
            fprintf(stderr, "senti serve: %s needs a value\n", a);
            return 2;
        }
        if (*key) {
            snprintf(ovr_buf[n_ovr], sizeof ovr_buf[n_ovr], "%s=%s", key, v);
            ovr[n_ovr] = ovr_buf[n_ovr];
            n_ovr++;
        }
        i++;
    }
    cfg_load_opts o = {.env = env, .config_dir = dir, .overrides = ovr};
    cfg_config *c = NULL;
    senti_err err = {0};
    if (cfg_load(&o, &c, &err) != SENTI_OK) {
        fprintf(stderr, "senti serve: %s\n", err.msg);
        return check ? 1 : 2;
    }
    int rc = 0;
    if (print) {
        if (cfg_print(c, stdout, true, &err) != SENTI_OK) {
            fprintf(stderr, "senti serve: %s\n", err.msg);
            rc = 1;
        }
    } else if (check) {
        printf("senti serve: configuration is valid (env %s)\n", c->env);
    } else {
        senti_log_setup((senti_log_level)c->logging.level,
                        c->logging.json ? SENTI_LOG_FORMAT_JSON : SENTI_LOG_FORMAT_TEXT, 1);
        signal(SIGPIPE, SIG_IGN);
        rc = serve(c);
    }
    cfg_free(c);
    return rc;
}
