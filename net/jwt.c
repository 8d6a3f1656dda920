/* net/jwt.c - JSON Web Token verification, HS256 only (RFC 7519 / 7515).
 *
 * The algorithm is fixed by configuration, not by the token: a header whose
 * "alg" is anything but "HS256" ("none", "HS512", "RS256", ...) is rejected
 * before any signature work, which closes the alg-none and key-confusion holes.
 * The signature is compared in constant time. exp is required.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "net/net_internal.h"

static const char *const jwt_msgs[] = {
#define NET_JWT_MSG_(name, msg) msg,
    NET_JWT_RESULT_MAP(NET_JWT_MSG_)
#undef NET_JWT_MSG_
};

const char *net_jwt_result_message(net_jwt_result r)
{
    if ((unsigned)r >= sizeof jwt_msgs / sizeof jwt_msgs[0]) return "token is invalid";
    return jwt_msgs[r];
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

bool net_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                       size_t *out_len)
{
    if (len % 4 == 1) return false; /* no valid encoding has this length */
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val((unsigned char)in[i]);
        if (v < 0) return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return false;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return false; /* non-canonical: leftover bits must be zero */
    *out_len = o;
    return true;
}

size_t net_b64url_encode(const unsigned char *in, size_t len, char *out, size_t cap)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            if (o + 1 < cap) out[o] = tab[(acc >> bits) & 63];
            o++;
        }
    }
    if (bits > 0) {
        if (o + 1 < cap) out[o] = tab[(acc << (6 - bits)) & 63];
        o++;
    }
    if (cap) out[o < cap ? o : cap - 1] = '\0';
    return o;
}

/* Decodes one base64url part into a parsed JSON object. */
static json_t *decode_json_part(const char *p, size_t len)
{
    unsigned char buf[NET_JWT_MAX_BYTES];
    size_t n = 0;
    if (!net_b64url_decode(p, len, buf, sizeof buf, &n)) return NULL;
    json_t *j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* NumericDate claim: absent -> 0 with *present false; wrong type -> false. */
static bool numeric_claim(json_t *claims, const char *name, bool *present, double *v)
{
    json_t *c = json_object_get(claims, name);
    *present = c != NULL;
    if (!c) return true;
    if (!json_is_number(c)) return false;
    *v = json_number_value(c);
    return true;
}

static bool audience_ok(json_t *aud, const char *want)
{
    if (json_is_string(aud)) return !strcmp(json_string_value(aud), want);
    if (json_is_array(aud)) {
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), want)) return true;
    }
    return false;
}

net_jwt_result net_jwt_verify_hs256(const char *token, size_t len, const net_jwt_opts *o,
                                    int64_t now, char *sub, size_t subcap)
{
    if (subcap) sub[0] = '\0';
    if (!token || len == 0 || len > NET_JWT_MAX_BYTES) return NET_JWT_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    if (!dot1) return NET_JWT_MALFORMED;
    const char *dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (!dot2) return NET_JWT_MALFORMED;
    const char *sig = dot2 + 1;
    size_t sig_len = len - (size_t)(sig - token);
    if (memchr(sig, '.', sig_len)) return NET_JWT_MALFORMED; /* JWE or garbage */

    net_jwt_result r = NET_JWT_MALFORMED;
    json_t *header = decode_json_part(token, (size_t)(dot1 - token));
    json_t *claims = NULL;
    if (!header) goto out;
    json_t *alg = json_object_get(header, "alg");
    if (!json_is_string(alg)) goto out;
    if (strcmp(json_string_value(alg), "HS256") != 0) {
        r = NET_JWT_BAD_ALG;
        goto out;
    }
    json_t *crit = json_object_get(header, "crit");
    if (crit) goto out; /* we understand no critical extensions (RFC 7515 4.1.11) */

    unsigned char got[64];
    size_t got_len = 0;
    if (!net_b64url_decode(sig, sig_len, got, sizeof got, &got_len)) goto out;
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned int want_len = 0;
    if (!HMAC(EVP_sha256(), o->secret, (int)o->secret_len, (const unsigned char *)token,
              (size_t)(dot2 - token), want, &want_len)) {
        r = NET_JWT_BAD_SIGNATURE;
        goto out;
    }
    /* the length is public (32 for HS256); the content comparison is constant-time */
    if (got_len != want_len || CRYPTO_memcmp(got, want, want_len) != 0) {
        r = NET_JWT_BAD_SIGNATURE;
        goto out;
    }

    claims = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!claims) goto out;
    long leeway = o->leeway_s < 0 ? 0 : o->leeway_s;
    if (leeway > NET_JWT_MAX_LEEWAY_S) leeway = NET_JWT_MAX_LEEWAY_S;
    bool has_exp, has_nbf;
    double exp = 0, nbf = 0;
    if (!numeric_claim(claims, "exp", &has_exp, &exp) ||
        !numeric_claim(claims, "nbf", &has_nbf, &nbf))
        goto out;
    if (!has_exp) {
        r = NET_JWT_MISSING_EXP;
        goto out;
    }
    if ((double)now >= exp + (double)leeway) {
        r = NET_JWT_EXPIRED;
        goto out;
    }
    if (has_nbf && (double)now + (double)leeway < nbf) {
        r = NET_JWT_NOT_YET_VALID;
        goto out;
    }
    if (o->issuer && *o->issuer) {
        json_t *iss = json_object_get(claims, "iss");
        if (!json_is_string(iss) || strcmp(json_string_value(iss), o->issuer) != 0) {
            r = NET_JWT_BAD_ISSUER;
            goto out;
        }
    }
    if (o->audience && *o->audience && !audience_ok(json_object_get(claims, "aud"), o->audience)) {
        r = NET_JWT_BAD_AUDIENCE;
        goto out;
    }
    json_t *s = json_object_get(claims, "sub");
    if (json_is_string(s) && subcap) {
        strncpy(sub, json_string_value(s), subcap - 1);
        sub[subcap - 1] = '\0';
    }
    r = NET_JWT_OK;
out:
    json_decref(header);
    json_decref(claims);
    return r;
}

char *net_jwt_sign_hs256(const char *header_json, const char *payload_json,
                         const unsigned char *secret, size_t secret_len)
{
    size_t hl = strlen(header_json), pl = strlen(payload_json);
    size_t cap = (hl + pl) * 2 + 128;
    char *out = senti_malloc(cap);
    if (!out) return NULL;
    size_t n = net_b64url_encode((const unsigned char *)header_json, hl, out, cap);
    out[n++] = '.';
    n += net_b64url_encode((const unsigned char *)payload_json, pl, out + n, cap - n);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)out, n, mac,
              &mac_len)) {
        senti_free(out);
        return NULL;
    }
    out[n++] = '.';
    net_b64url_encode(mac, mac_len, out + n, cap - n);
    return out;
}
