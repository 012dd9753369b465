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
data_note(json_t *frame, unsigned flags, tale_text_buf_t *out)
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
    tale_text_buf_append(out, line, (size_t)len);
}

char *
tale_frame_to_text(const char *json, size_t json_len, unsigned flags, unsigned width, const char *input_prefix, size_t *len,
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
    tale_text_buf_t out = {0};
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
        tale_text_buf_free(&out);
        return NULL;
    }
    *len = out.len;
    return out.data;
}

uint32_t
tale_location_num(const char *title, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)title[i]) * 16777619u;
    return (h & 0x7fffffffu) | 1u; /* never 0: clients read 0 as "no room" */
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
tale_frame_location_json(const char *json, size_t json_len, const char *area, size_t *len)
{
    *len = 0;
    json_t *frame = json_loadb(json, json_len, 0, NULL);
    json_t *loc = json_object_get(frame, "location");
    if (!json_is_string(loc)) {
        json_decref(frame);
        return NULL;
    }
    json_t *room = json_object();
    json_object_set_new(room, "num", json_integer(tale_location_num(json_string_value(loc), json_string_length(loc))));
    json_object_set(room, "name", loc);
    json_object_set_new(room, "area", json_string(area != NULL ? area : ""));
    /* Mudlet's mapper reads exits as {direction: room number}; where an exit
     * leads is not in the frame, so 0 says "somewhere not yet mapped". */
    json_t *dirs = split_list(json_string_value(json_object_get(frame, "exits")));
    json_t *exits = json_object();
    size_t i;
    json_t *d;
    json_array_foreach(dirs, i, d) json_object_set_new(exits, json_string_value(d), json_integer(0));
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
