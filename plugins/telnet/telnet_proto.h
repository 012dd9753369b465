/*
 * telnet_proto.h - the telnet plugin's protocol core (plugin-internal): the
 * byte parser (RFC 854 commands, RFC 855 subnegotiation), option
 * negotiation by the Q method of RFC 1143 (so two peers can never loop),
 * line assembly, and the small decoders of the options the plugin speaks
 * (NAWS, TTYPE/MTTS, CHARSET, GMCP).  No sockets and no h2o: what it wants
 * sent goes through a callback, so the unit tests and the fuzzer drive it
 * byte by byte.
 */
#ifndef TALE_TELNET_PROTO_H
#define TALE_TELNET_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Commands (RFC 854). */
enum {
    TN_SE = 240,
    TN_NOP = 241,
    TN_GA = 249,
    TN_SB = 250,
    TN_WILL = 251,
    TN_WONT = 252,
    TN_DO = 253,
    TN_DONT = 254,
    TN_IAC = 255,
    TN_EC = 247, /* erase character */
    TN_EL = 248, /* erase line */
};

/* The options this transport knows; everything else is refused. */
enum {
    TELOPT_ECHO = 1,
    TELOPT_SGA = 3,
    TELOPT_TTYPE = 24,
    TELOPT_NAWS = 31,
    TELOPT_CHARSET = 42,
    TELOPT_MSSP = 70,
    TELOPT_MCCP2 = 86,
    TELOPT_GMCP = 201,
};

/* Q-method state of one side of one option (RFC 1143). */
enum tn_q { TN_Q_NO = 0, TN_Q_YES, TN_Q_WANTNO, TN_Q_WANTYES };

/* What the parser reports to its owner. */
enum tn_event {
    TN_EV_LINE,          /* a complete input line (data, len): UTF-8, controls removed, no line end */
    TN_EV_US_ON,         /* we now do option `opt` (the client said DO) */
    TN_EV_US_OFF,        /* we no longer do `opt` */
    TN_EV_HIM_ON,        /* the client now does `opt` (it said WILL) */
    TN_EV_HIM_OFF,       /* the client no longer does `opt` */
    TN_EV_NAWS,          /* width/height changed */
    TN_EV_TTYPE,         /* a terminal type arrived (data, len); ttype_cycle says which answer */
    TN_EV_CHARSET,       /* the charset answer settled (utf8 says whether it is UTF-8) */
    TN_EV_GMCP,          /* a GMCP message: data = "Package.Name json", len */
    TN_EV_LINE_TOO_LONG, /* an input line passed max_line: it is being dropped up to its end */
    TN_EV_SB_TOO_LONG,   /* a subnegotiation passed max_sb: it is being dropped up to IAC SE */
};

typedef struct tn tn_t;

typedef struct tn_callbacks {
    /* bytes to send to the client, in order */
    void (*send)(void *ctx, const void *bytes, size_t len);
    /* something happened (see enum tn_event); data/len for LINE, TTYPE, GMCP */
    void (*event)(void *ctx, tn_t *tn, int ev, int opt, const char *data, size_t len);
} tn_callbacks_t;

struct tn {
    const tn_callbacks_t *cb;
    void *ctx;
    size_t max_line, max_sb; /* limits: bytes of one input line, of one subnegotiation */
    /* parser */
    uint8_t state;
    uint8_t cmd;     /* the WILL/WONT/DO/DONT being read */
    uint8_t sb_opt;  /* the option of the subnegotiation being read */
    uint8_t last_cr; /* the last data byte was CR: a following LF or NUL belongs to it */
    uint8_t line_dropping, sb_dropping;
    char *line; /* the input line being assembled (malloc'd on demand) */
    size_t line_len, line_cap;
    char *sb; /* the subnegotiation being read */
    size_t sb_len, sb_cap;
    /* Q method: us = our side (WILL/WONT), him = the client's (DO/DONT);
     * the `want_opposite` bits queue the other request (RFC 1143 "OPPOSITE") */
    uint8_t us[256], him[256];
    uint8_t us_queue[256 / 8], him_queue[256 / 8];
    uint8_t refused[256]; /* requests refused per option: past a few, repeats are ignored (no echo of a flood) */
    /* what the options told us */
    unsigned width, height; /* NAWS; 0: unknown */
    char ttype[3][32];      /* TTYPE answers: client name, terminal, "MTTS n" (cycle order) */
    unsigned ttype_cycle;   /* answers received */
    unsigned mtts;          /* the MTTS bit field; 0: none reported */
    int utf8;               /* CHARSET agreed UTF-8 */
    uint64_t bytes_in;
};

/* Set up (zeroed state) with the limits; free with tn_free. */
void tn_init(tn_t *tn, const tn_callbacks_t *cb, void *ctx, size_t max_line, size_t max_sb);
void tn_free(tn_t *tn);
/* Feed bytes from the client.  Events and sends happen inside the call.
 * The owner may call tn_stop from an event to stop at once (the rest of the
 * bytes is dropped); returns the bytes consumed. */
size_t tn_feed(tn_t *tn, const void *bytes, size_t len);
void tn_stop(tn_t *tn);

/* Ask to enable/disable our side (WILL/WONT) or the client's (DO/DONT),
 * following the Q method: nothing is sent when the state already is (or is
 * on its way to) what is asked. */
void tn_us_request(tn_t *tn, int opt, int on);
void tn_him_request(tn_t *tn, int opt, int on);
static inline int
tn_us(const tn_t *tn, int opt)
{
    return tn->us[opt] == TN_Q_YES;
}
static inline int
tn_him(const tn_t *tn, int opt)
{
    return tn->him[opt] == TN_Q_YES;
}

/* Send a subnegotiation: IAC SB opt <payload, IAC doubled> IAC SE. */
void tn_send_sb(tn_t *tn, int opt, const void *payload, size_t len);

/* MTTS bits (tintin.mudhalla.net/protocols/mtts). */
#define TN_MTTS_ANSI 1u
#define TN_MTTS_UTF8 4u
#define TN_MTTS_256 8u

/* Whether the client said it shows ANSI colour: MTTS, else a known TTYPE. */
int tn_client_ansi(const tn_t *tn);

#endif
