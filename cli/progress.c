/* cli/progress.c - a one-line progress bar on stderr when it is a terminal. */
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"

void cli_progress_init(cli_progress *p, const char *label, uint64_t total)
{
    p->enabled = isatty(fileno(stderr)) && total > 0;
    p->label = label;
    p->total = total;
    p->last_permille = -1;
}

void cli_progress_update(cli_progress *p, uint64_t done)
{
    if (!p->enabled) return;
    if (done > p->total) done = p->total;
    int permille = (int)(done * 1000 / p->total);
    if (permille == p->last_permille) return;
    p->last_permille = permille;
    int width = 30, fill = permille * width / 1000;
    fprintf(stderr, "\r%-10s [", p->label);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %5.1f%%", (double)permille / 10.0);
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (!p->enabled) return;
    cli_progress_update(p, p->total);
    fputc('\n', stderr);
}
