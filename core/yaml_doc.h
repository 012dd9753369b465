/*
 * yaml_doc.h - a loaded YAML document with located, typed access (host-internal).
 *
 * Shared by the config loader and the story loader.  Every error is written as
 * one line "file:line:column: message" (1-based line and column, as editors
 * count) into a caller-supplied buffer.
 */
#ifndef TALE_YAML_DOC_H
#define TALE_YAML_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

typedef struct tale_yaml {
    char *file; /* the path as given; used in messages */
    yaml_document_t doc;
    int loaded;
} tale_yaml_t;

/* Parse a whole file.  Syntax errors, an unreadable file and an empty document
 * are reported located.  Returns 0 or -1. */
int tale_yaml_load(tale_yaml_t *y, const char *path, char *err, size_t errlen);
/* Same, from memory (for tests and fuzzers); `name` is used in messages. */
int tale_yaml_load_mem(tale_yaml_t *y, const char *name, const char *data, size_t len, char *err, size_t errlen);
void tale_yaml_free(tale_yaml_t *y);

yaml_node_t *tale_yaml_root(tale_yaml_t *y);
const char *tale_yaml_type_name(const yaml_node_t *n); /* "a mapping", "a sequence", "a scalar" */

/* Write "file:line:column: <fmt...>" pointing at node `at` (NULL: start of file). */
void tale_yaml_errf(const tale_yaml_t *y, const yaml_node_t *at, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Look up `key` in mapping `map`; NULL when absent (or map is not a mapping).
 * key_node (may be NULL) receives the key's own node, for errors about the key. */
yaml_node_t *tale_yaml_get(tale_yaml_t *y, yaml_node_t *map, const char *key, yaml_node_t **key_node);
/* -1 with "unknown key 'x' (expected one of: a, b, c)" located at the key if
 * `map` holds a key not in the NULL-terminated `known`; -1 on a duplicate key too. */
int tale_yaml_check_keys(tale_yaml_t *y, yaml_node_t *map, const char *const *known, char *err, size_t errlen);
/* -1 with "expected <what> ..." unless n is a mapping (a sequence). */
int tale_yaml_expect_map(tale_yaml_t *y, yaml_node_t *n, const char *what, char *err, size_t errlen);
int tale_yaml_expect_seq(tale_yaml_t *y, yaml_node_t *n, const char *what, char *err, size_t errlen);

/* Scalar getters on map[key].  Absent key: *out = def, return 0 (required=1
 * instead fails with "missing key 'k'" located at the mapping).  Wrong type or
 * range: located error, return -1.  Strings point into the document. */
int tale_yaml_string(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, const char *def, const char **out,
                     char *err, size_t errlen);
int tale_yaml_bool(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, int def, int *out, char *err,
                   size_t errlen);
int tale_yaml_int(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, int64_t def, int64_t min, int64_t max,
                  int64_t *out, char *err, size_t errlen);
int tale_yaml_size(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, uint64_t def, uint64_t *out,
                   char *err, size_t errlen);
int tale_yaml_duration_ms(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, uint64_t def,
                          uint64_t *out, char *err, size_t errlen);
/* A scalar or a sequence of scalars -> malloc'd NULL-terminated array of
 * pointers into the document (free the array only).  Absent: *out = NULL, *n = 0. */
int tale_yaml_string_list(tale_yaml_t *y, yaml_node_t *map, const char *key, const char ***out, size_t *n, char *err,
                          size_t errlen);

/* Unit parsers (exposed for tests): sizes 512, 64k, 64K, 64kb, 1m, 2g (x1024);
 * durations 250ms, 15s, 2m, 1h, bare number = seconds.  0 or -1 on junk/overflow. */
int tale_parse_size(const char *s, uint64_t *out);
int tale_parse_duration_ms(const char *s, uint64_t *out);

#endif
