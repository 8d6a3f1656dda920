/* tests/net/test_jwt.c - JWT HS256 verification and API-key / JWT authentication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "net/net_internal.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1700000000

static const net_jwt_opts opts = {.secret = (const unsigned char *)SECRET,
                                  .secret_len = sizeof SECRET - 1,
                                  .issuer = "senti-tests",
                                  .audience = "senti",
                                  .leeway_s = 30};

static char *tok(const char *header, const char *payload)
{
    return net_jwt_sign_hs256(header, payload, (const unsigned char *)SECRET, sizeof SECRET - 1);
}

static net_jwt_result verify(const char *t)
{
    char sub[64];
    return net_jwt_verify_hs256(t, strlen(t), &opts, NOW, sub, sizeof sub);
}

static const char *H = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void check(const char *header, const char *payload, net_jwt_result want)
{
    char *t = tok(header, payload);
    assert_non_null(t);
    assert_int_equal(verify(t), want);
    senti_free(t);
}

static void test_valid(void **state)
{
    (void)state;
    char *t = tok(H, "{\"sub\":\"alice\",\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1700000100}");
    char sub[64];
    assert_int_equal(net_jwt_verify_hs256(t, strlen(t), &opts, NOW, sub, sizeof sub), NET_JWT_OK);
    assert_string_equal(sub, "alice");
    senti_free(t);
    /* aud as a list */
    check(H, "{\"iss\":\"senti-tests\",\"aud\":[\"x\",\"senti\"],\"exp\":1700000100}", NET_JWT_OK);
    /* a token made by an independent implementation (Python hmac + base64) */
    const char *ext = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib2IiLCJpc3MiOiJzZW50aS10ZX"
                      "N0cyIsImF1ZCI6InNlbnRpIiwiZXhwIjo0MTAyNDQ0ODAwfQ.za7ZJcDTdwLLj3EghZe0moPU0B3"
                      "liGIh5wLF6t7ci4M";
    assert_int_equal(net_jwt_verify_hs256(ext, strlen(ext), &opts, NOW, sub, sizeof sub), NET_JWT_OK);
    assert_string_equal(sub, "bob");
}

static void test_signature_and_alg(void **state)
{
    (void)state;
    const char *P = "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1700000100}";
    char *t = tok(H, P);
    size_t n = strlen(t);
    /* flip one signature character */
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(t), NET_JWT_BAD_SIGNATURE);
    senti_free(t);
    /* signed with another secret */
    t = net_jwt_sign_hs256(H, P, (const unsigned char *)"another-secret-another-secret-xx", 32);
    assert_int_equal(verify(t), NET_JWT_BAD_SIGNATURE);
    senti_free(t);
    /* alg none, with and without a signature */
    check("{\"alg\":\"none\"}", P, NET_JWT_BAD_ALG);
    t = tok("{\"alg\":\"none\"}", P);
    *(strrchr(t, '.') + 1) = '\0';
    assert_int_equal(verify(t), NET_JWT_BAD_ALG);
    senti_free(t);
    /* other algorithms, even if the MAC happens to be HMAC-SHA256 with our secret */
    check("{\"alg\":\"HS512\"}", P, NET_JWT_BAD_ALG);
    check("{\"alg\":\"RS256\"}", P, NET_JWT_BAD_ALG);
    check("{\"alg\":\"hs256\"}", P, NET_JWT_BAD_ALG);
    check("{\"typ\":\"JWT\"}", P, NET_JWT_MALFORMED);
    check("{\"alg\":\"HS256\",\"crit\":[\"x\"]}", P, NET_JWT_MALFORMED);
}

static void test_time_claims(void **state)
{
    (void)state;
    /* exp: now >= exp + leeway is expired */
    check(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1699999000}", NET_JWT_EXPIRED);
    check(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1699999970}", NET_JWT_EXPIRED);
    check(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1699999990}", NET_JWT_OK);
    check(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\"}", NET_JWT_MISSING_EXP);
    check(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":\"soon\"}", NET_JWT_MALFORMED);
    /* nbf in the future beyond the leeway */
    check(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1700009999,\"nbf\":1700000100}",
          NET_JWT_NOT_YET_VALID);
    check(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1700009999,\"nbf\":1700000020}",
          NET_JWT_OK);
    /* leeway is bounded: a configured hour acts as NET_JWT_MAX_LEEWAY_S */
    net_jwt_opts big = opts;
    big.leeway_s = 3600;
    char *t = tok(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1699999000}");
    assert_int_equal(net_jwt_verify_hs256(t, strlen(t), &big, NOW, NULL, 0), NET_JWT_EXPIRED);
    senti_free(t);
    t = tok(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1699999800}");
    assert_int_equal(net_jwt_verify_hs256(t, strlen(t), &big, NOW, NULL, 0), NET_JWT_OK);
    senti_free(t);
}

