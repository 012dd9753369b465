/*
 * tale/plugin.h - the Tale Host plugin SDK (public, installed).
 *
 * A transport plugin is a shared object exporting exactly one symbol,
 * TALE_PLUGIN_ENTRY (a function returning a constant tale_plugin_desc_t).
 * The host loads it with dlopen, checks the descriptor, and drives it through
 * init -> start -> (runs) -> stop -> destroy.  Every callback runs on the
 * host's single event-loop thread; plugins never start threads and never block.
 *
 * Versioning promise (see docs/PLUGINS.md):
 *  - TALE_ABI_MAJOR changes only when an existing field or call changes
 *    meaning; the host refuses a plugin built for another major.
 *  - TALE_ABI_MINOR grows when fields are appended to the end of a struct.
 *    Every struct carries its own `size`; readers check it before touching a
 *    field that a newer minor added.
 *  - A plugin built for a newer minor than the host's is refused: it may
 *    call what this host lacks.  An older minor loads.
 *  - h2o structs are not a stable ABI, so the descriptor records the h2o
 *    version the plugin was compiled against and, since ABI 1.3, a build
 *    signature (H2O_USE_LIBUV, OpenSSL major, sizes of the h2o structs a
 *    plugin touches); the host refuses any mismatch.
 *
 * This header includes nothing of the host's internals, but it includes
 * <h2o.h> (with H2O_USE_LIBUV=0, which the tale-plugin pkg-config file sets)
 * so that the build signature measures the h2o the plugin is compiled with.
 */
#ifndef TALE_PLUGIN_H
#define TALE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include <h2o/version.h>
#include <openssl/opensslv.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TALE_ABI_MAJOR 1
#define TALE_ABI_MINOR 4

/* The one symbol a plugin exports. */
#define TALE_PLUGIN_ENTRY tale_plugin_entry
#define TALE_PLUGIN_ENTRY_NAME "tale_plugin_entry"

#if defined(__GNUC__)
#define TALE_EXPORT __attribute__((visibility("default")))
#define TALE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TALE_EXPORT
#define TALE_PRINTF(f, a)
#endif

/* h2o types are only named here, never required. */
struct st_h2o_evloop_t;
struct st_h2o_pathconf_t;
struct st_h2o_context_t;

/* Opaque handles owned by the host. */
typedef struct tale_plugin tale_plugin_t;   /* one loaded plugin: passed back on every call */
typedef struct tale_session tale_session_t; /* a player's seat; outlives connections */

enum tale_log_level { TALE_LOG_ERROR = 0, TALE_LOG_WARN = 1, TALE_LOG_INFO = 2, TALE_LOG_DEBUG = 3 };

enum tale_mode { TALE_MODE_IF = 0, TALE_MODE_MUD = 1 };

/*
 * One frame, serialised to JSON once by the host.  `json` is a complete JSON
 * object (no trailing newline) that already carries "seq"; `event` is the
 * frame's type ("text" or "data"), i.e. the SSE event name.  The bytes are
 * valid only for the duration of the call that hands them over.
 */
typedef struct tale_frame {
    uint64_t seq;
    const char *event;
    const char *json;
    size_t len;
} tale_frame_t;

/* Close codes a transport is asked to use (WebSocket codes; SSE just ends the stream). */
#define TALE_CLOSE_GOING_AWAY 1001    /* server shutting down */
#define TALE_CLOSE_POLICY 1008        /* client misbehaved (e.g. never reads) */
#define TALE_CLOSE_TAKEN_OVER 4001    /* another connection took this seat */
#define TALE_CLOSE_SESSION_ENDED 4002 /* the player quit or the game ended */
#define TALE_CLOSE_IDLE 4003          /* ABI 1.2: the player sent nothing for limits.seat_idle */
#define TALE_CLOSE_NORMAL 1000        /* ABI 1.3, for session_closed(): the client closed normally */
#define TALE_CLOSE_ABNORMAL 1006      /* ABI 1.3, for session_closed(): the connection dropped without a close */

/*
 * The player-IO vtable: what a transport hands the host when it attaches a
 * connection to a session.  `conn` is the transport's own object; the host
 * never looks inside it.  The vtable must stay valid while attached (make it
 * static const).
 */
