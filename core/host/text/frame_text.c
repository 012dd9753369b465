/*
 * frame_text.c - frames for non-HTML transports (host->frame_text and
 * host->frame_location, ABI 1.3): one place that knows the frame schema of
 * docs/PROTOCOL.md, so a telnet or terminal transport never parses JSON or
 * HTML itself.  Pure functions of their input (jansson only), so the mock
 * host and the fuzzers use them as they are.
 */
#include "html_text.h"

#include <tale/alloc.h>
#include <tale/plugin.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The public flags are the renderer's own, so they pass straight through. */
_Static_assert(TALE_TEXT_ANSI == TALE_HTML_ANSI && TALE_TEXT_SKIP_INPUT == TALE_HTML_SKIP_INPUT, "text flags");

static unsigned
special_bits(json_t *frame)
{
    unsigned bits = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(frame, "special"), i, v)
    {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, "clear") == 0)
            bits |= TALE_FRAME_CLEAR;
        else if (s != NULL && strcmp(s, "noecho") == 0)
            bits |= TALE_FRAME_NOECHO;
    }
    return bits;
}

/* A terminal cannot show an image: say what it was, in one line. */
static void
data_note(json_t *frame, unsigned flags, tale_buf_t *out)
{
    const char *id = json_string_value(json_object_get(frame, "id"));
    const char *data = json_string_value(json_object_get(frame, "data"));
    const char *type = "data";
    int tlen = 4;
    if (data != NULL && strncmp(data, "data:", 5) == 0) {
        type = data + 5;
        tlen = (int)strcspn(type, ";,");
        if (tlen > 64)
            tlen = 64;
    }
    /* the id is the story's, not the player's; still, nothing in it may drive the terminal */
    char safe_id[65];
    size_t n = 0;
    for (const char *p = id != NULL ? id : "default-image"; *p != '\0' && n < sizeof(safe_id) - 1; p++)
        if ((unsigned char)*p >= 0x20 && *p != 0x7f)
            safe_id[n++] = *p;
    safe_id[n] = '\0';
    char line[256];
    int len = snprintf(line, sizeof(line), "%s[%.*s for #%s: %zu bytes; open the web client to see it]%s\n",
                       (flags & TALE_TEXT_ANSI) ? "\033[2m" : "", tlen, type, safe_id, data != NULL ? strlen(data) : 0,
                       (flags & TALE_TEXT_ANSI) ? "\033[0m" : "");
    for (int i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\n' && line[i] != '\033')
            line[i] = '?';
    tale_buf_append(out, line, (size_t)len);
}

/* ---- the fast path: a scan of the host's own compact frames ----
 * A telnet player's every frame is rendered once for them, and a jansson
 * parse (a tree of every field, only to read three) was most of that cost.
 * The scan reads "type", "text" and "special" straight from the bytes the
 * host serialised; anything it does not expect (a data frame, an escape in
 * a key, malformed JSON) returns -1 and the caller takes the jansson path,
 * so both give the same result on every frame. */

typedef struct scan {
    const char *p, *end;
} scan_t;

static void
ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* A string at s->p: its raw bytes (escapes still in) in [*a, *b); *escaped if it has any. */
static int
raw_string(scan_t *s, const char **a, const char **b, int *escaped)
{
    if (s->p >= s->end || *s->p != '"')
        return -1;
    *a = ++s->p;
    *escaped = 0;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\') {
            *escaped = 1;
            s->p++;
        }
        s->p++;
    }
    if (s->p >= s->end)
        return -1;
    *b = s->p++;
    return 0;
}

/* Skip any value (strings, numbers, literals, nested arrays and objects). */
static int
skip_value(scan_t *s)
{
    const char *a, *b;
    int esc, depth = 0;
    do {
        ws(s);
        if (s->p >= s->end)
            return -1;
        char c = *s->p;
        if (c == '"') {
            if (raw_string(s, &a, &b, &esc) != 0)
                return -1;
        } else if (c == '{' || c == '[') {
            depth++;
            s->p++;
        } else if (c == '}' || c == ']') {
            if (--depth < 0)
                return -1;
            s->p++;
        } else if (c == ',' || c == ':') {
            if (depth == 0)
                return -1;
            s->p++;
        } else {
            while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' ')
                s->p++;
        }
    } while (depth > 0);
    return 0;
}

