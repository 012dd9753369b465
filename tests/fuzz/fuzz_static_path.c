/*
 * fuzz_static_path.c - the static plugin's request-path check
 * (st_path_traversal_reason, plugins/static/page.c) on any request target,
 * decoded by h2o's own normaliser as the server does, and its page
 * template renderer (st_page_render) on any placeholder value and template.
 *
 * Promises checked (page.h): a path passed as clean has no "..", no
 * backslash, no control or overlong bytes and no encoded dot, slash,
 * backslash or NUL before its query; its decoded form is absolute, keeps no
 * dot-dot segment and no escape.  A placeholder value renders escaped.
 */
#include "fuzz_common.h"
#include "page.h"

#include <ctype.h>
#include <h2o.h>

/* The byte a "%XX" escape at s[i] stands for, or -1 when there is none. */
static int
escape_at(const uint8_t *s, size_t n, size_t i)
{
    if (s[i] != '%' || i + 2 >= n || !isxdigit(s[i + 1]) || !isxdigit(s[i + 2]))
        return -1;
    char h[3] = {(char)s[i + 1], (char)s[i + 2], 0};
    return (int)strtol(h, NULL, 16);
}

static void
check_path(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    size_t query_at = SIZE_MAX, *norm = NULL;
    h2o_iovec_t dec = h2o_url_normalize_path(&pool, (const char *)data, size, &query_at, &norm);
    const char *why = st_path_traversal_reason((const char *)data, size, dec.base, dec.len);
    if (why == NULL) {
        const uint8_t *q = memchr(data, '?', size);
        size_t n = q ? (size_t)(q - data) : size;
        for (size_t i = 0; i < n; i++) {
            uint8_t c = data[i];
            FUZZ_CHECK(!(c == '.' && i + 1 < n && data[i + 1] == '.'), "a clean path with '..'");
            FUZZ_CHECK(c != '\\' && c >= 0x20 && c != 0x7f && c != 0xc0 && c != 0xc1, "a clean path with byte 0x%02x", c);
            int e = escape_at(data, n, i);
            FUZZ_CHECK(e != '.' && e != '/' && e != '\\' && e != 0, "a clean path with an encoded 0x%02x", e);
        }
        FUZZ_CHECK(dec.len > 0 && dec.base[0] == '/', "a clean path that decodes to a relative one");
        for (size_t i = 0; i < dec.len; i++) {
            FUZZ_CHECK(dec.base[i] != '\\', "a backslash in a clean decoded path");
            FUZZ_CHECK(escape_at((const uint8_t *)dec.base, dec.len, i) < 0, "an escape left in a clean decoded path");
            if (dec.base[i] == '/' && i + 2 < dec.len && dec.base[i + 1] == '.' && dec.base[i + 2] == '.')
                FUZZ_CHECK(i + 3 < dec.len && dec.base[i + 3] != '/', "a dot-dot segment in a clean decoded path");
        }
    }
    h2o_mem_clear_pool(&pool);
}

static void
check_render(const uint8_t *data, size_t size)
{
    char *value = strndup((const char *)data, size); /* values are C strings: up to a NUL */
    if (value == NULL)
        abort();
    st_page_var_t var = {"x", value};
    size_t len = 0;
    char *out = st_page_render("<p>{x}</p>", 10, &var, 1, &len);
    FUZZ_CHECK(out != NULL && len >= 7 && memcmp(out, "<p>", 3) == 0 && memcmp(out + len - 4, "</p>", 4) == 0,
               "the template around a value was not kept");
    for (size_t i = 3; i < len - 4; i++)
        FUZZ_CHECK(out[i] != '<' && out[i] != '>' && out[i] != '"' && out[i] != '\'', "an unescaped value: %s", out);
    FUZZ_CHECK(strlen(out) == len, "a rendered page with a NUL inside or a wrong length");
    free(out);

    /* the input as a template, with values that need escaping */
    st_page_var_t vars[] = {{"title", "<script>x</script>"}, {"x", "a&b"}, {"name", NULL}};
    out = st_page_render((const char *)data, size, vars, 3, &len);
    FUZZ_CHECK(out != NULL, "rendering failed");
    FUZZ_CHECK(len <= size * 20 + 64, "%zu bytes rendered from %zu", len, size);
    free(out);
    free(value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_path(data, size);
    check_render(data, size);
    return 0;
}
