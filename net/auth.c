/* net/auth.c - request authentication: none, API key, or JWT (HS256).
 *
 * API keys are kept only as SHA-256 digests and compared digest-to-digest with
 * CRYPTO_memcmp against every configured key (no early exit), so neither the
 * content nor the length of a key leaks through timing.
 */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "net/net_internal.h"

/* A key shorter than this is refused at start-up: it could be guessed. */

struct net_auth {
    net_auth_mode mode;
    size_t n_keys;
    unsigned char (*digests)[SHA256_DIGEST_LENGTH];
    unsigned char *secret;
    size_t secret_len;
    char *issuer, *audience;
    long leeway_s;
};

void net_auth_free(net_auth *a)
{
    if (!a) return;
    if (a->secret) OPENSSL_cleanse(a->secret, a->secret_len);
    senti_free(a->secret);
    senti_free(a->digests);
    senti_free(a->issuer);
    senti_free(a->audience);
    senti_free(a);
}

senti_status net_auth_create(net_auth_mode mode, const char *const *api_keys, size_t n_keys,
                             const net_jwt_opts *jwt, net_auth **out, senti_err *err)
{
    senti_status st = SENTI_OK;
    net_auth *a = senti_calloc(1, sizeof *a);
    if (!a) return senti_fail(err, SENTI_E_NOMEM, "auth: out of memory");
    a->mode = mode;
    if (mode == NET_AUTH_API_KEY && n_keys == 0) {
        st = senti_fail(err, SENTI_E_CONFIG,
                        "auth: mode api-key needs at least one key (auth.api_keys)");
        goto fail;
    }
    if (n_keys) {
        a->digests = senti_calloc(n_keys, sizeof *a->digests);
        if (!a->digests) {
            st = senti_fail(err, SENTI_E_NOMEM, "auth: out of memory");
            goto fail;
        }
        for (size_t i = 0; i < n_keys; i++) {
            size_t len = api_keys[i] ? strlen(api_keys[i]) : 0;
            if (len < SENTI_MIN_API_KEY_BYTES) {
                st = senti_fail(err, SENTI_E_CONFIG,
                                "auth: api key #%zu is %zu bytes; use at least %d random bytes",
                                i + 1, len, SENTI_MIN_API_KEY_BYTES);
                goto fail;
            }
            SHA256((const unsigned char *)api_keys[i], len, a->digests[i]);
        }
        a->n_keys = n_keys;
    }
    if (mode == NET_AUTH_JWT) {
        if (!jwt || !jwt->secret || jwt->secret_len < 32) {
            st = senti_fail(err, SENTI_E_CONFIG,
                            "auth: mode jwt needs an HS256 secret of at least 32 bytes "
                            "(auth.jwt_secret)");
            goto fail;
        }
        a->secret = senti_malloc(jwt->secret_len);
        a->issuer = senti_strdup(jwt->issuer ? jwt->issuer : "");
        a->audience = senti_strdup(jwt->audience ? jwt->audience : "");
        if (!a->secret || !a->issuer || !a->audience) {
            st = senti_fail(err, SENTI_E_NOMEM, "auth: out of memory");
            goto fail;
        }
        memcpy(a->secret, jwt->secret, jwt->secret_len);
        a->secret_len = jwt->secret_len;
        a->leeway_s = jwt->leeway_s;
    }
    *out = a;
    return SENTI_OK;
fail:
    net_auth_free(a);
    return st;
}

net_auth_mode net_auth_get_mode(const net_auth *a) { return a->mode; }

/* Index of the matching key or -1; always compares against every key. */
static long key_index(const net_auth *a, const char *key, size_t len)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key, len, d);
    long found = -1;
    for (size_t i = 0; i < a->n_keys; i++)
        if (CRYPTO_memcmp(d, a->digests[i], sizeof d) == 0) found = (long)i;
    return found;
}

bool net_auth_api_key_ok(const net_auth *a, const char *key, size_t len)
{
    return key && a->n_keys && key_index(a, key, len) >= 0;
}

static void principal_for_key(const char *key, char *p, size_t pcap)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key, strlen(key), d);
    snprintf(p, pcap, "key:%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
}

/* "Bearer <token>" -> token, or NULL. */
static const char *bearer(const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return NULL;
    const char *t = authorization + 7;
    while (*t == ' ') t++;
    return *t ? t : NULL;
}

net_err net_auth_check(const net_auth *a, const char *x_api_key, const char *authorization,
                       int64_t now, char *principal, size_t pcap, char *msg, size_t mcap)
{
    if (pcap) principal[0] = '\0';
    if (mcap) msg[0] = '\0';
    if (a->mode == NET_AUTH_NONE) return NET_ERR_NONE;
    const char *tok = bearer(authorization);
    if (authorization && !tok) {
        snprintf(msg, mcap, "Authorization header must be 'Bearer <credential>'");
        return NET_ERR_UNAUTHORIZED;
    }
    /* API keys: X-API-Key, or a bearer value that is not a JWT (has no dots) */
    const char *key = x_api_key;
    if (!key && tok && !strchr(tok, '.')) key = tok;
    if (key) {
        if (a->n_keys && net_auth_api_key_ok(a, key, strlen(key))) {
            principal_for_key(key, principal, pcap);
            return NET_ERR_NONE;
        }
        snprintf(msg, mcap, "invalid API key");
        return NET_ERR_UNAUTHORIZED;
    }
    if (a->mode == NET_AUTH_JWT && tok) {
        net_jwt_opts o = {.secret = a->secret,
                          .secret_len = a->secret_len,
                          .issuer = a->issuer,
                          .audience = a->audience,
                          .leeway_s = a->leeway_s};
        char sub[96];
        net_jwt_result r = net_jwt_verify_hs256(tok, strlen(tok), &o, now, sub, sizeof sub);
        if (r == NET_JWT_OK) {
            snprintf(principal, pcap, "jwt:%s", sub);
            return NET_ERR_NONE;
        }
        snprintf(msg, mcap, "%s", net_jwt_result_message(r));
        /* a genuine token for someone else's issuer/audience: authenticated, not allowed */
        return (r == NET_JWT_BAD_ISSUER || r == NET_JWT_BAD_AUDIENCE) ? NET_ERR_FORBIDDEN
                                                                      : NET_ERR_UNAUTHORIZED;
    }
    snprintf(msg, mcap, a->mode == NET_AUTH_JWT
                            ? "missing credentials: send 'Authorization: Bearer <jwt>'"
                            : "missing credentials: send 'X-API-Key: <key>' or "
                              "'Authorization: Bearer <key>'");
    return NET_ERR_UNAUTHORIZED;
}
