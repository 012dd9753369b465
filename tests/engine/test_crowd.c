/*
 * test_crowd.c - many players in one world (issue #13): rooms keep their
 * occupants, frames stay the same size from 100 players to 10,000, room news
 * is one broadcast frame for exactly the room, a crowd's arrivals come as one
 * summary a tick, yell is rationed, who pages, seats are reused.
 * fixtures/manor, played in-process with a counting emit and broadcast hook.
 */
#include "play.h"

/* One player's side: how many frames, the largest, and the last. */
typedef struct seat {
    tale_player_t *p;
    size_t frames, news, max_size;
    json_t *last;
} seat_t;

/* The world's broadcast hook: every call, its recipients and its frame. */
typedef struct crowd {
    tale_world_t *w;
    seat_t *seats;
    size_t nseats;
    size_t calls, max_size;
    json_t *last; /* the last broadcast frame */
    seat_t **to;  /* its recipients */
    size_t nto;
} crowd_t;

static size_t
frame_size(json_t *f)
{
    char *s = json_dumps(f, JSON_COMPACT);
    size_t n = strlen(s);
    free(s);
    return n;
}

static void
seat_emit(void *ctx, json_t *frame)
{
    seat_t *s = ctx;
    size_t n = frame_size(frame);
    s->frames++;
    if (n > s->max_size)
        s->max_size = n;
    json_decref(s->last);
    s->last = frame;
}

static void
crowd_broadcast(void *bctx, void *const *ctxs, size_t n, json_t *frame)
{
    crowd_t *c = bctx;
    size_t size = frame_size(frame);
    c->calls++;
    if (size > c->max_size)
        c->max_size = size;
    free(c->to);
    c->to = malloc((n ? n : 1) * sizeof(*c->to));
    for (size_t i = 0; i < n; i++) {
        c->to[i] = ctxs[i];
        c->to[i]->news++;
    }
    c->nto = n;
    json_decref(c->last);
    c->last = frame;
}

static crowd_t *
crowd_new(size_t cap)
{
    crowd_t *c = calloc(1, sizeof(*c));
    c->w = load(NULL);
    c->seats = calloc(cap, sizeof(*c->seats));
    tale_world_set_broadcast(c->w, crowd_broadcast, c);
    return c;
}

static seat_t *
crowd_join(crowd_t *c)
{
    seat_t *s = &c->seats[c->nseats++];
    s->p = tale_player_join(c->w, seat_emit, s);
    return s;
}

static void
crowd_free(crowd_t *c)
{
    tale_world_free(c->w);
    for (size_t i = 0; i < c->nseats; i++)
        json_decref(c->seats[i].last);
    json_decref(c->last);
    free(c->to);
    free(c->seats);
    free(c);
}

static const char *
last_text(const seat_t *s)
{
    return json_string_value(json_object_get(s->last, "text"));
}

static const char *
run(seat_t *s, const char *line)
{
    tale_player_command(s->p, line, strlen(line));
    return last_text(s);
}

static int
was_told(const crowd_t *c, const seat_t *s)
{
    for (size_t i = 0; i < c->nto; i++)
        if (c->to[i] == s)
            return 1;
    return 0;
}

/* The largest frame anyone received while `n` players joined the porch (with
 * ten ticks on the way, so crowd summaries go out and Bert wanders the same
 * at any n), and the first player's look at the end; *npcs_more is that
 * look's field. */
static size_t
largest_frame(size_t n, json_int_t *npcs_more, crowd_t **out)
{
    crowd_t *c = crowd_new(n);
    for (size_t i = 0; i < n; i++) {
        crowd_join(c);
        if (i % (n / 10) == n / 10 - 1)
            tale_world_tick(c->w);
    }
    run(&c->seats[0], "look");
    *npcs_more = json_integer_value(json_object_get(c->seats[0].last, "npcs_more"));
    size_t max = c->max_size;
    for (size_t i = 0; i < n; i++)
        if (c->seats[i].max_size > max)
            max = c->seats[i].max_size;
    *out = c;
    return max;
}

