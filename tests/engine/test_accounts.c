/*
 * test_accounts.c - the engine's side of accounts (issue #15): the name rules,
 * joining and renaming by name, a character's state saved and restored, the
 * host's prompts, guests in `who` (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

typedef struct other {
    tale_player_t *p;
    sink_t s;
} other_t;

static tale_player_t *
join_named(game_t *g, other_t *o, const char *name)
{
    const char *why = "unset";
    o->s.frames = json_array();
    o->p = tale_player_join_as(g->w, name, emit, &o->s, &why);
    if (o->p == NULL)
        fail_msg("join_as '%s' refused: %s", name, why);
    assert_null(why);
    return o->p;
}

/* Run a command for another player; its one text frame's HTML. */
static const char *
other_cmd(other_t *o, const char *line)
{
    json_array_clear(o->s.frames);
    assert_int_equal(tale_player_command(o->p, line, strlen(line)), TALE_CMD_OK);
    return text_of(&o->s);
}

/* Restore a character of the fixture story from the rest of its JSON object; the frames it got. */
#define CHARACTER "{\"format\":\"tale-character\",\"version\":1,\"story\":\"Test Manor\","
static void
restore_ok(other_t *o, const char *json)
{
    char err[256] = "";
    json_array_clear(o->s.frames);
    if (tale_player_state_restore(o->p, json, strlen(json), err, sizeof err) != 0)
        fail_msg("character refused: %s", err);
}

static void
leave(other_t *o)
{
    tale_player_leave(o->p);
    json_decref(o->s.frames);
}

static void
expect_refused(game_t *g, const char *name, const char *why_part)
{
    const char *why = NULL;
    if (tale_world_name_check(g->w, name, &why) == 0)
        fail_msg("name '%s' was accepted", name);
    assert_non_null(why);
    assert_contains(why, why_part);
}

static void
expect_ok(game_t *g, const char *name)
{
    const char *why = NULL;
    if (tale_world_name_check(g->w, name, &why) != 0)
        fail_msg("name '%s' refused: %s", name, why);
}

static void
name_rules(void **state)
{
    game_t *g = *state;
    expect_ok(g, "Ann");
    expect_ok(g, "Mary-Ann");
    expect_ok(g, "O'Neil");
    expect_ok(g, "abcdefghijklmnopqrst"); /* 20 */
    expect_refused(g, "Al", "3 to 20");
    expect_refused(g, "abcdefghijklmnopqrstu", "3 to 20");
    expect_refused(g, "", "3 to 20");
    expect_refused(g, "Ren\xc3\xa9", "plain letters");
    expect_refused(g, "\xd0\x90nna", "plain letters"); /* a Cyrillic A */
    expect_refused(g, "Ann Lee", "no spaces");
    expect_refused(g, "Ann2", "no spaces, digits");
    expect_refused(g, "-Ann", "between two");
    expect_refused(g, "Ann-", "between two");
    expect_refused(g, "Ma--ry", "between two");
    expect_refused(g, "Ma-'ry", "between two");
    expect_refused(g, "Ann<b>", "no spaces");
    /* someone or something of the story, by name, alias, id or a word of an NPC's name */
    expect_refused(g, "Tibbles", "belongs to someone");
    expect_refused(g, "TIBBLES", "belongs to someone");
    expect_refused(g, "Tlbbles", "belongs to someone"); /* l for i */
    expect_refused(g, "Bert", "belongs to someone");
    expect_refused(g, "gardener", "belongs to someone");
    expect_refused(g, "cat", "belongs to someone");
    expect_refused(g, "lamp", "belongs to someone");
    expect_refused(g, "doormat", "belongs to someone");
    expect_refused(g, "Tester", "belongs to someone"); /* the guests' name */
    /* words the game uses */
    expect_refused(g, "look", "word the game");
    expect_refused(g, "North", "word the game");
    expect_refused(g, "myself", "word the game");
    expect_refused(g, "Admin", "word the game");
    /* the rules do not depend on *why being wanted */
    assert_int_equal(tale_world_name_check(g->w, "x", NULL), -1);
    assert_int_equal(tale_world_name_check(g->w, "Wilma", NULL), 0);
}

