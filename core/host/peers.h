/*
 * peers.h - per-client-address counters: open connections (server.c), open
 * seats and the new-seat rate (session.c).  A hash table keyed by address,
 * O(1) per lookup; an entry lives while any counter holds it.
 */
#ifndef TALE_PEERS_H
#define TALE_PEERS_H

#include "addr.h"
#include <stddef.h>
#include <stdint.h>

typedef struct tale_peer {
    struct tale_peer *next; /* hash chain */
    tale_addr_t addr;
    uint32_t conns;     /* accepted TCP connections still open (server.c) */
    uint32_t seats;     /* seats created for this client and still open (session.c) */
    double seat_tokens; /* new-seat token bucket (session.c); valid once seat_refilled_ms != 0 */
    uint64_t seat_refilled_ms;
} tale_peer_t;

typedef struct tale_peers tale_peers_t;

tale_peers_t *tale_peers_new(void);
void tale_peers_free(tale_peers_t *pp);
/* The entry for `a`, created (all counters 0) when missing; never NULL. */
tale_peer_t *tale_peers_get(tale_peers_t *pp, const tale_addr_t *a);
/* The entry for `a`, or NULL. */
tale_peer_t *tale_peers_find(tale_peers_t *pp, const tale_addr_t *a);
/* Forget `p` once nothing holds it (no connection, no seat).  Its new-seat
 * bucket goes with it: a client that holds no connection and no seat starts
 * afresh, which the per-address seat cap still bounds. */
void tale_peers_release(tale_peers_t *pp, tale_peer_t *p);
size_t tale_peers_count(const tale_peers_t *pp);

#endif
