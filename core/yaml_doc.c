/*
 * yaml_doc.c - a loaded YAML document with located, typed access.
 *
 * libyaml's document API builds the whole tree up front; every node keeps its
 * start mark, so any error found later (by the config loader, the story
 * loader or a plugin's getter) can still name file:line:column.  libyaml marks
 * are 0-based; everything printed here is 1-based, as editors count.
 */
#include "yaml_doc.h"
#include <tale/alloc.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A YAML file larger than this is refused before parsing: configs and stories
 * are hand-written, and the whole file is held in memory while it is parsed. */
#define TALE_YAML_MAX_FILE (16u * 1024 * 1024)
/* Deepest nesting of mappings and sequences accepted (see check_depth). */
#define TALE_YAML_MAX_DEPTH 64

/* Copy src into dst (size dstlen, always terminated when dstlen > 0), writing
 * control characters as \n, \t or \xNN: values echoed from the file must not
 * break the one-line rule or put raw escapes on a terminal.  An escape is
 * never cut in half. */
static void
copy_escaped(char *dst, size_t dstlen, const char *src)
{
    size_t used = 0;
    for (const unsigned char *c = (const unsigned char *)src; *c != '\0'; c++) {
        char esc[5];
        size_t n = 1;
        if (*c == '\n')
            memcpy(esc, "\\n", n = 2);
        else if (*c == '\t')
            memcpy(esc, "\\t", n = 2);
        else if (*c == '\r')
            memcpy(esc, "\\r", n = 2);
        else if (*c < 0x20 || *c == 0x7f)
            n = (size_t)snprintf(esc, sizeof(esc), "\\x%02X", *c);
        else
            esc[0] = (char)*c;
        if (used + n >= dstlen)
            break;
        memcpy(dst + used, esc, n);
        used += n;
    }
    dst[used] = '\0';
}

static void
write_located(const char *file, unsigned long line, unsigned long column, char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err == NULL || errlen == 0)
        return;
    char raw[2048];
    int n = snprintf(raw, sizeof(raw), "%s:%lu:%lu: ", file != NULL ? file : "(unknown)", line, column);
    if (n < 0) {
        err[0] = '\0';
        return;
    }
    if ((size_t)n < sizeof(raw))
        vsnprintf(raw + n, sizeof(raw) - (size_t)n, fmt, ap);
    copy_escaped(err, errlen, raw);
}

static void located(const char *file, unsigned long line, unsigned long column, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
located(const char *file, unsigned long line, unsigned long column, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_located(file, line, column, err, errlen, fmt, ap);
    va_end(ap);
}

void
tale_yaml_errf(const tale_yaml_t *y, const yaml_node_t *at, char *err, size_t errlen, const char *fmt, ...)
{
    unsigned long line = 1, column = 1;
    if (at != NULL) {
        line = (unsigned long)at->start_mark.line + 1;
        column = (unsigned long)at->start_mark.column + 1;
    }
    va_list ap;
    va_start(ap, fmt);
    write_located(y != NULL ? y->file : NULL, line, column, err, errlen, fmt, ap);
    va_end(ap);
}

/* Line and column (1-based) of a byte offset; for reader errors, which carry
 * an offset but no mark.  Columns count characters, not bytes, like libyaml. */
static void
offset_position(const char *data, size_t len, size_t offset, unsigned long *line, unsigned long *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == '\n') {
            (*line)++;
            *column = 1;
        } else if ((c & 0xC0) != 0x80) {
            (*column)++;
        }
    }
}

static void
report_parser_error(const yaml_parser_t *p, const char *file, const char *data, size_t len, char *err, size_t errlen)
{
    unsigned long line, column;
    const char *problem = p->problem != NULL ? p->problem : "invalid YAML";

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        tale_oom(len); /* libyaml's own allocation failed: fatal, as ours are (tale/alloc.h) */
    case YAML_READER_ERROR:
        offset_position(data, len, p->problem_offset, &line, &column);
        if (p->problem_value != -1)
            located(file, line, column, err, errlen, "%s (byte #%X)", problem, (unsigned)p->problem_value);
        else
            located(file, line, column, err, errlen, "%s", problem);
        return;
    default:
        break;
    }
    line = (unsigned long)p->problem_mark.line + 1;
    column = (unsigned long)p->problem_mark.column + 1;
    if (p->context != NULL)
        located(file, line, column, err, errlen, "%s (%s that started at line %lu, column %lu)", problem, p->context,
                (unsigned long)p->context_mark.line + 1, (unsigned long)p->context_mark.column + 1);
    else
        located(file, line, column, err, errlen, "%s", problem);
}

