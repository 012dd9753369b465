/*
 * plugin_loader.c - dlopen the configured plugins, check their descriptors,
 * and drive their lifecycle: init -> start -> stop (reverse) -> destroy
 * (reverse) -> dlclose (after the loop and context are gone).
 *
 * Every refusal is one log line: the config location of the plugin's entry,
 * its name, its file and the reason; the host then exits non-zero.
 *
 * Finding a plugin's file is the loader's alone: the config keeps `module`
 * and `plugin_path` as written (folders made absolute), and the search here
 * tries plugin_path, then the host's own folders beside its binary.
 */
#include "host.h"
#include "accesslog.h"
#include "log.h"
#include <tale/alloc.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void say_about(tale_plugin_t *pl, int level, const char *file, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One log line at `level` about a plugin: its config location, name, file and
 * the reason.  refuse() is the error form; a warning uses the same shape. */
static void
say_about(tale_plugin_t *pl, int level, const char *file, const char *fmt, ...)
{
    char reason[1024], where[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    tale_yaml_errf(&pl->host->cfg->yaml, pl->conf->node, where, sizeof(where), "plugin '%s'", pl->conf->name);
    tale_log(level, "loader", "%s (%s): %s", where, file != NULL ? file : pl->conf->module, reason);
}

#define refuse(pl, file, ...) say_about(pl, TALE_LOG_ERROR, file, __VA_ARGS__)

/* Whether someone other than the host's user or root could have written the
 * plugin file, which then runs as the host (issue #11, finding 7a).  The file
 * and every folder above it, up to '/', must be owned by us or root and not be
 * writable by group or others.  A folder above the file's own may be world-
 * writable if root owns it and it is sticky (like /tmp): others cannot rename
 * or replace what is ours in it.  The file's own folder may not: others could
 * add names there (a symlink or hard link to another shared object) that the
 * module search would find.  Returns 0 when
 * safe, else 1 with the first reason found in why.  The path is canonical
 * (config.c resolves it with realpath), so no symlink is crossed. */
static int
unsafe_permissions(const char *file, char *why, size_t len)
{
    char path[PATH_MAX];
    uid_t me = geteuid();
    if (snprintf(path, sizeof(path), "%s", file) >= (int)sizeof(path) || path[0] != '/') {
        snprintf(why, len, "cannot check the path %s (not absolute, or too long)", file);
        return 1;
    }
    for (int depth = 0;; depth++) {
        struct stat st;
        const char *what = depth == 0 ? "the file" : "the folder";
        if (stat(path, &st) != 0) {
            snprintf(why, len, "cannot check %s %s: %s", what, path, strerror(errno));
            return 1;
        }
        if (st.st_uid != me && st.st_uid != 0) {
            snprintf(why, len, "%s %s is owned by uid %u, neither the host's user (uid %u) nor root", what, path,
                     (unsigned)st.st_uid, (unsigned)me);
            return 1;
        }
        int sticky_root = depth >= 2 && (st.st_mode & S_ISVTX) != 0 && st.st_uid == 0;
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !sticky_root) {
            const char *who = "group and others";
            if ((st.st_mode & S_IWOTH) == 0)
                who = "group";
            else if ((st.st_mode & S_IWGRP) == 0)
                who = "others";
            snprintf(why, len, "%s %s is writable by %s (mode %04o)", what, path, who, (unsigned)(st.st_mode & 07777));
            return 1;
        }
        char *slash = strrchr(path, '/');
        if (slash == path) {
            if (path[1] == '\0')
                return 0; /* checked '/' itself */
            path[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
}

/* Refuse (or, with plugin_permissions: warn, log) a plugin file others could
 * have written.  Returns -1 when the plugin must not be loaded. */
static int
check_permissions(tale_plugin_t *pl, const char *file)
{
    char why[PATH_MAX + 128];
    if (!unsafe_permissions(file, why, sizeof(why)))
        return 0;
    if (pl->host->cfg->plugin_permissions_warn) {
        say_about(pl, TALE_LOG_WARN, file, "unsafe permissions: %s; loading it anyway (plugin_permissions: warn)", why);
        return 0;
    }
    refuse(pl, file, "unsafe permissions: %s; fix it with chmod go-w (or chown), or set plugin_permissions: warn", why);
    return -1;
}

/* Whether the descriptor, `size` bytes as the plugin was compiled, reaches
 * past `end` (an offsetof + sizeof of a field). */
#define DESC_HAS(d, field) ((d)->size >= offsetof(tale_plugin_desc_t, field) + sizeof((d)->field))

/* The fields of a build signature, for naming what differs. */
static const struct {
    const char *name;
    size_t offset;
} build_fields[] = {
    {"H2O_USE_LIBUV", offsetof(tale_build_t, h2o_use_libuv)},
    {"OpenSSL major", offsetof(tale_build_t, openssl_major)},
    {"sizeof(h2o_req_t)", offsetof(tale_build_t, req)},
    {"sizeof(h2o_conn_t)", offsetof(tale_build_t, conn)},
    {"sizeof(h2o_socket_t)", offsetof(tale_build_t, socket)},
    {"sizeof(h2o_context_t)", offsetof(tale_build_t, context)},
    {"sizeof(h2o_pathconf_t)", offsetof(tale_build_t, pathconf)},
    {"sizeof(h2o_handler_t)", offsetof(tale_build_t, handler)},
    {"sizeof(h2o_evloop_t)", offsetof(tale_build_t, evloop)},
    {"sizeof(h2o_timeout_t)", offsetof(tale_build_t, timeout)},
    {"sizeof(h2o_timeout_entry_t)", offsetof(tale_build_t, timeout_entry)},
};

/* Compare a plugin's build signature with the host's own (the one plugin.h
 * defines in this file).  0 when they match; else -1 with every difference
 * in `why`, "name plugin X, host Y; ...". */
static int
build_differs(const tale_build_t *b, char *why, size_t len)
{
    why[0] = '\0';
    if (b->magic != TALE_BUILD_MAGIC || b->size < sizeof(tale_build_t)) {
        snprintf(why, len, "its build signature is unreadable (magic %08x, %u bytes)", (unsigned)b->magic, (unsigned)b->size);
        return -1;
    }
    size_t used = 0;
    for (size_t i = 0; i < sizeof(build_fields) / sizeof(build_fields[0]); i++) {
        uint32_t theirs, ours;
        memcpy(&theirs, (const char *)b + build_fields[i].offset, sizeof(theirs));
        memcpy(&ours, (const char *)&tale_build_signature + build_fields[i].offset, sizeof(ours));
        if (theirs != ours && used + 1 < len)
            used += snprintf(why + used, len - used, "%s%s plugin %u, host %u", used > 0 ? "; " : "", build_fields[i].name,
                             (unsigned)theirs, (unsigned)ours);
    }
    return used > 0 ? -1 : 0;
}

/* Check a descriptor against what this host speaks. */
static int
check_descriptor(tale_plugin_t *pl, const char *file, const tale_plugin_desc_t *d)
{
    if (d == NULL) {
        refuse(pl, file, "%s() returned no descriptor", TALE_PLUGIN_ENTRY_NAME);
        return -1;
    }
    if (d->abi_major != TALE_ABI_MAJOR) {
        refuse(pl, file, "built for plugin ABI %u.%u, this host speaks ABI %u.%u", d->abi_major, d->abi_minor, TALE_ABI_MAJOR,
               TALE_ABI_MINOR);
        return -1;
    }
    /* A newer minor may call host functions (or rely on behaviour) this host
     * lacks, and would find out only when the call is NULL: refuse it now. */
    if (d->abi_minor > TALE_ABI_MINOR) {
        refuse(pl, file,
               "built for plugin ABI %u.%u, newer than this host's ABI %u.%u; rebuild it against this host's SDK "
               "or upgrade the host",
               d->abi_major, d->abi_minor, TALE_ABI_MAJOR, TALE_ABI_MINOR);
        return -1;
    }
    if (!DESC_HAS(d, destroy)) {
        refuse(pl, file, "descriptor is %zu bytes, smaller than ABI %u.0 requires", d->size, TALE_ABI_MAJOR);
        return -1;
    }
    if (d->h2o_version == NULL || strcmp(d->h2o_version, H2O_VERSION) != 0) {
        refuse(pl, file, "built against h2o %s, this host uses h2o %s (h2o has no stable ABI)",
               d->h2o_version != NULL ? d->h2o_version : "(unknown)", H2O_VERSION);
        return -1;
    }
    if (d->abi_minor >= 3 && DESC_HAS(d, build) && d->build != NULL) {
        char why[768];
        if (build_differs(d->build, why, sizeof(why)) != 0) {
            refuse(pl, file, "built against a different h2o build (h2o has no stable ABI): %s", why);
            return -1;
        }
    } else if (d->abi_minor < 3) {
        /* 1.0-1.2 descriptors have no signature: the h2o version is all we can
         * check.  Loaded, as the versioning promise says older minors are. */
        say_about(pl, TALE_LOG_WARN, file,
                  "built for plugin ABI %u.%u, which records no build signature: only the h2o version was checked; "
                  "rebuild it against this SDK to have its h2o build checked too",
                  d->abi_major, d->abi_minor);
    } else {
        say_about(pl, TALE_LOG_WARN, file,
                  "its ABI %u.%u descriptor has no build signature (not filled with TALE_PLUGIN_DESC_HEADER?): only "
                  "the h2o version was checked",
                  d->abi_major, d->abi_minor);
    }
    if (d->init == NULL || d->start == NULL || d->stop == NULL || d->destroy == NULL) {
        refuse(pl, file, "descriptor lacks a lifecycle callback (init, start, stop and destroy are required)");
        return -1;
    }
    return 0;
}

/* path if it names a readable regular file: its canonical form (symlinks
 * resolved, which the permission check relies on), else NULL. */
static char *
existing_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, R_OK) != 0)
        return NULL;
    return realpath(path, NULL);
}

