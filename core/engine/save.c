/*
 * save.c - saving and restoring the world's changing state.
 *
 * A save is JSON ({"format":"tale-save","version":1,...}) naming everything by
 * story id, never by array index, so a save survives a story edit that only
 * reorders things.  Writing is atomic (temp file in the same folder, fsync,
 * rename, fsync of the folder).  Reading checks the whole file against the
 * story before changing anything: a corrupt or foreign save is refused whole.
 *
 * A save has two halves: serialising (memory only, on the caller's thread)
 * and writing (blocks on the disk).  The host hands the written half to its
 * save worker through a tale_save_writer_t, so no fsync runs on the loop per
 * player command; without a writer (tests, tools) both halves run at once.
 */
#include "world.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAVE_FORMAT "tale-save"
#define SAVE_VERSION 1
#define SAVE_MAX_BYTES (16u * 1024 * 1024)
#define SAVE_DEFAULT_NAME "world.save"

static const char *const door_states[] = {"open", "closed", "locked"};

/* Counters in a save (clock, ticks, turns) are refused above this: a real
 * game at one tick a millisecond takes 31,000 years to get there, and the
 * headroom keeps every later increment far from overflowing a long. */
#define SAVE_COUNTER_MAX ((json_int_t)1 << 40)

static char *
default_path(tale_world_t *w, char *err, size_t errlen)
{
    if (!w->save_dir) {
        snprintf(err, errlen, "saving is disabled (no data directory configured)");
        return NULL;
    }
    return eng_xasprintf("%s/%s", w->save_dir, SAVE_DEFAULT_NAME);
}

/* A place as a save names it, into buf (truncated as it always was). */
static void
place_text(const tale_world_t *w, eng_place_t pl, char buf[256])
{
    switch (pl.kind) {
    case PLACE_LOC:
        snprintf(buf, 256, "location:%s", w->st->locs[pl.idx].id);
        break;
    case PLACE_ITEM:
        snprintf(buf, 256, "in:%s", w->st->items[pl.idx].id);
        break;
    case PLACE_NPC:
        snprintf(buf, 256, "npc:%s", w->st->npcs[pl.idx].id);
        break;
    case PLACE_PLAYER:
        snprintf(buf, 256, "player:%d", pl.idx);
        break;
    default:
        snprintf(buf, 256, "nowhere");
    }
}

static json_t *
place_json(const tale_world_t *w, eng_place_t pl)
{
    char buf[256];
    place_text(w, pl, buf);
    return json_string(buf);
}