static const char *
scalar_value(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain (unquoted) scalar spelled as YAML's null. */
static int
is_null(const yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = scalar_value(n);
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

struct key_ref {
    const char *key;
    size_t index; /* position of the pair in its mapping */
    const yaml_node_t *node;
};

static int
key_ref_cmp(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Duplicate scalar keys in one mapping: libyaml keeps both and a lookup would
 * silently pick one, so it is an error.  Sorting keeps large mappings (stories
 * can have hundreds of keys) out of quadratic time; the duplicate reported is
 * the earliest second occurrence in the file, so the message is stable. */
static int
check_duplicates(tale_yaml_t *y, yaml_node_t *map, char *err, size_t errlen)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    if (n < 2)
        return 0;
    struct key_ref *refs = tale_xmalloc(n * sizeof(*refs));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].key);
        if (k != NULL && k->type == YAML_SCALAR_NODE)
            refs[m++] = (struct key_ref){scalar_value(k), i, k};
    }
    qsort(refs, m, sizeof(*refs), key_ref_cmp);
    const struct key_ref *dup = NULL, *first = NULL;
    for (size_t i = 1; i < m; i++) {
        if (strcmp(refs[i - 1].key, refs[i].key) != 0)
            continue;
        if (dup == NULL || refs[i].index < dup->index) {
            dup = &refs[i];
            /* the first occurrence of this key sorts before every later one */
            size_t j = i - 1;
            while (j > 0 && strcmp(refs[j - 1].key, refs[i].key) == 0)
                j--;
            first = &refs[j];
        }
    }
    int rc = 0;
    if (dup != NULL) {
        tale_yaml_errf(y, dup->node, err, errlen, "duplicate key '%s' (first at line %lu, column %lu)", dup->key,
                       (unsigned long)first->node->start_mark.line + 1, (unsigned long)first->node->start_mark.column + 1);
        rc = -1;
    }
    free(refs);
    return rc;
}

/* libyaml's scanner spends time proportional to the flow nesting depth on
 * every token, so a file of nothing but '[' takes minutes to load (20,000
 * levels: 1 s, 200,000: over 3 minutes; found by tests/fuzz).  No config or
 * story nests anywhere near TALE_YAML_MAX_DEPTH, so a pass over the events
 * refuses deeper documents before the real load; it stops at the limit, long
 * before the cost grows, and it bounds every recursive walk of the tree.
 * Syntax errors are left for the real load to report. */
static int
check_depth(const char *file, const char *data, size_t len, char *err, size_t errlen)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        tale_oom(sizeof(parser)); /* libyaml fails here only when out of memory */
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    int depth = 0, rc = 0, done = 0;
    while (!done && rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break;
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
            if (++depth > TALE_YAML_MAX_DEPTH) {
                located(file, (unsigned long)ev.start_mark.line + 1, (unsigned long)ev.start_mark.column + 1, err, errlen,
                        "nested deeper than %d levels", TALE_YAML_MAX_DEPTH);
                rc = -1;
            }
        } else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (ev.type == YAML_STREAM_END_EVENT) {
            done = 1;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int
tale_yaml_load_mem(tale_yaml_t *y, const char *name, const char *data, size_t len, char *err, size_t errlen)
{
    memset(y, 0, sizeof(*y));
    y->file = tale_xstrdup(name != NULL ? name : "(memory)");

    if (check_depth(y->file, data, len, err, errlen) != 0)
        goto fail;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        tale_oom(sizeof(parser)); /* libyaml fails here only when out of memory */
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &y->doc)) {
        report_parser_error(&parser, y->file, data, len, err, errlen);
        yaml_parser_delete(&parser);
        goto fail;
    }
    y->loaded = 1;

    yaml_node_t *root = yaml_document_get_root_node(&y->doc);
    if (root == NULL) {
        located(y->file, 1, 1, err, errlen, "the document is empty");
        yaml_parser_delete(&parser);
        goto fail;
    }

    /* A second document would be ignored silently; refuse it instead. */
    yaml_document_t next;
    if (!yaml_parser_load(&parser, &next)) {
        report_parser_error(&parser, y->file, data, len, err, errlen);
        yaml_parser_delete(&parser);
        goto fail;
    }
    yaml_node_t *next_root = yaml_document_get_root_node(&next);
    if (next_root != NULL) {
        located(y->file, (unsigned long)next_root->start_mark.line + 1, (unsigned long)next_root->start_mark.column + 1, err,
                errlen, "expected a single YAML document, found a second one");
        yaml_document_delete(&next);
        yaml_parser_delete(&parser);
        goto fail;
    }
    yaml_document_delete(&next);
    yaml_parser_delete(&parser);

    /* Nodes live in one flat array, so every mapping is checked without recursion
     * (aliases can make the tree a graph, even a cyclic one). */
    for (yaml_node_t *n = y->doc.nodes.start; n < y->doc.nodes.top; n++)
        if (n->type == YAML_MAPPING_NODE && check_duplicates(y, n, err, errlen) != 0)
            goto fail;
    return 0;

