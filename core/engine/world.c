/*
 * world.c - the world's life: loading, players joining and leaving, the
 * server tick, and the questions every command asks (what can the player see,
 * what is in reach, has the story been won).
 */
#include "world.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void player_free(tale_player_t *p, int announce);

/* A world begins where its story does: every piece of state from the
 * story's `init` values, the clock at the story's start. */
tale_world_t *
tale_world_new(tale_story_t *st, const tale_world_options_t *opt)
{
    tale_world_t *w = tale_xcalloc(1, sizeof(*w));
    const tale_story_t *s = st;
    st->refs++;
    w->st = st;
    w->items = tale_xcalloc(s->nitems, sizeof(*w->items));
    for (size_t i = 0; i < s->nitems; i++)
        w->items[i] = s->items[i].init;
    w->npcs = tale_xcalloc(s->nnpcs, sizeof(*w->npcs));
    for (size_t i = 0; i < s->nnpcs; i++)
        w->npcs[i] = s->npcs[i].init;
    w->doors = tale_xcalloc(s->ndoors, sizeof(*w->doors));
    for (size_t l = 0; l < s->nlocs; l++)
        for (size_t e = 0; e < s->locs[l].nexits; e++)
            if (s->locs[l].exits[e].has_door)
                w->doors[s->locs[l].exits[e].door_slot] = s->locs[l].exits[e].door.init;
    w->flags = tale_xcalloc(s->nflags, 1);
    w->save_dir = opt && opt->save_dir ? tale_xstrdup(opt->save_dir) : NULL;
    w->max_input = opt && opt->max_input ? opt->max_input : 1024;
    w->shared = opt && opt->shared;
    w->clock = s->clock_start;
    w->rooms = tale_xcalloc(s->nlocs ? s->nlocs : 1, sizeof(*w->rooms));
    return w;
}

tale_world_t *
tale_world_load(const char *story_dir, const tale_world_options_t *opt, char *err, size_t errlen)
{
    tale_story_t *st = tale_story_load(story_dir, err, errlen);
    if (st == NULL)
        return NULL;
    tale_world_t *w = tale_world_new(st, opt);
    tale_story_free(st); /* the world holds its own reference */
    return w;
}

void
tale_world_free(tale_world_t *w)
{
    if (!w)
        return;
    /* players still here are freed without a word: their hosts' contexts may be gone */
    for (size_t i = 0; i < w->nplayers_cap; i++)
        if (w->players[i])
            player_free(w->players[i], 0);
    free(w->players);
    free(w->seat_tree);
    free(w->names);
    for (size_t i = 0; i < w->nnews; i++)
        free(w->rooms[w->news[i]].batch); /* news the tick never sent */
    free(w->rooms);
    free(w->news);
    free(w->scratch);
    free(w->items);
    free(w->npcs);
    free(w->doors);
    free(w->flags);
    json_decref(w->pending_players);
    free(w->save_dir);
    tale_story_free(w->st);
    free(w);
}

const tale_story_meta_t *
tale_world_meta(const tale_world_t *w)
{
    return &w->st->meta;
}

/* ------------------------------------------------------------ questions */

/* "a " or "an " for a name: a guess from the first letter, right for most names */
const char *
eng_article(const char *name)
{
    return strchr("aeiouAEIOU", name[0]) && name[0] ? "an " : "a ";
}

eng_place_t
eng_item_outer_place(const tale_world_t *w, int item, int *through_closed)
{
    eng_place_t pl = w->items[item].place;
    int hops = 0;
    *through_closed = 0;
    while (pl.kind == PLACE_ITEM && hops++ < (int)w->st->nitems) {
        if (w->items[pl.idx].closed)
            *through_closed = 1;
        pl = w->items[pl.idx].place;
    }
    return pl;
}

/* Listed as lying at loc: directly there.  Contents are listed with their
 * container, not the room.  (Every frame asks this of every item: no walk up
 * the containers.) */
int
eng_item_visible_at(const tale_world_t *w, int item, int loc)
{
    eng_place_t pl = w->items[item].place;
    return pl.kind == PLACE_LOC && pl.idx == loc;
}

int
eng_item_held_by(const tale_world_t *w, int item, int slot)
{
    return w->items[item].place.kind == PLACE_PLAYER && w->items[item].place.idx == slot;
}

