/* net/api.c - the JSON API: request parsing and validation for both request
 * shapes (native and Hugging Face text-embeddings-inference), reply and error
 * rendering, and the stable error-code table. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "net/net_internal.h"

static const int err_status[] = {
#define NET_ERR_STATUS_(name, status, code) status,
    NET_ERR_MAP(NET_ERR_STATUS_)
#undef NET_ERR_STATUS_
};
static const char *const err_codes[] = {
#define NET_ERR_CODE_(name, status, code) code,
    NET_ERR_MAP(NET_ERR_CODE_)
#undef NET_ERR_CODE_
};

int net_err_status(net_err e)
{
    if ((unsigned)e >= (unsigned)NET_ERR_COUNT_) return 500;
    return err_status[e];
}

const char *net_err_code(net_err e)
{
    if ((unsigned)e >= (unsigned)NET_ERR_COUNT_) return "internal_error";
    return err_codes[e];
}

/* Real numbers: 7 significant digits is exact enough for a float score. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(7))

char *net_api_render_error(net_err e, const char *message, const char *correlation_id)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "error_code", json_string(net_err_code(e)));
    json_object_set_new(o, "error_message", json_string(message ? message : ""));
    json_object_set_new(o, "correlation_id", json_string(correlation_id ? correlation_id : ""));
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    return s;
}

/* --- UTF-8 ------------------------------------------------------------------ */

bool net_utf8_check(const char *s, size_t len, size_t *chars, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            n++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            goto bad;
        }
        if (len - i <= k) goto bad;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += k + 1;
        n++;
    }
    if (chars) *chars = n;
    return true;
bad:
    if (bad_offset) *bad_offset = i;
    return false;
}

size_t net_utf8_prefix(const char *s, size_t len, size_t max_chars)
{
    size_t i = 0, n = 0;
    while (i < len && n < max_chars) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        n++;
    }
    return i;
}

/* --- requests --------------------------------------------------------------- */

static bool fail(net_api_error *e, net_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(net_api_error *e, net_err code, const char *fmt, ...)
{
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

void net_api_request_free(net_api_request *req)
{
    if (!req) return;
    senti_free(req->texts);
    senti_free(req->lens);
    senti_free(req->chars);
    json_decref(req->root);
    *req = (net_api_request){0};
}

static bool all_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n\f\v", s[i])) return false;
    return true;
}

/* Validates text i (name is the field for messages) and stores it. */
static bool take_text(net_api_request *req, uint32_t i, json_t *v, const char *name,
                      const net_api_limits *lim, net_api_error *e)
{
    char where[64];
    if (req->batch) snprintf(where, sizeof where, "%s[%u]", name, i);
    else snprintf(where, sizeof where, "%s", name);
    if (!json_is_string(v)) return fail(e, NET_ERR_INVALID_TYPE, "%s must be a string", where);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), chars = 0, bad = 0;
    if (memchr(s, '\0', len)) return fail(e, NET_ERR_INVALID_TYPE, "%s contains a NUL character", where);
    if (!net_utf8_check(s, len, &chars, &bad))
        return fail(e, NET_ERR_INVALID_UTF8, "%s: invalid UTF-8 at byte %zu", where, bad);
    if (len == 0 || all_space(s, len)) return fail(e, NET_ERR_EMPTY_TEXT, "%s is empty", where);
    if (chars > lim->max_text_chars) {
        if (!req->truncate)
            return fail(e, NET_ERR_TEXT_TOO_LONG,
                        "%s has %zu characters; the limit is %u (send \"truncate\": true or "
                        "shorten it)",
                        where, chars, lim->max_text_chars);
        len = net_utf8_prefix(s, len, lim->max_text_chars);
    }
    req->texts[i] = s;
    req->lens[i] = len;
    req->chars[i] = (uint32_t)chars;
    return true;
}

static bool alloc_texts(net_api_request *req, uint32_t n, net_api_error *e)
{
    req->n = n;
    req->texts = senti_calloc(n ? n : 1, sizeof *req->texts);
    req->lens = senti_calloc(n ? n : 1, sizeof *req->lens);
    req->chars = senti_calloc(n ? n : 1, sizeof *req->chars);
    if (!req->texts || !req->lens || !req->chars)
        return fail(e, NET_ERR_INTERNAL, "out of memory");
    return true;
}

static bool take_list(net_api_request *req, json_t *arr, const char *name,
                      const net_api_limits *lim, net_api_error *e)
{
    size_t n = json_array_size(arr);
    if (n == 0) return fail(e, NET_ERR_EMPTY_TEXT, "%s is an empty list", name);
    if (n > lim->max_texts)
        return fail(e, NET_ERR_TOO_MANY_TEXTS, "%s has %zu texts; the limit is %u per request",
                    name, n, lim->max_texts);
    if (!alloc_texts(req, (uint32_t)n, e)) return false;
    for (uint32_t i = 0; i < n; i++)
        if (!take_text(req, i, json_array_get(arr, i), name, lim, e)) return false;
    return true;
}

