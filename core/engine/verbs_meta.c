/*
 * verbs_meta.c - the game itself: again, wait, who, help, motd, license, time, brief, map, save, load, quit, @cls, @teststyles.
 * Each file owns its rows of the verb table (verbs.c lists the families).
 */
#include "verbs.h"

#include <stdlib.h>
#include <string.h>

static int
cmd_again(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    /* handled in the parser, which knows the previous line; this only runs
     * when there is none */
    eng_out_p(p, "There is nothing to repeat yet.");
    return DONE_NOTIME;
}

static int
cmd_wait(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    eng_out_p(p, "Time passes.");
    return DONE_TIME;
}

/*
 * who: a count, then who is here with you (the latest WHO_HERE arrivals), and
 * `who <page>` for the whole world WHO_PAGE players a page in slot order
 * (stable while nobody joins or leaves).  Neither grows with the world.
 */
#define WHO_HERE 20
#define WHO_PAGE 50

static void
who_line(tale_player_t *p, const tale_player_t *o)
{
    /* a guest is marked: a host with accounts says who has no account (tale_player_set_guest) */
    const char *guest = o->guest ? "guest, " : "";
    if (o == p)
        eng_out_p(p, "%s <dim>(%syou)</dim>", o->name, guest);
    else
        eng_out_p(p, "%s <dim>(%s%s)</dim>", o->name, guest, p->w->st->locs[o->location].title);
}

static int
cmd_who(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    size_t pages = (w->nplayers + WHO_PAGE - 1) / WHO_PAGE;
    if (*args) {
        char *end;
        long page = strtol(args, &end, 10);
        if (*end || page < 1) {
            eng_out_p(p, "who, or who <it>page</it> <dim>(a number from 1 to %ld)</dim>.", (long)pages);
            return DONE_NOTIME;
        }
        if ((size_t)page > pages) {
            eng_out_p(p, "There %s only %ld %s of players.", pages == 1 ? "is" : "are", (long)pages, pages == 1 ? "page" : "pages");
            return DONE_NOTIME;
        }
        eng_out_p(p, "Players, page %ld of %ld:", page, (long)pages);
        for (size_t k = (size_t)(page - 1) * WHO_PAGE; k < (size_t)page * WHO_PAGE && k < w->nplayers; k++)
            who_line(p, eng_player_nth(w, k));
        if ((size_t)page < pages)
            eng_out_p(p, "<dim>More:</dim> who %ld", page + 1);
        return DONE_NOTIME;
    }
    eng_out_p(p, w->nplayers == 1 ? "%ld player is in the game." : "%ld players are in the game.", (long)w->nplayers);
    if (w->nplayers <= WHO_HERE) {
        /* a small world is listed whole, where everyone is */
        for (size_t k = 0; k < w->nplayers; k++)
            who_line(p, eng_player_nth(w, k));
        return DONE_NOTIME;
    }
    const eng_room_t *r = &w->rooms[p->location];
    size_t players_here = r->n - 1, shown = 0;
    if (players_here > 0) {
        eng_out_p(p, "Here with you:");
        for (const tale_player_t *o = r->tail; o && shown < WHO_HERE; o = o->room_prev)
            if (o != p) {
                who_line(p, o);
                shown++;
            }
        if (players_here > shown)
            eng_out_p(p, "<dim>... and %ld more here.</dim>", (long)(players_here - shown));
    }
    eng_out_p(p, "<dim>Everyone, %d a page:</dim> who 1", WHO_PAGE);
    return DONE_NOTIME;
}

