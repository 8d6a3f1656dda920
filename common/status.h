/* common/status.h - one table of status codes for the whole project, plus the
 * caller-owned error record every fallible function fills.
 *
 * Pattern: functions return senti_status; on failure they write a message that
 * names the object and the fix into a senti_err owned by the caller.
 *
 *   senti_err err = {0};
 *   if (wt_model_load(path, &m, &err) != SENTI_OK) fprintf(stderr, "%s\n", err.msg);
 */
#ifndef SENTI_COMMON_STATUS_H
#define SENTI_COMMON_STATUS_H

#include <stddef.h>

/* Append-only once released: the numeric values are part of logs and tests. */
#define SENTI_STATUS_MAP(XX)                                                   \
    XX(SENTI_OK, "ok")                                                         \
    XX(SENTI_E_NOMEM, "out of memory")                                         \
    XX(SENTI_E_IO, "input/output error")                                       \
    XX(SENTI_E_INVALID, "invalid argument")                                    \
    XX(SENTI_E_FORMAT, "malformed file")                                       \
    XX(SENTI_E_VERSION, "unsupported format version")                          \
    XX(SENTI_E_TRUNCATED, "file is truncated")                                 \
    XX(SENTI_E_CHECKSUM, "checksum mismatch")                                  \
    XX(SENTI_E_COMPRESSION, "decompression failed")                            \
    XX(SENTI_E_SHAPE, "tensor shape mismatch")                                 \
    XX(SENTI_E_MISSING, "required item missing")                               \
    XX(SENTI_E_DUPLICATE, "duplicate item")                                    \
    XX(SENTI_E_UTF8, "invalid UTF-8")                                          \
    XX(SENTI_E_LIMIT, "limit exceeded")                                        \
    XX(SENTI_E_CONFIG, "configuration error")                                  \
    XX(SENTI_E_UNSUPPORTED, "unsupported")                                     \
    XX(SENTI_E_NETWORK, "network error")                                       \
    XX(SENTI_E_INTERNAL, "internal error")

typedef enum senti_status {
#define SENTI_STATUS_ENUM_(name, msg) name,
    SENTI_STATUS_MAP(SENTI_STATUS_ENUM_)
#undef SENTI_STATUS_ENUM_
        SENTI_STATUS_COUNT_
} senti_status;

#define SENTI_ERR_MSG_MAX 512

/* Caller-owned. code mirrors the returned status; msg is always NUL-terminated. */
typedef struct senti_err {
    senti_status code;
    char msg[SENTI_ERR_MSG_MAX];
} senti_err;

/* "SENTI_E_CHECKSUM" etc.; "SENTI_E_UNKNOWN" for out-of-range values. */
const char *senti_status_name(senti_status s);
/* The generic one-line description from the table. */
const char *senti_status_message(senti_status s);

/* Fills err (may be NULL) with code and a printf-style message; returns code,
 * so callers write `return senti_fail(err, SENTI_E_IO, "open '%s': %s", ...);` */
senti_status senti_fail(senti_err *err, senti_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (for adding context on the way up). */
void senti_err_prefix(senti_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Propagate a failure: evaluates expr once; on error stores it in `st` and
 * jumps to the function's single `fail:` label. Requires `senti_status st;`. */
#define SENTI_TRY(expr)                                                        \
    do {                                                                       \
        st = (expr);                                                           \
        if (st != SENTI_OK) goto fail;                                         \
    } while (0)

#endif
