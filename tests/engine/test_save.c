/*
 * test_save.c - saves: the round trip, temp files a killed save left, bad saves refused whole, no save folder
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

#include "engine/world.h"

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

/* `text` restored by tale_world_restore_bytes (the flat reader first) and by
 * the jansson reader alone make the same world; its save is returned. */
static char *
restore_both_ways(game_t *g, const char *text)
{
    char err[512] = "";
    assert_int_equal(tale_world_restore_bytes(g->w, text, strlen(text), err, sizeof err), 0);
    char *flat = tale_world_serialise(g->w, NULL);
    assert_int_equal(eng_world_restore_tree(g->w, text, strlen(text), err, sizeof err), 0);
    char *tree = tale_world_serialise(g->w, NULL);
    assert_string_equal(flat, tree);
    free(tree);
    return flat;
}

/* Saves not in today's writer's shape: written by hand or by an older
 * writer (compact, keys in any order, escapes, without the item and NPC
 * fields added later, without "won").  They restore, to the world the
 * writer's own save of the same state makes. */
static void
saves_of_other_shapes_still_restore(void **state)
{
    game_t *g = *state;
    to_hall(g);
    cmd(g, "wear coat");
    cmd(g, "drop flask");
    char *own = tale_world_serialise(g->w, NULL);
    /* the flat writer writes what the jansson one does */
    char *tree = eng_world_serialise_tree(g->w, NULL);
    assert_string_equal(own, tree);
    free(tree);
    json_t *root = json_loads(own, 0, NULL);
    assert_non_null(root);

    char *compact = json_dumps(root, JSON_COMPACT); /* insertion order, no spaces */
    char *back = restore_both_ways(g, compact);
    assert_string_equal(back, own);
    free(back);

    /* an escape (in a place's first letter): only the jansson reader reads those */
    json_t *items = json_object_get(root, "items"), *it;
    const char *id;
    json_object_foreach(items, id, it)
    {
        const char *pl = json_string_value(json_object_get(it, "place"));
        if (strncmp(pl, "location:", 9) == 0) {
            char *esc = json_dumps(root, JSON_INDENT(2));
            char needle[160], *at;
            snprintf(needle, sizeof needle, "\"place\": \"%s\"", pl);
            assert_non_null(at = strstr(esc, needle));
            char *with = malloc(strlen(esc) + 8);
            size_t head = (size_t)(at - esc) + strlen("\"place\": \"");
            memcpy(with, esc, head);
            strcpy(with + head, "\\u006c");
            strcat(with, at + strlen("\"place\": \"") + 1);
            back = restore_both_ways(g, with);
            assert_string_equal(back, own);
            free(back);
            free(with);
            free(esc);
            break;
        }
    }

    /* an older writer's save: no worn/wielded/fired, no emote_pos, no "won" */
    json_object_foreach(items, id, it)
    {
        json_object_del(it, "worn");
        json_object_del(it, "wielded");
        json_object_del(it, "fired");
    }
    json_t *npcs = json_object_get(root, "npcs"), *n;
    json_object_foreach(npcs, id, n) json_object_del(n, "emote_pos");
    json_object_del(root, "won");
    char *older = json_dumps(root, JSON_INDENT(1));
    back = restore_both_ways(g, older);
    /* as saved but for what the older writer did not know: the coat is not worn */
    assert_non_null(strstr(back, "\"place\": \"player:0\""));
    assert_null(strstr(back, "\"worn\": true"));
    free(back);
    free(older);
    free(compact);
    json_decref(root);
    free(own);
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
        T(saves_of_other_shapes_still_restore),
        cmocka_unit_test(saving_disabled_without_a_data_dir),
    };
    return play_run(tests, argc, argv);
}
