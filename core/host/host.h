/*
 * host.h - the host's state: config, the h2o server, plugins, sessions, the
 * world.  One instance per process; everything runs on its one loop.
 */
#ifndef TALE_HOST_H
#define TALE_HOST_H

#include "config.h"
#include "engine.h"
#include "metrics.h"
#include <h2o.h>
#include <tale/plugin.h>
#include <netinet/in.h>
#include <time.h>

typedef struct tale_sessions tale_sessions_t;
typedef struct tale_peers tale_peers_t;

/* One loaded plugin; the opaque tale_plugin_t of the SDK. */
struct tale_plugin {
    struct tale_host *host;
    tale_conf_plugin_t *conf;
    char *file; /* the shared object found for conf->module (canonical), or NULL */
    void *dl;
    const tale_plugin_desc_t *desc;
    void *state;
    int inited, started;
    char err[1024]; /* init()'s error buffer; the config getters write here too */
    void **allocs;  /* what config getters handed out (lists, resolved paths); freed at unload */
    size_t n_allocs;
    tale_plugin_metrics_t metrics; /* what it carried as a transport (metrics.h) */
    tale_yaml_t *yaml;             /* the document conf->config lives in: the config's own until a reload takes a new one */
};

/* A path a plugin asked for; registered longest-first after every start(). */
typedef struct tale_mount {
    char *path;
    tale_plugin_t *owner;
    tale_mount_cb cb;
    void *data;
} tale_mount_t;

typedef struct tale_listener {
    struct tale_host *host;
    tale_conf_listener_t *conf;
    int fd;
    h2o_socket_t *sock;
    h2o_accept_ctx_t accept_ctx;
    SSL_CTX *ssl_ctx;
    char url[128];
} tale_listener_t;

/* A plugin's non-HTTP listener (ABI 1.3 host->listen; server.c). */
typedef struct tale_raw_listener {
    struct tale_host *host;
    tale_plugin_t *owner;
    char *bind_host;
    unsigned port;
    tale_accept_cb cb;
    void *data;
    int fd;
    h2o_socket_t *sock;
    char addr[INET6_ADDRSTRLEN + 10]; /* as bound: "127.0.0.1:4000" */
} tale_raw_listener_t;

typedef struct tale_host {
    tale_config_t *cfg;
    const char *bindir; /* the folder holding tale-host: the loader's own plugin folders are relative to it */
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *hostconf;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    int ctx_inited;

    tale_plugin_t *plugins; /* cfg order, enabled ones only */
    size_t n_plugins;
    tale_mount_t *mounts;
    size_t n_mounts;
    int mounts_open; /* mount() allowed (during start) */

    tale_listener_t *listeners;
    size_t n_listeners;
    tale_raw_listener_t **raw; /* plugins' own listeners, in the order they asked */
    size_t n_raw;
    size_t n_conns;             /* accepted sockets still open */
    h2o_timeout_t trim_timeout; /* periodic: give freed memory back after a crowd left (server.c) */
    h2o_timeout_entry_t trim_entry;
    struct {
        size_t peak, last; /* connections + sessions: highest since the last trim, at the last check */
        uint64_t at;       /* loop time of the last trim */
        int pending;       /* the load fell since: a trim may be due */
    } trim;
    /* Connection limits an idle flood cannot lock (server.c, issue #11). */
    h2o_linklist_t unanswered;          /* tale_conn_t never answered yet, oldest first (eviction candidates) */
    size_t n_evicting;                  /* connections shut down to make room, not closed yet */
    int spare_fd;                       /* /dev/null, given up to accept-and-refuse when out of descriptors */
    int accept_paused;                  /* listeners stopped for a moment after EMFILE/ENFILE */
    h2o_timeout_t accept_pause_timeout; /* one-shot: resume accepting */
    h2o_timeout_entry_t accept_pause_entry;
    uint64_t fd_refused;     /* connections refused in the current out-of-descriptors episode */
    uint64_t addr_refused;   /* connections refused at max_connections_per_address since the last warning */
    uint64_t addr_warned_at; /* loop time (ms) of that warning; at most one a minute */

    tale_story_t *story;      /* parsed once, shared read-only by every world */
    tale_world_t *world;      /* the one world; NULL with instances: per_visitor (each session owns one) */
    struct tale_saver *saver; /* IF mode with a data_dir: writes saves off the loop */
    tale_sessions_t *sessions;
    tale_peers_t *peers; /* per-client-address counters (peers.h) */
    tale_story_info_t story_info;

    tale_metrics_t metrics;           /* metrics.h */
    struct tale_accesslog *accesslog; /* accesslog.h; NULL: no access log */

    h2o_socket_t *signal_sock;
    int log_level_pinned; /* --log-level given: a reload keeps it */
    struct tale_reload_hook *reload_hooks;
    size_t n_reload_hooks;
    tale_yaml_t **kept_yaml; /* documents plugins took a new config from on reload; their strings live until unload */
    size_t n_kept_yaml;
    h2o_timeout_t watchdog_timeout; /* systemd's WATCHDOG_USEC / 2, when set */
    h2o_timeout_entry_t watchdog_entry;
    int stop_requested;
    int exit_code;
    time_t start_time;
} tale_host_t;