static int
light_here(const tale_world_t *w, int loc, int slot)
{
    for (size_t i = 0; i < w->st->nitems; i++) {
        const eng_item_t *it = &w->st->items[i];
        eng_item_state_t *its = &w->items[i];
        if (!it->light || !its->lit)
            continue;
        int closed;
        eng_place_t pl = eng_item_outer_place(w, (int)i, &closed);
        if (closed)
            continue;
        if (pl.kind == PLACE_LOC && pl.idx == loc)
            return 1;
        if (pl.kind == PLACE_PLAYER && w->players[pl.idx] && w->players[pl.idx]->location == loc)
            return 1;
        if (pl.kind == PLACE_NPC && w->npcs[pl.idx].location == loc)
            return 1;
    }
    (void)slot;
    return 0;
}

int
eng_player_can_see(const tale_player_t *p)
{
    const tale_world_t *w = p->w;
    return !w->st->locs[p->location].dark || light_here(w, p->location, p->slot);
}

/* In reach: carried, lying here (when the player can see), or inside an open
 * container that is either. */
int
eng_item_in_scope(const tale_player_t *p, int item)
{
    const tale_world_t *w = p->w;
    int closed;
    eng_place_t pl = eng_item_outer_place(w, item, &closed);
    if (closed)
        return 0;
    if (pl.kind == PLACE_PLAYER)
        return pl.idx == p->slot;
    if (pl.kind == PLACE_LOC)
        return pl.idx == p->location && eng_player_can_see(p);
    return 0;
}

long
eng_clock_now(const tale_world_t *w)
{
    return w->clock;
}

void
eng_flags_apply(tale_world_t *w, const eng_flaglist_t *set, const eng_flaglist_t *clear)
{
    for (size_t i = 0; i < set->n; i++)
        w->flags[set->v[i]] = 1;
    for (size_t i = 0; i < clear->n; i++)
        w->flags[clear->v[i]] = 0;
}

static void
list_contents(tale_player_t *p, int container)
{
    tale_world_t *w = p->w;
    eng_sbuf_t names = {0};
    int n = 0;
    for (size_t i = 0; i < w->st->nitems; i++)
        if (w->items[i].place.kind == PLACE_ITEM && w->items[i].place.idx == container) {
            if (n++)
                eng_sb_adds(&names, ", ");
            eng_sb_adds(&names, eng_article(w->st->items[i].name));
            eng_sb_adds(&names, w->st->items[i].name);
        }
    if (n)
        eng_out_p(p, "In the %s: %s.", w->st->items[container].name, names.s);
    eng_sb_free(&names);
}

void
eng_describe_location(tale_player_t *p, int full)
{
    tale_world_t *w = p->w;
    eng_location_t *l = &w->st->locs[p->location];
    eng_out_p(p, "<location>%s</location>", l->title);
    if (!eng_player_can_see(p)) {
        eng_out_p(p, "It is pitch dark. You can't see a thing.");
        return;
    }
    if (full)
        eng_out_story(p, l->description);
    eng_sbuf_t b = {0};
    int n = 0;
    for (size_t i = 0; i < w->st->nitems; i++)
        if (eng_item_visible_at(w, (int)i, p->location) && !w->st->items[i].fixed) {
            if (n++)
                eng_sb_adds(&b, ", ");
            eng_sb_adds(&b, eng_article(w->st->items[i].name));
            eng_sb_adds(&b, w->st->items[i].name);
        }
    if (n)
        eng_out_p(p, "You see: %s.", b.s);
    for (size_t i = 0; i < w->st->nitems; i++)
        if (eng_item_visible_at(w, (int)i, p->location) && w->st->items[i].container && !w->items[i].closed)
            list_contents(p, (int)i);
    /* "A is here." / "A and B are here." / "A, B and C are here.", with
     * titles in brackets (a title may itself hold commas); in a crowd the
     * first ENG_PEOPLE_SHOWN and "and 9,990 others" (world.h, "Crowds"). */
    const char *names[ENG_PEOPLE_SHOWN], *titles[ENG_PEOPLE_SHOWN];
    size_t total = eng_people_here(p, names, titles, ENG_PEOPLE_SHOWN);
    size_t shown = total < ENG_PEOPLE_SHOWN ? total : ENG_PEOPLE_SHOWN;
    b.len = 0;
    for (size_t i = 0; i < shown; i++) {
        if (i > 0)
            eng_sb_adds(&b, i + 1 == total ? " and " : ", ");
        eng_sb_escape(&b, names[i], strlen(names[i]));
        if (titles[i] != NULL) {
            eng_sb_adds(&b, " (");
            eng_sb_escape(&b, titles[i], strlen(titles[i]));
            eng_sb_adds(&b, ")");
        }
    }
    if (total > shown) {
        eng_sb_adds(&b, " and ");
        eng_sb_count(&b, total - shown);
        eng_sb_adds(&b, total - shown == 1 ? " other" : " others");
    }
    if (total) {
        eng_out_raw(p, "<p>");
        eng_out_raw(p, b.s);
        eng_out_raw(p, total > 1 ? " are here.</p>\n" : " is here.</p>\n");
    }
    eng_sb_free(&b);
    b = (eng_sbuf_t){0};
    n = 0;
    for (size_t e = 0; e < l->nexits; e++) {
        eng_exit_t *x = &l->exits[e];
        if (x->hidden && x->requires >= 0 && !w->flags[x->requires])
            continue;
        if (n++)
            eng_sb_adds(&b, ", ");
        eng_sb_adds(&b, eng_dir_names[x->dir]);
    }
    if (n)
        eng_out_p(p, "<dim>Exits: %s.</dim>", b.s);
    else
        eng_out_p(p, "<dim>There is no way out.</dim>");
    eng_sb_free(&b);
}

