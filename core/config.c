/*
 * config.c - tale.yaml into tale_config_t.
 *
 * Every key is validated here, once, with a located error naming what was
 * expected; the rest of the host reads plain structs.  The YAML document stays
 * loaded inside the config because each plugin reads its own `config:` subtree
 * later through the host's typed getters.  The reference is docs/CONFIG.md.
 */
#include "config.h"
#include <tale/alloc.h>

#include <tale/plugin.h>

#include <errno.h>
#include <stdarg.h>
#include <libgen.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TICK_MS 1000
#define DEFAULT_MAX_REQUEST_BODY (1024 * 1024)
/* 1024 - TALE_FD_RESERVE: starts where the hard fd limit is 1024 (main.c). */
#define DEFAULT_MAX_CONNECTIONS 960
#define DEFAULT_MAX_SESSIONS 256
#define DEFAULT_SESSION_BACKLOG (256 * 1024)
#define DEFAULT_MAX_INPUT 1024
#define DEFAULT_TOTAL_BACKLOG (64 * 1024 * 1024)
#define DEFAULT_LINGER_MS (60 * 1000)
#define DEFAULT_INPUT_RATE 20
#define DEFAULT_INPUT_BURST 40
#define DEFAULT_MAX_SESSIONS_PER_ADDRESS 16
#define DEFAULT_NEW_SESSIONS_PER_MINUTE 30
#define DEFAULT_SEAT_IDLE_MS (60 * 60 * 1000)
/* Connection limits (issue #11): per client address, and the header deadline. */
#define DEFAULT_MAX_CONNECTIONS_PER_ADDRESS 64
#define DEFAULT_HEADER_TIMEOUT_MS (10 * 1000)
/* Counts above this are typos, not capacity plans (and stay well inside int). */
#define MAX_COUNT 1000000
#define MAX_PLUGIN_NAME 64
/* instances: per_visitor (issue #14) */
#define DEFAULT_MAX_LIVE_WORLDS 1000
#define DEFAULT_WORLD_IDLE_MS (10 * 60 * 1000)
#define DEFAULT_WORLD_SAVE_MS (5 * 1000)
#define DEFAULT_MAX_STORED_WORLDS 100000
#define DEFAULT_MAX_STORED_BYTES (1024ULL * 1024 * 1024)
#define MAX_STORED_COUNT 100000000
/* accounts (issue #15) */
#define DEFAULT_MAX_ACCOUNTS 10000
#define DEFAULT_LOGIN_FAILURES_PER_MINUTE 5
#define DEFAULT_ACCOUNTS_PER_ADDRESS_PER_HOUR 3
#define DEFAULT_CHARACTER_SAVE_MS (60 * 1000)

static const char *const top_keys[] = {
    "mode",          "story",           "data_dir",        "autosave",           "tick",       "log_level",
    "listeners",     "limits",          "plugin_path",     "plugin_permissions", "plugins",    "seat_claim",
    "allowed_hosts", "allowed_origins", "trusted_proxies", "instances",          "access_log", "accounts", NULL};
static const char *const access_log_keys[] = {"path", "format", NULL};
static const char *const listener_keys[] = {"host", "port", "tls", "http2", NULL};
static const char *const tls_keys[] = {"cert", "key", NULL};
static const char *const limit_keys[] = {"max_request_body",
                                         "max_connections",
                                         "max_sessions",
                                         "session_backlog",
                                         "total_backlog",
                                         "max_input",
                                         "linger",
                                         "session_idle", /* the deprecated alias of linger */
                                         "input_rate",
                                         "input_burst",
                                         "max_sessions_per_address",
                                         "new_sessions_per_minute",
                                         "seat_idle",
                                         "max_connections_per_address",
                                         "header_timeout",
                                         "max_live_worlds",
                                         "world_idle",
                                         "world_save",
                                         "max_stored_worlds",
                                         "max_stored_bytes",
                                         "max_accounts",
                                         "login_failures_per_minute",
                                         "accounts_per_address_per_hour",
                                         "character_save",
                                         NULL};
static const char *const plugin_keys[] = {"name", "module", "enabled", "config", NULL};

/* Everything one parse step needs; err/errlen are the caller's buffer. */
struct parse {
    tale_config_t *c;
    tale_yaml_t *y;
    char *err;
    size_t errlen;
};

/* A path from the config, made absolute against the config's folder.  The
 * result is canonical (realpath) when the path exists; when only its parent
 * exists (a data_dir not created yet) the parent is canonicalised; otherwise
 * it is the plain join.  Absolute paths are canonicalised the same way.
 * Never NULL: a failed allocation is fatal (tale/alloc.h). */
static char *
resolve_path(const char *dir, const char *raw)
{
    char *joined;
    if (raw[0] == '/')
        joined = tale_xstrdup(raw);
    else if (asprintf(&joined, "%s/%s", dir, raw) < 0)
        tale_oom(strlen(dir) + strlen(raw) + 2);

    char *real = realpath(joined, NULL);
    if (real != NULL) {
        free(joined);
        return real;
    }
    /* strip trailing slashes so the last component is a name */
    size_t len = strlen(joined);
    while (len > 1 && joined[len - 1] == '/')
        joined[--len] = '\0';
    char *slash = strrchr(joined, '/');
    if (slash == NULL || slash == joined)
        return joined;
    const char *base = slash + 1;
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return joined;
    *slash = '\0';
    char *parent = realpath(joined, NULL);
    *slash = '/';
    if (parent == NULL)
        return joined;
    char *out;
    if (asprintf(&out, "%s%s%s", parent, strcmp(parent, "/") == 0 ? "" : "/", base) < 0)
        tale_oom(strlen(parent) + strlen(base) + 2);
    free(parent);
    free(joined);
    return out;
}

/* "'raw'" or "'raw' (resolved to /abs)" when resolving changed it, for messages. */
static const char *
show_path(const char *raw, const char *resolved, char *buf, size_t len)
{
    if (strcmp(raw, resolved) == 0)
        snprintf(buf, len, "'%s'", raw);
    else
        snprintf(buf, len, "'%s' (resolved to %s)", raw, resolved);
    return buf;
}