typedef struct tale_player_io {
    size_t size; /* sizeof(tale_player_io_t) as the transport was compiled */
    /* Deliver one frame.  Copy or write the bytes before returning.
     * Return 0, or -1 if the connection cannot take it (the host then
     * detaches it; the transport closes it itself). */
    int (*send)(void *conn, const tale_frame_t *frame);
    /* Close the connection with a code and a human-readable reason.  The host
     * has already detached `conn` when it calls this: the transport must not
     * touch the session afterwards (calling detach again is a harmless no-op). */
    void (*close)(void *conn, int code, const char *reason);
    /* Optional (may be NULL): bytes queued for this connection but not yet
     * written.  Reserved: the host does not call it yet; a transport bounds
     * its own backlog and returns -1 from send() past the bound. */
    size_t (*backlog)(void *conn);
} tale_player_io_t;

/* Flags for session_get(). */
#define TALE_SESSION_CREATE 1u /* create (MUD) or hand out the seat (IF) when the cookie names none */
#define TALE_SESSION_SECURE 2u /* request came over TLS: the Set-Cookie gets "; Secure" */
/* ABI 1.2, session_open() only: */
#define TALE_SESSION_PEEK 4u    /* with CREATE: say whether a seat would be given, create nothing */
#define TALE_SESSION_TRUSTED 8u /* the player sits at the host's own terminal (console): may take the IF seat */

/* Flags for session_input(). */
#define TALE_INPUT_AUTOCOMPLETE 1u /* answer with a text frame listing completions of cmd */

#define TALE_SET_COOKIE_MAX 192 /* room for a Set-Cookie header value */

/* What the static plugin needs to render pages; all strings are UTF-8, unescaped. */
typedef struct tale_story_info {
    size_t size;
    const char *name;
    const char *version;
    const char *author;
    const char *author_email;
    const char *resources_dir; /* absolute path of the story's resources/ folder */
    const char *tale_version;  /* the host's version */
    int64_t start_time;        /* unix seconds when the host started */
    int mode;                  /* enum tale_mode */
} tale_story_info_t;

/*
 * ABI 1.2: what the host needs to know of a request that carries a player's
 * output or input, to check it (Host, Origin, client address) and to find or
 * create its seat.  Every pointer may be NULL (then its length is 0); the
 * strings are raw header values, not NUL-terminated.  HTTP plugins fill it
 * with tale_request_from_h2o() from <tale/h2o_request.h>.
 */
typedef struct tale_request {
    size_t size;        /* sizeof(tale_request_t) as the plugin was compiled */
    const char *cookie; /* the Cookie header(s), joined with "; " */
    size_t cookie_len;
    const char *origin; /* Origin; NULL when the request has none */
    size_t origin_len;
    const char *host; /* Host (HTTP/1.1) or :authority (HTTP/2), port included */
    size_t host_len;
    const void *peer; /* the TCP peer: a struct sockaddr (AF_INET or AF_INET6); NULL if none */
    size_t peer_len;
    const char *forwarded_for; /* X-Forwarded-For, several headers joined with ", " */
    size_t forwarded_for_len;
    const char *forwarded; /* Forwarded (RFC 7239) */
    size_t forwarded_len;
    const char *claim_key; /* the value of a `key=` query parameter (IF seat claim) */
    size_t claim_key_len;
    unsigned flags; /* TALE_SESSION_* */
} tale_request_t;

/* ABI 1.3: how host->frame_text renders a frame. */
#define TALE_TEXT_PLAIN 0u      /* plain UTF-8 lines, no escape sequences */
#define TALE_TEXT_ANSI 1u       /* the story's styles as ANSI SGR attributes */
#define TALE_TEXT_SKIP_INPUT 2u /* drop the echoed command (the client already shows what was typed) */
typedef struct tale_text_opts {
    size_t size;              /* sizeof(tale_text_opts_t) as the plugin was compiled */
    unsigned flags;           /* TALE_TEXT_* */
    unsigned width;           /* wrap at word boundaries to this many columns; 0: never */
    const char *input_prefix; /* printed before the echoed command when it is kept (e.g. "> "); may be NULL */
} tale_text_opts_t;

/* ABI 1.3: what host->frame_text reports besides the text (a bit set). */
#define TALE_FRAME_CLEAR 1u  /* special "clear": clear the screen before the text */
#define TALE_FRAME_NOECHO 2u /* special "noecho": the next line the player types is a secret */
#define TALE_FRAME_DATA 4u   /* a data frame (an image...): the text is a one-line note about it */