static void
frames_stay_bounded_from_100_to_10000_players(void **state)
{
    (void)state;
    crowd_t *small, *big;
    json_int_t more_small, more_big;
    size_t at100 = largest_frame(100, &more_small, &small);
    size_t at10k = largest_frame(10000, &more_big, &big);
    /* the same frames; only the numbers in names ("Tester 99" -> "Tester 9999")
     * and the count ("87" -> "9,987") are longer: at most 3 bytes each for the
     * 12 names of the panel, 12 of the description, the 3 of a summary */
    size_t slack = 3 * (12 + 12 + 3) + 3 * 4;
    print_message("largest frame: %zu bytes at 100 players, %zu at 10,000\n", at100, at10k);
    if (at10k > at100 + slack)
        fail_msg("largest frame %zu bytes at 10,000 players, %zu at 100", at10k, at100);
    /* ten ticks bring Bert to the porch: the look lists him first, then the
     * latest 11 arrivals, and counts the rest (everyone else and Bert) */
    assert_int_equal(more_small, 99 + 1 - 12);
    assert_int_equal(more_big, 9999 + 1 - 12);
    const char *look = last_text(&big->seats[0]);
    assert_contains(look, "Bert (the gardener), Tester 10000, Tester 9999, Tester 9998");
    assert_contains(look, "and 9,988 others are here.");
    const char *npcs = json_string_value(json_object_get(big->seats[0].last, "npcs"));
    assert_string_equal(npcs, "Bert,Tester 10000,Tester 9999,Tester 9998,Tester 9997,Tester 9996,Tester 9995,Tester 9994,"
                              "Tester 9993,Tester 9992,Tester 9991,Tester 9990");
    /* the newest player sees the earlier arrivals, never themself */
    run(&big->seats[9999], "look");
    assert_contains(json_string_value(json_object_get(big->seats[9999].last, "npcs")), "Tester 9999,Tester 9998");
    assert_lacks(json_string_value(json_object_get(big->seats[9999].last, "npcs")), "Tester 10000");
    crowd_free(small);
    crowd_free(big);
}

static void
room_news_reaches_exactly_the_room(void **state)
{
    (void)state;
    crowd_t *c = crowd_new(30);
    for (int i = 0; i < 30; i++)
        crowd_join(c);
    for (int i = 25; i < 30; i++)
        run(&c->seats[i], "east");
    tale_world_tick(c->w); /* the porch's departures, summarised */

    c->calls = 0;
    run(&c->seats[27], "say hello garden");
    assert_int_equal(c->calls, 1);
    assert_int_equal(c->nto, 4);
    for (int i = 0; i < 30; i++)
        assert_int_equal(was_told(c, &c->seats[i]), i >= 25 && i != 27);
    assert_contains(json_string_value(json_object_get(c->last, "text")), "says: ");
    /* a broadcast carries no snapshot: it is the same for everyone */
    assert_null(json_object_get(c->last, "npcs"));

    run(&c->seats[3], "emote waves");
    assert_int_equal(c->calls, 2);
    assert_int_equal(c->nto, 24);
    assert_false(was_told(c, &c->seats[3]));
    assert_false(was_told(c, &c->seats[26]));
    assert_string_equal(json_string_value(json_object_get(c->last, "text")), "<p>Tester 4 waves</p>\n");
    crowd_free(c);
}

static void
movement_keeps_room_lists(void **state)
{
    (void)state;
    crowd_t *c = crowd_new(3);
    seat_t *a = crowd_join(c), *b = crowd_join(c), *d = crowd_join(c);
    run(a, "east");
    assert_string_equal(json_string_value(json_object_get(a->last, "npcs")), "Bert");
    assert_string_equal(json_string_value(json_object_get(c->last, "text")), "<p>Tester goes east.</p>\n");
    run(b, "look");
    assert_string_equal(json_string_value(json_object_get(b->last, "npcs")), "Tester 3");
    run(d, "east");
    assert_string_equal(json_string_value(json_object_get(d->last, "npcs")), "Bert,Tester");
    assert_contains(last_text(d), "Bert (the gardener) and Tester are here.");
    run(a, "west");
    run(a, "look");
    assert_string_equal(json_string_value(json_object_get(a->last, "npcs")), "Tester 2");
    run(d, "look");
    assert_string_equal(json_string_value(json_object_get(d->last, "npcs")), "Bert");
    /* tell finds anyone by full name, wherever they are */
    run(b, "tell tester 3 over here");
    assert_contains(last_text(d), "tells you: ");
    crowd_free(c);
}

