/*
 * static.c - the static plugin: pages and files for the browser client.
 *
 *   /                        302 to /tale/ (and the catch-all 404 for unknown paths)
 *   /tale/, /tale/start      index.html rendered with LlamaTale's placeholders
 *   /tale/story              story.html
 *   /tale/about              about.html (built-in fallback)
 *   /tale/quit               ends the cookie's session, then quit.html (built-in fallback)
 *   /tale/static/<path>      files below web_root (h2o's file handler)
 *   /tale/static/resources/  files below the story's resources/ folder
 *
 * Every route is its own mount: h2o 2.2.5 picks the first registered prefix
 * that matches, and the host registers all plugins' mounts longest first, so
 * separate mounts interleave correctly with the ws and sse plugins' paths.
 * Each mount gets a guard handler first (method, traversal, symlinks), then
 * h2o's file handler where files are served, h2o's compress filter for gzip,
 * and h2o's headers filter for the security headers on every answer.
 */
#include <tale/alloc.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <h2o.h>
#include <tale/plugin.h>
#include <tale/h2o_request.h>
#include "csp.h"
#include "page.h"
#include "range.h"

#define DEFAULT_CSP "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'"
#define MAX_TEMPLATE_SIZE (1024 * 1024)
#define DEFAULT_MAX_RANGES 4
#define CSP_WARN_MAX 10 /* pages named at start; the rest are counted in one line */

enum route_kind { ROUTE_ROOT, ROUTE_PAGE, ROUTE_QUIT, ROUTE_FILES, ROUTE_RESOURCES };
enum page_id { PAGE_INDEX, PAGE_STORY, PAGE_ABOUT, PAGE_QUIT, PAGE_COUNT };

struct route_spec {
    const char *path;
    enum route_kind kind;
    enum page_id page;
};

/* What a mount callback needs: passed as the mount's data. */
struct static_plugin;
struct mount {
    struct static_plugin *sp;
    const struct route_spec *spec;
};

#define ROUTE_COUNT 8

/* A template from the web root, re-read when the file changes on disk so a
 * web folder can be edited without a restart (one stat per page request). */
struct page {
    const char *file;
    const char *fallback; /* used when the web root has no such file; may be NULL */
    char *text;
    size_t len;
    struct timespec mtime;
    off_t size;
    ino_t ino;
    int loaded;
};

struct static_plugin {
    tale_plugin_t *self;
    const tale_host_api_t *host;
    char *web_root;       /* canonical (realpath) */
    char *resources_root; /* canonical, or NULL when the story has none */
    char *csp;
    char *cache_control;
    int gzip;
    int64_t gzip_level;
    uint64_t gzip_min_size;
    int64_t max_ranges; /* more ranges in one request, or overlapping ones: the whole file, 200 */
    h2o_mimemap_t *mimemap;
    struct page pages[PAGE_COUNT];
    /* header commands must outlive the pathconfs that point at them */
    h2o_iovec_t name_csp, name_nosniff, name_referrer, name_cache;
    h2o_headers_command_t hdr_pages[4];
    h2o_headers_command_t hdr_files[5];
    struct mount mounts[ROUTE_COUNT];
};

struct route {
    h2o_handler_t super;
    struct static_plugin *sp;
    const struct route_spec *spec;
    const char *root; /* ROUTE_FILES: canonical folder served, NULL if none */
};

static const struct route_spec routes[ROUTE_COUNT] = {
    {"/", ROUTE_ROOT, 0},
    {"/tale/", ROUTE_PAGE, PAGE_INDEX},
    {"/tale/start", ROUTE_PAGE, PAGE_INDEX},
    {"/tale/story", ROUTE_PAGE, PAGE_STORY},
    {"/tale/about", ROUTE_PAGE, PAGE_ABOUT},
    {"/tale/quit", ROUTE_QUIT, PAGE_QUIT},
    {"/tale/static/", ROUTE_FILES, 0},
    {"/tale/static/resources/", ROUTE_RESOURCES, 0},
};