/* ABI 1.3: why host->session_open_raw gave no seat. */
enum tale_open_result {
    TALE_OPEN_OK = 0,
    TALE_OPEN_FULL = 1,         /* limits.max_sessions reached, or no seat can be made now */
    TALE_OPEN_RATE_LIMITED = 2, /* max_sessions_per_address or new_sessions_per_minute */
    TALE_OPEN_PRIVATE = 3,      /* IF: someone else holds the one seat, or it needs the claim key */
    TALE_OPEN_UNAVAILABLE = 4,  /* the game is not running (or an internal error) */
};

/* ABI 1.3: a connection accepted on a listener the plugin asked for with
 * host->listen().  The socket is the plugin's from now on (read, write,
 * close it with h2o_socket_*), except `sock->on_close`, which is the host's:
 * it counts the connection in limits.max_connections until it closes. */
struct st_h2o_socket_t;
typedef void (*tale_accept_cb)(tale_plugin_t *self, struct st_h2o_socket_t *sock, void *data);

/* Called by the host when it registers a mounted path (sorted longest first,
 * so the most specific prefix wins).  Attach an h2o handler to pathconf. */
typedef int (*tale_mount_cb)(tale_plugin_t *self, struct st_h2o_pathconf_t *pathconf, void *data);

/* ABI 1.3: receives the metrics exposition a piece at a time (see metrics_write). */
typedef void (*tale_metrics_out_cb)(void *ctx, const char *text, size_t len);

/*
 * ABI 1.3: a plugin's config keys as one table, read by host->conf_table():
 * each row names a key, its type, its default and bounds, and where in the
 * plugin's own struct the value goes.  Keys not in the table are refused.
 */
enum tale_conf_type {
    TALE_CONF_STRING = 1,  /* const char *       (def_str; NULL allowed) */
    TALE_CONF_BOOL,        /* int, 0 or 1         (def) */
    TALE_CONF_INT,         /* int64_t             (def, min, max) */
    TALE_CONF_SIZE,        /* uint64_t: 512, 64k, 1m, 2g (def; min, max when max > 0) */
    TALE_CONF_DURATION_MS, /* uint64_t: 250ms, 15s, 2m, 1h; bare = seconds (def; min, max when max > 0) */
    TALE_CONF_PATH,        /* const char *, resolved against the config file's folder (def_str) */
    TALE_CONF_STRING_LIST, /* const char *const *, NULL-terminated, host-owned; a scalar is a list of one */
};

typedef struct tale_conf_row {
    const char *key;
    int type;            /* enum tale_conf_type */
    const char *def_str; /* STRING, PATH */
    int64_t def;         /* BOOL, INT, SIZE, DURATION_MS */
    int64_t min, max;
    size_t offset; /* offsetof(<your struct>, <field>) */
} tale_conf_row_t;

/* Rows, one per key:  static const tale_conf_row_t rows[] = {
 *     TALE_CONF_ROW_STRING("path", struct my_conf, path, "/echo"),
 *     TALE_CONF_ROW_INT("max_line", struct my_conf, max_line, 4096, 64, 1 << 20), };  */
/* One row macro a line, so the macros read as the table they build. */
/* clang-format off */
#define TALE_CONF_ROW_STRING(key, st, field, def) {key, TALE_CONF_STRING, def, 0, 0, 0, offsetof(st, field)}
#define TALE_CONF_ROW_PATH(key, st, field, def) {key, TALE_CONF_PATH, def, 0, 0, 0, offsetof(st, field)}
#define TALE_CONF_ROW_BOOL(key, st, field, def) {key, TALE_CONF_BOOL, NULL, def, 0, 1, offsetof(st, field)}
#define TALE_CONF_ROW_INT(key, st, field, def, min, max) {key, TALE_CONF_INT, NULL, def, min, max, offsetof(st, field)}
#define TALE_CONF_ROW_SIZE(key, st, field, def, min, max) {key, TALE_CONF_SIZE, NULL, def, min, max, offsetof(st, field)}
#define TALE_CONF_ROW_DURATION(key, st, field, def, min, max) {key, TALE_CONF_DURATION_MS, NULL, def, min, max, offsetof(st, field)}
#define TALE_CONF_ROW_LIST(key, st, field) {key, TALE_CONF_STRING_LIST, NULL, 0, 0, 0, offsetof(st, field)}
/* clang-format on */

