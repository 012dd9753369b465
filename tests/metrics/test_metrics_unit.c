/*
 * test_metrics_unit.c - the host's counters and the access log's lines on
 * their own (core/host/metrics.c, accesslog.c): close codes past the slots
 * fold into "other", histogram buckets, and hostile values in a connection
 * line stay one line in both formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "metrics.h"

static void
close_codes_fold_into_other(void **state)
{
    (void)state;
    tale_plugin_metrics_t m = {0};
    tale_metrics_closed(&m, 1000);
    tale_metrics_closed(&m, 1000);
    tale_metrics_closed(&m, 0);
    assert_int_equal(m.n_closes, 2);
    assert_int_equal(m.closes[0].code, 1000);
    assert_int_equal(m.closes[0].n, 2);
    assert_int_equal(m.closes[1].code, 0);
    /* a client choosing a new code each time cannot grow the series */
    for (int code = 3000; code < 3100; code++)
        tale_metrics_closed(&m, code);
    assert_int_equal(m.n_closes, TALE_METRICS_CODES);
    assert_int_equal(m.closes[TALE_METRICS_CODES - 1].code, -1);
    uint64_t total = 0;
    for (size_t i = 0; i < m.n_closes; i++)
        total += m.closes[i].n;
    assert_int_equal(total, 103);
    tale_metrics_closed(&m, 1000); /* a code with a slot still finds it */
    assert_int_equal(m.closes[0].n, 3);
}

static void
histogram_buckets(void **state)
{
    (void)state;
    tale_histogram_t h = {0};
    tale_metrics_observe(&h, tale_metrics_lag_bounds, 0);
    tale_metrics_observe(&h, tale_metrics_lag_bounds, tale_metrics_lag_bounds[3]); /* le is inclusive */
    tale_metrics_observe(&h, tale_metrics_lag_bounds, 1000);                       /* only in +Inf */
    assert_int_equal(h.counts[0], 1);
    assert_int_equal(h.counts[3], 1);
    uint64_t in_buckets = 0;
    for (size_t i = 0; i < TALE_METRICS_BUCKETS; i++)
        in_buckets += h.counts[i];
    assert_int_equal(in_buckets, 2);
    assert_int_equal(h.count, 3);
    assert_true(h.sum > 1000);
}

/* Write one connection line through a log on a temp file (no loop: written at once). */
static char *
conn_line(int format, const char *transport)
{
    char path[] = "/tmp/tale-accesslog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    tale_accesslog_t *log = tale_accesslog_open(NULL, path, format, err, sizeof(err));
    assert_non_null(log);
    tale_addr_t client;
    assert_int_equal(tale_addr_parse(&client, "2001:db8::7", strlen("2001:db8::7")), 0);
    tale_accesslog_conn_t c = {transport, &client, 1500, 3, 400, 2, 1006};
    tale_accesslog_conn(log, &c);
    tale_accesslog_free(log);
    FILE *f = fopen(path, "r");
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    unlink(path);
    buf[n] = '\0';
    return buf;
}

static void
connection_lines(void **state)
{
    (void)state;
    char *json = conn_line(TALE_ACCESSLOG_JSON, "ws");
    assert_non_null(strstr(json, "\"type\":\"connection\",\"client\":\"2001:db8::7\",\"transport\":\"ws\",\"code\":1006,"
                                 "\"bytes\":400,\"frames\":3,\"commands\":2,\"duration\":1.500}\n"));
    char *combined = conn_line(TALE_ACCESSLOG_COMBINED, "ws");
    assert_non_null(strstr(combined, "\"END ws\" 1006 400 \"-\" \"-\" 1.500 s, 3 frames, 2 commands\n"));
    assert_int_equal(strncmp(combined, "2001:db8::7 - - [", 17), 0);
}

static void
hostile_values_stay_one_line(void **state)
{
    (void)state;
    const char *evil = "a\"b\\c\nd\x01";
    char *json = conn_line(TALE_ACCESSLOG_JSON, evil);
    assert_non_null(strstr(json, "\"transport\":\"a\\\"b\\\\c\\u000ad\\u0001\""));
    assert_ptr_equal(strchr(json, '\n'), json + strlen(json) - 1);
    char *combined = conn_line(TALE_ACCESSLOG_COMBINED, evil);
    assert_non_null(strstr(combined, "\"END a\\x22b\\x5Cc\\x0Ad\\x01\""));
    assert_ptr_equal(strchr(combined, '\n'), combined + strlen(combined) - 1);
}

static void
unopenable_path_is_an_error(void **state)
{
    (void)state;
    char err[256];
    assert_null(tale_accesslog_open(NULL, "/nonexistent-dir/access.log", TALE_ACCESSLOG_JSON, err, sizeof(err)));
    assert_non_null(strstr(err, "access_log: cannot open /nonexistent-dir/access.log: No such file or directory"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(close_codes_fold_into_other),
        cmocka_unit_test(histogram_buckets),
        cmocka_unit_test(connection_lines),
        cmocka_unit_test(hostile_values_stay_one_line),
        cmocka_unit_test(unopenable_path_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