/* A non-empty string value; required decides between default and "missing key". */
static int
get_nonempty(struct parse *p, yaml_node_t *map, const char *key, int required, const char *def, const char *what, const char **out)
{
    if (required && tale_yaml_get(p->y, map, key, NULL) == NULL) {
        tale_yaml_errf(p->y, map, p->err, p->errlen, "missing key '%s' (expected %s)", key, what);
        return -1;
    }
    if (tale_yaml_string(p->y, map, key, 0, def, out, p->err, p->errlen) != 0)
        return -1;
    if (*out != NULL && (*out)[0] == '\0') {
        yaml_node_t *n = tale_yaml_get(p->y, map, key, NULL);
        tale_yaml_errf(p->y, n, p->err, p->errlen, "expected %s for '%s', got an empty string", what, key);
        return -1;
    }
    return 0;
}

static int
parse_mode(struct parse *p, yaml_node_t *root)
{
    const char *v;
    if (tale_yaml_string(p->y, root, "mode", 0, "if", &v, p->err, p->errlen) != 0)
        return -1;
    if (strcmp(v, "if") == 0) {
        p->c->mode = TALE_MODE_IF;
    } else if (strcmp(v, "mud") == 0) {
        p->c->mode = TALE_MODE_MUD;
    } else {
        tale_yaml_errf(p->y, tale_yaml_get(p->y, root, "mode", NULL), p->err, p->errlen,
                       "expected 'if' or 'mud' for 'mode', got '%s'", v);
        return -1;
    }
    return 0;
}

