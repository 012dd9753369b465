/*
 * verbs_talk.c - talking: say, tell, ask, talk, emote, yell; NPC answers are reactions.c's.
 * Each file owns its rows of the verb table (verbs.c lists the families).
 */
#include "verbs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A player's words to a room (loc -1: the world): one frame for all who hear. */
static void
speech_room(tale_world_t *w, int loc, const tale_player_t *except, const char *who, const char *verb, const char *text)
{
    eng_sbuf_t b = {0};
    eng_sb_speech(&b, who, verb, text);
    eng_tell_html(w, loc, except, b.s);
    eng_sb_free(&b);
}

/*
 * Yelling reaches every player, so it is rationed (docs/PROTOCOL.md, "Crowds"),
 * game-design numbers: one yell per player every YELL_COOLDOWN_MS, and the whole
 * world YELL_RATE yells a second with bursts of YELL_BURST.  The budget is a
 * token bucket counted in milliseconds of refill: a yell costs 1000 / YELL_RATE.
 */
#define YELL_COOLDOWN_MS 5000u
#define YELL_RATE 5u
#define YELL_BURST 5u
#define YELL_COST_MS (1000u / YELL_RATE)

/* 1 and the budget spent when p may yell now; else 0, nothing spent. */
static int
yell_allowed(tale_player_t *p)
{
    tale_world_t *w = p->w;
    uint64_t now = eng_now_ms(w);
    if (now < p->yell_ok_at)
        return 0;
    if (!w->yell_primed) {
        w->yell_primed = 1;
        w->yell_credit_ms = YELL_BURST * YELL_COST_MS;
        w->yell_refill_at = now;
    }
    if (now > w->yell_refill_at) {
        w->yell_credit_ms += now - w->yell_refill_at;
        if (w->yell_credit_ms > YELL_BURST * YELL_COST_MS)
            w->yell_credit_ms = YELL_BURST * YELL_COST_MS;
        w->yell_refill_at = now;
    }
    if (w->yell_credit_ms < YELL_COST_MS)
        return 0;
    w->yell_credit_ms -= YELL_COST_MS;
    p->yell_ok_at = now + YELL_COOLDOWN_MS;
    return 1;
}

/*
 * Tells go to one player, so they need no world budget, but a player sending
 * them is held to TELL_BURST within TELL_WINDOW_MS (game-design numbers: a
 * conversation, not a flood).
 */
#define TELL_WINDOW_MS 3000u
#define TELL_BURST 8u

static int
tell_allowed(tale_player_t *p)
{
    uint64_t now = eng_now_ms(p->w);
    if (now >= p->tell_ok_at) {
        p->tell_ok_at = now + TELL_WINDOW_MS;
        p->tell_burst = 0;
    }
    if (p->tell_burst >= TELL_BURST)
        return 0;
    p->tell_burst++;
    return 1;
}

/* Does the phrase name p itself (its whole name, any case)? */
static int
names_self(const tale_player_t *p, const char *phrase)
{
    return strcmp(phrase, "me") == 0 || strcmp(phrase, "myself") == 0 || strcmp(phrase, "self") == 0 ||
           strcasecmp(phrase, p->name) == 0;
}

/* Quietly: does phrase name exactly one NPC here or player (anywhere if any)? */
static int
quiet_who(tale_player_t *p, const char *phrase, int anyplayer, eng_thing_t *out)
{
    /* eng_resolve() prints; keep its words out of the output when this is only a probe */
    size_t mark = p->out.len;
    int pend = p->pending;
    int r = eng_resolve(p, phrase, SC_NPC | (anyplayer ? SC_ANYPLAYER : SC_PLAYER), out);
    p->out.len = mark;
    if (p->out.s)
        p->out.s[mark] = 0;
    if (r == RES_ASKED)
        p->pending = pend;
    return r == RES_OK;
}

