/*
 * host_api.c - the table of host calls every plugin gets (tale_host_api_t).
 * Thin adapters: config getters over the plugin's YAML subtree with located
 * errors, logging under the plugin's name, mounts, and the session calls.
 */
#include "host.h"
#include "log.h"
#include "access.h"
#include "session.h"
#include "conf_table.h"
#include "html_text.h"
#include <tale/alloc.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void
api_log(tale_plugin_t *self, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tale_vlog(level, self->conf->name, fmt, ap);
    va_end(ap);
}

/* The plugin's own subtree; NULL when it has no `config:` (every key then
 * takes its default). */
#define SUBTREE(self) (self)->conf->config
#define YAML(self) ((self)->yaml)

static int
api_conf_string(tale_plugin_t *self, const char *key, const char *def, const char **out)
{
    return tale_yaml_string(YAML(self), SUBTREE(self), key, 0, def, out, self->err, sizeof(self->err));
}

static int
api_conf_bool(tale_plugin_t *self, const char *key, int def, int *out)
{
    return tale_yaml_bool(YAML(self), SUBTREE(self), key, 0, def, out, self->err, sizeof(self->err));
}

static int
api_conf_int(tale_plugin_t *self, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    return tale_yaml_int(YAML(self), SUBTREE(self), key, 0, def, min, max, out, self->err, sizeof(self->err));
}

static int
api_conf_size(tale_plugin_t *self, const char *key, uint64_t def, uint64_t *out)
{
    return tale_yaml_size(YAML(self), SUBTREE(self), key, 0, def, out, self->err, sizeof(self->err));
}

static int
api_conf_duration_ms(tale_plugin_t *self, const char *key, uint64_t def, uint64_t *out)
{
    return tale_yaml_duration_ms(YAML(self), SUBTREE(self), key, 0, def, out, self->err, sizeof(self->err));
}

/* Remember something handed to the plugin; it stays valid until unload. */
static void
keep(tale_plugin_t *self, void *p)
{
    self->allocs = tale_xrealloc(self->allocs, (self->n_allocs + 1) * sizeof(*self->allocs));
    self->allocs[self->n_allocs++] = p;
}

static int
api_conf_string_list(tale_plugin_t *self, const char *key, const char *const **out, size_t *count)
{
    const char **list = NULL;
    size_t n = 0;
    if (tale_yaml_string_list(YAML(self), SUBTREE(self), key, &list, &n, self->err, sizeof(self->err)) != 0)
        return -1;
    if (list != NULL)
        keep(self, list);
    *out = list;
    *count = n;
    return 0;
}

static int
api_conf_path(tale_plugin_t *self, const char *key, const char *def, const char **out)
{
    const char *raw;
    if (api_conf_string(self, key, def, &raw) != 0)
        return -1;
    if (raw == NULL || raw[0] == '/') {
        *out = raw;
        return 0;
    }
    char *path;
    if (asprintf(&path, "%s/%s", self->host->cfg->dir, raw) < 0)
        tale_oom(strlen(self->host->cfg->dir) + strlen(raw) + 2);
    char *real = realpath(path, NULL);
    if (real != NULL) {
        free(path);
        path = real;
    }
    keep(self, path);
    *out = path;
    return 0;
}

static int
api_conf_check_keys(tale_plugin_t *self, const char *const *known)
{
    if (SUBTREE(self) == NULL)
        return 0;
    return tale_yaml_check_keys(YAML(self), SUBTREE(self), known, self->err, sizeof(self->err));
}

static int
api_conf_error(tale_plugin_t *self, const char *key, int item, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tale_yaml_t *y = YAML(self);
    yaml_node_t *at = key != NULL ? tale_yaml_get(y, SUBTREE(self), key, NULL) : NULL;
    if (at != NULL && item >= 0 && at->type == YAML_SEQUENCE_NODE &&
        item < at->data.sequence.items.top - at->data.sequence.items.start)
        at = yaml_document_get_node(&y->doc, at->data.sequence.items.start[item]);
    if (at == NULL && SUBTREE(self) != NULL) {
        at = SUBTREE(self);
    } else if (at == NULL) {
        /* no `config:` at all: the plugin's entry, in the document it came from */
        y = &self->host->cfg->yaml;
        at = self->conf->node;
    }
    tale_yaml_errf(y, at, self->err, sizeof(self->err), "%s", msg);
    return -1;
}

/* A size or duration past a row's bounds: located at the value. */
static int
out_of_bounds(tale_plugin_t *self, const tale_conf_row_t *r, uint64_t v)
{
    int size = r->type == TALE_CONF_SIZE;
    const char *unit = size ? " bytes" : " ms";
    tale_yaml_errf(YAML(self), tale_yaml_get(YAML(self), SUBTREE(self), r->key, NULL), self->err, sizeof(self->err),
                   "expected %s from %" PRId64 "%s to %" PRId64 "%s for '%s', got %" PRIu64 "%s", size ? "a size" : "a duration",
                   r->min, unit, r->max, unit, r->key, v, unit);
    return -1;
}