static int
parse_log_level(struct parse *p, yaml_node_t *root)
{
    static const struct {
        const char *name;
        int level;
    } levels[] = {{"error", TALE_LOG_ERROR}, {"warn", TALE_LOG_WARN}, {"info", TALE_LOG_INFO}, {"debug", TALE_LOG_DEBUG}};
    const char *v;
    if (tale_yaml_string(p->y, root, "log_level", 0, "info", &v, p->err, p->errlen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (strcmp(v, levels[i].name) == 0) {
            p->c->log_level = levels[i].level;
            return 0;
        }
    }
    tale_yaml_errf(p->y, tale_yaml_get(p->y, root, "log_level", NULL), p->err, p->errlen,
                   "expected one of error, warn, info, debug for 'log_level', got '%s'", v);
    return -1;
}

/* plugin_permissions (issue #11, finding 7a): what the loader does with a
 * plugin file, or a folder above it, that another user could write to.
 * `refuse` (the default) stops start-up; `warn` logs it and loads anyway. */
static int
parse_plugin_permissions(struct parse *p, yaml_node_t *root)
{
    const char *v;
    if (tale_yaml_string(p->y, root, "plugin_permissions", 0, "refuse", &v, p->err, p->errlen) != 0)
        return -1;
    if (strcmp(v, "refuse") == 0 || strcmp(v, "warn") == 0) {
        p->c->plugin_permissions_warn = strcmp(v, "warn") == 0;
        return 0;
    }
    tale_yaml_errf(p->y, tale_yaml_get(p->y, root, "plugin_permissions", NULL), p->err, p->errlen,
                   "expected 'refuse' or 'warn' for 'plugin_permissions', got '%s'", v);
    return -1;
}

/* data_dir (default "var"), against the config's folder; it may not exist yet. */
static int
parse_data_dir(struct parse *p, yaml_node_t *root)
{
    const char *raw;
    if (get_nonempty(p, root, "data_dir", 0, "var", "a folder", &raw) != 0)
        return -1;
    p->c->data_dir = resolve_path(p->c->dir, raw);
    return 0;
}

static int
parse_story(struct parse *p, yaml_node_t *root)
{
    const char *raw;
    if (get_nonempty(p, root, "story", 1, NULL, "a story folder", &raw) != 0)
        return -1;
    yaml_node_t *at = tale_yaml_get(p->y, root, "story", NULL);
    p->c->story = resolve_path(p->c->dir, raw);
    char shown[PATH_MAX + 64];
    struct stat st;
    if (stat(p->c->story, &st) == 0 && !S_ISDIR(st.st_mode)) {
        tale_yaml_errf(p->y, at, p->err, p->errlen, "expected a story folder for 'story', but %s is not a folder",
                       show_path(raw, p->c->story, shown, sizeof(shown)));
        return -1;
    }
    if (stat(p->c->story, &st) != 0 || access(p->c->story, R_OK | X_OK) != 0) {
        tale_yaml_errf(p->y, at, p->err, p->errlen, "cannot read the story folder %s: %s",
                       show_path(raw, p->c->story, shown, sizeof(shown)), strerror(errno));
        return -1;
    }
    return 0;
}

/* access_log (issue #17): {path: FILE|stderr, format: combined|json}.  The
 * file is opened when the host starts, not here: --check-config writes nothing. */
static int
parse_access_log(struct parse *p, yaml_node_t *root)
{
    yaml_node_t *m = tale_yaml_get(p->y, root, "access_log", NULL);
    if (m == NULL)
        return 0;
    const char *path, *format;
    if (tale_yaml_expect_map(p->y, m, "a mapping with 'path' and 'format' for 'access_log'", p->err, p->errlen) != 0 ||
        tale_yaml_check_keys(p->y, m, access_log_keys, p->err, p->errlen) != 0 ||
        get_nonempty(p, m, "path", 1, NULL, "a file or stderr", &path) != 0 ||
        tale_yaml_string(p->y, m, "format", 0, "combined", &format, p->err, p->errlen) != 0)
        return -1;
    if (strcmp(format, "combined") == 0) {
        p->c->access_log_format = 0;
    } else if (strcmp(format, "json") == 0) {
        p->c->access_log_format = 1;
    } else {
        tale_yaml_errf(p->y, tale_yaml_get(p->y, m, "format", NULL), p->err, p->errlen,
                       "expected combined or json for 'access_log.format', got '%s'", format);
        return -1;
    }
    p->c->access_log = strcmp(path, "stderr") == 0 ? tale_xstrdup(path) : resolve_path(p->c->dir, path);
    return 0;
}

/* A file the host will read later (TLS cert/key): check now, so --check-config
 * catches it and the message can point at the line. */
static int
check_readable_file(struct parse *p, yaml_node_t *at, const char *what, const char *raw, const char *resolved)
{
    char shown[PATH_MAX + 64];
    struct stat st;
    if (stat(resolved, &st) == 0 && S_ISDIR(st.st_mode)) {
        tale_yaml_errf(p->y, at, p->err, p->errlen, "expected a file for the %s, but %s is a folder", what,
                       show_path(raw, resolved, shown, sizeof(shown)));
        return -1;
    }
    FILE *f = fopen(resolved, "r");
    if (f == NULL) {
        tale_yaml_errf(p->y, at, p->err, p->errlen, "cannot read the %s %s: %s", what,
                       show_path(raw, resolved, shown, sizeof(shown)), strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

static int
parse_tls(struct parse *p, yaml_node_t *tls, tale_conf_listener_t *l)
{
    if (tale_yaml_expect_map(p->y, tls, "a mapping with 'cert' and 'key' for 'tls'", p->err, p->errlen) != 0 ||
        tale_yaml_check_keys(p->y, tls, tls_keys, p->err, p->errlen) != 0)
        return -1;
    const char *cert, *key;
    if (get_nonempty(p, tls, "cert", 1, NULL, "a certificate file", &cert) != 0 ||
        get_nonempty(p, tls, "key", 1, NULL, "a private key file", &key) != 0)
        return -1;
    yaml_node_t *cert_at = tale_yaml_get(p->y, tls, "cert", NULL), *key_at = tale_yaml_get(p->y, tls, "key", NULL);
    l->tls_cert = resolve_path(p->c->dir, cert);
    l->tls_key = resolve_path(p->c->dir, key);
    if (check_readable_file(p, cert_at, "TLS certificate", cert, l->tls_cert) != 0 ||
        check_readable_file(p, key_at, "TLS key", key, l->tls_key) != 0)
        return -1;
    return 0;
}

static int
parse_listener(struct parse *p, yaml_node_t *node, tale_conf_listener_t *l)
{
    l->node = node;
    if (tale_yaml_expect_map(p->y, node, "a listener (a mapping with 'host' and 'port')", p->err, p->errlen) != 0 ||
        tale_yaml_check_keys(p->y, node, listener_keys, p->err, p->errlen) != 0)
        return -1;
    const char *host;
    int64_t port;
    if (get_nonempty(p, node, "host", 1, NULL, "a host name or address", &host) != 0 ||
        tale_yaml_int(p->y, node, "port", 1, 0, 0, 65535, &port, p->err, p->errlen) != 0 ||
        tale_yaml_bool(p->y, node, "http2", 0, 0, &l->http2, p->err, p->errlen) != 0)
        return -1;
    l->host = tale_xstrdup(host);
    l->port = (uint16_t)port;
    yaml_node_t *tls = tale_yaml_get(p->y, node, "tls", NULL);
    if (tls != NULL && parse_tls(p, tls, l) != 0)
        return -1;
    /* h2 is only ever offered through ALPN on TLS; on plain HTTP the flag would be silently dead */
    if (l->http2 && tls == NULL) {
        tale_yaml_errf(p->y, tale_yaml_get(p->y, node, "http2", NULL), p->err, p->errlen,
                       "'http2: true' needs 'tls' on the same listener (HTTP/2 is offered only over TLS)");
        return -1;
    }
    return 0;
}

static int
parse_listeners(struct parse *p, yaml_node_t *root)
{
    yaml_node_t *seq = tale_yaml_get(p->y, root, "listeners", NULL);
    if (seq == NULL) {
        tale_yaml_errf(p->y, root, p->err, p->errlen, "missing key 'listeners' (expected a sequence of listeners)");
        return -1;
    }
    if (tale_yaml_expect_seq(p->y, seq, "a sequence of listeners for 'listeners'", p->err, p->errlen) != 0)
        return -1;
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n == 0) {
        tale_yaml_errf(p->y, seq, p->err, p->errlen, "expected at least one listener in 'listeners'");
        return -1;
    }
    p->c->listeners = tale_xcalloc(n, sizeof(*p->c->listeners));
    for (size_t i = 0; i < n; i++) {
        tale_conf_listener_t *l = &p->c->listeners[i];
        p->c->n_listeners = i + 1; /* so free() sees what was filled in */
        if (parse_listener(p, yaml_document_get_node(&p->y->doc, seq->data.sequence.items.start[i]), l) != 0)
            return -1;
        /* port 0 picks a fresh port each time, so only fixed ports can clash */
        for (size_t j = 0; l->port != 0 && j < i; j++) {
            const tale_conf_listener_t *o = &p->c->listeners[j];
            if (o->port == l->port && strcmp(o->host, l->host) == 0) {
                tale_yaml_errf(p->y, l->node, p->err, p->errlen, "duplicate listener %s port %u (first at line %lu, column %lu)",
                               l->host, (unsigned)l->port, (unsigned long)o->node->start_mark.line + 1,
                               (unsigned long)o->node->start_mark.column + 1);
                return -1;
            }
        }
    }
    return 0;
}

/* A limit of 0 would refuse every request or session, never what was meant. */
static int
require_positive(struct parse *p, yaml_node_t *map, const char *key, uint64_t v, const char *what)
{
    if (v > 0)
        return 0;
    yaml_node_t *n = tale_yaml_get(p->y, map, key, NULL);
    tale_yaml_errf(p->y, n, p->err, p->errlen, "expected %s greater than 0 for '%s', got '%s'", what, key,
                   n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "0");
    return -1;
}

/* The connection limits of issue #11 (their own block, to keep merges
 * apart): connections per client address (0 turns it off) and the deadline
 * for a connection's TLS handshake and request headers. */
static int
parse_conn_limits(struct parse *p, yaml_node_t *m)
{
    tale_config_t *c = p->c;
    int64_t per_addr;
    if (tale_yaml_int(p->y, m, "max_connections_per_address", 0, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, 0, MAX_COUNT, &per_addr,
                      p->err, p->errlen) != 0 ||
        tale_yaml_duration_ms(p->y, m, "header_timeout", 0, DEFAULT_HEADER_TIMEOUT_MS, &c->limits.header_timeout_ms, p->err,
                              p->errlen) != 0 ||
        require_positive(p, m, "header_timeout", c->limits.header_timeout_ms, "a duration") != 0)
        return -1;
    c->limits.max_connections_per_address = (uint64_t)per_addr;
    return 0;
}

static void add_warning(struct parse *p, const yaml_node_t *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
add_warning(struct parse *p, const yaml_node_t *at, const char *fmt, ...)
{
    char msg[512], line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tale_yaml_errf(p->y, at, line, sizeof(line), "%s", msg);
    tale_config_t *c = p->c;
    c->warnings = tale_xrealloc(c->warnings, (c->n_warnings + 1) * sizeof(*c->warnings));
    c->warnings[c->n_warnings++] = tale_xstrdup(line);
}

/* limits.linger.  `session_idle` was only ever the time a detached MUD seat
 * was kept, which is what linger is, so it is still read, with a warning;
 * both at once would leave the reader guessing which one counts. */
static int
parse_linger(struct parse *p, yaml_node_t *m)
{
    yaml_node_t *alias_key = NULL;
    const char *key = "linger";
    if (tale_yaml_get(p->y, m, "session_idle", &alias_key) != NULL) {
        if (tale_yaml_get(p->y, m, "linger", NULL) != NULL) {
            tale_yaml_errf(p->y, alias_key, p->err, p->errlen,
                           "'session_idle' is the deprecated name of 'linger'; expected only 'linger', got both");
            return -1;
        }
        add_warning(p, alias_key, "'session_idle' is deprecated: write 'linger' instead (the same duration)");
        key = "session_idle";
    }
    if (tale_yaml_duration_ms(p->y, m, key, 0, DEFAULT_LINGER_MS, &p->c->limits.linger_ms, p->err, p->errlen) != 0 ||
        require_positive(p, m, key, p->c->limits.linger_ms, "a duration") != 0)
        return -1;
    return 0;
}

/* instances (IF only): one game for the host, or one per visitor.  A
 * per-visitor game exists only as long as it is saved, so that needs autosave
 * and a data_dir written out (not the default folder beside the config):
 * thousands of games should land where the operator chose. */
static int
parse_instances(struct parse *p, yaml_node_t *root)
{
    tale_config_t *c = p->c;
    const char *v;
    yaml_node_t *at = tale_yaml_get(p->y, root, "instances", NULL);
    if (tale_yaml_string(p->y, root, "instances", 0, "single", &v, p->err, p->errlen) != 0)
        return -1;
    if (strcmp(v, "single") == 0) {
        c->instances = TALE_INSTANCES_SINGLE;
    } else if (strcmp(v, "per_visitor") == 0) {
        c->instances = TALE_INSTANCES_PER_VISITOR;
    } else {
        tale_yaml_errf(p->y, at, p->err, p->errlen, "expected 'single' or 'per_visitor' for 'instances', got '%s'", v);
        return -1;
    }
    if (at != NULL && c->mode == TALE_MODE_MUD) {
        tale_yaml_errf(p->y, at, p->err, p->errlen,
                       "'instances' is for 'mode: if' only: a MUD is one world shared by every player");
        return -1;
    }
    if (c->instances != TALE_INSTANCES_PER_VISITOR)
        return 0;
    if (tale_yaml_get(p->y, root, "data_dir", NULL) == NULL) {
        tale_yaml_errf(p->y, at, p->err, p->errlen,
                       "'instances: per_visitor' keeps every visitor's game on disk: set 'data_dir' to the folder for them");
        return -1;
    }
    if (!c->autosave) {
        tale_yaml_errf(p->y, tale_yaml_get(p->y, root, "autosave", NULL), p->err, p->errlen,
                       "'instances: per_visitor' needs 'autosave: true': a visitor's game is kept only by saving it");
        return -1;
    }
    return 0;
}

/* accounts (MUD only): off, optional or required.  The database lives in
 * data_dir, so that must be written out, as for per-visitor instances. */
static int
parse_accounts(struct parse *p, yaml_node_t *root)
{
    tale_config_t *c = p->c;
    const char *v;
    yaml_node_t *at = tale_yaml_get(p->y, root, "accounts", NULL);
    if (tale_yaml_string(p->y, root, "accounts", 0, "off", &v, p->err, p->errlen) != 0)
        return -1;
    if (strcmp(v, "off") == 0) {
        c->accounts = TALE_ACCOUNTS_OFF;
    } else if (strcmp(v, "optional") == 0) {
        c->accounts = TALE_ACCOUNTS_OPTIONAL;
    } else if (strcmp(v, "required") == 0) {
        c->accounts = TALE_ACCOUNTS_REQUIRED;
    } else {
        tale_yaml_errf(p->y, at, p->err, p->errlen, "expected 'off', 'optional' or 'required' for 'accounts', got '%s'", v);
        return -1;
    }
    if (c->accounts == TALE_ACCOUNTS_OFF)
        return 0;
    if (c->mode != TALE_MODE_MUD) {
        tale_yaml_errf(p->y, at, p->err, p->errlen,
                       "'accounts' is for 'mode: mud' only: an IF game has one player, kept by its seat and its save");
        return -1;
    }
    if (tale_yaml_get(p->y, root, "data_dir", NULL) == NULL) {
        tale_yaml_errf(p->y, at, p->err, p->errlen,
                       "'accounts' keeps accounts and characters in data_dir/accounts.sqlite: set 'data_dir' to the folder for it");
        return -1;
    }
    return 0;
}

/* limits.max_accounts, login_failures_per_minute, accounts_per_address_per_hour, character_save. */
static int
parse_account_limits(struct parse *p, yaml_node_t *m)
{
    tale_config_t *c = p->c;
    int64_t max, fails, per_hour;
    if (tale_yaml_int(p->y, m, "max_accounts", 0, DEFAULT_MAX_ACCOUNTS, 1, MAX_STORED_COUNT, &max, p->err, p->errlen) != 0 ||
        tale_yaml_int(p->y, m, "login_failures_per_minute", 0, DEFAULT_LOGIN_FAILURES_PER_MINUTE, 1, MAX_COUNT, &fails, p->err,
                      p->errlen) != 0 ||
        tale_yaml_int(p->y, m, "accounts_per_address_per_hour", 0, DEFAULT_ACCOUNTS_PER_ADDRESS_PER_HOUR, 0, MAX_COUNT, &per_hour,
                      p->err, p->errlen) != 0 ||
        tale_yaml_duration_ms(p->y, m, "character_save", 0, DEFAULT_CHARACTER_SAVE_MS, &c->limits.character_save_ms, p->err,
                              p->errlen) != 0 ||
        require_positive(p, m, "character_save", c->limits.character_save_ms, "a duration") != 0)
        return -1;
    c->limits.max_accounts = (uint64_t)max;
    c->limits.login_failures_per_minute = (uint64_t)fails;
    c->limits.accounts_per_address_per_hour = (uint64_t)per_hour;
    return 0;
}

/* limits.max_live_worlds, world_idle, world_save, max_stored_worlds, max_stored_bytes. */
static int
parse_world_limits(struct parse *p, yaml_node_t *m)
{
    tale_config_t *c = p->c;
    int64_t live, stored;
    if (tale_yaml_int(p->y, m, "max_live_worlds", 0, DEFAULT_MAX_LIVE_WORLDS, 1, MAX_COUNT, &live, p->err, p->errlen) != 0 ||
        tale_yaml_duration_ms(p->y, m, "world_idle", 0, DEFAULT_WORLD_IDLE_MS, &c->limits.world_idle_ms, p->err, p->errlen) != 0 ||
        require_positive(p, m, "world_idle", c->limits.world_idle_ms, "a duration") != 0 ||
        tale_yaml_duration_ms(p->y, m, "world_save", 0, DEFAULT_WORLD_SAVE_MS, &c->limits.world_save_ms, p->err, p->errlen) != 0 ||
        require_positive(p, m, "world_save", c->limits.world_save_ms, "a duration") != 0 ||
        tale_yaml_int(p->y, m, "max_stored_worlds", 0, DEFAULT_MAX_STORED_WORLDS, 1, MAX_STORED_COUNT, &stored, p->err,
                      p->errlen) != 0 ||
        tale_yaml_size(p->y, m, "max_stored_bytes", 0, DEFAULT_MAX_STORED_BYTES, &c->limits.max_stored_bytes, p->err, p->errlen) !=
            0 ||
        require_positive(p, m, "max_stored_bytes", c->limits.max_stored_bytes, "a size") != 0)
        return -1;
    c->limits.max_live_worlds = (uint64_t)live;
    c->limits.max_stored_worlds = (uint64_t)stored;
    return 0;
}

static int
parse_limits(struct parse *p, yaml_node_t *root)
{
    tale_config_t *c = p->c;
    yaml_node_t *m = tale_yaml_get(p->y, root, "limits", NULL);
    if (m != NULL && (tale_yaml_expect_map(p->y, m, "a mapping of limits for 'limits'", p->err, p->errlen) != 0 ||
                      tale_yaml_check_keys(p->y, m, limit_keys, p->err, p->errlen) != 0))
        return -1;
    int64_t conns, sessions, rate, burst;
    if (tale_yaml_size(p->y, m, "max_request_body", 0, DEFAULT_MAX_REQUEST_BODY, &c->limits.max_request_body, p->err, p->errlen) !=
            0 ||
        require_positive(p, m, "max_request_body", c->limits.max_request_body, "a size") != 0 ||
        tale_yaml_int(p->y, m, "max_connections", 0, DEFAULT_MAX_CONNECTIONS, 1, MAX_COUNT, &conns, p->err, p->errlen) != 0 ||
        tale_yaml_int(p->y, m, "max_sessions", 0, DEFAULT_MAX_SESSIONS, 1, MAX_COUNT, &sessions, p->err, p->errlen) != 0 ||
        tale_yaml_size(p->y, m, "session_backlog", 0, DEFAULT_SESSION_BACKLOG, &c->limits.session_backlog, p->err, p->errlen) !=
            0 ||
        require_positive(p, m, "session_backlog", c->limits.session_backlog, "a size") != 0 ||
        tale_yaml_size(p->y, m, "max_input", 0, DEFAULT_MAX_INPUT, &c->limits.max_input, p->err, p->errlen) != 0 ||
        require_positive(p, m, "max_input", c->limits.max_input, "a size") != 0 || parse_linger(p, m) != 0 ||
        tale_yaml_size(p->y, m, "total_backlog", 0, DEFAULT_TOTAL_BACKLOG, &c->limits.total_backlog, p->err, p->errlen) != 0 ||
        require_positive(p, m, "total_backlog", c->limits.total_backlog, "a size") != 0 ||
        tale_yaml_int(p->y, m, "input_rate", 0, DEFAULT_INPUT_RATE, 0, MAX_COUNT, &rate, p->err, p->errlen) != 0 ||
        tale_yaml_int(p->y, m, "input_burst", 0, DEFAULT_INPUT_BURST, 1, MAX_COUNT, &burst, p->err, p->errlen) != 0)
        return -1;
    int64_t per_addr, per_minute;
    if (tale_yaml_int(p->y, m, "max_sessions_per_address", 0, DEFAULT_MAX_SESSIONS_PER_ADDRESS, 0, MAX_COUNT, &per_addr, p->err,
                      p->errlen) != 0 ||
        tale_yaml_int(p->y, m, "new_sessions_per_minute", 0, DEFAULT_NEW_SESSIONS_PER_MINUTE, 0, MAX_COUNT, &per_minute, p->err,
                      p->errlen) != 0 ||
        tale_yaml_duration_ms(p->y, m, "seat_idle", 0, DEFAULT_SEAT_IDLE_MS, &c->limits.seat_idle_ms, p->err, p->errlen) != 0)
        return -1;
    c->limits.max_sessions_per_address = (uint64_t)per_addr;
    c->limits.new_sessions_per_minute = (uint64_t)per_minute;
    c->limits.input_rate = (uint64_t)rate;
    c->limits.input_burst = (uint64_t)burst;
    c->limits.max_connections = (uint64_t)conns;
    c->limits.max_sessions = (uint64_t)sessions;
    if (parse_world_limits(p, m) != 0 || parse_account_limits(p, m) != 0)
        return -1;
    return parse_conn_limits(p, m);
}

/* A string list copied out of the YAML document (NULL-terminated). */
static int
dup_list(struct parse *p, yaml_node_t *root, const char *key, char ***out, size_t *n)
{
    const char **list;
    size_t len = 0;
    if (tale_yaml_string_list(p->y, root, key, &list, &len, p->err, p->errlen) != 0)
        return -1;
    if (list == NULL)
        return 0;
    *out = tale_xcalloc(len + 1, sizeof(**out));
    for (size_t i = 0; i < len; i++)
        (*out)[i] = tale_xstrdup(list[i]);
    *n = len;
    free(list);
    return 0;
}

/* The node of item i of a list key (the key's own node for a lone scalar). */
static yaml_node_t *
list_item(struct parse *p, yaml_node_t *root, const char *key, size_t i)
{
    yaml_node_t *at = tale_yaml_get(p->y, root, key, NULL);
    if (at != NULL && at->type == YAML_SEQUENCE_NODE)
        return yaml_document_get_node(&p->y->doc, at->data.sequence.items.start[i]);
    return at;
}

/* seat_claim, allowed_hosts, allowed_origins, trusted_proxies. */
static int
parse_access(struct parse *p, yaml_node_t *root)
{
    tale_config_t *c = p->c;
    const char *claim;
    if (tale_yaml_string(p->y, root, "seat_claim", 0, "auto", &claim, p->err, p->errlen) != 0)
        return -1;
    if (strcmp(claim, "key") == 0) {
        c->seat_claim = TALE_SEAT_CLAIM_KEY;
    } else if (strcmp(claim, "first") == 0) {
        c->seat_claim = TALE_SEAT_CLAIM_FIRST;
    } else if (strcmp(claim, "auto") == 0) {
        c->seat_claim = TALE_SEAT_CLAIM_AUTO;
    } else {
        tale_yaml_errf(p->y, tale_yaml_get(p->y, root, "seat_claim", NULL), p->err, p->errlen,
                       "expected 'auto', 'key' or 'first' for 'seat_claim', got '%s'", claim);
        return -1;
    }
    if (dup_list(p, root, "allowed_hosts", &c->allowed_hosts, &c->n_allowed_hosts) != 0 ||
        dup_list(p, root, "allowed_origins", &c->allowed_origins, &c->n_allowed_origins) != 0)
        return -1;
    char **proxies = NULL;
    size_t n = 0;
    int rc = dup_list(p, root, "trusted_proxies", &proxies, &n);
    if (n > 0)
        c->trusted_proxies = tale_xcalloc(n, sizeof(*c->trusted_proxies));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (tale_cidr_parse(&c->trusted_proxies[i], proxies[i]) != 0) {
            tale_yaml_errf(p->y, list_item(p, root, "trusted_proxies", i), p->err, p->errlen,
                           "expected an IP address or range (like 127.0.0.1, ::1 or 10.0.0.0/8) in 'trusted_proxies', got '%s'",
                           proxies[i]);
            rc = -1;
        } else {
            c->n_trusted_proxies = i + 1;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(proxies[i]);
    free(proxies);
    return rc;
}

/* auto: a key when any listener can be reached from another machine, the
 * first visitor otherwise (a game played on its own machine). */
static void
resolve_seat_claim(tale_config_t *c)
{
    if (c->seat_claim != TALE_SEAT_CLAIM_AUTO)
        return;
    c->seat_claim = TALE_SEAT_CLAIM_FIRST;
    for (size_t i = 0; i < c->n_listeners; i++) {
        tale_addr_t a;
        const char *h = c->listeners[i].host;
        int loopback = strcmp(h, "localhost") == 0 ||
                       (tale_addr_parse(&a, h, strlen(h)) == 0 &&
                        ((a.family == AF_INET && a.bytes[0] == 127) ||
                         (a.family == AF_INET6 && memcmp(a.bytes, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0)));
        if (!loopback)
            c->seat_claim = TALE_SEAT_CLAIM_KEY;
    }
}

static int
parse_plugin_path(struct parse *p, yaml_node_t *root)
{
    const char **list;
    size_t n;
    if (tale_yaml_string_list(p->y, root, "plugin_path", &list, &n, p->err, p->errlen) != 0)
        return -1;
    if (list == NULL)
        return 0;
    yaml_node_t *at = tale_yaml_get(p->y, root, "plugin_path", NULL);
    int rc = 0;
    p->c->plugin_path = tale_xcalloc(n + 1, sizeof(*p->c->plugin_path));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (list[i][0] == '\0') {
            yaml_node_t *item =
                at->type == YAML_SEQUENCE_NODE ? yaml_document_get_node(&p->y->doc, at->data.sequence.items.start[i]) : at;
            tale_yaml_errf(p->y, item, p->err, p->errlen, "expected a folder in 'plugin_path', got an empty string");
            rc = -1;
        } else {
            p->c->plugin_path[i] = resolve_path(p->c->dir, list[i]);
            p->c->n_plugin_path = i + 1;
        }
    }
    free(list);
    return rc;
}

/* YAML's null spellings, as yaml_doc.c reads them */
static int
is_plain_null(const yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    static const char *const spellings[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++)
        if (strcmp((const char *)n->data.scalar.value, spellings[i]) == 0)
            return 1;
    return 0;
}

static int
valid_plugin_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_PLUGIN_NAME)
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
              *s == '.'))
            return 0;
    return 1;
}

static int
parse_plugin(struct parse *p, yaml_node_t *node, size_t index)
{
    tale_conf_plugin_t *pl = &p->c->plugins[index];
    pl->node = node;
    if (tale_yaml_expect_map(p->y, node, "a plugin (a mapping with 'name' and optionally 'module', 'enabled', 'config')", p->err,
                             p->errlen) != 0 ||
        tale_yaml_check_keys(p->y, node, plugin_keys, p->err, p->errlen) != 0)
        return -1;

    const char *name, *module;
    if (get_nonempty(p, node, "name", 1, NULL, "a plugin name", &name) != 0)
        return -1;
    yaml_node_t *name_at = tale_yaml_get(p->y, node, "name", NULL);
    if (!valid_plugin_name(name)) {
        tale_yaml_errf(p->y, name_at, p->err, p->errlen,
                       "expected a plugin name of 1 to %d letters, digits, '_', '-' or '.', got '%s'", MAX_PLUGIN_NAME, name);
        return -1;
    }
    for (size_t j = 0; j < index; j++) {
        if (strcmp(p->c->plugins[j].name, name) == 0) {
            const yaml_node_t *first = tale_yaml_get(p->y, p->c->plugins[j].node, "name", NULL);
            tale_yaml_errf(p->y, name_at, p->err, p->errlen,
                           "duplicate plugin name '%s' (first at line %lu, column %lu; expected a unique name)", name,
                           (unsigned long)first->start_mark.line + 1, (unsigned long)first->start_mark.column + 1);
            return -1;
        }
    }
    pl->name = tale_xstrdup(name);

    if (get_nonempty(p, node, "module", 0, name, "a module name or path", &module) != 0 ||
        tale_yaml_bool(p->y, node, "enabled", 0, 1, &pl->enabled, p->err, p->errlen) != 0)
        return -1;
    pl->module = tale_xstrdup(module); /* found by the loader, which names the folders it searched */

    yaml_node_t *conf = tale_yaml_get(p->y, node, "config", NULL);
    /* "config:" with nothing under it means no settings, not an error */
    if (is_plain_null(conf))
        conf = NULL;
    if (conf != NULL) {
        char what[MAX_PLUGIN_NAME + 64];
        snprintf(what, sizeof(what), "a mapping of settings for plugin '%s' in 'config'", name);
        if (tale_yaml_expect_map(p->y, conf, what, p->err, p->errlen) != 0)
            return -1;
    }
    pl->config = conf;
    return 0;
}

static int
parse_plugins(struct parse *p, yaml_node_t *root)
{
    yaml_node_t *seq = tale_yaml_get(p->y, root, "plugins", NULL);
    if (seq == NULL) {
        tale_yaml_errf(p->y, root, p->err, p->errlen, "missing key 'plugins' (expected a sequence of plugins)");
        return -1;
    }
    if (tale_yaml_expect_seq(p->y, seq, "a sequence of plugins for 'plugins'", p->err, p->errlen) != 0)
        return -1;
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n == 0)
        return 0;
    p->c->plugins = tale_xcalloc(n, sizeof(*p->c->plugins));
    for (size_t i = 0; i < n; i++) {
        p->c->n_plugins = i + 1;
        if (parse_plugin(p, yaml_document_get_node(&p->y->doc, seq->data.sequence.items.start[i]), i) != 0)
            return -1;
    }
    return 0;
}