static void
names_taken_by_case_and_look_alike(void **state)
{
    game_t *g = *state;
    other_t a, b;
    join_named(g, &a, "Corn");
    join_named(g, &b, "Bill");
    expect_refused(g, "corn", "already goes by");
    expect_refused(g, "CORN", "already goes by");
    expect_refused(g, "Com", "already goes by");   /* rn reads as m */
    expect_refused(g, "BiII", "already goes by");  /* capital I for l */
    expect_refused(g, "B-ill", "already goes by"); /* separators are ignored */
    expect_ok(g, "Cora");
    const char *why = NULL;
    assert_null(tale_player_join_as(g->w, "cOrN", emit, &a.s, &why));
    assert_contains(why, "already goes by");
    /* the name frees when its player leaves */
    tale_player_leave(a.p);
    expect_ok(g, "Com");
    tale_player_leave(b.p);
    json_decref(a.s.frames);
    json_decref(b.s.frames);
}

static void
join_as_and_rename(void **state)
{
    game_t *g = *state;
    other_t a;
    json_array_clear(g->s.frames);
    join_named(g, &a, "Wilma");
    assert_string_equal(tale_player_name(a.p), "Wilma");
    assert_contains(text_of(&a.s), "Welcome to");
    assert_contains(text_of(&g->s), "Wilma appears.");
    assert_contains(cmd(g, "tell wilma psst"), "You tell Wilma");
    assert_contains(text_of(&a.s), "Tester</span> tells you");

    /* a guest (the default player) takes a name and keeps the character */
    const char *why = NULL;
    json_array_clear(a.s.frames);
    assert_int_equal(tale_player_rename(g->p, "Fred", &why), 0);
    assert_string_equal(tale_player_name(g->p), "Fred");
    assert_contains(text_of(&a.s), "Tester is now known as Fred.");
    assert_contains(other_cmd(&a, "tell fred hello"), "You tell Fred");
    assert_contains(other_cmd(&a, "tell tester hello"), "no player called");
    /* the own name in another case is the player's own */
    assert_int_equal(tale_player_rename(g->p, "FRED", &why), 0);
    assert_string_equal(tale_player_name(g->p), "FRED");
    assert_int_equal(tale_player_rename(g->p, "wilma", &why), -1);
    assert_contains(why, "already goes by");
    assert_string_equal(tale_player_name(g->p), "FRED");
    assert_int_equal(tale_player_rename(g->p, "F", &why), -1);
    assert_contains(why, "3 to 20");
    leave(&a);
}

static void
who_marks_guests(void **state)
{
    game_t *g = *state;
    other_t a;
    join_named(g, &a, "Wilma");
    tale_player_set_guest(g->p, 1);
    const char *t = cmd(g, "who");
    assert_contains(t, "2 players are in the game.");
    assert_contains(t, "Tester <span class='txt-dim'>(guest, you)</span>");
    assert_contains(t, "Wilma <span class='txt-dim'>(Porch)</span>");
    t = other_cmd(&a, "who");
    assert_contains(t, "Tester <span class='txt-dim'>(guest, Porch)</span>");
    assert_contains(t, "Wilma <span class='txt-dim'>(you)</span>");
    tale_player_set_guest(g->p, 0);
    assert_contains(cmd(g, "who"), "Tester <span class='txt-dim'>(you)</span>");
    leave(&a);
}