static const char about_fallback[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>About {story_name}</title>"
    "<link rel=\"stylesheet\" href=\"static/style.css\"></head>\n<body><main class=\"page\">"
    "<h1>{story_name}</h1><p>Version {story_version} by {story_author} ({story_author_email}).</p>"
    "<p>Served by Tale Host {tale_version}, up {uptime} since {starttime}.</p>"
    "<p><a href=\"./\">Back</a></p></main></body></html>\n";

static const char quit_fallback[] = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Goodbye</title>"
                                    "<link rel=\"stylesheet\" href=\"static/style.css\"></head>\n<body><main class=\"page\">"
                                    "<h1>Goodbye</h1><p>Thanks for playing {story_name}. The game has ended.</p>"
                                    "<p><a href=\"./\">Start again</a></p></main></body></html>\n";

/* ---- small helpers ---- */

static int
is_method(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

/* "addr" of the peer for log lines ("?" when unknown). */
static const char *
peer_of(h2o_req_t *req, char *buf)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername != NULL ? req->conn->callbacks->get_peername(req->conn, (void *)&ss) : 0;
    if (len == 0 || h2o_socket_getnumerichost((void *)&ss, len, buf) == SIZE_MAX)
        strcpy(buf, "?");
    return buf;
}

/* The raw path made printable for a log line: bytes outside 0x21..0x7e as \xNN, at most ~200 chars. */
static const char *
printable(h2o_iovec_t s, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < s.len && o + 5 < size; i++) {
        unsigned char c = (unsigned char)s.base[i];
        if (c > 0x20 && c < 0x7f && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    }
    buf[o] = '\0';
    return buf;
}

static int
send_404(h2o_req_t *req)
{
    h2o_send_error_404(req, "Not Found", "not found", 0);
    return 0;
}

static int
send_405(h2o_req_t *req, const char *allow)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
    h2o_send_error_405(req, "Method Not Allowed", "method not allowed", H2O_SEND_ERROR_KEEP_HEADERS);
    return 0;
}

/* Refuse traversal spellings on every route: a path like /tale/x/../story is
 * normalised by h2o into a route of ours, so each route checks the raw path. */
static int
refuse_traversal(struct route *r, h2o_req_t *req)
{
    const char *why =
        st_path_traversal_reason(req->input.path.base, req->input.path.len, req->path_normalized.base, req->path_normalized.len);
    if (why == NULL)
        return 0;
    char peer[NI_MAXHOST], path[256];
    r->sp->host->log(r->sp->self, TALE_LOG_WARN, "refused path traversal (%s) from %s: %s", why, peer_of(req, peer),
                     printable(req->input.path, path, sizeof(path)));
    send_404(req);
    return 1;
}

/* ---- pages ---- */

static int
load_page(struct static_plugin *sp, struct page *p)
{
    char path[PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof(path), "%s/%s", sp->web_root, p->file) >= (int)sizeof(path))
        return -1;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (p->fallback == NULL)
            return -1;
        if (p->loaded && p->ino == 0)
            return 0;
        free(p->text);
        p->text = tale_xstrdup(p->fallback);
        p->len = strlen(p->fallback);
        p->ino = 0;
        p->loaded = 1;
        return 0;
    }
    if (p->loaded && p->ino == st.st_ino && p->size == st.st_size && p->mtime.tv_sec == st.st_mtim.tv_sec &&
        p->mtime.tv_nsec == st.st_mtim.tv_nsec)
        return 0;
    if (st.st_size > MAX_TEMPLATE_SIZE) {
        sp->host->log(sp->self, TALE_LOG_ERROR, "template %s is larger than %d bytes", path, MAX_TEMPLATE_SIZE);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    char *text = tale_xmalloc((size_t)st.st_size + 1); /* bounded by MAX_TEMPLATE_SIZE above */
    size_t n = 0;
    if (f != NULL) {
        n = fread(text, 1, (size_t)st.st_size, f);
        fclose(f);
    }
    if (n != (size_t)st.st_size) {
        sp->host->log(sp->self, TALE_LOG_ERROR, "cannot read template %s: %s", path, strerror(errno));
        free(text);
        return -1;
    }
    text[n] = '\0';
    free(p->text);
    p->text = text;
    p->len = n;
    p->ino = st.st_ino;
    p->size = st.st_size;
    p->mtime = st.st_mtim;
    p->loaded = 1;
    return 0;
}

