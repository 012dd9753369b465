/*
 * session.c - players' seats, their frame backlog, and the game tick.
 *
 * Data flow: engine --emit(json)--> on_emit: stamp seq, serialise once,
 * hold in the backlog, hand the bytes to the attached transport.
 */
#include "session.h"
#include "access.h"
#include "json_compact.h"
#include "log.h"
#include "peers.h"
#include <tale/alloc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_BYTES 16 /* 128 bits from OpenSSL's RAND */
#define TOKEN_HEX (TOKEN_BYTES * 2)
#define COOKIE_NAME "tale_session"

typedef struct held_frame {
    struct held_frame *next;
    uint64_t seq;
    const char *event; /* static string: "text" or "data" */
    size_t len;
    char *json; /* from tale_json_compact */
} held_frame_t;

struct tale_session {
    tale_sessions_t *ss;
    struct tale_session *prev, *next;
    char token[TOKEN_HEX + 1];
    tale_player_t *player;
    uint64_t seq; /* last seq stamped */
    held_frame_t *head, *tail;
    size_t held_bytes;
    const tale_player_io_t *io;
    void *conn;
    uint64_t detached_at; /* loop time in ms; 0 while attached */
    int ending;           /* quit in progress: no new input */
    /* input rate limit: a token bucket refilled at limits.input_rate/s */
    double tokens;
    uint64_t refilled_at, noticed_at;
    uint64_t last_input_at; /* loop time of the last input or attach (limits.seat_idle) */
    tale_peer_t *peer;      /* the client address that created the seat (per-address limits); may be NULL */
};

enum refusal { REFUSED_KEY, REFUSED_FULL, REFUSED_PER_ADDRESS, REFUSED_PER_MINUTE, REFUSAL_KINDS };

struct tale_sessions {
    tale_host_t *host;
    tale_session_t *first;
    size_t count;
    tale_session_t *seat;          /* IF mode: the one seat */
    char claim_key[TOKEN_HEX + 1]; /* IF mode: the one-time key that takes the seat (printed on the console) */
    char *claim_url;               /* where the key is shown: a listener's URL */
    /* each kind of refusal is logged at warn at most once a second (a flood must not flood the log) */
    uint64_t refusal_logged_at[REFUSAL_KINDS];
    uint64_t refusals_unlogged[REFUSAL_KINDS];
    h2o_timeout_t tick;
    h2o_timeout_entry_t tick_entry;
    int tick_inited;
};

static void session_destroy(tale_session_t *s, int code, const char *reason);

static uint64_t
now_ms(tale_sessions_t *ss)
{
    return h2o_now(ss->host->loop);
}

/* ---- frames ------------------------------------------------------------ */

static void
drop_oldest(tale_session_t *s)
{
    held_frame_t *f = s->head;
    s->head = f->next;
    if (s->head == NULL)
        s->tail = NULL;
    s->held_bytes -= f->len;
    free(f->json);
    free(f);
}

/* Hand one frame to the attached connection; a refusal detaches it. */
static void
deliver(tale_session_t *s, const held_frame_t *f)
{
    if (s->io == NULL)
        return;
    tale_frame_t frame = {f->seq, f->event, f->json, f->len};
    if (s->io->send(s->conn, &frame) != 0) {
        tale_debug("session", "transport refused frame %llu; detaching", (unsigned long long)f->seq);
        tale_session_detach(s, s->conn);
    }
}

/* The engine's emit callback: takes ownership of `frame`. */
static void
on_emit(void *ctx, json_t *frame)
{
    tale_session_t *s = ctx;
    const char *type = json_string_value(json_object_get(frame, "type"));
    held_frame_t *f = tale_xcalloc(1, sizeof(*f));
    f->event = (type != NULL && strcmp(type, "data") == 0) ? "data" : "text";
    f->seq = ++s->seq;
    json_object_set_new(frame, "seq", json_integer((json_int_t)f->seq));
    f->json = tale_json_compact(frame, &f->len);
    if (f->json == NULL) {
        free(f);
        goto out;
    }
    /* Hold it for resume; the backlog is bounded in bytes but always keeps
     * the newest frame. */
    if (s->tail != NULL)
        s->tail->next = f;
    else
        s->head = f;
    s->tail = f;
    s->held_bytes += f->len;
    uint64_t limit = s->ss->host->cfg->limits.session_backlog;
    while (s->held_bytes > limit && s->head != f)
        drop_oldest(s);

    deliver(s, f);
out:
    json_decref(frame);
}

