/*
 * access.c - the Host and Origin checks (access.h).
 *
 * Host: a browser tricked by DNS rebinding sends the attacker's name in Host,
 * so a name must be one the operator gave (allowed_hosts, or a listener's
 * host) or "localhost".  IP literals always pass: rebinding needs a name, and
 * a literal can only reach us if it is one of our own addresses.
 *
 * Origin: browsers send it on WebSocket handshakes, on cross-origin fetches
 * and on POSTs.  A request with no Origin is not from a cross-site page (or
 * not from a browser at all) and passes; one with an Origin passes when its
 * scheme://host[:port] names the same authority as Host, or is listed in
 * allowed_origins.  "null" (sandboxed frames, file: pages) never matches.
 */
#include "access.h"
#include <string.h>

/* Equal ignoring ASCII case; byte by byte, so a NUL inside a header does not
 * end the comparison early (strncasecmp would). */
static int
equal_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if ((x >= 'A' && x <= 'Z' ? x + 32 : x) != (y >= 'A' && y <= 'Z' ? y + 32 : y))
            return 0;
    }
    return 1;
}

/* The name part of a Host value: "[::1]:80" -> "[::1]", "a.b:80" -> "a.b". */
static size_t
host_name_len(const char *host, size_t len)
{
    if (len > 0 && host[0] == '[') {
        const char *close = memchr(host, ']', len);
        return close != NULL ? (size_t)(close - host) + 1 : len;
    }
    const char *colon = memchr(host, ':', len);
    return colon != NULL ? (size_t)(colon - host) : len;
}

/* `name` matches an allowed_hosts entry: exact, "*", or "*.suffix". */
static int
name_matches(const char *entry, const char *name, size_t len)
{
    size_t elen = strlen(entry);
    if (elen == 1 && entry[0] == '*')
        return 1;
    if (elen > 2 && entry[0] == '*' && entry[1] == '.')
        return len > elen - 1 && equal_ci(name + len - (elen - 1), elen - 1, entry + 1, elen - 1);
    return equal_ci(name, len, entry, elen);
}

static int
host_allowed(const tale_config_t *cfg, const char *host, size_t len)
{
    if (len == 0) /* HTTP/1.0 without Host: not a browser */
        return 1;
    size_t nlen = host_name_len(host, len);
    tale_addr_t a;
    if (nlen > 0 && tale_addr_parse(&a, host, nlen) == 0)
        return 1;
    if (equal_ci(host, nlen, "localhost", 9))
        return 1;
    for (size_t i = 0; i < cfg->n_allowed_hosts; i++)
        if (name_matches(cfg->allowed_hosts[i], host, nlen))
            return 1;
    for (size_t i = 0; i < cfg->n_listeners; i++)
        if (equal_ci(host, nlen, cfg->listeners[i].host, strlen(cfg->listeners[i].host)))
            return 1;
    return 0;
}

static int
origin_allowed(const tale_config_t *cfg, const char *origin, size_t olen, const char *host, size_t hlen)
{
    for (size_t i = 0; i < cfg->n_allowed_origins; i++) {
        const char *o = cfg->allowed_origins[i];
        if (strcmp(o, "*") == 0 || equal_ci(origin, olen, o, strlen(o)))
            return 1;
    }
    const char *sep = olen >= 3 ? memmem(origin, olen, "://", 3) : NULL;
    if (sep == NULL || hlen == 0)
        return 0;
    const char *authority = sep + 3;
    return equal_ci(authority, olen - (size_t)(authority - origin), host, hlen);
}

int
tale_access_check(const tale_config_t *cfg, const char *host, size_t host_len, const char *origin, size_t origin_len,
                  const char **why)
{
    if (!host_allowed(cfg, host, host_len)) {
        *why = "this server does not answer to that host name (see allowed_hosts)";
        return 403;
    }
    if (origin != NULL && !origin_allowed(cfg, origin, origin_len, host, host_len)) {
        *why = "cross-origin request refused (see allowed_origins)";
        return 403;
    }
    return 0;
}