/* The default player (slot 0) starts with the flask and the coat. */
static void
state_round_trip(void **state)
{
    game_t *g = *state;
    tale_player_leave(g->p); /* the fixture's guest: its flask and coat stay on the porch */
    other_t a;
    join_named(g, &a, "Wilma");
    other_cmd(&a, "take coat");
    other_cmd(&a, "wear coat");
    other_cmd(&a, "take brass key");
    other_cmd(&a, "unlock door");
    other_cmd(&a, "open door");
    assert_contains(other_cmd(&a, "north"), "Hall");
    other_cmd(&a, "wait");
    long before = (long)json_integer_value(json_object_get(last_frame(&a.s, "text"), "turns"));
    size_t len = 0;
    char *data = tale_player_state_serialise(a.p, &len);
    assert_non_null(data);
    assert_int_equal(len, strlen(data));
    assert_contains(data, "\"format\":\"tale-character\"");
    assert_contains(data, "\"location\":\"hall\"");
    assert_contains(data, "\"coat\":{");
    assert_contains(data, "\"brass-key\":{");
    assert_lacks(data, "\"flask\""); /* left on the porch */
    assert_lacks(data, "\"slot\"");

    /* a character's things go back where the story put them (the key, on
     * the porch, for whoever needs it next), not down in the hall */
    tale_player_leave(a.p);
    other_t c;
    join_named(g, &c, "Cora");
    assert_contains(other_cmd(&c, "look"), "brass key");
    other_cmd(&c, "north");
    assert_lacks(other_cmd(&c, "look"), "brass key");

    other_t b;
    join_named(g, &b, "Wilma");
    json_array_clear(c.s.frames);
    json_array_clear(b.s.frames);
    char err[256] = "";
    assert_int_equal(tale_player_state_restore(b.p, data, len, err, sizeof err), 0);
    assert_contains(text_of(&b.s), "<span class='txt-location'>Hall</span>");
    assert_contains(text_of(&c.s), "Wilma appears.");
    assert_contains(other_cmd(&b, "inventory"), "a wool coat (worn)");
    assert_contains(text_of(&b.s), "brass key");
    assert_contains(other_cmd(&b, "time"), "Turns taken: ");
    char want[64];
    snprintf(want, sizeof want, "Turns taken: %ld.", before);
    assert_contains(text_of(&b.s), want);
    free(data);
    tale_player_leave(b.p);
    tale_player_leave(c.p);
    json_decref(a.s.frames);
    json_decref(b.s.frames);
    json_decref(c.s.frames);
}

static void
guests_leave_their_things(void **state)
{
    game_t *g = *state;
    other_t a;
    join_named(g, &a, "Wilma");
    tale_player_set_guest(a.p, 1);
    other_cmd(&a, "take brass key");
    tale_player_leave(a.p);
    assert_contains(cmd(g, "look"), "brass key");
    json_decref(a.s.frames);
}

/* Containers the character carries come back with what is in them. */
static void
restore_nested_containers(void **state)
{
    game_t *g = *state;
    other_t a;
    join_named(g, &a, "Wilma");
    restore_ok(&a, CHARACTER "\"location\":\"garden\",\"turns\":7,\"items\":{\"box\":{\"place\":\"held\",\"closed\":false},"
                             "\"coin\":{\"place\":\"in:box\"},\"lamp\":{\"place\":\"held\",\"lit\":true}}}");
    const char *t = other_cmd(&a, "inventory");
    assert_contains(t, "a wooden box");
    assert_contains(t, "an oil lamp (lit)");
    assert_lacks(t, "gold coin"); /* inside the box, not in hand */
    size_t len;
    char *data = tale_player_state_serialise(a.p, &len);
    assert_contains(data, "\"coin\":{\"closed\":false,\"fired\":0,\"lit\":false,\"locked\":false,\"place\":\"in:box\"");
    assert_contains(data, "\"turns\":7");
    free(data);
    leave(&a);
}

/* A story edited since: what it no longer has is left out, with a note. */
static void
restore_story_changed(void **state)
{
    game_t *g = *state;
    other_t a;
    join_named(g, &a, "Wilma");
    restore_ok(&a, CHARACTER "\"location\":\"tower\",\"visited\":[\"tower\",\"garden\",7],\"met\":[\"ghost\"],"
                             "\"items\":{\"sword\":{\"place\":\"held\"},\"coin\":{\"place\":\"in:sword\"},"
                             "\"lamp\":{\"place\":\"in:lamp\"},\"fish\":[]}}");
    const char *t = text_of(&a.s);
    assert_contains(t, "<span class='txt-location'>Porch</span>");
    assert_contains(t, "The place where you left off is no longer in this world");
    assert_contains(t, "Some things you carried are no longer in this world.");
    t = other_cmd(&a, "inventory");
    assert_contains(t, "a gold coin"); /* its container is gone: held */
    assert_contains(t, "an oil lamp"); /* inside itself: held */
    leave(&a);
}

