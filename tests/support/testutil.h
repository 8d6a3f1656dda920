/* tests/support/testutil.h - helpers shared by the C tests (cmocka). */
#ifndef SENTI_TESTUTIL_H
#define SENTI_TESTUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Root of ../shared (env SHARED, else "../shared" from the repo root). */
const char *tu_shared(void);
/* "<shared>/<rel>" in a static rotating buffer (valid for the next 7 calls). */
const char *tu_shared_path(const char *rel);
/* Path of the built senti binary (env SENTI_BIN, else bin/senti). */
const char *tu_senti_bin(void);
/* True under `make valgrind` (SENTI_TEST_QUICK=1): tests use smaller workloads. */
bool tu_quick(void);
/* Fresh private directory under $TMPDIR; caller frees the string (and may rm the dir). */
char *tu_mkdtemp(void);
/* Removes a directory tree created by tu_mkdtemp. */
void tu_rmtree(const char *dir);
/* Reads a JSON-lines file: array of parsed objects (json_decref each, free array). */
json_t **tu_read_jsonl(const char *path, size_t *n);
/* Reads a whole file; *len gets its size; caller frees. NULL on error. */
char *tu_read_file(const char *path, size_t *len);
/* Runs a shell command, captures stdout (caller frees) and exit status. */
char *tu_run(const char *cmd, int *status);

/* xorshift32 test data: the same sequence on every run for a given seed (!= 0). */
uint32_t tu_rand(uint32_t *state);
/* Uniform in [lo, hi) from 24 random bits. */
float tu_frand(uint32_t *state, float lo, float hi);

#endif