static int
find_loc(const tale_world_t *w, const char *id)
{
    for (size_t i = 0; i < w->st->nlocs; i++)
        if (strcmp(w->st->locs[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int
find_item(const tale_world_t *w, const char *id)
{
    for (size_t i = 0; i < w->st->nitems; i++)
        if (strcmp(w->st->items[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int
find_npc(const tale_world_t *w, const char *id)
{
    for (size_t i = 0; i < w->st->nnpcs; i++)
        if (strcmp(w->st->npcs[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* An item's state, at `place` (a world save's place, or a character's). */
static json_t *
item_json(const eng_item_state_t *its, json_t *place)
{
    json_t *o = json_object();
    json_object_set_new(o, "place", place);
    json_object_set_new(o, "closed", json_boolean(its->closed));
    json_object_set_new(o, "locked", json_boolean(its->locked));
    json_object_set_new(o, "lit", json_boolean(its->lit));
    json_object_set_new(o, "worn", json_boolean(its->worn));
    json_object_set_new(o, "wielded", json_boolean(its->wielded));
    json_object_set_new(o, "fired", json_integer(its->fired));
    return o;
}

/* item_json's other half: everything but the place, which the caller checked. */
static void
item_apply(eng_item_state_t *its, json_t *o)
{
    its->closed = json_is_true(json_object_get(o, "closed"));
    its->locked = json_is_true(json_object_get(o, "locked"));
    its->lit = json_is_true(json_object_get(o, "lit"));
    its->worn = json_is_true(json_object_get(o, "worn"));
    its->wielded = json_is_true(json_object_get(o, "wielded"));
    its->fired = (unsigned)json_integer_value(json_object_get(o, "fired"));
}

static json_t *
player_json(const tale_player_t *p)
{
    const tale_world_t *w = p->w;
    json_t *o = json_object(), *vis = json_array(), *met = json_array();
    for (size_t i = 0; i < w->st->nlocs; i++)
        if (p->visited[i])
            json_array_append_new(vis, json_string(w->st->locs[i].id));
    for (size_t i = 0; i < w->st->nnpcs; i++)
        if (p->met[i])
            json_array_append_new(met, json_string(w->st->npcs[i].id));
    json_object_set_new(o, "slot", json_integer(p->slot));
    json_object_set_new(o, "location", json_string(w->st->locs[p->location].id));
    /* a player restored at the limit who played on still saves as readable */
    json_object_set_new(o, "turns", json_integer(p->turns < SAVE_COUNTER_MAX ? p->turns : SAVE_COUNTER_MAX));
    json_object_set_new(o, "brief", json_boolean(p->brief));
    json_object_set_new(o, "won", json_boolean(p->won));
    json_object_set_new(o, "visited", vis);
    json_object_set_new(o, "met", met);
    return o;
}

static json_t *
world_json(tale_world_t *w)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(SAVE_FORMAT));
    json_object_set_new(root, "version", json_integer(SAVE_VERSION));
    json_object_set_new(root, "story", json_string(w->st->meta.name));
    json_object_set_new(root, "story_version", json_string(w->st->meta.version));
    json_object_set_new(root, "clock", json_integer(w->clock));
    json_object_set_new(root, "ticks", json_integer(w->ticks));
    json_object_set_new(root, "won", json_boolean(w->won));
    json_t *flags = json_array();
    for (size_t i = 0; i < w->st->nflags; i++)
        if (w->flags[i])
            json_array_append_new(flags, json_string(w->st->flag_names[i]));
    json_object_set_new(root, "flags", flags);
    json_t *items = json_object();
    for (size_t i = 0; i < w->st->nitems; i++)
        json_object_set_new(items, w->st->items[i].id, item_json(&w->items[i], place_json(w, w->items[i].place)));
    json_object_set_new(root, "items", items);
    json_t *doors = json_array();
    for (size_t l = 0; l < w->st->nlocs; l++)
        for (size_t e = 0; e < w->st->locs[l].nexits; e++)
            if (w->st->locs[l].exits[e].has_door) {
                json_t *o = json_object();
                json_object_set_new(o, "location", json_string(w->st->locs[l].id));
                json_object_set_new(o, "direction", json_string(eng_dir_names[w->st->locs[l].exits[e].dir]));
                json_object_set_new(o, "state", json_string(door_states[w->doors[w->st->locs[l].exits[e].door_slot]]));
                json_array_append_new(doors, o);
            }
    json_object_set_new(root, "doors", doors);
    json_t *npcs = json_object();
    for (size_t i = 0; i < w->st->nnpcs; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "location", json_string(w->st->locs[w->npcs[i].location].id));
        json_object_set_new(o, "route_pos", json_integer((json_int_t)w->npcs[i].route_pos));
        json_object_set_new(o, "emote_pos", json_integer((json_int_t)w->npcs[i].emote_pos));
        json_object_set_new(npcs, w->st->npcs[i].id, o);
    }
    json_object_set_new(root, "npcs", npcs);
    json_t *players = json_array();
    for (size_t i = 0; i < w->nplayers_cap; i++)
        if (w->players[i])
            json_array_append_new(players, player_json(w->players[i]));
    /* restored players who have not come back yet keep their progress */
    size_t k;
    json_t *pp;
    json_array_foreach(w->pending_players, k, pp)
    {
        json_int_t slot = json_integer_value(json_object_get(pp, "slot"));
        if (slot < 0 || (size_t)slot >= w->nplayers_cap || !w->players[slot])
            json_array_append(players, pp);
    }
    json_object_set_new(root, "players", players);
    return root;
}

/* ------------------------------------------------------- the flat writer */

/*
 * An eviction serialises the game on the loop, and building world_json's
 * tree (an object and a hash per item) and dumping it was most of that.
 * This writes the same bytes as world_json through json_dumps with
 * JSON_INDENT(1) | JSON_SORT_KEYS (the fuzz target and test_save hold the
 * two to it) straight from the world.  It declines (NULL) where it would
 * have to escape a string, and while restored players wait to come back
 * (they are kept as JSON): the tree writes those.
 */
typedef struct fw {
    eng_sbuf_t b;
    int bad;
} fw_t;

static const char *const fw_nl[] = {"\n", "\n ", "\n  ", "\n   ", "\n    "};

/* Appends with known lengths: the writer's time is in its many small pieces. */
static void
fw_add(fw_t *f, const char *s, size_t n)
{
    if (f->b.len + n + 1 > f->b.cap) {
        while (f->b.len + n + 1 > f->b.cap)
            f->b.cap *= 2;
        f->b.s = tale_xrealloc(f->b.s, f->b.cap);
    }
    memcpy(f->b.s + f->b.len, s, n);
    f->b.len += n;
}

#define FW_LIT(f, lit) fw_add((f), (lit), sizeof(lit) - 1)

static void
fw_str(fw_t *f, const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == '"' || s[n] == '\\')
            f->bad = 1;
    FW_LIT(f, "\"");
    fw_add(f, s, n);
    FW_LIT(f, "\"");
}

/* Before a member (key given) or an element (key NULL) at `depth`. */
static void
fw_next(fw_t *f, int depth, int *n, const char *key)
{
    if ((*n)++)
        FW_LIT(f, ",");
    fw_add(f, fw_nl[depth], (size_t)depth + 1);
    if (key != NULL) {
        fw_str(f, key);
        FW_LIT(f, ": ");
    }
}

/* The close of an object or array whose members were at depth + 1. */
static void
fw_close(fw_t *f, int depth, int n, const char *close)
{
    if (n)
        fw_add(f, fw_nl[depth], (size_t)depth + 1);
    fw_add(f, close, 1);
}

static void
fw_int(fw_t *f, long long v)
{
    char num[24], *e = num + sizeof num, *p = e;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    fw_add(f, p, (size_t)(e - p));
}

static void
fw_bool(fw_t *f, int v)
{
    if (v)
        FW_LIT(f, "true");
    else
        FW_LIT(f, "false");
}

static int
by_item_id(const void *a, const void *b, void *st)
{
    const eng_item_t *items = ((const tale_story_t *)st)->items;
    return strcmp(items[*(const size_t *)a].id, items[*(const size_t *)b].id);
}

static int
by_npc_id(const void *a, const void *b, void *st)
{
    const eng_npc_t *npcs = ((const tale_story_t *)st)->npcs;
    return strcmp(npcs[*(const size_t *)a].id, npcs[*(const size_t *)b].id);
}

/* A list of ids (visited, met) of the entries set in `on`. */
static void
fw_ids(fw_t *f, int depth, const unsigned char *on, size_t count, const char *(*id)(const tale_story_t *, size_t),
       const tale_story_t *st)
{
    int n = 0;
    FW_LIT(f, "[");
    for (size_t i = 0; i < count; i++)
        if (on[i]) {
            fw_next(f, depth + 1, &n, NULL);
            fw_str(f, id(st, i));
        }
    fw_close(f, depth, n, "]");
}

static const char *
loc_id(const tale_story_t *st, size_t i)
{
    return st->locs[i].id;
}

static const char *
npc_id(const tale_story_t *st, size_t i)
{
    return st->npcs[i].id;
}

static const char *
flag_name(const tale_story_t *st, size_t i)
{
    return st->flag_names[i];
}

static void
fw_player(fw_t *f, const tale_player_t *p)
{
    const tale_story_t *st = p->w->st;
    int n = 0;
    FW_LIT(f, "{");
    fw_next(f, 3, &n, "brief");
    fw_bool(f, p->brief);
    fw_next(f, 3, &n, "location");
    fw_str(f, st->locs[p->location].id);
    fw_next(f, 3, &n, "met");
    fw_ids(f, 3, p->met, st->nnpcs, npc_id, st);
    fw_next(f, 3, &n, "slot");
    fw_int(f, p->slot);
    fw_next(f, 3, &n, "turns");
    fw_int(f, p->turns < SAVE_COUNTER_MAX ? p->turns : SAVE_COUNTER_MAX);
    fw_next(f, 3, &n, "visited");
    fw_ids(f, 3, p->visited, st->nlocs, loc_id, st);
    fw_next(f, 3, &n, "won");
    fw_bool(f, p->won);
    fw_close(f, 2, n, "}");
}

static char *
world_flat(tale_world_t *w, size_t *len)
{
    tale_story_t *st = w->st;
    if (w->pending_players != NULL || st->meta.name == NULL || st->meta.version == NULL)
        return NULL;
    fw_t f = {{tale_xmalloc(8192), 0, 8192}, 0};
    size_t nsort = st->nitems > st->nnpcs ? st->nitems : st->nnpcs;
    size_t *order = tale_xmalloc((nsort ? nsort : 1) * sizeof *order);
    char place[256];
    int n = 0, m;
    FW_LIT(&f, "{");
    fw_next(&f, 1, &n, "clock");
    fw_int(&f, w->clock);
    fw_next(&f, 1, &n, "doors");
    FW_LIT(&f, "[");
    m = 0;
    for (size_t l = 0; l < st->nlocs; l++)
        for (size_t e = 0; e < st->locs[l].nexits; e++)
            if (st->locs[l].exits[e].has_door) {
                int k = 0;
                fw_next(&f, 2, &m, NULL);
                FW_LIT(&f, "{");
                fw_next(&f, 3, &k, "direction");
                fw_str(&f, eng_dir_names[st->locs[l].exits[e].dir]);
                fw_next(&f, 3, &k, "location");
                fw_str(&f, st->locs[l].id);
                fw_next(&f, 3, &k, "state");
                fw_str(&f, door_states[w->doors[st->locs[l].exits[e].door_slot]]);
                fw_close(&f, 2, k, "}");
            }
    fw_close(&f, 1, m, "]");
    fw_next(&f, 1, &n, "flags");
    fw_ids(&f, 1, w->flags, st->nflags, flag_name, st);
    fw_next(&f, 1, &n, "format");
    fw_str(&f, SAVE_FORMAT);
    fw_next(&f, 1, &n, "items");
    FW_LIT(&f, "{");
    for (size_t i = 0; i < st->nitems; i++)
        order[i] = i;
    qsort_r(order, st->nitems, sizeof *order, by_item_id, st);
    m = 0;
    for (size_t i = 0; i < st->nitems; i++) {
        const eng_item_state_t *its = &w->items[order[i]];
        int k = 0;
        fw_next(&f, 2, &m, st->items[order[i]].id);
        FW_LIT(&f, "{");
        fw_next(&f, 3, &k, "closed");
        fw_bool(&f, its->closed);
        fw_next(&f, 3, &k, "fired");
        fw_int(&f, its->fired);
        fw_next(&f, 3, &k, "lit");
        fw_bool(&f, its->lit);
        fw_next(&f, 3, &k, "locked");
        fw_bool(&f, its->locked);
        fw_next(&f, 3, &k, "place");
        place_text(w, its->place, place);
        fw_str(&f, place);
        fw_next(&f, 3, &k, "wielded");
        fw_bool(&f, its->wielded);
        fw_next(&f, 3, &k, "worn");
        fw_bool(&f, its->worn);
        fw_close(&f, 2, k, "}");
    }
    fw_close(&f, 1, m, "}");
    fw_next(&f, 1, &n, "npcs");
    FW_LIT(&f, "{");
    for (size_t i = 0; i < st->nnpcs; i++)
        order[i] = i;
    qsort_r(order, st->nnpcs, sizeof *order, by_npc_id, st);
    m = 0;
    for (size_t i = 0; i < st->nnpcs; i++) {
        const eng_npc_state_t *ns = &w->npcs[order[i]];
        int k = 0;
        fw_next(&f, 2, &m, st->npcs[order[i]].id);
        FW_LIT(&f, "{");
        fw_next(&f, 3, &k, "emote_pos");
        fw_int(&f, (json_int_t)ns->emote_pos);
        fw_next(&f, 3, &k, "location");
        fw_str(&f, st->locs[ns->location].id);
        fw_next(&f, 3, &k, "route_pos");
        fw_int(&f, (json_int_t)ns->route_pos);
        fw_close(&f, 2, k, "}");
    }
    fw_close(&f, 1, m, "}");
    free(order);
    fw_next(&f, 1, &n, "players");
    FW_LIT(&f, "[");
    m = 0;
    for (size_t i = 0; i < w->nplayers_cap; i++)
        if (w->players[i]) {
            fw_next(&f, 2, &m, NULL);
            fw_player(&f, w->players[i]);
        }
    fw_close(&f, 1, m, "]");
    fw_next(&f, 1, &n, "story");
    fw_str(&f, st->meta.name);
    fw_next(&f, 1, &n, "story_version");
    fw_str(&f, st->meta.version);
    fw_next(&f, 1, &n, "ticks");
    fw_int(&f, w->ticks);
    fw_next(&f, 1, &n, "version");
    fw_int(&f, SAVE_VERSION);
    fw_next(&f, 1, &n, "won");
    fw_bool(&f, w->won);
    fw_close(&f, 0, n, "}");
    f.b.s[f.b.len] = '\0';
    if (f.bad) {
        eng_sb_free(&f.b);
        return NULL;
    }
    *len = f.b.len;
    return tale_xrealloc(f.b.s, f.b.len + 1); /* the host may keep it a while (its cache of saves) */
}

/* Remove "<path>.tmp.*" files that an earlier save left when the process was
 * killed between mkstemp and rename.  They are never read, only clutter.  One
 * host owns a data_dir, so no other writer's temp file can be in flight. */
static void
remove_stale_temps(const char *path)
{
    char *dcopy = tale_xstrdup(path), *bcopy = tale_xstrdup(path);
    DIR *d = opendir(dirname(dcopy));
    if (d != NULL) {
        char prefix[512];
        snprintf(prefix, sizeof(prefix), "%s.tmp.", basename(bcopy));
        size_t plen = strlen(prefix);
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strncmp(e->d_name, prefix, plen) == 0)
                unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d != NULL)
        closedir(d);
    free(dcopy);
    free(bcopy);
}

/* Write `len` bytes to `path` atomically: a temp file in the same folder,
 * fsync, rename over path, fsync of the folder.  A reader (or a restart after
 * kill -9) sees the old file or the new one, never half of either.  It blocks
 * on the disk, so the host runs it on its save worker, never per command on
 * the loop; it touches no world, so it is safe on any one thread. */
int
tale_save_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char *tmp = eng_xasprintf("%s.tmp.XXXXXX", path), eb[128];
    int fd = -1, rc = -1;
    fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror_r(errno, eb, sizeof eb));
        goto out;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "%s: %s", tmp, strerror_r(errno, eb, sizeof eb));
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        snprintf(err, errlen, "%s: %s", tmp, strerror_r(errno, eb, sizeof eb));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror_r(errno, eb, sizeof eb));
        goto out;
    }
    free(tmp);
    tmp = NULL;
    /* make the rename itself durable */
    char *dcopy = tale_xstrdup(path);
    int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dcopy);
    remove_stale_temps(path);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    return rc;
}

/* The world's changing state as save-file bytes (NUL-terminated, free()
 * them).  Pure memory work: this is the part of a save that runs on the loop.
 * Never NULL: jansson's allocations are fatal when they fail (story.c) and
 * world_json builds only valid JSON. */
char *
tale_world_serialise(tale_world_t *w, size_t *len)
{
    size_t n = 0;
    char *data = world_flat(w, &n);
    if (data != NULL) {
        if (len)
            *len = n;
        return data;
    }
    return eng_world_serialise_tree(w, len);
}

char *
eng_world_serialise_tree(tale_world_t *w, size_t *len)
{
    json_t *root = world_json(w);
    char *data = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);
    if (len)
        *len = strlen(data);
    return data;
}