/* "a/b", allocated. */
static char *
join_path(const char *a, const char *b)
{
    char *out;
    if (asprintf(&out, "%s/%s", a, b) < 0)
        tale_oom(strlen(a) + strlen(b) + 2);
    return out;
}

/* Add one folder to the "looked in" list of a failed search. */
static void
add_looked(char *looked, size_t len, size_t *n, const char *dir)
{
    size_t used = strlen(looked);
    if (used + 1 < len)
        snprintf(looked + used, len - used, "%s%s", (*n)++ > 0 ? ", " : "", dir);
}

char *
tale_plugin_find(const tale_config_t *cfg, const char *module, const char *const *host_dirs, char *looked, size_t looked_len)
{
    if (strchr(module, '/') != NULL) {
        char *path = module[0] == '/' ? tale_xstrdup(module) : join_path(cfg->dir, module);
        char *found = existing_file(path);
        if (found == NULL)
            snprintf(looked, looked_len, "looked for %s", path);
        free(path);
        return found;
    }
    size_t len = strlen(module), n = 0;
    char *name;
    if (asprintf(&name, "%s%s", module, len > 3 && strcmp(module + len - 3, ".so") == 0 ? "" : ".so") < 0)
        tale_oom(len + 4);
    snprintf(looked, looked_len, "looked for %s in ", name);
    char *found = NULL;
    for (int pass = 0; pass < 2 && found == NULL; pass++) {
        const char *const *dirs = pass == 0 ? (const char *const *)cfg->plugin_path : host_dirs;
        size_t count = pass == 0 ? cfg->n_plugin_path : SIZE_MAX;
        for (size_t i = 0; dirs != NULL && i < count && dirs[i] != NULL && found == NULL; i++) {
            char *candidate = join_path(dirs[i], name);
            found = existing_file(candidate);
            free(candidate);
            add_looked(looked, looked_len, &n, dirs[i]);
        }
    }
    if (n == 0)
        add_looked(looked, looked_len, &n, "no folder (no plugin_path, and the host's own folders are unknown)");
    free(name);
    return found;
}