static int
api_conf_table(tale_plugin_t *self, const tale_conf_row_t *rows, size_t n, void *out)
{
    return tale_conf_table_read(&tale_host_api, self, rows, n, out, out_of_bounds, self->err, sizeof(self->err));
}

static struct st_h2o_evloop_t *
api_loop(tale_plugin_t *self)
{
    return self->host->loop;
}

static struct st_h2o_context_t *
api_context(tale_plugin_t *self)
{
    return self->host->ctx_inited ? &self->host->ctx : NULL;
}

static int
api_mount(tale_plugin_t *self, const char *path, tale_mount_cb cb, void *data)
{
    tale_host_t *h = self->host;
    if (!h->mounts_open) {
        snprintf(self->err, sizeof(self->err), "mount(\"%s\") called outside start()", path);
        return -1;
    }
    if (path == NULL || path[0] != '/' || cb == NULL) {
        snprintf(self->err, sizeof(self->err), "mount: a path must start with '/' and have a callback");
        return -1;
    }
    for (size_t i = 0; i < h->n_mounts; i++) {
        if (strcmp(h->mounts[i].path, path) == 0) {
            snprintf(self->err, sizeof(self->err), "path %s is already mounted by plugin '%s'", path,
                     h->mounts[i].owner->conf->name);
            return -1;
        }
    }
    h->mounts = tale_xrealloc(h->mounts, (h->n_mounts + 1) * sizeof(*h->mounts));
    h->mounts[h->n_mounts++] = (tale_mount_t){tale_xstrdup(path), self, cb, data};
    return 0;
}

static const tale_story_info_t *
api_story_info(tale_plugin_t *self)
{
    return &self->host->story_info;
}

static tale_session_t *
api_session_get(tale_plugin_t *self, const char *cookie, size_t len, unsigned flags, char set_cookie[TALE_SET_COOKIE_MAX])
{
    if (self->host->sessions == NULL) {
        if (set_cookie != NULL)
            set_cookie[0] = '\0';
        return NULL;
    }
    tale_session_t *s = tale_session_get(self->host->sessions, cookie, len, flags, set_cookie);
    if (s != NULL)
        tale_session_opened(s, self, NULL);
    return s;
}

/* A request struct from a plugin: at least as large as ABI 1.2's. */
static int
request_usable(const tale_request_t *rq)
{
    return rq != NULL && rq->size >= offsetof(tale_request_t, flags) + sizeof(rq->flags);
}

static int
api_session_open(tale_plugin_t *self, const tale_request_t *rq, tale_session_t **out, char set_cookie[TALE_SET_COOKIE_MAX],
                 const char **error)
{
    static const char *unused;
    if (error == NULL)
        error = &unused;
    *out = NULL;
    if (set_cookie != NULL)
        set_cookie[0] = '\0';
    if (!request_usable(rq)) {
        *error = "internal error: the transport passed no request";
        return 500;
    }
    if (self->host->sessions == NULL) {
        *error = "the game is not running";
        return 503;
    }
    int status = tale_session_open(self->host->sessions, rq, out, set_cookie, error);
    if (*out != NULL)
        tale_session_opened(*out, self, rq);
    return status;
}

static int
api_request_check(tale_plugin_t *self, const tale_request_t *rq, const char **error)
{
    static const char *unused;
    if (error == NULL)
        error = &unused;
    if (!request_usable(rq)) {
        *error = "internal error: the transport passed no request";
        return 500;
    }
    return tale_access_check(self->host->cfg, rq->host, rq->host_len, rq->origin, rq->origin_len, error);
}

static void
api_free(void *p)
{
    free(p);
}

static void
api_request_stop(tale_plugin_t *self, const char *why)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "plugin '%s': %s", self->conf->name, why != NULL ? why : "asked to stop");
    tale_host_request_stop(self->host, msg);
}

static void
api_metrics_write(tale_plugin_t *self, tale_metrics_out_cb out, void *ctx)
{
    tale_metrics_write(self->host, out, ctx);
}

/* ---- ABI 1.3: non-HTTP transports ---- */