static void test_iss_aud(void **state)
{
    (void)state;
    check(H, "{\"iss\":\"evil\",\"aud\":\"senti\",\"exp\":1700000100}", NET_JWT_BAD_ISSUER);
    check(H, "{\"aud\":\"senti\",\"exp\":1700000100}", NET_JWT_BAD_ISSUER);
    check(H, "{\"iss\":\"senti-tests\",\"aud\":\"other\",\"exp\":1700000100}", NET_JWT_BAD_AUDIENCE);
    check(H, "{\"iss\":\"senti-tests\",\"aud\":[\"a\",\"b\"],\"exp\":1700000100}",
          NET_JWT_BAD_AUDIENCE);
    check(H, "{\"iss\":\"senti-tests\",\"exp\":1700000100}", NET_JWT_BAD_AUDIENCE);
}

static void test_malformed(void **state)
{
    (void)state;
    assert_int_equal(verify(""), NET_JWT_MALFORMED);
    assert_int_equal(verify("abc"), NET_JWT_MALFORMED);
    assert_int_equal(verify("a.b"), NET_JWT_MALFORMED);
    assert_int_equal(verify("a.b.c.d"), NET_JWT_MALFORMED);
    assert_int_equal(verify("!!!.e30.AAAA"), NET_JWT_MALFORMED);      /* bad base64 */
    assert_int_equal(verify("bm90IGpzb24.e30.AAAA"), NET_JWT_MALFORMED); /* "not json" */
    assert_int_equal(verify("WzFd.e30.AAAA"), NET_JWT_MALFORMED);     /* [1]: not an object */
    /* valid header and signature over a payload that is not JSON */
    char *t = tok(H, "not json");
    assert_int_equal(verify(t), NET_JWT_MALFORMED);
    senti_free(t);
    /* padding characters are not base64url */
    t = tok(H, "{\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1700000100}");
    char padded[512];
    snprintf(padded, sizeof padded, "%s==", t);
    assert_int_equal(verify(padded), NET_JWT_MALFORMED);
    senti_free(t);
    /* too long */
    char *huge = malloc(NET_JWT_MAX_BYTES + 10);
    memset(huge, 'a', NET_JWT_MAX_BYTES + 9);
    huge[NET_JWT_MAX_BYTES + 9] = '\0';
    huge[10] = '.';
    huge[20] = '.';
    assert_int_equal(verify(huge), NET_JWT_MALFORMED);
    free(huge);
}