/* The greeting of every NPC here that this player has not met yet. */
void
eng_meet_npcs(tale_player_t *p)
{
    tale_world_t *w = p->w;
    if (!eng_player_can_see(p))
        return;
    for (size_t i = 0; i < w->st->nnpcs; i++)
        if (w->npcs[i].location == p->location && !p->met[i]) {
            p->met[i] = 1;
            if (w->st->npcs[i].greeting)
                eng_out_speech(p, w->st->npcs[i].name, "says", w->st->npcs[i].greeting, 1);
        }
}

/* The occupants of loc (every player: loc -1) but `except`, in the world's
 * scratch array (valid until the next call). */
static size_t
recipients(tale_world_t *w, int loc, const tale_player_t *except, uint64_t before)
{
    size_t need = loc >= 0 ? w->rooms[loc].n : w->nplayers, n = 0;
    if (need > w->scratch_cap) {
        w->scratch_cap = need * 2;
        free(w->scratch);
        w->scratch = tale_xmalloc(w->scratch_cap * sizeof(*w->scratch));
    }
    if (loc >= 0) {
        /* arrival order: those who came at or after `before` end the list */
        for (tale_player_t *o = w->rooms[loc].head; o && o->arrived < before; o = o->room_next)
            if (o != except)
                w->scratch[n++] = o;
    } else {
        for (size_t i = 0; i < w->nplayers_cap && n < need; i++)
            if (w->players[i] && w->players[i] != except)
                w->scratch[n++] = w->players[i];
    }
    return n;
}

static void
tell_frame(tale_world_t *w, int loc, const tale_player_t *except, uint64_t before, eng_sbuf_t *html)
{
    size_t n = recipients(w, loc, except, before);
    if (n > 0)
        eng_broadcast(w, w->scratch, n, eng_news_frame(html->s, html->len));
}

void
eng_tell_html(tale_world_t *w, int loc, const tale_player_t *except, const char *html)
{
    eng_sbuf_t b = {0};
    eng_sb_adds(&b, html);
    tell_frame(w, loc, except, UINT64_MAX, &b);
    eng_sb_free(&b);
}

void
eng_tell_room(tale_world_t *w, int loc, const tale_player_t *except, const char *fmt, ...)
{
    if (loc >= 0 && w->rooms[loc].n == (except && except->location == loc ? 1u : 0u))
        return; /* nobody to tell: skip the formatting */
    eng_sbuf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    eng_sb_vp(&b, fmt, ap);
    va_end(ap);
    tell_frame(w, loc, except, UINT64_MAX, &b);
    eng_sb_free(&b);
}

/* ------------------------------------------------------------ occupants */

