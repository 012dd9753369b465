/*
 * deflate.c - permessage-deflate (RFC 7692) for the WebSocket transport (see deflate.h).
 */
#include "deflate.h"

#include <tale/alloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* Shorter messages go out as they are: a deflate block's own overhead
 * (header, Huffman tables) eats what a few dozen bytes could gain. */
#define WS_DEFLATE_MIN_INPUT 64
#define WS_DEFLATE_LEVEL 6
/* A shared stream serves one message at a time, so it can afford zlib's
 * default hash size; a per-connection one (context takeover) is kept small. */
#define WS_DEFLATE_SHARED_MEMLEVEL 8
#define WS_DEFLATE_CONN_MEMLEVEL 4

static const uint8_t SYNC_TAIL[4] = {0x00, 0x00, 0xff,
                                     0xff}; /* RFC 7692, 7.2.1: stripped by the sender, put back by the receiver */

/* ---- negotiation ---- */

typedef struct cursor {
    const char *p, *end;
} cursor_t;

static int
is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void
skip_ows(cursor_t *cur)
{
    while (cur->p < cur->end && (*cur->p == ' ' || *cur->p == '\t'))
        ++cur->p;
}

static size_t
read_token(cursor_t *cur, const char **tok)
{
    *tok = cur->p;
    while (cur->p < cur->end && is_tchar(*cur->p))
        ++cur->p;
    return (size_t)(cur->p - *tok);
}

/* A quoted-string (RFC 7230, 3.2.6), unquoted into buf; longer than buf
 * reads whole but comes back as length size (no valid value is that long).
 * Returns -1 when the quote is not closed. */
static int
read_quoted(cursor_t *cur, char *buf, size_t size, size_t *len)
{
    size_t n = 0;
    ++cur->p; /* the opening quote */
    while (cur->p < cur->end && *cur->p != '"') {
        if (*cur->p == '\\') {
            if (++cur->p == cur->end)
                return -1;
        }
        if (n < size)
            buf[n] = *cur->p;
        ++n;
        ++cur->p;
    }
    if (cur->p == cur->end)
        return -1;
    ++cur->p;
    *len = n < size ? n : size;
    return 0;
}

/* Skip to just past the next list comma outside a quoted-string. */
static void
skip_element(cursor_t *cur)
{
    int quoted = 0;
    while (cur->p < cur->end) {
        char c = *cur->p++;
        if (quoted && c == '\\' && cur->p < cur->end)
            ++cur->p;
        else if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            return;
    }
}

static int
name_is(const char *s, size_t len, const char *name)
{
    return len == strlen(name) && strncasecmp(s, name, len) == 0;
}