/* The host's own plugin folders, beside its binary: plugins/ (a build tree),
 * then ../<plugin install dir> (an installed host).  Canonical where they
 * exist, so a refusal names real folders.  NULL-terminated; free_dirs(). */
static void
own_dirs(const tale_host_t *h, char *dirs[3])
{
    dirs[0] = dirs[1] = dirs[2] = NULL;
    if (h->bindir == NULL)
        return;
    dirs[0] = join_path(h->bindir, "plugins");
    dirs[1] = join_path(h->bindir, "../" TALE_REL_PLUGIN_DIR);
    for (int i = 0; i < 2; i++) {
        char *real = realpath(dirs[i], NULL);
        if (real != NULL) {
            free(dirs[i]);
            dirs[i] = real;
        }
    }
}

static int
load_one(tale_plugin_t *pl, const char *const *host_dirs)
{
    tale_conf_plugin_t *pc = pl->conf;
    char looked[768];
    pl->file = tale_plugin_find(pl->host->cfg, pc->module, host_dirs, looked, sizeof(looked));
    if (pl->file == NULL) {
        refuse(pl, pc->module, "file not found (%s)", looked);
        return -1;
    }
    const char *file = pl->file;
    if (check_permissions(pl, file) != 0)
        return -1;
    dlerror();
    pl->dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (pl->dl == NULL) {
        const char *e = dlerror();
        refuse(pl, file, "cannot load it as a shared object: %s", e != NULL ? e : "unknown error");
        return -1;
    }
    /* dlsym returns void *; going through a union avoids the ISO C cast warning */
    union {
        void *obj;
        tale_plugin_entry_fn fn;
    } entry;
    entry.obj = dlsym(pl->dl, TALE_PLUGIN_ENTRY_NAME);
    if (entry.obj == NULL) {
        refuse(pl, file, "entry symbol %s is missing (is this a Tale Host plugin?)", TALE_PLUGIN_ENTRY_NAME);
        return -1;
    }
    pl->desc = entry.fn();
    if (check_descriptor(pl, file, pl->desc) != 0)
        return -1;

    pl->err[0] = '\0';
    if (pl->desc->init(pl, &tale_host_api, &pl->state, pl->err, sizeof(pl->err)) != 0) {
        refuse(pl, file, "init failed: %s", pl->err[0] != '\0' ? pl->err : "(the plugin gave no reason)");
        return -1;
    }
    pl->inited = 1;
    tale_info("loader", "loaded plugin '%s' (%s %s, ABI %u.%u) from %s", pc->name, pl->desc->name,
              pl->desc->version != NULL ? pl->desc->version : "?", pl->desc->abi_major, pl->desc->abi_minor, file);
    return 0;
}

