/* tests/fuzz/fuzz_api.c - the request-facing parsers of net/: JSON request
 * parsing and validation (both routes, both shapes) followed by reply
 * rendering, JWT verification, credential checks, correlation ids and the
 * UTF-8 checker. The first byte picks the parser; the rest is the input. */
#include <jansson.h>
#include <stdbool.h>

#include "net/net_internal.h"
#include "tests/fuzz/fuzz_common.h"

static const char fz_api_secret[] = "fuzz-secret-0123456789abcdef0123456789";

static void fz_api_parse(net_route_kind kind, const char *body, size_t len, bool truncate)
{
    net_api_limits lim = {.max_texts = 8, .max_text_chars = 64, .truncate = truncate};
    net_api_request req;
    net_api_error e;
    if (!net_api_parse(kind, body, len, &lim, &req, &e)) {
        FUZZ_CHECK(e.code != NET_ERR_NONE && e.msg[0]);
        FUZZ_CHECK(net_err_status(e.code) >= 400 && net_err_status(e.code) < 600);
        FUZZ_CHECK(req.root == NULL && req.texts == NULL);
        char *r = net_api_render_error(e.code, e.msg, "fuzz");
        FUZZ_CHECK(r != NULL);
        free(r);
        return;
    }
    FUZZ_CHECK(req.n >= 1 && req.n <= lim.max_texts);
    static const char *const labels[] = {"NEGATIVE", "POSITIVE"};
    net_api_pred preds[8];
    for (uint32_t i = 0; i < req.n; i++) {
        FUZZ_CHECK(req.texts[i] != NULL && req.lens[i] > 0);
        size_t chars = 0, bad = 0;
        FUZZ_CHECK(net_utf8_check(req.texts[i], req.lens[i], &chars, &bad));
        FUZZ_CHECK(chars <= lim.max_text_chars);
        FUZZ_CHECK(memchr(req.texts[i], '\0', req.lens[i]) == NULL);
        preds[i] = (net_api_pred){.label = i % 2, .n_labels = 2, .probs = {0.25f, 0.75f},
                                  .logits = {-1.0f, 1.0f}, .text_chars = req.chars[i]};
        snprintf(preds[i].prediction_id, sizeof preds[i].prediction_id, "id-%u", i);
    }
    net_api_info info = {.model_name = "fuzz", .backend = "cpu", .labels = labels};
    char *out = net_api_render_preds(&req, preds, &info);
    FUZZ_CHECK(out != NULL);
    json_t *j = json_loads(out, 0, NULL);
    FUZZ_CHECK(j != NULL); /* the reply is always valid JSON */
    json_decref(j);
    free(out);
    net_api_request_free(&req);
}

static void fz_api_jwt(const char *tok, size_t len)
{
    net_jwt_opts o = {.secret = (const unsigned char *)fz_api_secret,
                      .secret_len = sizeof fz_api_secret - 1,
                      .issuer = "iss",
                      .audience = "aud",
                      .leeway_s = 30};
    char sub[64];
    net_jwt_result r = net_jwt_verify_hs256(tok, len, &o, 1700000000, sub, sizeof sub);
    FUZZ_CHECK(net_jwt_result_message(r)[0]);
    FUZZ_CHECK(memchr(sub, '\0', sizeof sub) != NULL);
    unsigned char buf[256];
    size_t n = 0;
    (void)net_b64url_decode(tok, len < 300 ? len : 300, buf, sizeof buf, &n);
}

static void fz_api_auth(const char *s)
{
    static net_auth *a;
    if (!a) {
        const char *keys[] = {"fuzz-api-key-0123456789"};
        net_jwt_opts o = {.secret = (const unsigned char *)fz_api_secret,
                          .secret_len = sizeof fz_api_secret - 1};
        senti_err err = {0};
        FUZZ_CHECK(net_auth_create(NET_AUTH_JWT, keys, 1, &o, &a, &err) == SENTI_OK);
    }
    char principal[128], msg[160];
    net_err e = net_auth_check(a, NULL, s, 1700000000, principal, sizeof principal, msg, sizeof msg);
    FUZZ_CHECK(e == NET_ERR_NONE || e == NET_ERR_UNAUTHORIZED || e == NET_ERR_FORBIDDEN);
    /* the message is one of the fixed texts: nothing the client sent is echoed */
    static const char *const fixed[] = {
        "", "invalid API key", "Authorization header must be 'Bearer <credential>'",
        "missing credentials: send 'Authorization: Bearer <jwt>'",
        "missing credentials: send 'X-API-Key: <key>' or 'Authorization: Bearer <key>'"};
    bool known = false;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) known |= !strcmp(msg, fixed[i]);
    for (int r = NET_JWT_OK; r <= NET_JWT_BAD_AUDIENCE; r++)
        known |= !strcmp(msg, net_jwt_result_message((net_jwt_result)r));
    FUZZ_CHECK(known);
    e = net_auth_check(a, s, NULL, 1700000000, principal, sizeof principal, msg, sizeof msg);
    FUZZ_CHECK(e == NET_ERR_NONE || e == NET_ERR_UNAUTHORIZED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    /* a NUL-terminated copy for the string-based checks */
    char *z = malloc(len + 1);
    FUZZ_CHECK(z != NULL);
    memcpy(z, in, len);
    z[len] = '\0';
    switch (data[0] % 6) {
    case 0: fz_api_parse(NET_ROUTE_PREDICT, in, len, false); break;
    case 1: fz_api_parse(NET_ROUTE_PREDICT_BATCH, in, len, true); break;
    case 2: fz_api_parse(NET_ROUTE_PREDICT, in, len, true); break;
    case 3: fz_api_jwt(in, len); break;
    case 4: fz_api_auth(z); break;
    default: {
        char out[NET_CORR_ID_MAX + 1] = "x";
        if (net_corr_id_sanitize(z, out)) FUZZ_CHECK(strlen(out) >= 1 && !strcmp(out, z));
        size_t chars = 0, bad = 0;
        if (net_utf8_check(in, len, &chars, &bad)) {
            FUZZ_CHECK(chars <= len);
            FUZZ_CHECK(net_utf8_prefix(in, len, chars) == len);
            size_t half = net_utf8_prefix(in, len, chars / 2);
            FUZZ_CHECK(half <= len && net_utf8_check(in, half, NULL, NULL));
        } else {
            FUZZ_CHECK(bad < len);
        }
        break;
    }
    }
    free(z);
    return 0;
}
