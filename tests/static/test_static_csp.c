/*
 * test_static_csp.c - the static plugin's check of inline scripts and
 * handlers against its csp setting (plugins/static/csp.c): what each policy
 * blocks, the setting it suggests, and the walk over a web root shaped like
 * LlamaTale's (inline handlers: warned) and over ours (no warning).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csp.h"

#define DEFAULT_CSP "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'"

static st_inline_report_t
check(const char *policy, const char *html)
{
    st_inline_report_t r;
    st_csp_check_html(policy, html, strlen(html), &r);
    return r;
}

static void
handlers_and_inline_scripts_are_found(void **unused)
{
    st_inline_report_t r = check(DEFAULT_CSP, "<body onload=\"setup()\"><a href=# onClick='go()'>x</a><i onload=setup()>"
                                              "<input onkeydown = \"k(event)\"><b data-onclick=\"no\" one=\"no\" on=\"no\">"
                                              "<script>var x = 1;</script></body>");
    assert_int_equal(r.handlers, 4);
    assert_int_equal(r.scripts, 1);
    assert_int_equal(r.nnames, 3);
    assert_string_equal(r.names[0], "onload");
    assert_string_equal(r.names[1], "onclick");
    assert_string_equal(r.names[2], "onkeydown");

    /* not inline code: external scripts, data blocks, empty scripts, comments, text, script text */
    r = check(DEFAULT_CSP, "<!-- <a onclick=\"x()\"> <script>bad()</script> --><script src=\"a.js\"></script>"
                           "<script type=\"application/json\">{\"onclick\": 1}</script><script>  \n</script>"
                           "<p>a onclick=\"x\" in text, 1 < 2</p><script src=a.js>ignored()</script>"
                           "<style>a[onclick=\"x\"] { color: red }</style>"
                           "<script type=module src=m.js></script><script>var s = '<b onclick=\"x()\">';</script>");
    assert_int_equal(r.handlers, 0);
    assert_int_equal(r.scripts, 1); /* only the last one, whose text holds markup-like strings */

    /* a document cut short does not read past its end */
    r = check(DEFAULT_CSP, "<a onclick=\"x");
    assert_int_equal(r.handlers, 1);
    r = check(DEFAULT_CSP, "<script>x()");
    assert_int_equal(r.scripts, 1);
    r = check(DEFAULT_CSP, "<");
    assert_int_equal(r.handlers + r.scripts, 0);
}

static void
policies_are_judged_as_browsers_do(void **unused)
{
    static const char page[] = "<body onload=\"setup()\"><script>alert(1)</script></body>";
    static const struct {
        const char *policy;
        unsigned handlers, scripts;
    } cases[] = {
        {DEFAULT_CSP, 1, 1},
        {"", 0, 0},
        {"img-src 'self'", 0, 0},                                 /* nothing about scripts */
        {"default-src 'self'", 1, 1},                             /* default-src stands in */
        {"default-src 'unsafe-inline'; script-src 'self'", 1, 1}, /* script-src wins over default-src */
        {"default-src 'self'; script-src 'self' 'unsafe-inline'", 0, 0},
        {"script-src 'self' 'UNSAFE-INLINE'", 0, 0},
        {"script-src 'self' 'unsafe-inline' 'nonce-abc'", 1, 1}, /* a nonce voids 'unsafe-inline' */
        {"script-src 'unsafe-inline' 'strict-dynamic'", 1, 1},
        {"script-src 'self'; script-src 'unsafe-inline'", 1, 1},                    /* the first directive counts */
        {"script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='", 1, 0}, /* the script's hash */
        {"script-src 'sha256-4mCWLz1NTsK1t1f1lmIJbwLUc1sNs9NO4UpV1j5qrCw='", 1, 1}, /* the handler's: needs unsafe-hashes */
        {"script-src 'unsafe-hashes' 'sha256-4mCWLz1NTsK1t1f1lmIJbwLUc1sNs9NO4UpV1j5qrCw='", 0, 1},
        {"script-src 'sha256-4mCWLz1NTsK1t1f1lmIJbwLUc1sNs9NO4UpV1j5qrCw=' 'unsafe-hashes'", 0, 1},
        {"script-src 'self'; script-src-attr 'unsafe-inline'", 0, 1},
        {"script-src 'self'; script-src-elem 'unsafe-inline'", 1, 0},
        {"script-src 'unsafe-inline', default-src 'self'", 1, 1}, /* two policies: both must allow */
        {";;; script-src 'unsafe-inline' ;", 0, 0},
        {"script-src 'none'", 1, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        st_inline_report_t r = check(cases[i].policy, page);
        if (r.handlers != cases[i].handlers || r.scripts != cases[i].scripts)
            fail_msg("policy \"%s\": %u handlers and %u scripts blocked, want %u and %u", cases[i].policy, r.handlers, r.scripts,
                     cases[i].handlers, cases[i].scripts);
    }
    st_inline_report_t r = check("script-src 'nonce-abc'", "<script nonce=\"abc\">a()</script><script nonce=\"x\">b()</script>");
    assert_int_equal(r.scripts, 1);
    r = check("script-src 'sha384-yJm9LNLC+d3VNrFlJ3MOyvWrAf828b9rQbbOAeD3g1TufrGP9qsj4S3gXO4pZK7o'",
              "<script>\n    var tale_autoscroll = true;\n</script>");
    assert_int_equal(r.scripts, 0);
}

static void
the_suggested_setting_allows_the_page(void **unused)
{
    static const struct {
        const char *policy, *suggested;
    } cases[] = {
        {DEFAULT_CSP, "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'unsafe-inline'; "
                      "connect-src 'self'"},
        {"default-src 'self'", "default-src 'self'; script-src 'self' 'unsafe-inline'"},
        {"script-src 'nonce-abc' 'strict-dynamic' https:", "script-src https: 'unsafe-inline'"},
        {"script-src 'none'", "script-src 'unsafe-inline'"},
        {"default-src 'self'; script-src-elem 'self'", "default-src 'self'; script-src-elem 'self' 'unsafe-inline'; script-src "
                                                       "'self' 'unsafe-inline'"},
    };
    static const char page[] = "<body onload=\"setup()\"><script>alert(1)</script></body>";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = st_csp_suggest(cases[i].policy);
        assert_string_equal(s, cases[i].suggested);
        st_inline_report_t r = check(s, page);
        assert_int_equal(r.handlers + r.scripts, 0);
        free(s);
    }
}

