/*
 * range.h - the static plugin's judgement of a `Range` request header, before
 * h2o's file handler serves it.  h2o 2.2.5 serves every range it is asked for
 * as one multipart/byteranges answer, so 20,000 copies of `0-` of a 30 KB file
 * make a 512 MB answer from a 60 KB request (issue #11, finding 6).  No h2o,
 * no host: unit-tested on its own (tests/static/test_range.c).
 */
#ifndef TALE_STATIC_RANGE_H
#define TALE_STATIC_RANGE_H

#include <stddef.h>
#include <stdint.h>

/* The largest max_ranges the plugin accepts (its config key's upper bound). */
#define ST_RANGE_LIMIT 64

typedef enum st_range_verdict {
    ST_RANGE_PASS,        /* few, disjoint ranges (or a header h2o refuses by itself): let h2o answer */
    ST_RANGE_TOO_MANY,    /* more than max_ranges ranges: ignore the header, send the whole file once */
    ST_RANGE_OVERLAPPING, /* two ranges share a byte: ignore the header, send the whole file once */
} st_range_verdict_t;

/* Judge the Range header value `v` (len bytes) for a file of file_size
 * bytes.  Ranges are counted before anything else, so the cost is linear in
 * the header whatever it holds; the overlap check is quadratic in at most
 * max_ranges ranges (clamped to ST_RANGE_LIMIT).  max_ranges 0 ignores every
 * Range header.  A value h2o cannot parse, or one with another unit,
 * passes: h2o answers it 416 without reading the file. */
st_range_verdict_t st_range_judge(const char *v, size_t len, uint64_t file_size, size_t max_ranges);

/* A short name for a verdict, for log lines. */
const char *st_range_verdict_name(st_range_verdict_t verdict);

#endif
