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
 *
 * Crowd (issue #13): 10,000 players join one room, the first and the last
 * 1,000 joins timed apart, without ticks (the join alone) and with a tick
 * every 100 joins (each tick's summary reaches everyone already there);
 * then one `look`, one `say` and one `yell` among them.  Broadcast
 * frames are serialised once, as the host's hook does.
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

static void
broadcast(void *bctx, void *const *ctxs, size_t n, json_t *frame)
{
    (void)bctx;
    (void)ctxs;
    (void)n;
    sink(NULL, frame);
}

static void
crowd(int ticks)
{
    enum { N = 10000, PART = 1000 };
    tale_world_t *w = load();
    tale_world_set_broadcast(w, broadcast, NULL);
    tale_player_t *first = NULL;
    double t0 = now(), first_part = 0, t_before_last = 0;
    for (int i = 0; i < N; i++) {
        if (i == N - PART)
            t_before_last = now();
        tale_player_t *p = tale_player_join(w, sink, NULL);
        if (!first)
            first = p;
        if (ticks && i % 100 == 99)
            tale_world_tick(w);
        if (i == PART - 1)
            first_part = now() - t0;
    }
    double last_part = now() - t_before_last;
    printf("crowd join:       %10.0f joins/s first 1,000, %10.0f joins/s last 1,000 of 10,000 in one room (%s)\n",
           PART / first_part, PART / last_part, ticks ? "a tick every 100 joins" : "no ticks");
    if (!ticks) {
        tale_world_free(w);
        return;
    }
    static const char *const cmds[] = {"look", "say hello everyone", "yell hello world"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        double c0 = now();
        tale_player_command(first, cmds[i], strlen(cmds[i]));
        printf("crowd %-18s %8.1f us with 10,000 in the room\n", cmds[i], (now() - c0) * 1e6);
    }
    tale_world_free(w);
}

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
    crowd(0);
    crowd(1);
    return frames ? 0 : 1;
}
