/*
 * telnet_proto.c - telnet parsing and option negotiation (see telnet_proto.h).
 *
 * Every input byte moves one small state machine; nothing grows without a
 * bound: an input line stops at max_line, a subnegotiation at max_sb (the
 * rest of either is dropped up to its end and reported once).  Negotiation
 * follows RFC 1143's Q method, which answers each request at most once per
 * state change, so two implementations cannot ping-pong; a client that
 * repeats a refused request gets a few answers and then silence, so an IAC
 * flood costs it as many bytes as it costs us, and then none.
 */
#include "telnet_proto.h"

#include <tale/alloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { ST_DATA, ST_IAC, ST_CMD, ST_SB_OPT, ST_SB, ST_SB_IAC };

#define REFUSALS_ANSWERED 4 /* refused requests per option that still get an answer */

/* CHARSET (RFC 2066) subcommands. */
enum { CHARSET_REQUEST = 1, CHARSET_ACCEPTED = 2, CHARSET_REJECTED = 3 };
/* TTYPE (RFC 1091). */
enum { TTYPE_IS = 0, TTYPE_SEND = 1 };

static int
queued(const uint8_t *q, int opt)
{
    return (q[opt >> 3] >> (opt & 7)) & 1;
}

static void
set_queued(uint8_t *q, int opt, int on)
{
    if (on)
        q[opt >> 3] |= (uint8_t)(1u << (opt & 7));
    else
        q[opt >> 3] &= (uint8_t) ~(1u << (opt & 7));
}

static void
send_cmd(tn_t *tn, int cmd, int opt)
{
    uint8_t b[3] = {TN_IAC, (uint8_t)cmd, (uint8_t)opt};
    tn->cb->send(tn->ctx, b, 3);
}

static void
event(tn_t *tn, int ev, int opt, const char *data, size_t len)
{
    tn->cb->event(tn->ctx, tn, ev, opt, data, len);
}

/* Options we agree to do when the client asks (DO) without our asking first.
 * ECHO only ever on our own initiative (a password prompt). */
static int
agree_us(int opt)
{
    return opt == TELOPT_SGA || opt == TELOPT_GMCP || opt == TELOPT_MSSP || opt == TELOPT_MCCP2 || opt == TELOPT_CHARSET;
}

/* Options we agree the client does when it offers (WILL). */
static int
agree_him(int opt)
{
    return opt == TELOPT_NAWS || opt == TELOPT_TTYPE || opt == TELOPT_CHARSET;
}

/* A refusal is answered only the first few times: a client repeating a
 * refused request (or flooding them) is then ignored. */
static void
refuse(tn_t *tn, int cmd, int opt)
{
    if (tn->refused[opt] < REFUSALS_ANSWERED) {
        tn->refused[opt]++;
        send_cmd(tn, cmd, opt);
    }
}

/* RFC 1143, section 7: the client's WILL / WONT (his side), DO / DONT (ours). */
static void
got_will(tn_t *tn, int opt, int on, uint8_t *st, uint8_t *q, int yes_cmd, int no_cmd, int (*agree)(int), int ev_on, int ev_off)
{
    switch (st[opt]) {
    case TN_Q_NO:
        if (on && agree(opt)) {
            st[opt] = TN_Q_YES;
            send_cmd(tn, yes_cmd, opt);
            event(tn, ev_on, opt, NULL, 0);
        } else if (on) {
            refuse(tn, no_cmd, opt);
        }
        break;
    case TN_Q_YES:
        if (!on) {
            st[opt] = TN_Q_NO;
            send_cmd(tn, no_cmd, opt);
            event(tn, ev_off, opt, NULL, 0);
        }
        break;
    case TN_Q_WANTNO:
        if (!queued(q, opt)) {
            st[opt] = TN_Q_NO; /* on: "DONT answered by WILL" is an error; NO either way */
            event(tn, ev_off, opt, NULL, 0);
        } else if (on) {
            st[opt] = TN_Q_YES;
            set_queued(q, opt, 0);
        } else {
            st[opt] = TN_Q_WANTYES;
            set_queued(q, opt, 0);
            send_cmd(tn, yes_cmd, opt);
        }
        break;
    case TN_Q_WANTYES:
        if (on && !queued(q, opt)) {
            st[opt] = TN_Q_YES;
            event(tn, ev_on, opt, NULL, 0);
        } else if (on) {
            st[opt] = TN_Q_WANTNO;
            set_queued(q, opt, 0);
            send_cmd(tn, no_cmd, opt);
        } else {
            st[opt] = TN_Q_NO;
            set_queued(q, opt, 0);
        }
        break;
    }
}

