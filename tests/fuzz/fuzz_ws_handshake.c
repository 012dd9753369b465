/*
 * fuzz_ws_handshake.c - what the ws plugin reads from a handshake request
 * before upgrading: the ?resume=<seq> query (parse_resume) and the Origin
 * check against cross-site WebSocket hijacking (origin_allowed), both static
 * in plugins/ws/ws.c, so that file is compiled in (as in fuzz_ws_input.c).
 *
 * An input is "TARGET\nORIGIN\nAUTHORITY" (a missing line: no Origin header,
 * no authority).  Promises checked (PROTOCOL.md, ws.c): a resume that parses
 * is the value of the last resume= pair, digits only and within 64 bits,
 * and 0 without one; with no allowed_origins configured, a handshake passes
 * the origin check only without an Origin header or when the Origin names
 * the requested host itself (and a same-origin one does pass).
 */
#include "../../plugins/ws/ws.c"

#include "fuzz_common.h"

#include <errno.h>
#include <ctype.h>

static void
check_resume(h2o_req_t *req)
{
    uint64_t out = 12345;
    int rc = parse_resume(req, &out);
    FUZZ_CHECK(rc == 0 || rc == -1, "parse_resume returned %d", rc);
    if (rc != 0)
        return;
    /* find the last resume= pair ourselves */
    const char *last = NULL, *last_end = NULL;
    if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
        while (q <= end) {
            const char *amp = memchr(q, '&', (size_t)(end - q));
            const char *pend = amp ? amp : end;
            if (pend - q >= 7 && memcmp(q, "resume=", 7) == 0) {
                last = q + 7;
                last_end = pend;
            }
            if (!amp)
                break;
            q = amp + 1;
        }
    }
    if (last == NULL) {
        FUZZ_CHECK(out == 0, "no resume= but a resume of %llu", (unsigned long long)out);
        return;
    }
    char digits[32];
    size_t n = (size_t)(last_end - last);
    FUZZ_CHECK(n > 0 && n < sizeof digits, "an accepted resume value of %zu bytes", n);
    memcpy(digits, last, n);
    digits[n] = 0;
    FUZZ_CHECK(strspn(digits, "0123456789") == n, "an accepted resume value that is not digits: %s", digits);
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, 10);
    FUZZ_CHECK(errno == 0, "an accepted resume value over 64 bits: %s", digits);
    FUZZ_CHECK(v == out, "resume %s parsed as %llu", digits, (unsigned long long)out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size;
    const char *nl1 = memchr(s, '\n', size);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
    size_t target_len = nl1 ? (size_t)(nl1 - s) : size;

    h2o_req_t *req = calloc(1, sizeof *req);
    if (req == NULL)
        abort();
    h2o_mem_init_pool(&req->pool);
    req->path = h2o_iovec_init(s, target_len);
    const char *qm = memchr(s, '?', target_len);
    req->query_at = qm ? (size_t)(qm - s) : SIZE_MAX;
    const char *origin = NULL;
    size_t origin_len = 0;
    if (nl1) {
        origin = nl1 + 1;
        origin_len = nl2 ? (size_t)(nl2 - origin) : (size_t)(end - origin);
        h2o_add_header_by_str(&req->pool, &req->headers, H2O_STRLIT("origin"), 0, NULL, origin, origin_len);
    }
    if (nl2)
        req->input.authority = h2o_iovec_init(nl2 + 1, (size_t)(end - nl2 - 1));

    check_resume(req);

    ws_plugin_t p = {0};
    int ok = origin_allowed(&p, req);
    int expect = 1;
    if (origin != NULL) {
        const char *sep = memmem(origin, origin_len, "://", 3);
        size_t alen = req->input.authority.len;
        expect = sep != NULL && alen > 0 && (size_t)(origin + origin_len - (sep + 3)) == alen;
        for (size_t i = 0; expect && i < alen; i++) /* bytewise: a NUL does not end a header */
            expect = tolower((unsigned char)sep[3 + i]) == tolower((unsigned char)req->input.authority.base[i]);
    }
    /* Never a false accept, and never a false refusal (case differences and
     * NUL bytes included). */
    FUZZ_CHECK(!ok || expect, "a foreign origin was let through");
    FUZZ_CHECK(ok || !expect, "a same-origin handshake was refused");

    h2o_mem_clear_pool(&req->pool);
    free(req);
    return 0;
}