/* A notice from the host (plain text): the engine makes it a text frame
 * with the player's location snapshot, as it does every frame (LlamaTale's
 * client reads "location" from any text frame), through on_emit. */
static void
emit_text(tale_session_t *s, const char *text)
{
    if (s->player != NULL)
        tale_player_notice(s->player, text);
}

/* ---- tokens and cookies ------------------------------------------------ */

const char *
tale_cookie_find(const char *header, size_t len, const char *name, size_t *value_len)
{
    size_t nlen = strlen(name);
    size_t i = 0;
    if (header == NULL)
        return NULL;
    while (i < len) {
        while (i < len && (header[i] == ' ' || header[i] == '\t' || header[i] == ';'))
            i++;
        size_t start = i;
        while (i < len && header[i] != ';')
            i++;
        /* start..i is "name=value" */
        if (i - start > nlen && memcmp(header + start, name, nlen) == 0 && header[start + nlen] == '=') {
            *value_len = i - start - nlen - 1;
            return header + start + nlen + 1;
        }
    }
    return NULL;
}

static tale_session_t *
find_by_token(tale_sessions_t *ss, const char *tok, size_t len)
{
    if (len != TOKEN_HEX)
        return NULL;
    /* Linear and constant-time per comparison: max_sessions is small, and
     * the token must not leak through timing. */
    tale_session_t *found = NULL;
    for (tale_session_t *s = ss->first; s != NULL; s = s->next)
        if (CRYPTO_memcmp(s->token, tok, TOKEN_HEX) == 0)
            found = s;
    return found;
}