int
tale_plugins_load(tale_host_t *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->cfg->n_plugins; i++)
        if (h->cfg->plugins[i].enabled)
            n++;
    h->plugins = tale_xcalloc(n, sizeof(*h->plugins));
    char *dirs[3];
    own_dirs(h, dirs);
    int rc = 0;
    for (size_t i = 0; i < h->cfg->n_plugins && rc == 0; i++) {
        if (!h->cfg->plugins[i].enabled) {
            tale_info("loader", "plugin '%s' is disabled in the config", h->cfg->plugins[i].name);
            continue;
        }
        tale_plugin_t *pl = &h->plugins[h->n_plugins++];
        pl->host = h;
        pl->conf = &h->cfg->plugins[i];
        pl->yaml = &h->cfg->yaml;
        rc = load_one(pl, (const char *const *)dirs);
    }
    free(dirs[0]);
    free(dirs[1]);
    return rc;
}

int
tale_plugins_start(tale_host_t *h)
{
    int rc = 0;
    h->mounts_open = 1;
    for (size_t i = 0; i < h->n_plugins; i++) {
        tale_plugin_t *pl = &h->plugins[i];
        pl->err[0] = '\0';
        if (pl->desc->start(pl, pl->state, pl->err, sizeof(pl->err)) != 0) {
            refuse(pl, pl->file, "start failed: %s", pl->err[0] != '\0' ? pl->err : "(no reason given)");
            rc = -1;
            break;
        }
        pl->started = 1;
    }
    h->mounts_open = 0;
    return rc;
}

static int
longest_first(const void *a, const void *b)
{
    const tale_mount_t *x = a, *y = b;
    size_t lx = strlen(x->path), ly = strlen(y->path);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Every answer on a mounted path says what it is: no MIME sniffing of a
 * JSON error or an event stream into HTML.  SET, so a plugin that sends the
 * header itself does not get it twice.  h2o keeps the pointer: static. */
static h2o_iovec_t nosniff_name = {H2O_STRLIT("x-content-type-options")};
static h2o_headers_command_t nosniff_cmds[] = {{H2O_HEADERS_CMD_SET, &nosniff_name, {H2O_STRLIT("nosniff")}},
                                               {H2O_HEADERS_CMD_NULL}};

/* A response starts on a mounted path: tell the server the connection has
 * been answered, so it is no longer the first to go when the host is full
 * (server.c).  Then pass the response on unchanged. */
static void
on_setup_answered(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    tale_server_conn_answered(req->conn->callbacks->get_socket(req->conn));
    h2o_setup_next_ostream(req, slot);
}

/* The host's logger on every path: HTTP responses by status class for the
 * metrics, and the access log's request lines.  The client is the address
 * behind trusted proxies, as session.c sees it. */
typedef struct host_logger {
    h2o_logger_t super;
    tale_host_t *host;
} host_logger_t;

static void
on_log_access(h2o_logger_t *self, h2o_req_t *req)
{
    tale_host_t *h = ((host_logger_t *)self)->host;
    int status = req->res.status;
    h->metrics.http_by_class[status >= 100 && status < 600 ? status / 100 : 0]++;
    if (h->accesslog == NULL)
        return;
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    tale_addr_t peer = {0}, client = {0};
    if (len != 0 && tale_addr_from_sockaddr(&peer, (struct sockaddr *)&ss, len) == 0) {
        ssize_t x = h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, -1);
        ssize_t f = h2o_find_header_by_str(&req->headers, H2O_STRLIT("forwarded"), -1);
        tale_addr_client(&client, &peer, h->cfg->trusted_proxies, h->cfg->n_trusted_proxies,
                         x >= 0 ? req->headers.entries[x].value.base : NULL, x >= 0 ? req->headers.entries[x].value.len : 0,
                         f >= 0 ? req->headers.entries[f].value.base : NULL, f >= 0 ? req->headers.entries[f].value.len : 0);
    }
    tale_accesslog_request(h->accesslog, req, &client);
}

