/*
 * world.c - the world's life: loading, players joining and leaving, the
 * server tick, and the questions every command asks (what can the player see,
 * what is in reach, has the story been won).
 */
#include "world.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
    free(w->items);
    free(w->npcs);
    free(w->doors);
    free(w->flags);
    json_decref(w->pending_players);
    eng_story_html_free(w);
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

/* Where an item ultimately is, following containers (closed or not). */
static eng_place_t
outer_place(const tale_world_t *w, int item, int *through_closed)
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
        eng_place_t pl = outer_place(w, (int)i, &closed);
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
    eng_place_t pl = outer_place(w, item, &closed);
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
     * titles in brackets: a title may itself hold commas. */
    size_t total = 0;
    for (size_t i = 0; i < w->st->nnpcs; i++)
        total += w->npcs[i].location == p->location;
    for (size_t i = 0; i < w->nplayers_cap; i++)
        total += w->players[i] && w->players[i] != p && w->players[i]->location == p->location;
    b.len = 0;
    n = 0;
    for (size_t i = 0; i < w->st->nnpcs + w->nplayers_cap; i++) {
        const char *name, *title = NULL;
        if (i < w->st->nnpcs) {
            if (w->npcs[i].location != p->location)
                continue;
            name = w->st->npcs[i].name;
            title = w->st->npcs[i].title;
        } else {
            tale_player_t *o = w->players[i - w->st->nnpcs];
            if (o == NULL || o == p || o->location != p->location)
                continue;
            name = o->name;
        }
        if (n > 0)
            eng_sb_adds(&b, (size_t)n + 1 == total ? " and " : ", ");
        n++;
        eng_sb_adds(&b, name);
        if (title != NULL) {
            eng_sb_adds(&b, " (");
            eng_sb_adds(&b, title);
            eng_sb_adds(&b, ")");
        }
    }
    if (n) {
        eng_out_p(p, "%s %s here.", b.s, n > 1 ? "are" : "is");
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

static void
tell_v(tale_world_t *w, int loc, const tale_player_t *except, const char *fmt, va_list ap)
{
    for (size_t i = 0; i < w->nplayers_cap; i++) {
        tale_player_t *o = w->players[i];
        if (!o || o == except || (loc >= 0 && o->location != loc))
            continue;
        va_list aq;
        va_copy(aq, ap);
        eng_out_vp(o, fmt, aq);
        va_end(aq);
        eng_player_flush(o);
    }
}

void
eng_tell_room(tale_world_t *w, int loc, const tale_player_t *except, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tell_v(w, loc, except, fmt, ap);
    va_end(ap);
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

tale_player_t *
tale_player_join(tale_world_t *w, tale_emit_fn emit, void *ctx)
{
    tale_player_t *p = tale_xcalloc(1, sizeof *p);
    size_t slot = 0;
    while (slot < w->nplayers_cap && w->players[slot])
        slot++;
    if (slot == w->nplayers_cap) {
        size_t cap = w->nplayers_cap ? w->nplayers_cap * 2 : 4;
        tale_player_t **np = tale_xrealloc(w->players, cap * sizeof *np);
        memset(np + w->nplayers_cap, 0, (cap - w->nplayers_cap) * sizeof *np);
        w->players = np;
        w->nplayers_cap = cap;
    }
    p->w = w;
    p->emit = emit;
    p->ctx = ctx;
    p->slot = (int)slot;
    p->location = w->st->start;
    p->visited = tale_xcalloc(w->st->nlocs, 1);
    p->met = tale_xcalloc(w->st->nnpcs ? w->st->nnpcs : 1, 1);
    p->it.kind = THING_NONE;
    if (slot == 0)
        snprintf(p->name, sizeof p->name, "%s", w->st->player_name);
    else
        snprintf(p->name, sizeof p->name, "%s %zu", w->st->player_name, slot + 1);
    w->players[slot] = p;
    eng_player_apply_pending(p);

    if (w->st->welcome)
        eng_out_story(p, w->st->welcome);
    if (w->st->motd)
        eng_out_story(p, w->st->motd);
    p->visited[p->location] = 1;
    eng_describe_location(p, 1);
    eng_meet_npcs(p);
    eng_player_flush(p);
    eng_tell_room(w, p->location, p, "%s appears.", p->name);
    return p;
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
    /* what the player carried stays in the world, where they stood */
    for (size_t i = 0; i < w->st->nitems; i++)
        if (eng_item_held_by(w, (int)i, p->slot)) {
            w->items[i].place.kind = PLACE_LOC;
            w->items[i].place.idx = p->location;
            w->items[i].worn = w->items[i].wielded = 0;
        }
    w->players[p->slot] = NULL;
    if (announce)
        eng_tell_room(w, p->location, p, announce == 2 ? "%s fades away." : "%s leaves the game.", p->name);
    free(p->visited);
    free(p->met);
    free(p->pending_before);
    free(p->pending_after);
    free(p->last_line);
    eng_sb_free(&p->out);
    json_decref(p->special);
    free(p);
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

void
tale_world_tick(tale_world_t *w)
{
    w->ticks++;
    w->clock += w->st->per_tick;
    for (size_t i = 0; i < w->st->nnpcs; i++) {
        const eng_npc_t *n = &w->st->npcs[i];
        eng_npc_state_t *ns = &w->npcs[i];
        if (n->wander_every && n->nroute && w->ticks % n->wander_every == 0) {
            ns->route_pos = (ns->route_pos + 1) % n->nroute;
            int to = n->route[ns->route_pos], from = ns->location;
            if (to != from) {
                const char *dir = npc_move_word(w, from, to);
                ns->location = to; /* first, so the frames' snapshots show it gone */
                if (dir)
                    eng_tell_room(w, from, NULL, "%s goes %s.", n->name, dir);
                else
                    eng_tell_room(w, from, NULL, "%s leaves.", n->name);
                for (size_t k = 0; k < w->nplayers_cap; k++) {
                    tale_player_t *o = w->players[k];
                    if (!o || o->location != to)
                        continue;
                    eng_out_p(o, "%s arrives.", n->name);
                    eng_meet_npcs(o);
                    eng_player_flush(o);
                }
            }
        }
        if (n->emote_every && n->nemotes && w->ticks % n->emote_every == 0) {
            const char *line = n->emotes[ns->emote_pos];
            ns->emote_pos = (ns->emote_pos + 1) % n->nemotes;
            for (size_t k = 0; k < w->nplayers_cap; k++) {
                tale_player_t *o = w->players[k];
                if (!o || o->location != ns->location || !eng_player_can_see(o))
                    continue;
                eng_out_p(o, "%s %S", n->name, line);
                eng_player_flush(o);
            }
        }
    }
}
