/*
 * test_range.c - st_range_judge (plugins/static/range.c): which Range headers
 * the static plugin lets h2o's file handler answer, and which make it send the
 * whole file instead (issue #11, finding 6).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "range.h"

#define FILE_SIZE 1000

static st_range_verdict_t
judge(const char *v, size_t max)
{
    return st_range_judge(v, strlen(v), FILE_SIZE, max);
}

static void
few_disjoint_ranges_pass(void **unused)
{
    assert_int_equal(judge("bytes=0-99", 4), ST_RANGE_PASS);
    assert_int_equal(judge("bytes=-10", 4), ST_RANGE_PASS);
    assert_int_equal(judge("bytes=900-", 4), ST_RANGE_PASS);
    assert_int_equal(judge("bytes=0-9,10-19", 4), ST_RANGE_PASS); /* adjacent, not overlapping */
    assert_int_equal(judge("bytes=100-199, 0-9 ,\t,500-599,-10", 4), ST_RANGE_PASS);
    assert_int_equal(judge("bytes=0-9,5000-6000", 4), ST_RANGE_PASS); /* the unsatisfiable one is skipped, as h2o does */
}

static void
more_than_max_ranges_are_too_many(void **unused)
{
    assert_int_equal(judge("bytes=0-0,2-2,4-4,6-6,8-8", 4), ST_RANGE_TOO_MANY);
    assert_int_equal(judge("bytes=0-0,2-2", 1), ST_RANGE_TOO_MANY);
    assert_int_equal(judge("bytes=0-0", 0), ST_RANGE_TOO_MANY);
    /* counted before parsing: nonsense does not hide the count */
    assert_int_equal(judge("bytes=x,x,x,x,x", 4), ST_RANGE_TOO_MANY);
    size_t n = 20000;
    char *big = malloc(6 + 3 * n);
    assert_non_null(big);
    memcpy(big, "bytes=", 6);
    for (size_t i = 0; i < n; i++)
        memcpy(big + 6 + 3 * i, "0-,", 3);
    assert_int_equal(st_range_judge(big, 6 + 3 * n - 1, FILE_SIZE, 4), ST_RANGE_TOO_MANY);
    /* a max_ranges above the limit is clamped to it */
    assert_int_equal(st_range_judge(big, 6 + 3 * n - 1, FILE_SIZE, 1000000), ST_RANGE_TOO_MANY);
    free(big);
}

static void
overlapping_ranges_in_any_order_overlap(void **unused)
{
    assert_int_equal(judge("bytes=0-,0-", 4), ST_RANGE_OVERLAPPING);
    assert_int_equal(judge("bytes=0-99,50-149", 4), ST_RANGE_OVERLAPPING);
    assert_int_equal(judge("bytes=500-599,0-1000", 4), ST_RANGE_OVERLAPPING);
    assert_int_equal(judge("bytes=-100,950-", 4), ST_RANGE_OVERLAPPING);
    assert_int_equal(judge("bytes=0-9,9-20", 4), ST_RANGE_OVERLAPPING);
    assert_int_equal(judge("bytes=990-5000,-1", 4), ST_RANGE_OVERLAPPING); /* last clipped to the file */
}

static void
what_h2o_refuses_itself_passes(void **unused)
{
    assert_int_equal(judge("items=0-1,0-1", 4), ST_RANGE_PASS);
    assert_int_equal(judge("bytes=abc", 4), ST_RANGE_PASS);
    assert_int_equal(judge("bytes=5-1,0-1", 4), ST_RANGE_PASS);
    assert_int_equal(judge("bytes=99999999999999999999-", 4), ST_RANGE_PASS);
    assert_int_equal(judge("bytes=", 4), ST_RANGE_PASS);
    assert_int_equal(st_range_judge("bytes=0-,0-", 11, 0, 4), ST_RANGE_PASS); /* empty file: nothing satisfiable */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(few_disjoint_ranges_pass),
        cmocka_unit_test(more_than_max_ranges_are_too_many),
        cmocka_unit_test(overlapping_ranges_in_any_order_overlap),
        cmocka_unit_test(what_h2o_refuses_itself_passes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