static int
hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* JSON string escapes to UTF-8, into out.  -1 on anything malformed. */
static int
unescape(const char *p, const char *end, tale_buf_t *out)
{
    while (p < end) {
        const char *q = p;
        while (q < end && *q != '\\')
            q++;
        tale_buf_append(out, p, (size_t)(q - p));
        if (q == end)
            break;
        if (end - q < 2)
            return -1;
        char e = q[1], c;
        p = q + 2;
        switch (e) {
        case '"':
            c = '"';
            break;
        case '\\':
            c = '\\';
            break;
        case '/':
            c = '/';
            break;
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (end - p < 4 || hex4(p, &cp) != 0)
                return -1;
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) != 0 || lo < 0xdc00 || lo >= 0xe000)
                    return -1;
                p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                return -1;
            }
            if (cp == 0)
                return -1; /* jansson refuses \u0000 without a flag: so do we */
            char u[4];
            size_t n;
            if (cp < 0x80) {
                u[0] = (char)cp, n = 1;
            } else if (cp < 0x800) {
                u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
            } else if (cp < 0x10000) {
                u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[2] = (char)(0x80 | (cp & 0x3f)),
                n = 3;
            } else {
                u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
            }
            tale_buf_append(out, u, n);
            continue;
        }
        default:
            return -1;
        }
        tale_buf_append(out, &c, 1);
    }
    return 0;
}

/* Render a text frame by scanning.  0 with the text in *out, or -1: take the jansson path. */
static int
scan_text_frame(const char *json, size_t json_len, const tale_html_opts_t *opts, tale_buf_t *out, unsigned *bits)
{
    scan_t s = {json, json + json_len};
    const char *text_a = NULL, *text_b = NULL;
    int text_esc = 0, is_text = 0;
    unsigned seen = 0; /* text, type, special: each at most once */
    *bits = 0;
    ws(&s);
    if (s.p >= s.end || *s.p++ != '{')
        return -1;
    for (int first = 1;; first = 0) {
        ws(&s);
        if (s.p < s.end && *s.p == '}' && first) {
            s.p++;
            break;
        }
        const char *ka, *kb, *va, *vb;
        int kesc, vesc;
        if (raw_string(&s, &ka, &kb, &kesc) != 0 || kesc)
            return -1;
        ws(&s);
        if (s.p >= s.end || *s.p++ != ':')
            return -1;
        ws(&s);
        size_t klen = (size_t)(kb - ka);
        /* jansson keeps a repeated key's last value: leave such frames to it */
        unsigned key = klen == 4 && memcmp(ka, "text", 4) == 0      ? 1u
                       : klen == 4 && memcmp(ka, "type", 4) == 0    ? 2u
                       : klen == 7 && memcmp(ka, "special", 7) == 0 ? 4u
                                                                    : 0u;
        if (key & seen)
            return -1;
        seen |= key;
        if (klen == 4 && memcmp(ka, "text", 4) == 0 && s.p < s.end && *s.p == '"') {
            if (raw_string(&s, &text_a, &text_b, &text_esc) != 0)
                return -1;
        } else if (klen == 4 && memcmp(ka, "type", 4) == 0) {
            if (raw_string(&s, &va, &vb, &vesc) != 0 || vesc)
                return -1;
            if (vb - va == 4 && memcmp(va, "text", 4) == 0)
                is_text = 1;
            else
                return -1; /* data frames (and anything else) take the full path */
        } else if (klen == 7 && memcmp(ka, "special", 7) == 0 && s.p < s.end && *s.p == '[') {
            s.p++;
            ws(&s);
            while (s.p < s.end && *s.p != ']') {
                if (raw_string(&s, &va, &vb, &vesc) != 0 || vesc)
                    return -1;
                if (vb - va == 5 && memcmp(va, "clear", 5) == 0)
                    *bits |= TALE_FRAME_CLEAR;
                else if (vb - va == 6 && memcmp(va, "noecho", 6) == 0)
                    *bits |= TALE_FRAME_NOECHO;
                ws(&s);
                if (s.p < s.end && *s.p == ',') {
                    s.p++;
                    ws(&s);
                } else if (s.p < s.end && *s.p != ']') {
                    return -1;
                }
            }
            if (s.p >= s.end)
                return -1;
            s.p++;
        } else if (skip_value(&s) != 0) {
            return -1;
        }
        ws(&s);
        if (s.p < s.end && *s.p == ',') {
            s.p++;
            continue;
        }
        if (s.p < s.end && *s.p == '}') {
            s.p++;
            break;
        }
        return -1;
    }
    ws(&s);
    if (s.p != s.end || !is_text)
        return -1;
    if (text_a == NULL)
        return 0;
    if (!text_esc) {
        tale_html_to_text(text_a, (size_t)(text_b - text_a), opts, out);
        return 0;
    }
    tale_buf_t raw = {0};
    if (unescape(text_a, text_b, &raw) != 0 || memchr(raw.data, '\0', raw.len) != NULL) {
        tale_buf_free(&raw);
        return -1;
    }
    tale_html_to_text(raw.data != NULL ? raw.data : "", raw.len, opts, out);
    tale_buf_free(&raw);
    return 0;
}

