/*
 * story.c - loading story.yaml into the world model (format: docs/STORY-FORMAT.md).
 *
 * Two passes: the first collects every id (so references may point forward),
 * the second reads each entry and resolves its references.  Every fault is
 * reported once, as "file:line:column: message" at the node that is wrong;
 * loading stops at the first one.
 */
#include "story.h"
#include "text.h"
#include "tale/alloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x)                                                                                                                     \
    do {                                                                                                                           \
        if ((x) < 0)                                                                                                               \
            return -1;                                                                                                             \
    } while (0)

typedef struct loader {
    tale_story_t *w;
    tale_yaml_t *y;
    char *err;
    size_t errlen;
    /* per flag: is it set anywhere, and where was it first required */
    unsigned char *flag_set;
    yaml_node_t **flag_req;
    size_t flag_cap;
} loader_t;

const char *const eng_dir_names[DIR__N] = {"north",     "south",     "east", "west", "northeast", "northwest",
                                           "southeast", "southwest", "up",   "down", "in",        "out"};
static const char *const dir_abbrev[DIR__N] = {"n", "s", "e", "w", "ne", "nw", "se", "sw", "u", "d", NULL, NULL};

int
eng_dir_parse(const char *word)
{
    for (int d = 0; d < DIR__N; d++)
        if (strcmp(word, eng_dir_names[d]) == 0 || (dir_abbrev[d] && strcmp(word, dir_abbrev[d]) == 0))
            return d;
    if (strcmp(word, "inside") == 0)
        return DIR_IN;
    if (strcmp(word, "outside") == 0)
        return DIR_OUT;
    return -1;
}

static const char *const on_names[ON__N] = {"take",  "drop", "read",    "eat", "drink", "wear",
                                            "wield", "open", "examine", "put", "use"};
static const char *const on_keys[] = {"take",  "drop", "read",    "eat", "drink", "wear",
                                      "wield", "open", "examine", "put", "use",   NULL};

