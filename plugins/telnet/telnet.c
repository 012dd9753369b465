/*
 * telnet.c - the telnet transport: MUD clients (Mudlet, TinTin++, MUSHclient,
 * plain telnet) play over a raw TCP connection.  Built like a third party's
 * plugin, on the installed SDK only (tale/plugin.h, tale/alloc.h, h2o):
 *
 *  - the host listens for us (host->listen) and counts our connections in
 *    limits.max_connections and max_connections_per_address;
 *  - a connection is a seat (host->session_open_raw: the seat rules and
 *    per-address limits of every transport), opened once the client has
 *    said anything (a negotiation answer or a line), so an idle flood costs
 *    a socket and this struct, never a player in the game;
 *  - frames are rendered by the host (host->frame_text), ANSI when the
 *    client says it shows colour (MTTS or TTYPE), wrapped at its NAWS width;
 *  - options: ECHO (for "noecho" prompts), SGA, NAWS, TTYPE/MTTS, CHARSET
 *    UTF-8, GMCP (Char.Name, Char.Status, Room.Info), MSSP, MCCP2.
 *
 * Limits, each in the config: one input line (max_line), one
 * subnegotiation (max_subnegotiation), output a client has not taken
 * (max_backlog: past it the connection is cut), silence before the first
 * byte (login_timeout) and between lines (idle_timeout).  docs/PROTOCOL.md,
 * "Telnet", is the reference; docs/PLUGINS.md walks through this file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <tale/alloc.h>
#include <tale/buf.h>
#include <tale/plugin.h>

#include "telnet_proto.h"

#include <h2o.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <zlib.h>

#define SETTLE_MS 150       /* after the client's first byte: time for NAWS/TTYPE answers before the first frame */
#define CLOSE_DRAIN_MS 2000 /* a closing connection's goodbye gets this long to be read */
#define MIN_WIDTH 20        /* narrower NAWS answers are ignored (wrapping at 5 columns helps no one) */
#define MAX_WIDTH 250

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

typedef struct telnet telnet_t;

typedef struct tconn {
    telnet_t *t;
    h2o_socket_t *sock;
    h2o_linklist_t link; /* on t->conns */
    tn_t tn;
    struct sockaddr_storage peer;
    socklen_t peer_len;

    tale_buf_t pending; /* output not handed to the socket yet (plain bytes) */
    size_t raw_upto;    /* pending[0, raw_upto) goes out uncompressed (the MCCP2 start marker) */
    tale_buf_t wire;    /* what the socket is writing now */
    int writing;        /* a write is in flight (h2o takes one at a time) */
    z_stream z;         /* MCCP2 */
    int compressing;
    int z_inited;

    tale_session_t *session;
    int attached;
    int handshaking; /* TLS: the handshake is not done; nothing may be written */
    int closing;     /* goodbye queued: close once written (or after CLOSE_DRAIN_MS) */
    int dead;        /* cut off: close on the next turn, nothing more is written */
    int misbehaved;  /* cut off for what the client did: its player leaves at once */
    int echo_off;
    int prompt_pending;
    int gmcp_room, gmcp_char; /* the client's Core.Supports; both on until it says otherwise */
    char *last_room;          /* the last Room.Info sent */

    h2o_timeout_entry_t timer;  /* login, idle or close-drain timeout (one at a time) */
    h2o_timeout_entry_t settle; /* SETTLE_MS after the first byte: open the seat */
    h2o_timeout_entry_t kick;   /* 0 ms: deferred close (never from inside a host call) */
} tconn_t;

struct telnet {
    tale_plugin_t *self;
    const tale_host_api_t *host;
    h2o_evloop_t *loop;
    /* config */
    const char *prompt;
    enum color_mode color;
    unsigned width;
    uint64_t max_line, max_sb, max_backlog, idle_ms, login_ms;
    int mccp, gmcp, mssp;
    const char *tls_cert, *tls_key;
    SSL_CTX *ssl_ctx; /* TLS on the port (tls_cert + tls_key), NULL: plain */
    /* state */
    h2o_linklist_t conns;
    size_t n_conns, n_players;
    uint64_t cut_off; /* connections cut for not reading, since start */
    h2o_timeout_t login_timeout, idle_timeout, settle_timeout, drain_timeout, zero_timeout;
    int timeouts_inited;
    int stopping;
};

static void flush_out(tconn_t *c);
static void conn_free(tconn_t *c);

/* ---- output ---- */

/* (Re)start the connection's one timeout. */
static void
arm(tconn_t *c, h2o_timeout_t *timeout)
{
    if (h2o_timeout_is_linked(&c->timer))
        h2o_timeout_unlink(&c->timer);
    h2o_timeout_link(c->t->loop, timeout, &c->timer);
}