static int
cmd_help(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    if (*args) {
        const eng_verb_t *h = eng_find_verb(args);
        if (!h && eng_dir_parse(args) >= 0)
            h = eng_find_verb("go");
        if (!h) {
            eng_out_p(p, "There is no command '%s'. <dim>Type</dim> help <dim>for the list.</dim>", args);
            return DONE_NOTIME;
        }
        eng_out_p(p, "<bright>%s</bright>", h->syntax);
        eng_out_p(p, "%s", h->help);
        eng_sbuf_t b = {0};
        for (int i = 0; h->aliases[i]; i++) {
            if (i)
                eng_sb_adds(&b, ", ");
            eng_sb_adds(&b, h->aliases[i]);
        }
        if (b.len)
            eng_out_p(p, "<dim>Also:</dim> %s", b.s);
        eng_sb_free(&b);
        return DONE_NOTIME;
    }
    eng_sbuf_t b = {0};
    const char *names[256];
    size_t n = eng_verb_names(names, 256);
    for (size_t i = 0; i < n; i++) {
        if (i)
            eng_sb_adds(&b, ", ");
        eng_sb_adds(&b, names[i]);
    }
    eng_out_p(p, "<bright>Commands:</bright> %s", b.s);
    eng_out_p(p, "Directions: north south east west northeast northwest southeast southwest up down in out "
                 "<dim>(or n s e w ne nw se sw u d)</dim>. <dim>Type</dim> help <it>command</it> <dim>for more.</dim>");
    eng_sb_free(&b);
    return DONE_NOTIME;
}

static int
cmd_motd(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    if (p->w->st->motd)
        eng_out_story(p, p->w->st->motd);
    else
        eng_out_p(p, "There is no message of the day.");
    return DONE_NOTIME;
}

static int
cmd_license(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    eng_out_p(p, "<bright>%s</bright> %s by %s", w->st->meta.name, w->st->meta.version, w->st->meta.author);
    if (w->st->license)
        eng_out_story(p, w->st->license);
    else
        eng_out_p(p, "The story has no license text.");
    return DONE_NOTIME;
}

static int
cmd_time(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    long c = eng_clock_now(p->w);
    char hm[16];
    snprintf(hm, sizeof hm, "%02ld:%02ld", (c % 1440) / 60, c % 60);
    eng_out_p(p, "It is %s on day %ld. <dim>Turns taken: %ld.</dim>", hm, c / 1440 + 1, p->turns);
    return DONE_NOTIME;
}

static int
cmd_brief(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    if (strcmp(args, "off") == 0)
        p->brief = 0;
    else if (strcmp(args, "on") == 0 || !*args)
        p->brief = !*args ? !p->brief : 1;
    else {
        eng_out_p(p, "brief on, brief off, or brief to switch.");
        return DONE_NOTIME;
    }
    eng_out_p(p, p->brief ? "Brief mode is on: places you have seen are shown by name only (look shows all)."
                          : "Brief mode is off: every place is described in full.");
    return DONE_NOTIME;
}

static int
cmd_map(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    json_t *f = eng_map_frame(p);
    int n = 0;
    for (size_t i = 0; i < p->w->st->nlocs; i++)
        n += p->visited[i];
    p->emit(p->ctx, f);
    eng_out_p(p, "You sketch a map of the %d %s you have visited.", n, n == 1 ? "place" : "places");
    return DONE_NOTIME;
}

/* Saving and restoring a shared (MUD) world is nobody's to do: one player's
 * save would overwrite everyone's, and a load would move everyone.  Saves per
 * character arrive with player accounts (issue #15).  Nor is it possible in a
 * world without a save folder.  1 (and the player told why) when refused. */
static int
refuse_saves(tale_player_t *p)
{
    if (p->w->shared) {
        eng_out_p(p, "Saving and restoring are not available here: this world is shared by every player. "
                     "(Saves of your own character will come with player accounts.)");
        return 1;
    }
    if (!p->w->save_dir) {
        eng_out_p(p, "Saving is not available in this game.");
        return 1;
    }
    return 0;
}

/* save: with the host's writer, serialise here and let the writer put the
 * bytes on disk off the loop ("Game saved." follows when they are); without
 * one (engine tests, tools), write at once. */
