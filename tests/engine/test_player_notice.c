/*
 * test_player_notice.c - the host's notices are the engine's frames
 * (tale_player_notice): one text frame holding the notice as an escaped
 * paragraph and the player's current location snapshot, like every frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* Keeps only the newest frame. */
static void
emit(void *ctx, json_t *frame)
{
    json_t **last = ctx;
    json_decref(*last);
    *last = frame;
}

static const char *
field(json_t *frame, const char *key)
{
    return json_string_value(json_object_get(frame, key));
}

static void
a_notice_carries_the_location_where_the_player_is_now(void **state)
{
    (void)state;
    char err[512] = "";
    tale_world_t *w = tale_world_load(TALE_FIXTURES "/manor", NULL, err, sizeof err);
    if (w == NULL)
        fail_msg("fixture does not load: %s", err);
    json_t *last = NULL;
    tale_player_t *p = tale_player_join(w, emit, &last);
    tale_player_command(p, "east", 4);
    tale_player_command(p, "take lamp", 9);

    tale_player_notice(p, "Slow down <b>a little</b> & wait.");
    assert_string_equal(field(last, "type"), "text");
    assert_string_equal(field(last, "text"), "<p>Slow down &lt;b&gt;a little&lt;/b&gt; &amp; wait.</p>\n");
    assert_string_equal(field(last, "location"), "Garden");
    assert_string_equal(field(last, "exits"), "west");
    assert_true(json_is_array(json_object_get(last, "special")));
    assert_int_equal(json_integer_value(json_object_get(last, "turns")), 2);
    assert_null(strstr(field(last, "items"), "lamp"));

    json_decref(last);
    tale_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_notice_carries_the_location_where_the_player_is_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
