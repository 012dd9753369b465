/*
 * bench_instances.c - the memory of a live IF instance and the time to bring
 * an evicted one back (issue #14), in-process, no network.
 *
 *   bench_instances [worlds]      (default 1000)
 *
 * The bundled story is loaded once; `worlds` worlds over it each get one
 * joined player (an emit that counts frames and frees them, so no frame is
 * held) and play the first commands of the walkthrough.  Reported: heap bytes
 * per instance (mallinfo2's uordblks, after minus before, over the count) at
 * each stage, and the RSS growth.  Then each instance is evicted and brought
 * back: serialise, free the world, a fresh world of the story, restore from
 * the bytes (and, in a second pass, from a file), join and its first frame;
 * median and p99 of each.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"

static unsigned long frames;

static void
count_emit(void *ctx, json_t *frame)
{
    (void)ctx;
    json_decref(frame);
    frames++;
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
heap_used(void)
{
    return mallinfo2().uordblks;
}

static size_t
rss_bytes(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2)
        res = 0;
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
report_times(const char *what, double *t, size_t n)
{
    qsort(t, n, sizeof *t, cmp_double);
    printf("%-38s median %7.1f us   p99 %7.1f us   max %7.1f us\n", what, t[n / 2] * 1e6, t[n * 99 / 100] * 1e6, t[n - 1] * 1e6);
}

/* the walkthrough's opening: moves, talk, an examine, a take */
static const char *const opening[] = {"look", "north",    "ask bram about boat", "east", "examine pool", "take boat",
                                      "west", "inventory"};

typedef struct instance {
    tale_world_t *w;
    tale_player_t *p;
} instance_t;

static void
die(const char *what, const char *err)
{
    fprintf(stderr, "bench_instances: %s: %s\n", what, err);
    exit(1);
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000;
    if (n < 1 || n > 100000)
        n = 1000;
    char err[512];
    tale_story_t *st = tale_story_load(STORY, err, sizeof err);
    if (st == NULL)
        die("load", err);
    /* one instance first, so the story's own lazily made parts are not counted per instance */
    {
        tale_world_t *w = tale_world_new(st, NULL);
        tale_player_t *p = tale_player_join(w, count_emit, NULL);
        for (size_t c = 0; c < sizeof opening / sizeof opening[0]; c++)
            tale_player_command(p, opening[c], strlen(opening[c]));
        tale_world_free(w);
    }
    malloc_trim(0);
    instance_t *in = calloc(n, sizeof *in);
    if (in == NULL)
        die("calloc", "out of memory");
    size_t h0 = heap_used(), r0 = rss_bytes();
    for (size_t i = 0; i < n; i++)
        in[i].w = tale_world_new(st, NULL);
    size_t h1 = heap_used();
    for (size_t i = 0; i < n; i++)
        in[i].p = tale_player_join(in[i].w, count_emit, NULL);
    size_t h2 = heap_used();
    for (size_t c = 0; c < sizeof opening / sizeof opening[0]; c++)
        for (size_t i = 0; i < n; i++)
            tale_player_command(in[i].p, opening[c], strlen(opening[c]));
    size_t h3 = heap_used(), r3 = rss_bytes();
    printf("instances: %zu of %s\n", n, STORY);
    printf("heap per instance: world %zu B, + player (joined) %zu B, after %zu commands %zu B in all\n", (h1 - h0) / n,
           (h2 - h1) / n, sizeof opening / sizeof opening[0], (h3 - h0) / n);
    printf("RSS growth: %.1f MiB for %zu instances (%zu B each)\n", (double)(r3 - r0) / (1 << 20), n, (r3 - r0) / n);

    double *t_ser = calloc(n, sizeof(double)), *t_bytes = calloc(n, sizeof(double)), *t_file = calloc(n, sizeof(double));
    double *t_apply = calloc(n, sizeof(double));
    char **saved = calloc(n, sizeof(char *));
    size_t *lens = calloc(n, sizeof(size_t)), total = 0;
    if (!t_ser || !t_bytes || !t_file || !t_apply || !saved || !lens)
        die("calloc", "out of memory");
    for (size_t i = 0; i < n; i++) {
        double t0 = now();
        saved[i] = tale_world_serialise(in[i].w, &lens[i]);
        t_ser[i] = now() - t0;
        total += lens[i];
        tale_world_free(in[i].w);
        in[i].w = NULL;
    }
    printf("save size: %zu B mean\n", total / n);
    report_times("serialise", t_ser, n);
    /* evicted and back, from bytes in memory: a fresh world, restore, join (its first frame) */
    for (size_t i = 0; i < n; i++) {
        unsigned long f0 = frames;
        double t0 = now();
        tale_world_t *w = tale_world_new(st, NULL);
        double t1 = now();
        if (tale_world_restore_bytes(w, saved[i], lens[i], err, sizeof err) != 0)
            die("restore_bytes", err);
        t_apply[i] = now() - t1;
        tale_player_t *p = tale_player_join(w, count_emit, NULL);
        t_bytes[i] = now() - t0;
        if (frames == f0 || p == NULL)
            die("join", "no first frame");
        in[i].w = w;
    }
    report_times("restore from bytes + join/first frame", t_bytes, n);
    report_times("  of which tale_world_restore_bytes", t_apply, n);
    /* the same from a file, as a host with the save on disk does (cached: the read, not the disk) */
    char dir[] = "/tmp/bench_instances.XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", dir);
    char path[256];
    snprintf(path, sizeof path, "%s/w.save", dir);
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(saved[i], 1, lens[i], f) != lens[i] || fclose(f) != 0)
            die("write", path);
        double t0 = now();
        tale_world_t *w = tale_world_new(st, NULL);
        if (tale_world_restore(w, path, err, sizeof err) != 0)
            die("restore", err);
        tale_player_join(w, count_emit, NULL);
        t_file[i] = now() - t0;
        tale_world_free(w);
    }
    unlink(path);
    rmdir(dir);
    report_times("restore from a file + join/first frame", t_file, n);
    for (size_t i = 0; i < n; i++) {
        tale_world_free(in[i].w);
        free(saved[i]);
    }
    free(in);
    free(saved);
    free(lens);
    free(t_ser);
    free(t_bytes);
    free(t_apply);
    free(t_file);
    tale_story_free(st);
    return frames ? 0 : 1;
}