void
eng_player_move(tale_player_t *p, int to)
{
    tale_world_t *w = p->w;
    if (p->location >= 0) {
        eng_room_t *r = &w->rooms[p->location];
        if (p->room_prev)
            p->room_prev->room_next = p->room_next;
        else
            r->head = p->room_next;
        if (p->room_next)
            p->room_next->room_prev = p->room_prev;
        else
            r->tail = p->room_prev;
        r->n--;
        p->room_prev = p->room_next = NULL;
    }
    p->location = to;
    if (to < 0)
        return;
    eng_room_t *r = &w->rooms[to];
    p->room_prev = r->tail;
    if (r->tail)
        r->tail->room_next = p;
    else
        r->head = p;
    r->tail = p;
    r->n++;
    p->arrived = ++w->arrivals;
}

size_t
eng_people_here(const tale_player_t *p, const char **names, const char **titles, size_t max)
{
    const tale_world_t *w = p->w;
    size_t total = 0, k = 0;
    for (size_t i = 0; i < w->st->nnpcs; i++)
        if (w->npcs[i].location == p->location) {
            total++;
            if (k < max) {
                names[k] = w->st->npcs[i].name;
                if (titles)
                    titles[k] = w->st->npcs[i].title;
                k++;
            }
        }
    const eng_room_t *r = &w->rooms[p->location];
    total += r->n - 1; /* p is one of the room's occupants */
    /* the latest arrivals: whom a newcomer to a crowd is likeliest to look for */
    for (const tale_player_t *o = r->tail; o && k < max; o = o->room_prev)
        if (o != p) {
            names[k] = o->name;
            if (titles)
                titles[k] = NULL;
            k++;
        }
    return total;
}

/* A crowd's news for the tick: "Ann, Bob and 37 others arrive." */
static void
news_line(eng_sbuf_t *b, char (*names)[64], size_t n, const char *one, const char *many)
{
    if (n == 0)
        return;
    size_t shown = n < ENG_NEWS_NAMES ? n : ENG_NEWS_NAMES;
    eng_sb_adds(b, "<p>");
    for (size_t i = 0; i < shown; i++) {
        if (i > 0)
            eng_sb_adds(b, i + 1 == n ? " and " : ", ");
        eng_sb_escape(b, names[i], strlen(names[i]));
    }
    if (n > shown) {
        eng_sb_adds(b, " and ");
        eng_sb_count(b, n - shown);
        eng_sb_adds(b, n - shown == 1 ? " other" : " others");
    }
    eng_sb_adds(b, " ");
    eng_sb_adds(b, n == 1 ? one : many);
    eng_sb_adds(b, ".</p>\n");
}

void
eng_room_news(tale_player_t *p, int arrive, const char *fmt)
{
    tale_world_t *w = p->w;
    eng_room_t *r = &w->rooms[p->location];
    size_t others = r->n - 1; /* p is in the room: arriving, after the move; leaving, before it */
    if (others == 0)
        return;
    if (!r->batch && others <= ENG_CROWD) {
        eng_tell_room(w, p->location, p, fmt, p->name);
        return;
    }
    /* crowded (or a summary already pending: later news joins it, in order) */
    if (!r->batch) {
        r->batch = tale_xcalloc(1, sizeof(*r->batch));
        /* the one arriving, and everyone after, saw the room for themselves */
        r->batch->news_since = arrive ? p->arrived : w->arrivals + 1;
        if (w->nnews == w->news_cap) {
            w->news_cap = w->news_cap ? w->news_cap * 2 : 16;
            w->news = tale_xrealloc(w->news, w->news_cap * sizeof(*w->news));
        }
        w->news[w->nnews++] = p->location;
    }
    size_t *count = arrive ? &r->batch->narrive : &r->batch->nleave;
    char(*names)[64] = arrive ? r->batch->arrive : r->batch->leave;
    if (*count < ENG_NEWS_NAMES)
        snprintf(names[*count], sizeof names[0], "%s", p->name);
    (*count)++;
}

/* The tick's summaries: one frame per room with news. */
static void
flush_news(tale_world_t *w)
{
    for (size_t i = 0; i < w->nnews; i++) {
        eng_room_t *r = &w->rooms[w->news[i]];
        eng_room_batch_t *nb = r->batch;
        eng_sbuf_t b = {0};
        news_line(&b, nb->arrive, nb->narrive, "arrives", "arrive");
        news_line(&b, nb->leave, nb->nleave, "leaves", "leave");
        tell_frame(w, w->news[i], NULL, nb->news_since, &b);
        eng_sb_free(&b);
        free(nb);
        r->batch = NULL;
    }
    w->nnews = 0;
}