static void
send_page(struct static_plugin *sp, h2o_req_t *req, struct page *p)
{
    const tale_story_info_t *info = sp->host->story_info(sp->self);
    char uptime[32], started[64] = "";
    time_t start = info != NULL ? (time_t)info->start_time : time(NULL);
    struct tm tm;
    st_format_uptime(uptime, sizeof(uptime), (int64_t)(time(NULL) - start));
    if (localtime_r(&start, &tm) != NULL)
        strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", &tm);
    const st_page_var_t vars[] = {
        {"story_name", info != NULL ? info->name : NULL},
        {"story_version", info != NULL ? info->version : NULL},
        {"story_author", info != NULL ? info->author : NULL},
        {"story_author_email", info != NULL ? info->author_email : NULL},
        {"tale_version", info != NULL ? info->tale_version : NULL},
        {"uptime", uptime},
        {"starttime", started},
    };
    size_t len;
    char *body = st_page_render(p->text, p->len, vars, sizeof(vars) / sizeof(vars[0]), &len);
    /* The compress filter asks mime_attr whether the body may be gzipped. */
    static h2o_mime_attributes_t html_attr = {1, H2O_MIME_ATTRIBUTE_PRIORITY_NORMAL};
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.mime_attr = &html_attr;
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, len); /* copies the body into the request pool */
    free(body);
}

/* A page that says why there is no game here (an IF seat held by someone
 * else, a wrong key), with the host's message; status 403 or as given. */
static int
send_refusal_page(h2o_req_t *req, int status, const char *why)
{
    static const char head[] =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>No game for you here</title>"
        "<link rel=\"stylesheet\" href=\"/tale/static/style.css\"></head>\n<body><h1>No game for you "
        "here</h1>\n<p>";
    static const char tail[] = "</p>\n</body></html>\n";
    h2o_iovec_t body = h2o_concat(&req->pool, h2o_iovec_init(head, sizeof(head) - 1), h2o_iovec_init(why, strlen(why)),
                                  h2o_iovec_init(tail, sizeof(tail) - 1));
    req->res.status = status;
    req->res.reason = tale_h2o_reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body.base, body.len);
    return 0;
}

/*
 * The seat rules on the pages (IF mode, PROTOCOL "Sessions"): a page asked
 * for with the console's one-time `?key=` claims the seat, sets its cookie
 * and redirects to the game page without the key; the game page refuses,
 * with a page that says why, a visitor who would get no seat.  Returns 1
 * when the request has been answered.
 */
static int
apply_seat_rules(struct static_plugin *sp, h2o_req_t *req, enum page_id page)
{
    const tale_story_info_t *info = sp->host->story_info(sp->self);
    if (info == NULL || info->mode != TALE_MODE_IF || (page != PAGE_INDEX && page != PAGE_STORY))
        return 0;
    tale_request_t rq;
    struct sockaddr_storage peer;
    tale_request_from_h2o(req, TALE_SESSION_CREATE, &rq, &peer);
    if (rq.claim_key == NULL && page == PAGE_INDEX)
        return 0;
    if (rq.claim_key == NULL)
        rq.flags |= TALE_SESSION_PEEK; /* the game page: would this visitor be seated? */
    char set_cookie[TALE_SET_COOKIE_MAX] = "";
    tale_session_t *s = NULL;
    const char *error = NULL;
    int status = sp->host->session_open(sp->self, &rq, &s, set_cookie, &error);
    if (status != 0) {
        send_refusal_page(req, status, error);
        return 1;
    }
    if (rq.claim_key == NULL)
        return 0;
    /* by hand: h2o_send_redirect drops the headers set so far (the cookie) */
    static const char body[] = "<!DOCTYPE html>\n<p><a href=\"/tale/story\">Your game</a></p>\n";
    req->res.status = 303;
    req->res.reason = "See Other";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, H2O_STRLIT("/tale/story"));
    if (set_cookie[0] != '\0') {
        size_t n = strlen(set_cookie);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, h2o_strdup(&req->pool, set_cookie, n).base, n);
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, sizeof(body) - 1);
    return 1;
}

/* /tale/quit: only with the seat's cookie, and only from our own pages. */
static void
end_session(struct static_plugin *sp, h2o_req_t *req)
{
    tale_request_t rq;
    struct sockaddr_storage peer;
    tale_request_from_h2o(req, 0, &rq, &peer);
    tale_session_t *s = NULL;
    const char *error = NULL;
    if (sp->host->session_open(sp->self, &rq, &s, NULL, &error) != 0) {
        sp->host->log(sp->self, TALE_LOG_WARN, "quit refused: %s", error);
        return;
    }
    if (s == NULL) {
        sp->host->log(sp->self, TALE_LOG_INFO, "quit without a session: nothing to end");
        return;
    }
    sp->host->log(sp->self, TALE_LOG_INFO, "quit: ending the session");
    sp->host->session_quit(s);
}

