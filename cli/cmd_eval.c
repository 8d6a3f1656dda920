/* cli/cmd_eval.c - PLACEHOLDER: replaced by the real subcommand. */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_eval(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "senti eval: not available in this build yet\n");
    return 1;
}
