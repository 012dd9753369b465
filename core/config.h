/*
 * config.h - tale.yaml parsed into typed structs (host-internal).
 * Config parsing knows YAML and these structs, not the things they configure.
 */
#ifndef TALE_CONFIG_H
#define TALE_CONFIG_H

#include "addr.h"
#include "yaml_doc.h"
#include <stddef.h>
#include <stdint.h>

typedef struct tale_conf_listener {
    char *host;     /* "127.0.0.1", "::1", "localhost", "0.0.0.0" ... */
    uint16_t port;  /* 0 is allowed: pick a free port (tests) */
    char *tls_cert; /* both NULL: plain HTTP; paths resolved against the config dir */
    char *tls_key;
    int http2; /* offer h2 via ALPN on TLS listeners (default off: rapid-reset exposure) */
    yaml_node_t *node;
} tale_conf_listener_t;

typedef struct tale_conf_plugin {
    char *name;   /* unique */
    char *module; /* as written: a bare name or a path; the loader finds the file (tale_plugin_find) */
    int enabled;
    yaml_node_t *config; /* the plugin's own subtree (a mapping), or NULL */
    yaml_node_t *node;   /* the list entry, for located errors */
} tale_conf_plugin_t;

/* IF mode: who gets the single seat when no seat cookie names it. */
enum tale_seat_claim {
    TALE_SEAT_CLAIM_KEY = 0, /* only a visitor with the one-time key printed on the console */
    TALE_SEAT_CLAIM_FIRST,   /* the first visitor while the seat is free; the key takes it back */
    TALE_SEAT_CLAIM_AUTO,    /* as written in the config: resolved to KEY or FIRST at load */
};

/* IF mode: one game for the host, or one per visitor (issue #14). */
enum tale_instances_mode {
    TALE_INSTANCES_SINGLE = 0,  /* one world, one seat (the seat rules above) */
    TALE_INSTANCES_PER_VISITOR, /* each visitor's own world, named by their session cookie (core/host/instances.h) */
};

/* MUD accounts (issue #15). */
enum tale_accounts_mode {
    TALE_ACCOUNTS_OFF = 0,  /* anonymous seats with generated names */
    TALE_ACCOUNTS_OPTIONAL, /* guests play at once; `create` / `login` in game */
    TALE_ACCOUNTS_REQUIRED, /* a seat logs in (or creates an account) before it plays */
};

