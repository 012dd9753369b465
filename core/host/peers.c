/*
 * peers.c - the per-address table (peers.h).  Chained hashing, doubled when
 * the load passes 1; entries are freed as soon as nothing counts on them, so
 * the table holds at most one entry per open connection or seat.
 */
#include "peers.h"
#include <tale/alloc.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct tale_peers {
    tale_peer_t **slots;
    size_t nslots; /* a power of two */
    size_t count;
    uint64_t seed; /* random: a client picks its source address, not where it lands */
};

tale_peers_t *
tale_peers_new(void)
{
    tale_peers_t *pp = tale_xcalloc(1, sizeof(*pp));
    pp->nslots = 64;
    if (RAND_bytes((unsigned char *)&pp->seed, sizeof(pp->seed)) != 1)
        pp->seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
    pp->slots = tale_xcalloc(pp->nslots, sizeof(*pp->slots));
    return pp;
}

void
tale_peers_free(tale_peers_t *pp)
{
    if (pp == NULL)
        return;
    for (size_t i = 0; i < pp->nslots; i++)
        for (tale_peer_t *p = pp->slots[i], *next; p != NULL; p = next) {
            next = p->next;
            free(p);
        }
    free(pp->slots);
    free(pp);
}

static tale_peer_t **
slot_of(const tale_peers_t *pp, const tale_addr_t *a)
{
    return &pp->slots[tale_addr_hash(a, pp->seed) & (pp->nslots - 1)];
}

tale_peer_t *
tale_peers_find(tale_peers_t *pp, const tale_addr_t *a)
{
    for (tale_peer_t *p = *slot_of(pp, a); p != NULL; p = p->next)
        if (tale_addr_equal(&p->addr, a))
            return p;
    return NULL;
}

/* Double the table: chains stay short as clients come and go. */
static void
grow(tale_peers_t *pp)
{
    size_t n = pp->nslots * 2;
    tale_peer_t **slots = tale_xcalloc(n, sizeof(*slots));
    for (size_t i = 0; i < pp->nslots; i++)
        for (tale_peer_t *p = pp->slots[i], *next; p != NULL; p = next) {
            next = p->next;
            tale_peer_t **s = &slots[tale_addr_hash(&p->addr, pp->seed) & (n - 1)];
            p->next = *s;
            *s = p;
        }
    free(pp->slots);
    pp->slots = slots;
    pp->nslots = n;
}

tale_peer_t *
tale_peers_get(tale_peers_t *pp, const tale_addr_t *a)
{
    tale_peer_t *p = tale_peers_find(pp, a);
    if (p != NULL)
        return p;
    p = tale_xcalloc(1, sizeof(*p));
    p->addr = *a;
    if (pp->count >= pp->nslots)
        grow(pp);
    tale_peer_t **s = slot_of(pp, a);
    p->next = *s;
    *s = p;
    pp->count++;
    return p;
}

void
tale_peers_release(tale_peers_t *pp, tale_peer_t *p)
{
    if (p == NULL || p->conns != 0 || p->seats != 0)
        return;
    for (tale_peer_t **s = slot_of(pp, &p->addr); *s != NULL; s = &(*s)->next)
        if (*s == p) {
            *s = p->next;
            pp->count--;
            free(p);
            return;
        }
}

size_t
tale_peers_count(const tale_peers_t *pp)
{
    return pp->count;
}