/* ---- the handler behind every route ---- */

/* h2o's file handler answers any number of ranges, overlapping ones too, as
 * one multipart answer: `bytes=0-,0-,...` turns a 60 KB request into 512 MB.
 * Too many or overlapping ranges make us drop every Range header, so h2o
 * sends the whole file once with 200, as RFC 9110 (14.2) lets a server do.
 * The file may change before h2o opens it; a size off by a little changes
 * which ranges overlap, never how many there are. */
static void
limit_ranges(struct route *r, h2o_req_t *req, uint64_t file_size)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_RANGE, -1);
    if (i == -1)
        return;
    h2o_iovec_t v = req->headers.entries[i].value;
    st_range_verdict_t verdict = st_range_judge(v.base, v.len, file_size, (size_t)r->sp->max_ranges);
    if (verdict == ST_RANGE_PASS)
        return;
    char peer[NI_MAXHOST];
    r->sp->host->log(r->sp->self, TALE_LOG_DEBUG, "ignoring a Range header (%s, %zu bytes) from %s: sending the whole file",
                     st_range_verdict_name(verdict), v.len, peer_of(req, peer));
    while ((i = h2o_find_header(&req->headers, H2O_TOKEN_RANGE, -1)) != -1)
        h2o_delete_header(&req->headers, i);
}

static int
on_files(struct route *r, h2o_req_t *req)
{
    size_t prefix = strlen(r->spec->path);
    h2o_iovec_t norm = req->path_normalized;
    if (r->root == NULL || norm.len <= prefix || memcmp(norm.base, r->spec->path, prefix) != 0)
        return send_404(req);
    const char *rel = norm.base + prefix;
    size_t rel_len = norm.len - prefix;
    if (rel[rel_len - 1] == '/' || st_path_has_hidden_segment(rel, rel_len))
        return send_404(req);
    char full[PATH_MAX], resolved[PATH_MAX];
    if (snprintf(full, sizeof(full), "%s/%.*s", r->root, (int)rel_len, rel) >= (int)sizeof(full))
        return send_404(req);
    if (realpath(full, resolved) == NULL)
        return send_404(req);
    if (!st_path_is_below(r->root, resolved)) {
        char peer[NI_MAXHOST], path[256];
        r->sp->host->log(r->sp->self, TALE_LOG_WARN, "refused path traversal (symlink out of %s) from %s: %s", r->root,
                         peer_of(req, peer), printable(req->input.path, path, sizeof(path)));
        return send_404(req);
    }
    struct stat st;
    if (stat(resolved, &st) != 0 || !S_ISREG(st.st_mode))
        return send_404(req);
    limit_ranges(r, req, (uint64_t)st.st_size);
    return -1; /* clean: h2o's file handler (next on this path) serves it */
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct route *r = (struct route *)self;
    struct static_plugin *sp = r->sp;

    if (refuse_traversal(r, req))
        return 0;

    h2o_iovec_t norm = req->path_normalized;
    switch (r->spec->kind) {
    case ROUTE_ROOT:
        /* the catch-all: only "/" itself (and "/tale" without the slash) exist here */
        if (h2o_memis(norm.base, norm.len, H2O_STRLIT("/")) || h2o_memis(norm.base, norm.len, H2O_STRLIT("/tale"))) {
            if (!is_method(req, "GET") && !is_method(req, "HEAD"))
                return send_405(req, "GET, HEAD");
            h2o_send_redirect(req, 302, "Found", H2O_STRLIT("/tale/"));
            return 0;
        }
        return send_404(req);
    case ROUTE_PAGE:
    case ROUTE_QUIT:
        if (!h2o_memis(norm.base, norm.len, r->spec->path, strlen(r->spec->path)))
            return send_404(req);
        if (r->spec->kind == ROUTE_QUIT) {
            /* POST is accepted so a form can quit; HEAD must not end anything */
            if (!is_method(req, "GET") && !is_method(req, "HEAD") && !is_method(req, "POST"))
                return send_405(req, "GET, HEAD, POST");
        } else if (!is_method(req, "GET") && !is_method(req, "HEAD")) {
            return send_405(req, "GET, HEAD");
        }
        if (load_page(sp, &sp->pages[r->spec->page]) != 0) {
            sp->host->log(sp->self, TALE_LOG_ERROR, "page template %s/%s is missing", sp->web_root, sp->pages[r->spec->page].file);
            return send_404(req);
        }
        if (r->spec->kind == ROUTE_PAGE && apply_seat_rules(sp, req, r->spec->page))
            return 0;
        if (r->spec->kind == ROUTE_QUIT && !is_method(req, "HEAD")) {
            tale_request_t rq;
            struct sockaddr_storage peer;
            const char *why = NULL;
            tale_request_from_h2o(req, 0, &rq, &peer);
            if (sp->host->request_check(sp->self, &rq, &why) != 0) {
                sp->host->log(sp->self, TALE_LOG_WARN, "quit refused: %s", why);
                return tale_h2o_send_error(req, 403, why);
            }
            end_session(sp, req);
        }
        send_page(sp, req, &sp->pages[r->spec->page]);
        return 0;
    case ROUTE_FILES:
    case ROUTE_RESOURCES:
        if (!is_method(req, "GET") && !is_method(req, "HEAD"))
            return send_405(req, "GET, HEAD");
        return on_files(r, req);
    }
    return send_404(req);
}

