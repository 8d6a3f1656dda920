/* tests/net/test_api.c - request parsing/validation (both shapes, every 4xx),
 * reply and error rendering, UTF-8 helpers, correlation ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

static const net_api_limits lim = {.max_texts = 3, .max_text_chars = 10, .truncate = false};

static net_err parse_err(net_route_kind k, const char *body, const net_api_limits *l)
{
    net_api_request req;
    net_api_error e;
    bool ok = net_api_parse(k, body, strlen(body), l, &req, &e);
    if (ok) {
        net_api_request_free(&req);
        return NET_ERR_NONE;
    }
    assert_true(e.msg[0] != '\0');
    assert_null(req.root);
    return e.code;
}

static void test_native_single(void **state)
{
    (void)state;
    net_api_request req;
    net_api_error e;
    const char *b = "{\"text\":\"h\xc3\xa9llo\"}";
    assert_true(net_api_parse(NET_ROUTE_PREDICT, b, strlen(b), &lim, &req, &e));
    assert_int_equal(req.shape, NET_SHAPE_NATIVE);
    assert_false(req.batch);
    assert_int_equal(req.n, 1);
    assert_int_equal(req.lens[0], 6);
    assert_int_equal(req.chars[0], 5);
    assert_memory_equal(req.texts[0], "h\xc3\xa9llo", 6);
    net_api_request_free(&req);
}

static void test_native_batch(void **state)
{
    (void)state;
    net_api_request req;
    net_api_error e;
    const char *b = "{\"texts\":[\"a\",\"bb\",\"ccc\"]}";
    assert_true(net_api_parse(NET_ROUTE_PREDICT_BATCH, b, strlen(b), &lim, &req, &e));
    assert_true(req.batch);
    assert_int_equal(req.n, 3);
    assert_int_equal(req.lens[2], 3);
    net_api_request_free(&req);
}

static void test_tei_shapes(void **state)
{
    (void)state;
    net_api_request req;
    net_api_error e;
    const char *b = "{\"inputs\":\"good\",\"raw_scores\":true}";
    assert_true(net_api_parse(NET_ROUTE_PREDICT, b, strlen(b), &lim, &req, &e));
    assert_int_equal(req.shape, NET_SHAPE_TEI);
    assert_false(req.batch);
    assert_true(req.raw_scores);
    net_api_request_free(&req);
    b = "{\"inputs\":[\"good\",\"bad\"],\"truncate\":true}";
    assert_true(net_api_parse(NET_ROUTE_PREDICT, b, strlen(b), &lim, &req, &e));
    assert_true(req.batch);
    assert_true(req.truncate);
    assert_int_equal(req.n, 2);
    net_api_request_free(&req);
    assert_int_equal(parse_err(NET_ROUTE_PREDICT, "{\"inputs\":5}", &lim), NET_ERR_INVALID_TYPE);
    assert_int_equal(parse_err(NET_ROUTE_PREDICT, "{\"inputs\":\"x\",\"raw_scores\":1}", &lim),
                     NET_ERR_INVALID_TYPE);
    assert_int_equal(parse_err(NET_ROUTE_PREDICT, "{\"inputs\":\"x\",\"truncate\":\"y\"}", &lim),
                     NET_ERR_INVALID_TYPE);
    assert_int_equal(parse_err(NET_ROUTE_PREDICT, "{\"inputs\":[]}", &lim), NET_ERR_EMPTY_TEXT);
}

static void test_every_4xx(void **state)
{
    (void)state;
    net_route_kind P = NET_ROUTE_PREDICT, B = NET_ROUTE_PREDICT_BATCH;
    assert_int_equal(parse_err(P, "", &lim), NET_ERR_MALFORMED_JSON);
    assert_int_equal(parse_err(P, "   ", &lim), NET_ERR_MALFORMED_JSON);
    assert_int_equal(parse_err(P, "{\"text\":", &lim), NET_ERR_MALFORMED_JSON);
    assert_int_equal(parse_err(P, "{\"text\":\"a\",\"text\":\"b\"}", &lim), NET_ERR_MALFORMED_JSON);
    assert_int_equal(parse_err(P, "[\"a\"]", &lim), NET_ERR_INVALID_TYPE);
    assert_int_equal(parse_err(P, "{}", &lim), NET_ERR_MISSING_FIELD);
    assert_int_equal(parse_err(P, "{\"text\":3}", &lim), NET_ERR_INVALID_TYPE);
    assert_int_equal(parse_err(P, "{\"text\":null}", &lim), NET_ERR_INVALID_TYPE);
    assert_int_equal(parse_err(P, "{\"text\":\"\"}", &lim), NET_ERR_EMPTY_TEXT);
    assert_int_equal(parse_err(P, "{\"text\":\" \\n\\t\"}", &lim), NET_ERR_EMPTY_TEXT);
    assert_int_equal(parse_err(P, "{\"text\":\"01234567890\"}", &lim), NET_ERR_TEXT_TOO_LONG);
    assert_int_equal(parse_err(P, "{\"text\":\"0123456789\"}", &lim), NET_ERR_NONE);
    assert_int_equal(parse_err(P, "{\"text\":\"a\xff\"}", &lim), NET_ERR_INVALID_UTF8);
    assert_int_equal(parse_err(P, "{\"text\":\"\xed\xa0\x80\"}", &lim), NET_ERR_INVALID_UTF8);
    assert_int_equal(parse_err(B, "{}", &lim), NET_ERR_MISSING_FIELD);
    assert_int_equal(parse_err(B, "{\"texts\":\"a\"}", &lim), NET_ERR_INVALID_TYPE);
    assert_int_equal(parse_err(B, "{\"texts\":[]}", &lim), NET_ERR_EMPTY_TEXT);
    assert_int_equal(parse_err(B, "{\"texts\":[\"a\",\"b\",\"c\",\"d\"]}", &lim),
                     NET_ERR_TOO_MANY_TEXTS);
    assert_int_equal(parse_err(B, "{\"texts\":[\"a\",1]}", &lim), NET_ERR_INVALID_TYPE);
    assert_int_equal(parse_err(B, "{\"texts\":[\"a\",\"\"]}", &lim), NET_ERR_EMPTY_TEXT);

    /* the message names the failing element */
    net_api_request req;
    net_api_error e;
    const char *b = "{\"texts\":[\"a\",7]}";
    assert_false(net_api_parse(B, b, strlen(b), &lim, &req, &e));
    assert_string_equal(e.msg, "texts[1] must be a string");
    assert_int_equal(net_err_status(e.code), 422);
    assert_string_equal(net_err_code(e.code), "invalid_type");
}