/*
 * The host API table.  Valid from init() until destroy() returns.
 */
typedef struct tale_host_api {
    size_t size;
    uint16_t abi_major, abi_minor;

    /* ---- logging: one line on stderr with time, level and the plugin's name ---- */
    void (*log)(tale_plugin_t *self, int level, const char *fmt, ...) TALE_PRINTF(3, 4);

    /* ---- typed getters for the plugin's own YAML subtree (the `config:` mapping
     * of its entry in tale.yaml).  A missing key yields `def` and returns 0.  A
     * present key of the wrong type or out of range returns -1 after writing
     * "file:line:column: <what was expected>" into the error buffer that init()
     * received, so init() can simply return -1. ---- */
    int (*conf_string)(tale_plugin_t *self, const char *key, const char *def, const char **out);
    int (*conf_bool)(tale_plugin_t *self, const char *key, int def, int *out);
    int (*conf_int)(tale_plugin_t *self, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out);
    /* sizes accept units: 512, 64k, 1m, 2g (powers of 1024) */
    int (*conf_size)(tale_plugin_t *self, const char *key, uint64_t def, uint64_t *out);
    /* durations accept units: 250ms, 15s, 2m, 1h; a bare number means seconds */
    int (*conf_duration_ms)(tale_plugin_t *self, const char *key, uint64_t def, uint64_t *out);
    /* a scalar or a sequence of scalars; *out is a NULL-terminated array owned by the host */
    int (*conf_string_list)(tale_plugin_t *self, const char *key, const char *const **out, size_t *count);
    /* a path resolved against the config file's folder (absolute paths unchanged) */
    int (*conf_path)(tale_plugin_t *self, const char *key, const char *def, const char **out);
    /* fails with a located error if the subtree has a key not in `known` (NULL-terminated) */
    int (*conf_check_keys)(tale_plugin_t *self, const char *const *known);

    /* ---- the server ---- */
    struct st_h2o_evloop_t *(*loop)(tale_plugin_t *self);
    /* The shared h2o context; NULL until every plugin has started.  Reserved:
     * no plugin needs it today (HTTP plugins get theirs from the request). */
    struct st_h2o_context_t *(*context)(tale_plugin_t *self);
    /* Ask for `path` on the shared listeners (only from start()).  Fails with a
     * message in the error buffer if another plugin already mounted it. */
    int (*mount)(tale_plugin_t *self, const char *path, tale_mount_cb cb, void *data);
    const tale_story_info_t *(*story_info)(tale_plugin_t *self);

    /* ---- sessions (see docs/PLUGINS.md, "Sessions") ---- */
    /* Find the session named by the session cookie in a Cookie header (may be
     * NULL).  With TALE_SESSION_CREATE, hand out a seat when there is none
     * and write the Set-Cookie value to `set_cookie` (empty string when no
     * cookie needs setting).  Returns NULL when there is no session to give. */
    tale_session_t *(*session_get)(tale_plugin_t *self, const char *cookie_header, size_t len, unsigned flags,
                                   char set_cookie[TALE_SET_COOKIE_MAX]);
    /* Attach `conn` to the session.  A connection already attached is closed
     * first with TALE_CLOSE_TAKEN_OVER.  Every held frame with seq > resume_after
     * is sent through io->send before this returns, then live frames follow.
     * Returns 0, or -1 if io is unusable. */
    int (*session_attach)(tale_session_t *s, const tale_player_io_t *io, void *conn, uint64_t resume_after);
    /* Detach `conn`; output keeps being held (bounded) for a later resume.  No-op if not attached. */
    void (*session_detach)(tale_session_t *s, void *conn);
    /* Feed one line of player input (plain text; the host escapes it). */
    void (*session_input)(tale_session_t *s, const char *cmd, size_t len, unsigned flags);
    /* Completions of `prefix` as a JSON array of strings; malloc'd, free with host->free(). */
    char *(*session_complete)(tale_session_t *s, const char *prefix, size_t len, size_t *out_len);
    /* End the player's session (MUD) or the whole game after saving (IF). */
    void (*session_quit)(tale_session_t *s);
    /* The newest seq the session has produced (0 before the first frame). */
    uint64_t (*session_last_seq)(tale_session_t *s);

    void (*free)(void *p);

    /* ---- ABI 1.1: check TALE_HOST_HAS(host, request_stop) first ---- */
    /* Ask the host to shut down gracefully (as on SIGTERM), e.g. when a
     * console player leaves; `why` goes to the log. */
    void (*request_stop)(tale_plugin_t *self, const char *why);

    /* ---- ABI 1.2: check TALE_HOST_HAS(host, session_open) first ---- */
    /* Check a request and find (or, with TALE_SESSION_CREATE, create) its seat:
     * the one place where every transport's Host and Origin checks, per-address
     * limits and the seat rules of docs/PROTOCOL.md ("Sessions") are applied.
     * Returns 0 with *out set (NULL when the cookie names no seat and none was
     * to be created, or with TALE_SESSION_PEEK), or the HTTP status to answer
     * (403, 429, 503) with *error set to a message for a JSON body
     * {"error":"..."} (static string).  `set_cookie` as in session_get(). */
    int (*session_open)(tale_plugin_t *self, const tale_request_t *rq, tale_session_t **out, char set_cookie[TALE_SET_COOKIE_MAX],
                        const char **error);
    /* The Host and Origin checks alone, for endpoints that change state
     * without a seat.  0, or 403 with *error set. */
    int (*request_check)(tale_plugin_t *self, const tale_request_t *rq, const char **error);

    /* ABI 1.3: metrics */
    /* ---- check TALE_HOST_HAS(host, session_closed) / (host, metrics_write) first ---- */
    /* session_detach, saying how the connection ended: the close code the
     * client sent or was sent (TALE_CLOSE_*; 0 when the transport has no codes,
     * as an event stream).  It goes to the disconnect counters and the access
     * log line of the connection; session_detach counts as code 0. */
    void (*session_closed)(tale_session_t *s, void *conn, int code);
    /* The host's metrics in the Prometheus text exposition format 0.0.4,
     * handed to `out` a few lines at a time before this returns. */
    void (*metrics_write)(tale_plugin_t *self, tale_metrics_out_cb out, void *ctx);

    /* ABI 1.3: config table */
    /* Read every row's key from the plugin's subtree into `out` (the struct
     * the rows' offsets point into), defaults for missing keys, and refuse a
     * key no row names.  0, or -1 with a located error in init()'s buffer. */
    int (*conf_table)(tale_plugin_t *self, const tale_conf_row_t *rows, size_t n, void *out);

    /* ABI 1.3: non-HTTP transports */
    /* (check TALE_HOST_HAS(host, frame_location), the last of them, first) */
    /* Listen on the TCP address named by the plugin's config key `key`
     * ("port", "host:port" or "[v6]:port"; only from start()).  The host checks
     * the value now (a bad one fails start() with a located message), binds it
     * when the server starts listening (never under --check-config), refuses
     * connections past limits.max_connections and
     * limits.max_connections_per_address, and calls `cb` on the loop with
     * every other accepted connection.  The listener closes before stop(). */
    int (*listen)(tale_plugin_t *self, const char *key, tale_accept_cb cb, void *data);
    /* A seat for a connection without HTTP cookies: the seat rules and
     * per-address limits of session_open, keyed by the peer's address (a
     * struct sockaddr; NULL: none).  `resume` (may be NULL) is a handle an
     * earlier call returned: its seat is found again if it still exists.  On
     * a new seat, `handle` (may be NULL) gets its resume handle (else "").
     * Returns TALE_OPEN_OK with *out set, or a TALE_OPEN_* reason with
     * *error set to a sentence for the player (static string). */
    int (*session_open_raw)(tale_plugin_t *self, const void *peer, size_t peer_len, const char *resume, size_t resume_len,
                            tale_session_t **out, char handle[TALE_SET_COOKIE_MAX], const char **error);
    /* The connection `conn` (attached or not) is gone for good, e.g. send
     * failed: MUD: the player fades from the game now, instead of lingering
     * for limits.linger; IF: the seat is detached and kept for its owner.
     * No close callback follows.  `s` must not be used afterwards (MUD). */
    void (*session_end)(tale_session_t *s, void *conn);
    /* The player's name in the game (UTF-8, valid while the session lives). */
    const char *(*session_player_name)(tale_session_t *s);
    /* A frame as text: the HTML of a text frame (or a note about a data
     * frame) rendered as lines ending in "\n", control characters removed.
     * Returns a malloc'd buffer (free with host->free) and its length in
     * *len; *special (may be NULL) gets TALE_FRAME_* bits.  NULL with *len 0
     * when the frame has nothing to show (or is not a frame). */
    char *(*frame_text)(tale_plugin_t *self, const tale_frame_t *frame, const tale_text_opts_t *opts, size_t *len,
                        unsigned *special);
    /* The player's location in a frame that carries one, as a JSON object
     * (GMCP Room.Info's shape): {"num":<stable id>,"name":"Dark Corridor",
     * "area":"<story name>","exits":{"north":0,...},"npcs":[...],"items":[...]}.
     * malloc'd (host->free); NULL when the frame has no location (a
     * broadcast, a data frame). */
    char *(*frame_location)(tale_plugin_t *self, const tale_frame_t *frame, size_t *len);

    /* ABI 1.3 (cont.): reload */
    /* (check TALE_HOST_HAS(host, conf_error) first) */
    /* A located error about a key the plugin checked itself (an address that
     * does not parse...): writes "file:line:column: <message>" into the error
     * buffer init() and reload() receive, at the key's value, or at its
     * item-th entry when item >= 0 and the value is a sequence; at the
     * plugin's entry when the key is absent.  Returns -1, to return it. */
    int (*conf_error)(tale_plugin_t *self, const char *key, int item, const char *fmt, ...) TALE_PRINTF(4, 5);

    /* ABI 1.4: check TALE_HOST_HAS(host, player_count) first */
    /* Players in the game now over every transport: seats with a character
     * in the world, those lingering after their connection closed included
     * (not seats still at an accounts login).  For server status (MSSP). */
    size_t (*player_count)(tale_plugin_t *self);
} tale_host_api_t;