static void
crowded_arrivals_come_as_one_summary_a_tick(void **state)
{
    (void)state;
    crowd_t *c = crowd_new(70);
    for (int i = 0; i < 21; i++)
        crowd_join(c);
    tale_world_tick(c->w);
    c->calls = 0;
    /* 21 here: the 22nd arrival is told to 21 others, more than a crowd */
    for (int i = 21; i < 61; i++)
        crowd_join(c);
    assert_int_equal(c->calls, 0);
    tale_player_leave(c->seats[4].p);
    c->seats[4].p = NULL;
    tale_player_depart(c->seats[5].p, TALE_DEPART_FADE);
    c->seats[5].p = NULL;
    assert_int_equal(c->calls, 0);
    tale_world_tick(c->w);
    assert_int_equal(c->calls, 1);
    assert_string_equal(json_string_value(json_object_get(c->last, "text")),
                        "<p>Tester 22, Tester 23, Tester 24 and 37 others arrive.</p>\n"
                        "<p>Tester 5 and Tester 6 leave.</p>\n");
    /* those who were there before the batch hear it; the newcomers saw for themselves */
    assert_int_equal(c->nto, 19);
    for (int i = 0; i < 61; i++)
        assert_int_equal(was_told(c, &c->seats[i]), i < 21 && i != 4 && i != 5);
    /* the third tick: no news of players again, only Bert wandering in */
    tale_world_tick(c->w);
    assert_int_equal(c->calls, 2);
    assert_string_equal(json_string_value(json_object_get(c->last, "text")), "<p>Bert arrives.</p>\n");
    crowd_free(c);
}

static void
leave_and_fade_in_a_small_room(void **state)
{
    (void)state;
    crowd_t *c = crowd_new(3);
    seat_t *a = crowd_join(c), *b = crowd_join(c), *d = crowd_join(c);
    (void)a;
    assert_string_equal(json_string_value(json_object_get(c->last, "text")), "<p>Tester 3 appears.</p>\n");
    tale_player_depart(b->p, TALE_DEPART_FADE);
    assert_string_equal(json_string_value(json_object_get(c->last, "text")), "<p>Tester 2 fades away.</p>\n");
    assert_int_equal(c->nto, 2);
    tale_player_leave(d->p);
    assert_string_equal(json_string_value(json_object_get(c->last, "text")), "<p>Tester 3 leaves the game.</p>\n");
    assert_int_equal(c->nto, 1);
    crowd_free(c);
}

static void
seats_are_reused_lowest_first(void **state)
{
    (void)state;
    crowd_t *c = crowd_new(16);
    for (int i = 0; i < 10; i++)
        crowd_join(c);
    tale_player_leave(c->seats[6].p);
    tale_player_leave(c->seats[2].p);
    c->seats[6].p = c->seats[2].p = NULL;
    seat_t *x = crowd_join(c), *y = crowd_join(c), *z = crowd_join(c);
    run(x, "who 1");
    assert_contains(last_text(x), "Tester 3 <span class='txt-dim'>(you)</span>");
    run(y, "who 1");
    assert_contains(last_text(y), "Tester 7 <span class='txt-dim'>(you)</span>");
    run(z, "who 1");
    assert_contains(last_text(z), "Tester 11 <span class='txt-dim'>(you)</span>");
    crowd_free(c);
}