static void
request(tn_t *tn, int opt, int on, uint8_t *st, uint8_t *q, int yes_cmd, int no_cmd, int ev_off)
{
    switch (st[opt]) {
    case TN_Q_NO:
        if (on) {
            st[opt] = TN_Q_WANTYES;
            send_cmd(tn, yes_cmd, opt);
        }
        break;
    case TN_Q_YES:
        if (!on) {
            st[opt] = TN_Q_WANTNO;
            send_cmd(tn, no_cmd, opt);
            event(tn, ev_off, opt, NULL, 0); /* stop using it now: the answer only confirms */
        }
        break;
    case TN_Q_WANTNO:
        set_queued(q, opt, on);
        break;
    case TN_Q_WANTYES:
        set_queued(q, opt, !on);
        break;
    }
}

void
tn_us_request(tn_t *tn, int opt, int on)
{
    request(tn, opt & 255, on, tn->us, tn->us_queue, TN_WILL, TN_WONT, TN_EV_US_OFF);
}

void
tn_him_request(tn_t *tn, int opt, int on)
{
    request(tn, opt & 255, on, tn->him, tn->him_queue, TN_DO, TN_DONT, TN_EV_HIM_OFF);
}

void
tn_init(tn_t *tn, const tn_callbacks_t *cb, void *ctx, size_t max_line, size_t max_sb)
{
    memset(tn, 0, sizeof(*tn));
    tn->cb = cb;
    tn->ctx = ctx;
    tn->max_line = max_line;
    tn->max_sb = max_sb;
}

void
tn_free(tn_t *tn)
{
    free(tn->line);
    free(tn->sb);
    tn->line = tn->sb = NULL;
    tn->line_len = tn->line_cap = tn->sb_len = tn->sb_cap = 0;
}

void
tn_stop(tn_t *tn)
{
    tn->cb = NULL;
}

void
tn_send_sb(tn_t *tn, int opt, const void *payload, size_t len)
{
    uint8_t head[3] = {TN_IAC, TN_SB, (uint8_t)opt};
    tn->cb->send(tn->ctx, head, 3);
    const uint8_t *p = payload;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == TN_IAC) {
            /* IAC inside the payload is doubled */
            tn->cb->send(tn->ctx, p + start, i - start + 1);
            start = i;
        }
    }
    if (start < len)
        tn->cb->send(tn->ctx, p + start, len - start);
    static const uint8_t tail[2] = {TN_IAC, TN_SE};
    tn->cb->send(tn->ctx, tail, 2);
}

/* ---- lines ---- */

static void
line_put(tn_t *tn, uint8_t c)
{
    if (tn->line_dropping)
        return;
    if (tn->line_len >= tn->max_line) {
        tn->line_dropping = 1;
        tn->line_len = 0;
        event(tn, TN_EV_LINE_TOO_LONG, 0, NULL, 0);
        return;
    }
    if (tn->line_len == tn->line_cap) {
        tn->line_cap = tn->line_cap ? tn->line_cap * 2 : 128;
        if (tn->line_cap > tn->max_line)
            tn->line_cap = tn->max_line;
        tn->line = tale_xrealloc(tn->line, tn->line_cap);
    }
    tn->line[tn->line_len++] = (char)c;
}

/* Backspace / DEL / IAC EC: the last character (a whole UTF-8 sequence). */
static void
line_erase_char(tn_t *tn)
{
    while (tn->line_len > 0 && ((uint8_t)tn->line[tn->line_len - 1] & 0xc0) == 0x80)
        tn->line_len--;
    if (tn->line_len > 0)
        tn->line_len--;
}

/* Replace what is not UTF-8 (a Latin-1 client, garbage) with '?', so the
 * game only ever sees valid text. */
static void
fix_utf8(char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = (uint8_t)s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        int ok = n > 0 && i + n <= len && !(n == 2 && c < 0xc2) && !(n == 4 && c > 0xf4);
        for (size_t k = 1; ok && k < n; k++)
            ok = ((uint8_t)s[i + k] & 0xc0) == 0x80;
        if (ok && n == 3) {
            uint8_t d = (uint8_t)s[i + 1];
            ok = !(c == 0xe0 && d < 0xa0) && !(c == 0xed && d >= 0xa0); /* overlong, surrogates */
        }
        if (ok && n == 4) {
            uint8_t d = (uint8_t)s[i + 1];
            ok = !(c == 0xf0 && d < 0x90) && !(c == 0xf4 && d >= 0x90);
        }
        if (!ok) {
            s[i++] = '?';
            continue;
        }
        i += n;
    }
}