/* Whether the host's API table has `field` (a call appended in a later minor;
 * Redis's RMAPI_FUNC_SUPPORTED is the model).  Use it, not offsetof by hand:
 *   if (!TALE_HOST_HAS(host, session_open)) { refuse, or do without }      */
#define TALE_HOST_HAS(api, field) ((api)->size >= offsetof(tale_host_api_t, field) + sizeof((api)->field) && (api)->field != NULL)

/*
 * ABI 1.3: the build signature (nginx's module signature is the model).  The
 * h2o version alone does not pin h2o's struct layouts: the same release built
 * with libuv, against another OpenSSL, or patched, lays them out differently.
 * TALE_PLUGIN_DESC_HEADER points the descriptor at the signature of the
 * headers the plugin was compiled with; the host compares it with its own and
 * refuses any difference, naming it.
 */
#define TALE_BUILD_MAGIC 0x54424c44u /* "TBLD" */
typedef struct tale_build {
    uint32_t magic; /* TALE_BUILD_MAGIC */
    uint32_t size;  /* sizeof(tale_build_t): fields may be appended */
    uint32_t h2o_use_libuv, openssl_major;
    /* sizeof of the h2o structs plugins embed or reach into */
    uint32_t req, conn, socket, context, pathconf, handler, evloop, timeout, timeout_entry;
} tale_build_t;