char *
tale_world_save_path(tale_world_t *w, char *err, size_t errlen)
{
    return default_path(w, err, errlen);
}

/* Serialise and write synchronously: the engine's tests, the fuzzers and the
 * host's shutdown (after its loop and save worker have stopped) use this. */
int
tale_world_save(tale_world_t *w, const char *path_in, char *err, size_t errlen)
{
    char *path = path_in ? tale_xstrdup(path_in) : default_path(w, err, errlen);
    if (!path)
        return -1;
    if (!path_in)
        mkdir(w->save_dir, 0750); /* first save: the folder may not exist yet */
    size_t len = 0;
    char *data = tale_world_serialise(w, &len);
    int rc = tale_save_write_atomic(path, data, len, err, errlen);
    free(data);
    free(path);
    return rc;
}

/* --------------------------------------------------- the host's writer */

void
tale_world_set_save_writer(tale_world_t *w, const tale_save_writer_t *sw)
{
    if (sw)
        w->writer = *sw;
    else
        memset(&w->writer, 0, sizeof w->writer);
}

int
tale_world_checkpoint(tale_world_t *w, uint64_t *ticket, char *err, size_t errlen)
{
    if (!w->writer.submit)
        return tale_world_save(w, NULL, err, errlen);
    if (!w->save_dir) {
        snprintf(err, errlen, "saving is disabled (no data directory configured)");
        return -1;
    }
    size_t len = 0;
    char *data = tale_world_serialise(w, &len);
    uint64_t t = ++w->save_ticket;
    /* submit owns data from here, whatever it answers */
    if (w->writer.submit(w->writer.ctx, t, data, len, err, errlen) < 0)
        return -1;
    if (ticket)
        *ticket = t;
    return 1;
}