/* One object of each in a shared world: what another player holds stays theirs. */
static void
restore_held_by_another(void **state)
{
    game_t *g = *state;
    other_t a;
    join_named(g, &a, "Wilma");
    cmd(g, "take brass key");
    restore_ok(&a, CHARACTER "\"location\":\"porch\",\"items\":{\"brass-key\":{\"place\":\"held\"}}}");
    assert_contains(text_of(&a.s), "You no longer have the brass key: Tester has it now.");
    assert_contains(cmd(g, "inventory"), "brass key");
    assert_contains(other_cmd(&a, "inventory"), "empty-handed");
    leave(&a);
}

static void
restore_refuses_what_is_no_character(void **state)
{
    game_t *g = *state;
    static const struct {
        const char *data, *err;
    } bad[] = {
        {"", "empty"},
        {"{", "corrupt"},
        {"[]", "not a Tale Host saved character"},
        {"{\"format\":\"tale-save\",\"version\":1}", "not a Tale Host saved character"},
        {"{\"format\":\"tale-character\",\"version\":2,\"story\":\"Test Manor\"}", "incompatible version"},
        {"{\"format\":\"tale-character\",\"version\":1,\"story\":\"Other\"}", "another story"},
        {"{\"format\":\"tale-character\",\"version\":1,\"story\":\"Test Manor\",\"turns\":-1}", "damaged"},
        {"{\"format\":\"tale-character\",\"version\":1,\"story\":\"Test Manor\",\"items\":[]}", "damaged"},
        {"{\"format\":\"tale-character\",\"version\":1,\"story\":\"Test Manor\",\"location\":3}", "damaged"},
        {"{\"format\":\"tale-character\",\"format\":\"tale-character\"}", "corrupt"},
    };
    cmd(g, "take brass key");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        json_array_clear(g->s.frames);
        if (tale_player_state_restore(g->p, bad[i].data, strlen(bad[i].data), err, sizeof err) != -1)
            fail_msg("restored from %s", bad[i].data);
        assert_contains(err, bad[i].err);
        assert_int_equal(json_array_size(g->s.frames), 0); /* nothing said, nothing changed */
    }
    assert_contains(cmd(g, "inventory"), "brass key");
    assert_contains(cmd(g, "look"), "Porch");
}

static void
prompts(void **state)
{
    game_t *g = *state;
    json_array_clear(g->s.frames);
    tale_player_prompt(g->p, "Password for <Wilma>:", 1);
    json_t *f = last_frame(&g->s, "text");
    assert_string_equal(json_string_value(json_object_get(f, "text")), "<p>Password for &lt;Wilma&gt;:</p>\n");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "special"), 0)), "noecho");
    assert_string_equal(json_string_value(json_object_get(f, "location")), "Porch");
    tale_player_prompt(g->p, "Name:", 0);
    f = last_frame(&g->s, "text");
    assert_int_equal(json_array_size(json_object_get(f, "special")), 0);
    /* before a join: the same paragraph, no snapshot */
    f = tale_prompt_frame("Password & more:", 1);
    assert_string_equal(json_string_value(json_object_get(f, "type")), "text");
    assert_string_equal(json_string_value(json_object_get(f, "text")), "<p>Password &amp; more:</p>\n");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "special"), 0)), "noecho");
    assert_null(json_object_get(f, "location"));
    json_decref(f);
    f = tale_prompt_frame("Name:", 0);
    assert_int_equal(json_array_size(json_object_get(f, "special")), 0);
    json_decref(f);
}

/* The host's dialogue verbs are not the engine's: if one gets through, it is unknown. */
static void
host_verbs_are_unknown(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "password"), "I don&#39;t know the verb &#39;password&#39;.");
    assert_contains(cmd(g, "login wilma"), "I don&#39;t know the verb &#39;login&#39;.");
    assert_contains(cmd(g, "create wilma"), "I don&#39;t know the verb &#39;create&#39;.");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(name_rules),
        T(names_taken_by_case_and_look_alike),
        T(join_as_and_rename),
        T(who_marks_guests),
        T(state_round_trip),
        T(guests_leave_their_things),
        T(restore_nested_containers),
        T(restore_story_changed),
        T(restore_held_by_another),
        T(restore_refuses_what_is_no_character),
        T(prompts),
        T(host_verbs_are_unknown),
    };
    return play_run(tests, argc, argv);
}