void
eng_check_goal(tale_player_t *p)
{
    tale_world_t *w = p->w;
    if (p->won || w->st->goal_kind == GOAL_NONE)
        return;
    int done = 0;
    if (w->st->goal_kind == GOAL_FLAG) {
        done = w->flags[w->st->goal_flag];
    } else {
        eng_place_t pl = w->items[w->st->goal_item].place;
        if (w->st->goal_at.kind == PLACE_PLAYER)
            done = pl.kind == PLACE_PLAYER;
        else
            done = pl.kind == w->st->goal_at.kind && pl.idx == w->st->goal_at.idx;
    }
    if (done) {
        p->won = 1;
        w->won = 1;
        eng_out_story(p, w->st->ending);
        eng_out_p(p, "<dim>You have finished the story in %ld turns. You may look around, or type</dim> quit<dim>.</dim>",
                  p->turns);
    }
}

/* -------------------------------------------------------------- players */

/*
 * Seats.  A player's slot is its index in w->players and part of the save
 * format ("player:3" places), so a join takes the lowest free slot, as it
 * always has.  The Fenwick tree of occupied slots finds that slot, and the
 * k-th player in slot order (who's pages), in O(log slots) rather than a
 * scan of every slot.
 */
static void
seat_mark(tale_world_t *w, size_t slot, int delta)
{
    for (size_t i = slot + 1; i <= w->nplayers_cap; i += i & (~i + 1))
        w->seat_tree[i] += delta;
}

/* The first slot (0-based) with `rank` (1-based) free slots up to it (want_free)
 * or occupied ones (!want_free); nplayers_cap when there is none. */
static size_t
seat_find(const tale_world_t *w, size_t rank, int want_free)
{
    size_t pos = 0, step = 1;
    while (step * 2 <= w->nplayers_cap)
        step *= 2;
    for (; step > 0; step /= 2) {
        if (pos + step > w->nplayers_cap)
            continue;
        /* node pos+step covers `step` slots: pos is a multiple of 2*step */
        size_t here = want_free ? step - (size_t)w->seat_tree[pos + step] : (size_t)w->seat_tree[pos + step];
        if (here < rank) {
            pos += step;
            rank -= here;
        }
    }
    return pos;
}

static size_t
seat_take(tale_world_t *w)
{
    size_t slot = w->nplayers < w->nplayers_cap ? seat_find(w, 1, 1) : w->nplayers_cap;
    if (slot == w->nplayers_cap) {
        size_t cap = w->nplayers_cap ? w->nplayers_cap * 2 : 4;
        tale_player_t **np = tale_xrealloc(w->players, cap * sizeof *np);
        memset(np + w->nplayers_cap, 0, (cap - w->nplayers_cap) * sizeof *np);
        w->players = np;
        w->nplayers_cap = cap;
        /* rebuilt at each doubling: O(1) a join, amortised */
        free(w->seat_tree);
        w->seat_tree = tale_xcalloc(cap + 1, sizeof(*w->seat_tree));
        for (size_t i = 0; i < cap; i++)
            if (w->players[i])
                seat_mark(w, i, 1);
    }
    seat_mark(w, slot, 1);
    w->nplayers++;
    return slot;
}

static void
seat_free(tale_world_t *w, size_t slot)
{
    w->players[slot] = NULL;
    seat_mark(w, slot, -1);
    w->nplayers--;
}

/* The last player left: the per-player indexes go, so a world that once held
 * a crowd of thousands does not keep their high-water mark (the next join
 * makes them again, small). */
static void
players_shrink(tale_world_t *w)
{
    if (w->nplayers != 0)
        return;
    free(w->players);
    free(w->seat_tree);
    free(w->names);
    free(w->scratch);
    w->players = NULL;
    w->seat_tree = NULL;
    w->names = NULL;
    w->scratch = NULL;
    w->nplayers_cap = w->names_cap = w->scratch_cap = 0;
}

tale_player_t *
eng_player_nth(const tale_world_t *w, size_t k)
{
    if (k >= w->nplayers)
        return NULL;
    return w->players[seat_find(w, k + 1, 0)];
}

