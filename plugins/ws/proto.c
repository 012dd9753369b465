/*
 * proto.c - the pure parts of the WebSocket transport (see proto.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "proto.h"

#include <tale/plugin.h>

#include <string.h>

/* What browsers and LlamaTale pages send for "yes": true, 1, "1". */
static int
is_truthy(json_t *v)
{
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0) ||
           (json_is_string(v) && strcmp(json_string_value(v), "1") == 0) || (json_is_real(v) && json_real_value(v) != 0);
}

/* What the browser sends for nearly every command: JSON.stringify({cmd: c})
 * with c plain printable ASCII.  Taken without a JSON parser (that is a
 * measurable part of a command's cost); anything else, even a space more,
 * goes to jansson.  The fuzz target checks that both ways agree. */
static int
plain_command(const uint8_t *data, size_t len, ws_input_t *in)
{
    static const char head[] = "{\"cmd\":\"", tail[] = "\"}";
    const size_t hl = sizeof(head) - 1, tl = sizeof(tail) - 1;
    if (len < hl + tl || memcmp(data, head, hl) != 0 || memcmp(data + len - tl, tail, tl) != 0)
        return 0;
    for (size_t i = hl; i < len - tl; i++)
        if (data[i] < 0x20 || data[i] > 0x7e || data[i] == '"' || data[i] == '\\')
            return 0;
    in->cmd = (const char *)data + hl;
    in->len = len - hl - tl;
    return 1;
}

ws_input_kind_t
ws_input_decode(const uint8_t *data, size_t len, ws_input_t *in)
{
    json_error_t jerr;
    memset(in, 0, sizeof(*in));
    if (plain_command(data, len, in))
        return WS_INPUT_COMMAND;
    in->json = json_loadb((const char *)data, len, JSON_DECODE_ANY, &jerr);
    if (in->json == NULL) {
        in->cmd = (const char *)data;
        in->len = len;
        return WS_INPUT_COMMAND;
    }
    if (!json_is_object(in->json))
        return WS_INPUT_NOT_OBJECT;
    json_t *cmd = json_object_get(in->json, "cmd");
    if (!json_is_string(cmd))
        return WS_INPUT_NO_CMD;
    in->cmd = json_string_value(cmd);
    in->len = json_string_length(cmd);
    in->flags = is_truthy(json_object_get(in->json, "autocomplete")) ? TALE_INPUT_AUTOCOMPLETE : 0;
    return WS_INPUT_COMMAND;
}

void
ws_input_release(ws_input_t *in)
{
    json_decref(in->json);
    in->json = NULL;
}

int
ws_parse_resume(const char *query, size_t len, uint64_t *out)
{
    const char *q = query, *end = query + len;
    *out = 0;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pend = amp != NULL ? amp : end;
        if ((size_t)(pend - q) >= 7 && memcmp(q, "resume=", 7) == 0) {
            const char *d = q + 7;
            if (d == pend || pend - d > 20)
                return -1;
            uint64_t v = 0;
            for (; d < pend; ++d) {
                if (*d < '0' || *d > '9' || v > (UINT64_MAX - (uint64_t)(*d - '0')) / 10)
                    return -1;
                v = v * 10 + (uint64_t)(*d - '0');
            }
            *out = v;
        }
        q = pend + 1;
    }
    return 0;
}

/* ---- the frame-header scanner ---- */

enum { SCAN_B0, SCAN_B1, SCAN_EXT, SCAN_MASK, SCAN_PAYLOAD, SCAN_REFUSED };

void
ws_scan_init(ws_scan_t *s, uint64_t max_message)
{
    memset(s, 0, sizeof(*s));
    s->max_message = max_message;
    s->state = SCAN_B0;
}

void
ws_scan_allow_rsv1(ws_scan_t *s)
{
    s->rsv1_ok = 1;
}

int
ws_scan_at_message_boundary(const ws_scan_t *s)
{
    return s->state == SCAN_B0 && !s->in_msg;
}

/* Refuse the stream for good; the caller passes on only the bytes before the deciding one. */
static int
scan_refuse(ws_scan_t *s, int code, const char *reason)
{
    s->code = code;
    s->reason = reason;
    s->state = SCAN_REFUSED;
    return -1;
}

/* The first header byte: FIN, RSV1-3 and the opcode (RFC 6455, 5.2, 5.4, 5.5).
 * RSV1 is permessage-deflate's, when negotiated (RFC 7692, 6); the other
 * bits belong to no extension we speak. */