#define TALE_BUILD_INIT                                                                                                            \
    {                                                                                                                              \
        TALE_BUILD_MAGIC, sizeof(tale_build_t), H2O_USE_LIBUV, (uint32_t)(OPENSSL_VERSION_NUMBER >> 28), sizeof(h2o_req_t),        \
            sizeof(h2o_conn_t), sizeof(h2o_socket_t), sizeof(h2o_context_t), sizeof(h2o_pathconf_t), sizeof(h2o_handler_t),        \
            sizeof(struct st_h2o_evloop_t), sizeof(h2o_timeout_t), sizeof(h2o_timeout_entry_t)                                     \
    }

/* One per translation unit; the descriptor's points at the plugin's own. */
static const tale_build_t tale_build_signature
#if defined(__GNUC__)
    __attribute__((unused))
#endif
    = TALE_BUILD_INIT;

/*
 * The descriptor a plugin's entry symbol returns.  `state` is the plugin's own
 * pointer, set by init() and passed back on every later call.  Every callback
 * runs on the host's one thread; see docs/PLUGINS.md ("Lifecycle") for the
 * loop state each one runs in.
 */
typedef struct tale_plugin_desc {
    uint16_t abi_major, abi_minor; /* TALE_ABI_MAJOR, TALE_ABI_MINOR */
    size_t size;                   /* sizeof(tale_plugin_desc_t) */
    const char *h2o_version;       /* H2O_VERSION */
    const char *name;
    const char *version;
    /* Before the loop runs.  Read config, allocate state.  On failure write a
     * reason to err and return -1. */
    int (*init)(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen);
    /* Before the loop runs.  Mount paths, create timers, open sockets.  On
     * failure write a reason to err and return -1. */
    int (*start)(tale_plugin_t *self, void *state, char *err, size_t errlen);
    /* From the loop's last turn, listeners closed: stop accepting, say goodbye
     * to your players (queue writes), start closing.  The loop then keeps
     * running (the drain) until the host's connections are closed and every
     * plugin's drain() says 0, or 3 seconds pass. */
    void (*stop)(tale_plugin_t *self, void *state);
    /* After the drain; the loop still exists but no longer runs.  Free
     * everything: close what is still open, unlink and dispose your timers
     * (h2o asserts otherwise), free state.  The context is disposed and the
     * .so closed only after every destroy. */
    void (*destroy)(tale_plugin_t *self, void *state);

    /* ---- ABI 1.3 ---- */
    const tale_build_t *build; /* &tale_build_signature, set by TALE_PLUGIN_DESC_HEADER */
    /* Optional (may be NULL): called between loop turns of the drain; return
     * how many of the plugin's own connections (ones the host did not
     * accept, e.g. raw sockets) are still closing.  The drain ends when every
     * plugin returns 0 and the host's connections are gone, or after 3
     * seconds, whichever is first. */
    unsigned (*drain)(tale_plugin_t *self, void *state);

    /* ABI 1.3 (cont.): reload */
    /* Optional (may be NULL): SIGHUP changed this plugin's `config:`.  The
     * conf getters (and conf_table) read the new subtree during the call;
     * strings they returned before stay valid.  Apply what can change in
     * place and return 0; return 1 when some keys were left as they were
     * because they need a restart, naming them in err ("path"); return -1
     * with a reason in err (a located one from a getter or conf_error) to
     * refuse the new subtree: the plugin keeps its running settings and the
     * host keeps the old subtree.  Without this callback any change to the
     * plugin's config is named as needing a restart. */
    int (*reload)(tale_plugin_t *self, void *state, char *err, size_t errlen);
} tale_plugin_desc_t;

