/* cli/cli.h - the `senti` command line: one function per subcommand, plus the
 * helpers they share. Each cmd_*.c returns the process exit status
 * (0 ok, 1 failure, 2 usage error); only main() exits. */
#ifndef SENTI_CLI_H
#define SENTI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

int cli_cmd_convert(int argc, char **argv);
int cli_cmd_tokenize(int argc, char **argv);
int cli_cmd_predict(int argc, char **argv);
int cli_cmd_eval(int argc, char **argv);
int cli_cmd_serve(int argc, char **argv);
int cli_cmd_bench(int argc, char **argv);

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

#endif