/* ---- mounting ---- */

static int
on_mount(tale_plugin_t *self, struct st_h2o_pathconf_t *pathconf, void *data)
{
    const struct mount *m = data;
    const struct route_spec *spec = m->spec;
    struct static_plugin *sp = m->sp;

    struct route *r = (struct route *)h2o_create_handler(pathconf, sizeof(*r));
    r->super.on_req = on_req;
    r->sp = sp;
    r->spec = spec;
    if (spec->kind == ROUTE_FILES || spec->kind == ROUTE_RESOURCES) {
        static const char *no_index[] = {NULL};
        r->root = spec->kind == ROUTE_RESOURCES ? sp->resources_root : sp->web_root;
        if (r->root != NULL)
            h2o_file_register(pathconf, r->root, no_index, sp->mimemap, 0);
    }
    if (sp->gzip && spec->kind != ROUTE_ROOT) {
        h2o_compress_args_t args = {.min_size = sp->gzip_min_size, .gzip = {(int)sp->gzip_level}, .brotli = {-1}};
        h2o_compress_register(pathconf, &args);
    }
    int files = spec->kind == ROUTE_FILES || spec->kind == ROUTE_RESOURCES;
    h2o_headers_register(pathconf, files ? sp->hdr_files : sp->hdr_pages);
    return 0;
}

/* Types the issue asks for, defined explicitly (h2o 2.2.5's defaults lack
 * some, e.g. webp and woff2); text types carry a charset and are gzipped. */
static void
define_types(h2o_mimemap_t *m)
{
    static const struct {
        const char *ext, *type;
        int text;
    } types[] = {
        {"html", "text/html; charset=utf-8", 1},
        {"htm", "text/html; charset=utf-8", 1},
        {"css", "text/css; charset=utf-8", 1},
        {"js", "text/javascript; charset=utf-8", 1},
        {"mjs", "text/javascript; charset=utf-8", 1},
        {"json", "application/json", 1},
        {"map", "application/json", 1},
        {"svg", "image/svg+xml", 1},
        {"txt", "text/plain; charset=utf-8", 1},
        {"xml", "application/xml", 1},
        {"png", "image/png", 0},
        {"jpg", "image/jpeg", 0},
        {"jpeg", "image/jpeg", 0},
        {"gif", "image/gif", 0},
        {"ico", "image/x-icon", 0},
        {"webp", "image/webp", 0},
        {"woff", "font/woff", 0},
        {"woff2", "font/woff2", 0},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        h2o_mime_attributes_t attr;
        memset(&attr, 0, sizeof(attr)); /* h2o compares attributes bytewise, padding included */
        attr.is_compressible = (char)types[i].text;
        attr.priority = H2O_MIME_ATTRIBUTE_PRIORITY_NORMAL;
        h2o_mimemap_define_mimetype(m, types[i].ext, types[i].type, &attr);
    }
    /* anything unknown is offered as opaque bytes, never sniffed (nosniff) */
    h2o_mimemap_set_default_type(m, "application/octet-stream", NULL);
}

