/*
 * test_static.c - the static plugin against the mock host: its pure helpers
 * (templates, path checks) and its routes driven through real sockets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "mock_host.h"
#include "page.h"

/* ---- helpers: pure functions ---- */

static void
render_escapes_values_and_keeps_other_braces(void **unused)
{
    const st_page_var_t vars[] = {{"story_name", "<b>Tom & \"Jerry\"</b>"}, {"uptime", "1:02:03"}, {"story_author", NULL}};
    const char *tpl = "<title>{story_name}</title><style>p { color: red }</style>{unknown}{uptime}{story_author}{";
    size_t len;
    char *out = st_page_render(tpl, strlen(tpl), vars, 3, &len);
    assert_non_null(out);
    assert_string_equal(out, "<title>&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;</title><style>p { color: red }</style>"
                             "{unknown}1:02:03{");
    assert_int_equal(len, strlen(out));
    free(out);
}

static void
uptime_is_hours_minutes_seconds(void **unused)
{
    char buf[32];
    assert_string_equal(st_format_uptime(buf, sizeof(buf), 0), "0:00:00");
    assert_string_equal(st_format_uptime(buf, sizeof(buf), 3600 * 30 + 61), "30:01:01");
}

static void
traversal_spellings_are_refused(void **unused)
{
    static const char *const bad[] = {
        "/tale/static/../../etc/passwd", "/tale/static/%2e%2e/x",       "/tale/static/%2E%2E/x", "/tale/static/.%2e/x",
        "/tale/static/..%2fx",           "/tale/static/a%2Fb",          "/tale/static/..\\x",    "/tale/static/%5c..",
        "/tale/static/a%00.js",          "/tale/static/%c0%ae%c0%ae/x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_non_null(st_path_traversal_reason(bad[i], strlen(bad[i]), "/tale/static/x", 14));
    }
    /* double encoding shows up in the decoded path */
    assert_non_null(st_path_traversal_reason("/tale/static/%252e%252e/x", 25, "/tale/static/%2e%2e/x", 21));
    const char *ok = "/tale/static/style.css?v=1..2";
    assert_null(st_path_traversal_reason(ok, strlen(ok), "/tale/static/style.css", 22));
    assert_null(st_path_traversal_reason("/tale/static/my%20file.png", 26, "/tale/static/my file.png", 24));
}

static void
below_and_hidden_checks(void **unused)
{
    assert_true(st_path_is_below("/srv/web", "/srv/web/a.css"));
    assert_true(st_path_is_below("/srv/web", "/srv/web"));
    assert_false(st_path_is_below("/srv/web", "/srv/website/a.css"));
    assert_false(st_path_is_below("/srv/web", "/etc/passwd"));
    assert_true(st_path_has_hidden_segment(".git/config", 11));
    assert_true(st_path_has_hidden_segment("a/.env", 6));
    assert_false(st_path_has_hidden_segment("a/b.css", 7));
}

/* ---- routes through the mock host ---- */

struct fixture {
    char dir[64];
    char web[128], res[128];
    mock_host_t *m;
    int port;
};

