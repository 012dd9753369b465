/*
 * json_compact.h - a fast writer for jansson values, byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes.
 *
 * Why not json_dumps: its dumper decodes strings one UTF-8 character at a
 * time and writes through a callback per piece; serialising each frame was
 * a fifth of the host's CPU per command.  This writer copies a string's
 * runs with memcpy and grows one buffer.
 */
#ifndef TALE_JSON_COMPACT_H
#define TALE_JSON_COMPACT_H

#include <jansson.h>
#include <stddef.h>

/* Write v as compact JSON.  Returns a NUL-terminated string the caller
 * frees with free(), its length (without the NUL) in *len; NULL when out of
 * memory or when v cannot be written: NULL itself, a cycle or nesting deeper
 * than JSON_PARSER_MAX_DEPTH containers, or a string or key that is not
 * UTF-8 (possible only through jansson's *_nocheck setters). */
char *tale_json_compact(const json_t *v, size_t *len);

#endif