fail:
    tale_yaml_free(y);
    return -1;
}

int
tale_yaml_load(tale_yaml_t *y, const char *path, char *err, size_t errlen)
{
    memset(y, 0, sizeof(*y));
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        located(path, 1, 1, err, errlen, "cannot read file: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        located(path, 1, 1, err, errlen, "cannot read file: %s", strerror(errno));
        fclose(f);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        located(path, 1, 1, err, errlen, "cannot read file: it is a folder");
        fclose(f);
        return -1;
    }
    /* st_size is only a hint (0 for a pipe); the read loop below enforces the cap */
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > TALE_YAML_MAX_FILE) {
        located(path, 1, 1, err, errlen, "file too large (%" PRIu64 " bytes; expected at most %u)", (uint64_t)st.st_size,
                TALE_YAML_MAX_FILE);
        fclose(f);
        return -1;
    }
    size_t cap = (S_ISREG(st.st_mode) ? (size_t)st.st_size : 4096) + 1, len = 0;
    char *data = tale_xmalloc(cap); /* cap is bounded by TALE_YAML_MAX_FILE above */
    /* read to EOF rather than trusting st_size: the file may change under us */
    for (;;) {
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
        if (len == cap) {
            if (cap > TALE_YAML_MAX_FILE) {
                located(path, 1, 1, err, errlen, "file too large (expected at most %u bytes)", TALE_YAML_MAX_FILE);
                free(data);
                fclose(f);
                return -1;
            }
            data = tale_xrealloc(data, cap * 2);
            cap *= 2;
        }
    }
    if (ferror(f)) {
        located(path, 1, 1, err, errlen, "cannot read file: %s", strerror(errno));
        free(data);
        fclose(f);
        return -1;
    }
    fclose(f);
    int rc = tale_yaml_load_mem(y, path, data, len, err, errlen);
    free(data);
    return rc;
}

void
tale_yaml_free(tale_yaml_t *y)
{
    if (y == NULL)
        return;
    if (y->loaded)
        yaml_document_delete(&y->doc);
    free(y->file);
    memset(y, 0, sizeof(*y));
}

yaml_node_t *
tale_yaml_root(tale_yaml_t *y)
{
    if (y == NULL || !y->loaded)
        return NULL;
    return yaml_document_get_root_node(&y->doc);
}

const char *
tale_yaml_type_name(const yaml_node_t *n)
{
    if (n == NULL)
        return "nothing";
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_SCALAR_NODE:
        return "a scalar";
    default:
        return "an empty node";
    }
}

/* What was found, for "expected X, got <this>": a scalar is quoted (cut short),
 * null is named, collections by type. */
static const char *
describe(const yaml_node_t *n, char *buf, size_t len)
{
    if (is_null(n))
        return "null";
    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return tale_yaml_type_name(n);
    const char *v = scalar_value(n);
    size_t cut = strlen(v);
    if (cut <= 40) {
        snprintf(buf, len, "'%s'", v);
        return buf;
    }
    /* cut short at a character boundary, not inside a UTF-8 sequence */
    cut = 37;
    while (cut > 0 && ((unsigned char)v[cut] & 0xC0) == 0x80)
        cut--;
    snprintf(buf, len, "'%.*s...'", (int)cut, v);
    return buf;
}

yaml_node_t *
tale_yaml_get(tale_yaml_t *y, yaml_node_t *map, const char *key, yaml_node_t **key_node)
{
    if (key_node != NULL)
        *key_node = NULL;
    if (y == NULL || map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        if (k == NULL || k->type != YAML_SCALAR_NODE || strcmp(scalar_value(k), key) != 0)
            continue;
        if (key_node != NULL)
            *key_node = k;
        return yaml_document_get_node(&y->doc, p->value);
    }
    return NULL;
}