static void
line_end(tn_t *tn)
{
    if (tn->line_dropping) {
        tn->line_dropping = 0;
        tn->line_len = 0;
        return;
    }
    size_t len = tn->line_len;
    tn->line_len = 0;
    fix_utf8(tn->line, len);
    event(tn, TN_EV_LINE, 0, len > 0 ? tn->line : "", len);
}

static void
data_byte(tn_t *tn, uint8_t c)
{
    int after_cr = tn->last_cr;
    tn->last_cr = 0;
    if (c == '\r') {
        tn->last_cr = 1;
        line_end(tn);
    } else if (c == '\n') {
        if (!after_cr) /* CR LF is one line end */
            line_end(tn);
    } else if (c == 0) {
        /* CR NUL is a bare CR (RFC 854); a NUL anywhere else is dropped */
    } else if (c == 8 || c == 0x7f) {
        line_erase_char(tn);
    } else if (c == '\t') {
        line_put(tn, ' ');
    } else if (c < 0x20) {
        /* other controls (ESC among them) never reach the game */
    } else {
        line_put(tn, c);
    }
}

/* ---- subnegotiations ---- */

static void
sb_put(tn_t *tn, uint8_t c)
{
    if (tn->sb_dropping)
        return;
    if (tn->sb_len >= tn->max_sb) {
        tn->sb_dropping = 1;
        event(tn, TN_EV_SB_TOO_LONG, tn->sb_opt, NULL, 0);
        return;
    }
    if (tn->sb_len == tn->sb_cap) {
        tn->sb_cap = tn->sb_cap ? tn->sb_cap * 2 : 64;
        if (tn->sb_cap > tn->max_sb)
            tn->sb_cap = tn->max_sb;
        tn->sb = tale_xrealloc(tn->sb, tn->sb_cap);
    }
    tn->sb[tn->sb_len++] = (char)c;
}

static void
ttype_is(tn_t *tn, const char *p, size_t len)
{
    if (tn->ttype_cycle >= 3)
        return;
    char name[32];
    size_t n = 0;
    for (size_t i = 0; i < len && n < sizeof(name) - 1; i++)
        if ((uint8_t)p[i] >= 0x20 && (uint8_t)p[i] < 0x7f)
            name[n++] = p[i];
    name[n] = '\0';
    /* the cycle ends when the client repeats itself */
    if (tn->ttype_cycle > 0 && strcmp(name, tn->ttype[tn->ttype_cycle - 1]) == 0)
        return;
    memcpy(tn->ttype[tn->ttype_cycle], name, n + 1);
    tn->ttype_cycle++;
    if (strncasecmp(name, "MTTS ", 5) == 0)
        tn->mtts = (unsigned)strtoul(name + 5, NULL, 10);
    event(tn, TN_EV_TTYPE, TELOPT_TTYPE, name, n);
    if (tn->ttype_cycle < 3 && tn->cb != NULL) {
        static const uint8_t send = TTYPE_SEND;
        tn_send_sb(tn, TELOPT_TTYPE, &send, 1);
    }
}

static void
sb_end(tn_t *tn)
{
    int opt = tn->sb_opt;
    const char *p = tn->sb;
    size_t len = tn->sb_len;
    tn->sb_len = 0;
    if (tn->sb_dropping) {
        tn->sb_dropping = 0;
        return;
    }
    /* a subnegotiation for an option not in force is ignored (RFC 855) */
    if (opt == TELOPT_NAWS && tn_him(tn, opt)) {
        if (len == 4) {
            tn->width = ((unsigned)(uint8_t)p[0] << 8) | (uint8_t)p[1];
            tn->height = ((unsigned)(uint8_t)p[2] << 8) | (uint8_t)p[3];
            event(tn, TN_EV_NAWS, opt, NULL, 0);
        }
    } else if (opt == TELOPT_TTYPE && tn_him(tn, opt)) {
        if (len >= 1 && p[0] == TTYPE_IS)
            ttype_is(tn, p + 1, len - 1);
    } else if (opt == TELOPT_CHARSET && (tn_us(tn, opt) || tn_him(tn, opt))) {
        if (len >= 1 && p[0] == CHARSET_ACCEPTED) {
            tn->utf8 = len - 1 == 5 && strncasecmp(p + 1, "UTF-8", 5) == 0;
            event(tn, TN_EV_CHARSET, opt, NULL, 0);
        } else if (len >= 1 && p[0] == CHARSET_REJECTED) {
            tn->utf8 = 0;
            event(tn, TN_EV_CHARSET, opt, NULL, 0);
        } else if (len >= 2 && p[0] == CHARSET_REQUEST) {
            /* the client offers ";a;b;c" (the first byte is the separator): take UTF-8 if offered */
            char sep = p[1];
            const char *s = p + 2, *end = p + len;
            int found = 0;
            while (s <= end && !found) {
                const char *e = memchr(s, sep, (size_t)(end - s));
                if (e == NULL)
                    e = end;
                found = e - s == 5 && strncasecmp(s, "UTF-8", 5) == 0;
                s = e + 1;
            }
            uint8_t answer[6] = {found ? CHARSET_ACCEPTED : CHARSET_REJECTED, 'U', 'T', 'F', '-', '8'};
            tn_send_sb(tn, TELOPT_CHARSET, answer, found ? 6 : 1);
            tn->utf8 = found;
            event(tn, TN_EV_CHARSET, opt, NULL, 0);
        }
    } else if (opt == TELOPT_GMCP && tn_us(tn, opt)) {
        event(tn, TN_EV_GMCP, opt, p != NULL ? p : "", len);
    }
}

