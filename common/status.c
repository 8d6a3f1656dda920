/* common/status.c - status table lookups and error formatting. */
#include "common/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
#define SENTI_STATUS_NAME_(name, msg) #name,
    SENTI_STATUS_MAP(SENTI_STATUS_NAME_)
#undef SENTI_STATUS_NAME_
};

static const char *const status_msgs[] = {
#define SENTI_STATUS_MSG_(name, msg) msg,
    SENTI_STATUS_MAP(SENTI_STATUS_MSG_)
#undef SENTI_STATUS_MSG_
};

const char *senti_status_name(senti_status s)
{
    if ((unsigned)s >= (unsigned)SENTI_STATUS_COUNT_) return "SENTI_E_UNKNOWN";
    return status_names[s];
}

const char *senti_status_message(senti_status s)
{
    if ((unsigned)s >= (unsigned)SENTI_STATUS_COUNT_) return "unknown status";
    return status_msgs[s];
}

senti_status senti_fail(senti_err *err, senti_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void senti_err_prefix(senti_err *err, const char *fmt, ...)
{
    if (!err) return;
    char prefix[SENTI_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    /* Shift the old message right and put "prefix: " in front (truncating at the end). */
    size_t plen = strlen(prefix) + 2, cap = sizeof err->msg;
    if (plen >= cap) plen = cap - 1;
    size_t olen = strnlen(err->msg, cap - 1);
    if (plen + olen >= cap) olen = cap - 1 - plen;
    memmove(err->msg + plen, err->msg, olen);
    memcpy(err->msg, prefix, plen - 2);
    err->msg[plen - 2] = ':';
    err->msg[plen - 1] = ' ';
    err->msg[plen + olen] = '\0';
}
