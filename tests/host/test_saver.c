/*
 * test_saver.c - the host's save worker (core/host/saver.c) on a real h2o
 * loop, no server: saves reach the disk whole, results come back on the loop
 * in ticket order, a burst of saves ends with the newest bytes on disk,
 * finishing writes what was still queued, and a failed write is reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saver.h"

typedef struct results {
    int n;
    uint64_t last;
    int all_ok, in_order;
    char err[256];
} results_t;

static void
on_done(void *data, uint64_t ticket, int ok, const char *err)
{
    results_t *r = data;
    if (r->n > 0 && ticket <= r->last)
        r->in_order = 0;
    r->n++;
    r->last = ticket;
    if (!ok) {
        r->all_ok = 0;
        snprintf(r->err, sizeof r->err, "%s", err);
    }
}

static char *
bytes(const char *s)
{
    return strdup(s);
}

static char *
slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

typedef struct fixture {
    h2o_evloop_t *loop;
    char dir[64], path[128];
    results_t r;
} fixture_t;

static int
setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    strcpy(fx->dir, "/tmp/tale-saver-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/data/world.save", fx->dir); /* data/ does not exist yet */
    fx->loop = h2o_evloop_create();
    fx->r = (results_t){.all_ok = 1, .in_order = 1};
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *fx = *state;
    h2o_evloop_run(fx->loop, 0); /* free the closed eventfd socket */
    h2o_evloop_destroy(fx->loop);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", fx->dir);
    int rc = system(rm);
    free(fx);
    return rc == 0 ? 0 : -1;
}

/* Run the loop until the result for `ticket` came back (bounded). */
static void
run_until(fixture_t *fx, uint64_t ticket)
{
    for (int i = 0; i < 500 && !(fx->r.n > 0 && fx->r.last >= ticket); i++)
        h2o_evloop_run(fx->loop, 10);
    assert_true(fx->r.n > 0 && fx->r.last >= ticket);
}

static void
a_burst_of_saves_ends_with_the_newest_on_disk(void **state)
{
    fixture_t *fx = *state;
    char err[256];
    tale_saver_t *sv = tale_saver_new(fx->loop, fx->path, on_done, &fx->r, err, sizeof err);
    assert_non_null(sv);
    char text[32];
    for (uint64_t t = 1; t <= 20; t++) {
        snprintf(text, sizeof text, "{\"save\":%llu}", (unsigned long long)t);
        assert_int_equal(tale_saver_submit(sv, t, bytes(text), strlen(text), err, sizeof err), 0);
        size_t len = 0;
        assert_string_equal(tale_saver_unwritten(sv, &len), text); /* a restore would read these */
        assert_int_equal(len, strlen(text));
    }
    run_until(fx, 20);
    assert_string_equal(slurp(fx->path), "{\"save\":20}");
    assert_true(fx->r.all_ok);
    assert_true(fx->r.in_order);
    assert_true(fx->r.n <= 20); /* replaced saves are not written */
    printf("# 20 saves submitted at once: %d written\n", fx->r.n);
    assert_null(tale_saver_unwritten(sv, NULL));
    tale_saver_free(sv);
}

static void
finishing_writes_what_is_still_queued(void **state)
{
    fixture_t *fx = *state;
    char err[256];
    tale_saver_t *sv = tale_saver_new(fx->loop, fx->path, on_done, &fx->r, err, sizeof err);
    assert_non_null(sv);
    assert_int_equal(tale_saver_submit(sv, 1, bytes("{\"a\":1}"), 7, err, sizeof err), 0);
    assert_int_equal(tale_saver_submit(sv, 2, bytes("{\"b\":2}"), 7, err, sizeof err), 0);
    tale_saver_finish(sv); /* no loop turn: finish itself waits and reports */
    assert_string_equal(slurp(fx->path), "{\"b\":2}");
    assert_int_equal(fx->r.last, 2);
    /* after finish, nothing more is taken */
    assert_int_equal(tale_saver_submit(sv, 3, bytes("{}"), 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "shutting down"));
    tale_saver_free(sv);
}

static void
a_failed_write_comes_back_as_an_error(void **state)
{
    fixture_t *fx = *state;
    char err[256], path[160];
    snprintf(path, sizeof path, "%s/file", fx->dir);
    FILE *f = fopen(path, "w"); /* a file where the save's folder should be */
    fclose(f);
    snprintf(path, sizeof path, "%s/file/world.save", fx->dir);
    tale_saver_t *sv = tale_saver_new(fx->loop, path, on_done, &fx->r, err, sizeof err);
    assert_non_null(sv);
    assert_int_equal(tale_saver_submit(sv, 1, bytes("{}"), 2, err, sizeof err), 0);
    run_until(fx, 1);
    assert_false(fx->r.all_ok);
    assert_non_null(strstr(fx->r.err, "Not a directory"));
    tale_saver_free(sv);
}