static void
set_header(h2o_headers_command_t *cmd, int op, h2o_iovec_t *name, const char *value)
{
    cmd->cmd = op;
    cmd->name = name;
    cmd->value = h2o_iovec_init(value, strlen(value));
}

static void
setup_headers(struct static_plugin *sp)
{
    sp->name_csp = h2o_iovec_init(H2O_STRLIT("content-security-policy"));
    sp->name_nosniff = h2o_iovec_init(H2O_STRLIT("x-content-type-options"));
    sp->name_referrer = h2o_iovec_init(H2O_STRLIT("referrer-policy"));
    sp->name_cache = h2o_iovec_init(H2O_STRLIT("cache-control"));
    h2o_headers_command_t *lists[2] = {sp->hdr_pages, sp->hdr_files};
    for (int i = 0; i < 2; i++) {
        h2o_headers_command_t *c = lists[i];
        int n = 0;
        if (sp->csp[0] != '\0')
            set_header(&c[n++], H2O_HEADERS_CMD_SET, &sp->name_csp, sp->csp);
        set_header(&c[n++], H2O_HEADERS_CMD_SET, &sp->name_nosniff, "nosniff");
        set_header(&c[n++], H2O_HEADERS_CMD_SET, &sp->name_referrer, "same-origin");
        if (c == sp->hdr_files && sp->cache_control[0] != '\0')
            set_header(&c[n++], H2O_HEADERS_CMD_SETIFEMPTY, &sp->name_cache, sp->cache_control);
        c[n].cmd = H2O_HEADERS_CMD_NULL;
    }
}

static char *
canonical_dir(const char *path, char *err, size_t errlen, const char *what)
{
    char buf[PATH_MAX];
    struct stat st;
    if (realpath(path, buf) == NULL || stat(buf, &st) != 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a directory", what, path);
        return NULL;
    }
    return tale_xstrdup(buf);
}

static void
free_state(struct static_plugin *sp)
{
    if (sp == NULL)
        return;
    for (int i = 0; i < PAGE_COUNT; i++)
        free(sp->pages[i].text);
    if (sp->mimemap != NULL)
        h2o_mem_release_shared(sp->mimemap);
    free(sp->web_root);
    free(sp->resources_root);
    free(sp->csp);
    free(sp->cache_control);
    free(sp);
}

/* The plugin's config keys (docs/CONFIG.md, "static"). */
typedef struct static_conf {
    const char *web_root, *csp, *cache_control;
    int gzip;
    int64_t gzip_level;
    uint64_t gzip_min_size;
    int64_t max_ranges;
} static_conf_t;

static const tale_conf_row_t static_conf_rows[] = {
    TALE_CONF_ROW_PATH("web_root", static_conf_t, web_root, "../web"),
    TALE_CONF_ROW_STRING("csp", static_conf_t, csp, DEFAULT_CSP),
    TALE_CONF_ROW_STRING("cache_control", static_conf_t, cache_control, "no-cache"),
    TALE_CONF_ROW_BOOL("gzip", static_conf_t, gzip, 1),
    TALE_CONF_ROW_INT("gzip_level", static_conf_t, gzip_level, 6, 1, 9),
    TALE_CONF_ROW_SIZE("gzip_min_size", static_conf_t, gzip_min_size, 256, 0, 0),
    TALE_CONF_ROW_INT("max_ranges", static_conf_t, max_ranges, DEFAULT_MAX_RANGES, 0, ST_RANGE_LIMIT),
};