static int
cmd_say(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    const char *raw = eng_raw_after_words(p, 1);
    if (!*raw) {
        eng_out_p(p, "Say what?");
        return DONE_NOTIME;
    }
    /* "say hello to maren": the last " to X" that names someone here */
    char text[1200];
    snprintf(text, sizeof text, "%s", raw);
    eng_thing_t who = {THING_NONE, 0, 0};
    for (char *s = text + strlen(text); s > text; s--) {
        if (strncasecmp(s, " to ", 4) == 0 && quiet_who(p, s + 4, 0, &who)) {
            *s = 0;
            break;
        }
    }
    eng_out_speech(p, "You", "say", text, 0);
    speech_room(w, p->location, p, p->name, "says", text);
    if (who.kind == THING_NPC)
        eng_npc_answer(p, who.idx, text);
    return DONE_TIME;
}

static int
cmd_tell(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    /* the addressee is the first one to three words that name someone */
    char words[512];
    snprintf(words, sizeof words, "%s", args);
    eng_thing_t who;
    int nw = 0, self = names_self(p, args);
    char *cut = NULL;
    /* a whole name and nothing to say */
    const tale_player_t *whole = self ? NULL : eng_player_named(w, args);
    if (whole != NULL) {
        eng_out_p(p, "Tell %s what?", whole->name);
        return DONE_NOTIME;
    }
    /* longest first: "tell tester 2 psst" is for Tester 2, not Tester; and
     * one's own whole name is oneself, not another whose name holds it */
    for (int k = 3; k >= 1 && !nw && !self; k--) {
        char *s = words;
        for (int i = 0; i < k && s; i++)
            s = strchr(s + (i ? 1 : 0), ' ');
        if (!s && k > 1)
            continue; /* fewer than k+1 words: no text would be left */
        if (s)
            *s = 0;
        self = names_self(p, words);
        int ok = !self && quiet_who(p, words, 1, &who);
        if (s)
            *s = ' ';
        if (ok) {
            nw = k;
            cut = s;
        }
    }
    if (!nw) {
        if (!*args) {
            eng_out_p(p, "Tell whom? <dim>For example:</dim> tell maren hello");
        } else if (self) {
            eng_out_p(p, "You can't tell yourself anything. <dim>To speak aloud:</dim> say <it>text</it>");
        } else {
            char first[64];
            size_t fl = strcspn(args, " ");
            snprintf(first, sizeof first, "%.*s", (int)(fl < 63 ? fl : 63), eng_raw_after_words(p, 1));
            eng_out_p(p, "Tell whom? There is no player called %s in the game, and no one of that name here.", first);
        }
        return DONE_NOTIME;
    }
    const char *text = eng_raw_after_words(p, 1 + nw);
    if (!*text || !cut) {
        eng_out_p(p, "Tell %s what?", eng_thing_name(p, who));
        return DONE_NOTIME;
    }
    if (who.kind == THING_NPC) {
        eng_out_speech(p, "You", "say", text, 0);
        const char *rest;
        eng_npc_answer(p, who.idx, eng_starts_word(cut + 1, "about", &rest) ? eng_raw_after_words(p, 2 + nw) : text);
        return DONE_TIME;
    }
    if (!tell_allowed(p)) {
        eng_out_p(p, "You are sending messages too fast; wait a moment.");
        return DONE_NOTIME;
    }
    tale_player_t *o = w->players[who.idx];
    char who_to[96];
    snprintf(who_to, sizeof who_to, "You tell %s", o->name);
    eng_out_speech(p, who_to, "", text, 0);
    eng_out_speech(o, p->name, "tells you", text, 0);
    eng_player_flush(o);
    return DONE_NOTIME;
}