/* Close on the next loop turn: never from inside a call that may have come
 * through the host (the caller's stack still holds the connection). */
static void
close_soon(tconn_t *c)
{
    c->dead = 1;
    if (!h2o_timeout_is_linked(&c->kick))
        h2o_timeout_link(c->t->loop, &c->t->zero_timeout, &c->kick);
}

/* `misbehaved`: the client broke a limit, so its player leaves the game with
 * the connection; otherwise (the network failed) the seat lingers as after
 * a drop. */
static void
cut_off(tconn_t *c, const char *why, int misbehaved)
{
    if (c->dead)
        return;
    c->misbehaved = misbehaved;
    c->t->cut_off++;
    c->t->host->log(c->t->self, TALE_LOG_INFO, "closing a telnet connection: %s", why);
    close_soon(c);
}

/* Queue bytes for the client: past max_backlog the client is not reading,
 * and it is cut off rather than let its backlog grow. */
static void
out_raw(tconn_t *c, const void *p, size_t len)
{
    if (c->dead)
        return;
    if (c->pending.len + c->wire.len + len > c->t->max_backlog) {
        cut_off(c, "the client stopped reading (max_backlog)", 1);
        return;
    }
    tale_buf_append(&c->pending, p, len);
}

/* Text: LF becomes CR LF (the network virtual terminal's line end), IAC is doubled. */
static void
out_text(tconn_t *c, const char *p, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n' || (uint8_t)p[i] == TN_IAC) {
            out_raw(c, p + start, i - start);
            out_raw(c, p[i] == '\n' ? "\r\n" : "\xff\xff", 2);
            start = i + 1;
        }
    }
    out_raw(c, p + start, len - start);
}

static void
out_str(tconn_t *c, const char *s)
{
    out_text(c, s, strlen(s));
}

static void
tn_send_cb(void *ctx, const void *bytes, size_t len)
{
    out_raw(ctx, bytes, len);
}

static void
on_written(h2o_socket_t *sock, const char *err)
{
    tconn_t *c = sock->data;
    if (c == NULL)
        return;
    c->writing = 0;
    c->wire.len = 0;
    if (err != NULL) {
        cut_off(c, "write failed", 0);
        return;
    }
    flush_out(c);
}

/* Compress pending[from, len) onto the wire (MCCP2), flushed so the client
 * can show it at once. */
static void
deflate_onto_wire(tconn_t *c, size_t from, int finish)
{
    c->z.next_in = (Bytef *)c->pending.data + from;
    c->z.avail_in = (uInt)(c->pending.len - from);
    int mode = finish ? Z_FINISH : Z_SYNC_FLUSH;
    for (;;) {
        char chunk[4096];
        c->z.next_out = (Bytef *)chunk;
        c->z.avail_out = sizeof(chunk);
        int rc = deflate(&c->z, mode);
        tale_buf_append(&c->wire, chunk, sizeof(chunk) - c->z.avail_out);
        if (rc == Z_STREAM_END || (c->z.avail_out != 0 && c->z.avail_in == 0))
            break;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            break;
    }
}

static void
flush_out(tconn_t *c)
{
    if (c->writing || c->dead || c->handshaking || c->sock == NULL)
        return;
    if (c->pending.len == 0) {
        if (c->closing)
            close_soon(c); /* the goodbye is written */
        return;
    }
    if (!c->compressing) {
        tale_buf_append(&c->wire, c->pending.data, c->pending.len);
    } else {
        tale_buf_append(&c->wire, c->pending.data, c->raw_upto);
        deflate_onto_wire(c, c->raw_upto, 0);
    }
    c->pending.len = c->raw_upto = 0;
    c->writing = 1;
    h2o_iovec_t v = h2o_iovec_init(c->wire.data, c->wire.len);
    h2o_socket_write(c->sock, &v, 1, on_written);
}

