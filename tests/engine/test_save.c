/*
 * test_save.c - saves: the round trip, temp files a killed save left, bad saves refused whole, no save folder
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(data, f);
    fclose(f);
}

static void
a_save_removes_temp_files_a_killed_save_left(void **state)
{
    game_t *g = *state;
    char stale[160], other[160];
    snprintf(stale, sizeof stale, "%s/world.save.tmp.Ab12Cd", g->save_dir);
    snprintf(other, sizeof other, "%s/notes.tmp.keep", g->save_dir);
    FILE *f = fopen(stale, "w");
    assert_non_null(f);
    fputs("{\"half\":", f);
    fclose(f);
    f = fopen(other, "w");
    assert_non_null(f);
    fclose(f);
    assert_contains(cmd(g, "save"), "Game saved.");
    struct stat st;
    assert_int_equal(stat(stale, &st), -1);
    assert_int_equal(stat(other, &st), 0); /* only our own temp files go */
}

static void
save_and_restore_round_trip(void **state)
{
    game_t *g = *state;
    to_hall(g);
    cmd(g, "wear coat");
    cmd(g, "drop flask");
    assert_contains(cmd(g, "save"), "Game saved.");
    char path[128];
    snprintf(path, sizeof path, "%s/world.save", g->save_dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    long saved_turns = turns(g);

    /* a later start: restore before anyone joins; the first player gets it */
    tale_world_t *w2 = load(g->save_dir);
    char err[512];
    assert_int_equal(tale_world_restore(w2, NULL, err, sizeof err), 0);
    sink_t s2 = {json_array()};
    tale_player_t *p2 = tale_player_join(w2, emit, &s2);
    json_t *f = last_frame(&s2, "text");
    assert_string_equal(json_string_value(json_object_get(f, "location")), "Hall");
    assert_int_equal(json_integer_value(json_object_get(f, "turns")), saved_turns);
    assert_string_equal(json_string_value(json_object_get(f, "items")), "water flask");
    json_array_clear(s2.frames);
    tale_player_command(p2, "i", 1);
    assert_contains(text_of(&s2), "a brass key, a wool coat (worn)");
    tale_player_command(p2, "s", 1);
    assert_contains(text_of(&s2), "<span class='txt-location'>Porch</span>"); /* the door stayed open */
    tale_world_free(w2);
    json_decref(s2.frames);

    /* load in play puts things back as saved */
    cmd(g, "s");
    assert_contains(cmd(g, "load"), "Game restored.");
    assert_string_equal(field(g, "location"), "Hall");
    assert_int_equal(turns(g), saved_turns);
    /* no temp files left behind */
    char cmdline[256];
    snprintf(cmdline, sizeof cmdline, "test $(ls '%s' | wc -l) -eq 1", g->save_dir);
    assert_int_equal(system(cmdline), 0);
}

static void
bad_saves_are_refused_whole(void **state)
{
    game_t *g = *state;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/world.save", g->save_dir);
    assert_int_equal(tale_world_restore(g->w, NULL, err, sizeof err), -1);
    assert_contains(err, "no saved game");

    write_file(path, "{\"format\":\"tale-save\",\"version\":1,\"story\":\"Test Ma");
    assert_int_equal(tale_world_restore(g->w, NULL, err, sizeof err), -1);
    assert_contains(err, "not a saved game (corrupt at line 1");
    assert_contains(cmd(g, "restore"), "Could not restore: ");

    write_file(path, "[1,2,3]");
    assert_int_equal(tale_world_restore(g->w, path, err, sizeof err), -1);
    assert_contains(err, "not a Tale Host saved game");

    write_file(path, "{\"format\":\"tale-save\",\"version\":99,\"story\":\"Test Manor\"}");
    assert_int_equal(tale_world_restore(g->w, path, err, sizeof err), -1);
    assert_contains(err, "incompatible version (format 99, this host reads 1)");

    write_file(path, "{\"format\":\"tale-save\",\"version\":1,\"story\":\"Another Story\"}");
    assert_int_equal(tale_world_restore(g->w, path, err, sizeof err), -1);
    assert_contains(err, "belongs to another story ('Another Story', not 'Test Manor')");

    /* a good save, then damaged in one item: nothing of it is applied */
    cmd(g, "take brass key");
    cmd(g, "e");
    assert_contains(cmd(g, "save"), "Game saved.");
    FILE *f = fopen(path, "r");
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *at = strstr(buf, "\"place\": \"location:garden\"");
    assert_non_null(at);
    memcpy(at, "\"place\": \"location:xxxxxx\"", strlen("\"place\": \"location:xxxxxx\""));
    write_file(path, buf);
    cmd(g, "w");
    cmd(g, "drop brass key");
    assert_int_equal(tale_world_restore(g->w, path, err, sizeof err), -1);
    assert_contains(err, "has no valid place");
    assert_string_equal(cmd(g, "look") ? field(g, "location") : "", "Porch");
    assert_string_equal(field(g, "items"), "brass key,iron key");
}

static void
saving_disabled_without_a_data_dir(void **state)
{
    char err[1024];
    tale_world_t *w = tale_world_load(TALE_FIXTURES "/manor", NULL, err, sizeof err);
    assert_non_null(w);
    sink_t s = {json_array()};
    tale_player_t *p = tale_player_join(w, emit, &s);
    tale_player_command(p, "save", 4);
    assert_contains(text_of(&s), "Saving is not available in this game.");
    assert_int_equal(tale_world_save(w, NULL, err, sizeof err), -1);
    assert_contains(err, "saving is disabled");
    tale_world_free(w);
    json_decref(s.frames);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(save_and_restore_round_trip),
        T(a_save_removes_temp_files_a_killed_save_left),
        T(bad_saves_are_refused_whole),
        cmocka_unit_test(saving_disabled_without_a_data_dir),
    };
    return play_run(tests, argc, argv);
}