char *
tale_frame_to_text(const char *json, size_t json_len, unsigned flags, unsigned width, const char *input_prefix, size_t *len,
                   unsigned *special)
{
    *len = 0;
    tale_html_opts_t fast = {
        .flags = flags & (TALE_HTML_ANSI | TALE_HTML_SKIP_INPUT), .input_prefix = input_prefix, .width = width};
    tale_buf_t quick = {0};
    unsigned quick_bits;
    if (scan_text_frame(json, json_len, &fast, &quick, &quick_bits) == 0) {
        if (special != NULL)
            *special = quick_bits;
        if (quick.len == 0) {
            tale_buf_free(&quick);
            return NULL;
        }
        *len = quick.len;
        return quick.data;
    }
    tale_buf_free(&quick);
    return tale_frame_to_text_tree(json, json_len, flags, width, input_prefix, len, special);
}

char *
tale_frame_to_text_tree(const char *json, size_t json_len, unsigned flags, unsigned width, const char *input_prefix, size_t *len,
                        unsigned *special)
{
    *len = 0;
    if (special != NULL)
        *special = 0;
    json_t *frame = json_loadb(json, json_len, 0, NULL);
    if (!json_is_object(frame)) {
        json_decref(frame);
        return NULL;
    }
    tale_buf_t out = {0};
    unsigned bits = special_bits(frame);
    const char *type = json_string_value(json_object_get(frame, "type"));
    if (type != NULL && strcmp(type, "data") == 0) {
        bits |= TALE_FRAME_DATA;
        data_note(frame, flags, &out);
    } else {
        json_t *text = json_object_get(frame, "text");
        if (json_is_string(text)) {
            tale_html_opts_t opts = {
                .flags = flags & (TALE_HTML_ANSI | TALE_HTML_SKIP_INPUT), .input_prefix = input_prefix, .width = width};
            tale_html_to_text(json_string_value(text), json_string_length(text), &opts, &out);
        }
    }
    json_decref(frame);
    if (special != NULL)
        *special = bits;
    if (out.len == 0) {
        tale_buf_free(&out);
        return NULL;
    }
    *len = out.len;
    return out.data;
}

uint32_t
tale_location_num(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return (h & 0x7fffffffu) | 1u; /* never 0: clients read 0 as "no room" */
}

static uint32_t
room_num(const tale_room_lookup_t *rooms, int room)
{
    const char *key = room >= 0 ? rooms->key(rooms->ctx, room) : NULL;
    return key != NULL ? tale_location_num(key, strlen(key)) : 0;
}

/* "a,b,c" as a JSON array of the names. */
static json_t *
split_list(const char *s)
{
    json_t *a = json_array();
    while (s != NULL && *s != '\0') {
        size_t n = strcspn(s, ",");
        if (n > 0)
            json_array_append_new(a, json_stringn(s, n));
        s += n;
        if (*s == ',')
            s++;
    }
    return a;
}

char *
tale_frame_location_json(const char *json, size_t json_len, const char *area, const tale_room_lookup_t *rooms, size_t *len)
{
    *len = 0;
    json_t *frame = json_loadb(json, json_len, 0, NULL);
    json_t *loc = json_object_get(frame, "location");
    if (!json_is_string(loc)) {
        json_decref(frame);
        return NULL;
    }
    const char *exit_list = json_string_value(json_object_get(frame, "exits"));
    int here = rooms != NULL ? rooms->find(rooms->ctx, json_string_value(loc), json_string_length(loc), exit_list) : -1;
    uint32_t num = here >= 0 ? room_num(rooms, here) : 0;
    if (num == 0)
        num = tale_location_num(json_string_value(loc), json_string_length(loc));
    json_t *room = json_object();
    json_object_set_new(room, "num", json_integer(num));
    json_object_set(room, "name", loc);
    json_object_set_new(room, "area", json_string(area != NULL ? area : ""));
    /* Mudlet's mapper reads exits as {direction: room number}; 0 says
     * "somewhere not yet mapped" when the story cannot say. */
    json_t *dirs = split_list(exit_list);
    json_t *exits = json_object();
    size_t i;
    json_t *d;
    json_array_foreach(dirs, i, d)
    {
        const char *dir = json_string_value(d);
        uint32_t to = here >= 0 ? room_num(rooms, rooms->target(rooms->ctx, here, dir)) : 0;
        json_object_set_new(exits, dir, json_integer(to));
    }
    json_decref(dirs);
    json_object_set_new(room, "exits", exits);
    json_object_set_new(room, "npcs", split_list(json_string_value(json_object_get(frame, "npcs"))));
    json_object_set_new(room, "items", split_list(json_string_value(json_object_get(frame, "items"))));
    json_decref(frame);
    char *out = json_dumps(room, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(room);
    if (out == NULL)
        tale_oom(0);
    *len = strlen(out);
    return out;
}