/*
 * The name index: every player by name, so `tell <name>` finds an addressee
 * anywhere without a walk over the players.  It hashes the look-alike fold
 * (names.c), not just the lower case: names equal but for case share a
 * bucket, and so do look-alikes, so a chosen name (accounts, issue #15) is
 * checked against every present player in one bucket.
 */
static size_t
name_hash(const char *name)
{
    char fold[256];
    eng_name_fold(name, fold, sizeof fold);
    size_t h = 1469598103934665603u;
    for (const char *s = fold; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static void
name_link(tale_world_t *w, tale_player_t *p)
{
    size_t b = name_hash(p->name) & (w->names_cap - 1);
    p->name_next = w->names[b];
    w->names[b] = p;
}

static void
name_add(tale_world_t *w, tale_player_t *p)
{
    if (w->nplayers > w->names_cap) {
        /* doubles at one player a bucket; rehashing walks the slots once */
        free(w->names);
        w->names_cap = w->names_cap ? w->names_cap * 2 : 4;
        while (w->names_cap < w->nplayers)
            w->names_cap *= 2;
        w->names = tale_xcalloc(w->names_cap, sizeof(*w->names));
        for (size_t i = 0; i < w->nplayers_cap; i++)
            if (w->players[i] && w->players[i] != p)
                name_link(w, w->players[i]);
    }
    name_link(w, p);
}

static void
name_remove(tale_world_t *w, tale_player_t *p)
{
    tale_player_t **pp = &w->names[name_hash(p->name) & (w->names_cap - 1)];
    while (*pp && *pp != p)
        pp = &(*pp)->name_next;
    if (*pp)
        *pp = p->name_next;
}

tale_player_t *
eng_player_named(const tale_world_t *w, const char *name)
{
    if (w->names_cap == 0)
        return NULL;
    for (tale_player_t *o = w->names[name_hash(name) & (w->names_cap - 1)]; o; o = o->name_next)
        if (strcasecmp(o->name, name) == 0)
            return o;
    return NULL;
}

tale_player_t *
eng_player_lookalike(const tale_world_t *w, const char *name, const tale_player_t *except)
{
    if (w->names_cap == 0)
        return NULL;
    char fold[256], other[256];
    eng_name_fold(name, fold, sizeof fold);
    for (tale_player_t *o = w->names[name_hash(name) & (w->names_cap - 1)]; o; o = o->name_next) {
        if (o == except)
            continue;
        eng_name_fold(o->name, other, sizeof other);
        if (strcmp(fold, other) == 0)
            return o;
    }
    return NULL;
}

/* A seat, under `name` (NULL: the story player's name and the slot). */
static tale_player_t *
join(tale_world_t *w, const char *name, tale_emit_fn emit, void *ctx)
{
    tale_player_t *p = tale_xcalloc(1, sizeof *p);
    size_t slot = seat_take(w);
    p->w = w;
    p->emit = emit;
    p->ctx = ctx;
    p->slot = (int)slot;
    p->location = -1;
    p->visited = tale_xcalloc(w->st->nlocs, 1);
    p->met = tale_xcalloc(w->st->nnpcs ? w->st->nnpcs : 1, 1);
    p->it.kind = THING_NONE;
    if (name != NULL)
        snprintf(p->name, sizeof p->name, "%s", name);
    else if (slot == 0)
        snprintf(p->name, sizeof p->name, "%s", w->st->player_name);
    else
        snprintf(p->name, sizeof p->name, "%s %zu", w->st->player_name, slot + 1);
    p->named = name != NULL;
    w->players[slot] = p;
    name_add(w, p);
    eng_player_move(p, w->st->start);
    /* a world save's players are seats; a named character's state is the
     * accounts store's (tale_player_state_restore) */
    if (name == NULL)
        eng_player_apply_pending(p);

    if (w->st->welcome)
        eng_out_story(p, w->st->welcome);
    if (w->st->motd)
        eng_out_story(p, w->st->motd);
    p->visited[p->location] = 1;
    eng_describe_location(p, 1);
    eng_meet_npcs(p);
    eng_player_flush(p);
    eng_room_news(p, 1, "%s appears.");
    return p;
}

tale_player_t *
tale_player_join(tale_world_t *w, tale_emit_fn emit, void *ctx)
{
    return join(w, NULL, emit, ctx);
}

tale_player_t *
tale_player_join_as(tale_world_t *w, const char *name, tale_emit_fn emit, void *ctx, const char **why)
{
    if (eng_name_check(w, name, NULL, why) < 0)
        return NULL;
    return join(w, name, emit, ctx);
}

const char *
tale_player_name(const tale_player_t *p)
{
    return p != NULL ? p->name : "";
}

int
tale_player_rename(tale_player_t *p, const char *name, const char **why)
{
    tale_world_t *w = p->w;
    if (eng_name_check(w, name, p, why) < 0)
        return -1;
    char old[sizeof p->name];
    snprintf(old, sizeof old, "%s", p->name);
    name_remove(w, p);
    snprintf(p->name, sizeof p->name, "%s", name);
    name_link(w, p);
    p->named = 1;
    if (strcmp(old, p->name) != 0)
        eng_tell_room(w, p->location, p, "%s is now known as %s.", old, p->name);
    return 0;
}

void
tale_player_set_guest(tale_player_t *p, int guest)
{
    p->guest = guest != 0;
}

void
tale_player_leave(tale_player_t *p)
{
    tale_player_depart(p, TALE_DEPART_QUIT);
}

void
tale_player_depart(tale_player_t *p, int how)
{
    if (p)
        player_free(p, how == TALE_DEPART_FADE ? 2 : 1);
}

void
tale_world_set_broadcast(tale_world_t *w, tale_broadcast_fn fn, void *bctx)
{
    w->broadcast = fn;
    w->broadcast_ctx = bctx;
}

void
eng_broadcast(tale_world_t *w, tale_player_t *const *to, size_t n, json_t *frame)
{
    if (w->broadcast != NULL) {
        void **ctxs = tale_xmalloc((n ? n : 1) * sizeof(*ctxs));
        for (size_t i = 0; i < n; i++)
            ctxs[i] = to[i]->ctx;
        w->broadcast(w->broadcast_ctx, (void *const *)ctxs, n, frame);
        free(ctxs);
        return;
    }
    for (size_t i = 0; i < n; i++)
        to[i]->emit(to[i]->ctx, json_deep_copy(frame));
    json_decref(frame);
}

static void
player_free(tale_player_t *p, int announce)
{
    tale_world_t *w = p->w;
    /* What a guest carried stays in the world, where they stood.  What an
     * account's character carried goes back where the story first put it:
     * a world has one of each item, and the lantern or the key that others
     * need to finish the story must not leave with someone who may never
     * come back.  The character's saved state still names it, and
     * tale_player_state_restore takes it back unless a present player holds
     * it by then.  (What the story gives every player goes down where they
     * stood.) */
    int home = p->named && !p->guest;
    for (size_t i = 0; i < w->st->nitems; i++)
        if (eng_item_held_by(w, (int)i, p->slot)) {
            eng_place_t start = w->st->items[i].init.place;
            if (home && start.kind != PLACE_PLAYER)
                w->items[i].place = start;
            else
                w->items[i].place = (eng_place_t){PLACE_LOC, p->location};
            w->items[i].worn = w->items[i].wielded = 0;
        }
    if (announce)
        eng_room_news(p, 0, announce == 2 ? "%s fades away." : "%s leaves the game.");
    eng_player_move(p, -1);
    name_remove(w, p);
    seat_free(w, (size_t)p->slot);
    free(p->visited);
    free(p->met);
    free(p->pending_before);
    free(p->pending_after);
    free(p->last_line);
    eng_sb_free(&p->out);
    json_decref(p->special);
    free(p);
    players_shrink(w);
}

int
tale_player_command(tale_player_t *p, const char *line, size_t len)
{
    char *buf = tale_xmalloc(len + 1);
    memcpy(buf, line, len);
    buf[len] = 0;
    int rc = eng_parser_run(p, buf);
    free(buf);
    return rc;
}

json_t *
tale_player_complete(tale_player_t *p, const char *prefix, size_t len)
{
    char *buf = tale_xstrndup(prefix, len);
    json_t *r = eng_parser_complete(p, buf);
    free(buf);
    return r;
}

void
tale_player_suggest(tale_player_t *p, const char *prefix, size_t len)
{
    json_t *list = tale_player_complete(p, prefix, len);
    size_t i;
    json_t *v;
    if (json_array_size(list) == 0) {
        eng_out_p(p, "No matching commands.");
    } else {
        eng_sbuf_t b = {0};
        eng_out_p(p, "Suggestions:");
        eng_sb_adds(&b, "<p class='txt-monospaced'>");
        json_array_foreach(list, i, v)
        {
            if (i > 0)
                eng_sb_adds(&b, " &nbsp; ");
            eng_sb_escape(&b, json_string_value(v), json_string_length(v));
        }
        eng_sb_adds(&b, "</p>\n");
        eng_out_raw(p, b.s);
        eng_sb_free(&b);
    }
    eng_player_flush_with(p, "completions", list);
}

/* The host's notice, as the engine's own paragraph: escaped, with the
 * location snapshot every text frame carries. */
void
tale_player_notice(tale_player_t *p, const char *text)
{
    eng_out_p(p, "%s", text);
    eng_player_flush(p);
}

void
tale_player_prompt(tale_player_t *p, const char *text, int noecho)
{
    eng_out_p(p, "%s", text);
    if (noecho)
        eng_out_special(p, "noecho");
    eng_player_flush(p);
}

json_t *
tale_prompt_frame(const char *text, int noecho)
{
    eng_sbuf_t b = {0};
    eng_sb_p(&b, "%s", text);
    json_t *f = eng_news_frame(b.s, b.len);
    eng_sb_free(&b);
    if (noecho)
        json_array_append_new(json_object_get(f, "special"), json_string("noecho"));
    return f;
}

/* ------------------------------------------------------------------ tick */

static const char *
npc_move_word(const tale_world_t *w, int from, int to)
{
    const eng_location_t *l = &w->st->locs[from];
    for (size_t e = 0; e < l->nexits; e++)
        if (l->exits[e].target == to)
            return eng_dir_names[l->exits[e].dir];
    return NULL;
}

/* A dark room is lit for everyone in it or no one (light_here ignores who asks). */
static int
room_lit(const tale_world_t *w, int loc)
{
    return !w->st->locs[loc].dark || light_here(w, loc, -1);
}

/*
 * The tick touches the NPCs and the rooms with news, never every player.
 * An NPC's comings and goings are one frame for the room; then, in an
 * uncrowded room, it greets each player there who has not met it, in their
 * own frame; in a crowd each player meets it at their next look or move.
 */
void
tale_world_tick(tale_world_t *w)
{
    w->ticks++;
    w->clock += w->st->per_tick;
    flush_news(w);
    for (size_t i = 0; i < w->st->nnpcs; i++) {
        const eng_npc_t *n = &w->st->npcs[i];
        eng_npc_state_t *ns = &w->npcs[i];
        if (n->wander_every && n->nroute && w->ticks % n->wander_every == 0) {
            ns->route_pos = (ns->route_pos + 1) % n->nroute;
            int to = n->route[ns->route_pos], from = ns->location;
            if (to != from) {
                const char *dir = npc_move_word(w, from, to);
                ns->location = to;
                if (dir)
                    eng_tell_room(w, from, NULL, "%s goes %s.", n->name, dir);
                else
                    eng_tell_room(w, from, NULL, "%s leaves.", n->name);
                eng_tell_room(w, to, NULL, "%s arrives.", n->name);
                if (w->rooms[to].n <= ENG_CROWD)
                    for (tale_player_t *o = w->rooms[to].head; o; o = o->room_next) {
                        eng_meet_npcs(o);
                        if (o->out.len > 0)
                            eng_player_flush(o);
                    }
            }
        }
        if (n->emote_every && n->nemotes && w->ticks % n->emote_every == 0) {
            const char *line = n->emotes[ns->emote_pos];
            ns->emote_pos = (ns->emote_pos + 1) % n->nemotes;
            if (w->rooms[ns->location].n > 0 && room_lit(w, ns->location))
                eng_tell_room(w, ns->location, NULL, "%s %S", n->name, line);
        }
    }
}

void
tale_world_set_now(tale_world_t *w, uint64_t ms)
{
    w->now_ms = ms;
    w->now_set = 1;
}

uint64_t
eng_now_ms(const tale_world_t *w)
{
    if (w->now_set)
        return w->now_ms;
    /* a host that never sets the time (tools, tests) still gets working limits */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