void
tale_world_save_done(tale_world_t *w, uint64_t ticket, int ok, const char *err)
{
    /* O(players); a write finishes at most once per submitted save */
    for (size_t i = 0; i < w->nplayers_cap; i++) {
        tale_player_t *p = w->players[i];
        if (!p || p->save_wait == 0 || p->save_wait > ticket)
            continue;
        p->save_wait = 0;
        if (ok)
            eng_out_p(p, "Game saved.");
        else
            eng_out_p(p, "Saving failed: %s", err ? err : "unknown error");
        eng_player_flush(p);
    }
}

/* ------------------------------------------------------------- restore */

static int
parse_place(const tale_world_t *w, const char *s, eng_place_t *out)
{
    if (!s)
        return -1;
    if (strcmp(s, "nowhere") == 0) {
        *out = (eng_place_t){PLACE_NOWHERE, 0};
        return 0;
    }
    const char *c = strchr(s, ':');
    if (!c)
        return -1;
    size_t kl = (size_t)(c - s);
    const char *id = c + 1;
    if (kl == 8 && strncmp(s, "location", 8) == 0)
        *out = (eng_place_t){PLACE_LOC, find_loc(w, id)};
    else if (kl == 2 && strncmp(s, "in", 2) == 0)
        *out = (eng_place_t){PLACE_ITEM, find_item(w, id)};
    else if (kl == 3 && strncmp(s, "npc", 3) == 0)
        *out = (eng_place_t){PLACE_NPC, find_npc(w, id)};
    else if (kl == 6 && strncmp(s, "player", 6) == 0) {
        char *end;
        long v = strtol(id, &end, 10);
        if (*end || v < 0 || v > 100000)
            return -1;
        *out = (eng_place_t){PLACE_PLAYER, (int)v};
    } else
        return -1;
    return out->idx < 0 ? -1 : 0;
}

/* Check one saved player against the story; apply it to p when p is given. */

static int
counter_ok(json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= SAVE_COUNTER_MAX;
}

static int
player_from_json(tale_world_t *w, json_t *o, tale_player_t *p, char *err, size_t errlen)
{
    json_t *loc = json_object_get(o, "location"), *vis = json_object_get(o, "visited"), *met = json_object_get(o, "met");
    json_t *slot = json_object_get(o, "slot"), *turns = json_object_get(o, "turns");
    int l = json_is_string(loc) ? find_loc(w, json_string_value(loc)) : -1;
    if (l < 0 || !json_is_integer(slot) || json_integer_value(slot) < 0 || !counter_ok(turns) || !json_is_array(vis) ||
        !json_is_array(met)) {
        snprintf(err, errlen, "a saved player is damaged or names an unknown location");
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(vis, i, v) if (!json_is_string(v) || find_loc(w, json_string_value(v)) < 0)
    {
        snprintf(err, errlen, "a saved player visited unknown location '%s'", json_is_string(v) ? json_string_value(v) : "?");
        return -1;
    }
    json_array_foreach(met, i, v) if (!json_is_string(v) || find_npc(w, json_string_value(v)) < 0)
    {
        snprintf(err, errlen, "a saved player met unknown npc '%s'", json_is_string(v) ? json_string_value(v) : "?");
        return -1;
    }
    if (!p)
        return 0;
    if (l != p->location)
        eng_player_move(p, l);
    p->turns = (long)json_integer_value(turns);
    p->brief = json_is_true(json_object_get(o, "brief"));
    p->won = json_is_true(json_object_get(o, "won"));
    memset(p->visited, 0, w->st->nlocs);
    memset(p->met, 0, w->st->nnpcs);
    json_array_foreach(vis, i, v) p->visited[find_loc(w, json_string_value(v))] = 1;
    json_array_foreach(met, i, v) p->met[find_npc(w, json_string_value(v))] = 1;
    p->it.kind = THING_NONE;
    p->pending = 0;
    return 0;
}

void
eng_player_apply_pending(tale_player_t *p)
{
    tale_world_t *w = p->w;
    size_t i;
    json_t *o;
    char err[256];
    json_array_foreach(w->pending_players, i, o)
    {
        if (json_integer_value(json_object_get(o, "slot")) == p->slot) {
            player_from_json(w, o, p, err, sizeof err); /* checked when the save was read */
            json_array_remove(w->pending_players, i);
            if (json_array_size(w->pending_players) == 0) {
                /* the usual case (IF: the one player is back): hold nothing */
                json_decref(w->pending_players);
                w->pending_players = NULL;
            }
            return;
        }
    }
}

#define BAD(...)                                                                                                                   \
    do {                                                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                                                        \
        goto out;                                                                                                                  \
    } while (0)

/* The bytes of a save file, in one read: what json_load_file would do a byte
 * at a time through stdio.  NULL with err when it cannot be read or is too
 * large to be a save. */
static char *
read_save_file(const char *path, size_t *len, char *err, size_t errlen)
{
    char eb[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block the loop */
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, errno == ENOENT ? "no saved game" : strerror_r(errno, eb, sizeof eb));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SAVE_MAX_BYTES) {
        snprintf(err, errlen, "%s: not a saved game (not a regular file, or too large)", path);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size, off = 0;
    char *data = tale_xmalloc(cap + 1);
    for (;;) {
        ssize_t n = read(fd, data + off, cap - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror_r(errno, eb, sizeof eb));
            free(data);
            close(fd);
            return NULL;
        }
        off += (size_t)n;
        if (n == 0 || off == cap)
            break;
    }
    close(fd);
    *len = off;
    return data;
}

/* A save checked against the story and not yet applied: restoring stages
 * everything and touches the world only when all of it checks out. */
typedef struct staged {
    unsigned char *flags;    /* per st->flag_names */
    eng_item_state_t *items; /* per st->items */
    int *door_state;         /* per exit of every location in order (-1: not in the save) */
    size_t ndoors;
    eng_npc_state_t *npcs; /* per st->npcs */
    long clock, ticks;
    int won;
    json_t *players; /* the saved players (a reference) */
} staged_t;

static void
staged_init(const tale_world_t *w, staged_t *sg)
{
    memset(sg, 0, sizeof *sg);
    sg->flags = tale_xcalloc(w->st->nflags ? w->st->nflags : 1, 1);
    sg->items = tale_xcalloc(w->st->nitems ? w->st->nitems : 1, sizeof *sg->items);
    sg->npcs = tale_xcalloc(w->st->nnpcs ? w->st->nnpcs : 1, sizeof *sg->npcs);
    for (size_t l = 0; l < w->st->nlocs; l++)
        sg->ndoors += w->st->locs[l].nexits;
    sg->door_state = tale_xcalloc(sg->ndoors ? sg->ndoors : 1, sizeof *sg->door_state);
    for (size_t k = 0; k < sg->ndoors; k++)
        sg->door_state[k] = -1;
}

static void
staged_free(staged_t *sg)
{
    free(sg->flags);
    free(sg->items);
    free(sg->door_state);
    free(sg->npcs);
    json_decref(sg->players);
}

/* The slot of the door on `dir` of location `l` in sg->door_state, or -1. */
static int
door_slot_of(const tale_world_t *w, int l, int dir)
{
    if (l < 0 || dir < 0)
        return -1;
    size_t base = 0;
    for (int l2 = 0; l2 < l; l2++)
        base += w->st->locs[l2].nexits;
    int slot = -1;
    for (size_t e = 0; e < w->st->locs[l].nexits; e++)
        if (w->st->locs[l].exits[e].dir == dir && w->st->locs[l].exits[e].has_door)
            slot = (int)(base + e);
    return slot;
}

