/* net/procstat.c - process figures for /metrics (Linux /proc). Missing files
 * leave the figure at 0 rather than failing the scrape. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "net/net_internal.h"

static double boot_time_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    char line[256];
    double bt = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lf", &bt) == 1) break;
    fclose(f);
    return bt;
}

void net_procstat_read(net_procstat *out)
{
    *out = (net_procstat){0};
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        unsigned long size = 0, resident = 0;
        if (fscanf(f, "%lu %lu", &size, &resident) == 2)
            out->rss_bytes = (double)resident * (double)page;
        fclose(f);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        out->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        double n = 0;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') n++;
        closedir(d);
        out->open_fds = n > 0 ? n - 1 : 0; /* minus the directory's own fd */
    }
    f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
        unsigned long long start = 0;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                               "%*d %*d %*d %llu", &start) == 1) {
            long hz = sysconf(_SC_CLK_TCK);
            if (hz > 0) out->start_time_s = boot_time_s() + (double)start / (double)hz;
        }
    }
}