/* ---- the byte parser ---- */

size_t
tn_feed(tn_t *tn, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    size_t i;
    for (i = 0; i < len && tn->cb != NULL; i++) {
        uint8_t c = p[i];
        tn->bytes_in++;
        switch (tn->state) {
        case ST_DATA:
            if (c == TN_IAC)
                tn->state = ST_IAC;
            else
                data_byte(tn, c);
            break;
        case ST_IAC:
            tn->state = ST_DATA;
            if (c == TN_IAC) {
                data_byte(tn, c); /* an escaped 255: not valid UTF-8 on its own; fix_utf8 replaces it */
            } else if (c == TN_WILL || c == TN_WONT || c == TN_DO || c == TN_DONT) {
                tn->cmd = c;
                tn->state = ST_CMD;
            } else if (c == TN_SB) {
                tn->state = ST_SB_OPT;
            } else if (c == TN_EC) {
                line_erase_char(tn);
            } else if (c == TN_EL) {
                tn->line_len = 0;
            }
            /* NOP, GA, AYT, BRK, IP, AO, DM, a stray SE: nothing to do */
            break;
        case ST_CMD:
            tn->state = ST_DATA;
            if (tn->cmd == TN_WILL || tn->cmd == TN_WONT)
                got_will(tn, c, tn->cmd == TN_WILL, tn->him, tn->him_queue, TN_DO, TN_DONT, agree_him, TN_EV_HIM_ON, TN_EV_HIM_OFF);
            else
                got_will(tn, c, tn->cmd == TN_DO, tn->us, tn->us_queue, TN_WILL, TN_WONT, agree_us, TN_EV_US_ON, TN_EV_US_OFF);
            break;
        case ST_SB_OPT:
            tn->sb_opt = c;
            tn->sb_len = 0;
            tn->sb_dropping = 0;
            tn->state = ST_SB;
            break;
        case ST_SB:
            if (c == TN_IAC)
                tn->state = ST_SB_IAC;
            else
                sb_put(tn, c);
            break;
        case ST_SB_IAC:
            if (c == TN_SE) {
                tn->state = ST_DATA;
                sb_end(tn);
            } else if (c == TN_IAC) {
                tn->state = ST_SB;
                sb_put(tn, c);
            } else {
                /* IAC <cmd> inside a subnegotiation: the client forgot IAC SE.  End
                 * it here (dropped) and read the command as if outside. */
                tn->sb_len = 0;
                tn->sb_dropping = 0;
                tn->state = ST_IAC;
                i--; /* this byte again, in ST_IAC */
                tn->bytes_in--;
            }
            break;
        }
    }
    return i;
}

int
tn_client_ansi(const tn_t *tn)
{
    if (tn->mtts != 0)
        return (tn->mtts & TN_MTTS_ANSI) != 0;
    static const char *const colour_terms[] = {"ANSI",   "XTERM", "VT100",          "VT102",  "VT220",    "LINUX",
                                               "SCREEN", "TMUX",  "RXVT",           "MUDLET", "TINTIN++", "MUSHCLIENT",
                                               "ZMUD",   "CMUD",  "XTERM-256COLOR", NULL};
    for (unsigned i = 0; i < tn->ttype_cycle; i++) {
        for (size_t k = 0; colour_terms[k] != NULL; k++) {
            size_t n = strlen(colour_terms[k]);
            if (strncasecmp(tn->ttype[i], colour_terms[k], n) == 0)
                return 1;
        }
    }
    return 0;
}
