/*
 * fuzz_ws_handshake.c - what is read from a handshake request before the
 * upgrade: the ?resume=<seq> query (ws_parse_resume, plugins/ws/proto.c) and
 * the host's Host and Origin checks against DNS rebinding and cross-site
 * WebSocket hijacking (tale_access_check, core/host/access.c), which every
 * transport's requests go through.
 *
 * An input is "TARGET\nORIGIN\nAUTHORITY" (a missing line: no Origin header,
 * no authority).  Promises checked (docs/PROTOCOL.md, access.h): a resume
 * that parses is the value of the last resume= pair, digits only and within
 * 64 bits, and 0 without one; with no allowed_hosts or allowed_origins
 * configured, a request passes only when its Host is empty, "localhost" or an
 * IP literal (port aside), and its Origin is absent or names that Host
 * itself; and every such request does pass.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "access.h"
#include "proto.h"

#include "fuzz_common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>

static void
check_resume(const char *query, size_t len)
{
    uint64_t out = 12345;
    int rc = ws_parse_resume(query, len, &out);
    FUZZ_CHECK(rc == 0 || rc == -1, "ws_parse_resume returned %d", rc);
    if (rc != 0)
        return;
    /* find the last resume= pair ourselves */
    const char *last = NULL, *last_end = NULL;
    const char *q = query, *end = query + len;
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

/* The oracle's own reading of a Host: name part (brackets kept for IPv6),
 * then "localhost" or an IP literal. */
static int
host_expected(const char *h, size_t len)
{
    if (len == 0)
        return 1;
    size_t n = len;
    if (h[0] == '[') {
        const char *close = memchr(h, ']', len);
        n = close ? (size_t)(close - h) + 1 : len;
    } else {
        const char *colon = memchr(h, ':', len);
        n = colon ? (size_t)(colon - h) : len;
    }
    char buf[64];
    if (n == 9) {
        for (size_t i = 0; i < 9; i++)
            buf[i] = (char)tolower((unsigned char)h[i]);
        if (memcmp(buf, "localhost", 9) == 0)
            return 1;
    }
    const char *lit = h;
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        lit++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof buf || memchr(lit, '\0', n) != NULL)
        return 0;
    memcpy(buf, lit, n);
    buf[n] = 0;
    unsigned char raw[16];
    return inet_pton(AF_INET, buf, raw) == 1 || inet_pton(AF_INET6, buf, raw) == 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size;
    const char *nl1 = memchr(s, '\n', size);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
    size_t target_len = nl1 ? (size_t)(nl1 - s) : size;

    const char *qm = memchr(s, '?', target_len);
    if (qm != NULL)
        check_resume(qm + 1, target_len - (size_t)(qm + 1 - s));

    const char *origin = NULL, *authority = "";
    size_t origin_len = 0, alen = 0;
    if (nl1) {
        origin = nl1 + 1;
        origin_len = nl2 ? (size_t)(nl2 - origin) : (size_t)(end - origin);
    }
    if (nl2) {
        authority = nl2 + 1;
        alen = (size_t)(end - authority);
    }
    static tale_config_t cfg; /* no listeners, no allowed_hosts or allowed_origins */
    const char *why = NULL;
    int ok = tale_access_check(&cfg, authority, alen, origin, origin_len, &why) == 0;
    FUZZ_CHECK(ok || why != NULL, "a refusal without a reason");
    int expect = host_expected(authority, alen);
    if (expect && origin != NULL) {
        const char *sep = memmem(origin, origin_len, "://", 3);
        expect = sep != NULL && alen > 0 && (size_t)(origin + origin_len - (sep + 3)) == alen;
        for (size_t i = 0; expect && i < alen; i++) /* bytewise: a NUL does not end a header */
            expect = tolower((unsigned char)sep[3 + i]) == tolower((unsigned char)authority[i]);
    }
    /* Never a false accept, and never a false refusal (case differences and
     * NUL bytes included). */
    FUZZ_CHECK(!ok || expect, "a foreign host or origin was let through");
    FUZZ_CHECK(ok || !expect, "a same-origin request to an IP literal or localhost was refused");
    return 0;
}