static void
yell_has_a_cooldown_and_a_world_budget(void **state)
{
    (void)state;
    crowd_t *c = crowd_new(8);
    for (int i = 0; i < 8; i++)
        crowd_join(c);
    run(&c->seats[7], "east"); /* yell reaches every room */
    tale_world_set_now(c->w, 1000);
    c->calls = 0;
    assert_contains(run(&c->seats[0], "yell hello"), "yell: ");
    assert_int_equal(c->calls, 1);
    assert_int_equal(c->nto, 7);
    assert_true(was_told(c, &c->seats[7]));
    assert_false(was_told(c, &c->seats[0]));

    /* the world's burst of 5: four more players at once, the sixth is refused */
    for (int i = 1; i < 5; i++)
        assert_contains(run(&c->seats[i], "yell me too"), "yell: ");
    assert_int_equal(c->calls, 5);
    assert_contains(run(&c->seats[5], "yell and me"), "The din drowns out your voice; try again in a moment.");
    assert_int_equal(c->calls, 5);
    /* one yell's worth of budget comes back in 200 ms */
    tale_world_set_now(c->w, 1199);
    assert_contains(run(&c->seats[5], "yell and me"), "The din drowns out");
    tale_world_set_now(c->w, 1200);
    assert_contains(run(&c->seats[5], "yell and me"), "yell: ");
    assert_contains(run(&c->seats[6], "yell and me"), "The din drowns out");
    assert_int_equal(c->calls, 6);
    /* the same player within 5 s: refused, however much budget the world has */
    tale_world_set_now(c->w, 5999);
    assert_contains(run(&c->seats[0], "yell again"), "The din drowns out");
    assert_int_equal(c->calls, 6);
    tale_world_set_now(c->w, 6000);
    assert_contains(run(&c->seats[0], "yell again"), "yell: ");
    assert_int_equal(c->calls, 7);
    crowd_free(c);
}

static void
who_summarises_and_pages(void **state)
{
    (void)state;
    crowd_t *c = crowd_new(120);
    for (int i = 0; i < 120; i++)
        crowd_join(c);
    run(&c->seats[119], "east");
    const char *t = run(&c->seats[0], "who");
    assert_contains(t, "120 players are in the game.");
    assert_contains(t, "Here with you:");
    /* the latest 20 arrivals here (Tester 120 went east), then the rest counted */
    assert_contains(t, "Tester 119 <span class='txt-dim'>(Porch)</span>");
    assert_contains(t, "Tester 100 <span class='txt-dim'>(Porch)</span>");
    assert_lacks(t, "Tester 99 ");
    assert_lacks(t, "Tester 120");
    assert_contains(t, "... and 98 more here.");
    assert_contains(t, "who 1");

    t = run(&c->seats[0], "who 1");
    assert_contains(t, "Players, page 1 of 3:");
    assert_contains(t, "Tester <span class='txt-dim'>(you)</span>");
    assert_contains(t, "Tester 50 <span class='txt-dim'>(Porch)</span>");
    assert_lacks(t, "Tester 51 ");
    assert_contains(t, "who 2");
    t = run(&c->seats[0], "who 3");
    assert_contains(t, "Players, page 3 of 3:");
    assert_contains(t, "Tester 101 <span class='txt-dim'>(Porch)</span>");
    assert_contains(t, "Tester 120 <span class='txt-dim'>(Garden)</span>");
    assert_lacks(t, "More:");
    assert_contains(run(&c->seats[0], "who 4"), "There are only 3 pages of players.");
    assert_contains(run(&c->seats[0], "who x"), "a number from 1 to 3");

    /* stable order: when one leaves, the next moves up a page */
    tale_player_leave(c->seats[9].p);
    c->seats[9].p = NULL;
    t = run(&c->seats[0], "who 1");
    assert_contains(t, "Tester 51 <span class='txt-dim'>(Porch)</span>");
    assert_lacks(t, "Tester 10 ");
    crowd_free(c);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_stay_bounded_from_100_to_10000_players),
        cmocka_unit_test(room_news_reaches_exactly_the_room),
        cmocka_unit_test(movement_keeps_room_lists),
        cmocka_unit_test(crowded_arrivals_come_as_one_summary_a_tick),
        cmocka_unit_test(leave_and_fade_in_a_small_room),
        cmocka_unit_test(seats_are_reused_lowest_first),
        cmocka_unit_test(yell_has_a_cooldown_and_a_world_budget),
        cmocka_unit_test(who_summarises_and_pages),
    };
    return play_run(tests, argc, argv);
}