static yaml_node_t *
seq_at(tale_yaml_t *y, yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

static size_t
seq_len(yaml_node_t *seq)
{
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

static const char *
scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int
eng_flag_index(const tale_story_t *w, const char *name)
{
    for (size_t i = 0; i < w->nflags; i++)
        if (strcmp(w->flag_names[i], name) == 0)
            return (int)i;
    return -1;
}

static int
flag_intern(loader_t *L, const char *name, yaml_node_t *at, int setting)
{
    tale_story_t *w = L->w;
    int i = eng_flag_index(w, name);
    if (i < 0) {
        if (w->nflags == L->flag_cap) {
            L->flag_cap = L->flag_cap ? L->flag_cap * 2 : 16;
            w->flag_names = tale_xrealloc(w->flag_names, L->flag_cap * sizeof *w->flag_names);
            L->flag_set = tale_xrealloc(L->flag_set, L->flag_cap);
            L->flag_req = tale_xrealloc(L->flag_req, L->flag_cap * sizeof *L->flag_req);
        }
        i = (int)w->nflags++;
        w->flag_names[i] = tale_xstrdup(name);
        L->flag_set[i] = 0;
        L->flag_req[i] = NULL;
    }
    if (setting)
        L->flag_set[i] = 1;
    else if (!L->flag_req[i])
        L->flag_req[i] = at;
    return i;
}

static int
valid_id(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
            return 0;
    return 1;
}

static int
find_loc(const tale_story_t *w, const char *id)
{
    for (size_t i = 0; i < w->nlocs; i++)
        if (w->locs[i].id && strcmp(w->locs[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int
find_item(const tale_story_t *w, const char *id)
{
    for (size_t i = 0; i < w->nitems; i++)
        if (w->items[i].id && strcmp(w->items[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int
find_npc(const tale_story_t *w, const char *id)
{
    for (size_t i = 0; i < w->nnpcs; i++)
        if (w->npcs[i].id && strcmp(w->npcs[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* A reference map[key] to an id of one kind ("location", "item", "npc").
 * Absent: *out = -1 (or an error when required). */
static int
ref(loader_t *L, yaml_node_t *map, const char *key, const char *kind, int required, int *out)
{
    *out = -1;
    yaml_node_t *v = tale_yaml_get(L->y, map, key, NULL);
    if (!v) {
        if (required) {
            tale_yaml_errf(L->y, map, L->err, L->errlen, "missing key '%s'", key);
            return -1;
        }
        return 0;
    }
    const char *s = scalar(v);
    if (!s) {
        tale_yaml_errf(L->y, v, L->err, L->errlen, "'%s' must be %s id, not %s", key, kind, tale_yaml_type_name(v));
        return -1;
    }
    int i = kind[0] == 'l' ? find_loc(L->w, s) : kind[0] == 'i' ? find_item(L->w, s) : find_npc(L->w, s);
    if (i < 0) {
        tale_yaml_errf(L->y, v, L->err, L->errlen, "'%s' names unknown %s '%s'", key, kind, s);
        return -1;
    }
    *out = i;
    return 0;
}

/* map[key]: one flag name or a list of them */
static int
flags_of(loader_t *L, yaml_node_t *map, const char *key, int setting, eng_flaglist_t *out)
{
    yaml_node_t *v = tale_yaml_get(L->y, map, key, NULL);
    out->v = NULL;
    out->n = 0;
    if (!v)
        return 0;
    size_t n = v->type == YAML_SEQUENCE_NODE ? seq_len(v) : 1;
    out->v = tale_xcalloc(n ? n : 1, sizeof(int));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = v->type == YAML_SEQUENCE_NODE ? seq_at(L->y, v, i) : v;
        const char *s = scalar(e);
        if (!s || !valid_id(s)) {
            tale_yaml_errf(L->y, e, L->err, L->errlen, "'%s' must be a flag name (letters, digits, - and _)", key);
            return -1;
        }
        out->v[out->n++] = flag_intern(L, s, e, setting);
    }
    return 0;
}

static int
flag_of(loader_t *L, yaml_node_t *map, const char *key, int *out)
{
    *out = -1;
    yaml_node_t *v = tale_yaml_get(L->y, map, key, NULL);
    if (!v)
        return 0;
    const char *s = scalar(v);
    if (!s || !valid_id(s)) {
        tale_yaml_errf(L->y, v, L->err, L->errlen, "'%s' must be a flag name (letters, digits, - and _)", key);
        return -1;
    }
    *out = flag_intern(L, s, v, 0);
    return 0;
}

static int
str(loader_t *L, yaml_node_t *map, const char *key, int required, const char **out)
{
    return tale_yaml_string(L->y, map, key, required, NULL, out, L->err, L->errlen);
}

static int
boolean(loader_t *L, yaml_node_t *map, const char *key, int def, int *out)
{
    return tale_yaml_bool(L->y, map, key, 0, def, out, L->err, L->errlen);
}

static int
names(loader_t *L, yaml_node_t *map, const char *key, const char ***out, size_t *n)
{
    return tale_yaml_string_list(L->y, map, key, out, n, L->err, L->errlen);
}

static int
check_keys(loader_t *L, yaml_node_t *map, const char *what, const char *const *known)
{
    TRY(tale_yaml_expect_map(L->y, map, what, L->err, L->errlen));
    return tale_yaml_check_keys(L->y, map, known, L->err, L->errlen);
}

static int
get_seq(loader_t *L, yaml_node_t *map, const char *key, const char *what, yaml_node_t **out)
{
    *out = tale_yaml_get(L->y, map, key, NULL);
    if (*out)
        TRY(tale_yaml_expect_seq(L->y, *out, what, L->err, L->errlen));
    return 0;
}

/* ---------------------------------------------------------------- metadata */

static int
load_meta(loader_t *L, yaml_node_t *root)
{
    static const char *const keys[] = {"name", "version", "author", "author_email", "license", "welcome", "motd", NULL};
    tale_story_t *w = L->w;
    yaml_node_t *m = tale_yaml_get(L->y, root, "story", NULL);
    if (!m) {
        tale_yaml_errf(L->y, root, L->err, L->errlen, "missing key 'story'");
        return -1;
    }
    TRY(check_keys(L, m, "'story' to be a mapping", keys));
    TRY(str(L, m, "name", 1, &w->meta.name));
    TRY(str(L, m, "version", 1, &w->meta.version));
    TRY(str(L, m, "author", 1, &w->meta.author));
    TRY(str(L, m, "author_email", 0, &w->meta.author_email));
    TRY(str(L, m, "license", 0, &w->license));
    TRY(str(L, m, "welcome", 0, &w->welcome));
    TRY(str(L, m, "motd", 0, &w->motd));
    if (!w->meta.author_email)
        w->meta.author_email = "";
    return 0;
}

static int
load_clock(loader_t *L, yaml_node_t *root)
{
    static const char *const keys[] = {"start", "minutes_per_tick", "minutes_per_turn", NULL};
    tale_story_t *w = L->w;
    w->clock_start = 8 * 60;
    w->per_tick = 1;
    w->per_turn = 0;
    yaml_node_t *m = tale_yaml_get(L->y, root, "clock", NULL);
    if (!m)
        return 0;
    TRY(check_keys(L, m, "'clock' to be a mapping", keys));
    const char *start;
    TRY(str(L, m, "start", 0, &start));
    if (start) {
        int h, mi;
        char tail;
        if (sscanf(start, "%d:%d%c", &h, &mi, &tail) != 2 || h < 0 || h > 23 || mi < 0 || mi > 59) {
            tale_yaml_errf(L->y, tale_yaml_get(L->y, m, "start", NULL), L->err, L->errlen,
                           "'start' must be a time \"HH:MM\", not '%s'", start);
            return -1;
        }
        w->clock_start = h * 60 + mi;
    }
    int64_t v;
    TRY(tale_yaml_int(L->y, m, "minutes_per_tick", 0, 1, 0, 1440, &v, L->err, L->errlen));
    w->per_tick = (int)v;
    TRY(tale_yaml_int(L->y, m, "minutes_per_turn", 0, 0, 0, 1440, &v, L->err, L->errlen));
    w->per_turn = (int)v;
    return 0;
}

/* ------------------------------------------------------------------ ids */

/* First pass over one list: allocate the entries and record their ids. */
static int
collect_ids(loader_t *L, yaml_node_t *seq, const char *what, const char *const *keys, const char ***ids_out, size_t *n_out,
            yaml_node_t ***nodes_out)
{
    size_t n = seq ? seq_len(seq) : 0;
    const char **ids = tale_xcalloc(n ? n : 1, sizeof *ids);
    yaml_node_t **nodes = tale_xcalloc(n ? n : 1, sizeof *nodes);
    *ids_out = ids;
    *nodes_out = nodes;
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = seq_at(L->y, seq, i);
        nodes[i] = e;
        TRY(check_keys(L, e, what, keys));
        TRY(str(L, e, "id", 1, &ids[i]));
        yaml_node_t *idn = tale_yaml_get(L->y, e, "id", NULL);
        if (!valid_id(ids[i])) {
            tale_yaml_errf(L->y, idn, L->err, L->errlen, "id '%s' may hold only letters, digits, - and _", ids[i]);
            return -1;
        }
        if (find_loc(L->w, ids[i]) >= 0 || find_item(L->w, ids[i]) >= 0 || find_npc(L->w, ids[i]) >= 0 ||
            strcmp(ids[i], "player") == 0) {
            tale_yaml_errf(L->y, idn, L->err, L->errlen, "id '%s' is already used", ids[i]);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(ids[j], ids[i]) == 0) {
                tale_yaml_errf(L->y, idn, L->err, L->errlen, "id '%s' is already used", ids[i]);
                return -1;
            }
    }
    return 0;
}

/* --------------------------------------------------------------- reactions */

static int
load_reaction(loader_t *L, yaml_node_t *m, int which, eng_reaction_t **out)
{
    static const char *const keys[] = {"text",  "replace", "requires", "otherwise", "set",  "clear",
                                       "gives", "reveals", "item",     "with",      "once", NULL};
    eng_reaction_t *r = tale_xcalloc(1, sizeof *r);
    *out = r;
    TRY(check_keys(L, m, "a reaction (a mapping)", keys));
    TRY(str(L, m, "text", 0, &r->text));
    TRY(str(L, m, "otherwise", 0, &r->otherwise));
    TRY(boolean(L, m, "replace", 0, &r->replace));
    TRY(flag_of(L, m, "requires", &r->requires));
    TRY(flags_of(L, m, "set", 1, &r->set));
    TRY(flags_of(L, m, "clear", 0, &r->clear));
    TRY(ref(L, m, "gives", "item", 0, &r->gives));
    TRY(ref(L, m, "reveals", "item", 0, &r->reveals));
    TRY(boolean(L, m, "once", r->set.n > 0, &r->once));
    r->item = r->with = -1;
    yaml_node_t *kn;
    if (tale_yaml_get(L->y, m, "item", &kn)) {
        if (which != ON_PUT) {
            tale_yaml_errf(L->y, kn, L->err, L->errlen, "'item' is only meaningful in an 'on: put' reaction");
            return -1;
        }
        TRY(ref(L, m, "item", "item", 0, &r->item));
    }
    yaml_node_t *wv = tale_yaml_get(L->y, m, "with", &kn);
    if (wv) {
        if (which != ON_USE) {
            tale_yaml_errf(L->y, kn, L->err, L->errlen, "'with' is only meaningful in an 'on: use' reaction");
            return -1;
        }
        const char *s = scalar(wv);
        int i;
        if (s && (i = find_item(L->w, s)) >= 0) {
            r->with_kind = THING_ITEM;
            r->with = i;
        } else if (s && (i = find_npc(L->w, s)) >= 0) {
            r->with_kind = THING_NPC;
            r->with = i;
        } else {
            tale_yaml_errf(L->y, wv, L->err, L->errlen, "'with' names no item or npc");
            return -1;
        }
    }
    return 0;
}

/* --------------------------------------------------------------- locations */

static int
load_door(loader_t *L, yaml_node_t *m, eng_exit_t *x)
{
    static const char *const keys[] = {"name", "aliases", "state", "key", NULL};
    TRY(check_keys(L, m, "'door' to be a mapping", keys));
    x->has_door = 1;
    x->door_slot = (int)L->w->ndoors++;
    TRY(str(L, m, "name", 0, &x->door.name));
    if (!x->door.name)
        x->door.name = "door";
    TRY(names(L, m, "aliases", &x->door.aliases, &x->door.naliases));
    const char *state;
    TRY(str(L, m, "state", 0, &state));
    x->door.init = DOOR_CLOSED;
    if (state) {
        if (strcmp(state, "open") == 0)
            x->door.init = DOOR_OPEN;
        else if (strcmp(state, "closed") == 0)
            x->door.init = DOOR_CLOSED;
        else if (strcmp(state, "locked") == 0)
            x->door.init = DOOR_LOCKED;
        else {
            tale_yaml_errf(L->y, tale_yaml_get(L->y, m, "state", NULL), L->err, L->errlen,
                           "door state must be open, closed or locked, not '%s'", state);
            return -1;
        }
    }
    TRY(ref(L, m, "key", "item", 0, &x->door.key));
    if (x->door.init == DOOR_LOCKED && x->door.key < 0) {
        tale_yaml_errf(L->y, tale_yaml_get(L->y, m, "state", NULL), L->err, L->errlen, "a locked door needs a 'key' (an item id)");
        return -1;
    }
    return 0;
}

static int
load_location(loader_t *L, yaml_node_t *m, eng_location_t *l)
{
    static const char *const xkeys[] = {"direction", "target", "description", "door", "requires", "blocked", "hidden", NULL};
    TRY(str(L, m, "title", 1, &l->title));
    TRY(str(L, m, "description", 1, &l->description));
    TRY(str(L, m, "image", 0, &l->image));
    TRY(boolean(L, m, "dark", 0, &l->dark));
    yaml_node_t *xs;
    TRY(get_seq(L, m, "exits", "'exits' to be a list", &xs));
    l->nexits = xs ? seq_len(xs) : 0;
    l->exits = tale_xcalloc(l->nexits ? l->nexits : 1, sizeof *l->exits);
    for (size_t i = 0; i < l->nexits; i++) {
        yaml_node_t *e = seq_at(L->y, xs, i);
        eng_exit_t *x = &l->exits[i];
        x->twin_loc = x->twin_exit = -1;
        TRY(check_keys(L, e, "an exit (a mapping)", xkeys));
        const char *dir;
        TRY(str(L, e, "direction", 1, &dir));
        yaml_node_t *dn = tale_yaml_get(L->y, e, "direction", NULL);
        x->dir = eng_dir_parse(dir);
        if (x->dir < 0) {
            tale_yaml_errf(L->y, dn, L->err, L->errlen,
                           "unknown direction '%s' (expected one of: north, south, east, west, northeast, northwest, "
                           "southeast, southwest, up, down, in, out)",
                           dir);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (l->exits[j].dir == x->dir) {
                tale_yaml_errf(L->y, dn, L->err, L->errlen, "location '%s' has two exits '%s'", l->id, eng_dir_names[x->dir]);
                return -1;
            }
        yaml_node_t *tn = tale_yaml_get(L->y, e, "target", NULL);
        const char *target;
        TRY(str(L, e, "target", 1, &target));
        x->target = find_loc(L->w, target);
        if (x->target < 0) {
            tale_yaml_errf(L->y, tn, L->err, L->errlen, "exit '%s' of location '%s' leads to unknown location '%s'",
                           eng_dir_names[x->dir], l->id, target);
            return -1;
        }
        TRY(str(L, e, "description", 0, &x->description));
        TRY(flag_of(L, e, "requires", &x->requires));
        TRY(str(L, e, "blocked", 0, &x->blocked));
        TRY(boolean(L, e, "hidden", 0, &x->hidden));
        yaml_node_t *door = tale_yaml_get(L->y, e, "door", NULL);
        if (door)
            TRY(load_door(L, door, x));
    }
    return 0;
}

/* ------------------------------------------------------------------ items */

static int
load_item(loader_t *L, yaml_node_t *m, eng_item_t *it, yaml_node_t **in_node)
{
    TRY(str(L, m, "name", 1, &it->name));
    TRY(str(L, m, "description", 1, &it->description));
    TRY(str(L, m, "text", 0, &it->text));
    TRY(names(L, m, "aliases", &it->aliases, &it->naliases));
    TRY(boolean(L, m, "fixed", 0, &it->fixed));
    TRY(boolean(L, m, "takeable", !it->fixed, &it->takeable));
    if (it->fixed)
        it->takeable = 0;
    TRY(boolean(L, m, "container", 0, &it->container));
    TRY(boolean(L, m, "locked", 0, &it->init.locked));
    TRY(boolean(L, m, "closed", it->init.locked, &it->init.closed));
    if (it->init.locked)
        it->init.closed = 1;
    TRY(ref(L, m, "key", "item", 0, &it->key));
    TRY(boolean(L, m, "is_key", 0, &it->is_key));
    TRY(boolean(L, m, "wearable", 0, &it->wearable));
    TRY(boolean(L, m, "wieldable", 0, &it->wieldable));
    TRY(boolean(L, m, "edible", 0, &it->edible));
    TRY(boolean(L, m, "drinkable", 0, &it->drinkable));
    TRY(boolean(L, m, "light", 0, &it->light));
    TRY(boolean(L, m, "lit", it->light, &it->init.lit));
    yaml_node_t *kn;
    if ((it->init.closed || it->init.locked) && !it->container) {
        tale_yaml_get(L->y, m, it->init.locked ? "locked" : "closed", &kn);
        tale_yaml_errf(L->y, kn, L->err, L->errlen, "item '%s' is not a container; only containers open and close", it->id);
        return -1;
    }
    if (it->init.locked && it->key < 0) {
        tale_yaml_get(L->y, m, "locked", &kn);
        tale_yaml_errf(L->y, kn, L->err, L->errlen, "a locked container needs a 'key' (an item id)");
        return -1;
    }

    /* exactly one place */
    static const char *const places[] = {"location", "in", "npc", "player", "nowhere", NULL};
    const char *first = NULL;
    for (int i = 0; places[i]; i++) {
        yaml_node_t *v = tale_yaml_get(L->y, m, places[i], &kn);
        if (!v)
            continue;
        if (first) {
            tale_yaml_errf(L->y, kn, L->err, L->errlen, "item '%s' is placed in two places ('%s' and '%s'); give exactly one",
                           it->id, first, places[i]);
            return -1;
        }
        first = places[i];
        if (i == 0) {
            it->init.place.kind = PLACE_LOC;
            TRY(ref(L, m, "location", "location", 1, &it->init.place.idx));
        } else if (i == 1) {
            it->init.place.kind = PLACE_ITEM;
            TRY(ref(L, m, "in", "item", 1, &it->init.place.idx));
            *in_node = v;
        } else if (i == 2) {
            it->init.place.kind = PLACE_NPC;
            TRY(ref(L, m, "npc", "npc", 1, &it->init.place.idx));
        } else {
            int b;
            TRY(boolean(L, m, places[i], 0, &b));
            if (!b) {
                tale_yaml_errf(L->y, v, L->err, L->errlen, "'%s' can only be true; give the item's place instead", places[i]);
                return -1;
            }
            it->init.place.kind = i == 3 ? PLACE_PLAYER : PLACE_NOWHERE;
            it->init.place.idx = 0;
        }
    }
    if (!first) {
        tale_yaml_errf(L->y, m, L->err, L->errlen,
                       "item '%s' has no place: give one of location, in, npc, player: true, nowhere: true", it->id);
        return -1;
    }

    yaml_node_t *on = tale_yaml_get(L->y, m, "on", NULL);
    if (on) {
        TRY(check_keys(L, on, "'on' to be a mapping of verb: reaction", on_keys));
        for (int v = 0; v < ON__N; v++) {
            yaml_node_t *r = tale_yaml_get(L->y, on, on_names[v], NULL);
            if (r)
                TRY(load_reaction(L, r, v, &it->on[v]));
        }
    }
    return 0;
}

/* ------------------------------------------------------------------- npcs */

/* A list of location ids at map[key], located errors per element. */
static int
loc_list(loader_t *L, yaml_node_t *seq, const char *what, int **out, size_t *n)
{
    TRY(tale_yaml_expect_seq(L->y, seq, what, L->err, L->errlen));
    *n = seq_len(seq);
    *out = tale_xcalloc(*n ? *n : 1, sizeof(int));
    for (size_t i = 0; i < *n; i++) {
        yaml_node_t *e = seq_at(L->y, seq, i);
        const char *s = scalar(e);
        if (!s || ((*out)[i] = find_loc(L->w, s)) < 0) {
            tale_yaml_errf(L->y, e, L->err, L->errlen, "unknown location '%s' in %s", s ? s : "(not a name)", what);
            return -1;
        }
    }
    return 0;
}

static int
every(loader_t *L, yaml_node_t *m, int *out)
{
    int64_t v;
    TRY(tale_yaml_int(L->y, m, "every", 1, 1, 1, 1000000, &v, L->err, L->errlen));
    *out = (int)v;
    return 0;
}

static int
load_npc(loader_t *L, yaml_node_t *m, eng_npc_t *n)
{
    static const char *const tkeys[] = {"about", "answer", "requires", "set", "clear", NULL};
    static const char *const akeys[] = {"item", "reply", "set", "clear", "gives", "keep", "requires", NULL};
    static const char *const wkeys[] = {"every", "route", NULL};
    static const char *const ekeys[] = {"every", "lines", NULL};
    TRY(str(L, m, "name", 1, &n->name));
    TRY(str(L, m, "title", 0, &n->title));
    TRY(str(L, m, "description", 1, &n->description));
    TRY(str(L, m, "image", 0, &n->image));
    TRY(str(L, m, "greeting", 0, &n->greeting));
    TRY(str(L, m, "unknown_topic", 0, &n->unknown_topic));
    TRY(str(L, m, "refuses", 0, &n->refuses));
    TRY(names(L, m, "aliases", &n->aliases, &n->naliases));
    TRY(ref(L, m, "location", "location", 1, &n->init.location));

    yaml_node_t *ts;
    TRY(get_seq(L, m, "topics", "'topics' to be a list", &ts));
    n->ntopics = ts ? seq_len(ts) : 0;
    n->topics = tale_xcalloc(n->ntopics ? n->ntopics : 1, sizeof *n->topics);
    for (size_t i = 0; i < n->ntopics; i++) {
        yaml_node_t *t = seq_at(L->y, ts, i);
        eng_topic_t *tp = &n->topics[i];
        TRY(check_keys(L, t, "a topic (a mapping)", tkeys));
        if (!tale_yaml_get(L->y, t, "about", NULL)) {
            tale_yaml_errf(L->y, t, L->err, L->errlen, "missing key 'about'");
            return -1;
        }
        TRY(names(L, t, "about", &tp->about, &tp->nabout));
        TRY(str(L, t, "answer", 1, &tp->answer));
        TRY(flag_of(L, t, "requires", &tp->requires));
        TRY(flags_of(L, t, "set", 1, &tp->set));
        TRY(flags_of(L, t, "clear", 0, &tp->clear));
    }

    yaml_node_t *as;
    TRY(get_seq(L, m, "accepts", "'accepts' to be a list", &as));
    n->naccepts = as ? seq_len(as) : 0;
    n->accepts = tale_xcalloc(n->naccepts ? n->naccepts : 1, sizeof *n->accepts);
    for (size_t i = 0; i < n->naccepts; i++) {
        yaml_node_t *a = seq_at(L->y, as, i);
        eng_accept_t *ac = &n->accepts[i];
        TRY(check_keys(L, a, "an accepted item (a mapping)", akeys));
        TRY(ref(L, a, "item", "item", 1, &ac->item));
        TRY(str(L, a, "reply", 1, &ac->reply));
        TRY(flags_of(L, a, "set", 1, &ac->set));
        TRY(flags_of(L, a, "clear", 0, &ac->clear));
        TRY(ref(L, a, "gives", "item", 0, &ac->gives));
        TRY(boolean(L, a, "keep", 1, &ac->keep));
        TRY(flag_of(L, a, "requires", &ac->requires));
    }

    yaml_node_t *wn = tale_yaml_get(L->y, m, "wander", NULL);
    if (wn) {
        TRY(check_keys(L, wn, "'wander' to be a mapping {every, route}", wkeys));
        TRY(every(L, wn, &n->wander_every));
        yaml_node_t *r = tale_yaml_get(L->y, wn, "route", NULL);
        if (!r) {
            tale_yaml_errf(L->y, wn, L->err, L->errlen, "missing key 'route'");
            return -1;
        }
        TRY(loc_list(L, r, "'route'", &n->route, &n->nroute));
    }
    yaml_node_t *en = tale_yaml_get(L->y, m, "emotes", NULL);
    if (en) {
        TRY(check_keys(L, en, "'emotes' to be a mapping {every, lines}", ekeys));
        TRY(every(L, en, &n->emote_every));
        if (!tale_yaml_get(L->y, en, "lines", NULL)) {
            tale_yaml_errf(L->y, en, L->err, L->errlen, "missing key 'lines'");
            return -1;
        }
        TRY(names(L, en, "lines", &n->emotes, &n->nemotes));
    }
    return 0;
}

/* -------------------------------------------------------------- the rest */

static int
load_player(loader_t *L, yaml_node_t *root)
{
    static const char *const keys[] = {"name", "description", "start", NULL};
    yaml_node_t *m = tale_yaml_get(L->y, root, "player", NULL);
    if (!m) {
        tale_yaml_errf(L->y, root, L->err, L->errlen, "missing key 'player'");
        return -1;
    }
    TRY(check_keys(L, m, "'player' to be a mapping", keys));
    TRY(str(L, m, "name", 1, &L->w->player_name));
    TRY(str(L, m, "description", 0, &L->w->player_description));
    return ref(L, m, "start", "location", 1, &L->w->start);
}

static int
load_goal(loader_t *L, yaml_node_t *root)
{
    static const char *const keys[] = {"flag", "item", "at", "ending", NULL};
    tale_story_t *w = L->w;
    w->goal_kind = GOAL_NONE;
    yaml_node_t *m = tale_yaml_get(L->y, root, "goal", NULL);
    if (!m)
        return 0;
    TRY(check_keys(L, m, "'goal' to be a mapping", keys));
    TRY(str(L, m, "ending", 1, &w->ending));
    yaml_node_t *fk, *ik;
    yaml_node_t *f = tale_yaml_get(L->y, m, "flag", &fk), *i = tale_yaml_get(L->y, m, "item", &ik);
    if (f && i) {
        tale_yaml_errf(L->y, ik, L->err, L->errlen, "a goal is either a 'flag' or an 'item' with 'at', not both");
        return -1;
    }
    if (f) {
        w->goal_kind = GOAL_FLAG;
        return flag_of(L, m, "flag", &w->goal_flag);
    }
    if (!i) {
        tale_yaml_errf(L->y, m, L->err, L->errlen, "a goal needs 'flag' or 'item' with 'at'");
        return -1;
    }
    w->goal_kind = GOAL_ITEM;
    TRY(ref(L, m, "item", "item", 1, &w->goal_item));
    yaml_node_t *at = tale_yaml_get(L->y, m, "at", NULL);
    const char *s = scalar(at);
    if (!at) {
        tale_yaml_errf(L->y, m, L->err, L->errlen, "missing key 'at'");
        return -1;
    }
    int x;
    if (s && strcmp(s, "player") == 0) {
        w->goal_at.kind = PLACE_PLAYER;
    } else if (s && (x = find_loc(w, s)) >= 0) {
        w->goal_at.kind = PLACE_LOC;
        w->goal_at.idx = x;
    } else if (s && (x = find_item(w, s)) >= 0 && w->items[x].container) {
        w->goal_at.kind = PLACE_ITEM;
        w->goal_at.idx = x;
    } else {
        tale_yaml_errf(L->y, at, L->err, L->errlen, "'at' must be a location id, a container item id or 'player'");
        return -1;
    }
    return 0;
}

/* Checks that need the whole story: containers, keys, the two sides of doors, flags. */
static int
cross_check(loader_t *L, yaml_node_t **item_nodes, yaml_node_t **in_nodes, yaml_node_t **loc_nodes)
{
    tale_story_t *w = L->w;
    for (size_t i = 0; i < w->nitems; i++) {
        eng_item_t *it = &w->items[i];
        if (it->init.place.kind == PLACE_ITEM) {
            /* a container chain must end outside itself */
            int c = it->init.place.idx, hops = 0;
            if (!w->items[c].container) {
                tale_yaml_errf(L->y, in_nodes[i], L->err, L->errlen, "item '%s' is put in '%s', which is not a container", it->id,
                               w->items[c].id);
                return -1;
            }
            while (w->items[c].init.place.kind == PLACE_ITEM && hops++ <= (int)w->nitems)
                c = w->items[c].init.place.idx;
            if (hops > (int)w->nitems || c == (int)i) {
                tale_yaml_errf(L->y, in_nodes[i], L->err, L->errlen, "item '%s' is inside itself", it->id);
                return -1;
            }
        }
        if (it->is_key) {
            int used = 0;
            for (size_t j = 0; j < w->nitems && !used; j++)
                used = w->items[j].key == (int)i;
            for (size_t l = 0; l < w->nlocs && !used; l++)
                for (size_t e = 0; e < w->locs[l].nexits && !used; e++)
                    used = w->locs[l].exits[e].has_door && w->locs[l].exits[e].door.key == (int)i;
            if (!used) {
                yaml_node_t *kn;
                tale_yaml_get(L->y, item_nodes[i], "is_key", &kn);
                tale_yaml_errf(L->y, kn, L->err, L->errlen, "item '%s' is a key but no door or container uses it", it->id);
                return -1;
            }
        }
    }
    for (size_t l = 0; l < w->nlocs; l++) {
        eng_location_t *loc = &w->locs[l];
        for (size_t e = 0; e < loc->nexits; e++) {
            eng_exit_t *x = &loc->exits[e];
            if (!x->has_door)
                continue;
            eng_location_t *t = &w->locs[x->target];
            for (size_t f = 0; f < t->nexits; f++) {
                eng_exit_t *b = &t->exits[f];
                if (b->has_door && b->target == (int)l) {
                    if (b->door.init != x->door.init || b->door.key != x->door.key) {
                        yaml_node_t *xs = tale_yaml_get(L->y, loc_nodes[l], "exits", NULL);
                        yaml_node_t *dn = tale_yaml_get(L->y, seq_at(L->y, xs, e), "door", NULL);
                        tale_yaml_errf(L->y, dn, L->err, L->errlen,
                                       "the door between '%s' and '%s' has a different state or key on each side", loc->id, t->id);
                        return -1;
                    }
                    x->twin_loc = x->target;
                    x->twin_exit = (int)f;
                    break;
                }
            }
        }
    }
    for (size_t f = 0; f < w->nflags; f++)
        if (!L->flag_set[f] && L->flag_req[f]) {
            tale_yaml_errf(L->y, L->flag_req[f], L->err, L->errlen, "flag '%s' is required here but nothing sets it",
                           w->flag_names[f]);
            return -1;
        }
    return 0;
}

static int
story_parse(tale_story_t *w, const char *path, char *err, size_t errlen)
{
    static const char *const top[] = {"story", "player", "clock", "locations", "items", "npcs", "goal", NULL};
    static const char *const lkeys[] = {"id", "title", "description", "image", "dark", "exits", NULL};
    static const char *const ikeys[] = {"id",     "name",    "aliases",  "description", "location",  "in",        "npc",
                                        "player", "nowhere", "takeable", "fixed",       "container", "closed",    "locked",
                                        "key",    "is_key",  "wearable", "wieldable",   "edible",    "drinkable", "text",
                                        "light",  "lit",     "on",       NULL};
    static const char *const nkeys[] = {"id",      "name",     "title",    "aliases", "description",
                                        "image",   "location", "greeting", "topics",  "unknown_topic",
                                        "accepts", "refuses",  "wander",   "emotes",  NULL};
    loader_t L = {.w = w, .y = &w->y, .err = err, .errlen = errlen};
    yaml_node_t **lnodes = NULL, **inodes = NULL, **nnodes = NULL, **in_nodes = NULL;
    const char **lids = NULL, **iids = NULL, **nids = NULL;
    int rc = -1;

    if (tale_yaml_load(&w->y, path, err, errlen) < 0)
        return -1;
    yaml_node_t *root = tale_yaml_root(&w->y);
    if (tale_yaml_expect_map(&w->y, root, "the story to be a mapping", err, errlen) < 0 ||
        tale_yaml_check_keys(&w->y, root, top, err, errlen) < 0)
        goto out;
    if (load_meta(&L, root) < 0 || load_clock(&L, root) < 0)
        goto out;

    yaml_node_t *ls, *is, *ns;
    if (get_seq(&L, root, "locations", "'locations' to be a list", &ls) < 0 ||
        get_seq(&L, root, "items", "'items' to be a list", &is) < 0 || get_seq(&L, root, "npcs", "'npcs' to be a list", &ns) < 0)
        goto out;
    if (!ls || seq_len(ls) == 0) {
        tale_yaml_errf(&w->y, ls ? ls : root, err, errlen, "a story needs at least one location under 'locations'");
        goto out;
    }
    /* ids first, so that references can point forward */
    size_t n;
    if (collect_ids(&L, ls, "a location (a mapping)", lkeys, &lids, &n, &lnodes) < 0)
        goto out;
    w->nlocs = n;
    w->locs = tale_xcalloc(n, sizeof *w->locs);
    for (size_t i = 0; i < n; i++)
        w->locs[i].id = lids[i];
    if (collect_ids(&L, is, "an item (a mapping)", ikeys, &iids, &n, &inodes) < 0)
        goto out;
    w->nitems = n;
    w->items = tale_xcalloc(n ? n : 1, sizeof *w->items);
    for (size_t i = 0; i < n; i++)
        w->items[i].id = iids[i];
    if (collect_ids(&L, ns, "an npc (a mapping)", nkeys, &nids, &n, &nnodes) < 0)
        goto out;
    w->nnpcs = n;
    w->npcs = tale_xcalloc(n ? n : 1, sizeof *w->npcs);
    for (size_t i = 0; i < n; i++)
        w->npcs[i].id = nids[i];

    if (load_player(&L, root) < 0)
        goto out;
    for (size_t i = 0; i < w->nlocs; i++)
        if (load_location(&L, lnodes[i], &w->locs[i]) < 0)
            goto out;
    in_nodes = tale_xcalloc(w->nitems ? w->nitems : 1, sizeof *in_nodes);
    for (size_t i = 0; i < w->nitems; i++) {
        w->items[i].key = -1;
        if (load_item(&L, inodes[i], &w->items[i], &in_nodes[i]) < 0)
            goto out;
    }
    for (size_t i = 0; i < w->nnpcs; i++)
        if (load_npc(&L, nnodes[i], &w->npcs[i]) < 0)
            goto out;
    if (load_goal(&L, root) < 0 || cross_check(&L, inodes, in_nodes, lnodes) < 0)
        goto out;
    rc = 0;
out:
    free(lnodes);
    free(inodes);
    free(nnodes);
    free(in_nodes);
    free(lids);
    free(iids);
    free(nids);
    free(L.flag_set);
    free(L.flag_req);
    return rc;
}

static void
free_flaglist(eng_flaglist_t *f)
{
    free(f->v);
}

static void
free_reaction(eng_reaction_t *r)
{
    if (!r)
        return;
    free_flaglist(&r->set);
    free_flaglist(&r->clear);
    free(r);
}

/* jansson's allocations follow the one out-of-memory policy (tale/alloc.h):
 * a failed one is fatal, so jansson never returns NULL for lack of memory
 * and the engine's json_object_set_new(o, k, json_string(..)) chains need no
 * check.  (It still returns NULL for a string that is not UTF-8: story text
 * comes through libyaml, which refuses such text, and a player's text is
 * repaired before it reaches a frame.)  Process-wide, set once here: loading
 * a story is the engine's first step, before it makes any JSON. */
static void *
json_xmalloc(size_t n)
{
    return tale_xmalloc(n);
}

static void
json_alloc_policy(void)
{
    static int set;
    if (!set) {
        json_set_alloc_funcs(json_xmalloc, free);
        set = 1;
    }
}

tale_story_t *
tale_story_load(const char *story_dir, char *err, size_t errlen)
{
    json_alloc_policy();
    tale_story_t *st = tale_xcalloc(1, sizeof(*st));
    st->refs = 1;
    st->dir = tale_xstrdup(story_dir);
    char *path = eng_xasprintf("%s/story.yaml", story_dir), *res = eng_xasprintf("%s/resources", story_dir);
    int rc = story_parse(st, path, err, errlen);
    free(path);
    if (rc < 0) {
        free(res);
        tale_story_free(st);
        return NULL;
    }
    char *abs = realpath(res, NULL);
    if (abs) {
        free(res);
        res = abs;
    }
    st->meta.resources_dir = res;
    return st;
}

void
tale_story_free(tale_story_t *w)
{
    if (w == NULL || --w->refs > 0)
        return;
    for (size_t i = 0; i < w->nlocs; i++) {
        for (size_t e = 0; e < w->locs[i].nexits; e++)
            free(w->locs[i].exits[e].door.aliases);
        free(w->locs[i].exits);
    }
    free(w->locs);
    for (size_t i = 0; i < w->nitems; i++) {
        free(w->items[i].aliases);
        for (int v = 0; v < ON__N; v++)
            free_reaction(w->items[i].on[v]);
    }
    free(w->items);
    for (size_t i = 0; i < w->nnpcs; i++) {
        eng_npc_t *n = &w->npcs[i];
        for (size_t t = 0; t < n->ntopics; t++) {
            free(n->topics[t].about);
            free_flaglist(&n->topics[t].set);
            free_flaglist(&n->topics[t].clear);
        }
        free(n->topics);
        for (size_t a = 0; a < n->naccepts; a++) {
            free_flaglist(&n->accepts[a].set);
            free_flaglist(&n->accepts[a].clear);
        }
        free(n->accepts);
        free(n->aliases);
        free(n->route);
        free(n->emotes);
    }
    free(w->npcs);
    for (size_t i = 0; i < w->nflags; i++)
        free(w->flag_names[i]);
    free(w->flag_names);
    eng_story_html_free(w);
    free((char *)w->meta.resources_dir);
    free(w->dir);
    tale_yaml_free(&w->y);
    free(w);
}

const tale_story_meta_t *
tale_story_meta(const tale_story_t *st)
{
    return &st->meta;
}

/* The exit of `l` in direction `dir` (eng_dir_names index), or NULL. */
static const eng_exit_t *
exit_towards(const eng_location_t *l, int dir)
{
    for (size_t e = 0; e < l->nexits; e++)
        if (l->exits[e].dir == dir)
            return &l->exits[e];
    return NULL;
}

/* Every direction in the comma list is an exit of l. */
static int
has_exits(const eng_location_t *l, const char *exits)
{
    while (exits != NULL && *exits != '\0') {
        size_t n = strcspn(exits, ",");
        int dir = -1;
        for (int d = 0; d < DIR__N; d++)
            if (strlen(eng_dir_names[d]) == n && memcmp(eng_dir_names[d], exits, n) == 0)
                dir = d;
        if (dir < 0 || exit_towards(l, dir) == NULL)
            return 0;
        exits += n;
        if (*exits == ',')
            exits++;
    }
    return 1;
}

int
tale_story_location_find(const tale_story_t *st, const char *title, size_t len, const char *exits)
{
    int first = -1;
    for (size_t i = 0; i < st->nlocs; i++) {
        const char *t = st->locs[i].title;
        if (t == NULL || strlen(t) != len || memcmp(t, title, len) != 0)
            continue;
        if (has_exits(&st->locs[i], exits))
            return (int)i;
        if (first < 0)
            first = (int)i;
    }
    return first;
}

const char *
tale_story_location_id(const tale_story_t *st, int loc)
{
    return loc >= 0 && (size_t)loc < st->nlocs ? st->locs[loc].id : NULL;
}

int
tale_story_exit_target(const tale_story_t *st, int loc, const char *dir)
{
    if (loc < 0 || (size_t)loc >= st->nlocs || dir == NULL)
        return -1;
    for (int d = 0; d < DIR__N; d++)
        if (strcmp(eng_dir_names[d], dir) == 0) {
            const eng_exit_t *x = exit_towards(&st->locs[loc], d);
            return x != NULL ? x->target : -1;
        }
    return -1;
}