static int
new_token(char out[TOKEN_HEX + 1])
{
    unsigned char raw[TOKEN_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    for (int i = 0; i < TOKEN_BYTES; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
    return 0;
}

static void
write_set_cookie(const tale_session_t *s, unsigned flags, char set_cookie[TALE_SET_COOKIE_MAX])
{
    snprintf(set_cookie, TALE_SET_COOKIE_MAX, COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict%s", s->token,
             (flags & TALE_SESSION_SECURE) ? "; Secure" : "");
}

/* ---- lifecycle --------------------------------------------------------- */

static tale_session_t *
session_create(tale_sessions_t *ss)
{
    tale_host_t *h = ss->host;
    tale_session_t *s = tale_xcalloc(1, sizeof(*s));
    if (new_token(s->token) != 0) {
        free(s);
        tale_error("session", "cannot create a session token");
        return NULL;
    }
    s->ss = ss;
    s->detached_at = now_ms(ss);
    s->tokens = (double)h->cfg->limits.input_burst;
    s->refilled_at = s->detached_at;
    s->next = ss->first;
    if (ss->first != NULL)
        ss->first->prev = s;
    ss->first = s;
    ss->count++;

    /* IF mode picks up the saved game before the player appears. */
    if (h->cfg->mode == TALE_MODE_IF && h->cfg->autosave && h->cfg->data_dir != NULL) {
        char err[512] = "";
        if (tale_world_restore(h->world, NULL, err, sizeof(err)) == 0)
            tale_info("session", "restored the saved game");
        else if (err[0] != '\0')
            tale_info("session", "starting a new game (%s)", err);
    }
    s->player = tale_player_join(h->world, on_emit, s);
    if (s->player == NULL) {
        tale_error("session", "the engine refused a new player");
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "no player");
        return NULL;
    }
    tale_info("session", "new session (%zu open)", ss->count);
    return s;
}

static void
session_destroy(tale_session_t *s, int code, const char *reason)
{
    tale_sessions_t *ss = s->ss;
    if (s->io != NULL) {
        const tale_player_io_t *io = s->io;
        void *conn = s->conn;
        s->io = NULL;
        s->conn = NULL;
        io->close(conn, code, reason);
    }
    if (s->player != NULL)
        tale_player_leave(s->player);
    while (s->head != NULL)
        drop_oldest(s);
    if (s->peer != NULL) {
        s->peer->seats--;
        tale_peers_release(ss->host->peers, s->peer);
    }
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        ss->first = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    if (ss->seat == s)
        ss->seat = NULL;
    ss->count--;
    free(s);
}

tale_sessions_t *
tale_sessions_new(tale_host_t *h)
{
    tale_sessions_t *ss = tale_xcalloc(1, sizeof(*ss));
    ss->host = h;
    if (h->cfg->mode == TALE_MODE_IF && new_token(ss->claim_key) != 0) {
        free(ss);
        tale_error("session", "cannot create the seat's claim key");
        return NULL;
    }
    return ss;
}

/* Print where the IF seat is claimed.  Each key works once: after a claim a
 * new one is made and printed again. */
static void
announce_claim_key(tale_sessions_t *ss)
{
    if (ss->host->cfg->mode != TALE_MODE_IF)
        return;
    if (ss->claim_url != NULL)
        tale_info("session", "to take this game's seat, open %s/tale/?key=%s (a one-time key)", ss->claim_url, ss->claim_key);
    else
        tale_info("session", "the game's one-time seat key is %s", ss->claim_key);
}

const char *
tale_sessions_claim_key(const tale_sessions_t *ss)
{
    return ss->claim_key;
}

void
tale_sessions_announce(tale_sessions_t *ss, const char *base_url)
{
    free(ss->claim_url);
    ss->claim_url = base_url != NULL ? tale_xstrdup(base_url) : NULL;
    announce_claim_key(ss);
}

int
tale_sessions_autosave(tale_sessions_t *ss)
{
    tale_config_t *cfg = ss->host->cfg;
    if (cfg->mode != TALE_MODE_IF || !cfg->autosave || ss->seat == NULL)
        return 0;
    char err[512] = "";
    int rc = tale_world_checkpoint(ss->host->world, NULL, err, sizeof(err)); /* 1: handed to the save worker */
    if (rc < 0) {
        tale_error("session", "autosave failed: %s", err);
        return -1;
    }
    tale_info("session", rc == 0 ? "game saved" : "game saving");
    return 0;
}

void
tale_sessions_free(tale_sessions_t *ss, int code, const char *reason)
{
    if (ss == NULL)
        return;
    tale_sessions_stop_tick(ss);
    tale_sessions_autosave(ss);
    while (ss->first != NULL)
        session_destroy(ss->first, code, reason);
    free(ss->claim_url);
    free(ss);
}

size_t
tale_sessions_count(const tale_sessions_t *ss)
{
    return ss->count;
}

/* ---- the tick ---------------------------------------------------------- */

static void
on_tick(h2o_timeout_entry_t *entry)
{
    tale_sessions_t *ss = H2O_STRUCT_FROM_MEMBER(tale_sessions_t, tick_entry, entry);
    tale_host_t *h = ss->host;
    tale_world_tick(h->world);

    /* Reap MUD seats nobody came back to, and close connections whose
     * player has sent nothing for limits.seat_idle (a MUD seat goes with its
     * connection; the IF seat stays for its player's return).  O(n) per
     * tick; n <= max_sessions. */
    uint64_t now = now_ms(ss), idle = h->cfg->limits.linger_ms, seat_idle = h->cfg->limits.seat_idle_ms;
    for (tale_session_t *s = ss->first, *next; s != NULL; s = next) {
        next = s->next;
        if (h->cfg->mode == TALE_MODE_MUD && s->io == NULL && now - s->detached_at > idle) {
            tale_info("session", "reaping a session idle for %llu s", (unsigned long long)(idle / 1000));
            session_destroy(s, TALE_CLOSE_SESSION_ENDED, "idle");
        } else if (seat_idle != 0 && s->io != NULL && now - s->last_input_at > seat_idle) {
            tale_info("session", "closing a connection whose player sent nothing for %llu s (seat_idle)",
                      (unsigned long long)(seat_idle / 1000));
            if (h->cfg->mode == TALE_MODE_MUD) {
                session_destroy(s, TALE_CLOSE_IDLE, "You were idle for too long.");
            } else {
                const tale_player_io_t *io = s->io;
                void *conn = s->conn;
                tale_session_detach(s, conn);
                io->close(conn, TALE_CLOSE_IDLE, "You were idle for too long.");
            }
        }
    }
    h2o_timeout_link(h->loop, &ss->tick, &ss->tick_entry);
}

void
tale_sessions_start_tick(tale_sessions_t *ss)
{
    tale_host_t *h = ss->host;
    h2o_timeout_init(h->loop, &ss->tick, h->cfg->tick_ms);
    ss->tick_entry.cb = on_tick;
    ss->tick_inited = 1;
    h2o_timeout_link(h->loop, &ss->tick, &ss->tick_entry);
}

void
tale_sessions_stop_tick(tale_sessions_t *ss)
{
    if (!ss->tick_inited)
        return;
    h2o_timeout_unlink(&ss->tick_entry);
    h2o_timeout_dispose(ss->host->loop, &ss->tick);
    ss->tick_inited = 0;
}

/* ---- the API behind host->session_* ------------------------------------ */

/* A refused seat: a warn line at most once a second (with how many went
 * unlogged since), debug otherwise, so a refusal flood cannot flood the log. */
static void log_refusal(tale_sessions_t *ss, enum refusal kind, const char *fmt, ...) TALE_PRINTF(3, 4);
static void
log_refusal(tale_sessions_t *ss, enum refusal kind, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    uint64_t now = now_ms(ss);
    if (ss->refusal_logged_at[kind] != 0 && now - ss->refusal_logged_at[kind] < 1000) {
        ss->refusals_unlogged[kind]++;
        tale_debug("session", "%s", line);
        return;
    }
    if (ss->refusals_unlogged[kind] != 0)
        tale_warn("session", "%s (and %llu more like it in the last second)", line,
                  (unsigned long long)ss->refusals_unlogged[kind]);
    else
        tale_warn("session", "%s", line);
    ss->refusal_logged_at[kind] = now != 0 ? now : 1;
    ss->refusals_unlogged[kind] = 0;
}

/* Take one new-seat token from the client's bucket (limits.new_sessions_per_minute). */
static int
take_seat_token(tale_sessions_t *ss, tale_peer_t *peer)
{
    uint64_t per_minute = ss->host->cfg->limits.new_sessions_per_minute, now = now_ms(ss);
    if (per_minute == 0)
        return 1;
    if (peer->seat_refilled_ms == 0) {
        peer->seat_tokens = (double)per_minute;
    } else {
        peer->seat_tokens += (double)(now - peer->seat_refilled_ms) * (double)per_minute / 60000.0;
        if (peer->seat_tokens > (double)per_minute)
            peer->seat_tokens = (double)per_minute;
    }
    peer->seat_refilled_ms = now != 0 ? now : 1;
    if (peer->seat_tokens < 1.0)
        return 0;
    peer->seat_tokens -= 1.0;
    return 1;
}

/* A new seat token for the IF seat: whoever held the old one loses it, and
 * a connection attached with it is closed. */
static int
rotate_token(tale_session_t *s)
{
    char token[TOKEN_HEX + 1];
    if (new_token(token) != 0)
        return -1;
    memcpy(s->token, token, sizeof(token));
    if (s->io != NULL) {
        const tale_player_io_t *io = s->io;
        void *conn = s->conn;
        tale_session_detach(s, conn);
        io->close(conn, TALE_CLOSE_TAKEN_OVER, "The game's owner took the seat back with its key.");
    }
    return 0;
}

/* A request presenting the IF seat's one-time key: it gets the seat (a new
 * one, or the existing one under a fresh token) and a new key is printed. */
static int
claim_seat(tale_sessions_t *ss, const tale_request_t *rq, tale_session_t **out, const char **error)
{
    if (rq->claim_key_len != TOKEN_HEX || CRYPTO_memcmp(rq->claim_key, ss->claim_key, TOKEN_HEX) != 0) {
        log_refusal(ss, REFUSED_KEY, "refused a seat claim with a wrong or used key");
        *error = "that key is not valid: each key works once; the server's console shows the current one";
        return 403;
    }
    if (rq->flags & TALE_SESSION_PEEK)
        return 0;
    if (ss->seat != NULL) {
        if (rotate_token(ss->seat) != 0) {
            *error = "cannot make a session token";
            return 503;
        }
        tale_info("session", "the seat was claimed with its key");
    } else if ((ss->seat = session_create(ss)) == NULL) {
        *error = "cannot create a seat";
        return 503;
    } else {
        tale_info("session", "the seat was claimed with its key (new game)");
    }
    if (new_token(ss->claim_key) != 0)
        tale_error("session", "cannot make a new claim key; the old one stays valid");
    announce_claim_key(ss);
    *out = ss->seat;
    return 0;
}

/* No cookie names a seat and the request asks for one: IF seat rules, or a
 * new MUD seat within the global and per-address limits. */
static int
new_seat(tale_sessions_t *ss, const tale_request_t *rq, const tale_addr_t *client, tale_session_t **out, const char **error)
{
    const tale_config_t *cfg = ss->host->cfg;
    int peek = (rq->flags & TALE_SESSION_PEEK) != 0;
    if (cfg->mode == TALE_MODE_IF) {
        if (!(rq->flags & TALE_SESSION_TRUSTED)) {
            if (ss->seat != NULL) {
                *error = "someone else is playing this game; its owner can take the seat back with the key printed on the "
                         "server's console";
                return 403;
            }
            if (cfg->seat_claim == TALE_SEAT_CLAIM_KEY) {
                *error = "this game is private: open the link with the key printed on the server's console";
                return 403;
            }
        }
        if (peek)
            return 0;
        if (ss->seat == NULL)
            ss->seat = session_create(ss);
        *out = ss->seat;
        return *out != NULL ? 0 : 503;
    }

    if (ss->count >= cfg->limits.max_sessions) {
        log_refusal(ss, REFUSED_FULL, "refusing a new player: max_sessions (%llu) reached",
                    (unsigned long long)cfg->limits.max_sessions);
        *error = "no player seat is free";
        return 503;
    }
    tale_peer_t *peer = client != NULL && client->family != 0 ? tale_peers_get(ss->host->peers, client) : NULL;
    if (peer != NULL) {
        char addr[TALE_ADDR_STRLEN];
        uint64_t per_addr = cfg->limits.max_sessions_per_address;
        if (per_addr != 0 && peer->seats >= per_addr) {
            tale_addr_format(client, addr);
            log_refusal(ss, REFUSED_PER_ADDRESS, "refusing a new player from %s: max_sessions_per_address (%llu) reached", addr,
                        (unsigned long long)per_addr);
            *error = "too many players from your address";
            tale_peers_release(ss->host->peers, peer);
            return 429;
        }
        if (!peek && !take_seat_token(ss, peer)) {
            tale_addr_format(client, addr);
            log_refusal(ss, REFUSED_PER_MINUTE, "refusing a new player from %s: new_sessions_per_minute (%llu) reached", addr,
                        (unsigned long long)cfg->limits.new_sessions_per_minute);
            *error = "too many new players from your address; try again in a minute";
            tale_peers_release(ss->host->peers, peer);
            return 429;
        }
    }
    if (peek) {
        tale_peers_release(ss->host->peers, peer);
        return 0;
    }
    tale_session_t *s = session_create(ss);
    if (s == NULL) {
        tale_peers_release(ss->host->peers, peer);
        *error = "cannot create a seat";
        return 503;
    }
    if (peer != NULL) {
        s->peer = peer;
        peer->seats++;
    }
    *out = s;
    return 0;
}

int
tale_session_open(tale_sessions_t *ss, const tale_request_t *rq, tale_session_t **out, char set_cookie[TALE_SET_COOKIE_MAX],
                  const char **error)
{
    const tale_config_t *cfg = ss->host->cfg;
    static const char *unused;
    if (error == NULL)
        error = &unused;
    *out = NULL;
    *error = NULL;
    if (set_cookie != NULL)
        set_cookie[0] = '\0';
    int status = tale_access_check(cfg, rq->host, rq->host_len, rq->origin, rq->origin_len, error);
    if (status != 0)
        return status;

    tale_addr_t peer, client;
    int have_client = rq->peer != NULL && tale_addr_from_sockaddr(&peer, rq->peer, (socklen_t)rq->peer_len) == 0;
    if (have_client)
        tale_addr_client(&client, &peer, cfg->trusted_proxies, cfg->n_trusted_proxies, rq->forwarded_for, rq->forwarded_for_len,
                         rq->forwarded, rq->forwarded_len);

    tale_session_t *s = NULL;
    if (cfg->mode == TALE_MODE_IF && rq->claim_key != NULL && (rq->flags & TALE_SESSION_CREATE)) {
        status = claim_seat(ss, rq, &s, error);
        if (status != 0 || (rq->flags & TALE_SESSION_PEEK))
            return status;
    } else {
        size_t tlen = 0;
        const char *tok = tale_cookie_find(rq->cookie, rq->cookie_len, COOKIE_NAME, &tlen);
        s = tok != NULL ? find_by_token(ss, tok, tlen) : NULL;
        if (s != NULL || !(rq->flags & TALE_SESSION_CREATE)) {
            *out = s;
            return 0;
        }
        status = new_seat(ss, rq, have_client ? &client : NULL, &s, error);
        if (status != 0 || s == NULL) {
            if (status == 503 && *error == NULL)
                *error = "no player seat is free";
            return status;
        }
    }
    /* Only the request that creates (or claims) a seat learns its token. */
    if (set_cookie != NULL)
        write_set_cookie(s, rq->flags, set_cookie);
    *out = s;
    return 0;
}

/* ABI 1.0/1.1 session_get: a cookie and flags, no Host/Origin/address. */
tale_session_t *
tale_session_get(tale_sessions_t *ss, const char *cookie, size_t len, unsigned flags, char set_cookie[TALE_SET_COOKIE_MAX])
{
    tale_request_t rq = {.size = sizeof(rq), .cookie = cookie, .cookie_len = len, .flags = flags & ~TALE_SESSION_PEEK};
    tale_session_t *s = NULL;
    const char *error = NULL;
    if (tale_session_open(ss, &rq, &s, set_cookie, &error) != 0 && error != NULL)
        tale_debug("session", "no seat given: %s", error);
    return s;
}

int
tale_session_attach(tale_session_t *s, const tale_player_io_t *io, void *conn, uint64_t resume_after)
{
    if (io == NULL || io->size < offsetof(tale_player_io_t, backlog) || io->send == NULL || io->close == NULL)
        return -1;
    if (s->io != NULL && s->conn != conn) {
        /* IF: one seat.  The newest connection wins; the old one is told why. */
        const tale_player_io_t *old = s->io;
        void *oldconn = s->conn;
        s->io = NULL;
        s->conn = NULL;
        tale_info("session", "seat taken over by a new connection");
        old->close(oldconn, TALE_CLOSE_TAKEN_OVER, "This game was opened in another window.");
    }
    s->io = io;
    s->conn = conn;
    s->detached_at = 0;
    s->last_input_at = now_ms(s->ss);

    /* A seq from the future means the client saw another run of the host:
     * give it everything we hold. */
    if (resume_after > s->seq)
        resume_after = 0;
    if (s->head != NULL && resume_after + 1 < s->head->seq && resume_after != 0)
        tale_info("session", "resume after %llu: frames up to %llu are no longer held", (unsigned long long)resume_after,
                  (unsigned long long)(s->head->seq - 1));
    for (held_frame_t *f = s->head; f != NULL && s->conn == conn; f = f->next)
        if (f->seq > resume_after)
            deliver(s, f);
    return 0;
}

void
tale_session_detach(tale_session_t *s, void *conn)
{
    if (s == NULL || s->io == NULL || s->conn != conn)
        return;
    s->io = NULL;
    s->conn = NULL;
    s->detached_at = now_ms(s->ss);
}

static void
end_session(tale_session_t *s)
{
    tale_sessions_t *ss = s->ss;
    if (ss->host->cfg->mode == TALE_MODE_IF) {
        tale_sessions_autosave(ss);
        tale_info("session", "the player quit; the game is over");
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "The game has ended.");
    } else {
        tale_info("session", "a player quit (%zu sessions left)", ss->count - 1);
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "You have left the game.");
    }
}

