/* common/log.h - structured logging: one line per event, JSON or text.
 *
 * JSON line: {"time":"2024-01-02T03:04:05.678Z","level":"info","msg":"request",
 *             "correlation_id":"...","route":"/predict","status":200,"latency_ms":1.234}
 * Text line: 2024-01-02T03:04:05.678Z INFO request correlation_id=... status=200
 *
 * Thread-safe: each line is formatted into a local buffer and written with one
 * write(2), so lines from different threads never interleave. Lines longer than
 * SENTI_LOG_LINE_MAX are cut (a string value ends with "...").
 *
 * Policy (callers): request texts only at debug level; secrets (API keys, JWTs,
 * HMAC secrets) never.
 *
 *   senti_log(SENTI_LOG_INFO, "listening", SLOG_S("addr", "127.0.0.1:8080"));
 *   senti_logf(SENTI_LOG_WARNING, "drain timeout after %.1f s", secs);
 */
#ifndef SENTI_COMMON_LOG_H
#define SENTI_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum senti_log_level {
    SENTI_LOG_DEBUG = 0,
    SENTI_LOG_INFO = 1,
    SENTI_LOG_WARNING = 2,
    SENTI_LOG_ERROR = 3,
} senti_log_level;

typedef enum senti_log_format { SENTI_LOG_FORMAT_JSON = 0, SENTI_LOG_FORMAT_TEXT = 1 } senti_log_format;

#define SENTI_LOG_LINE_MAX 8192

typedef enum senti_log_type {
    SENTI_LOG_T_END = 0, /* terminates a field list */
    SENTI_LOG_T_STR,
    SENTI_LOG_T_INT,
    SENTI_LOG_T_DBL,
    SENTI_LOG_T_BOOL,
} senti_log_type;

typedef struct senti_log_field {
    const char *key;
    senti_log_type type;
    const char *s; /* SENTI_LOG_T_STR; NULL is written as null */
    long long i;   /* SENTI_LOG_T_INT, SENTI_LOG_T_BOOL */
    double d;      /* SENTI_LOG_T_DBL */
} senti_log_field;

#define SLOG_S(k, v) ((senti_log_field){.key = (k), .type = SENTI_LOG_T_STR, .s = (v)})
#define SLOG_I(k, v) ((senti_log_field){.key = (k), .type = SENTI_LOG_T_INT, .i = (long long)(v)})
#define SLOG_D(k, v) ((senti_log_field){.key = (k), .type = SENTI_LOG_T_DBL, .d = (double)(v)})
#define SLOG_B(k, v) ((senti_log_field){.key = (k), .type = SENTI_LOG_T_BOOL, .i = (v) ? 1 : 0})

/* Global settings (default: info, JSON, fd 1). Call before starting threads. */
void senti_log_setup(senti_log_level level, senti_log_format format, int fd);
senti_log_level senti_log_get_level(void);
bool senti_log_enabled(senti_log_level level);

/* "debug"/"info"/"warning" (or "warn")/"error" -> level; returns false if unknown. */
bool senti_log_level_parse(const char *s, senti_log_level *out);
/* "json"/"text" -> format; returns false if unknown. */
bool senti_log_format_parse(const char *s, senti_log_format *out);
const char *senti_log_level_name(senti_log_level level);

/* Writes one event with n fields (or up to a SENTI_LOG_T_END field if n == SIZE_MAX). */
void senti_log_fields(senti_log_level level, const char *msg, const senti_log_field *fields,
                      size_t n);

/* Formats one line into buf (cap bytes, always NUL-terminated, ends with '\n'); returns
 * its length. time_ms is milliseconds since the epoch. Exposed for tests. */
size_t senti_log_format_line(char *buf, size_t cap, senti_log_format format, long long time_ms,
                             senti_log_level level, const char *msg,
                             const senti_log_field *fields, size_t n);

/* senti_log(level, msg, SLOG_S(...), SLOG_I(...), ...) - at least one field. */
#define senti_log(level, msg, ...)                                                         \
    senti_log_fields((level), (msg), (const senti_log_field[]){__VA_ARGS__},               \
                     sizeof((const senti_log_field[]){__VA_ARGS__}) / sizeof(senti_log_field))

/* A message without fields, printf-style. */
void senti_logf(senti_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