static int
scan_b0(ws_scan_t *s, uint8_t b)
{
    unsigned op = b & 0x0f, fin = b & 0x80;
    if ((b & 0x30) != 0 || ((b & 0x40) != 0 && !s->rsv1_ok))
        return scan_refuse(s, 1002, "reserved bits set without a negotiated extension");
    if ((b & 0x40) != 0 && op != 1 && op != 2)
        return scan_refuse(s, 1002, "RSV1 set on a continuation or control frame");
    if ((op >= 3 && op <= 7) || op >= 0xb)
        return scan_refuse(s, 1002, "reserved opcode");
    if (op >= 8 && !fin)
        return scan_refuse(s, 1002, "fragmented control frame");
    if (op == 0 && !s->in_msg)
        return scan_refuse(s, 1002, "continuation frame without a message to continue");
    if ((op == 1 || op == 2) && s->in_msg)
        return scan_refuse(s, 1002, "new data message inside a fragmented one");
    s->b0 = b;
    s->state = SCAN_B1;
    return 0;
}

/* The whole payload length is known: check it against max_message (data
 * frames only; a control frame is at most 125 bytes and stands apart from
 * the message it may interrupt), then expect the mask key. */
static int
scan_length_known(ws_scan_t *s)
{
    unsigned op = s->b0 & 0x0f, fin = s->b0 & 0x80;
    if (op < 8) {
        /* msg_len <= max_message always holds, so the subtraction cannot wrap */
        if (s->len > s->max_message - s->msg_len)
            return scan_refuse(s, 1009, "message too big");
        s->msg_len = fin ? 0 : s->msg_len + s->len;
        s->in_msg = !fin;
    }
    s->left = s->len;
    s->need = 4;
    s->state = SCAN_MASK;
    return 0;
}

/* The second header byte: MASK and the 7-bit length (5.1: a client masks
 * every frame; 5.5: a control frame carries at most 125 bytes; 5.5.1: a
 * close body is empty or starts with a 2-byte code). */
static int
scan_b1(ws_scan_t *s, uint8_t b)
{
    unsigned op = s->b0 & 0x0f, len7 = b & 0x7f;
    if ((b & 0x80) == 0)
        return scan_refuse(s, 1002, "client frame not masked");
    if (op >= 8 && len7 > 125)
        return scan_refuse(s, 1002, "control frame payload over 125 bytes");
    if (op == 8 && len7 == 1)
        return scan_refuse(s, 1002, "close frame with a 1-byte payload");
    s->len = 0;
    if (len7 >= 126) {
        s->ext = s->need = len7 == 126 ? 2 : 8;
        s->state = SCAN_EXT;
        return 0;
    }
    s->len = len7;
    return scan_length_known(s);
}

/* One byte of the 16- or 64-bit extended length (5.2: network order, the
 * 64-bit form's most significant bit clear, and the shortest form used). */
static int
scan_ext(ws_scan_t *s, uint8_t b)
{
    if (s->ext == 8 && s->need == 8 && (b & 0x80) != 0)
        return scan_refuse(s, 1002, "payload length with the most significant bit set");
    s->len = s->len << 8 | b;
    if (--s->need != 0)
        return 0;
    if ((s->ext == 2 && s->len < 126) || (s->ext == 8 && s->len < 65536))
        return scan_refuse(s, 1002, "payload length not in its shortest form");
    return scan_length_known(s);
}

size_t
ws_scan_feed(ws_scan_t *s, const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n;
        switch (s->state) {
        case SCAN_PAYLOAD: /* skipped by its length: payload bytes are never looked at */
            n = s->left < len - i ? (size_t)s->left : len - i;
            i += n;
            s->left -= n;
            if (s->left == 0)
                s->state = SCAN_B0;
            break;
        case SCAN_MASK:
            n = s->need < len - i ? s->need : len - i;
            i += n;
            s->need -= (uint8_t)n;
            if (s->need == 0)
                s->state = s->left != 0 ? SCAN_PAYLOAD : SCAN_B0;
            break;
        case SCAN_REFUSED:
            return 0;
        default: /* a header byte that decides something: one at a time */
            if ((s->state == SCAN_B0 ? scan_b0(s, data[i]) : s->state == SCAN_B1 ? scan_b1(s, data[i]) : scan_ext(s, data[i])) != 0)
                return i;
            ++i;
            break;
        }
    }
    return i;
}