static void test_truncate_policy(void **state)
{
    (void)state;
    net_api_limits t = lim;
    t.truncate = true;
    net_api_request req;
    net_api_error e;
    const char *b = "{\"text\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9xxxxxxx\"}";
    assert_true(net_api_parse(NET_ROUTE_PREDICT, b, strlen(b), &t, &req, &e));
    assert_int_equal(req.chars[0], 13);
    assert_int_equal(req.lens[0], 6 * 2 + 4); /* 10 code points */
    net_api_request_free(&req);
    /* TEI truncate:false overrides a truncating default */
    b = "{\"inputs\":\"01234567890\",\"truncate\":false}";
    assert_false(net_api_parse(NET_ROUTE_PREDICT, b, strlen(b), &t, &req, &e));
    assert_int_equal(e.code, NET_ERR_TEXT_TOO_LONG);
    /* and truncate:true overrides a rejecting default */
    b = "{\"inputs\":\"01234567890\",\"truncate\":true}";
    assert_true(net_api_parse(NET_ROUTE_PREDICT, b, strlen(b), &lim, &req, &e));
    assert_int_equal(req.lens[0], 10);
    net_api_request_free(&req);
}

static void test_utf8(void **state)
{
    (void)state;
    size_t chars = 0, bad = 0;
    assert_true(net_utf8_check("a\xf0\x9f\x98\x80z", 6, &chars, &bad));
    assert_int_equal(chars, 3);
    assert_false(net_utf8_check("ab\xc0\xaf", 4, &chars, &bad)); /* overlong */
    assert_int_equal(bad, 2);
    assert_false(net_utf8_check("\xf4\x90\x80\x80", 4, &chars, &bad)); /* > U+10FFFF */
    assert_false(net_utf8_check("\xe2\x82", 2, &chars, &bad));         /* truncated */
    assert_int_equal(net_utf8_prefix("a\xf0\x9f\x98\x80z", 6, 2), 5);
    assert_int_equal(net_utf8_prefix("abc", 3, 10), 3);
}

static const char *const labels[] = {"NEGATIVE", "POSITIVE"};

static net_api_pred mkpred(float p1, bool cached)
{
    net_api_pred p = {.label = p1 > 0.5f ? 1 : 0, .n_labels = 2, .cached = cached,
                      .inference_ms = 1.5, .text_chars = 4};
    p.probs[0] = 1 - p1;
    p.probs[1] = p1;
    p.logits[0] = -2 * p1;
    p.logits[1] = 3 * p1;
    strcpy(p.prediction_id, "id-1");
    return p;
}

