/*
 * bench_engine.c - commands per second, in-process, no network: the cost of
 * the engine alone (parse, act, render HTML, build the JSON frame).
 *
 *   bench_engine [seconds-per-case]      (default 2)
 *
 * Cases: `look` repeated; and a walkthrough step -- the fixture story's
 * winning walkthrough played over and over (a fresh world per play-through,
 * counted per command).  Frames are built and then dropped, as a host that
 * serialised them would do after sending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "json_compact.h"

static unsigned long frames;

static void
sink(void *ctx, json_t *frame)
{
    /* serialise as the host does (core/host/session.c), so the number includes the JSON cost */
    size_t len;
    char *s = tale_json_compact(frame, &len);
    free(s);
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

static tale_world_t *
load(void)
{
    char err[1024];
    tale_world_t *w = tale_world_load(TALE_FIXTURES "/manor", NULL, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return w;
}

static const char *const walkthrough[] = {"take all",  "e",
                                          "take lamp", "unlock box with iron key",
                                          "open box",  "take coin",
                                          "w",         "unlock door",
                                          "open door", "n",
                                          "d",         "take fish",
                                          "u",         "give fish to cat",
                                          "e",         "read letter",
                                          "w",         "u",
                                          "drop coin", NULL};

int
main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    if (secs <= 0 || secs > 600)
        secs = 2.0;

    tale_world_t *w = load();
    tale_player_t *p = tale_player_join(w, sink, NULL);
    unsigned long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 1000; i++)
            tale_player_command(p, "look", 4);
        n += 1000;
    } while ((t = now() - t0) < secs);
    printf("look:             %10.0f commands/s  (%lu in %.2f s)\n", n / t, n, t);
    tale_world_free(w);

    /* a walkthrough step: only the commands are timed; each play-through
     * needs a fresh world, and its load is measured on its own below */
    n = 0;
    unsigned long plays = 0;
    double in_cmds = 0;
    t0 = now();
    do {
        w = load();
        p = tale_player_join(w, sink, NULL);
        double c0 = now();
        for (int i = 0; walkthrough[i]; i++, n++)
            tale_player_command(p, walkthrough[i], strlen(walkthrough[i]));
        in_cmds += now() - c0;
        tale_world_free(w);
        plays++;
    } while (now() - t0 < secs);
    printf("walkthrough step: %10.0f commands/s  (%lu in %.2f s of commands, %lu play-throughs)\n", n / in_cmds, n, in_cmds, plays);

    t0 = now();
    unsigned long loads = 0;
    do {
        tale_world_free(load());
        loads++;
    } while ((t = now() - t0) < secs / 2);
    printf("story load:       %10.0f loads/s  (fixtures/manor, parse + check)\n", loads / t);
    return frames ? 0 : 1;
}
