/* cli/cmd_serve.c - PLACEHOLDER: replaced by the real subcommand. */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "senti serve: not available in this build yet\n");
    return 1;
}
