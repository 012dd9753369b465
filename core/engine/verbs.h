/*
 * verbs.h - what the verb families (verbs_*.c), their shared helpers
 * (verbs.c) and the story's reactions (reactions.c) share.  The parser sees
 * only parser.h: eng_find_verb, eng_verb_names, eng_cmd_go_dir.
 *
 * A command returns DONE_TIME when it took game time (the turn counter
 * moves), DONE_NOTIME when it only informed or failed.
 */
#ifndef TALE_ENGINE_VERBS_H
#define TALE_ENGINE_VERBS_H

#include "parser.h"

/* ---- the families' rows of the verb table, each ended by {0} (verbs.c lists them) */
extern const eng_verb_t eng_verbs_look[], eng_verbs_move[], eng_verbs_handle[], eng_verbs_doors[], eng_verbs_use[],
    eng_verbs_talk[], eng_verbs_meta[];

/* ---- verbs.c: helpers every family uses */
/* Split "X <sep> Y" at the first of the separator words; 1 when found. */
int eng_split2(const char *args, const char *const *seps, char *left, char *right, size_t cap);
/* Does s start with the word w?  *rest: what follows it. */
int eng_starts_word(const char *s, const char *w, const char **rest);
/* Resolve to an item; anything else gets `notitem` ("You can't take %s."). RES_*. */
int eng_resolve_item(tale_player_t *p, const char *phrase, int scope, const char *notitem, int *item);
/* Is the item carried, directly or inside something carried? */
int eng_carried(const tale_player_t *p, int item);
/* 1 when args is not empty; else asks the question and returns 0. */
int eng_need_args(tale_player_t *p, const char *args, const char *question);

/* ---- verbs_look.c, verbs_use.c: verbs another family calls */
void eng_show_contents(tale_player_t *p, int container);
int eng_cmd_wear(tale_player_t *p, const eng_verb_t *v, const char *args);
int eng_cmd_remove(tale_player_t *p, const eng_verb_t *v, const char *args);

/* ---- reactions.c: the story's reactions to a verb on an item */
enum { GATE_SKIP, GATE_FIRE, GATE_BLOCK };
/* May the reaction to `which` on item fire (GATE_FIRE), is there none that
 * applies (GATE_SKIP), or did its `otherwise` text stop the verb (GATE_BLOCK)? */
int eng_gate(tale_player_t *p, int item, int which, int other_kind, int other);
/* Fire it: its text, flags, the item it gives or reveals. */
void eng_fire(tale_player_t *p, int item, int which);
/* Does the firing reaction replace the verb's own text? */
int eng_replaced(const tale_player_t *p, int item, int which, int g);
/* An NPC's line of speech (story text) to the player. */
void eng_npc_say(tale_player_t *p, int npc, const char *text);
/* The NPC's answer about a subject: a topic's, or its unknown_topic line. */
void eng_npc_answer(tale_player_t *p, int npc, const char *subject_in);

/* ---- map.c: the `map` verb's picture, a data frame (the caller owns it) */
json_t *eng_map_frame(tale_player_t *p);

#endif
