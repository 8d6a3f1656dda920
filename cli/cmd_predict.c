/* cli/cmd_predict.c - PLACEHOLDER: replaced by the real subcommand. */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_predict(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "senti predict: not available in this build yet\n");
    return 1;
}