/* The absolute folder holding the config file. */
static char *
config_dir(const char *path)
{
    char *real = realpath(path, NULL);
    if (real == NULL)
        return NULL;
    char *dir = tale_xstrdup(dirname(real));
    free(real);
    return dir;
}

tale_config_t *
tale_config_load(const char *path, char *err, size_t errlen)
{
    tale_config_t *c = tale_xcalloc(1, sizeof(*c));
    c->file = tale_xstrdup(path);
    struct parse p = {c, &c->yaml, err, errlen};
    if (tale_yaml_load(&c->yaml, path, err, errlen) != 0)
        goto fail;
    if ((c->dir = config_dir(path)) == NULL) {
        tale_yaml_errf(&c->yaml, NULL, err, errlen, "cannot find the config's folder: %s", strerror(errno));
        goto fail;
    }

    yaml_node_t *root = tale_yaml_root(&c->yaml);
    if (tale_yaml_expect_map(&c->yaml, root, "a mapping of settings at the top level", err, errlen) != 0 ||
        tale_yaml_check_keys(&c->yaml, root, top_keys, err, errlen) != 0)
        goto fail;

    if (parse_mode(&p, root) != 0 || parse_story(&p, root) != 0 || parse_data_dir(&p, root) != 0 ||
        tale_yaml_bool(&c->yaml, root, "autosave", 0, 1, &c->autosave, err, errlen) != 0 ||
        tale_yaml_duration_ms(&c->yaml, root, "tick", 0, DEFAULT_TICK_MS, &c->tick_ms, err, errlen) != 0 ||
        require_positive(&p, root, "tick", c->tick_ms, "a duration") != 0 || parse_log_level(&p, root) != 0 ||
        parse_listeners(&p, root) != 0 || parse_limits(&p, root) != 0 || parse_access(&p, root) != 0 ||
        parse_plugin_path(&p, root) != 0 || parse_plugin_permissions(&p, root) != 0 || parse_plugins(&p, root) != 0 ||
        parse_instances(&p, root) != 0 || parse_access_log(&p, root) != 0 || parse_accounts(&p, root) != 0)
        goto fail;
    resolve_seat_claim(c);
    return c;

fail:
    tale_config_free(c);
    return NULL;
}