static int
static_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    /* conf_table (ABI 1.3) is the newest call we make. */
    if (!TALE_HOST_HAS(host, conf_table)) {
        snprintf(err, errlen, "the host's API %u.%u is older than the 1.3 this plugin needs", host->abi_major, host->abi_minor);
        return -1;
    }
    struct static_plugin *sp = tale_xcalloc(1, sizeof(*sp));
    static_conf_t c;
    sp->self = self;
    sp->host = host;
    if (host->conf_table(self, static_conf_rows, sizeof(static_conf_rows) / sizeof(static_conf_rows[0]), &c) != 0)
        goto err; /* the host wrote the located error into err */
    const char *web_root = c.web_root, *csp = c.csp, *cache_control = c.cache_control;
    sp->gzip = c.gzip;
    sp->gzip_level = c.gzip_level;
    sp->gzip_min_size = c.gzip_min_size;
    sp->max_ranges = c.max_ranges;
    if (strpbrk(csp, "\r\n") != NULL || strpbrk(cache_control, "\r\n") != NULL) {
        snprintf(err, errlen, "csp and cache_control must be single-line header values");
        goto err;
    }
    if ((sp->web_root = canonical_dir(web_root, err, errlen, "web_root")) == NULL)
        goto err;
    sp->csp = tale_xstrdup(csp);
    sp->cache_control = tale_xstrdup(cache_control);
    sp->mimemap = h2o_mimemap_create(); /* h2o's allocator aborts on failure */
    define_types(sp->mimemap);
    setup_headers(sp);
    sp->pages[PAGE_INDEX].file = "index.html";
    sp->pages[PAGE_STORY].file = "story.html";
    sp->pages[PAGE_ABOUT].file = "about.html";
    sp->pages[PAGE_ABOUT].fallback = about_fallback;
    sp->pages[PAGE_QUIT].file = "quit.html";
    sp->pages[PAGE_QUIT].fallback = quit_fallback;
    *state = sp;
    return 0;
err:
    free_state(sp);
    return -1;
}

struct csp_warn {
    struct static_plugin *sp;
    char *suggest; /* made for the first page that needs it */
    unsigned pages;
};

/* One page whose inline code the policy blocks: the browser will not run
 * it, and nothing else tells the operator why the page does nothing. */
static void
warn_inline(void *data, const char *path, const st_inline_report_t *r)
{
    struct csp_warn *w = data;
    if (w->pages++ >= CSP_WARN_MAX)
        return;
    if (w->suggest == NULL)
        w->suggest = st_csp_suggest(w->sp->csp);
    char what[160] = "", names[3 * 26 + 8] = "";
    for (unsigned i = 0; i < r->nnames; i++)
        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i != 0 ? ", " : "", r->names[i]);
    if (r->handlers != 0)
        snprintf(what, sizeof(what), "%u inline event handler%s (%s%s)", r->handlers, r->handlers != 1 ? "s" : "", names,
                 r->handlers > r->nnames ? ", ..." : "");
    if (r->scripts != 0)
        snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%u inline script%s", r->handlers != 0 ? " and " : "",
                 r->scripts, r->scripts != 1 ? "s" : "");
    w->sp->host->log(w->sp->self, TALE_LOG_WARN,
                     "%s: the csp setting blocks %s, and browsers will not run that code; for this web folder set csp: \"%s\"",
                     path, what, w->suggest);
}

static int
static_start(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    struct static_plugin *sp = state;
    const tale_story_info_t *info = sp->host->story_info(self);
    if (info != NULL && info->resources_dir != NULL && info->resources_dir[0] != '\0') {
        char why[256];
        if ((sp->resources_root = canonical_dir(info->resources_dir, why, sizeof(why), "story resources")) == NULL)
            sp->host->log(self, TALE_LOG_WARN, "%s; /tale/static/resources/ will answer 404", why);
    }
    for (int i = 0; i < ROUTE_COUNT; i++) {
        sp->mounts[i].sp = sp;
        sp->mounts[i].spec = &routes[i];
        if (sp->host->mount(self, routes[i].path, on_mount, &sp->mounts[i]) != 0)
            return -1; /* the host wrote which path clashed */
    }
    sp->host->log(self, TALE_LOG_INFO, "serving %s at /tale/static/ and pages at /tale/", sp->web_root);
    struct csp_warn w = {sp, NULL, 0};
    st_csp_scan_dir(sp->web_root, sp->csp, warn_inline, &w);
    if (w.pages > CSP_WARN_MAX)
        sp->host->log(self, TALE_LOG_WARN, "%u more pages below %s have inline code the csp setting blocks", w.pages - CSP_WARN_MAX,
                      sp->web_root);
    free(w.suggest);
    return 0;
}

/* Static answers are short-lived requests that h2o finishes on its own. */
static void
static_stop(tale_plugin_t *self, void *state)
{
}

static void
static_destroy(tale_plugin_t *self, void *state)
{
    free_state(state);
}

static const tale_plugin_desc_t desc = {TALE_PLUGIN_DESC_HEADER, "static", "1.0", static_init, static_start, static_stop,
                                        static_destroy};

TALE_EXPORT const tale_plugin_desc_t *
TALE_PLUGIN_ENTRY(void)
{
    return &desc;
}
