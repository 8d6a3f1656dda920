/* cli/main.c - `senti` entry point: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"serve", cli_cmd_serve, "run the HTTP prediction service"},
    {"predict", cli_cmd_predict, "classify texts given as arguments or lines on stdin"},
    {"eval", cli_cmd_eval, "accuracy and confusion matrix on a labelled TSV"},
    {"tokenize", cli_cmd_tokenize, "WordPiece ids and tokens for each input line"},
    {"convert", cli_cmd_convert, "convert a Hugging Face checkpoint (or a synthetic one) to .senti"},
    {"bench", cli_cmd_bench, "latency and throughput benchmark"},
};

static void usage(FILE *f)
{
    fprintf(f, "senti %s (%s) - DistilBERT sentiment inference\n\n"
               "usage: senti <command> [options]   (senti <command> --help for details)\n\n"
               "commands:\n",
            SENTI_VERSION, SENTI_COMMIT);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    cli_blas_setup(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("senti %s (%s)\n", SENTI_VERSION, SENTI_COMMIT);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "senti: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