/* A window size: 8 to 15, decimal, no leading zero (RFC 7692, 7.1.2). */
static int
window_bits(const char *v, size_t len)
{
    if (len == 1 && v[0] >= '8' && v[0] <= '9')
        return v[0] - '0';
    if (len == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
        return 10 + v[1] - '0';
    return -1;
}

typedef struct offer {
    int deflate;   /* the extension is permessage-deflate */
    int declined;  /* a parameter we must refuse */
    unsigned seen; /* which parameters came, to refuse a repeat */
    int server_no_takeover, client_no_takeover;
    int server_bits; /* 0: not offered */
    int client_bits; /* 0: not offered, -1: offered without a value */
} offer_t;

enum { SEEN_SNCT = 1, SEEN_CNCT = 2, SEEN_SMWB = 4, SEEN_CMWB = 8 };

/* One parameter of a permessage-deflate offer; val is NULL without "=". */
static void
offer_param(offer_t *o, const char *name, size_t nlen, const char *val, size_t vlen)
{
    unsigned bit;
    if (name_is(name, nlen, "server_no_context_takeover") && val == NULL) {
        bit = SEEN_SNCT;
        o->server_no_takeover = 1;
    } else if (name_is(name, nlen, "client_no_context_takeover") && val == NULL) {
        bit = SEEN_CNCT;
        o->client_no_takeover = 1;
    } else if (name_is(name, nlen, "server_max_window_bits") && val != NULL) {
        bit = SEEN_SMWB;
        o->server_bits = window_bits(val, vlen);
        /* 8 is valid, but zlib cannot keep to it for raw deflate: decline */
        if (o->server_bits < WS_DEFLATE_MIN_BITS)
            o->declined = 1;
    } else if (name_is(name, nlen, "client_max_window_bits")) {
        bit = SEEN_CMWB;
        o->client_bits = val != NULL ? window_bits(val, vlen) : -1;
        if (val != NULL && o->client_bits < 0)
            o->declined = 1;
    } else {
        o->declined = 1; /* unknown, or a value where none belongs (or none where one must be) */
        return;
    }
    if (o->seen & bit)
        o->declined = 1;
    o->seen |= bit;
}

/* Parse one list element (extension ; params) into *o.  Returns -1 on a syntax error. */
static int
parse_element(cursor_t *cur, offer_t *o)
{
    const char *name;
    size_t nlen;
    memset(o, 0, sizeof(*o));
    skip_ows(cur);
    if ((nlen = read_token(cur, &name)) == 0)
        return -1;
    o->deflate = name_is(name, nlen, "permessage-deflate");
    for (;;) {
        skip_ows(cur);
        if (cur->p == cur->end)
            return 0;
        if (*cur->p == ',') {
            ++cur->p;
            return 0;
        }
        if (*cur->p != ';')
            return -1;
        ++cur->p;
        skip_ows(cur);
        const char *pname, *val = NULL;
        size_t plen, vlen = 0;
        char qbuf[8];
        if ((plen = read_token(cur, &pname)) == 0)
            return -1;
        skip_ows(cur);
        if (cur->p < cur->end && *cur->p == '=') {
            ++cur->p;
            skip_ows(cur);
            if (cur->p < cur->end && *cur->p == '"') {
                if (read_quoted(cur, qbuf, sizeof(qbuf), &vlen) != 0)
                    return -1;
                val = qbuf;
            } else if ((vlen = read_token(cur, &val)) == 0) {
                return -1;
            }
        }
        offer_param(o, pname, plen, val, vlen);
    }
}

/* Whether we take this offer, and on what terms. */
static int
accept_offer(const offer_t *o, const ws_deflate_conf_t *conf, ws_deflate_params_t *out)
{
    if (!o->deflate || o->declined)
        return 0;
    memset(out, 0, sizeof(*out));
    out->on = 1;
    out->server_bits = (uint8_t)conf->window_bits;
    if (o->server_bits != 0 && o->server_bits < out->server_bits)
        out->server_bits = (uint8_t)o->server_bits;
    out->server_no_takeover = (uint8_t)(conf->no_context_takeover || o->server_no_takeover);
    /* A server may always tell the client not to keep its context (7.1.1.2):
     * that is what lets one inflate stream serve every connection. */
    out->client_no_takeover = (uint8_t)(conf->no_context_takeover || o->client_no_takeover);
    out->client_bits = WS_DEFLATE_MAX_BITS;
    /* Keeping a stream per connection, bound its window if the client lets us. */
    if (!out->client_no_takeover && o->client_bits != 0)
        out->client_bits = (uint8_t)(o->client_bits > 0 && o->client_bits < conf->window_bits ? o->client_bits : conf->window_bits);
    if (out->client_bits < WS_DEFLATE_MIN_BITS)
        out->client_bits = WS_DEFLATE_MIN_BITS;
    return 1;
}

int
ws_deflate_negotiate(const char *value, size_t len, const ws_deflate_conf_t *conf, ws_deflate_params_t *out)
{
    cursor_t cur = {value, value + len};
    memset(out, 0, sizeof(*out));
    if (!conf->enabled)
        return 0;
    while (cur.p < cur.end) {
        offer_t o;
        if (parse_element(&cur, &o) != 0) {
            skip_element(&cur);
            continue;
        }
        if (accept_offer(&o, conf, out))
            return 1;
    }
    memset(out, 0, sizeof(*out));
    return 0;
}

size_t
ws_deflate_response(const ws_deflate_params_t *prm, char *buf, size_t size)
{
    char client_bits[32] = "";
    /* client_max_window_bits may only answer an offer of it; only then is client_bits below 15 */
    if (!prm->client_no_takeover && prm->client_bits < WS_DEFLATE_MAX_BITS)
        snprintf(client_bits, sizeof(client_bits), "; client_max_window_bits=%u", prm->client_bits);
    int n = snprintf(buf, size, "permessage-deflate%s%s; server_max_window_bits=%u%s",
                     prm->server_no_takeover ? "; server_no_context_takeover" : "",
                     prm->client_no_takeover ? "; client_no_context_takeover" : "", prm->server_bits, client_bits);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* ---- zlib ---- */

typedef struct buf {
    uint8_t *base;
    size_t cap;
} buf_t;

struct ws_deflate {
    z_stream *tx[WS_DEFLATE_MAX_BITS + 1]; /* shared deflate streams, one per window size in use */
    z_stream *rx;                          /* the shared inflate stream (window 2^15 reads any smaller) */
    buf_t out, in;                         /* compressed output; inflated input */
    /* The last message compressed with a shared stream, and what it gave:
     * a frame broadcast to a room goes to every player in turn, and with no
     * context takeover each would get the very same bytes. */
    buf_t last;
    size_t last_len, last_outlen;
    int last_bits, last_result;
};

static void
reserve(buf_t *b, size_t len)
{
    if (b->cap >= len)
        return;
    size_t cap = b->cap != 0 ? b->cap : 1024;
    while (cap < len)
        cap *= 2;
    b->base = tale_xrealloc(b->base, cap);
    b->cap = cap;
}

static z_stream *
new_deflate(int bits, int mem_level)
{
    z_stream *z = tale_xcalloc(1, sizeof(*z));
    int r = deflateInit2(z, WS_DEFLATE_LEVEL, Z_DEFLATED, -bits, mem_level, Z_DEFAULT_STRATEGY);
    if (r != Z_OK)
        tale_oom(sizeof(*z)); /* the arguments are in range: only memory can fail */
    return z;
}

static z_stream *
new_inflate(int bits)
{
    z_stream *z = tale_xcalloc(1, sizeof(*z));
    if (inflateInit2(z, -bits) != Z_OK)
        tale_oom(sizeof(*z));
    return z;
}

ws_deflate_t *
ws_deflate_new(void)
{
    return tale_xcalloc(1, sizeof(ws_deflate_t));
}

static void
free_deflate(z_stream *z)
{
    if (z != NULL) {
        deflateEnd(z);
        free(z);
    }
}

static void
free_inflate(z_stream *z)
{
    if (z != NULL) {
        inflateEnd(z);
        free(z);
    }
}

void
ws_deflate_free(ws_deflate_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i <= WS_DEFLATE_MAX_BITS; i++)
        free_deflate(d->tx[i]);
    free_inflate(d->rx);
    free(d->out.base);
    free(d->in.base);
    free(d->last.base);
    free(d);
}

void
ws_deflate_conn_release(ws_deflate_conn_t *c)
{
    free_deflate(c->tx);
    free_inflate(c->rx);
    c->tx = c->rx = NULL;
}

int
ws_deflate_compress(ws_deflate_t *d, ws_deflate_conn_t *c, const ws_deflate_params_t *prm, const uint8_t *in, size_t len,
                    const uint8_t **out, size_t *outlen)
{
    if (!prm->on || len < WS_DEFLATE_MIN_INPUT)
        return 0;
    z_stream *z;
    if (prm->server_no_takeover && d->last_bits == prm->server_bits && d->last_len == len && memcmp(d->last.base, in, len) == 0) {
        *out = d->out.base;
        *outlen = d->last_outlen;
        return d->last_result;
    }
    if (prm->server_no_takeover) {
        if (d->tx[prm->server_bits] == NULL)
            d->tx[prm->server_bits] = new_deflate(prm->server_bits, WS_DEFLATE_SHARED_MEMLEVEL);
        z = d->tx[prm->server_bits];
    } else {
        if (c->tx == NULL)
            c->tx = new_deflate(prm->server_bits, WS_DEFLATE_CONN_MEMLEVEL);
        z = c->tx;
    }
    size_t done = 0;
    reserve(&d->out, deflateBound(z, len) + 16);
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)len;
    for (;;) {
        z->next_out = d->out.base + done;
        z->avail_out = (uInt)(d->out.cap - done);
        int r = deflate(z, Z_SYNC_FLUSH);
        done = d->out.cap - z->avail_out;
        if (r != Z_OK && r != Z_BUF_ERROR) {
            deflateReset(z);
            d->last_bits = 0;
            return 0; /* cannot happen with a sound stream; the plain message is always right */
        }
        if (z->avail_in == 0 && z->avail_out != 0)
            break;
        reserve(&d->out, d->out.cap * 2);
    }
    if (prm->server_no_takeover)
        deflateReset(z);
    /* Z_SYNC_FLUSH ends on an empty stored block: its 4 bytes are implied (7.2.1) */
    if (done >= 4 && memcmp(d->out.base + done - 4, SYNC_TAIL, 4) == 0)
        done -= 4;
    /* Without context takeover a message may as well go out plain when it
     * would not shrink; with it, the client's window must see what ours saw. */
    int result = !(prm->server_no_takeover && done >= len);
    if (prm->server_no_takeover) {
        reserve(&d->last, len);
        memcpy(d->last.base, in, len);
        d->last_len = len;
        d->last_bits = prm->server_bits;
        d->last_outlen = done;
        d->last_result = result;
    } else {
        d->last_bits = 0; /* d->out no longer holds the shared result */
    }
    *out = d->out.base;
    *outlen = done;
    return result;
}

