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
 *  - h2o structs are not a stable ABI, so the descriptor records the h2o
 *    version the plugin was compiled against and the host refuses a mismatch.
 *
 * This header includes nothing of the host's internals.  Plugins that serve
 * HTTP include <h2o.h> themselves (with H2O_USE_LIBUV=0, which the
 * tale-plugin pkg-config file sets).
 */
#ifndef TALE_PLUGIN_H
#define TALE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <h2o/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TALE_ABI_MAJOR 1
#define TALE_ABI_MINOR 2

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
    /* Optional (may be NULL): bytes queued for this connection but not yet written. */
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

/* Called by the host when it registers a mounted path (sorted longest first,
 * so the most specific prefix wins).  Attach an h2o handler to pathconf. */
typedef int (*tale_mount_cb)(tale_plugin_t *self, struct st_h2o_pathconf_t *pathconf, void *data);

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
    /* The shared h2o context; NULL until every plugin has started. */
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

    /* ---- ABI 1.1: check host->size > offsetof(tale_host_api_t, request_stop) first ---- */
    /* Ask the host to shut down gracefully (as on SIGTERM), e.g. when a
     * console player leaves; `why` goes to the log. */
    void (*request_stop)(tale_plugin_t *self, const char *why);

    /* ---- ABI 1.2: check host->size > offsetof(tale_host_api_t, session_open) first ---- */
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
} tale_host_api_t;

/* Whether the host's API table has `field` (a call appended in a later minor):
 *   if (!TALE_HOST_HAS(host, session_open)) { refuse, or do without }      */
#define TALE_HOST_HAS(api, field) ((api)->size >= offsetof(tale_host_api_t, field) + sizeof((api)->field))

/*
 * The descriptor a plugin's entry symbol returns.  `state` is the plugin's own
 * pointer, set by init() and passed back on every later call.
 */
typedef struct tale_plugin_desc {
    uint16_t abi_major, abi_minor; /* TALE_ABI_MAJOR, TALE_ABI_MINOR */
    size_t size;                   /* sizeof(tale_plugin_desc_t) */
    const char *h2o_version;       /* H2O_VERSION */
    const char *name;
    const char *version;
    /* Read config, allocate state.  On failure write a reason to err and return -1. */
    int (*init)(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen);
    /* Mount paths, create timers.  On failure write a reason to err and return -1. */
    int (*start)(tale_plugin_t *self, void *state, char *err, size_t errlen);
    /* Stop accepting; close players politely.  The loop keeps running for up
     * to a few seconds afterwards so closes can drain. */
    void (*stop)(tale_plugin_t *self, void *state);
    /* Free everything: unlink and dispose your timers (h2o asserts otherwise),
     * free state.  Runs after the drain, while the loop still exists; the
     * context is disposed and the .so closed only after every destroy. */
    void (*destroy)(tale_plugin_t *self, void *state);
} tale_plugin_desc_t;

typedef const tale_plugin_desc_t *(*tale_plugin_entry_fn)(void);

/* Every plugin defines this, and exports nothing else. */
TALE_EXPORT const tale_plugin_desc_t *TALE_PLUGIN_ENTRY(void);

/* Fill the version fields of a descriptor:
 *   static const tale_plugin_desc_t desc = { TALE_PLUGIN_DESC_HEADER, "name", "1.0", init, start, stop, destroy };
 *   TALE_EXPORT const tale_plugin_desc_t *TALE_PLUGIN_ENTRY(void) { return &desc; }
 */
#define TALE_PLUGIN_DESC_HEADER TALE_ABI_MAJOR, TALE_ABI_MINOR, sizeof(tale_plugin_desc_t), H2O_VERSION

#ifdef __cplusplus
}
#endif
#endif