struct seen {
    char paths[8][512];
    st_inline_report_t reports[8];
    unsigned n;
};

static void
collect(void *data, const char *path, const st_inline_report_t *r)
{
    struct seen *s = data;
    assert_true(s->n < 8);
    snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
    s->reports[s->n++] = *r;
}

static const st_inline_report_t *
find(struct seen *s, const char *suffix)
{
    for (unsigned i = 0; i < s->n; i++) {
        size_t n = strlen(s->paths[i]), k = strlen(suffix);
        if (n >= k && strcmp(s->paths[i] + n - k, suffix) == 0)
            return &s->reports[i];
    }
    fail_msg("no warning for %s", suffix);
    return NULL;
}

static void
a_llamatale_web_root_is_warned_about_and_ours_is_not(void **unused)
{
    struct seen s = {0};
    unsigned files = st_csp_scan_dir(TALE_SOURCE_DIR "/tests/static/fixtures/llamatale-web", DEFAULT_CSP, collect, &s);
    assert_int_equal(files, 3);
    assert_int_equal(s.n, 3);
    const st_inline_report_t *story = find(&s, "/llamatale-web/story.html");
    assert_int_equal(story->handlers, 4);
    assert_int_equal(story->scripts, 1);
    assert_string_equal(story->names[0], "onload");
    const st_inline_report_t *index = find(&s, "/llamatale-web/index.html");
    assert_int_equal(index->handlers, 1);
    assert_int_equal(index->scripts, 0);
    assert_int_equal(find(&s, "/llamatale-web/help/commands.htm")->handlers, 1);

    /* relaxed as suggested: quiet */
    char *relaxed = st_csp_suggest(DEFAULT_CSP);
    memset(&s, 0, sizeof(s));
    st_csp_scan_dir(TALE_SOURCE_DIR "/tests/static/fixtures/llamatale-web", relaxed, collect, &s);
    assert_int_equal(s.n, 0);
    free(relaxed);

    /* the bundled client: every page checked, none warned about */
    memset(&s, 0, sizeof(s));
    assert_true(st_csp_scan_dir(TALE_SOURCE_DIR "/web", DEFAULT_CSP, collect, &s) >= 4);
    assert_int_equal(s.n, 0);
}

/* Cut-off and scrambled markup and policies are judged without reading
 * past their ends (ASan checks that in the sanitizer build), and the
 * suggested setting always lets inline code run. */
static void
arbitrary_input_stays_within_bounds(void **unused)
{
    static const char html_bits[] = "<script onclick=\"'x>/ \t-!</script<!--->style";
    static const char csp_bits[] = "script-src default-src 'unsafe-inline' 'nonce-a' 'sha256-x' ;, 'self'";
    unsigned seed = 5;
    for (int i = 0; i < 20000; i++) {
        size_t hlen = (size_t)(rand_r(&seed) % 60), plen = (size_t)(rand_r(&seed) % 60);
        char *html = malloc(hlen + 1), *policy = malloc(plen + 1);
        for (size_t k = 0; k < hlen; k++)
            html[k] = html_bits[rand_r(&seed) % (sizeof(html_bits) - 1)];
        for (size_t k = 0; k < plen; k++)
            policy[k] = csp_bits[rand_r(&seed) % (sizeof(csp_bits) - 1)];
        html[hlen] = policy[plen] = '\0';
        st_inline_report_t r;
        st_csp_check_html(policy, html, hlen, &r);
        assert_true(r.nnames <= ST_CSP_NAMES && r.nnames <= r.handlers);
        char *relaxed = st_csp_suggest(policy);
        st_csp_check_html(relaxed, html, hlen, &r);
        if (strchr(policy, ',') == NULL) /* the suggestion treats the value as one policy */
            assert_int_equal(r.handlers + r.scripts, 0);
        free(relaxed);
        free(html);
        free(policy);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handlers_and_inline_scripts_are_found),
        cmocka_unit_test(policies_are_judged_as_browsers_do),
        cmocka_unit_test(the_suggested_setting_allows_the_page),
        cmocka_unit_test(a_llamatale_web_root_is_warned_about_and_ours_is_not),
        cmocka_unit_test(arbitrary_input_stays_within_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
