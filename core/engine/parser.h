/*
 * parser.h - the contract between the parser (parser.c) and the verbs
 * (verbs.h): the verb table's row, scopes, resolving a noun phrase.
 */
#ifndef TALE_ENGINE_PARSER_H
#define TALE_ENGINE_PARSER_H

#include "world.h"

/* scopes a noun is looked for in */
enum {
    SC_HELD = 1,      /* carried (also inside carried open containers) */
    SC_HERE = 2,      /* lying here (also in open containers here) */
    SC_NPC = 4,       /* NPCs here */
    SC_DOOR = 8,      /* doors on this location's exits */
    SC_PLAYER = 16,   /* other players here */
    SC_SELF = 32,     /* me, myself */
    SC_ANYPLAYER = 64 /* other players anywhere */
};
#define SC_ITEMS (SC_HELD | SC_HERE)
#define SC_ALL (SC_HELD | SC_HERE | SC_NPC | SC_DOOR | SC_PLAYER | SC_SELF)

/* what a command did */
enum { DONE_NOTIME = 0, DONE_TIME = 1, DONE_QUIT = 2 };
/* eng_resolve() results */
enum { RES_OK = 0, RES_FAIL = 1, RES_ASKED = 2 };

typedef struct eng_verb eng_verb_t;
typedef int (*eng_cmd_fn)(tale_player_t *p, const eng_verb_t *v, const char *args);
struct eng_verb {
    const char *name;
    const char *aliases[6];
    eng_cmd_fn fn;
    int scope;         /* for completion: where its nouns come from (0: none) */
    int complete_dirs; /* completes directions */
    const char *syntax, *help;
};

const eng_verb_t *eng_find_verb(const char *word);
size_t eng_verb_names(const char **out, size_t cap);
int eng_cmd_go_dir(tale_player_t *p, int dir);

void eng_normalize(char *dst, const char *src, size_t cap);
int eng_resolve(tale_player_t *p, const char *phrase, int scope, eng_thing_t *out);
const char *eng_thing_name(const tale_player_t *p, eng_thing_t t);
const char *eng_raw_after_words(const tale_player_t *p, int nwords);

#endif