typedef struct tale_config {
    char *file; /* path as given */
    char *dir;  /* absolute folder of the config file: relative paths resolve here */
    tale_yaml_t yaml;

    int mode;         /* enum tale_mode */
    char *story;      /* absolute path of the story folder */
    char *data_dir;   /* absolute path for saves (default: <config dir>/var) */
    int autosave;     /* save on graceful shutdown, restore at start (default 1) */
    int instances;    /* enum tale_instances_mode (default single; IF only) */
    int accounts;     /* enum tale_accounts_mode (default off; MUD only; data_dir/accounts.sqlite) */
    uint64_t tick_ms; /* game tick interval (default 1000) */
    int log_level;    /* enum tale_log_level (default info) */

    tale_conf_listener_t *listeners;
    size_t n_listeners;

    struct {
        uint64_t max_request_body; /* bytes (default 1m) */
        uint64_t max_connections;  /* (default 960: fits a hard fd limit of 1024) */
        uint64_t max_sessions;     /* MUD seats (default 256) */
        uint64_t session_backlog;  /* bytes of frames held per session for resume (default 256k) */
        uint64_t total_backlog;    /* bytes of frames held for resume by all sessions together (default 64m) */
        uint64_t max_input;        /* longest command, bytes (default 1k) */
        uint64_t linger_ms;        /* a MUD character stays this long after its connection closed (default 60s;
                                      `session_idle` is its deprecated alias) */
        uint64_t input_rate;       /* commands per second a session may sustain (default 20; 0: no limit) */
        uint64_t input_burst;      /* commands a session may send at once (default 40) */
        /* per client address (0: no limit) */
        uint64_t max_sessions_per_address; /* open seats (default 16) */
        uint64_t new_sessions_per_minute;  /* seats created, a token bucket of this size (default 30) */
        uint64_t seat_idle_ms;             /* an attached seat with no input for this long is closed (default 1h; 0: never) */
        /* Connection limits that an idle flood cannot lock (issue #11, findings 3-4). */
        uint64_t max_connections_per_address; /* open connections from one client address (default 64; 0: off) */
        uint64_t header_timeout_ms;           /* TLS handshake and request headers must arrive within (default 10s) */
        /* instances: per_visitor (issue #14) */
        uint64_t max_live_worlds;   /* instances in memory at once (default 1000) */
        uint64_t world_idle_ms;     /* a live instance without input or connection this long is saved and evicted (default 10m) */
        uint64_t world_save_ms;     /* a changed live instance is saved within this long of its first change (default 5s) */
        uint64_t max_stored_worlds; /* stored instances kept (default 100000) */
        uint64_t max_stored_bytes;  /* their bytes (default 1g); over either cap the oldest saves go */
        /* accounts (issue #15) */
        uint64_t max_accounts;                  /* accounts the database may hold (default 10000) */
        uint64_t login_failures_per_minute;     /* failed logins per account and per address before backoff (default 5) */
        uint64_t accounts_per_address_per_hour; /* accounts one client address may create (default 3; 0: no limit) */
        uint64_t character_save_ms; /* a changed character is saved (and its lock re-checked) this long after (default 60s) */
    } limits;

    /* Who may reach the game (docs/SECURITY.md, "Threat model"). */
    int seat_claim;       /* enum tale_seat_claim: how the IF seat is taken */
    char **allowed_hosts; /* Host names answered besides IP literals and localhost ("*": any) */
    size_t n_allowed_hosts;
    char **allowed_origins; /* Origins allowed besides the request's own ("*": any) */
    size_t n_allowed_origins;
    tale_cidr_t *trusted_proxies; /* peers whose X-Forwarded-For / Forwarded name the client */
    size_t n_trusted_proxies;

    /* access_log (issue #17): one line per HTTP request and per player connection's end */
    char *access_log;      /* absolute path, or "stderr"; NULL: no access log */
    int access_log_format; /* enum tale_accesslog_format: 0 combined, 1 json */

    char **plugin_path; /* absolute folders, searched in order by the loader */
    size_t n_plugin_path;
    /* plugin_permissions (issue #11, 7a): 0 `refuse` (default) a plugin file or
     * folder above it that others may write to; 1 `warn` and load it anyway */
    int plugin_permissions_warn;

    tale_conf_plugin_t *plugins; /* in config order */
    size_t n_plugins;

    /* "file:line:column: message" lines the caller logs at warn once the
     * config is loaded (deprecated keys); config parsing does not log. */
    char **warnings;
    size_t n_warnings;
} tale_config_t;

/* Parse and validate.  Plugin modules are kept as written (the loader finds
 * their files).  On error returns NULL with one located line in err. */
tale_config_t *tale_config_load(const char *path, char *err, size_t errlen);
void tale_config_free(tale_config_t *c);

/* Reload (SIGHUP): take from `fresh` what may change in a running host (log
 * level, the limits read at each use, allowed hosts and origins, trusted
 * proxies) into `run`; the plugin list's shape (not each plugin's own
 * `config:`) is compared too; `fresh` is left to be freed and may hold run's old
 * lists.  Settings that need a restart keep their running values and are
 * named, comma-separated, in `restart`.  *changed is 1 when anything was
 * taken.  Returns 1 when something needs a restart, else 0. */
int tale_config_reload_apply(tale_config_t *run, tale_config_t *fresh, char *restart, size_t restart_len, int *changed);
/* Two YAML subtrees (each in its own document) hold the same data, keys in
 * the same order.  Plugin subtrees are not compared by the call above: the
 * host compares each against the document its plugin last read. */
int tale_config_subtree_equal(tale_yaml_t *ya, yaml_node_t *a, tale_yaml_t *yb, yaml_node_t *b);

#endif