static void
write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    strcpy(fx->dir, "/tmp/tale-static-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->web, sizeof(fx->web), "%s/web", fx->dir);
    snprintf(fx->res, sizeof(fx->res), "%s/resources", fx->dir);
    mkdir(fx->web, 0755);
    mkdir(fx->res, 0755);
    write_file(fx->web, "index.html", "<h1>{story_name}</h1><p>{story_author}</p>");
    write_file(fx->web, "story.html", "<title>{story_name}</title>");
    write_file(fx->web, "style.css", "body { color: black; }\n");
    write_file(fx->dir, "secret.txt", "top secret\n");
    write_file(fx->res, "room.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    char link[256], target[256];
    snprintf(link, sizeof(link), "%s/escape.txt", fx->web);
    snprintf(target, sizeof(target), "%s/secret.txt", fx->dir);
    assert_int_equal(symlink(target, link), 0);

    fx->m = mock_host_new();
    fx->m->story.name = "<script>alert(1)</script>";
    fx->m->story.author = "Ann & Bob";
    fx->m->story.resources_dir = fx->res;
    mock_host_conf_set(fx->m, "web_root", fx->web);
    assert_int_equal(mock_host_init(fx->m, tale_plugin_entry()), 0);
    assert_int_equal(mock_host_start(fx->m), 0);
    fx->port = mock_host_listen(fx->m);
    assert_true(fx->port > 0);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    mock_host_free(fx->m);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* One request on a fresh connection; the whole answer (headers and body) into buf. */
static void
request(struct fixture *fx, const char *method, const char *path, char *buf, size_t cap)
{
    char req[512];
    int fd = mock_connect(fx->port);
    assert_true(fd >= 0);
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s\r\n", method, path,
                     strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    mock_read_until(fx->m, fd, buf, cap, NULL, 3000);
    close(fd);
}

static void
assert_status(const char *resp, int status)
{
    char want[32];
    snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
    if (strncmp(resp, want, strlen(want)) != 0)
        fail_msg("expected %d, got: %.200s", status, resp);
}

static void
root_redirects_and_pages_render_escaped(void **state)
{
    struct fixture *fx = *state;
    char buf[8192];
    request(fx, "GET", "/", buf, sizeof(buf));
    assert_status(buf, 302);
    assert_non_null(strcasestr(buf, "location: /tale/\r\n"));

    request(fx, "GET", "/tale/", buf, sizeof(buf));
    assert_status(buf, 200);
    assert_non_null(strcasestr(buf, "content-type: text/html; charset=utf-8"));
    assert_non_null(strcasestr(buf, "x-content-type-options: nosniff"));
    assert_non_null(strcasestr(buf, "content-security-policy: default-src 'self'"));
    assert_non_null(strstr(buf, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1><p>Ann &amp; Bob</p>"));
    assert_null(strstr(buf, "<script>"));

    request(fx, "GET", "/tale/about", buf, sizeof(buf)); /* no about.html: the built-in page */
    assert_status(buf, 200);
    assert_non_null(strstr(buf, "Tale Host 0.0-mock"));
}

static void
files_are_served_with_types_and_validators(void **state)
{
    struct fixture *fx = *state;
    char buf[8192];
    request(fx, "GET", "/tale/static/style.css", buf, sizeof(buf));
    assert_status(buf, 200);
    assert_non_null(strcasestr(buf, "content-type: text/css; charset=utf-8"));
    assert_non_null(strcasestr(buf, "etag: "));
    assert_non_null(strcasestr(buf, "last-modified: "));
    assert_non_null(strstr(buf, "body { color: black; }"));

    request(fx, "GET", "/tale/static/resources/room.svg", buf, sizeof(buf));
    assert_status(buf, 200);
    assert_non_null(strcasestr(buf, "content-type: image/svg+xml"));
}

static void
traversal_and_symlinks_get_404_and_a_log_line(void **state)
{
    struct fixture *fx = *state;
    char buf[8192];
    request(fx, "GET", "/tale/static/%2e%2e/secret.txt", buf, sizeof(buf));
    assert_status(buf, 404);
    assert_null(strstr(buf, "top secret"));
    assert_true(mock_host_log_has(fx->m, "refused path traversal"));

    request(fx, "GET", "/tale/static/escape.txt", buf, sizeof(buf));
    assert_status(buf, 404);
    assert_null(strstr(buf, "top secret"));
    assert_true(mock_host_log_has(fx->m, "symlink out of"));

    request(fx, "GET", "/tale/static/../secret.txt", buf, sizeof(buf));
    assert_status(buf, 404);
    request(fx, "GET", "/tale/static/nope.css", buf, sizeof(buf));
    assert_status(buf, 404);
    request(fx, "GET", "/nowhere", buf, sizeof(buf));
    assert_status(buf, 404);
    assert_non_null(strcasestr(buf, "x-content-type-options: nosniff"));
}

static void
wrong_methods_get_405(void **state)
{
    struct fixture *fx = *state;
    char buf[8192];
    request(fx, "POST", "/tale/static/style.css", buf, sizeof(buf));
    assert_status(buf, 405);
    assert_non_null(strcasestr(buf, "allow: GET, HEAD"));
    request(fx, "DELETE", "/tale/story", buf, sizeof(buf));
    assert_status(buf, 405);
}

static void
quit_ends_the_cookies_session(void **state)
{
    struct fixture *fx = *state;
    char buf[8192], req[256];
    request(fx, "GET", "/tale/quit", buf, sizeof(buf)); /* no cookie: nothing to end */
    assert_status(buf, 200);
    assert_int_equal(fx->m->session.quit_count, 0);

    /* HEAD shows the page but must not end anything */
    int fd = mock_connect(fx->port);
    int n = snprintf(req, sizeof(req),
                     "HEAD /tale/quit HTTP/1.1\r\nHost: localhost\r\nCookie: tale_session=mock\r\nConnection: close\r\n\r\n");
    assert_int_equal(write(fd, req, (size_t)n), n);
    mock_read_until(fx->m, fd, buf, sizeof(buf), NULL, 3000);
    close(fd);
    assert_status(buf, 200);
    assert_int_equal(fx->m->session.quit_count, 0);

    fd = mock_connect(fx->port);
    n = snprintf(req, sizeof(req),
                 "GET /tale/quit HTTP/1.1\r\nHost: localhost\r\nCookie: a=b; tale_session=mock\r\nConnection: close\r\n\r\n");
    assert_int_equal(write(fd, req, (size_t)n), n);
    mock_read_until(fx->m, fd, buf, sizeof(buf), NULL, 3000);
    close(fd);
    assert_status(buf, 200);
    assert_non_null(strstr(buf, "Goodbye"));
    assert_int_equal(fx->m->session.quit_count, 1);
}

static void
unknown_config_key_is_refused(void **unused)
{
    mock_host_t *m = mock_host_new();
    mock_host_conf_set(m, "web_root", "/tmp");
    mock_host_conf_set(m, "webroot", "/tmp");
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    assert_non_null(strstr(m->err, "webroot"));
    mock_host_free(m);

    m = mock_host_new();
    mock_host_conf_set(m, "web_root", "/nonexistent/web");
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    assert_non_null(strstr(m->err, "/nonexistent/web"));
    mock_host_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_escapes_values_and_keeps_other_braces),
        cmocka_unit_test(uptime_is_hours_minutes_seconds),
        cmocka_unit_test(traversal_spellings_are_refused),
        cmocka_unit_test(below_and_hidden_checks),
        cmocka_unit_test(unknown_config_key_is_refused),
        cmocka_unit_test_setup_teardown(root_redirects_and_pages_render_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(files_are_served_with_types_and_validators, setup, teardown),
        cmocka_unit_test_setup_teardown(traversal_and_symlinks_get_404_and_a_log_line, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_methods_get_405, setup, teardown),
        cmocka_unit_test_setup_teardown(quit_ends_the_cookies_session, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