static int
api_listen(tale_plugin_t *self, const char *key, tale_accept_cb cb, void *data)
{
    if (!self->host->mounts_open) {
        snprintf(self->err, sizeof(self->err), "listen(\"%s\") called outside start()", key != NULL ? key : "");
        return -1;
    }
    const char *spec;
    if (key == NULL || cb == NULL) {
        snprintf(self->err, sizeof(self->err), "listen: needs a config key and an accept callback");
        return -1;
    }
    if (api_conf_string(self, key, NULL, &spec) != 0)
        return -1;
    if (spec == NULL) {
        snprintf(self->err, sizeof(self->err), "plugin '%s' needs `%s:` in its config (a port, or host:port)", self->conf->name,
                 key);
        return -1;
    }
    char why[256];
    if (tale_server_add_raw_listener(self->host, self, spec, cb, data, why, sizeof(why)) != 0) {
        snprintf(self->err, sizeof(self->err), "%s: %s", key, why);
        return -1;
    }
    return 0;
}

static int
api_session_open_raw(tale_plugin_t *self, const void *peer, size_t peer_len, const char *resume, size_t resume_len,
                     tale_session_t **out, char handle[TALE_SET_COOKIE_MAX], const char **error)
{
    return tale_session_open_raw(self->host->sessions, peer, peer_len, resume, resume_len, out, handle, error);
}

static char *
api_frame_text(tale_plugin_t *self, const tale_frame_t *frame, const tale_text_opts_t *opts, size_t *len, unsigned *special)
{
    size_t unused_len;
    if (len == NULL)
        len = &unused_len;
    *len = 0;
    if (special != NULL)
        *special = 0;
    if (frame == NULL || frame->json == NULL)
        return NULL;
    /* an options struct from an older minor has only the fields it knew */
    unsigned flags = 0, width = 0;
    const char *prefix = NULL;
    if (opts != NULL && opts->size >= offsetof(tale_text_opts_t, flags) + sizeof(opts->flags))
        flags = opts->flags;
    if (opts != NULL && opts->size >= offsetof(tale_text_opts_t, width) + sizeof(opts->width))
        width = opts->width;
    if (opts != NULL && opts->size >= offsetof(tale_text_opts_t, input_prefix) + sizeof(opts->input_prefix))
        prefix = opts->input_prefix;
    return tale_frame_to_text(frame->json, frame->len, flags, width, prefix, len, special);
}

static int
room_find(void *ctx, const char *title, size_t len, const char *exits)
{
    return tale_story_location_find(ctx, title, len, exits);
}

static const char *
room_key(void *ctx, int room)
{
    return tale_story_location_id(ctx, room);
}

static int
room_target(void *ctx, int room, const char *dir)
{
    return tale_story_exit_target(ctx, room, dir);
}

static char *
api_frame_location(tale_plugin_t *self, const tale_frame_t *frame, size_t *len)
{
    size_t unused_len;
    if (len == NULL)
        len = &unused_len;
    *len = 0;
    if (frame == NULL || frame->json == NULL)
        return NULL;
    /* the story, not the frame, knows where exits lead (Mudlet's mapper links rooms by them) */
    tale_room_lookup_t rooms = {room_find, room_key, room_target, self->host->story};
    return tale_frame_location_json(frame->json, frame->len, self->host->story_info.name, self->host->story != NULL ? &rooms : NULL,
                                    len);
}

static size_t
api_player_count(tale_plugin_t *self)
{
    return self->host->sessions != NULL ? tale_sessions_players(self->host->sessions) : 0;
}

const tale_host_api_t tale_host_api = {
    .size = sizeof(tale_host_api_t),
    .abi_major = TALE_ABI_MAJOR,
    .abi_minor = TALE_ABI_MINOR,
    .log = api_log,
    .conf_string = api_conf_string,
    .conf_bool = api_conf_bool,
    .conf_int = api_conf_int,
    .conf_size = api_conf_size,
    .conf_duration_ms = api_conf_duration_ms,
    .conf_string_list = api_conf_string_list,
    .conf_path = api_conf_path,
    .conf_check_keys = api_conf_check_keys,
    .loop = api_loop,
    .context = api_context,
    .mount = api_mount,
    .story_info = api_story_info,
    .session_get = api_session_get,
    .session_attach = tale_session_attach,
    .session_detach = tale_session_detach,
    .session_input = tale_session_input,
    .session_complete = tale_session_complete,
    .session_quit = tale_session_quit,
    .session_last_seq = tale_session_last_seq,
    .free = api_free,
    .request_stop = api_request_stop,
    .session_open = api_session_open,
    .request_check = api_request_check,
    .session_closed = tale_session_closed,
    .metrics_write = api_metrics_write,
    .conf_table = api_conf_table,
    .listen = api_listen,
    .session_open_raw = api_session_open_raw,
    .session_end = tale_session_end,
    .session_player_name = tale_session_player_name,
    .frame_text = api_frame_text,
    .frame_location = api_frame_location,
    .conf_error = api_conf_error,
    .player_count = api_player_count,
};