/* Take one token from the session's bucket; 0 when the player is over the
 * rate.  A flooding client gets one polite line a second, not one per
 * command (the replies would be a flood of their own). */
static int
take_input_token(tale_session_t *s)
{
    const tale_config_t *cfg = s->ss->host->cfg;
    if (cfg->limits.input_rate == 0)
        return 1;
    uint64_t now = now_ms(s->ss);
    s->tokens += (double)(now - s->refilled_at) * (double)cfg->limits.input_rate / 1000.0;
    if (s->tokens > (double)cfg->limits.input_burst)
        s->tokens = (double)cfg->limits.input_burst;
    s->refilled_at = now;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return 1;
    }
    if (s->noticed_at == 0 || now - s->noticed_at >= 1000) {
        s->noticed_at = now;
        emit_text(s, "You are typing faster than the game can follow; slow down a little.");
    }
    return 0;
}

void
tale_session_input(tale_session_t *s, const char *cmd, size_t len, unsigned flags)
{
    if (s->ending)
        return;
    s->last_input_at = now_ms(s->ss);
    if (!take_input_token(s))
        return;
    /* The same answer whatever the transport: a NUL would silently cut the
     * command short in the engine's C strings (the sse plugin refuses it with
     * 400 before it gets here). */
    if (memchr(cmd, '\0', len) != NULL) {
        emit_text(s, "That input contains a NUL character; it was not run.");
        return;
    }
    if (len > s->ss->host->cfg->limits.max_input) {
        char msg[128];
        snprintf(msg, sizeof(msg), "That is too long for me to follow (the limit is %llu characters).",
                 (unsigned long long)s->ss->host->cfg->limits.max_input);
        emit_text(s, msg);
        return;
    }
    if (flags & TALE_INPUT_AUTOCOMPLETE) {
        tale_player_suggest(s->player, cmd, len);
        return;
    }
    if (tale_player_command(s->player, cmd, len) == TALE_CMD_QUIT) {
        s->ending = 1;
        end_session(s);
    }
}

char *
tale_session_complete(tale_session_t *s, const char *prefix, size_t len, size_t *out_len)
{
    json_t *list = tale_player_complete(s->player, prefix, len);
    size_t n = 2; /* the length of "[]" */
    char *out = list != NULL ? tale_json_compact(list, &n) : tale_xstrdup("[]");
    json_decref(list);
    if (out != NULL && out_len != NULL)
        *out_len = n;
    return out;
}

void
tale_session_quit(tale_session_t *s)
{
    if (s->ending)
        return;
    s->ending = 1;
    end_session(s);
}

uint64_t
tale_session_last_seq(tale_session_t *s)
{
    return s->seq;
}