/* "a, b, c" into buf, cut short with "..." if it does not fit. */
static const char *
join_keys(const char *const *known, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; known[i] != NULL; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", known[i]);
        if (n < 0 || (size_t)n >= len - used) {
            if (len >= 4)
                memcpy(buf + len - 4, "...", 4);
            break;
        }
        used += (size_t)n;
    }
    return buf;
}

int
tale_yaml_check_keys(tale_yaml_t *y, yaml_node_t *map, const char *const *known, char *err, size_t errlen)
{
    if (map == NULL)
        return 0;
    if (map->type != YAML_MAPPING_NODE) {
        char buf[64];
        tale_yaml_errf(y, map, err, errlen, "expected a mapping, got %s", describe(map, buf, sizeof(buf)));
        return -1;
    }
    char list[512];
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        if (k == NULL)
            continue;
        if (k->type != YAML_SCALAR_NODE) {
            tale_yaml_errf(y, k, err, errlen, "expected a key (one of: %s), got %s", join_keys(known, list, sizeof(list)),
                           tale_yaml_type_name(k));
            return -1;
        }
        size_t i;
        for (i = 0; known[i] != NULL; i++)
            if (strcmp(known[i], scalar_value(k)) == 0)
                break;
        if (known[i] == NULL) {
            tale_yaml_errf(y, k, err, errlen, "unknown key '%s' (expected one of: %s)", scalar_value(k),
                           join_keys(known, list, sizeof(list)));
            return -1;
        }
    }
    return check_duplicates(y, map, err, errlen);
}

int
tale_yaml_expect_map(tale_yaml_t *y, yaml_node_t *n, const char *what, char *err, size_t errlen)
{
    if (n != NULL && n->type == YAML_MAPPING_NODE)
        return 0;
    char buf[64];
    tale_yaml_errf(y, n, err, errlen, "expected %s, got %s", what, describe(n, buf, sizeof(buf)));
    return -1;
}

int
tale_yaml_expect_seq(tale_yaml_t *y, yaml_node_t *n, const char *what, char *err, size_t errlen)
{
    if (n != NULL && n->type == YAML_SEQUENCE_NODE)
        return 0;
    char buf[64];
    tale_yaml_errf(y, n, err, errlen, "expected %s, got %s", what, describe(n, buf, sizeof(buf)));
    return -1;
}

/* Common head of the scalar getters: 1 = found a scalar (in *node),
 * 0 = absent (caller applies the default), -1 = error written. */
static int
get_scalar(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, const char *what, yaml_node_t **node, char *err,
           size_t errlen)
{
    yaml_node_t *n = tale_yaml_get(y, map, key, NULL);
    if (n == NULL) {
        if (!required)
            return 0;
        tale_yaml_errf(y, map, err, errlen, "missing key '%s' (expected %s)", key, what);
        return -1;
    }
    if (n->type != YAML_SCALAR_NODE || is_null(n)) {
        char buf[64];
        tale_yaml_errf(y, n, err, errlen, "expected %s for '%s', got %s", what, key, describe(n, buf, sizeof(buf)));
        return -1;
    }
    *node = n;
    return 1;
}

int
tale_yaml_string(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, const char *def, const char **out, char *err,
                 size_t errlen)
{
    yaml_node_t *n;
    int rc = get_scalar(y, map, key, required, "a string", &n, err, errlen);
    if (rc < 0)
        return -1;
    *out = rc == 0 ? def : scalar_value(n);
    return 0;
}

int
tale_yaml_bool(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, int def, int *out, char *err, size_t errlen)
{
    static const char what[] = "a boolean (true or false)";
    yaml_node_t *n;
    int rc = get_scalar(y, map, key, required, what, &n, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        *out = def;
        return 0;
    }
    /* YAML 1.2 core schema spellings only: "yes"/"on" are too easy to mistype into a string */
    const char *v = scalar_value(n);
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0) {
        *out = 0;
        return 0;
    }
    char buf[64];
    tale_yaml_errf(y, n, err, errlen, "expected %s for '%s', got %s", what, key, describe(n, buf, sizeof(buf)));
    return -1;
}