void
tale_config_free(tale_config_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_listeners; i++) {
        free(c->listeners[i].host);
        free(c->listeners[i].tls_cert);
        free(c->listeners[i].tls_key);
    }
    free(c->listeners);
    for (size_t i = 0; i < c->n_plugins; i++) {
        free(c->plugins[i].name);
        free(c->plugins[i].module);
    }
    free(c->plugins);
    for (size_t i = 0; i < c->n_plugin_path; i++)
        free(c->plugin_path[i]);
    free(c->plugin_path);
    for (size_t i = 0; i < c->n_allowed_hosts; i++)
        free(c->allowed_hosts[i]);
    free(c->allowed_hosts);
    for (size_t i = 0; i < c->n_allowed_origins; i++)
        free(c->allowed_origins[i]);
    free(c->allowed_origins);
    free(c->trusted_proxies);
    free(c->access_log);
    for (size_t i = 0; i < c->n_warnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    free(c->story);
    free(c->data_dir);
    free(c->dir);
    free(c->file);
    tale_yaml_free(&c->yaml);
    free(c);
}

/* ---- reload ---------------------------------------------------------------
 * What SIGHUP may change in a running host.  Everything the host copied into
 * longer-lived state at start (sockets, plugins, the story, the worlds and
 * their save files, timers) needs a restart; what is read from the config at
 * each use changes in place. */