static int
door_state_of(const char *s)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(s, door_states[k]) == 0)
            return k;
    return -1;
}

/* An NPC's saved positions, taken modulo its story's lists as a save of an
 * edited story may hold positions past their end. */
static void
npc_positions(const eng_npc_t *n, eng_npc_state_t *ns, json_int_t route, json_int_t emote)
{
    ns->route_pos = n->nroute ? (size_t)route % n->nroute : 0;
    ns->emote_pos = n->nemotes ? (size_t)emote % n->nemotes : 0;
}

/* Everything staged goes into the world: the two parsers' common half. */
static void
staged_apply(tale_world_t *w, staged_t *sg)
{
    memcpy(w->flags, sg->flags, w->st->nflags);
    memcpy(w->items, sg->items, w->st->nitems * sizeof *w->items);
    for (size_t l = 0, base = 0; l < w->st->nlocs; base += w->st->locs[l].nexits, l++)
        for (size_t e = 0; e < w->st->locs[l].nexits; e++)
            if (sg->door_state[base + e] >= 0)
                w->doors[w->st->locs[l].exits[e].door_slot] = sg->door_state[base + e];
    memcpy(w->npcs, sg->npcs, w->st->nnpcs * sizeof *w->npcs);
    w->clock = sg->clock;
    w->ticks = sg->ticks;
    w->won = sg->won;
    json_decref(w->pending_players);
    w->pending_players = NULL;
    size_t i;
    json_t *v;
    char ebuf[256];
    json_array_foreach(sg->players, i, v)
    {
        json_int_t slot = json_integer_value(json_object_get(v, "slot"));
        if ((size_t)slot < w->nplayers_cap && w->players[slot]) {
            player_from_json(w, v, w->players[slot], ebuf, sizeof ebuf);
        } else {
            if (w->pending_players == NULL)
                w->pending_players = json_array();
            json_array_append(w->pending_players, v);
        }
    }
}

/* Check the whole save against the story and stage it; errors name `path`
 * (a file, or what the bytes are). */
static int
stage_json(tale_world_t *w, json_t *root, const char *path, staged_t *sg, char *err, size_t errlen)
{
    int rc = -1;
    char ebuf[256];

    if (!json_is_object(root) || !json_is_string(json_object_get(root, "format")) ||
        strcmp(json_string_value(json_object_get(root, "format")), SAVE_FORMAT) != 0)
        BAD("%s: not a Tale Host saved game", path);
    json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != SAVE_VERSION)
        BAD("%s: saved by an incompatible version (format %lld, this host reads %d)", path,
            json_is_integer(ver) ? (long long)json_integer_value(ver) : -1LL, SAVE_VERSION);
    json_t *story = json_object_get(root, "story");
    if (!json_is_string(story) || strcmp(json_string_value(story), w->st->meta.name) != 0)
        BAD("%s: this save belongs to another story ('%s', not '%s')", path, json_is_string(story) ? json_string_value(story) : "?",
            w->st->meta.name);
    json_t *clock = json_object_get(root, "clock"), *ticks = json_object_get(root, "ticks");
    json_t *jflags = json_object_get(root, "flags"), *jitems = json_object_get(root, "items");
    json_t *jdoors = json_object_get(root, "doors"), *jnpcs = json_object_get(root, "npcs");
    json_t *jplayers = json_object_get(root, "players");
    if (!counter_ok(clock) || !counter_ok(ticks) || !json_is_array(jflags) || !json_is_object(jitems) || !json_is_array(jdoors) ||
        !json_is_object(jnpcs) || !json_is_array(jplayers))
        BAD("%s: saved game is damaged (a section is missing)", path);

    size_t i;
    json_t *v;
    json_array_foreach(jflags, i, v)
    {
        int f = json_is_string(v) ? eng_flag_index(w->st, json_string_value(v)) : -1;
        if (f < 0)
            BAD("%s: saved game names unknown flag '%s'", path, json_is_string(v) ? json_string_value(v) : "?");
        sg->flags[f] = 1;
    }
    for (size_t k = 0; k < w->st->nitems; k++) {
        json_t *o = json_object_get(jitems, w->st->items[k].id);
        eng_place_t *pl = &sg->items[k].place;
        if (!json_is_object(o) || parse_place(w, json_string_value(json_object_get(o, "place")), pl) < 0)
            BAD("%s: saved game is damaged: item '%s' is missing or has no valid place", path, w->st->items[k].id);
        if (pl->kind == PLACE_ITEM && (pl->idx == (int)k || !w->st->items[pl->idx].container))
            BAD("%s: saved game is damaged: item '%s' is inside something that is not a container", path, w->st->items[k].id);
        item_apply(&sg->items[k], o);
    }
    json_array_foreach(jdoors, i, v)
    {
        json_t *jl = json_object_get(v, "location"), *jd = json_object_get(v, "direction"), *js = json_object_get(v, "state");
        int l = json_is_string(jl) ? find_loc(w, json_string_value(jl)) : -1;
        int d = json_is_string(jd) ? eng_dir_parse(json_string_value(jd)) : -1;
        int s = json_is_string(js) ? door_state_of(json_string_value(js)) : -1;
        int slot = door_slot_of(w, l, d);
        if (slot < 0 || s < 0)
            BAD("%s: saved game is damaged: a door entry names no door of this story", path);
        sg->door_state[slot] = s;
    }
    for (size_t k = 0; k < w->st->nnpcs; k++) {
        json_t *o = json_object_get(jnpcs, w->st->npcs[k].id);
        json_t *jl = json_object_get(o, "location");
        sg->npcs[k].location = json_is_string(jl) ? find_loc(w, json_string_value(jl)) : -1;
        if (sg->npcs[k].location < 0)
            BAD("%s: saved game is damaged: npc '%s' is missing or somewhere unknown", path, w->st->npcs[k].id);
        npc_positions(&w->st->npcs[k], &sg->npcs[k], json_integer_value(json_object_get(o, "route_pos")),
                      json_integer_value(json_object_get(o, "emote_pos")));
    }
    json_array_foreach(jplayers, i, v) if (player_from_json(w, v, NULL, ebuf, sizeof ebuf) < 0) BAD("%s: %s", path, ebuf);
    sg->clock = (long)json_integer_value(clock);
    sg->ticks = (long)json_integer_value(ticks);
    sg->won = json_is_true(json_object_get(root, "won"));
    sg->players = json_incref(jplayers);
    rc = 0;
out:
    return rc;
}

static int
restore_json(tale_world_t *w, json_t *root, const char *path, char *err, size_t errlen)
{
    staged_t sg;
    staged_init(w, &sg);
    int rc = stage_json(w, root, path, &sg, err, errlen);
    if (rc == 0)
        staged_apply(w, &sg);
    staged_free(&sg);
    return rc;
}

/* ------------------------------------------------------- the flat reader */

