/*
 * fake_engine.c - a scripted stand-in for the game engine, so the session
 * layer can be tested alone: each command emits one text frame echoing it,
 * "quit" returns TALE_CMD_QUIT, "burst N" emits N frames, "yell X" tells
 * every other player in one frame (through the broadcast hook when the host
 * set one, else a copy each, as the engine does).  Everyone is in one room:
 * a player leaving or fading away is announced to the others.  Its one piece
 * of state worth saving: "remember X" (per_visitor tests), which the welcome
 * repeats and a save through the host's writer keeps.
 */
#include "engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tale_world {
    tale_story_meta_t meta;
    int ticks;
    struct tale_player *players;
    int joined;
    tale_broadcast_fn broadcast;
    void *bctx;
    tale_save_writer_t writer;
    char *save_dir;
    char remembered[64];
};

struct tale_player {
    tale_world_t *w;
    tale_emit_fn emit;
    void *ctx;
    struct tale_player *prev, *next;
    int number;    /* "player N", in join order */
    char name[32]; /* accounts: the character's name ("" a guest) */
};

int fake_restores;

static void
say(tale_player_t *p, const char *text)
{
    p->emit(p->ctx, json_pack("{s:s, s:s, s:[], s:i, s:s, s:s, s:s, s:s, s:s}", "type", "text", "text", text, "special", "turns", 0,
                              "location", "The Jetty", "location_image", "jetty.svg", "npcs", "", "items", "", "exits", "north"));
}

tale_world_t *
tale_world_load(const char *dir, const tale_world_options_t *opt, char *err, size_t errlen)
{
    tale_world_t *w = calloc(1, sizeof(*w));
    w->meta = (tale_story_meta_t){"Fake", "1", "Tester", "t@example.org", "/nonexistent"};
    return w;
}

void
tale_world_free(tale_world_t *w)
{
    if (w == NULL)
        return;
    free(w->save_dir);
    free(w);
}

const tale_story_meta_t *
tale_world_meta(const tale_world_t *w)
{
    return &w->meta;
}

void
tale_world_set_broadcast(tale_world_t *w, tale_broadcast_fn fn, void *bctx)
{
    w->broadcast = fn;
    w->bctx = bctx;
}

/* What the engine's broadcasts do: the hook, as the host registered it. */
void
fake_world_broadcast(tale_world_t *w, void *const *ctxs, size_t n, json_t *frame)
{
    if (w->broadcast != NULL) {
        w->broadcast(w->bctx, ctxs, n, frame);
        return;
    }
    json_decref(frame);
}

/* A room frame for everyone but `except`: one frame through the hook, or
 * (no hook) a copy to each player's emit callback. */
static void
tell_others(tale_world_t *w, tale_player_t *except, const char *text)
{
    json_t *frame = json_pack("{s:s, s:s, s:[]}", "type", "text", "text", text, "special");
    size_t n = 0;
    for (tale_player_t *p = w->players; p != NULL; p = p->next)
        n += p != except;
    void **ctxs = calloc(n + 1, sizeof(*ctxs));
    n = 0;
    for (tale_player_t *p = w->players; p != NULL; p = p->next)
        if (p != except) {
            if (w->broadcast == NULL)
                p->emit(p->ctx, json_deep_copy(frame));
            ctxs[n++] = p->ctx;
        }
    if (w->broadcast != NULL)
        w->broadcast(w->bctx, (void *const *)ctxs, n, frame);
    else
        json_decref(frame);
    free(ctxs);
}

tale_player_t *
tale_player_join(tale_world_t *w, tale_emit_fn emit, void *ctx)
{
    tale_player_t *p = calloc(1, sizeof(*p));
    p->w = w;
    p->emit = emit;
    p->ctx = ctx;
    p->number = ++w->joined;
    p->next = w->players;
    if (w->players != NULL)
        w->players->prev = p;
    w->players = p;
    if (w->remembered[0] != '\0') {
        char text[128];
        snprintf(text, sizeof(text), "<p>welcome back, remembering %s</p>\n", w->remembered);
        say(p, text);
    } else {
        say(p, "<p>welcome</p>\n");
    }
    return p;
}

void
tale_player_depart(tale_player_t *p, int how)
{
    tale_world_t *w = p->w;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        w->players = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    char text[64];
    snprintf(text, sizeof(text), "<p>player %d %s.</p>\n", p->number, how == TALE_DEPART_FADE ? "fades away" : "leaves the game");
    tell_others(w, NULL, text);
    free(p);
}

void
tale_player_leave(tale_player_t *p)
{
    tale_player_depart(p, TALE_DEPART_QUIT);
}

int
tale_player_command(tale_player_t *p, const char *line, size_t len)
{
    char buf[256];
    int n;
    if (len == 4 && memcmp(line, "quit", 4) == 0) {
        say(p, "<p>bye</p>\n");
        return TALE_CMD_QUIT;
    }
    if (len > 5 && memcmp(line, "yell ", 5) == 0) {
        snprintf(buf, sizeof(buf), "<p>player %d yells: %.*s</p>\n", p->number, (int)len - 5, line + 5);
        tell_others(p->w, p, buf);
        say(p, "<p>you yell</p>\n");
        return TALE_CMD_OK;
    }
    if (len > 9 && len < 9 + sizeof(p->w->remembered) && memcmp(line, "remember ", 9) == 0) {
        snprintf(p->w->remembered, sizeof(p->w->remembered), "%.*s", (int)len - 9, line + 9);
        say(p, "<p>noted</p>\n");
        return TALE_CMD_OK;
    }
    if (sscanf(line, "burst %d", &n) == 1) {
        for (int i = 0; i < n; i++)
            say(p, "<p>burst line with some padding to take up room in the backlog</p>\n");
        return TALE_CMD_OK;
    }
    snprintf(buf, sizeof(buf), "<p>you said %.*s</p>\n", (int)len, line);
    say(p, buf);
    return TALE_CMD_OK;
}