static int
str_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/* Two YAML subtrees hold the same data.  Key order counts: a reordered
 * mapping reads as a change, which errs towards asking for a restart. */
static int
node_equal(yaml_document_t *da, yaml_node_t *a, yaml_document_t *db, yaml_node_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->type != b->type)
        return 0;
    if (a->type == YAML_SCALAR_NODE)
        return a->data.scalar.length == b->data.scalar.length &&
               memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
    if (a->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *ia = a->data.sequence.items.start, *ib = b->data.sequence.items.start;
        if (a->data.sequence.items.top - ia != b->data.sequence.items.top - ib)
            return 0;
        for (; ia < a->data.sequence.items.top; ia++, ib++)
            if (!node_equal(da, yaml_document_get_node(da, *ia), db, yaml_document_get_node(db, *ib)))
                return 0;
        return 1;
    }
    if (a->type == YAML_MAPPING_NODE) {
        yaml_node_pair_t *pa = a->data.mapping.pairs.start, *pb = b->data.mapping.pairs.start;
        if (a->data.mapping.pairs.top - pa != b->data.mapping.pairs.top - pb)
            return 0;
        for (; pa < a->data.mapping.pairs.top; pa++, pb++)
            if (!node_equal(da, yaml_document_get_node(da, pa->key), db, yaml_document_get_node(db, pb->key)) ||
                !node_equal(da, yaml_document_get_node(da, pa->value), db, yaml_document_get_node(db, pb->value)))
                return 0;
        return 1;
    }
    return 1;
}