/*
 * A restore runs on the host's loop for every returning visitor, and
 * jansson's tree of a save (a few hundred values, each allocated, a hash
 * table per item) was most of its time.  A save's shape is fixed, so this
 * reads the bytes straight into the staging, with a tree only for each saved
 * player (pending players are kept as JSON).  It takes only what
 * tale_world_serialise writes: known keys once each, strings of printable
 * ASCII with no escape, integers, booleans.  Anything else it declines, and
 * the jansson reader reads the save (or refuses it, with its error): so which
 * saves restore, to what, and what a refusal says do not depend on the reader.
 */
typedef struct flat {
    const char *p, *end;
} flat_t;

#define FLAT_STR_MAX 256

static void
fl_ws(flat_t *f)
{
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\n' || *f->p == '\r' || *f->p == '\t'))
        f->p++;
}

static int
fl_char(flat_t *f, char c)
{
    fl_ws(f);
    if (f->p < f->end && *f->p == c) {
        f->p++;
        return 1;
    }
    return 0;
}

/* A string into buf, NUL-terminated. */
static int
fl_str(flat_t *f, char buf[FLAT_STR_MAX])
{
    if (!fl_char(f, '"'))
        return 0;
    size_t n = 0;
    for (; f->p < f->end && *f->p != '"'; f->p++) {
        unsigned char c = (unsigned char)*f->p;
        if (c < 0x20 || c >= 0x7f || c == '\\' || n + 1 >= FLAT_STR_MAX)
            return 0;
        buf[n++] = (char)c;
    }
    if (f->p == f->end)
        return 0;
    f->p++;
    buf[n] = '\0';
    return 1;
}

/* The end of a literal or number: what JSON lets follow a value. */
static int
fl_ends(const flat_t *f)
{
    return f->p == f->end || strchr(" \t\r\n,]}", *f->p) != NULL;
}

/* An integer of at most 18 digits (a counter is refused far below that). */
static int
fl_int(flat_t *f, json_int_t *out)
{
    fl_ws(f);
    int neg = f->p < f->end && *f->p == '-';
    f->p += neg;
    const char *s = f->p;
    json_int_t v = 0;
    while (f->p < f->end && *f->p >= '0' && *f->p <= '9' && f->p - s < 18)
        v = v * 10 + (*f->p++ - '0');
    if (f->p == s || (f->p - s > 1 && *s == '0') || !fl_ends(f))
        return 0;
    *out = neg ? -v : v;
    return 1;
}

static int
fl_bool(flat_t *f, int *out)
{
    fl_ws(f);
    size_t left = (size_t)(f->end - f->p);
    if (left >= 4 && memcmp(f->p, "true", 4) == 0) {
        f->p += 4;
        *out = 1;
    } else if (left >= 5 && memcmp(f->p, "false", 5) == 0) {
        f->p += 5;
        *out = 0;
    } else {
        return 0;
    }
    return fl_ends(f);
}

/* Before each member or element: 1 when one follows, 0 at `close`, -1 on
 * anything else.  *n counts them. */
static int
fl_more(flat_t *f, size_t *n, char close)
{
    if (fl_char(f, close))
        return 0;
    if ((*n)++ > 0 && !fl_char(f, ','))
        return -1;
    return 1;
}

/* An object's next key (its ':' read): 1, 0 at the object's end, -1. */
static int
fl_key(flat_t *f, size_t *n, char key[FLAT_STR_MAX])
{
    int m = fl_more(f, n, '}');
    if (m <= 0)
        return m;
    return fl_str(f, key) && fl_char(f, ':') ? 1 : -1;
}

/* Which of `names` key is (its bit), once only in *seen; 0 if none or seen. */
static unsigned
fl_field(const char *key, const char *const *names, unsigned *seen)
{
    for (unsigned i = 0; names[i] != NULL; i++)
        if (strcmp(key, names[i]) == 0) {
            unsigned bit = 1u << i;
            if (*seen & bit)
                return 0;
            *seen |= bit;
            return bit;
        }
    return 0;
}