static void
add_host_logger(tale_host_t *h, h2o_pathconf_t *pc)
{
    host_logger_t *l = (host_logger_t *)h2o_create_logger(pc, sizeof(*l));
    l->super.log_access = on_log_access;
    l->host = h;
}

int
tale_plugins_register_mounts(tale_host_t *h)
{
    /* h2o picks the first registered prefix that matches, so the most
     * specific paths must come first (H2O-NOTES 7). */
    if (h->n_mounts > 1)
        qsort(h->mounts, h->n_mounts, sizeof(*h->mounts), longest_first);
    for (size_t i = 0; i < h->n_mounts; i++) {
        tale_mount_t *m = &h->mounts[i];
        /* the pathconf pointer is only valid until the next registration */
        h2o_pathconf_t *pc = h2o_config_register_path(h->hostconf, m->path, 0);
        h2o_headers_register(pc, nosniff_cmds);
        h2o_create_filter(pc, sizeof(h2o_filter_t))->on_setup_ostream = on_setup_answered;
        add_host_logger(h, pc);
        m->owner->err[0] = '\0';
        if (m->cb(m->owner, pc, m->data) != 0) {
            refuse(m->owner, m->owner->file, "mounting %s failed: %s", m->path,
                   m->owner->err[0] != '\0' ? m->owner->err : "(no reason given)");
            return -1;
        }
        tale_debug("loader", "mounted %s for plugin '%s'", m->path, m->owner->conf->name);
    }
    /* requests no mount answers (h2o's 404) are logged too */
    add_host_logger(h, &h->hostconf->fallback_path);
    return 0;
}

void
tale_plugins_stop(tale_host_t *h)
{
    for (size_t i = h->n_plugins; i-- > 0;) {
        tale_plugin_t *pl = &h->plugins[i];
        if (pl->started) {
            tale_debug("loader", "stopping plugin '%s'", pl->conf->name);
            pl->desc->stop(pl, pl->state);
            pl->started = 0;
        }
    }
}

unsigned
tale_plugins_draining(tale_host_t *h)
{
    unsigned busy = 0;
    for (size_t i = 0; i < h->n_plugins; i++) {
        tale_plugin_t *pl = &h->plugins[i];
        if (pl->inited && DESC_HAS(pl->desc, drain) && pl->desc->drain != NULL)
            busy += pl->desc->drain(pl, pl->state);
    }
    return busy;
}

void
tale_plugins_destroy(tale_host_t *h)
{
    for (size_t i = h->n_plugins; i-- > 0;) {
        tale_plugin_t *pl = &h->plugins[i];
        if (pl->inited) {
            pl->desc->destroy(pl, pl->state);
            pl->inited = 0;
            pl->state = NULL;
        }
    }
}

void
tale_plugins_unload(tale_host_t *h)
{
    for (size_t i = h->n_plugins; i-- > 0;) {
        tale_plugin_t *pl = &h->plugins[i];
        /* Under ASan, keep the code mapped so leak reports can symbolise. */
#if !defined(__SANITIZE_ADDRESS__)
        if (pl->dl != NULL)
            dlclose(pl->dl);
#endif
        for (size_t j = 0; j < pl->n_allocs; j++)
            free(pl->allocs[j]);
        free(pl->allocs);
        free(pl->file);
    }
    free(h->plugins);
    h->plugins = NULL;
    h->n_plugins = 0;
    for (size_t i = 0; i < h->n_kept_yaml; i++) {
        tale_yaml_free(h->kept_yaml[i]);
        free(h->kept_yaml[i]);
    }
    free(h->kept_yaml);
    h->kept_yaml = NULL;
    h->n_kept_yaml = 0;
    for (size_t i = 0; i < h->n_mounts; i++)
        free(h->mounts[i].path);
    free(h->mounts);
    h->mounts = NULL;
    h->n_mounts = 0;
}

