/* cli/cmd_tokenize.c - PLACEHOLDER: replaced by the real subcommand. */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_tokenize(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "senti tokenize: not available in this build yet\n");
    return 1;
}