static int
listeners_differ(const tale_config_t *a, const tale_config_t *b)
{
    if (a->n_listeners != b->n_listeners)
        return 1;
    for (size_t i = 0; i < a->n_listeners; i++) {
        const tale_conf_listener_t *x = &a->listeners[i], *y = &b->listeners[i];
        if (strcmp(x->host, y->host) != 0 || x->port != y->port || str_differs(x->tls_cert, y->tls_cert) ||
            str_differs(x->tls_key, y->tls_key) || x->http2 != y->http2)
            return 1;
    }
    return 0;
}

int
tale_config_subtree_equal(tale_yaml_t *ya, yaml_node_t *a, tale_yaml_t *yb, yaml_node_t *b)
{
    return node_equal(&ya->doc, a, &yb->doc, b);
}

/* The plugin list as the loader saw it.  Each plugin's `config:` is the
 * host's to compare (tale_plugins_reload): a plugin may take it in place. */
static int
plugins_differ(tale_config_t *a, tale_config_t *b)
{
    if (a->n_plugins != b->n_plugins || a->plugin_permissions_warn != b->plugin_permissions_warn ||
        a->n_plugin_path != b->n_plugin_path)
        return 1;
    for (size_t i = 0; i < a->n_plugin_path; i++)
        if (strcmp(a->plugin_path[i], b->plugin_path[i]) != 0)
            return 1;
    for (size_t i = 0; i < a->n_plugins; i++) {
        const tale_conf_plugin_t *x = &a->plugins[i], *y = &b->plugins[i];
        if (strcmp(x->name, y->name) != 0 || strcmp(x->module, y->module) != 0 || x->enabled != y->enabled)
            return 1;
    }
    return 0;
}

