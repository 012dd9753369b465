/*
 * mock_host.h - a stand-in for tale-host that plugin unit tests link against
 * (the collectd plugin_mock idea).  It implements the whole tale_host_api_t:
 * config getters over a flat key/value table, a log that tests can search,
 * one recording session (IF mode: one seat), and a real h2o evloop with an
 * optional loopback listener so handlers can be driven through real sockets.
 *
 * Use (link the test with the `tale_mock_host` library and your plugin's sources):
 *
 *     mock_host_t *m = mock_host_new();
 *     mock_host_conf_set(m, "path", "/tale/ws");            // plugin config scalars
 *     mock_host_conf_set_list(m, "allowed_origins", list);  // NULL-terminated
 *     if (mock_host_init(m, tale_plugin_entry()) != 0)      // runs desc->init
 *         puts(m->err);                                     // located error text
 *     mock_host_start(m);                                   // runs desc->start, records mounts
 *     int port = mock_host_listen(m);                       // h2o context + 127.0.0.1:port
 *     ... connect a client, mock_host_run(m, ms) / mock_host_run_until(m, pred, arg, ms)
 *     mock_host_push_text(m, "<p>hi</p>");                  // a frame from the "engine"
 *     m->session.inputs[i].cmd / .flags, m->session.attach_count, mock_host_log_has(m, "...")
 *     mock_host_free(m);                                    // stop, drain, destroy, dispose, free
 *
 * Every call runs on the caller's thread; the loop only runs inside
 * mock_host_run*(), so a test interleaves client I/O and loop turns itself.
 */
#ifndef TALE_MOCK_HOST_H
#define TALE_MOCK_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include <tale/plugin.h>

#define MOCK_MAX_CONF 32
#define MOCK_MAX_FRAMES 256
#define MOCK_MAX_INPUTS 64
#define MOCK_MAX_MOUNTS 8

typedef struct mock_conf_entry {
    char *key;
    char *value;  /* scalar, or NULL for a list */
    char **list;  /* NULL-terminated, or NULL for a scalar */
    size_t count; /* items in list */
} mock_conf_entry_t;

typedef struct mock_input {
    char *cmd;
    unsigned flags;
} mock_input_t;

typedef struct mock_frame {
    uint64_t seq;
    char *event;
    char *json;
} mock_frame_t;

/* The one seat.  Everything the plugin does to it is recorded here. */
typedef struct mock_session {
    const tale_player_io_t *io; /* attached connection, or NULL */
    void *conn;
    uint64_t last_resume_after;
    int attach_count, detach_count, quit_count, get_count, send_failures;
    int last_close_code; /* the code of the last session_closed (ABI 1.3) */
    int end_count;       /* session_end calls (ABI 1.3) */
    int closes_sent;     /* io->close calls made by the mock (take-over) */
    unsigned last_flags; /* flags of the last session_open (ABI 1.2) */
    mock_frame_t frames[MOCK_MAX_FRAMES];
    size_t nframes;
    uint64_t seq;
    mock_input_t inputs[MOCK_MAX_INPUTS];
    size_t ninputs;
} mock_session_t;

typedef struct mock_mount {
    char *path;
    tale_mount_cb cb;
    void *data;
} mock_mount_t;

typedef struct mock_host {
    tale_host_api_t api;
    const tale_plugin_desc_t *desc;
    void *state;
    int started, stopped, initialised;
    char err[512];
    char conf_dir[256]; /* conf_path resolves relative paths here */
    mock_conf_entry_t conf[MOCK_MAX_CONF];
    size_t nconf;
    tale_story_info_t story;

    h2o_evloop_t *loop;
    int listening;
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int port;
    mock_mount_t mounts[MOCK_MAX_MOUNTS];
    size_t nmounts;

    mock_session_t session;
    int refuse_sessions; /* session_get returns NULL when set */
    int open_status;     /* session_open/request_check answer this status when set (ABI 1.2) */
    int stop_requests;   /* calls to request_stop (ABI 1.1) */
    /* ABI 1.3 host->listen: what the plugin asked for, opened by mock_host_raw_listen() */
    tale_accept_cb raw_cb;
    void *raw_data;
    h2o_socket_t *raw_listener;
    char *log; /* every log line, newline-separated */
    size_t log_len, log_cap;
} mock_host_t;

mock_host_t *mock_host_new(void);
/* Set a scalar (value) or a list (NULL-terminated) in the plugin's config subtree. */
void mock_host_conf_set(mock_host_t *m, const char *key, const char *value);
void mock_host_conf_set_list(mock_host_t *m, const char *key, const char *const *items);
/* Run desc->init / desc->start; 0 or -1 with the reason in m->err. */
int mock_host_init(mock_host_t *m, const tale_plugin_desc_t *desc);
int mock_host_start(mock_host_t *m);
/* Register the mounted paths (longest first) on a fresh h2o context and listen on
 * 127.0.0.1 at a free port; returns the port or -1. */
int mock_host_listen(mock_host_t *m);
/* Turn the loop for about `ms` milliseconds. */
void mock_host_run(mock_host_t *m, int ms);
/* Turn the loop until pred(arg) is true or `ms` pass; returns pred's last value. */
int mock_host_run_until(mock_host_t *m, int (*pred)(mock_host_t *m, void *arg), void *arg, int ms);
/* A frame from the "engine": stamped with the next seq, held, and sent to the
 * attached connection if any.  `html` is put into "text" as is (no escaping). */
uint64_t mock_host_push_text(mock_host_t *m, const char *html);
/* Call desc->stop and turn the loop for up to drain_ms. */
void mock_host_stop(mock_host_t *m, int drain_ms);
/* ABI 1.3: open the listener the plugin asked for with host->listen on
 * 127.0.0.1 at a free port (the config value is not used); returns the port or -1. */
int mock_host_raw_listen(mock_host_t *m);
/* A text frame with `special` (a JSON array, e.g. "[\"noecho\"]") and the html as is. */
uint64_t mock_host_push_special(mock_host_t *m, const char *html, const char *special);
/* 1 if some log line contains `needle`. */
int mock_host_log_has(mock_host_t *m, const char *needle);
/* stop (if not yet) and drain, destroy the plugin (loop and context still alive,
 * as in the host), dispose the context and the loop, free. */
void mock_host_free(mock_host_t *m);

/* Client-side helpers for tests: a blocking loopback connection and a reader
 * that turns the mock loop while waiting. */
int mock_connect(int port);
/* Read into buf until `until` appears (or the peer closes / ms pass); returns bytes read. */
size_t mock_read_until(mock_host_t *m, int fd, char *buf, size_t cap, const char *until, int ms);

#endif