/* Append one name to the comma-separated restart list. */
static void
note_restart(char *out, size_t len, const char *fmt, const char *name, const char *what)
{
    size_t used = strlen(out);
    if (used + 1 >= len)
        return;
    if (used > 0)
        used += snprintf(out + used, len - used, ", ");
    if (used < len)
        snprintf(out + used, len - used, fmt, name, what);
}

static tale_plugin_t *
loaded_for(tale_host_t *h, const tale_conf_plugin_t *conf)
{
    for (size_t i = 0; i < h->n_plugins; i++)
        if (h->plugins[i].conf == conf && h->plugins[i].inited)
            return &h->plugins[i];
    return NULL;
}

/* Hand one plugin its changed subtree.  The getters read through pl->conf
 * and pl->yaml, so both point at the new subtree for the call, and back at
 * the running one if the plugin refuses it.  1 when it took the subtree. */
static int
reload_one(tale_plugin_t *pl, tale_config_t *fresh, yaml_node_t *subtree, char *restart, size_t restart_len)
{
    const char *name = pl->conf->name;
    if (!DESC_HAS(pl->desc, reload) || pl->desc->reload == NULL) {
        note_restart(restart, restart_len, "plugin '%s' %s", name, "config");
        return 0;
    }
    yaml_node_t *old = pl->conf->config;
    tale_yaml_t *old_yaml = pl->yaml;
    pl->conf->config = subtree;
    pl->yaml = &fresh->yaml;
    pl->err[0] = '\0';
    int rc = pl->desc->reload(pl, pl->state, pl->err, sizeof(pl->err));
    if (rc < 0) {
        pl->conf->config = old;
        pl->yaml = old_yaml;
        tale_error("config", "reload: plugin '%s' refused its new config and keeps the running one: %s", name,
                   pl->err[0] != '\0' ? pl->err : "(the plugin gave no reason)");
        return 0;
    }
    if (rc > 0)
        note_restart(restart, restart_len, "plugin '%s' %s", name, pl->err[0] != '\0' ? pl->err : "config");
    tale_info("config", "reload: plugin '%s' took its new config in place%s", name,
              rc > 0 ? " (but for what needs a restart)" : "");
    return 1;
}

int
tale_plugins_reload(tale_host_t *h, tale_config_t *fresh, char *restart, size_t restart_len)
{
    tale_config_t *run = h->cfg;
    /* Another list is config.c's "plugins" restart: nothing to match up. */
    if (fresh->n_plugins != run->n_plugins)
        return 0;
    for (size_t i = 0; i < run->n_plugins; i++)
        if (strcmp(run->plugins[i].name, fresh->plugins[i].name) != 0 ||
            strcmp(run->plugins[i].module, fresh->plugins[i].module) != 0 || run->plugins[i].enabled != fresh->plugins[i].enabled)
            return 0;
    int took = 0;
    for (size_t i = 0; i < run->n_plugins; i++) {
        tale_plugin_t *pl = loaded_for(h, &run->plugins[i]);
        /* a disabled plugin's config matters once it is enabled, which takes a restart anyway */
        if (pl == NULL || tale_config_subtree_equal(pl->yaml, run->plugins[i].config, &fresh->yaml, fresh->plugins[i].config))
            continue;
        took |= reload_one(pl, fresh, fresh->plugins[i].config, restart, restart_len);
    }
    if (!took)
        return 0;
    /* Strings the plugins read now point into the fresh document: it lives
     * on, moved out of `fresh` before that is freed, until unload. */
    tale_yaml_t *kept = tale_xmalloc(sizeof(*kept));
    *kept = fresh->yaml;
    memset(&fresh->yaml, 0, sizeof(fresh->yaml));
    for (size_t i = 0; i < h->n_plugins; i++)
        if (h->plugins[i].yaml == &fresh->yaml)
            h->plugins[i].yaml = kept;
    h->kept_yaml = tale_xrealloc(h->kept_yaml, (h->n_kept_yaml + 1) * sizeof(*h->kept_yaml));
    h->kept_yaml[h->n_kept_yaml++] = kept;
    return 1;
}