static int
cmd_save(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    char err[512];
    if (refuse_saves(p))
        return DONE_NOTIME;
    uint64_t ticket = 0;
    int rc = tale_world_checkpoint(p->w, &ticket, err, sizeof err);
    if (rc < 0)
        eng_out_p(p, "Saving failed: %s", err);
    else if (rc == 0)
        eng_out_p(p, "Game saved.");
    else
        p->save_wait = ticket; /* told by tale_world_save_done */
    return DONE_NOTIME;
}

static int
cmd_load(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    char err[512];
    if (refuse_saves(p))
        return DONE_NOTIME;
    /* a restore moves everyone: only a player alone in the world may do it */
    if (p->w->nplayers > 1) {
        eng_out_p(p, "You can't restore a game while other players are in the world.");
        return DONE_NOTIME;
    }
    if (tale_world_restore(p->w, NULL, err, sizeof err) < 0) {
        eng_out_p(p, "Could not restore: %s", err);
        return DONE_NOTIME;
    }
    eng_out_p(p, "Game restored.");
    eng_describe_location(p, 1);
    return DONE_NOTIME;
}

static int
cmd_quit(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    eng_out_p(p, "Goodbye, %s. Thanks for playing.", p->name);
    return DONE_QUIT;
}

static int
cmd_cls(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    eng_out_special(p, "clear");
    /* the echoed command is pointless on a screen about to be cleared */
    p->out.len = 0;
    if (p->out.s)
        p->out.s[0] = 0;
    return DONE_NOTIME;
}

static int
cmd_teststyles(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    eng_out_p(p, "Text styles:");
    eng_out_p(p, "<location>location</location> <bright>bright</bright> <dim>dim</dim> <ul>underlined</ul> <it>italic</it> "
                 "<rev>reverse</rev> <monospaced>monospaced</monospaced>");
    eng_out_p(p, "Escaped: %s", "<b>not bold</b> & <script>alert(1)</script>");
    eng_out_speech(p, "Someone", "says", "This is how speech looks.", 0);
    eng_out_raw(p, "<pre>preformatted\n  text</pre>\n");
    return DONE_NOTIME;
}

const eng_verb_t eng_verbs_meta[] = {
    {.name = "wait", .aliases = {"z", NULL}, .fn = cmd_wait, .syntax = "wait", .help = "Lets time pass."},
    {.name = "again", .aliases = {"g", NULL}, .fn = cmd_again, .syntax = "again", .help = "Repeats your last command."},
    {.name = "who",
     .fn = cmd_who,
     .syntax = "who [page]",
     .help = "Counts the players in this world and lists those here; who 1, who 2, ... list everyone."},
    {.name = "help",
     .aliases = {"?", "commands", NULL},
     .fn = cmd_help,
     .syntax = "help [command]",
     .help = "Lists the commands, or explains one."},
    {.name = "motd", .fn = cmd_motd, .syntax = "motd", .help = "Shows the message of the day."},
    {.name = "license",
     .aliases = {"licence", "credits", NULL},
     .fn = cmd_license,
     .syntax = "license",
     .help = "Shows the story's author and license."},
    {.name = "time",
     .aliases = {"clock", NULL},
     .fn = cmd_time,
     .syntax = "time",
     .help = "Shows the game time and your turn count."},
    {.name = "brief",
     .aliases = {"verbose", NULL},
     .fn = cmd_brief,
     .syntax = "brief [on|off]",
     .help = "Short descriptions of places you have already seen."},
    {.name = "map", .fn = cmd_map, .syntax = "map", .help = "Draws a map of the places you have visited."},
    {.name = "save", .fn = cmd_save, .syntax = "save", .help = "Saves the game."},
    {.name = "load", .aliases = {"restore", NULL}, .fn = cmd_load, .syntax = "load", .help = "Restores the saved game."},
    {.name = "quit", .aliases = {"q", NULL}, .fn = cmd_quit, .syntax = "quit", .help = "Ends the game."},
    {.name = "@cls", .fn = cmd_cls, .syntax = "@cls", .help = "Clears the screen."},
    {.name = "@teststyles", .fn = cmd_teststyles, .syntax = "@teststyles", .help = "Shows every text style."},
    {0},
};