/* The bytes of an object, braces matched (jansson checks them after). */
static int
fl_object_span(flat_t *f, const char **start)
{
    fl_ws(f);
    if (f->p == f->end || *f->p != '{')
        return 0;
    *start = f->p;
    int depth = 0, in_str = 0;
    for (; f->p < f->end; f->p++) {
        char c = *f->p;
        if (in_str) {
            if (c == '\\' && f->p + 1 < f->end)
                f->p++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if ((c == '{' || c == '[') && ++depth > 8) {
            return 0;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            f->p++;
            return 1;
        }
    }
    return 0;
}

static const char *const fl_item_keys[] = {"place", "closed", "locked", "lit", "worn", "wielded", "fired", NULL};

static int
fl_item(flat_t *f, const tale_world_t *w, size_t k, eng_item_state_t *its)
{
    char key[FLAT_STR_MAX], s[FLAT_STR_MAX];
    unsigned seen = 0;
    size_t n = 0;
    int m, b = 0, *bools[] = {NULL, &its->closed, &its->locked, &its->lit, &its->worn, &its->wielded};
    if (!fl_char(f, '{'))
        return 0;
    while ((m = fl_key(f, &n, key)) == 1) {
        unsigned bit = fl_field(key, fl_item_keys, &seen);
        json_int_t v;
        if (bit == 1) {
            if (!fl_str(f, s) || parse_place(w, s, &its->place) < 0)
                return 0;
        } else if (bit == 1u << 6) {
            if (!fl_int(f, &v))
                return 0;
            its->fired = (unsigned)v;
        } else if (bit != 0) {
            if (!fl_bool(f, &b))
                return 0;
            *bools[__builtin_ctz(bit)] = b;
        } else {
            return 0;
        }
    }
    if (m < 0 || !(seen & 1))
        return 0;
    const eng_place_t *pl = &its->place;
    return !(pl->kind == PLACE_ITEM && (pl->idx == (int)k || !w->st->items[pl->idx].container));
}

static const char *const fl_npc_keys[] = {"location", "route_pos", "emote_pos", NULL};

static int
fl_npc(flat_t *f, const tale_world_t *w, size_t k, eng_npc_state_t *ns)
{
    char key[FLAT_STR_MAX], s[FLAT_STR_MAX];
    unsigned seen = 0;
    size_t n = 0;
    int m;
    json_int_t pos[3] = {0, 0, 0}; /* by bit: route_pos, emote_pos */
    ns->location = -1;
    if (!fl_char(f, '{'))
        return 0;
    while ((m = fl_key(f, &n, key)) == 1) {
        unsigned bit = fl_field(key, fl_npc_keys, &seen);
        if (bit == 1) {
            if (!fl_str(f, s) || (ns->location = find_loc(w, s)) < 0)
                return 0;
        } else if (bit == 0 || !fl_int(f, &pos[__builtin_ctz(bit)])) {
            return 0;
        }
    }
    if (m < 0 || ns->location < 0)
        return 0;
    npc_positions(&w->st->npcs[k], ns, pos[1], pos[2]);
    return 1;
}

static const char *const fl_door_keys[] = {"location", "direction", "state", NULL};

static int
fl_door(flat_t *f, const tale_world_t *w, staged_t *sg)
{
    char key[FLAT_STR_MAX], s[FLAT_STR_MAX];
    unsigned seen = 0;
    size_t n = 0;
    int m, v[3] = {-1, -1, -1}; /* by bit: location, direction, state */
    if (!fl_char(f, '{'))
        return 0;
    while ((m = fl_key(f, &n, key)) == 1) {
        unsigned bit = fl_field(key, fl_door_keys, &seen);
        if (bit == 0 || !fl_str(f, s))
            return 0;
        int i = __builtin_ctz(bit);
        v[i] = i == 0 ? find_loc(w, s) : i == 1 ? eng_dir_parse(s) : door_state_of(s);
    }
    int slot = door_slot_of(w, v[0], v[1]);
    if (m < 0 || slot < 0 || v[2] < 0)
        return 0;
    sg->door_state[slot] = v[2];
    return 1;
}

/* A list of ids (flags) or objects keyed by id (items, npcs) into the staging. */
static int
fl_section(flat_t *f, tale_world_t *w, int which, staged_t *sg, unsigned char *seen)
{
    char key[FLAT_STR_MAX];
    size_t n = 0;
    int m;
    if (which == 'f' || which == 'd' || which == 'p') {
        if (!fl_char(f, '['))
            return 0;
        while ((m = fl_more(f, &n, ']')) == 1) {
            if (which == 'f') {
                int i = fl_str(f, key) ? eng_flag_index(w->st, key) : -1;
                if (i < 0)
                    return 0;
                sg->flags[i] = 1;
            } else if (which == 'd') {
                if (!fl_door(f, w, sg))
                    return 0;
            } else {
                const char *start;
                char ebuf[256];
                if (!fl_object_span(f, &start))
                    return 0;
                json_t *pl = json_loadb(start, (size_t)(f->p - start), JSON_REJECT_DUPLICATES, NULL);
                if (pl == NULL || player_from_json(w, pl, NULL, ebuf, sizeof ebuf) < 0) {
                    json_decref(pl);
                    return 0;
                }
                json_array_append_new(sg->players, pl);
            }
        }
        return m == 0;
    }
    if (!fl_char(f, '{'))
        return 0;
    while ((m = fl_key(f, &n, key)) == 1) {
        int i = which == 'i' ? find_item(w, key) : find_npc(w, key);
        if (i < 0 || seen[i]++)
            return 0;
        if (which == 'i' ? !fl_item(f, w, (size_t)i, &sg->items[i]) : !fl_npc(f, w, (size_t)i, &sg->npcs[i]))
            return 0;
    }
    if (m < 0)
        return 0;
    size_t all = which == 'i' ? w->st->nitems : w->st->nnpcs;
    return memchr(seen, 0, all) == NULL;
}

static const char *const fl_root_keys[] = {"format", "version", "story",   "clock", "ticks",         "flags", "items",
                                           "doors",  "npcs",    "players", "won",   "story_version", NULL};
#define FL_ROOT_NEEDED 0x3ffu /* all but won and story_version */

/* 1 with the save staged, 0 when the jansson reader must read it. */
static int
stage_flat(tale_world_t *w, const char *data, size_t len, staged_t *sg)
{
    flat_t f = {data, data + len};
    char key[FLAT_STR_MAX], s[FLAT_STR_MAX];
    unsigned seen = 0;
    size_t n = 0, nseen = w->st->nitems > w->st->nnpcs ? w->st->nitems : w->st->nnpcs;
    unsigned char *ids = tale_xcalloc(nseen ? nseen : 1, 1);
    int m = -1, ok = 1;
    json_int_t v = 0;
    sg->players = json_array();
    if (!fl_char(&f, '{'))
        ok = 0;
    while (ok && (m = fl_key(&f, &n, key)) == 1) {
        unsigned bit = fl_field(key, fl_root_keys, &seen);
        switch (bit ? __builtin_ctz(bit) : -1) {
        case 0:
            ok = fl_str(&f, s) && strcmp(s, SAVE_FORMAT) == 0;
            break;
        case 1:
            ok = fl_int(&f, &v) && v == SAVE_VERSION;
            break;
        case 2:
            ok = fl_str(&f, s) && strcmp(s, w->st->meta.name) == 0;
            break;
        case 3:
        case 4:
            ok = fl_int(&f, &v) && v >= 0 && v <= SAVE_COUNTER_MAX;
            *(bit == 1u << 3 ? &sg->clock : &sg->ticks) = (long)v;
            break;
        case 5:
            ok = fl_section(&f, w, 'f', sg, NULL);
            break;
        case 6:
        case 8:
            memset(ids, 0, nseen ? nseen : 1);
            ok = fl_section(&f, w, bit == 1u << 6 ? 'i' : 'n', sg, ids);
            break;
        case 7:
            ok = fl_section(&f, w, 'd', sg, NULL);
            break;
        case 9:
            ok = fl_section(&f, w, 'p', sg, NULL);
            break;
        case 10:
            ok = fl_bool(&f, &sg->won);
            break;
        case 11:
            ok = fl_str(&f, s);
            break;
        default:
            ok = 0;
        }
    }
    free(ids);
    fl_ws(&f);
    return ok && m == 0 && (seen & FL_ROOT_NEEDED) == FL_ROOT_NEEDED && f.p == f.end;
}

/* Parse `len` bytes as a save and restore it; `label` names them in errors.
 * `flat`: try the flat reader first. */
static int
restore_bytes(tale_world_t *w, const char *data, size_t len, const char *label, int flat, char *err, size_t errlen)
{
    if (data == NULL || len == 0) {
        snprintf(err, errlen, "%s: not a saved game (empty)", label);
        return -1;
    }
    if (len > SAVE_MAX_BYTES) {
        snprintf(err, errlen, "%s: not a saved game (too large)", label);
        return -1;
    }
    if (flat) {
        staged_t sg;
        staged_init(w, &sg);
        flat = stage_flat(w, data, len, &sg);
        if (flat)
            staged_apply(w, &sg);
        staged_free(&sg);
        if (flat)
            return 0;
    }
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s: not a saved game (corrupt at line %d: %s)", label, je.line, je.text);
        return -1;
    }
    int rc = restore_json(w, root, label, err, errlen);
    json_decref(root);
    return rc;
}

int
tale_world_restore_bytes(tale_world_t *w, const char *data, size_t len, char *err, size_t errlen)
{
    return restore_bytes(w, data, len, "save data", 1, err, errlen);
}

int
eng_world_restore_tree(tale_world_t *w, const char *data, size_t len, char *err, size_t errlen)
{
    return restore_bytes(w, data, len, "save data", 0, err, errlen);
}

int
tale_world_restore(tale_world_t *w, const char *path_in, char *err, size_t errlen)
{
    char *path = path_in ? tale_xstrdup(path_in) : default_path(w, err, errlen);
    if (!path)
        return -1;
    /* A save the host's writer has not put on disk yet is newer than the
     * file: restore that (an IF player who quits and comes straight back). */
    size_t len = 0;
    const char *unwritten = !path_in && w->writer.unwritten ? w->writer.unwritten(w->writer.ctx, &len) : NULL;
    int rc = -1;
    if (unwritten) {
        rc = restore_bytes(w, unwritten, len, path, 1, err, errlen);
    } else {
        char *data = read_save_file(path, &len, err, errlen);
        if (data != NULL)
            rc = restore_bytes(w, data, len, path, 1, err, errlen);
        free(data);
    }
    free(path);
    return rc;
}

/* ------------------------------------------------------- a character */

/*
 * A character's own state for the host's accounts store (issue #15): the
 * player half of a save (player_json, without the seat) and the items they
 * carry (item_json, placed "held" or "in:<container>"), never the world's.
 * Restoring is lenient where a world restore is strict: a character outlives
 * story edits, so what the story no longer has is left out with a note, and
 * only bytes that are no character of this story are refused.
 */
