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

/* Byte by byte: a header may hold a NUL, which must not end the comparison
 * early (strncasecmp would). */
static int
same_host_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if ((x >= 'A' && x <= 'Z' ? x + 32 : x) != (y >= 'A' && y <= 'Z' ? y + 32 : y))
            return 0;
    }
    return 1;
}

int
ws_origin_allowed(const char *origin, size_t olen, const char *authority, size_t alen, char *const *allowed, size_t nallowed,
                  int any)
{
    if (origin == NULL || any)
        return 1;
    for (size_t i = 0; i < nallowed; ++i)
        if (same_host_ci(origin, olen, allowed[i], strlen(allowed[i])))
            return 1;
    const char *sep = memmem(origin, olen, "://", 3);
    if (sep == NULL || alen == 0)
        return 0;
    const char *host = sep + 3;
    return same_host_ci(host, olen - (size_t)(host - origin), authority, alen);
}
