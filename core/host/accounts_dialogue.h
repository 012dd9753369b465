/*
 * accounts_dialogue.h - the login dialogue of one seat, in the game's own
 * text protocol (host-internal; issue #15).  The host hands it a seat's
 * input lines while it is not playing (or when a guest types `create` or
 * `login`, or a player `password`); it answers through ops->say, turns the
 * client's echo off for passwords (the `noecho` special), and calls
 * ops->logged_in once an account is in.  It knows nothing of sessions or
 * the engine, so a fuzz target can drive it alone.
 */
#ifndef TALE_ACCOUNTS_DIALOGUE_H
#define TALE_ACCOUNTS_DIALOGUE_H

#include "accounts.h"

typedef struct tale_dialogue_ops {
    /* one line of plain text for the player; noecho: their next input is a secret */
    void (*say)(void *ctx, const char *text, int noecho);
    /* may a new account take this name in the world (NPCs, players on now)?
     * 0, or -1 with why */
    int (*name_free)(void *ctx, const char *name, char *why, size_t whylen);
    /* the account is in (created: just made): the host joins or renames the
     * character; r->state may be taken (set it NULL) */
    void (*logged_in)(void *ctx, tale_acct_result_t *r, int created);
} tale_dialogue_ops_t;

typedef struct tale_dialogue {
    const tale_dialogue_ops_t *ops;
    void *ctx;
    tale_accounts_t *accounts;
    int required; /* no guests: a seat that is not logged in is asked again */
    int state;    /* where the dialogue is (accounts_dialogue.c) */
    char name[TALE_ACCT_NAME_MAX + 1];
    char skeleton[TALE_ACCT_NAME_MAX + 1];
    char *pw, *pw2; /* passwords typed so far; wiped when done */
    size_t pwlen, pw2len;
    char addr[64];      /* the client's address, for the per-address limits ("" unknown) */
    uint64_t asked_at;  /* when the password went to the worker (a failure counts then) */
    int64_t account_id; /* 0 until logged in */
    char account[TALE_ACCT_NAME_MAX + 1];
} tale_dialogue_t;

void tale_dialogue_init(tale_dialogue_t *d, const tale_dialogue_ops_t *ops, void *ctx, tale_accounts_t *accounts, int required,
                        const char *addr);
/* Wipe what was typed and drop any answer still to come. */
void tale_dialogue_clear(tale_dialogue_t *d);
/* The greeting of `accounts: required` ("Type create or login"). */
void tale_dialogue_greet(tale_dialogue_t *d);
/* A line the seat typed: 1 when the dialogue took it, 0 when it is a game command. */
int tale_dialogue_input(tale_dialogue_t *d, const char *line, size_t len, uint64_t now_ms);
/* The account did not get in after all (its character could not join):
 * the seat is a guest again, or asked to log in (required). */
void tale_dialogue_logout(tale_dialogue_t *d);
/* 1 while a question is open or an answer is awaited (the seat does not play). */
int tale_dialogue_active(const tale_dialogue_t *d);

#endif