/* Feed len bytes to the inflater and take out what they give, stopping
 * once more than max bytes came out. */
static int
inflate_some(z_stream *z, buf_t *b, size_t *done, size_t max, const uint8_t *in, size_t len)
{
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)len;
    for (;;) {
        if (*done > max)
            return WS_INFLATE_TOO_BIG;
        /* room for max + 1 bytes at most: one byte past max is enough to know */
        size_t want = *done + 4096 < max + 1 ? *done + 4096 : max + 1;
        reserve(b, want);
        z->next_out = b->base + *done;
        z->avail_out = (uInt)(want - *done);
        int r = inflate(z, Z_SYNC_FLUSH);
        *done = want - z->avail_out;
        if (r == Z_STREAM_END)
            return WS_INFLATE_OK; /* a final block: whatever follows it is not deflate data */
        if (r != Z_OK && r != Z_BUF_ERROR)
            return WS_INFLATE_BAD;
        /* output space left over: everything given has been inflated (a
         * full output may hide a match still being copied: go round again) */
        if (z->avail_out != 0)
            return z->avail_in == 0 ? WS_INFLATE_OK : WS_INFLATE_BAD;
    }
}

ws_inflate_result_t
ws_deflate_inflate(ws_deflate_t *d, ws_deflate_conn_t *c, const ws_deflate_params_t *prm, const uint8_t *in, size_t len, size_t max,
                   const uint8_t **out, size_t *outlen)
{
    z_stream *z;
    if (prm->client_no_takeover) {
        if (d->rx == NULL)
            d->rx = new_inflate(WS_DEFLATE_MAX_BITS);
        z = d->rx;
    } else {
        if (c->rx == NULL)
            c->rx = new_inflate(prm->client_bits);
        z = c->rx;
    }
    size_t done = 0;
    int r = inflate_some(z, &d->in, &done, max, in, len);
    if (r == WS_INFLATE_OK)
        r = inflate_some(z, &d->in, &done, max, SYNC_TAIL, sizeof(SYNC_TAIL));
    /* A shared stream always starts afresh; a connection's own one after a
     * final block or a failure (the connection is closing then anyway). */
    if (prm->client_no_takeover || r != WS_INFLATE_OK || z->avail_in != 0)
        inflateReset(z);
    if (r != WS_INFLATE_OK)
        return (ws_inflate_result_t)r;
    *out = d->in.base;
    *outlen = done;
    return WS_INFLATE_OK;
}