static void test_b64url(void **state)
{
    (void)state;
    char enc[64];
    assert_int_equal(net_b64url_encode((const unsigned char *)"\xfb\xff", 2, enc, sizeof enc), 3);
    assert_string_equal(enc, "-_8");
    unsigned char dec[8];
    size_t n = 0;
    assert_true(net_b64url_decode("-_8", 3, dec, sizeof dec, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(dec, "\xfb\xff", 2);
    assert_false(net_b64url_decode("-_9", 3, dec, sizeof dec, &n)); /* non-zero trailing bits */
    assert_false(net_b64url_decode("+/8", 3, dec, sizeof dec, &n)); /* standard alphabet */
    assert_false(net_b64url_decode("A", 1, dec, sizeof dec, &n));
}

static void test_auth_api_key(void **state)
{
    (void)state;
    const char *keys[] = {"key-one-0123456789abcdef", "key-two-0123456789abcdef"};
    net_auth *a = NULL;
    senti_err err = {0};
    assert_int_equal(net_auth_create(NET_AUTH_API_KEY, keys, 2, NULL, &a, &err), SENTI_OK);
    char principal[64], msg[128];
    assert_int_equal(net_auth_check(a, "key-two-0123456789abcdef", NULL, NOW, principal,
                                    sizeof principal, msg, sizeof msg),
                     NET_ERR_NONE);
    assert_int_equal(strncmp(principal, "key:", 4), 0);
    assert_null(strstr(principal, "key-two")); /* never the key itself */
    assert_int_equal(net_auth_check(a, NULL, "Bearer key-one-0123456789abcdef", NOW, principal,
                                    sizeof principal, msg, sizeof msg),
                     NET_ERR_NONE);
    assert_int_equal(net_auth_check(a, "key-two-0123456789abcdeX", NULL, NOW, principal,
                                    sizeof principal, msg, sizeof msg),
                     NET_ERR_UNAUTHORIZED);
    assert_string_equal(msg, "invalid API key");
    assert_int_equal(net_auth_check(a, "key-two", NULL, NOW, principal, sizeof principal, msg,
                                    sizeof msg),
                     NET_ERR_UNAUTHORIZED);
    assert_int_equal(net_auth_check(a, NULL, NULL, NOW, principal, sizeof principal, msg, sizeof msg),
                     NET_ERR_UNAUTHORIZED);
    assert_non_null(strstr(msg, "missing credentials"));
    assert_int_equal(net_auth_check(a, NULL, "Basic abc", NOW, principal, sizeof principal, msg,
                                    sizeof msg),
                     NET_ERR_UNAUTHORIZED);
    assert_true(net_auth_api_key_ok(a, keys[0], strlen(keys[0])));
    assert_false(net_auth_api_key_ok(a, keys[0], strlen(keys[0]) - 1));
    net_auth_free(a);

    /* configuration errors */
    a = NULL;
    assert_int_equal(net_auth_create(NET_AUTH_API_KEY, NULL, 0, NULL, &a, &err), SENTI_E_CONFIG);
    const char *short_key[] = {"short"};
    assert_int_equal(net_auth_create(NET_AUTH_API_KEY, short_key, 1, NULL, &a, &err),
                     SENTI_E_CONFIG);
    assert_non_null(strstr(err.msg, "api key #1 is 5 bytes"));
    assert_null(strstr(err.msg, "short")); /* never log the key */
    net_jwt_opts weak = {.secret = (const unsigned char *)"abc", .secret_len = 3};
    assert_int_equal(net_auth_create(NET_AUTH_JWT, NULL, 0, &weak, &a, &err), SENTI_E_CONFIG);
    assert_null(a);
}

static void test_auth_jwt(void **state)
{
    (void)state;
    const char *keys[] = {"prod-key-0123456789abcdef"};
    net_auth *a = NULL;
    senti_err err = {0};
    assert_int_equal(net_auth_create(NET_AUTH_JWT, keys, 1, &opts, &a, &err), SENTI_OK);
    char principal[64], msg[128], bearer[600];
    char *t = tok(H, "{\"sub\":\"carol\",\"iss\":\"senti-tests\",\"aud\":\"senti\",\"exp\":1700000100}");
    snprintf(bearer, sizeof bearer, "Bearer %s", t);
    senti_free(t);
    assert_int_equal(net_auth_check(a, NULL, bearer, NOW, principal, sizeof principal, msg, sizeof msg),
                     NET_ERR_NONE);
    assert_string_equal(principal, "jwt:carol");
    /* expired -> 401 */
    assert_int_equal(net_auth_check(a, NULL, bearer, NOW + 1000, principal, sizeof principal, msg,
                                    sizeof msg),
                     NET_ERR_UNAUTHORIZED);
    assert_string_equal(msg, "token has expired");
    /* right signature, wrong audience -> 403 */
    t = tok(H, "{\"iss\":\"senti-tests\",\"aud\":\"billing\",\"exp\":1700000100}");
    snprintf(bearer, sizeof bearer, "Bearer %s", t);
    senti_free(t);
    assert_int_equal(net_auth_check(a, NULL, bearer, NOW, principal, sizeof principal, msg, sizeof msg),
                     NET_ERR_FORBIDDEN);
    /* API keys still work in jwt mode when configured */
    assert_int_equal(net_auth_check(a, "prod-key-0123456789abcdef", NULL, NOW, principal,
                                    sizeof principal, msg, sizeof msg),
                     NET_ERR_NONE);
    assert_int_equal(net_auth_check(a, NULL, NULL, NOW, principal, sizeof principal, msg, sizeof msg),
                     NET_ERR_UNAUTHORIZED);
    net_auth_free(a);

    assert_int_equal(net_auth_create(NET_AUTH_NONE, NULL, 0, NULL, &a, &err), SENTI_OK);
    assert_int_equal(net_auth_check(a, NULL, NULL, NOW, principal, sizeof principal, msg, sizeof msg),
                     NET_ERR_NONE);
    net_auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),       cmocka_unit_test(test_signature_and_alg),
        cmocka_unit_test(test_time_claims), cmocka_unit_test(test_iss_aud),
        cmocka_unit_test(test_malformed),   cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_auth_api_key), cmocka_unit_test(test_auth_jwt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