#define CHAR_FORMAT "tale-character"
#define CHAR_VERSION 1
#define CHAR_HELD "held"

char *
tale_player_state_serialise(const tale_player_t *p, size_t *len)
{
    const tale_world_t *w = p->w;
    json_t *root = player_json(p);
    json_object_del(root, "slot"); /* a seat is the session's, not the character's */
    json_object_set_new(root, "format", json_string(CHAR_FORMAT));
    json_object_set_new(root, "version", json_integer(CHAR_VERSION));
    json_object_set_new(root, "story", json_string(w->st->meta.name));
    json_object_set_new(root, "story_version", json_string(w->st->meta.version));
    json_object_set_new(root, "name", json_string(p->name));
    json_t *items = json_object();
    for (size_t i = 0; i < w->st->nitems; i++) {
        int closed;
        eng_place_t outer = eng_item_outer_place(w, (int)i, &closed);
        if (outer.kind != PLACE_PLAYER || outer.idx != p->slot)
            continue;
        eng_place_t pl = w->items[i].place;
        json_t *place = pl.kind == PLACE_ITEM ? place_json(w, pl) : json_string(CHAR_HELD);
        json_object_set_new(items, w->st->items[i].id, item_json(&w->items[i], place));
    }
    json_object_set_new(root, "items", items);
    char *data = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (len)
        *len = strlen(data);
    return data;
}

/* The string array's entries this story knows, marked in `marks` (find: by id). */
static void
mark_known(const tale_world_t *w, json_t *arr, unsigned char *marks, int (*find)(const tale_world_t *, const char *))
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        int k = json_is_string(v) ? find(w, json_string_value(v)) : -1;
        if (k >= 0)
            marks[k] = 1;
    }
}

/* The character's items that come back, staged: parent[k] is -2 for an item
 * left out, -1 held, else the container (itself coming back) it is in. */
static void
stage_items(tale_player_t *p, json_t *jitems, int *parent, size_t *lost, eng_sbuf_t *notes)
{
    tale_world_t *w = p->w;
    size_t n = w->st->nitems;
    for (size_t k = 0; k < n; k++)
        parent[k] = -2;
    const char *id;
    json_t *o;
    json_object_foreach(jitems, id, o)
    {
        int k = find_item(w, id);
        if (k < 0 || !json_is_object(o)) {
            (*lost)++;
            continue;
        }
        /* one object of each in a shared world: another player's stays theirs */
        int closed;
        eng_place_t now = eng_item_outer_place(w, k, &closed);
        if (now.kind == PLACE_PLAYER && now.idx != p->slot && (size_t)now.idx < w->nplayers_cap && w->players[now.idx]) {
            eng_sb_p(notes, "You no longer have the %s: %s has it now.", w->st->items[k].name, w->players[now.idx]->name);
            continue;
        }
        parent[k] = -1;
        const char *pl = json_string_value(json_object_get(o, "place"));
        eng_place_t in;
        if (pl && strncmp(pl, "in:", 3) == 0 && parse_place(w, pl, &in) == 0 && in.idx != k && w->st->items[in.idx].container)
            parent[k] = in.idx;
    }
    /* a container left out, or a loop of containers (only a forged save has
     * one): its contents are simply held */
    for (size_t k = 0; k < n; k++) {
        int c = parent[k];
        size_t hops = 0;
        while (c >= 0 && parent[c] != -2 && hops++ < n)
            c = parent[c];
        if (parent[k] >= 0 && (c != -1 || hops > n))
            parent[k] = -1;
    }
}

int
tale_player_state_restore(tale_player_t *p, const char *data, size_t len, char *err, size_t errlen)
{
    tale_world_t *w = p->w;
    const char *label = "character data";
    if (data == NULL || len == 0 || len > SAVE_MAX_BYTES) {
        snprintf(err, errlen, "%s: not a saved character (%s)", label, len ? "too large" : "empty");
        return -1;
    }
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    int rc = -1;
    int *parent = NULL;
    if (!root) {
        snprintf(err, errlen, "%s: not a saved character (corrupt at line %d: %s)", label, je.line, je.text);
        return -1;
    }
    json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    json_t *story = json_object_get(root, "story"), *loc = json_object_get(root, "location");
    json_t *turns = json_object_get(root, "turns"), *jitems = json_object_get(root, "items");
    json_t *vis = json_object_get(root, "visited"), *met = json_object_get(root, "met");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), CHAR_FORMAT) != 0)
        BAD("%s: not a Tale Host saved character", label);
    if (!json_is_integer(ver) || json_integer_value(ver) != CHAR_VERSION)
        BAD("%s: saved by an incompatible version (format %lld, this host reads %d)", label,
            json_is_integer(ver) ? (long long)json_integer_value(ver) : -1LL, CHAR_VERSION);
    if (!json_is_string(story) || strcmp(json_string_value(story), w->st->meta.name) != 0)
        BAD("%s: this character belongs to another story ('%s', not '%s')", label,
            json_is_string(story) ? json_string_value(story) : "?", w->st->meta.name);
    if ((loc && !json_is_string(loc)) || (turns && !counter_ok(turns)) || (jitems && !json_is_object(jitems)) ||
        (vis && !json_is_array(vis)) || (met && !json_is_array(met)))
        BAD("%s: saved character is damaged", label);

    /* stage: nothing changes until every part has been read */
    eng_sbuf_t notes = {0};
    size_t lost = 0;
    parent = tale_xmalloc((w->st->nitems ? w->st->nitems : 1) * sizeof *parent);
    stage_items(p, jitems, parent, &lost, &notes);
    int l = loc ? find_loc(w, json_string_value(loc)) : p->location;
    if (l < 0) {
        eng_sb_p(&notes, "The place where you left off is no longer in this world; you begin here.");
        l = p->location;
    }
    if (lost)
        eng_sb_p(&notes, lost == 1 ? "One thing you carried is no longer in this world."
                                   : "Some things you carried are no longer in this world.");

    /* apply */
    if (l != p->location) {
        eng_room_news(p, 0, "%s leaves.");
        eng_player_move(p, l);
        eng_room_news(p, 1, "%s appears.");
    }
    p->turns = turns ? (long)json_integer_value(turns) : p->turns;
    p->brief = json_is_true(json_object_get(root, "brief"));
    p->won = json_is_true(json_object_get(root, "won"));
    p->visited[p->location] = 1;
    mark_known(w, vis, p->visited, find_loc);
    mark_known(w, met, p->met, find_npc);
    for (size_t k = 0; k < w->st->nitems; k++) {
        if (parent[k] == -2)
            continue;
        eng_item_state_t *its = &w->items[k];
        its->place = parent[k] == -1 ? (eng_place_t){PLACE_PLAYER, p->slot} : (eng_place_t){PLACE_ITEM, parent[k]};
        item_apply(its, json_object_get(jitems, w->st->items[k].id));
    }
    p->it.kind = THING_NONE;
    p->pending = 0;
    eng_describe_location(p, 1);
    eng_meet_npcs(p);
    if (notes.len)
        eng_out_raw(p, notes.s);
    eng_sb_free(&notes);
    eng_player_flush(p);
    rc = 0;
out:
    free(parent);
    json_decref(root);
    return rc;
}