static bool parse_tei(net_api_request *req, const net_api_limits *lim, net_api_error *e)
{
    json_t *inputs = json_object_get(req->root, "inputs");
    json_t *raw = json_object_get(req->root, "raw_scores");
    json_t *trunc = json_object_get(req->root, "truncate");
    req->shape = NET_SHAPE_TEI;
    if (raw && !json_is_null(raw)) {
        if (!json_is_boolean(raw)) return fail(e, NET_ERR_INVALID_TYPE, "raw_scores must be a boolean");
        req->raw_scores = json_is_true(raw);
    }
    if (trunc && !json_is_null(trunc)) {
        if (!json_is_boolean(trunc)) return fail(e, NET_ERR_INVALID_TYPE, "truncate must be a boolean");
        req->truncate = json_is_true(trunc);
    }
    if (json_is_array(inputs)) {
        req->batch = true;
        return take_list(req, inputs, "inputs", lim, e);
    }
    if (!json_is_string(inputs))
        return fail(e, NET_ERR_INVALID_TYPE, "inputs must be a string or a list of strings");
    if (!alloc_texts(req, 1, e)) return false;
    return take_text(req, 0, inputs, "inputs", lim, e);
}

bool net_api_parse(net_route_kind kind, const char *body, size_t len, const net_api_limits *lim,
                   net_api_request *req, net_api_error *e)
{
    *req = (net_api_request){.truncate = lim->truncate};
    e->code = NET_ERR_NONE;
    e->msg[0] = '\0';
    size_t bad = 0;
    bool ok = false;
    if (len == 0 || all_space(body, len)) {
        fail(e, NET_ERR_MALFORMED_JSON, "request body is empty; expected a JSON object");
        goto done;
    }
    if (!net_utf8_check(body, len, NULL, &bad)) {
        fail(e, NET_ERR_INVALID_UTF8, "request body: invalid UTF-8 at byte %zu", bad);
        goto done;
    }
    json_error_t je;
    /* NUL inside strings is parsed so the text rules can name it (422, not 400) */
    req->root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!req->root) {
        fail(e, NET_ERR_MALFORMED_JSON, "malformed JSON at line %d column %d: %s", je.line,
             je.column, je.text);
        goto done;
    }
    if (!json_is_object(req->root)) {
        fail(e, NET_ERR_INVALID_TYPE, "request body must be a JSON object");
        goto done;
    }
    if (kind == NET_ROUTE_PREDICT) {
        if (json_object_get(req->root, "inputs")) {
            ok = parse_tei(req, lim, e);
            goto done;
        }
        json_t *text = json_object_get(req->root, "text");
        if (!text) {
            fail(e, NET_ERR_MISSING_FIELD, "missing field \"text\" (or \"inputs\")");
            goto done;
        }
        if (!alloc_texts(req, 1, e)) goto done;
        ok = take_text(req, 0, text, "text", lim, e);
    } else {
        json_t *texts = json_object_get(req->root, "texts");
        req->batch = true;
        if (!texts) {
            fail(e, NET_ERR_MISSING_FIELD, "missing field \"texts\"");
            goto done;
        }
        if (!json_is_array(texts)) {
            fail(e, NET_ERR_INVALID_TYPE, "texts must be a list of strings");
            goto done;
        }
        ok = take_list(req, texts, "texts", lim, e);
    }
done:
    if (!ok) net_api_request_free(req);
    return ok;
}

/* --- replies ---------------------------------------------------------------- */

static json_t *native_obj(const net_api_pred *p, const net_api_info *info)
{
    json_t *o = json_object();
    if (!o) return NULL;
    uint32_t l = p->label < p->n_labels ? p->label : 0;
    json_object_set_new(o, "label", json_string(info->labels[l]));
    json_object_set_new(o, "score", json_real((double)p->probs[l]));
    json_object_set_new(o, "prediction_id", json_string(p->prediction_id));
    json_object_set_new(o, "inference_time_ms", json_real(p->inference_ms));
    json_object_set_new(o, "model_name", json_string(info->model_name));
    json_object_set_new(o, "text_length", json_integer(p->text_chars));
    json_object_set_new(o, "backend", json_string(info->backend));
    json_object_set_new(o, "cached", json_boolean(p->cached));
    return o;
}

static json_t *tei_list(const net_api_pred *p, const net_api_info *info, bool raw)
{
    const float *v = raw ? p->logits : p->probs;
    uint32_t order[SENTI_MAX_LABELS];
    uint32_t n = p->n_labels <= SENTI_MAX_LABELS ? p->n_labels : SENTI_MAX_LABELS;
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    /* insertion sort by value, descending; stable for ties (label id order) */
    for (uint32_t i = 1; i < n; i++) {
        uint32_t x = order[i], j = i;
        while (j > 0 && v[order[j - 1]] < v[x]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "label", json_string(info->labels[order[i]]));
        json_object_set_new(o, "score", json_real((double)v[order[i]]));
        json_array_append_new(a, o);
    }
    return a;
}

char *net_api_render_preds(const net_api_request *req, const net_api_pred *preds,
                           const net_api_info *info)
{
    json_t *root = NULL;
    if (req->shape == NET_SHAPE_TEI) {
        if (req->batch) {
            root = json_array();
            for (uint32_t i = 0; root && i < req->n; i++)
                json_array_append_new(root, tei_list(&preds[i], info, req->raw_scores));
        } else {
            root = tei_list(&preds[0], info, req->raw_scores);
        }
    } else if (req->batch) {
        json_t *list = json_array();
        for (uint32_t i = 0; list && i < req->n; i++)
            json_array_append_new(list, native_obj(&preds[i], info));
        root = json_object();
        if (root) json_object_set_new(root, "predictions", list);
        else json_decref(list);
    } else {
        root = native_obj(&preds[0], info);
    }
    if (!root) return NULL;
    char *s = json_dumps(root, DUMP_FLAGS);
    json_decref(root);
    return s;
}
