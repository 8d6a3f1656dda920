/* tests/net/test_metrics.c - metrics registry and Prometheus text rendering;
 * structured log line formatting (common/log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "common/log.h"
#include "net/net_internal.h"

static void test_counter_gauge(void **state)
{
    (void)state;
    net_metrics *m = net_metrics_create();
    const char *ln[] = {"route", "status"};
    net_metric *c = net_metrics_add(m, NET_METRIC_COUNTER, "senti_requests_total",
                                    "Requests by route and status.", 2, ln, NULL, 0);
    net_metric *g = net_metrics_add(m, NET_METRIC_GAUGE, "senti_queue_depth", "Queued texts.", 0,
                                    NULL, NULL, 0);
    assert_non_null(c);
    assert_non_null(g);
    const char *v1[] = {"/predict", "200"}, *v2[] = {"/predict", "422"};
    net_metric_inc(c, v1, 1);
    net_metric_inc(c, v1, 1);
    net_metric_inc(c, v2, 1);
    net_metric_set(g, NULL, 7);
    assert_float_equal(net_metric_value(c, v1), 2, 0);
    net_sb out = {0};
    assert_true(net_metrics_render(m, &out));
    assert_string_equal(out.p, "# HELP senti_requests_total Requests by route and status.\n"
                               "# TYPE senti_requests_total counter\n"
                               "senti_requests_total{route=\"/predict\",status=\"200\"} 2\n"
                               "senti_requests_total{route=\"/predict\",status=\"422\"} 1\n"
                               "# HELP senti_queue_depth Queued texts.\n"
                               "# TYPE senti_queue_depth gauge\n"
                               "senti_queue_depth 7\n");
    net_sb_free(&out);
    net_metrics_free(m);
}

static void test_histogram(void **state)
{
    (void)state;
    net_metrics *m = net_metrics_create();
    const double b[] = {0.005, 0.01, 0.1};
    const char *ln[] = {"route"};
    net_metric *h = net_metrics_add(m, NET_METRIC_HISTOGRAM, "lat_seconds", "Latency.", 1, ln, b, 3);
    const char *v[] = {"/p"};
    net_metric_observe(h, v, 0.001);
    net_metric_observe(h, v, 0.005); /* le is inclusive */
    net_metric_observe(h, v, 0.05);
    net_metric_observe(h, v, 2.0);
    net_sb out = {0};
    assert_true(net_metrics_render(m, &out));
    assert_string_equal(out.p, "# HELP lat_seconds Latency.\n"
                               "# TYPE lat_seconds histogram\n"
                               "lat_seconds_bucket{route=\"/p\",le=\"0.005\"} 2\n"
                               "lat_seconds_bucket{route=\"/p\",le=\"0.01\"} 2\n"
                               "lat_seconds_bucket{route=\"/p\",le=\"0.1\"} 3\n"
                               "lat_seconds_bucket{route=\"/p\",le=\"+Inf\"} 4\n"
                               "lat_seconds_sum{route=\"/p\"} 2.056\n"
                               "lat_seconds_count{route=\"/p\"} 4\n");
    net_sb_free(&out);
    assert_float_equal(net_metric_value(h, v), 4, 0);
    net_metrics_free(m);
}

static void test_unlabelled_histogram_and_escaping(void **state)
{
    (void)state;
    net_metrics *m = net_metrics_create();
    const double b[] = {1, 8};
    net_metric *h = net_metrics_add(m, NET_METRIC_HISTOGRAM, "batch_size", "Texts per\nbatch \\.", 0,
                                    NULL, b, 2);
    const char *ln[] = {"label"};
    net_metric *c = net_metrics_add(m, NET_METRIC_COUNTER, "preds_total", "x", 1, ln, NULL, 0);
    const char *weird[] = {"a\"b\\c\nd"};
    net_metric_inc(c, weird, 1);
    net_sb out = {0};
    assert_true(net_metrics_render(m, &out));
    assert_non_null(strstr(out.p, "# HELP batch_size Texts per\\nbatch \\\\.\n"));
    assert_non_null(strstr(out.p, "batch_size_bucket{le=\"1\"} 0\nbatch_size_bucket{le=\"8\"} 0\n"
                                  "batch_size_bucket{le=\"+Inf\"} 0\nbatch_size_sum 0\n"
                                  "batch_size_count 0\n"));
    assert_non_null(strstr(out.p, "preds_total{label=\"a\\\"b\\\\c\\nd\"} 1\n"));
    net_sb_free(&out);
    (void)h;
    /* bad registrations */
    const double unsorted[] = {2, 1};
    assert_null(net_metrics_add(m, NET_METRIC_HISTOGRAM, "h2", "", 0, NULL, unsorted, 2));
    assert_null(net_metrics_add(m, NET_METRIC_HISTOGRAM, "h3", "", 0, NULL, NULL, 0));
    assert_null(net_metrics_add(m, NET_METRIC_COUNTER, "9bad", "", 0, NULL, NULL, 0));
    const char *le[] = {"le"};
    assert_null(net_metrics_add(m, NET_METRIC_HISTOGRAM, "h4", "", 1, le, b, 2));
    net_metrics_free(m);
}

static void test_procstat(void **state)
{
    (void)state;
    net_procstat ps;
    net_procstat_read(&ps);
    assert_true(ps.rss_bytes > 0);
    assert_true(ps.open_fds >= 3);
    assert_true(ps.start_time_s > 1e9);
}

static void test_log_lines(void **state)
{
    (void)state;
    char buf[512];
    senti_log_field f[] = {SLOG_S("correlation_id", "abc"), SLOG_S("route", "/predict"),
                           SLOG_I("status", 200), SLOG_D("latency_ms", 1.25),
                           SLOG_B("cached", true), SLOG_S("text", "a \"q\"\n\x01")};
    size_t n = senti_log_format_line(buf, sizeof buf, SENTI_LOG_FORMAT_JSON, 1700000000123LL,
                                     SENTI_LOG_INFO, "request", f, 6);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"level\":\"info\","
                             "\"msg\":\"request\",\"correlation_id\":\"abc\",\"route\":\"/predict\","
                             "\"status\":200,\"latency_ms\":1.250,\"cached\":true,"
                             "\"text\":\"a \\\"q\\\"\\n\\u0001\"}\n");
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    json_decref(j);
    senti_log_format_line(buf, sizeof buf, SENTI_LOG_FORMAT_TEXT, 1700000000123LL,
                          SENTI_LOG_WARNING, "slow", f, 3);
    assert_string_equal(buf, "2023-11-14T22:13:20.123Z WARNING slow correlation_id=abc "
                             "route=/predict status=200\n");
    /* a line that does not fit stays valid JSON */
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    senti_log_field g[] = {SLOG_S("a", "1"), SLOG_S("b", big), SLOG_S("c", big)};
    char small[200];
    senti_log_format_line(small, sizeof small, SENTI_LOG_FORMAT_JSON, 0, SENTI_LOG_ERROR, "m", g, 3);
    j = json_loads(small, 0, NULL);
    assert_non_null(j);
    json_decref(j);

    senti_log_level lv;
    assert_true(senti_log_level_parse("WARN", &lv));
    assert_int_equal(lv, SENTI_LOG_WARNING);
    assert_false(senti_log_level_parse("loud", &lv));
    senti_log_format fmt;
    assert_true(senti_log_format_parse("text", &fmt));
    assert_int_equal(fmt, SENTI_LOG_FORMAT_TEXT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_unlabelled_histogram_and_escaping),
        cmocka_unit_test(test_procstat),
        cmocka_unit_test(test_log_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