typedef const tale_plugin_desc_t *(*tale_plugin_entry_fn)(void);

/* Every plugin defines this, and exports nothing else. */
TALE_EXPORT const tale_plugin_desc_t *TALE_PLUGIN_ENTRY(void);

/* Fill the version fields and the build signature of a descriptor; the
 * fields after it follow in order, and ABI 1.3 ones are named:
 *   static const tale_plugin_desc_t desc = {
 *       TALE_PLUGIN_DESC_HEADER, "name", "1.0", init, start, stop, destroy, .drain = my_drain};
 *   TALE_EXPORT const tale_plugin_desc_t *TALE_PLUGIN_ENTRY(void) { return &desc; }
 * In C, designators may come in any order and a positional initializer
 * continues after the last one: `build` is named first so that the
 * positional fields still start after h2o_version.  C++ forbids that mix, so
 * there the macro fills the version fields only; set `build` to
 * &tale_build_signature yourself or the host warns that it cannot check. */
#ifdef __cplusplus
#define TALE_PLUGIN_DESC_HEADER TALE_ABI_MAJOR, TALE_ABI_MINOR, sizeof(tale_plugin_desc_t), H2O_VERSION
#else
#define TALE_PLUGIN_DESC_HEADER                                                                                                    \
    .build = &tale_build_signature, .abi_major = TALE_ABI_MAJOR, .abi_minor = TALE_ABI_MINOR, .size = sizeof(tale_plugin_desc_t),  \
    .h2o_version = H2O_VERSION
#endif

#ifdef __cplusplus
}
#endif
#endif
