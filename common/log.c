/* common/log.c - structured log lines (JSON or text), one write(2) per line. */
#include "common/log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_level = SENTI_LOG_INFO;
static atomic_int g_format = SENTI_LOG_FORMAT_JSON;
static atomic_int g_fd = 1;

static const char *const level_names[] = {"debug", "info", "warning", "error"};
static const char *const level_names_upper[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

void senti_log_setup(senti_log_level level, senti_log_format format, int fd)
{
    atomic_store(&g_level, (int)level);
    atomic_store(&g_format, (int)format);
    atomic_store(&g_fd, fd);
}

senti_log_level senti_log_get_level(void) { return (senti_log_level)atomic_load(&g_level); }

bool senti_log_enabled(senti_log_level level) { return (int)level >= atomic_load(&g_level); }

const char *senti_log_level_name(senti_log_level level)
{
    if ((unsigned)level > SENTI_LOG_ERROR) return "unknown";
    return level_names[level];
}

bool senti_log_level_parse(const char *s, senti_log_level *out)
{
    if (!s) return false;
    for (int i = 0; i <= SENTI_LOG_ERROR; i++)
        if (!strcasecmp(s, level_names[i])) {
            *out = (senti_log_level)i;
            return true;
        }
    if (!strcasecmp(s, "warn")) {
        *out = SENTI_LOG_WARNING;
        return true;
    }
    return false;
}

bool senti_log_format_parse(const char *s, senti_log_format *out)
{
    if (!s) return false;
    if (!strcasecmp(s, "json")) *out = SENTI_LOG_FORMAT_JSON;
    else if (!strcasecmp(s, "text")) *out = SENTI_LOG_FORMAT_TEXT;
    else return false;
    return true;
}

/* A bounded writer: never overflows, remembers truncation. */
typedef struct lw {
    char *buf;
    size_t cap, len; /* cap excludes the reserved "\n\0" */
    bool full;
} lw;

static void lw_putc(lw *w, char c)
{
    if (w->len < w->cap) w->buf[w->len++] = c;
    else w->full = true;
}

static void lw_puts(lw *w, const char *s)
{
    while (*s) lw_putc(w, *s++);
}

static void lw_printf(lw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lw_printf(lw *w, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    lw_puts(w, tmp);
}

/* JSON string body (without quotes). Control characters are \u-escaped; bytes
 * >= 0x80 are copied (callers pass UTF-8). In text mode, quotes only if needed. */
static void lw_json_str(lw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (w->cap - (w->len < w->cap ? w->len : w->cap) < 8) {
            /* keep room for an ellipsis and the closing quote */
            lw_puts(w, "..."); /* room left: the closing quote still fits */
            return;
        }
        switch (*p) {
        case '"': lw_puts(w, "\\\""); break;
        case '\\': lw_puts(w, "\\\\"); break;
        case '\n': lw_puts(w, "\\n"); break;
        case '\r': lw_puts(w, "\\r"); break;
        case '\t': lw_puts(w, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                lw_puts(w, "\\u00");
                lw_putc(w, hex[*p >> 4]);
                lw_putc(w, hex[*p & 15]);
            } else {
                lw_putc(w, (char)*p);
            }
        }
    }
}

static bool text_needs_quotes(const char *s)
{
    if (!*s) return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f) return true;
    return false;
}

static void lw_time(lw *w, long long time_ms)
{
    time_t secs = (time_t)(time_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char tmp[40];
    strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
    lw_puts(w, tmp);
    lw_printf(w, ".%03dZ", (int)(time_ms % 1000));
}

static void lw_value(lw *w, const senti_log_field *f, bool json)
{
    switch (f->type) {
    case SENTI_LOG_T_STR:
        if (!f->s) {
            lw_puts(w, "null");
        } else if (json || text_needs_quotes(f->s)) {
            lw_putc(w, '"');
            lw_json_str(w, f->s);
            lw_putc(w, '"');
        } else {
            lw_json_str(w, f->s);
        }
        break;
    case SENTI_LOG_T_INT: lw_printf(w, "%lld", f->i); break;
    case SENTI_LOG_T_BOOL: lw_puts(w, f->i ? "true" : "false"); break;
    case SENTI_LOG_T_DBL:
        if (isfinite(f->d)) lw_printf(w, "%.3f", f->d);
        else lw_puts(w, "null");
        break;
    default: lw_puts(w, "null"); break;
    }
}

size_t senti_log_format_line(char *buf, size_t cap, senti_log_format format, long long time_ms,
                             senti_log_level level, const char *msg,
                             const senti_log_field *fields, size_t n)
{
    enum { RESERVE = 20 }; /* ",\"truncated\":true}" */
    if (cap < RESERVE + 3) {
        buf[0] = '\0';
        return 0;
    }
    lw w = {.buf = buf, .cap = cap - 2 - RESERVE};
    size_t last_ok = 0;
    bool json = format == SENTI_LOG_FORMAT_JSON;
    if ((unsigned)level > SENTI_LOG_ERROR) level = SENTI_LOG_ERROR;
    if (json) {
        lw_puts(&w, "{\"time\":\"");
        lw_time(&w, time_ms);
        lw_puts(&w, "\",\"level\":\"");
        lw_puts(&w, level_names[level]);
        lw_puts(&w, "\",\"msg\":\"");
        lw_json_str(&w, msg ? msg : "");
        lw_putc(&w, '"');
    } else {
        lw_time(&w, time_ms);
        lw_putc(&w, ' ');
        lw_puts(&w, level_names_upper[level]);
        lw_putc(&w, ' ');
        lw_json_str(&w, msg ? msg : "");
    }
    last_ok = w.full ? 0 : w.len;
    for (size_t i = 0; i < n && fields[i].type != SENTI_LOG_T_END; i++) {
        const senti_log_field *f = &fields[i];
        if (!f->key) continue;
        if (json) {
            lw_puts(&w, ",\"");
            lw_json_str(&w, f->key);
            lw_puts(&w, "\":");
        } else {
            lw_putc(&w, ' ');
            lw_json_str(&w, f->key);
            lw_putc(&w, '=');
        }
        lw_value(&w, f, json);
        if (w.full) break;
        last_ok = w.len;
    }
    if (w.full) {
        /* drop the field that did not fit, so the line still parses */
        w.len = last_ok;
        w.cap += RESERVE;
        lw_puts(&w, json ? ",\"truncated\":true" : " truncated=true");
    }
    if (json) lw_putc(&w, '}');
    buf[w.len++] = '\n';
    buf[w.len] = '\0';
    return w.len;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return;
        }
        p += k;
        n -= (size_t)k;
    }
}

void senti_log_fields(senti_log_level level, const char *msg, const senti_log_field *fields,
                      size_t n)
{
    if (!senti_log_enabled(level)) return;
    char buf[SENTI_LOG_LINE_MAX];
    size_t len = senti_log_format_line(buf, sizeof buf, (senti_log_format)atomic_load(&g_format),
                                       now_ms(), level, msg, fields, n);
    write_all(atomic_load(&g_fd), buf, len);
}

void senti_logf(senti_log_level level, const char *fmt, ...)
{
    if (!senti_log_enabled(level)) return;
    char msg[SENTI_LOG_LINE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    senti_log_fields(level, msg, NULL, 0);
}