/* Run on the loop at every SIGHUP (config_reread 1, after the running
 * config took what may change in place, or refused a bad file) and every
 * SIGUSR1 (config_reread 0): where log files are reopened for logrotate and
 * where host parts that copied a setting at start pick up the new value. */
typedef void (*tale_reload_cb)(tale_host_t *h, int config_reread, void *data);
typedef struct tale_reload_hook {
    tale_reload_cb cb;
    void *data;
} tale_reload_hook_t;
void tale_host_on_reload(tale_host_t *h, tale_reload_cb cb, void *data);

/* The API table handed to every plugin (host_api.c). */
extern const tale_host_api_t tale_host_api;

/* plugin_loader.c: load every enabled plugin, run init; on failure one line
 * naming plugin, file and reason goes to the log and -1 is returned. */
int tale_plugins_load(tale_host_t *h);
/* Where the shared object of `module` is.  A module with a '/' is a path
 * against the config's folder; a bare name is "<module>.so" (or the name
 * itself when it ends in ".so") searched in cfg->plugin_path, then in
 * host_dirs (NULL-terminated, may be NULL).  Returns its canonical path
 * (the caller frees it), or NULL with every place looked at in `looked`. */
char *tale_plugin_find(const tale_config_t *cfg, const char *module, const char *const *host_dirs, char *looked, size_t looked_len);
int tale_plugins_start(tale_host_t *h);
/* Register collected mounts on the hostconf, longest path first. */
int tale_plugins_register_mounts(tale_host_t *h);
void tale_plugins_stop(tale_host_t *h);
/* The connections plugins still have closing (their desc->drain, ABI 1.3). */
unsigned tale_plugins_draining(tale_host_t *h);
void tale_plugins_destroy(tale_host_t *h);
void tale_plugins_unload(tale_host_t *h);
/* SIGHUP, after the running config took `fresh`'s in-place settings: hand
 * every loaded plugin whose `config:` changed its new subtree (desc->reload,
 * ABI 1.3); name in `restart` (appended, comma-separated) each whose change
 * needs a restart.  Skipped when the plugin list itself changed.  1 when a
 * plugin took a new config. */
int tale_plugins_reload(tale_host_t *h, tale_config_t *fresh, char *restart, size_t restart_len);

/* server.c */
int tale_server_init(tale_host_t *h); /* globalconf + loop (no sockets) */
int tale_server_listen(tale_host_t *h);
int tale_server_run(tale_host_t *h);      /* until SIGINT/SIGTERM or tale_host_request_stop */
void tale_server_dispose(tale_host_t *h); /* close listeners, stop plugins, drain */
void tale_server_free(tale_host_t *h);    /* after plugins' destroy: context, loop, globalconf */
void tale_host_request_stop(tale_host_t *h, const char *why);
/* host->listen: check `spec` and remember the listener (bound by
 * tale_server_listen).  -1 with a message in err. */
int tale_server_add_raw_listener(tale_host_t *h, tale_plugin_t *owner, const char *spec, tale_accept_cb cb, void *data, char *err,
                                 size_t errlen);

/* A response starts on this connection (the host's filter on mounted paths):
 * it is no longer an eviction candidate.  Any socket is accepted; one the
 * host did not accept is ignored. */
void tale_server_conn_answered(h2o_socket_t *sock);

#endif