/* The per-visitor queue: a newer write of a path still waiting replaces it
 * (one write, one report, the newest bytes on disk); writes wait within a
 * byte bound and are refused beyond it (nothing queued); removals are
 * always taken.  A removal of a folder of many files keeps the worker busy
 * while the writes are queued behind it. */
static void
the_queue_coalesces_writes_of_a_path_and_refuses_writes_over_its_bound(void **state)
{
    fixture_t *fx = *state;
    char err[256], path[256];
    tale_saver_t *sv = tale_saver_new(fx->loop, NULL, NULL, NULL, err, sizeof err);
    assert_non_null(sv);
    tale_saver_set_queue_limit(sv, 1000);
    char busy[160];
    snprintf(busy, sizeof busy, "%s/busy", fx->dir);
    assert_int_equal(mkdir(busy, 0750), 0);
    for (int i = 0; i < 5000; i++) {
        snprintf(path, sizeof path, "%s/%d", busy, i);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fclose(fp);
    }
    char *p[3];
    for (int i = 0; i < 3; i++)
        assert_true(asprintf(&p[i], "%s/g%d/world.save", fx->dir, i) > 0);
    char big[401];
    memset(big, 'x', 400);
    big[400] = '\0';
    assert_int_equal(tale_saver_queue(sv, busy, 1, NULL, 0, on_done, &fx->r, 0, err, sizeof err), TALE_SAVER_QUEUED);
    assert_int_equal(tale_saver_queue(sv, p[0], 2, bytes(big), 400, on_done, &fx->r, 1, err, sizeof err), TALE_SAVER_QUEUED);
    big[0] = 'N'; /* the newer save of the same game */
    assert_int_equal(tale_saver_queue(sv, p[0], 3, bytes(big), 400, on_done, &fx->r, 1, err, sizeof err), TALE_SAVER_REPLACED);
    assert_int_equal(tale_saver_queued_bytes(sv), 400);
    assert_int_equal(tale_saver_queue(sv, p[1], 4, bytes(big), 400, on_done, &fx->r, 1, err, sizeof err), TALE_SAVER_QUEUED);
    assert_int_equal(tale_saver_queue(sv, p[2], 5, bytes(big), 400, on_done, &fx->r, 1, err, sizeof err), TALE_SAVER_FULL);
    assert_non_null(strstr(err, "queue is full"));
    char gone[160];
    snprintf(gone, sizeof gone, "%s/g1", fx->dir);
    assert_int_equal(tale_saver_queue(sv, gone, 6, NULL, 0, on_done, &fx->r, 0, err, sizeof err), TALE_SAVER_QUEUED);
    run_until(fx, 6);
    assert_int_equal(fx->r.n, 4); /* the removal, one write of g0, g1's write and its removal */
    assert_true(fx->r.all_ok);
    const char *on_disk = slurp(p[0]);
    assert_non_null(on_disk);
    assert_int_equal(on_disk[0], 'N');
    assert_null(slurp(p[2]));
    assert_int_equal(tale_saver_queued_bytes(sv), 0);
    /* drained: taken again */
    assert_int_equal(tale_saver_queue(sv, p[2], 7, bytes(big), 400, on_done, &fx->r, 1, err, sizeof err), TALE_SAVER_QUEUED);
    run_until(fx, 7);
    assert_non_null(slurp(p[2]));
    /* a game saved again: the new bytes replace the file (the old inode is the spare now) */
    assert_int_equal(tale_saver_queue(sv, p[0], 8, bytes("{\"again\":1}"), 11, on_done, &fx->r, 1, err, sizeof err),
                     TALE_SAVER_QUEUED);
    run_until(fx, 8);
    assert_string_equal(slurp(p[0]), "{\"again\":1}");
    assert_true(fx->r.all_ok);
    for (int i = 0; i < 3; i++)
        free(p[i]);
    tale_saver_free(sv);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_burst_of_saves_ends_with_the_newest_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(finishing_writes_what_is_still_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_write_comes_back_as_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(the_queue_coalesces_writes_of_a_path_and_refuses_writes_over_its_bound, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
