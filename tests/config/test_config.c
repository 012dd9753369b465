/*
 * test_config.c - tale.yaml into tale_config_t.
 *
 * A valid config must round-trip into the structs field by field; every
 * fault fixture in fixtures/ must fail with exactly one expected
 * "file:line:column: message" line.  Run with a test name as the only
 * argument to run just that test (ctest registers one entry per name).
 */
#include "config.h"

#include <tale/plugin.h>

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define FIX TALE_FIXTURES

/* ---- helpers ---- */

/* The canonical fixtures folder: resolved paths in configs and messages use it. */
static const char *
fixdir(void)
{
    static char real[PATH_MAX];
    if (real[0] == '\0')
        assert_non_null(realpath(FIX, real));
    return real;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s;
    assert_true(vasprintf(&s, f, ap) >= 0);
    va_end(ap);
    return s;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static tale_config_t *
load_ok(const char *path)
{
    char err[1024] = "";
    tale_config_t *c = tale_config_load(path, err, sizeof(err));
    if (c == NULL)
        fail_msg("%s should load, got: %s", path, err);
    return c;
}

/* ---- the valid configs ---- */

static void
load_valid(void **state)
{
    char *path = fmt("%s/valid/full.yaml", FIX);
    tale_config_t *c = load_ok(path);
    const char *d = fixdir();
    char *s;

    assert_string_equal(c->file, path);
    assert_string_equal(c->dir, s = fmt("%s/valid", d)), free(s);
    assert_int_equal(c->mode, TALE_MODE_MUD);
    assert_string_equal(c->story, s = fmt("%s/valid/story", d)), free(s);
    assert_string_equal(c->data_dir, s = fmt("%s/saves", d)), free(s);
    assert_int_equal(c->autosave, 0);
    assert_int_equal(c->tick_ms, 250);
    assert_int_equal(c->log_level, TALE_LOG_DEBUG);

    assert_int_equal(c->n_listeners, 3);
    assert_string_equal(c->listeners[0].host, "127.0.0.1");
    assert_int_equal(c->listeners[0].port, 0);
    assert_null(c->listeners[0].tls_cert);
    assert_null(c->listeners[0].tls_key);
    assert_int_equal(c->listeners[0].http2, 0);
    assert_int_equal(c->listeners[0].node->start_mark.line + 1, 10);
    assert_string_equal(c->listeners[1].host, "::1");
    assert_int_equal(c->listeners[1].port, 8443);
    assert_string_equal(c->listeners[1].tls_cert, s = fmt("%s/valid/tls/cert.pem", d)), free(s);
    assert_string_equal(c->listeners[1].tls_key, s = fmt("%s/valid/tls/key.pem", d)), free(s);
    assert_int_equal(c->listeners[1].http2, 1);
    assert_string_equal(c->listeners[2].host, "0.0.0.0");
    assert_int_equal(c->listeners[2].port, 65535);
    assert_int_equal(c->listeners[2].http2, 0);

    assert_int_equal(c->limits.max_request_body, 2 * 1024 * 1024);
    assert_int_equal(c->limits.max_connections, 10);
    assert_int_equal(c->limits.max_sessions, 3);
    assert_int_equal(c->limits.session_backlog, 64 * 1024);
    assert_int_equal(c->limits.max_input, 512);
    assert_int_equal(c->limits.linger_ms, 2ull * 60 * 60 * 1000);
    assert_int_equal(c->limits.total_backlog, 32 * 1024 * 1024);
    assert_int_equal(c->n_warnings, 0);
    assert_int_equal(c->limits.input_rate, 5);
    assert_int_equal(c->limits.input_burst, 8);

    assert_int_equal(c->n_plugin_path, 2);
    assert_string_equal(c->plugin_path[0], s = fmt("%s/valid/plugins", d)), free(s);
    assert_string_equal(c->plugin_path[1], "/nonexistent/tale-plugins");

    assert_int_equal(c->n_plugins, 4);
    tale_conf_plugin_t *p = c->plugins;
    assert_string_equal(p[0].name, "static");
    assert_string_equal(p[0].module, "static"); /* as written: the loader finds the file */
    assert_int_equal(p[0].enabled, 1);
    assert_non_null(p[0].config);
    assert_int_equal(p[0].config->type, YAML_MAPPING_NODE);
    assert_int_equal(p[0].node->start_mark.line + 1, 34);

    assert_string_equal(p[1].name, "ws-main");
    assert_string_equal(p[1].module, "ws");
    assert_int_equal(p[1].enabled, 0);
    assert_non_null(p[1].config);

    assert_string_equal(p[2].name, "local");
    assert_string_equal(p[2].module, "../plugins/local.so");
    assert_int_equal(p[2].enabled, 1);
    assert_null(p[2].config);

    assert_string_equal(p[3].name, "sse");
    assert_string_equal(p[3].module, "sse");
    assert_null(p[3].config); /* "config:" with nothing under it */

    tale_config_free(c);
    free(path);
}

static void
load_minimal(void **state)
{
    char *path = fmt("%s/valid/minimal.yaml", FIX);
    tale_config_t *c = load_ok(path);
    const char *d = fixdir();
    char *s;

    assert_int_equal(c->mode, TALE_MODE_IF);
    assert_string_equal(c->story, s = fmt("%s/valid/story", d)), free(s);
    assert_string_equal(c->data_dir, s = fmt("%s/valid/var", d)), free(s);
    assert_int_equal(c->autosave, 1);
    assert_int_equal(c->tick_ms, 1000);
    assert_int_equal(c->log_level, TALE_LOG_INFO);
    assert_int_equal(c->n_listeners, 1);
    assert_string_equal(c->listeners[0].host, "localhost");
    assert_int_equal(c->listeners[0].port, 8180);
    assert_null(c->listeners[0].tls_cert);
    assert_int_equal(c->listeners[0].http2, 0);
    assert_int_equal(c->limits.max_request_body, 1024 * 1024);
    assert_int_equal(c->limits.max_connections, 960);
    assert_int_equal(c->limits.max_sessions, 256);
    assert_int_equal(c->limits.session_backlog, 256 * 1024);
    assert_int_equal(c->limits.max_input, 1024);
    assert_int_equal(c->limits.linger_ms, 60 * 1000);
    assert_int_equal(c->limits.total_backlog, 64 * 1024 * 1024);
    assert_int_equal(c->limits.input_rate, 20);
    assert_int_equal(c->limits.input_burst, 40);
    assert_int_equal(c->limits.max_connections_per_address, 64);
    assert_int_equal(c->limits.header_timeout_ms, 10 * 1000);
    assert_null(c->plugin_path);
    assert_int_equal(c->n_plugin_path, 0);
    assert_int_equal(c->n_plugins, 0);
    tale_config_free(c);
    free(path);
}

/* limits.session_idle is read as limits.linger, with one located warning
 * naming the new key. */
static void
load_session_idle_alias(void **state)
{
    char *path = fmt("%s/valid/session-idle-alias.yaml", FIX);
    tale_config_t *c = load_ok(path);
    assert_int_equal(c->limits.linger_ms, 90 * 1000);
    assert_int_equal(c->n_warnings, 1);
    char *want = fmt("%s:7:3: 'session_idle' is deprecated: write 'linger' instead (the same duration)", path);
    assert_string_equal(c->warnings[0], want);
    free(want);
    tale_config_free(c);
    free(path);
}

/* instances: per_visitor and its limits; and their defaults elsewhere. */
static void
load_per_visitor(void **state)
{
    char *path = fmt("%s/valid/per-visitor.yaml", FIX), *s;
    tale_config_t *c = load_ok(path);
    assert_int_equal(c->mode, TALE_MODE_IF);
    assert_int_equal(c->instances, TALE_INSTANCES_PER_VISITOR);
    assert_string_equal(c->data_dir, s = fmt("%s/games", fixdir())), free(s);
    assert_int_equal(c->limits.max_live_worlds, 3);
    assert_int_equal(c->limits.world_idle_ms, 90 * 1000);
    assert_int_equal(c->limits.world_save_ms, 250);
    assert_int_equal(c->limits.max_stored_worlds, 500);
    assert_int_equal(c->limits.max_stored_bytes, 2 * 1024 * 1024);
    tale_config_free(c);
    free(path);

    path = fmt("%s/valid/minimal.yaml", FIX);
    c = load_ok(path);
    assert_int_equal(c->instances, TALE_INSTANCES_SINGLE);
    assert_int_equal(c->limits.max_live_worlds, 1000);
    assert_int_equal(c->limits.world_idle_ms, 10 * 60 * 1000);
    assert_int_equal(c->limits.world_save_ms, 5 * 1000);
    assert_int_equal(c->limits.max_stored_worlds, 100000);
    assert_int_equal(c->limits.max_stored_bytes, 1024ULL * 1024 * 1024);
    tale_config_free(c);
    free(path);
}

/* The shipped conf/tale.yaml must load (its story ships beside it). */
static void
load_default_conf(void **state)
{
    char *path = fmt("%s/conf/tale.yaml", TALE_SOURCE_DIR);
    tale_config_t *c = load_ok(path);
    assert_int_equal(c->mode, TALE_MODE_IF);
    assert_int_equal(c->n_listeners, 1);
    assert_string_equal(c->listeners[0].host, "127.0.0.1");
    assert_int_equal(c->listeners[0].port, 8180);
    assert_int_equal(c->n_plugins, 3);
    assert_string_equal(c->plugins[0].name, "static");
    assert_string_equal(c->plugins[1].name, "ws");
    assert_string_equal(c->plugins[2].name, "sse");
    assert_int_equal(c->n_warnings, 0); /* the shipped config uses no deprecated key */
    tale_config_free(c);
    free(path);
}

/* plugin_path may be one string; absolute folders are kept. */
static void
plugin_path_scalar(void **state)
{
    char tmp[] = "/tmp/tale-config-test-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char *story = fmt("%s/story", tmp), *conf = fmt("%s/tale.yaml", tmp);
    assert_int_equal(mkdir(story, 0700), 0);
    write_file(conf, "story: story\nlisteners: [{host: 127.0.0.1, port: 0}]\nplugin_path: /usr/lib/tale\nplugins: []\n");
    tale_config_t *c = load_ok(conf);
    assert_int_equal(c->n_plugin_path, 1);
    assert_string_equal(c->plugin_path[0], "/usr/lib/tale");
    assert_null(c->plugin_path[1]);
    tale_config_free(c);
    unlink(conf);
    rmdir(story);
    rmdir(tmp);
    free(story);
    free(conf);
}

/* The document stays alive in the config: a plugin's subtree is read later
 * through the yaml getters, and its errors still point into the file. */
static void
plugin_subtree(void **state)
{
    char *path = fmt("%s/valid/full.yaml", FIX);
    tale_config_t *c = load_ok(path);
    char err[512];
    const char *s;
    int b;
    assert_int_equal(tale_yaml_string(&c->yaml, c->plugins[0].config, "web_root", 0, NULL, &s, err, sizeof(err)), 0);
    assert_string_equal(s, "../web");
    assert_int_equal(tale_yaml_bool(&c->yaml, c->plugins[0].config, "index", 0, 0, &b, err, sizeof(err)), 0);
    assert_int_equal(b, 1);
    assert_int_equal(tale_yaml_string(&c->yaml, c->plugins[1].config, "path", 0, NULL, &s, err, sizeof(err)), 0);
    assert_string_equal(s, "/tale/ws");
    /* a plugin with no config: getters give the default */
    assert_int_equal(tale_yaml_string(&c->yaml, c->plugins[3].config, "path", 0, "/dflt", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "/dflt");
    int64_t v;
    assert_int_equal(tale_yaml_int(&c->yaml, c->plugins[0].config, "web_root", 0, 0, 0, 10, &v, err, sizeof(err)), -1);
    char *want = fmt("%s:36:17: expected an integer from 0 to 10 for 'web_root', got '../web'", path);
    assert_string_equal(err, want);
    free(want);
    tale_config_free(c);
    free(path);
}

static void
missing_config_file(void **state)
{
    char err[512];
    char *path = fmt("%s/no-such-config.yaml", FIX);
    assert_null(tale_config_load(path, err, sizeof(err)));
    char *want = fmt("%s:1:1: cannot read file: No such file or directory", path);
    assert_string_equal(err, want);
    free(want);
    free(path);
}

/* ---- one fixture per fault ---- */

struct fault {
    const char *name; /* fixtures/<name>.yaml */
    unsigned line, column;
    const char *message; /* "@DIR@" stands for the canonical fixtures folder */
};

static const struct fault faults[] = {
    {"unknown-key", 3, 1,
     "unknown key 'listners' (expected one of: mode, story, data_dir, autosave, tick, log_level, listeners, limits, "
     "plugin_path, plugin_permissions, plugins, seat_claim, allowed_hosts, allowed_origins, trusted_proxies, instances, "
     "access_log, accounts)"},
    {"bad-access-log-format", 4, 11, "expected combined or json for 'access_log.format', got 'apache'"},
    {"access-log-without-path", 3, 3, "missing key 'path' (expected a file or stderr)"},
    {"unknown-plugin-key", 8, 5, "unknown key 'path' (expected one of: name, module, enabled, config)"},
    {"port-out-of-range", 7, 11, "expected an integer from 0 to 65535 for 'port', got '70000'"},
    {"duplicate-plugin-name", 9, 11, "duplicate plugin name 'ws' (first at line 7, column 11; expected a unique name)"},
    {"wrong-type", 3, 12, "expected a sequence of listeners for 'listeners', got '127.0.0.1:8180'"},
    {"missing-key", 2, 1, "missing key 'story' (expected a story folder)"},
    {"missing-port", 4, 5, "missing key 'port' (expected an integer from 0 to 65535)"},
    {"missing-plugins", 2, 1, "missing key 'plugins' (expected a sequence of plugins)"},
    {"bad-yaml-syntax", 4, 1, "did not find expected ',' or ']' (while parsing a flow sequence that started at line 3, column 12)"},
    {"unreadable-tls-file", 7, 13,
     "cannot read the TLS certificate 'valid/tls/missing.pem' (resolved to @DIR@/valid/tls/missing.pem): No such file or "
     "directory"},
    {"tls-without-key", 6, 10, "missing key 'key' (expected a private key file)"},
    {"http2-without-tls", 6, 12, "'http2: true' needs 'tls' on the same listener (HTTP/2 is offered only over TLS)"},
    {"unreadable-story-folder", 2, 8,
     "cannot read the story folder 'valid/no-such-story' (resolved to @DIR@/valid/no-such-story): No such file or "
     "directory"},
    {"story-not-a-folder", 2, 8,
     "expected a story folder for 'story', but 'valid/story/README.md' (resolved to @DIR@/valid/story/README.md) is not "
     "a folder"},
    {"bad-size-unit", 7, 21, "expected a size (like 512, 64k, 1m, 2g) for 'max_request_body', got '1q'"},
    {"size-overflow", 7, 20, "expected a size (like 512, 64k, 1m, 2g) for 'session_backlog', got '17179869184g'"},
    {"bad-duration", 3, 7, "expected a duration (like 250ms, 15s, 2m, 1h) for 'tick', got 'soon'"},
    {"zero-tick", 3, 7, "expected a duration greater than 0 for 'tick', got '0s'"},
    {"zero-limit", 7, 14, "expected a size greater than 0 for 'max_input', got '0'"},
    {"linger-and-session-idle", 8, 3, "'session_idle' is the deprecated name of 'linger'; expected only 'linger', got both"},
    {"zero-header-timeout", 7, 19, "expected a duration greater than 0 for 'header_timeout', got '0s'"},
    {"count-out-of-range", 7, 20, "expected an integer from 1 to 1000000 for 'max_connections', got '0'"},
    {"instances-in-mud", 3, 12, "'instances' is for 'mode: if' only: a MUD is one world shared by every player"},
    {"accounts-in-if", 3, 11, "'accounts' is for 'mode: mud' only: an IF game has one player, kept by its seat and its save"},
    {"accounts-without-data-dir", 3, 11,
     "'accounts' keeps accounts and characters in data_dir/accounts.sqlite: set 'data_dir' to the folder for it"},
    {"bad-accounts", 3, 11, "expected 'off', 'optional' or 'required' for 'accounts', got 'yes please'"},
    {"bad-instances", 3, 12, "expected 'single' or 'per_visitor' for 'instances', got 'many'"},
    {"per-visitor-without-data-dir", 3, 12,
     "'instances: per_visitor' keeps every visitor's game on disk: set 'data_dir' to the folder for them"},
    {"per-visitor-without-autosave", 5, 11,
     "'instances: per_visitor' needs 'autosave: true': a visitor's game is kept only by saving it"},
    {"zero-live-worlds", 9, 20, "expected an integer from 1 to 1000000 for 'max_live_worlds', got '0'"},
    {"bad-mode", 2, 7, "expected 'if' or 'mud' for 'mode', got 'adventure'"},
    {"bad-seat-claim", 3, 13, "expected 'auto', 'key' or 'first' for 'seat_claim', got 'anyone'"},
    {"bad-trusted-proxy", 5, 5,
     "expected an IP address or range (like 127.0.0.1, ::1 or 10.0.0.0/8) in 'trusted_proxies', got '10.0.0.0/33'"},
    {"allowed-hosts-not-a-list", 3, 16, "expected a string or a sequence of strings for 'allowed_hosts', got a mapping"},
    {"bad-log-level", 3, 12, "expected one of error, warn, info, debug for 'log_level', got 'verbose'"},
    {"not-a-bool", 3, 11, "expected a boolean (true or false) for 'autosave', got 'yes'"},
    {"empty-listeners", 3, 12, "expected at least one listener in 'listeners'"},
    {"duplicate-listener", 6, 5, "duplicate listener 127.0.0.1 port 8180 (first at line 4, column 5)"},
    {"duplicate-key", 6, 5, "duplicate key 'port' (first at line 5, column 5)"},
    {"plugin-config-not-a-mapping", 8, 13, "expected a mapping of settings for plugin 'static' in 'config', got a sequence"},
    {"bad-plugin-name", 7, 11, "expected a plugin name of 1 to 64 letters, digits, '_', '-' or '.', got 'my plugin'"},
    {"top-level-not-a-mapping", 2, 1, "expected a mapping of settings at the top level, got a sequence"},
    {"empty-file", 1, 1, "the document is empty"},
    {"two-documents", 8, 1, "expected a single YAML document, found a second one"},
    {"bad-plugin-permissions", 3, 21, "expected 'refuse' or 'warn' for 'plugin_permissions', got 'allow'"},
};
#define N_FAULTS (sizeof(faults) / sizeof(faults[0]))

/* message with every "@DIR@" replaced by the canonical fixtures folder */
static char *
expand(const char *message)
{
    const char *d = fixdir();
    size_t cap = strlen(message) * 2 + strlen(d) * 4 + 1, used = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (const char *m = message; *m != '\0';) {
        if (strncmp(m, "@DIR@", 5) == 0) {
            size_t n = strlen(d);
            assert_true(used + n < cap);
            memcpy(out + used, d, n);
            used += n;
            m += 5;
        } else {
            assert_true(used + 1 < cap);
            out[used++] = *m++;
        }
    }
    out[used] = '\0';
    return out;
}

static void
fault_case(void **state)
{
    const struct fault *f = *state;
    char *path = fmt("%s/%s.yaml", FIX, f->name);
    char *msg = expand(f->message);
    char *want = fmt("%s:%u:%u: %s", path, f->line, f->column, msg);
    char err[1024] = "";
    tale_config_t *c = tale_config_load(path, err, sizeof(err));
    if (c != NULL) {
        tale_config_free(c);
        fail_msg("%s loaded, but it should fail with: %s", path, want);
    }
    assert_string_equal(err, want);
    assert_null(strchr(err, '\n')); /* one line */
    free(want);
    free(msg);
    free(path);
}

/* ---- reload ---- */

/* A config with the fixture story, written to a temp file: `extra` is
 * appended at the top level; `port` and `ws_path` vary the restart-only
 * parts. */
static tale_config_t *
reload_config(const char *dir, const char *name, unsigned port, const char *ws_path, const char *extra)
{
    char *path = fmt("%s/%s.yaml", dir, name);
    char *text = fmt("story: %s/valid/story\n"
                     "listeners:\n  - host: 127.0.0.1\n    port: %u\n"
                     "plugins:\n  - name: ws\n    module: ws\n    config:\n      path: %s\n"
                     "%s",
                     fixdir(), port, ws_path, extra);
    write_file(path, text);
    tale_config_t *c = load_ok(path);
    unlink(path);
    free(text);
    free(path);
    return c;
}

/* What may change in place is taken; what needs a restart is named and
 * kept; lists are swapped so each config frees what it holds. */
static void
reload_apply(void **state)
{
    char tmp[] = "/tmp/tale-config-reload-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char restart[256];
    int changed;

    tale_config_t *run =
        reload_config(tmp, "run", 8180, "/tale/ws", "limits:\n  max_sessions_per_address: 16\n  max_connections: 100\n");
    /* the same file again: nothing to do */
    tale_config_t *same =
        reload_config(tmp, "same", 8180, "/tale/ws", "limits:\n  max_sessions_per_address: 16\n  max_connections: 100\n");
    assert_int_equal(tale_config_reload_apply(run, same, restart, sizeof(restart), &changed), 0);
    assert_string_equal(restart, "");
    assert_int_equal(changed, 0);
    tale_config_free(same);

    /* in place only */
    tale_config_t *fresh = reload_config(tmp, "fresh", 8180, "/tale/ws",
                                         "log_level: debug\n"
                                         "allowed_origins: [https://game.example]\n"
                                         "trusted_proxies: [10.0.0.0/8]\n"
                                         "limits:\n  max_sessions_per_address: 1\n  max_connections: 100\n");
    assert_int_equal(tale_config_reload_apply(run, fresh, restart, sizeof(restart), &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(run->log_level, TALE_LOG_DEBUG);
    assert_int_equal(run->limits.max_sessions_per_address, 1);
    assert_int_equal(run->n_allowed_origins, 1);
    assert_string_equal(run->allowed_origins[0], "https://game.example");
    assert_int_equal(run->n_trusted_proxies, 1);
    assert_int_equal(fresh->n_allowed_origins, 0); /* run's old (empty) list, freed with fresh */
    tale_config_free(fresh);

    /* restart-only changes are named and kept; the in-place part of the same edit still applies */
    fresh = reload_config(tmp, "restart", 8181, "/game/ws",
                          "mode: mud\n"
                          "limits:\n  max_sessions_per_address: 4\n  max_connections: 200\n  header_timeout: 20s\n");
    assert_int_equal(tale_config_reload_apply(run, fresh, restart, sizeof(restart), &changed), 1);
    /* the ws path is the plugin's own config: the host hands it to the plugin (tale_plugins_reload) */
    assert_string_equal(restart, "mode, listeners, limits.max_connections, limits.header_timeout");
    assert_false(tale_config_subtree_equal(&run->yaml, run->plugins[0].config, &fresh->yaml, fresh->plugins[0].config));
    assert_int_equal(changed, 1);
    assert_int_equal(run->mode, TALE_MODE_IF);
    assert_int_equal(run->listeners[0].port, 8180);
    assert_int_equal(run->limits.max_connections, 100);
    assert_int_equal(run->limits.header_timeout_ms, 10 * 1000);
    assert_int_equal(run->limits.max_sessions_per_address, 4);
    /* the lists the file no longer has are gone */
    assert_int_equal(run->n_allowed_origins, 0);
    assert_int_equal(run->n_trusted_proxies, 0);
    tale_config_free(fresh);

    /* another module under the same name is the plugin list changing: a restart */
    fresh = reload_config(tmp, "module", 8180, "/tale/ws", "limits:\n  max_sessions_per_address: 4\n  max_connections: 100\n");
    assert_true(tale_config_subtree_equal(&run->yaml, run->plugins[0].config, &fresh->yaml, fresh->plugins[0].config));
    free(fresh->plugins[0].module);
    fresh->plugins[0].module = strdup("./ws.so");
    assert_int_equal(tale_config_reload_apply(run, fresh, restart, sizeof(restart), &changed), 1);
    assert_string_equal(restart, "plugins");
    tale_config_free(fresh);

    tale_config_free(run);
    assert_int_equal(rmdir(tmp), 0);
}

/* A fixture without a case would never be checked; a case without a fixture
 * would fail on "cannot read file" anyway, but say so plainly. */
static void
every_fixture_has_a_case(void **state)
{
    DIR *dir = opendir(FIX);
    assert_non_null(dir);
    size_t seen = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        size_t i;
        for (i = 0; i < N_FAULTS; i++)
            if (strlen(faults[i].name) == len - 5 && strncmp(faults[i].name, e->d_name, len - 5) == 0)
                break;
        if (i == N_FAULTS)
            fail_msg("fixtures/%s has no entry in faults[]", e->d_name);
        seen++;
    }
    closedir(dir);
    assert_int_equal(seen, N_FAULTS);
}

int
main(int argc, char **argv)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(load_valid),
        cmocka_unit_test(load_minimal),
        cmocka_unit_test(load_per_visitor),
        cmocka_unit_test(load_default_conf),
        cmocka_unit_test(load_session_idle_alias),
        cmocka_unit_test(plugin_path_scalar),
        cmocka_unit_test(plugin_subtree),
        cmocka_unit_test(missing_config_file),
        cmocka_unit_test(every_fixture_has_a_case),
        cmocka_unit_test(reload_apply),
    };
    const size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]);
    struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + N_FAULTS];
    char names[N_FAULTS][80];
    size_t n = 0;
    const char *only = argc > 1 ? argv[1] : NULL;

    for (size_t i = 0; i < n_fixed; i++)
        if (only == NULL || strcmp(only, fixed[i].name) == 0)
            tests[n++] = fixed[i];
    for (size_t i = 0; i < N_FAULTS; i++) {
        snprintf(names[i], sizeof(names[i]), "error_%s", faults[i].name);
        if (only != NULL && strcmp(only, names[i]) != 0)
            continue;
        tests[n++] = (struct CMUnitTest){.name = names[i], .test_func = fault_case, .initial_state = (void *)&faults[i]};
    }
    /* a misspelt name on the command line must not pass by running nothing */
    if (n == 0) {
        fprintf(stderr, "no test named '%s'\n", only);
        return 2;
    }
    return _cmocka_run_group_tests("config", tests, n, NULL, NULL);
}
