/*
 * session.h - players' seats (host-internal).  The host owns sessions; a
 * transport attaches a connection through the player-IO vtable.  Each frame
 * the engine emits is serialised once (once for all its players when the
 * engine broadcasts), held in a bounded backlog for resume under the
 * session's next seq, and delivered to the attached connection: at once for
 * the player's own command, on the next loop turns otherwise (session.c).
 */
#ifndef TALE_SESSION_H
#define TALE_SESSION_H

#include "host.h"

tale_sessions_t *tale_sessions_new(tale_host_t *h);
/* Save (IF, autosave), close attached connections with `code`, free everything. */
void tale_sessions_free(tale_sessions_t *ss, int code, const char *reason);
/* Start / stop the game tick timer on the host loop. */
void tale_sessions_start_tick(tale_sessions_t *ss);
void tale_sessions_stop_tick(tale_sessions_t *ss);
size_t tale_sessions_count(const tale_sessions_t *ss);
/* Seats with a character in the world (host->player_count, ABI 1.4). */
size_t tale_sessions_players(const tale_sessions_t *ss);
/* Bytes held for resume by all sessions (limits.total_backlog counts these). */
size_t tale_sessions_held_bytes(const tale_sessions_t *ss);
/* Sessions with frames waiting for a delivery turn. */
size_t tale_sessions_queued(const tale_sessions_t *ss);
/* Autosave now (IF mode, when enabled; per_visitor: every live game changed
 * since its last save, through the worker).  Returns 0 or -1 (logged). */
int tale_sessions_autosave(tale_sessions_t *ss);

/* instances: per_visitor: open the index of stored games in data_dir/worlds,
 * written through `sv` (the save worker; NULL: synchronously).  0 (also in
 * other modes, doing nothing) or -1 after logging why. */
int tale_sessions_use_instances(tale_sessions_t *ss, struct tale_saver *sv);
/* per_visitor: instances in memory now. */
size_t tale_sessions_live_worlds(const tale_sessions_t *ss);

/* accounts (MUD, issue #15): open data_dir/accounts.sqlite on the accounts
 * worker.  0 (also with accounts off, doing nothing) or -1 after logging why. */
int tale_sessions_use_accounts(tale_sessions_t *ss);

/* Print the IF seat's claim link (IF mode) under the first listener's URL. */
void tale_sessions_announce(tale_sessions_t *ss, const char *base_url);

/* The IF seat's current one-time claim key (what the console shows). */
const char *tale_sessions_claim_key(const tale_sessions_t *ss);

/* host->session_open (ABI 1.2): access checks, seat rules, per-address limits. */
int tale_session_open(tale_sessions_t *ss, const tale_request_t *rq, tale_session_t **out, char set_cookie[TALE_SET_COOKIE_MAX],
                      const char **error);
tale_session_t *tale_session_get(tale_sessions_t *ss, const char *cookie, size_t len, unsigned flags,
                                 char set_cookie[TALE_SET_COOKIE_MAX]);
int tale_session_attach(tale_session_t *s, const tale_player_io_t *io, void *conn, uint64_t resume_after);
void tale_session_detach(tale_session_t *s, void *conn);
/* host->session_closed (ABI 1.3): detach, noting the close code (0: none) for metrics and the access log. */
void tale_session_closed(tale_session_t *s, void *conn, int code);
/* A transport opened (or reopened) s for the request rq: the seat's transport
 * and client address for metrics and the access log.  via and rq may be NULL. */
void tale_session_opened(tale_session_t *s, tale_plugin_t *via, const tale_request_t *rq);
void tale_session_input(tale_session_t *s, const char *cmd, size_t len, unsigned flags);
char *tale_session_complete(tale_session_t *s, const char *prefix, size_t len, size_t *out_len);
void tale_session_quit(tale_session_t *s);
uint64_t tale_session_last_seq(tale_session_t *s);

/* ABI 1.3 (host_api.c): a seat for a cookie-less connection (ss may be NULL:
 * the game is not running), ending a seat whose connection failed, the
 * player's name. */
int tale_session_open_raw(tale_sessions_t *ss, const void *peer, size_t peer_len, const char *resume, size_t resume_len,
                          tale_session_t **out, char handle[TALE_SET_COOKIE_MAX], const char **error);
void tale_session_end(tale_session_t *s, void *conn);
const char *tale_session_player_name(tale_session_t *s);

/* Find the value of cookie `name` in a Cookie header; NULL if absent. */
const char *tale_cookie_find(const char *header, size_t len, const char *name, size_t *value_len);

#endif