/* Decimal digits with an optional sign; nothing else. */
static int
parse_int64(const char *s, int64_t *out)
{
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (*s != '\0')
        return -1;
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

int
tale_yaml_int(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, int64_t def, int64_t min, int64_t max, int64_t *out,
              char *err, size_t errlen)
{
    char what[96];
    snprintf(what, sizeof(what), "an integer from %" PRId64 " to %" PRId64, min, max);
    yaml_node_t *n;
    int rc = get_scalar(y, map, key, required, what, &n, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        *out = def;
        return 0;
    }
    int64_t v;
    if (parse_int64(scalar_value(n), &v) != 0 || v < min || v > max) {
        char buf[64];
        tale_yaml_errf(y, n, err, errlen, "expected %s for '%s', got %s", what, key, describe(n, buf, sizeof(buf)));
        return -1;
    }
    *out = v;
    return 0;
}

/* A scalar read by one of the unit parsers (sizes, durations). */
static int
get_with_units(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, uint64_t def, uint64_t *out, const char *what,
               int (*parse)(const char *, uint64_t *), char *err, size_t errlen)
{
    yaml_node_t *n;
    int rc = get_scalar(y, map, key, required, what, &n, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        *out = def;
        return 0;
    }
    if (parse(scalar_value(n), out) != 0) {
        char buf[64];
        tale_yaml_errf(y, n, err, errlen, "expected %s for '%s', got %s", what, key, describe(n, buf, sizeof(buf)));
        return -1;
    }
    return 0;
}

int
tale_yaml_size(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, uint64_t def, uint64_t *out, char *err,
               size_t errlen)
{
    return get_with_units(y, map, key, required, def, out, "a size (like 512, 64k, 1m, 2g)", tale_parse_size, err, errlen);
}

int
tale_yaml_duration_ms(tale_yaml_t *y, yaml_node_t *map, const char *key, int required, uint64_t def, uint64_t *out, char *err,
                      size_t errlen)
{
    return get_with_units(y, map, key, required, def, out, "a duration (like 250ms, 15s, 2m, 1h)", tale_parse_duration_ms, err,
                          errlen);
}

int
tale_yaml_string_list(tale_yaml_t *y, yaml_node_t *map, const char *key, const char ***out, size_t *n, char *err, size_t errlen)
{
    static const char what[] = "a string or a sequence of strings";
    *out = NULL;
    *n = 0;
    yaml_node_t *v = tale_yaml_get(y, map, key, NULL);
    if (v == NULL)
        return 0;
    char buf[64];
    if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
        const char **list = tale_xcalloc(2, sizeof(*list));
        list[0] = scalar_value(v);
        *out = list;
        *n = 1;
        return 0;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        tale_yaml_errf(y, v, err, errlen, "expected %s for '%s', got %s", what, key, describe(v, buf, sizeof(buf)));
        return -1;
    }
    size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    const char **list = tale_xcalloc(count + 1, sizeof(*list));
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(&y->doc, v->data.sequence.items.start[i]);
        if (item == NULL || item->type != YAML_SCALAR_NODE || is_null(item)) {
            tale_yaml_errf(y, item != NULL ? item : v, err, errlen, "expected a string in '%s', got %s", key,
                           describe(item, buf, sizeof(buf)));
            free(list);
            return -1;
        }
        list[i] = scalar_value(item);
    }
    *out = list;
    *n = count;
    return 0;
}

/* Digits then a unit suffix: the number in *num, the suffix in *unit.  Junk
 * (no digits, a sign, spaces, fractions) and overflow fail. */
static int
split_number(const char *s, uint64_t *num, const char **unit)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *num = v;
    *unit = s;
    return 0;
}

static int
scale(uint64_t v, uint64_t factor, uint64_t *out)
{
    if (factor != 0 && v > UINT64_MAX / factor)
        return -1;
    *out = v * factor;
    return 0;
}

int
tale_parse_size(const char *s, uint64_t *out)
{
    uint64_t v;
    const char *unit;
    if (split_number(s, &v, &unit) != 0)
        return -1;
    static const struct {
        const char *suffix;
        uint64_t factor;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1024},
        {"kb", 1024},
        {"m", 1024 * 1024},
        {"mb", 1024 * 1024},
        {"g", 1024 * 1024 * 1024},
        {"gb", 1024 * 1024 * 1024},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(unit, units[i].suffix) == 0)
            return scale(v, units[i].factor, out);
    return -1;
}

int
tale_parse_duration_ms(const char *s, uint64_t *out)
{
    uint64_t v;
    const char *unit;
    if (split_number(s, &v, &unit) != 0)
        return -1;
    /* case matters here: "m" is minutes and "ms" milliseconds; "M" would be a guess */
    static const struct {
        const char *suffix;
        uint64_t factor;
    } units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(unit, units[i].suffix) == 0)
            return scale(v, units[i].factor, out);
    return -1;
}
