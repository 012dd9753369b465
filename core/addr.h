/*
 * addr.h - client addresses: IPv4 and IPv6 in one comparable form, address
 * ranges (CIDR) for trusted_proxies, and the parsing of X-Forwarded-For and
 * Forwarded.  Pure functions: no sockets, no h2o, no allocation.
 */
#ifndef TALE_ADDR_H
#define TALE_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TALE_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* An IP address.  IPv4, and IPv4-mapped IPv6 (::ffff:a.b.c.d), are both kept
 * as family AF_INET in bytes[0..3], so one client counts once whichever way
 * the socket reported it. */
typedef struct tale_addr {
    uint8_t family; /* AF_INET, AF_INET6, or 0: unknown (e.g. a Unix socket) */
    uint8_t bytes[16];
} tale_addr_t;

/* An address range: `prefix` leading bits of `addr` (32 or 128 for one address). */
typedef struct tale_cidr {
    tale_addr_t addr;
    unsigned prefix;
} tale_cidr_t;

/* From a socket address; 0, or -1 (out->family = 0) for other families. */
int tale_addr_from_sockaddr(tale_addr_t *out, const struct sockaddr *sa, socklen_t len);
/* A literal address: "1.2.3.4", "::1", "[::1]"; 0 or -1. */
int tale_addr_parse(tale_addr_t *out, const char *s, size_t len);
/* "1.2.3.4" or "2001:db8::1" ("unknown" for family 0). */
void tale_addr_format(const tale_addr_t *a, char out[TALE_ADDR_STRLEN]);
int tale_addr_equal(const tale_addr_t *a, const tale_addr_t *b);
/* A hash of the address mixed with `seed` (pick it at random: clients choose their addresses). */
uint64_t tale_addr_hash(const tale_addr_t *a, uint64_t seed);

/* "10.0.0.0/8", "::1", "fd00::/8"; 0 or -1. */
int tale_cidr_parse(tale_cidr_t *out, const char *s);
/* 1 when `a` lies in any of the n ranges. */
int tale_cidr_match(const tale_cidr_t *list, size_t n, const tale_addr_t *a);

/*
 * The client behind a chain of trusted proxies.  `peer` is the TCP peer; when
 * it is trusted, the hops named by X-Forwarded-For (comma-separated, possibly
 * several headers joined with ",") or by Forwarded's `for=` are walked from the
 * right, skipping trusted ones: the first untrusted hop is the client.  A hop
 * that does not parse as an address stops the walk at the last good one.
 * Returns the peer itself when it is not trusted or no header is given.
 */
void tale_addr_client(tale_addr_t *out, const tale_addr_t *peer, const tale_cidr_t *trusted, size_t ntrusted, const char *xff,
                      size_t xff_len, const char *forwarded, size_t fwd_len);

#endif