static int
cmd_ask(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    static const char *const about[] = {"about", "for", NULL};
    char left[512], right[512] = "";
    if (!eng_need_args(p, args, "Ask whom? <dim>For example:</dim> ask the keeper about the lamp"))
        return DONE_NOTIME;
    if (!eng_split2(args, about, left, right, sizeof left))
        snprintf(left, sizeof left, "%s", args);
    eng_thing_t who;
    if (eng_resolve(p, left, SC_NPC | SC_PLAYER | SC_ITEMS | SC_SELF | SC_DOOR, &who))
        return DONE_NOTIME;
    if (who.kind == THING_PLAYER) {
        eng_out_p(p, "Ask %s yourself: <dim>tell %s …</dim>", eng_thing_name(p, who), eng_thing_name(p, who));
        return DONE_NOTIME;
    }
    if (who.kind != THING_NPC) {
        eng_out_p(p, "%s can't answer questions.", who.kind == THING_SELF ? "You" : eng_thing_name(p, who));
        return DONE_NOTIME;
    }
    const eng_npc_t *n = &p->w->st->npcs[who.idx];
    if (!*right) {
        if (n->greeting)
            eng_npc_say(p, who.idx, n->greeting);
        else
            eng_out_p(p, "%s looks at you, waiting for a question. <dim>ask %s about …</dim>", n->name, n->name);
        return DONE_TIME;
    }
    eng_npc_answer(p, who.idx, right);
    return DONE_TIME;
}

static int
cmd_talk(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *rest;
    if (eng_starts_word(args, "to", &rest) || eng_starts_word(args, "with", &rest))
        args = rest;
    if (!eng_need_args(p, args, "Talk to whom?"))
        return DONE_NOTIME;
    /* "talk to maren" is "ask maren"; "talk to maren about x" is "ask maren about x" */
    return cmd_ask(p, v, args);
}

static int
cmd_emote(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *raw = eng_raw_after_words(p, 1);
    if (!*raw) {
        eng_out_p(p, "Emote what? <dim>For example:</dim> emote waves");
        return DONE_NOTIME;
    }
    eng_out_p(p, "%s %s", p->name, raw);
    eng_tell_room(p->w, p->location, p, "%s %s", p->name, raw);
    return DONE_TIME;
}

static int
cmd_yell(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *raw = eng_raw_after_words(p, 1);
    if (!*raw) {
        eng_out_p(p, "You yell wordlessly. Nobody seems impressed.");
        return DONE_TIME;
    }
    if (!yell_allowed(p)) {
        eng_out_p(p, "The din drowns out your voice; try again in a moment.");
        return DONE_NOTIME;
    }
    eng_out_speech(p, "You", "yell", raw, 0);
    speech_room(p->w, -1, p, p->name, "yells", raw);
    return DONE_TIME;
}

const eng_verb_t eng_verbs_talk[] = {
    {.name = "say",
     .aliases = {"'", NULL},
     .fn = cmd_say,
     .syntax = "say <text> [to <someone>]",
     .help = "Says something aloud; everyone here hears it."},
    {.name = "tell",
     .aliases = {"whisper", NULL},
     .fn = cmd_tell,
     .scope = SC_NPC | SC_PLAYER,
     .syntax = "tell <someone> <text>",
     .help = "Says something to one person (another player anywhere, or someone here)."},
    {.name = "ask",
     .aliases = {"question", NULL},
     .fn = cmd_ask,
     .scope = SC_NPC,
     .syntax = "ask <someone> about <subject>",
     .help = "Asks someone here about something."},
    {.name = "emote",
     .aliases = {"me", ":", NULL},
     .fn = cmd_emote,
     .syntax = "emote <action>, or :<action>",
     .help = "Shows an action to everyone here: 'emote waves' shows 'Visitor waves'."},
    {.name = "yell",
     .aliases = {"shout", "scream", NULL},
     .fn = cmd_yell,
     .syntax = "yell <text>",
     .help = "Shouts so that every player hears it."},
    {.name = "talk",
     .aliases = {"speak", "greet", NULL},
     .fn = cmd_talk,
     .scope = SC_NPC,
     .syntax = "talk to <someone> [about <subject>]",
     .help = "Starts a conversation with someone here."},
    {0},
};