json_t *
tale_player_complete(tale_player_t *p, const char *prefix, size_t len)
{
    json_t *a = json_array();
    if (len > 0 && strncmp("look", prefix, len) == 0)
        json_array_append_new(a, json_string("look"));
    if (len > 0 && strncmp("lock", prefix, len) == 0)
        json_array_append_new(a, json_string("lock"));
    return a;
}

/* The real engine renders the list; here it is enough to see the request arrive. */
void
tale_player_suggest(tale_player_t *p, const char *prefix, size_t len)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "<p>suggestions for %.*s</p>\n", (int)len, prefix);
    say(p, buf);
}

/* As the real engine: the host's notice as one escaped paragraph (the test
 * notices hold nothing to escape). */
void
tale_player_notice(tale_player_t *p, const char *text)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "<p>%s</p>\n", text);
    say(p, buf);
}

/* Accounts (issue #15): the session layer's calls, with the fake's one
 * room and its one remembered word as the character's state. */
tale_player_t *
tale_player_join_as(tale_world_t *w, const char *name, tale_emit_fn emit, void *ctx, const char **why)
{
    (void)why;
    tale_player_t *p = tale_player_join(w, emit, ctx);
    snprintf(p->name, sizeof(p->name), "%s", name);
    return p;
}

const char *
tale_player_name(const tale_player_t *p)
{
    if (p == NULL)
        return "";
    return p->name[0] != '\0' ? p->name : "Tester"; /* a guest has the story's player name */
}

int
tale_player_rename(tale_player_t *p, const char *name, const char **why)
{
    (void)why;
    snprintf(p->name, sizeof(p->name), "%s", name);
    return 0;
}

void
tale_player_set_guest(tale_player_t *p, int guest)
{
    (void)p;
    (void)guest;
}

int
tale_world_name_check(const tale_world_t *w, const char *name, const char **why)
{
    (void)w;
    (void)name;
    (void)why;
    return 0;
}

char *
tale_player_state_serialise(const tale_player_t *p, size_t *len)
{
    char *s = strdup(p->w->remembered);
    *len = strlen(s);
    return s;
}

int
tale_player_state_restore(tale_player_t *p, const char *data, size_t len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    snprintf(p->w->remembered, sizeof(p->w->remembered), "%.*s", (int)len, data);
    return 0;
}

json_t *
tale_prompt_frame(const char *text, int noecho)
{
    return json_pack("{s:s, s:s, s:[s]}", "type", "text", "text", text, "special", noecho ? "noecho" : "none");
}

void
tale_player_prompt(tale_player_t *p, const char *text, int noecho)
{
    p->emit(p->ctx, tale_prompt_frame(text, noecho));
}

void
tale_world_tick(tale_world_t *w)
{
    w->ticks++;
}

int
tale_world_save(tale_world_t *w, const char *path, char *err, size_t errlen)
{
    return 0;
}

/* The session layer's autosave: as if written at once; through the host's
 * writer (per_visitor) the state goes as {"remember": X}. */
int
tale_world_checkpoint(tale_world_t *w, uint64_t *ticket, char *err, size_t errlen)
{
    if (w->writer.submit == NULL)
        return tale_world_save(w, NULL, err, errlen);
    json_t *j = json_pack("{s:s}", "remember", w->remembered);
    char *data = json_dumps(j, 0);
    json_decref(j);
    static uint64_t tickets;
    if (w->writer.submit(w->writer.ctx, ++tickets, data, strlen(data), err, errlen) != 0)
        return -1;
    if (ticket != NULL)
        *ticket = tickets;
    return 1;
}

int
tale_world_restore(tale_world_t *w, const char *path, char *err, size_t errlen)
{
    fake_restores++;
    size_t len = 0;
    const char *unwritten = path == NULL && w->writer.unwritten != NULL ? w->writer.unwritten(w->writer.ctx, &len) : NULL;
    json_t *j = NULL;
    if (unwritten != NULL) {
        j = json_loadb(unwritten, len, 0, NULL);
    } else if (w->save_dir != NULL) {
        char file[512];
        snprintf(file, sizeof(file), "%s/world.save", path != NULL ? path : w->save_dir);
        j = json_load_file(file, 0, NULL);
    }
    const char *r = json_string_value(json_object_get(j, "remember"));
    if (r == NULL) {
        json_decref(j);
        snprintf(err, errlen, "no saved game");
        return -1;
    }
    snprintf(w->remembered, sizeof(w->remembered), "%s", r);
    json_decref(j);
    return 0;
}

/* per_visitor needs these; the session tests run in the other modes, where
 * the host's one world comes from tale_world_load. */
tale_world_t *
tale_world_new(tale_story_t *story, const tale_world_options_t *opt)
{
    tale_world_t *w = tale_world_load(NULL, opt, NULL, 0);
    if (opt != NULL && opt->save_dir != NULL)
        w->save_dir = strdup(opt->save_dir);
    return w;
}

void
tale_world_set_save_writer(tale_world_t *w, const tale_save_writer_t *sw)
{
    if (sw != NULL)
        w->writer = *sw;
    else
        memset(&w->writer, 0, sizeof(w->writer));
}

void
tale_world_save_done(tale_world_t *w, uint64_t ticket, int ok, const char *err)
{
}

int
tale_save_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        snprintf(err, errlen, "%s: cannot write", path);
        if (f != NULL)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}