static void
note(char *out, size_t len, const char *name)
{
    size_t used = strlen(out);
    snprintf(out + used, len - used, "%s%s", used > 0 ? ", " : "", name);
}

/* Swap a list between the two configs: the running one takes the fresh
 * list, the fresh one (freed next) takes the old. */
#define SWAP_LIST(a, b, field, count)                                                                                              \
    do {                                                                                                                           \
        __typeof__(a->field) t_ = a->field;                                                                                        \
        size_t n_ = a->count;                                                                                                      \
        a->field = b->field;                                                                                                       \
        a->count = b->count;                                                                                                       \
        b->field = t_;                                                                                                             \
        b->count = n_;                                                                                                             \
    } while (0)

int
tale_config_reload_apply(tale_config_t *run, tale_config_t *fresh, char *restart, size_t restart_len, int *changed)
{
    restart[0] = '\0';
    *changed = 0;
    if (fresh->mode != run->mode)
        note(restart, restart_len, "mode");
    if (strcmp(fresh->story, run->story) != 0)
        note(restart, restart_len, "story");
    if (str_differs(fresh->data_dir, run->data_dir))
        note(restart, restart_len, "data_dir");
    if (fresh->autosave != run->autosave)
        note(restart, restart_len, "autosave");
    if (fresh->instances != run->instances)
        note(restart, restart_len, "instances");
    if (fresh->tick_ms != run->tick_ms)
        note(restart, restart_len, "tick");
    if (fresh->seat_claim != run->seat_claim)
        note(restart, restart_len, "seat_claim");
    if (listeners_differ(run, fresh))
        note(restart, restart_len, "listeners");
    if (plugins_differ(run, fresh))
        note(restart, restart_len, "plugins");
    /* Copied at start: the descriptor limit, h2o's timeouts, each world's
     * command buffer, the store's caps. */
    if (fresh->limits.max_connections != run->limits.max_connections)
        note(restart, restart_len, "limits.max_connections");
    if (fresh->limits.header_timeout_ms != run->limits.header_timeout_ms)
        note(restart, restart_len, "limits.header_timeout");
    if (fresh->limits.max_input != run->limits.max_input)
        note(restart, restart_len, "limits.max_input");
    if (fresh->limits.max_stored_worlds != run->limits.max_stored_worlds)
        note(restart, restart_len, "limits.max_stored_worlds");
    if (fresh->limits.max_stored_bytes != run->limits.max_stored_bytes)
        note(restart, restart_len, "limits.max_stored_bytes");

    /* In place: whatever the host reads at each use.  The restart-only
     * limits keep their running values. */
    __typeof__(run->limits) limits = fresh->limits;
    limits.max_connections = run->limits.max_connections;
    limits.header_timeout_ms = run->limits.header_timeout_ms;
    limits.max_input = run->limits.max_input;
    limits.max_stored_worlds = run->limits.max_stored_worlds;
    limits.max_stored_bytes = run->limits.max_stored_bytes;
    if (memcmp(&limits, &run->limits, sizeof(limits)) != 0) {
        run->limits = limits;
        *changed = 1;
    }
    if (fresh->log_level != run->log_level) {
        run->log_level = fresh->log_level;
        *changed = 1;
    }
    int hosts = fresh->n_allowed_hosts != run->n_allowed_hosts, origins = fresh->n_allowed_origins != run->n_allowed_origins;
    for (size_t i = 0; !hosts && i < run->n_allowed_hosts; i++)
        hosts = strcmp(run->allowed_hosts[i], fresh->allowed_hosts[i]) != 0;
    for (size_t i = 0; !origins && i < run->n_allowed_origins; i++)
        origins = strcmp(run->allowed_origins[i], fresh->allowed_origins[i]) != 0;
    int proxies = fresh->n_trusted_proxies != run->n_trusted_proxies ||
                  (run->n_trusted_proxies > 0 && memcmp(run->trusted_proxies, fresh->trusted_proxies,
                                                        run->n_trusted_proxies * sizeof(*run->trusted_proxies)) != 0);
    if (hosts)
        SWAP_LIST(run, fresh, allowed_hosts, n_allowed_hosts);
    if (origins)
        SWAP_LIST(run, fresh, allowed_origins, n_allowed_origins);
    if (proxies)
        SWAP_LIST(run, fresh, trusted_proxies, n_trusted_proxies);
    *changed |= hosts || origins || proxies;
    /* The access log's path and format: the host's reload hook reopens it. */
    int same_log = (run->access_log == NULL) == (fresh->access_log == NULL) &&
                   (run->access_log == NULL || strcmp(run->access_log, fresh->access_log) == 0);
    if (!same_log || run->access_log_format != fresh->access_log_format) {
        char *t = run->access_log;
        run->access_log = fresh->access_log;
        fresh->access_log = t;
        run->access_log_format = fresh->access_log_format;
        *changed = 1;
    }
    return restart[0] != '\0';
}
