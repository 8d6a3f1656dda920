/* cli/cmd_convert.c - PLACEHOLDER: replaced by the real subcommand. */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_convert(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "senti convert: not available in this build yet\n");
    return 1;
}
