/*
 * addr.c - client addresses, address ranges and forwarded-for chains (addr.h).
 */
#include "addr.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void
set_v4(tale_addr_t *out, const void *four)
{
    memset(out, 0, sizeof(*out));
    out->family = AF_INET;
    memcpy(out->bytes, four, 4);
}

static void
set_v6(tale_addr_t *out, const uint8_t sixteen[16])
{
    if (memcmp(sixteen, v4mapped, sizeof(v4mapped)) == 0) {
        set_v4(out, sixteen + 12);
        return;
    }
    memset(out, 0, sizeof(*out));
    out->family = AF_INET6;
    memcpy(out->bytes, sixteen, 16);
}

int
tale_addr_from_sockaddr(tale_addr_t *out, const struct sockaddr *sa, socklen_t len)
{
    if (sa != NULL && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        set_v4(out, &((const struct sockaddr_in *)sa)->sin_addr);
        return 0;
    }
    if (sa != NULL && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        set_v6(out, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return -1;
}

int
tale_addr_parse(tale_addr_t *out, const char *s, size_t len)
{
    char buf[TALE_ADDR_STRLEN];
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }
    /* a NUL inside would end the copy early: "[::\0junk]" is not "::" */
    if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    uint8_t raw[16];
    if (inet_pton(AF_INET, buf, raw) == 1) {
        set_v4(out, raw);
        return 0;
    }
    if (inet_pton(AF_INET6, buf, raw) == 1) {
        set_v6(out, raw);
        return 0;
    }
    return -1;
}

void
tale_addr_format(const tale_addr_t *a, char out[TALE_ADDR_STRLEN])
{
    if (a->family == AF_INET || a->family == AF_INET6) {
        if (inet_ntop(a->family, a->bytes, out, TALE_ADDR_STRLEN) != NULL)
            return;
    }
    snprintf(out, TALE_ADDR_STRLEN, "unknown");
}

int
tale_addr_equal(const tale_addr_t *a, const tale_addr_t *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

/* FNV-1a over the seed, the family and the address bytes. */
uint64_t
tale_addr_hash(const tale_addr_t *a, uint64_t seed)
{
    uint64_t h = (1469598103934665603ull ^ seed) * 1099511628211ull ^ a->family;
    size_t n = a->family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < n; i++) {
        h ^= a->bytes[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

int
tale_cidr_parse(tale_cidr_t *out, const char *s)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
    if (tale_addr_parse(&out->addr, s, alen) != 0)
        return -1;
    unsigned max = out->addr.family == AF_INET ? 32 : 128;
    out->prefix = max;
    if (slash != NULL) {
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || v > max)
            return -1;
        out->prefix = (unsigned)v;
    }
    return 0;
}

static int
cidr_contains(const tale_cidr_t *c, const tale_addr_t *a)
{
    if (c->addr.family != a->family)
        return 0;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr.bytes, a->bytes, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr.bytes[full] & mask) == (a->bytes[full] & mask);
}

int
tale_cidr_match(const tale_cidr_t *list, size_t n, const tale_addr_t *a)
{
    for (size_t i = 0; i < n; i++)
        if (cidr_contains(&list[i], a))
            return 1;
    return 0;
}

/* Trim spaces and tabs off both ends of [*s, *s + *len). */
static void
trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* One X-Forwarded-For hop: an address, perhaps with a port ("1.2.3.4:5",
 * "[::1]:5"); a bare IPv6 address has no port. */
static int
parse_hop(tale_addr_t *out, const char *s, size_t len)
{
    trim(&s, &len);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    if (tale_addr_parse(out, s, len) == 0)
        return 0;
    const char *colon = len > 0 ? memchr(s, ':', len) : NULL;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        return close != NULL ? tale_addr_parse(out, s, (size_t)(close - s) + 1) : -1;
    }
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)) == NULL)
        return tale_addr_parse(out, s, (size_t)(colon - s));
    return -1;
}

/* The `for=` value of one Forwarded element ("for=1.2.3.4;proto=https"). */
static int
forwarded_for(const char *s, size_t len, const char **v, size_t *vlen)
{
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        int quoted = 0;
        while (i < len && (quoted || s[i] != ';')) {
            if (s[i] == '"')
                quoted = !quoted;
            i++;
        }
        const char *pair = s + start;
        size_t plen = i - start;
        trim(&pair, &plen);
        if (plen > 4 && strncasecmp(pair, "for=", 4) == 0) {
            *v = pair + 4;
            *vlen = plen - 4;
            return 0;
        }
        i++;
    }
    return -1;
}

void
tale_addr_client(tale_addr_t *out, const tale_addr_t *peer, const tale_cidr_t *trusted, size_t ntrusted, const char *xff,
                 size_t xff_len, const char *forwarded, size_t fwd_len)
{
    *out = *peer;
    if (ntrusted == 0 || !tale_cidr_match(trusted, ntrusted, peer))
        return;
    int use_fwd = forwarded != NULL && fwd_len > 0;
    const char *list = use_fwd ? forwarded : xff;
    size_t len = use_fwd ? fwd_len : xff_len;
    if (list == NULL)
        return;
    /* From the right: each hop was appended by the proxy before it.  Commas
     * inside a quoted Forwarded value do not split elements. */
    size_t end = len;
    while (end > 0) {
        size_t start = end;
        int quoted = 0;
        while (start > 0 && (quoted || list[start - 1] != ',')) {
            if (list[start - 1] == '"')
                quoted = !quoted;
            start--;
        }
        const char *hop = list + start;
        size_t hlen = end - start;
        tale_addr_t a;
        if (use_fwd && forwarded_for(hop, hlen, &hop, &hlen) != 0)
            return;
        if (parse_hop(&a, hop, hlen) != 0)
            return;
        *out = a;
        if (!tale_cidr_match(trusted, ntrusted, &a))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}