static void test_render(void **state)
{
    (void)state;
    net_api_info info = {.model_name = "sst2-mini", .backend = "cpu-ref", .labels = labels};
    net_api_pred preds[2] = {mkpred(0.75f, false), mkpred(0.25f, true)};
    net_api_request req = {.shape = NET_SHAPE_NATIVE, .n = 1};
    char *s = net_api_render_preds(&req, preds, &info);
    assert_string_equal(s, "{\"label\":\"POSITIVE\",\"score\":0.75,\"prediction_id\":\"id-1\","
                           "\"inference_time_ms\":1.5,\"model_name\":\"sst2-mini\","
                           "\"text_length\":4,\"backend\":\"cpu-ref\",\"cached\":false}");
    free(s);
    req.batch = true;
    req.n = 2;
    s = net_api_render_preds(&req, preds, &info);
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    json_t *list = json_object_get(j, "predictions");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "label")),
                        "NEGATIVE");
    assert_true(json_is_true(json_object_get(json_array_get(list, 1), "cached")));
    json_decref(j);
    free(s);

    req = (net_api_request){.shape = NET_SHAPE_TEI, .n = 1};
    s = net_api_render_preds(&req, &preds[1], &info);
    assert_string_equal(s, "[{\"label\":\"NEGATIVE\",\"score\":0.75},"
                           "{\"label\":\"POSITIVE\",\"score\":0.25}]");
    free(s);
    req.raw_scores = true;
    s = net_api_render_preds(&req, &preds[1], &info);
    assert_string_equal(s, "[{\"label\":\"POSITIVE\",\"score\":0.75},"
                           "{\"label\":\"NEGATIVE\",\"score\":-0.5}]");
    free(s);
    req = (net_api_request){.shape = NET_SHAPE_TEI, .batch = true, .n = 2};
    s = net_api_render_preds(&req, preds, &info);
    j = json_loads(s, 0, NULL);
    assert_int_equal(json_array_size(j), 2);
    assert_int_equal(json_array_size(json_array_get(j, 0)), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_array_get(j, 0), 0), "label")),
        "POSITIVE");
    json_decref(j);
    free(s);
}

static void test_render_error(void **state)
{
    (void)state;
    char *s = net_api_render_error(NET_ERR_TOO_MANY_TEXTS, "texts has 5 \"texts\"", "abc");
    assert_string_equal(s, "{\"error_code\":\"too_many_texts\",\"error_message\":"
                           "\"texts has 5 \\\"texts\\\"\",\"correlation_id\":\"abc\"}");
    free(s);
    assert_int_equal(net_err_status(NET_ERR_BODY_TOO_LARGE), 413);
    assert_int_equal(net_err_status(NET_ERR_UNSUPPORTED_MEDIA_TYPE), 415);
    assert_int_equal(net_err_status(NET_ERR_RATE_LIMITED), 429);
    assert_int_equal(net_err_status(NET_ERR_OVERLOADED), 503);
    assert_int_equal(net_err_status(NET_ERR_METHOD_NOT_ALLOWED), 405);
    assert_string_equal(net_err_code(NET_ERR_NOT_READY), "not_ready");
    assert_string_equal(net_err_code((net_err)999), "internal_error");
}

static void test_corr_id(void **state)
{
    (void)state;
    char out[NET_CORR_ID_MAX + 1] = "unchanged";
    assert_true(net_corr_id_sanitize("req-123_abc.def:9", out));
    assert_string_equal(out, "req-123_abc.def:9");
    strcpy(out, "unchanged");
    assert_false(net_corr_id_sanitize("", out));
    assert_false(net_corr_id_sanitize(NULL, out));
    assert_false(net_corr_id_sanitize("a b", out));
    assert_false(net_corr_id_sanitize("x\r\nSet-Cookie: y", out));
    assert_false(net_corr_id_sanitize("\"quoted\"", out));
    assert_string_equal(out, "unchanged");
    char big[NET_CORR_ID_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(net_corr_id_sanitize(big, out));   /* 129 chars */
    big[NET_CORR_ID_MAX] = '\0';
    assert_true(net_corr_id_sanitize(big, out));    /* 128 chars */

    char a[37], b[37];
    net_uuid4(a);
    net_uuid4(b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_true(net_corr_id_sanitize(a, out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_single), cmocka_unit_test(test_native_batch),
        cmocka_unit_test(test_tei_shapes),    cmocka_unit_test(test_every_4xx),
        cmocka_unit_test(test_truncate_policy), cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_render),        cmocka_unit_test(test_render_error),
        cmocka_unit_test(test_corr_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
