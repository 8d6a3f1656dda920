/* tests/support/testutil.c - helpers shared by the C tests. */
#include "tests/support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

const char *tu_shared(void)
{
    const char *s = getenv("SHARED");
    return (s && *s) ? s : "../shared";
}

const char *tu_shared_path(const char *rel)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", tu_shared(), rel);
    return b;
}

const char *tu_senti_bin(void)
{
    const char *s = getenv("SENTI_BIN");
    return (s && *s) ? s : "bin/senti";
}

bool tu_quick(void)
{
    const char *s = getenv("SENTI_TEST_QUICK");
    return s && *s && strcmp(s, "0") != 0;
}

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/senti-test-XXXXXX", (base && *base) ? base : "/tmp");
    if (!mkdtemp(tmpl)) return NULL;
    return strdup(tmpl);
}

void tu_rmtree(const char *dir)
{
    if (!dir || strncmp(dir, "/tmp/", 5) != 0) return; /* only our own temp dirs */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

json_t **tu_read_jsonl(const char *path, size_t *n)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    *n = 0;
    if (!text) return NULL;
    size_t cap = 1024, count = 0;
    json_t **rows = malloc(cap * sizeof *rows);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!*line) continue;
        json_error_t jerr;
        json_t *j = json_loads(line, 0, &jerr);
        if (!j) {
            fprintf(stderr, "%s: bad JSON line: %s\n", path, jerr.text);
            continue;
        }
        if (count == cap) {
            cap *= 2;
            rows = realloc(rows, cap * sizeof *rows);
        }
        rows[count++] = j;
    }
    free(text);
    *n = count;
    return rows;
}

char *tu_run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap + 1);
    while ((r = fread(buf + n, 1, cap - n, p)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    buf[n] = '\0';
    int st = pclose(p);
    if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

uint32_t tu_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

float tu_frand(uint32_t *state, float lo, float hi)
{
    return lo + (hi - lo) * (float)(tu_rand(state) >> 8) * (1.0f / 16777216.0f);
}