static void
start_mccp(tconn_t *c)
{
    if (c->compressing || c->dead)
        return;
    static const uint8_t marker[] = {TN_IAC, TN_SB, TELOPT_MCCP2, TN_IAC, TN_SE};
    out_raw(c, marker, sizeof(marker));
    /* a small window keeps each compressing client near 20 KiB of zlib state */
    if (deflateInit2(&c->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 12, 5, Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    c->z_inited = 1;
    c->raw_upto = c->pending.len; /* everything up to the marker goes out as is */
    c->compressing = 1;
}

/* The client turned MCCP2 off: end the stream properly, then plain bytes. */
static void
stop_mccp(tconn_t *c)
{
    if (!c->compressing)
        return;
    if (!c->writing && !c->dead) {
        tale_buf_append(&c->wire, c->pending.data, c->raw_upto);
        deflate_onto_wire(c, c->raw_upto, 1);
        c->pending.len = c->raw_upto = 0;
        c->compressing = 0;
        c->writing = 1;
        h2o_iovec_t v = h2o_iovec_init(c->wire.data, c->wire.len);
        h2o_socket_write(c->sock, &v, 1, on_written);
    } else {
        /* mid-write: the peer asked for something odd; finishing later would mix streams, so cut */
        cut_off(c, "MCCP2 turned off mid-write", 1);
    }
}

/* ---- GMCP and MSSP ---- */

static void
gmcp_send(tconn_t *c, const char *package, const char *json)
{
    if (!tn_us(&c->tn, TELOPT_GMCP) || c->dead)
        return;
    size_t plen = strlen(package), jlen = strlen(json);
    char *msg = tale_xmalloc(plen + 1 + jlen);
    memcpy(msg, package, plen);
    msg[plen] = ' ';
    memcpy(msg + plen + 1, json, jlen);
    tn_send_sb(&c->tn, TELOPT_GMCP, msg, plen + 1 + jlen);
    free(msg);
}

/* A JSON string literal of s (s is UTF-8 from the host). */
static void
json_quote(tale_buf_t *b, const char *s)
{
    tale_buf_append(b, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            tale_buf_append(b, e, 2);
        } else if (ch < 0x20) {
            char e[8];
            snprintf(e, sizeof(e), "\\u%04x", ch);
            tale_buf_append(b, e, 6);
        } else {
            tale_buf_append(b, s, 1);
        }
    }
    tale_buf_append(b, "\"", 1);
}

static void
gmcp_char_name(tconn_t *c)
{
    if (!c->gmcp_char || c->session == NULL || !tn_us(&c->tn, TELOPT_GMCP))
        return;
    const char *name = c->t->host->session_player_name(c->session);
    tale_buf_t b = {0};
    tale_buf_append(&b, "{\"name\":", 8);
    json_quote(&b, name);
    tale_buf_append(&b, ",\"fullname\":", 12);
    json_quote(&b, name);
    tale_buf_append(&b, "}", 2); /* with the NUL */
    gmcp_send(c, "Char.Name", b.data);
    tale_buf_free(&b);
}

/* Room.Info (for the client's mapper) and Char.Status when the player is somewhere new. */
static void
gmcp_location(tconn_t *c, const tale_frame_t *frame)
{
    if (!tn_us(&c->tn, TELOPT_GMCP) || c->dead)
        return;
    size_t len;
    char *room = c->t->host->frame_location(c->t->self, frame, &len);
    if (room == NULL)
        return;
    if (c->last_room == NULL || strcmp(c->last_room, room) != 0) {
        if (c->gmcp_room)
            gmcp_send(c, "Room.Info", room);
        if (c->gmcp_char) {
            /* {"name":..., "area":...} of the room, as Char.Status's "room"/"area" */
            tale_buf_t b = {0};
            tale_buf_append(&b, "{\"name\":", 8);
            json_quote(&b, c->t->host->session_player_name(c->session));
            tale_buf_append(&b, ",\"room\":", 8);
            tale_buf_append(&b, room, len);
            tale_buf_append(&b, "}", 2);
            gmcp_send(c, "Char.Status", b.data);
            tale_buf_free(&b);
        }
        free(c->last_room);
        c->last_room = tale_xstrdup(room);
    }
    c->t->host->free(room);
}

/* A message from the client: "Package.Name <json>". */
static void
gmcp_received(tconn_t *c, const char *msg, size_t len)
{
    size_t plen = 0;
    while (plen < len && msg[plen] != ' ')
        plen++;
    if (plen == 9 && memcmp(msg, "Core.Ping", 9) == 0) {
        gmcp_send(c, "Core.Ping", "");
    } else if (plen > 14 && memcmp(msg, "Core.Supports.", 14) == 0) {
        /* Set replaces the list; Add adds; Remove removes.  Only "Char" and "Room" matter here. */
        int set = plen == 17 && memcmp(msg + 14, "Set", 3) == 0, rem = plen == 20 && memcmp(msg + 14, "Remove", 6) == 0;
        const char *body = msg + plen;
        size_t blen = len - plen;
        int has_room = memmem(body, blen, "\"Room", 5) != NULL, has_char = memmem(body, blen, "\"Char", 5) != NULL;
        if (set) {
            c->gmcp_room = has_room;
            c->gmcp_char = has_char;
        } else if (rem) {
            c->gmcp_room &= !has_room;
            c->gmcp_char &= !has_char;
        } else {
            c->gmcp_room |= has_room;
            c->gmcp_char |= has_char;
        }
    }
    /* Core.Hello and anything else: nothing to answer */
}

static void
mssp_var(tale_buf_t *b, const char *name, const char *value)
{
    tale_buf_append(b, "\x01", 1);
    tale_buf_append(b, name, strlen(name));
    tale_buf_append(b, "\x02", 1);
    tale_buf_append(b, value, strlen(value));
}

/* MSSP: the server's status for MUD listings (mudhalla.net/tintin/protocols/mssp). */
static void
mssp_send(tconn_t *c)
{
    const tale_story_info_t *info = c->t->host->story_info(c->t->self);
    char players[32], uptime[32], codebase[96];
    /* listings count everyone in the game, not only who came by telnet (a 1.3 host cannot say) */
    const tale_host_api_t *host = c->t->host;
    snprintf(players, sizeof(players), "%zu", TALE_HOST_HAS(host, player_count) ? host->player_count(c->t->self) : c->t->n_players);
    snprintf(uptime, sizeof(uptime), "%" PRId64, info->start_time);
    snprintf(codebase, sizeof(codebase), "Tale Host %s", info->tale_version);
    tale_buf_t b = {0};
    mssp_var(&b, "NAME", info->name);
    mssp_var(&b, "PLAYERS", players);
    mssp_var(&b, "UPTIME", uptime);
    mssp_var(&b, "CODEBASE", codebase);
    mssp_var(&b, "CONTACT", info->author_email != NULL ? info->author_email : "");
    mssp_var(&b, "CRAWL DELAY", "-1");
    mssp_var(&b, "ANSI", "1");
    mssp_var(&b, "UTF-8", "1");
    mssp_var(&b, "GMCP", c->t->gmcp ? "1" : "0");
    mssp_var(&b, "MCCP", c->t->mccp ? "1" : "0");
    mssp_var(&b, "MSSP", "1");
    mssp_var(&b, "FAMILY", "Custom");
    mssp_var(&b, "GENRE", "Adventure");
    tn_send_sb(&c->tn, TELOPT_MSSP, b.data, b.len);
    tale_buf_free(&b);
}

/* ---- the player-IO vtable ---- */

static unsigned
text_width(tconn_t *c)
{
    if (c->tn.width >= MIN_WIDTH)
        return c->tn.width > MAX_WIDTH ? MAX_WIDTH : c->tn.width;
    return c->t->width;
}

static int
use_ansi(tconn_t *c)
{
    return c->t->color == COLOR_ALWAYS || (c->t->color == COLOR_AUTO && tn_client_ansi(&c->tn));
}

static void
show_prompt(tconn_t *c)
{
    if (c->t->prompt[0] == '\0')
        return;
    out_str(c, c->t->prompt);
    /* Go Ahead marks the prompt for clients that show prompts apart, unless SGA was agreed */
    if (!tn_us(&c->tn, TELOPT_SGA)) {
        static const uint8_t ga[2] = {TN_IAC, TN_GA};
        out_raw(c, ga, 2);
    }
}

static int
conn_send(void *conn, const tale_frame_t *frame)
{
    tconn_t *c = conn;
    if (c->dead)
        return -1;
    tale_text_opts_t opts = {
        .size = sizeof(opts),
        .flags = (use_ansi(c) ? TALE_TEXT_ANSI : TALE_TEXT_PLAIN) | TALE_TEXT_SKIP_INPUT, /* the client echoed the typing */
        .width = text_width(c),
        .input_prefix = NULL,
    };
    size_t len;
    unsigned special;
    char *text = c->t->host->frame_text(c->t->self, frame, &opts, &len, &special);
    if ((special & TALE_FRAME_CLEAR) && use_ansi(c))
        out_str(c, "\033[H\033[2J");
    if (text != NULL)
        out_text(c, text, len);
    c->t->host->free(text);
    gmcp_location(c, frame);
    if (special & TALE_FRAME_NOECHO) {
        /* a secret comes next: we "will echo" (and do not), so the client stops echoing */
        tn_us_request(&c->tn, TELOPT_ECHO, 1);
        c->echo_off = 1;
    }
    if (!(special & TALE_FRAME_DATA))
        show_prompt(c);
    flush_out(c);
    return c->dead ? -1 : 0;
}

static void
conn_close(void *conn, int code, const char *reason)
{
    tconn_t *c = conn;
    c->attached = 0;
    if (c->session != NULL) {
        c->session = NULL;
        c->t->n_players--;
    }
    if (reason != NULL && reason[0] != '\0') {
        out_str(c, "\n[");
        out_str(c, reason);
        out_str(c, "]\n");
    }
    c->closing = 1;
    arm(c, &c->t->drain_timeout);
    flush_out(c);
}

static const tale_player_io_t telnet_io = {
    .size = sizeof(tale_player_io_t),
    .send = conn_send,
    .close = conn_close,
    .backlog = NULL,
};

/* ---- the seat ---- */

static void
open_seat(tconn_t *c)
{
    if (c->session != NULL || c->closing || c->dead || c->t->stopping)
        return;
    if (h2o_timeout_is_linked(&c->settle))
        h2o_timeout_unlink(&c->settle);
    const char *why = NULL;
    tale_session_t *s = NULL;
    int rc = c->t->host->session_open_raw(c->t->self, c->peer_len > 0 ? &c->peer : NULL, c->peer_len, NULL, 0, &s, NULL, &why);
    if (rc != TALE_OPEN_OK || s == NULL) {
        out_str(c, "Sorry: ");
        out_str(c, why != NULL ? why : "no seat is free");
        out_str(c, ".\n");
        c->closing = 1;
        arm(c, &c->t->drain_timeout);
        flush_out(c);
        return;
    }
    c->session = s;
    c->t->n_players++;
    arm(c, &c->t->idle_timeout);
    c->attached = 1;
    gmcp_char_name(c);
    /* the held frames (welcome, first look) come through conn_send now */
    if (c->t->host->session_attach(s, &telnet_io, c, 0) != 0) {
        c->attached = 0;
        cut_off(c, "the host refused to attach", 1);
    }
}

static void
on_settle(h2o_timeout_entry_t *entry)
{
    tconn_t *c = H2O_STRUCT_FROM_MEMBER(tconn_t, settle, entry);
    open_seat(c);
    flush_out(c);
}

/* ---- input ---- */

static void
on_line(tconn_t *c, const char *line, size_t len)
{
    if (c->echo_off) {
        c->echo_off = 0;
        tn_us_request(&c->tn, TELOPT_ECHO, 0);
        out_str(c, "\n"); /* the client did not echo the Enter either */
    }
    if (c->session == NULL)
        open_seat(c);
    if (c->session == NULL || !c->attached)
        return;
    while (len > 0 && line[len - 1] == ' ')
        len--;
    while (len > 0 && line[0] == ' ')
        line++, len--;
    arm(c, &c->t->idle_timeout);
    if (len == 0) {
        show_prompt(c);
        return;
    }
    c->t->host->session_input(c->session, line, len, 0);
}

static void
tn_event_cb(void *ctx, tn_t *tn, int ev, int opt, const char *data, size_t len)
{
    tconn_t *c = ctx;
    char msg[128];
    switch (ev) {
    case TN_EV_LINE:
        on_line(c, data, len);
        break;
    case TN_EV_LINE_TOO_LONG:
        snprintf(msg, sizeof(msg), "(That line is longer than %" PRIu64 " bytes; it was ignored.)\n", c->t->max_line);
        out_str(c, msg);
        break;
    case TN_EV_SB_TOO_LONG:
        c->t->host->log(c->t->self, TALE_LOG_DEBUG, "a subnegotiation of option %d passed max_subnegotiation: dropped", opt);
        break;
    case TN_EV_US_ON:
        if (opt == TELOPT_MCCP2)
            start_mccp(c);
        else if (opt == TELOPT_MSSP)
            mssp_send(c);
        else if (opt == TELOPT_GMCP)
            gmcp_char_name(c);
        else if (opt == TELOPT_CHARSET) {
            static const char req[] = "\x01;UTF-8";
            tn_send_sb(tn, TELOPT_CHARSET, req, sizeof(req) - 1);
        }
        break;
    case TN_EV_US_OFF:
        if (opt == TELOPT_MCCP2)
            stop_mccp(c);
        break;
    case TN_EV_HIM_ON:
        if (opt == TELOPT_TTYPE) {
            static const uint8_t send = 1; /* TTYPE SEND */
            tn_send_sb(tn, TELOPT_TTYPE, &send, 1);
        }
        break;
    case TN_EV_GMCP:
        gmcp_received(c, data, len);
        break;
    default:
        break; /* NAWS, TTYPE, CHARSET: read from tn when the next frame is rendered */
    }
}

static const tn_callbacks_t tn_callbacks = {.send = tn_send_cb, .event = tn_event_cb};

/* The connection lets go of its seat (NULL: it had none). */
static tale_session_t *
release_seat(tconn_t *c)
{
    tale_session_t *s = c->session;
    if (s == NULL)
        return NULL;
    c->session = NULL;
    c->attached = 0;
    c->t->n_players--;
    return s;
}

/* This connection is done with its seat for good (cut off for misbehaving,
 * idle): a MUD player leaves the world now, the IF seat waits for its owner. */
static void
end_seat(tconn_t *c)
{
    tale_session_t *s = release_seat(c);
    if (s != NULL)
        c->t->host->session_end(s, c);
}

/* The client went away: its seat lingers for limits.linger as a WebSocket
 * player's does, so a reconnect that logs in to the same account takes the
 * character back where it stood (without accounts the player fades then). */
static void
leave_seat(tconn_t *c, int code)
{
    tale_session_t *s = release_seat(c);
    if (s != NULL)
        c->t->host->session_closed(s, c, code);
}

static void
on_read(h2o_socket_t *sock, const char *err)
{
    tconn_t *c = sock->data;
    if (c == NULL)
        return;
    if (err != NULL) {
        leave_seat(c, err == h2o_socket_error_closed ? TALE_CLOSE_NORMAL : TALE_CLOSE_ABNORMAL);
        conn_free(c);
        return;
    }
    if (c->dead) {
        h2o_buffer_consume(&sock->input, sock->input->size);
        return;
    }
    int first = c->tn.bytes_in == 0;
    /* Copy out first: a line may run the game, which may close this connection. */
    size_t n = sock->input->size;
    char *copy = tale_xmalloc(n);
    memcpy(copy, sock->input->bytes, n);
    h2o_buffer_consume(&sock->input, n);
    tn_feed(&c->tn, copy, n);
    free(copy);
    if (first && c->session == NULL && !c->closing && !c->dead) {
        /* the client speaks: give its negotiation answers a moment, then seat it */
        arm(c, &c->t->idle_timeout);
        if (!h2o_timeout_is_linked(&c->settle))
            h2o_timeout_link(c->t->loop, &c->t->settle_timeout, &c->settle);
    }
    flush_out(c);
}

static void
on_timer(h2o_timeout_entry_t *entry)
{
    tconn_t *c = H2O_STRUCT_FROM_MEMBER(tconn_t, timer, entry);
    if (c->handshaking) {
        conn_free(c); /* a TLS handshake that never finished: nothing can be said */
        return;
    }
    if (c->closing) {
        cut_off(c, "the goodbye was not read in time", 1);
        return;
    }
    end_seat(c);
    out_str(c, c->tn.bytes_in == 0 ? "\nNothing was heard from you; goodbye.\n" : "\nYou were idle for too long; goodbye.\n");
    c->closing = 1;
    arm(c, &c->t->drain_timeout);
    flush_out(c);
}

static void
on_kick(h2o_timeout_entry_t *entry)
{
    tconn_t *c = H2O_STRUCT_FROM_MEMBER(tconn_t, kick, entry);
    if (c->misbehaved)
        end_seat(c);
    else
        leave_seat(c, TALE_CLOSE_ABNORMAL);
    conn_free(c);
}

/* Input left unread when a socket closes makes the kernel answer with a
 * reset instead of a FIN, and the client's stack may then throw away our
 * last words (a refusal, a goodbye) before its reader sees them.  Read what
 * is waiting (bounded) so the close is an orderly one. */
static void
discard_unread(h2o_socket_t *sock)
{
    int fd = h2o_socket_get_fd(sock);
    char junk[4096];
    for (int i = 0; i < 16 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
        ;
}

static void
conn_free(tconn_t *c)
{
    telnet_t *t = c->t;
    if (h2o_timeout_is_linked(&c->timer))
        h2o_timeout_unlink(&c->timer);
    if (h2o_timeout_is_linked(&c->settle))
        h2o_timeout_unlink(&c->settle);
    if (h2o_timeout_is_linked(&c->kick))
        h2o_timeout_unlink(&c->kick);
    if (c->sock != NULL) {
        c->sock->data = NULL; /* a write still in flight must not find us */
        discard_unread(c->sock);
        h2o_socket_close(c->sock);
        c->sock = NULL;
    }
    h2o_linklist_unlink(&c->link);
    t->n_conns--;
    tn_free(&c->tn);
    if (c->z_inited)
        deflateEnd(&c->z);
    tale_buf_free(&c->pending);
    tale_buf_free(&c->wire);
    free(c->last_room);
    free(c);
}

/* The connection is ready for telnet (after TLS when the port has it): offer
 * what we speak (the Q method keeps any answer from looping), greet, read. */
static void
greet(tconn_t *c)
{
    telnet_t *t = c->t;
    tn_him_request(&c->tn, TELOPT_NAWS, 1);
    tn_him_request(&c->tn, TELOPT_TTYPE, 1);
    tn_us_request(&c->tn, TELOPT_CHARSET, 1);
    if (t->gmcp)
        tn_us_request(&c->tn, TELOPT_GMCP, 1);
    if (t->mssp)
        tn_us_request(&c->tn, TELOPT_MSSP, 1);
    if (t->mccp)
        tn_us_request(&c->tn, TELOPT_MCCP2, 1);
    const tale_story_info_t *info = t->host->story_info(t->self);
    out_str(c, info->name);
    out_str(c, "\n(press Enter if nothing happens)\n");
    h2o_socket_read_start(c->sock, on_read);
    flush_out(c);
}

static void
on_handshake(h2o_socket_t *sock, const char *err)
{
    tconn_t *c = sock->data;
    if (c == NULL)
        return;
    c->handshaking = 0;
    if (err != NULL) {
        c->t->host->log(c->t->self, TALE_LOG_DEBUG, "TLS handshake failed: %s", err);
        conn_free(c);
        return;
    }
    greet(c);
}

static void
on_accept(tale_plugin_t *self, h2o_socket_t *sock, void *data)
{
    telnet_t *t = data;
    if (t->stopping) {
        h2o_socket_close(sock);
        return;
    }
    tconn_t *c = tale_xcalloc(1, sizeof(*c));
    c->t = t;
    c->sock = sock;
    sock->data = c;
    c->peer_len = h2o_socket_getpeername(sock, (struct sockaddr *)&c->peer);
    c->gmcp_room = c->gmcp_char = 1;
    c->timer.cb = on_timer;
    c->settle.cb = on_settle;
    c->kick.cb = on_kick;
    h2o_linklist_insert(&t->conns, &c->link);
    t->n_conns++;
    tn_init(&c->tn, &tn_callbacks, c, t->max_line, t->max_sb);
    arm(c, &t->login_timeout); /* covers the TLS handshake too */
    if (t->ssl_ctx != NULL) {
        c->handshaking = 1;
        h2o_socket_ssl_handshake(sock, t->ssl_ctx, NULL, on_handshake);
        return;
    }
    greet(c);
}

/* TLS on the telnet port, from PEM files (the same checks as the host's listeners). */
static SSL_CTX *
make_ssl_ctx(telnet_t *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, t->tls_cert) != 1) {
        snprintf(err, errlen, "tls_cert %s: not a usable certificate chain: %s", t->tls_cert,
                 ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, t->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "tls_key %s: not the private key of %s: %s", t->tls_key, t->tls_cert,
                 ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* ---- lifecycle ---- */

static int
telnet_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    if (!TALE_HOST_HAS(host, frame_location)) {
        snprintf(err, errlen, "this host (plugin ABI %u.%u) cannot listen for non-HTTP transports; telnet needs ABI 1.3",
                 host->abi_major, host->abi_minor);
        return -1;
    }
    static const char *const known[] = {"listen",      "prompt",       "color",
                                        "width",       "max_line",     "max_subnegotiation",
                                        "max_backlog", "idle_timeout", "login_timeout",
                                        "mccp",        "gmcp",         "mssp",
                                        "tls_cert",    "tls_key",      NULL};
    const char *prompt, *color, *tls_cert, *tls_key;
    int64_t width;
    uint64_t max_line, max_sb, max_backlog, idle_ms, login_ms;
    int mccp, gmcp, mssp;
    if (host->conf_check_keys(self, known) != 0 || host->conf_string(self, "prompt", "> ", &prompt) != 0 ||
        host->conf_string(self, "color", "auto", &color) != 0 || host->conf_int(self, "width", 80, 20, MAX_WIDTH, &width) != 0 ||
        host->conf_size(self, "max_line", 4096, &max_line) != 0 ||
        host->conf_size(self, "max_subnegotiation", 8192, &max_sb) != 0 ||
        host->conf_size(self, "max_backlog", 256 * 1024, &max_backlog) != 0 ||
        host->conf_duration_ms(self, "idle_timeout", 30 * 60 * 1000, &idle_ms) != 0 ||
        host->conf_duration_ms(self, "login_timeout", 60 * 1000, &login_ms) != 0 || host->conf_bool(self, "mccp", 1, &mccp) != 0 ||
        host->conf_bool(self, "gmcp", 1, &gmcp) != 0 || host->conf_bool(self, "mssp", 1, &mssp) != 0 ||
        host->conf_path(self, "tls_cert", NULL, &tls_cert) != 0 || host->conf_path(self, "tls_key", NULL, &tls_key) != 0)
        return -1;
    if ((tls_cert == NULL) != (tls_key == NULL)) {
        snprintf(err, errlen, "tls_cert and tls_key go together");
        return -1;
    }
    enum color_mode cm;
    if (strcmp(color, "auto") == 0)
        cm = COLOR_AUTO;
    else if (strcmp(color, "always") == 0)
        cm = COLOR_ALWAYS;
    else if (strcmp(color, "never") == 0)
        cm = COLOR_NEVER;
    else {
        snprintf(err, errlen, "color must be auto, always or never (not \"%s\")", color);
        return -1;
    }
    if (max_line < 64 || max_line > 1024 * 1024 || max_sb < 64 || max_sb > 1024 * 1024) {
        snprintf(err, errlen, "max_line and max_subnegotiation must be between 64 and 1m");
        return -1;
    }
    if (max_backlog < 16 * 1024) {
        snprintf(err, errlen, "max_backlog must be at least 16k");
        return -1;
    }
    if (idle_ms == 0 || login_ms == 0) {
        snprintf(err, errlen, "idle_timeout and login_timeout must not be 0");
        return -1;
    }
    for (const char *p = prompt; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0xff) {
            snprintf(err, errlen, "prompt must not contain control characters");
            return -1;
        }
    }
    telnet_t *t = tale_xcalloc(1, sizeof(*t));
    t->self = self;
    t->host = host;
    t->prompt = prompt;
    t->color = cm;
    t->width = (unsigned)width;
    t->max_line = max_line;
    t->max_sb = max_sb;
    t->max_backlog = max_backlog;
    t->idle_ms = idle_ms;
    t->login_ms = login_ms;
    t->mccp = mccp;
    t->gmcp = gmcp;
    t->mssp = mssp;
    t->tls_cert = tls_cert;
    t->tls_key = tls_key;
    if (tls_cert != NULL && (t->ssl_ctx = make_ssl_ctx(t, err, errlen)) == NULL) {
        free(t);
        return -1;
    }
    h2o_linklist_init_anchor(&t->conns);
    *state = t;
    return 0;
}

static int
telnet_start(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    telnet_t *t = state;
    t->loop = t->host->loop(self);
    if (t->host->listen(self, "listen", on_accept, t) != 0)
        return -1; /* the host wrote why */
    h2o_timeout_init(t->loop, &t->login_timeout, t->login_ms);
    h2o_timeout_init(t->loop, &t->idle_timeout, t->idle_ms);
    h2o_timeout_init(t->loop, &t->settle_timeout, SETTLE_MS);
    h2o_timeout_init(t->loop, &t->drain_timeout, CLOSE_DRAIN_MS);
    h2o_timeout_init(t->loop, &t->zero_timeout, 0);
    t->timeouts_inited = 1;
    return 0;
}

/* The host closed our listener already; say goodbye to everyone.  The host
 * keeps the loop running while our connections are open (they are counted
 * as its own), so the goodbyes are written before destroy. */
static void
telnet_stop(tale_plugin_t *self, void *state)
{
    telnet_t *t = state;
    t->stopping = 1;
    for (h2o_linklist_t *n = t->conns.next; n != &t->conns; n = n->next) {
        tconn_t *c = H2O_STRUCT_FROM_MEMBER(tconn_t, link, n);
        if (c->attached) {
            c->attached = 0;
            t->host->session_detach(c->session, c);
            c->session = NULL;
            t->n_players--;
        }
        if (!c->closing && !c->dead) {
            out_str(c, "\n[The server is shutting down.]\n");
            c->closing = 1;
            arm(c, &t->drain_timeout);
            flush_out(c);
        }
    }
}

static void
telnet_destroy(tale_plugin_t *self, void *state)
{
    telnet_t *t = state;
    while (!h2o_linklist_is_empty(&t->conns)) {
        tconn_t *c = H2O_STRUCT_FROM_MEMBER(tconn_t, link, t->conns.next);
        c->session = NULL; /* the host has ended every session by now */
        conn_free(c);
    }
    if (t->timeouts_inited) {
        h2o_timeout_dispose(t->loop, &t->login_timeout);
        h2o_timeout_dispose(t->loop, &t->idle_timeout);
        h2o_timeout_dispose(t->loop, &t->settle_timeout);
        h2o_timeout_dispose(t->loop, &t->drain_timeout);
        h2o_timeout_dispose(t->loop, &t->zero_timeout);
    }
    if (t->cut_off > 0)
        t->host->log(self, TALE_LOG_INFO, "%" PRIu64 " telnet connection(s) were cut off (limits or errors)", t->cut_off);
    if (t->ssl_ctx != NULL)
        SSL_CTX_free(t->ssl_ctx);
    free(t);
}

static const tale_plugin_desc_t telnet_desc = {
    TALE_PLUGIN_DESC_HEADER, "telnet", "1.0", telnet_init, telnet_start, telnet_stop, telnet_destroy,
};

TALE_EXPORT const tale_plugin_desc_t *
TALE_PLUGIN_ENTRY(void)
{
    return &telnet_desc;
}
