/*
 * server.c - the one h2o evloop, the globalconf, the listeners (plain and
 * TLS), accept with a connection limit, signals (stop, reload), the service
 * manager's notifications, and the shutdown sequence.
 */
#include "host.h"
#include "log.h"
#include "peers.h"
#include "session.h"
#include <tale/alloc.h>
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

/* How long shutdown waits for connections to finish closing. */
#define DRAIN_MS 3000

int
tale_server_init(tale_host_t *h)
{
    h2o_config_init(&h->globalconf);
    h->spare_fd = -1;
    h->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("tale-host"));
    /* POST bodies are buffered whole: the default cap is 1 GiB (H2O-NOTES 10). */
    h->globalconf.max_request_entity_size = h->cfg->limits.max_request_body;
    /* h2c upgrades would bring HTTP/2 (and its rapid-reset exposure) to plain
     * listeners; HTTP/2 is only offered by ALPN on TLS listeners that opt in. */
    h->globalconf.http1.upgrade_to_http2 = 0;
    /* limits.header_timeout: the TLS handshake, then the request headers
     * (and, in h2o 2.2.5, a request body and the idle wait between
     * keep-alive requests) must each finish within it (docs/CONFIG.md). */
    h->globalconf.handshake_timeout = h->cfg->limits.header_timeout_ms;
    h->globalconf.http1.req_timeout = h->cfg->limits.header_timeout_ms;
    /* A socket's input buffer starts at twice H2O_SOCKET_INITIAL_INPUT_BUFFER_SIZE
     * (8 KiB), and an HTTP/1.1 request keeps its buffer until its response
     * ends: an event stream's whole life.  4 KiB holds a browser's request
     * (a bigger one grows the buffer); h2o reads 4 KiB at a time anyway.  Set
     * before the first socket: h2o recycles these buffers by this size. */
    h2o_socket_buffer_prototype._initial_buf.capacity = 4096;
    h->hostconf = h2o_config_register_host(&h->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h->loop = h2o_evloop_create();
    return h->loop != NULL ? 0 : -1;
}

/* ---- accept -------------------------------------------------------------- */

/* ---- giving memory back ------------------------------------------------
 * glibc keeps what a crowd freed (its connections, then its sessions when
 * they are reaped, seconds later) mapped, so the process would stay at its
 * high-water mark after everyone left.  malloc_trim(0) hands the free pages
 * back but walks the whole heap, so it runs from a timer, never on a close,
 * at most once every TRIM_MIN_INTERVAL_MS, and only after the load
 * (connections + sessions) fell: by more than half since its peak (a crowd
 * left), or leaving much free memory behind (one connection that queued
 * megabytes for a client that never read). */

#define TRIM_CHECK_MS 500
#define TRIM_MIN_INTERVAL_MS 2000
#define TRIM_FREE_MIN (4u << 20) /* free heap worth a trim when it also exceeds the heap in use */

static size_t
trim_load(tale_host_t *h)
{
    return h->n_conns + (h->sessions != NULL ? tale_sessions_count(h->sessions) : 0);
}

/* Keep the peak current where the load grows (accept); sessions grow with
 * connections, and the timer samples them too. */
static void
trim_note_load(tale_host_t *h)
{
    size_t load = trim_load(h);
    if (load > h->trim.peak)
        h->trim.peak = load;
}

/* Why a trim is worth its cost now, or NULL. */
static const char *
trim_reason(tale_host_t *h, size_t load)
{
    if (h->trim.peak - load > h->trim.peak / 2)
        return "connections and sessions fell by more than half";
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks >= TRIM_FREE_MIN && mi.fordblks > mi.uordblks)
        return "the heap holds more free memory than memory in use";
    return NULL;
}

static void
on_trim(h2o_timeout_entry_t *entry)
{
    tale_host_t *h = H2O_STRUCT_FROM_MEMBER(tale_host_t, trim_entry, entry);
    size_t load = trim_load(h);
    uint64_t now = h2o_now(h->loop);
    if (load > h->trim.peak)
        h->trim.peak = load;
    if (load < h->trim.last)
        h->trim.pending = 1;
    h->trim.last = load;
    if (h->trim.pending && (h->trim.at == 0 || now - h->trim.at >= TRIM_MIN_INTERVAL_MS)) {
        const char *why = trim_reason(h, load);
        h->trim.pending = 0; /* nothing worth trimming until the load falls again */
        if (why != NULL) {
            int released = malloc_trim(0);
            tale_debug("server", "%s (peak %zu, now %zu): malloc_trim %s", why, h->trim.peak, load,
                       released ? "gave memory back" : "found nothing to give back");
            h->trim.peak = load;
            h->trim.at = now;
        }
    }
    h2o_timeout_link(h->loop, &h->trim_timeout, &h->trim_entry);
}

/* The host's record of one accepted connection, kept in the socket's
 * on_close.data.  While the connection has had no answer it sits in
 * h->unanswered, in accept order: the eviction candidates. */
typedef struct tale_conn {
    tale_host_t *host;
    h2o_socket_t *sock;
    tale_peer_t *addr;         /* its client address's entry, or NULL (limit off, unknown peer, trusted proxy) */
    h2o_linklist_t unanswered; /* linked while never answered */
    uint64_t accepted_at;      /* loop time, ms */
    int evicting;              /* shut down to make room; counted in h->n_evicting */
} tale_conn_t;

/* A never-answered connection younger than this is not evicted: a player
 * whose request is on its way gets a second to send it.  An idle flood
 * then holds a slot for a second at most once the host is full. */
#define EVICT_MIN_AGE_MS 1000
/* Evicted connections close on the loop's next turn; bound how many may be
 * in flight at once (they still hold a descriptor from TALE_FD_RESERVE). */
#define EVICT_MAX_IN_FLIGHT 32
/* How long accepting pauses after running out of descriptors. */
#define ACCEPT_PAUSE_MS 100

static const char busy_answer[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                  "X-Content-Type-Options: nosniff\r\n"
                                  "Content-Length: 39\r\nConnection: close\r\nRetry-After: 5\r\n\r\n"
                                  "{\"error\":\"the server is at capacity\"}\r\n";

/* ---- connections per client address ------------------------------------
 * Counted in the host's per-address table (peers.c) by the TCP peer's
 * address.  A peer in trusted_proxies carries many clients and is not
 * limited here (session.c limits seats by the forwarded client instead). */

/* Count one more connection from sock's address: *out is its table entry
 * (NULL when the limit is off, the address unknown or a trusted proxy).
 * -1 (after logging) when that address is already at
 * max_connections_per_address.  The warn line comes at most once a minute,
 * with the count refused since. */
static int
addr_acquire(tale_host_t *h, h2o_socket_t *sock, tale_peer_t **out)
{
    uint64_t limit = h->cfg->limits.max_connections_per_address;
    struct sockaddr_storage ss;
    socklen_t len;
    tale_addr_t a;
    *out = NULL;
    if (limit == 0 || (len = h2o_socket_getpeername(sock, (struct sockaddr *)&ss)) == 0 ||
        tale_addr_from_sockaddr(&a, (struct sockaddr *)&ss, len) != 0 ||
        tale_cidr_match(h->cfg->trusted_proxies, h->cfg->n_trusted_proxies, &a))
        return 0;
    tale_peer_t *e = tale_peers_get(h->peers, &a);
    if (e->conns >= limit) {
        char text[TALE_ADDR_STRLEN];
        tale_addr_format(&a, text);
        h->addr_refused++;
        uint64_t now = h2o_now(h->loop);
        if (h->addr_warned_at == 0 || now - h->addr_warned_at >= 60000) {
            tale_warn("server",
                      "refusing connections from %s: max_connections_per_address (%llu) reached (%llu refused from "
                      "all addresses since the last such line; at most one a minute)",
                      text, (unsigned long long)limit, (unsigned long long)h->addr_refused);
            h->addr_warned_at = now != 0 ? now : 1;
            h->addr_refused = 0;
        } else {
            tale_debug("server", "refusing a connection from %s: max_connections_per_address (%llu) reached", text,
                       (unsigned long long)limit);
        }
        return -1;
    }
    e->conns++;
    *out = e;
    return 0;
}

/* One connection from e's address closed. */
static void
addr_release(tale_host_t *h, tale_peer_t *e)
{
    e->conns--;
    tale_peers_release(h->peers, e);
}

/* h2o closed an accepted socket: forget its record. */
static void
on_conn_closed(void *data)
{
    tale_conn_t *c = data;
    tale_host_t *h = c->host;
    if (h2o_linklist_is_linked(&c->unanswered))
        h2o_linklist_unlink(&c->unanswered);
    if (c->evicting)
        h->n_evicting--;
    if (c->addr != NULL)
        addr_release(h, c->addr);
    free(c);
    h->n_conns--;
}

void
tale_server_conn_answered(h2o_socket_t *sock)
{
    if (sock == NULL || sock->on_close.cb != on_conn_closed)
        return;
    tale_conn_t *c = sock->on_close.data;
    if (h2o_linklist_is_linked(&c->unanswered))
        h2o_linklist_unlink(&c->unanswered);
}

/* Answer a socket we are about to close behind h2o's back: one non-blocking
 * send of the 503 (a fresh socket's send buffer always takes it), nothing on
 * TLS, whose client would not understand it. */
static void
send_busy_raw(int fd, int tls)
{
    if (!tls)
        (void)send(fd, busy_answer, sizeof(busy_answer) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* At max_connections: make room by shutting down the oldest connection that
 * was never answered (no response byte written, no response started), if it
 * is at least EVICT_MIN_AGE_MS old.  The shutdown makes h2o read EOF and
 * close it on the loop's next turn, so it is counted as evicting until then.
 * Answered connections met at the front are dropped from the list here
 * (lazily), so each accept costs O(1) amortised.  1 if room was made. */
static int
evict_oldest_unanswered(tale_host_t *h)
{
    if (h->n_evicting >= EVICT_MAX_IN_FLIGHT)
        return 0;
    uint64_t now = h2o_now(h->loop);
    while (!h2o_linklist_is_empty(&h->unanswered)) {
        tale_conn_t *c = H2O_STRUCT_FROM_MEMBER(tale_conn_t, unanswered, h->unanswered.next);
        if (c->sock->bytes_written != 0) {
            h2o_linklist_unlink(&c->unanswered);
            continue;
        }
        if (now - c->accepted_at < EVICT_MIN_AGE_MS)
            return 0;
        h2o_linklist_unlink(&c->unanswered);
        c->evicting = 1;
        h->n_evicting++;
        int fd = h2o_socket_get_fd(c->sock);
        send_busy_raw(fd, c->sock->ssl != NULL);
        shutdown(fd, SHUT_RDWR);
        tale_debug("server", "max_connections (%llu) reached: closing a connection idle for %llu ms without a request",
                   (unsigned long long)h->cfg->limits.max_connections, (unsigned long long)(now - c->accepted_at));
        return 1;
    }
    return 0;
}

/* The 503 went out (or could not): close. */
static void
on_reject_written(h2o_socket_t *sock, const char *err)
{
    h2o_socket_close(sock);
}

/* Refuse an accepted socket: the 503 on plain listeners, a close on TLS. */
static void
refuse(tale_listener_t *l, h2o_socket_t *sock)
{
    h2o_iovec_t buf = h2o_iovec_init(busy_answer, sizeof(busy_answer) - 1);
    if (l->ssl_ctx == NULL)
        h2o_socket_write(sock, &buf, 1, on_reject_written);
    else
        h2o_socket_close(sock);
}

static void on_accept(h2o_socket_t *listener, const char *err);
static void on_raw_accept(h2o_socket_t *listener, const char *err);

/* Start or stop reading (accepting) on every open listener. */
static void
set_listeners_reading(tale_host_t *h, int on)
{
    for (size_t i = 0; i < h->n_listeners; i++) {
        h2o_socket_t *ls = h->listeners[i].sock;
        if (ls == NULL)
            continue;
        if (on)
            h2o_socket_read_start(ls, on_accept);
        else
            h2o_socket_read_stop(ls);
    }
    for (size_t i = 0; i < h->n_raw; i++) {
        h2o_socket_t *ls = h->raw[i]->sock;
        if (ls == NULL)
            continue;
        if (on)
            h2o_socket_read_start(ls, on_raw_accept);
        else
            h2o_socket_read_stop(ls);
    }
}

/* The pause after running out of descriptors is over. */
static void
on_accept_resume(h2o_timeout_entry_t *entry)
{
    tale_host_t *h = H2O_STRUCT_FROM_MEMBER(tale_host_t, accept_pause_entry, entry);
    h->accept_paused = 0;
    if (!h->stop_requested)
        set_listeners_reading(h, 1);
}

/* accept() failed with EMFILE/ENFILE (or ENOBUFS/ENOMEM): the pending
 * connection stays queued and the listener readable, so retrying at once
 * would spin.  Give up the spare descriptor to take one connection off the
 * queue and refuse it, take the spare back, and stop accepting for
 * ACCEPT_PAUSE_MS.  Logged once per episode (the count when it clears). */
static void
out_of_descriptors(tale_host_t *h, int listen_fd, int tls, int err)
{
    if (h->fd_refused == 0)
        tale_warn("server",
                  "accept: %s: refusing new connections and pausing accepts for %d ms at a time; raise the file "
                  "descriptor limit or lower limits.max_connections",
                  strerror(err), ACCEPT_PAUSE_MS);
    if (h->spare_fd >= 0) {
        close(h->spare_fd);
        h->spare_fd = -1;
    }
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        char discard[4096]; /* unread bytes would turn the close into a reset */
        (void)recv(fd, discard, sizeof(discard), MSG_DONTWAIT);
        send_busy_raw(fd, tls);
        close(fd);
    }
    h->fd_refused++;
    h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    h->accept_paused = 1;
    set_listeners_reading(h, 0);
    h2o_timeout_link(h->loop, &h->accept_pause_timeout, &h->accept_pause_entry);
}

/* One accepted socket through the host's limits: per address first (a
 * crowd from one address must not evict others), then max_connections,
 * where `may_evict` lets the oldest never-answered HTTP connection make
 * room.  Returns its record, counted until the socket closes, or NULL: the
 * caller refuses it. */
static tale_conn_t *
admit(tale_host_t *h, h2o_socket_t *sock, int may_evict)
{
    if (h->fd_refused != 0) {
        tale_warn("server", "accepting again: %llu connection(s) were refused while out of file descriptors",
                  (unsigned long long)h->fd_refused);
        h->fd_refused = 0;
    }
    tale_peer_t *per_addr;
    if (addr_acquire(h, sock, &per_addr) != 0)
        return NULL;
    if (h->stop_requested ||
        (h->n_conns - h->n_evicting >= h->cfg->limits.max_connections && !(may_evict && evict_oldest_unanswered(h)))) {
        tale_debug("server", "refusing a connection: max_connections (%llu) reached",
                   (unsigned long long)h->cfg->limits.max_connections);
        if (per_addr != NULL)
            addr_release(h, per_addr);
        return NULL;
    }
    tale_conn_t *c = tale_xcalloc(1, sizeof(*c));
    c->addr = per_addr;
    c->host = h;
    c->sock = sock;
    c->accepted_at = h2o_now(h->loop);
    h->n_conns++;
    trim_note_load(h);
    sock->on_close.cb = on_conn_closed;
    sock->on_close.data = c;
    return c;
}

/* The next queued connection of a listener, or NULL (nothing queued, or out
 * of descriptors: then accepting pauses). */
static h2o_socket_t *
accept_next(tale_host_t *h, h2o_socket_t *listener, int fd, int tls)
{
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    /* h2o 2.2.5 returns NULL straight after accept4() fails, errno intact */
    if (sock == NULL && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
        out_of_descriptors(h, fd, tls, errno);
    return sock;
}

/* Accept what is queued (a bounded batch), within max_connections: at the
 * limit the oldest never-answered connection makes room, else the newcomer
 * is refused. */
static void
on_accept(h2o_socket_t *listener, const char *err)
{
    tale_listener_t *l = listener->data;
    tale_host_t *h = l->host;
    if (err != NULL)
        return;
    /* Bounded batch so one busy listener cannot starve the loop. */
    for (int i = 0; i < 16 && !h->accept_paused; i++) {
        h2o_socket_t *sock = accept_next(h, listener, l->fd, l->ssl_ctx != NULL);
        if (sock == NULL)
            break;
        /* No TCP_NODELAY here: h2o_evloop_socket_accept already sets it on
         * every accepted socket (seen in strace), so answers never wait for
         * Nagle (tale-bench's rtt-sse shows no 40 ms tails). */
        tale_conn_t *c = admit(h, sock, 1);
        if (c == NULL) {
            refuse(l, sock);
            continue;
        }
        h2o_linklist_insert(&h->unanswered, &c->unanswered);
        h2o_accept(&l->accept_ctx, sock);
    }
}

/* ---- listeners ----------------------------------------------------------- */

static SSL_CTX *
make_ssl_ctx(tale_host_t *h, tale_conf_listener_t *lc)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, lc->tls_cert) != 1) {
        tale_error("server", "%s: cannot use it as a certificate chain: %s", lc->tls_cert,
                   ERR_reason_error_string(ERR_get_error()));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, lc->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        tale_error("server", "%s: cannot use it as the private key for %s: %s", lc->tls_key, lc->tls_cert,
                   ERR_reason_error_string(ERR_get_error()));
        goto fail;
    }
    if (lc->http2)
        h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static int
is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 0;
}

/* Bind and listen on host:port (non-blocking); the bound address in *ss.
 * Returns the descriptor, or -1 after logging why. */
static int
open_tcp(const char *host, unsigned port, struct sockaddr_storage *ss)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        tale_error("server", "cannot resolve listener host '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0) {
        tale_error("server", "socket(): %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (res->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        tale_error("server", "cannot listen on %s port %u: %s", host, port, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    socklen_t sl = sizeof(*ss);
    getsockname(fd, (struct sockaddr *)ss, &sl);
    return fd;
}

/* "a.b.c.d:port" or "[v6]:port" of a bound address; its port in *port. */
static void
format_bound(const struct sockaddr_storage *ss, char *out, size_t outlen, unsigned *port)
{
    char addr[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, addr, sizeof(addr));
        *port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, addr, sizeof(addr));
        *port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
    }
    snprintf(out, outlen, "%s%s%s:%u", ss->ss_family == AF_INET6 ? "[" : "", addr, ss->ss_family == AF_INET6 ? "]" : "", *port);
}

static int
open_listener(tale_host_t *h, tale_listener_t *l)
{
    tale_conf_listener_t *lc = l->conf;
    struct sockaddr_storage ss;
    int fd = open_tcp(lc->host, lc->port, &ss);
    if (fd < 0)
        return -1;
    if (!is_loopback((struct sockaddr *)&ss) && lc->tls_cert == NULL)
        tale_warn("server", "listening on %s without TLS: session cookies and play cross the network in clear", lc->host);
    char bound[INET6_ADDRSTRLEN + 10];
    unsigned actual;
    format_bound(&ss, bound, sizeof(bound), &actual);
    snprintf(l->url, sizeof(l->url), "%s://%s", lc->tls_cert != NULL ? "https" : "http", bound);
    l->fd = fd;
    return 0;
}

/* ---- raw listeners (ABI 1.3 host->listen) --------------------------------
 * Plugins' non-HTTP listeners: bound with the HTTP ones, counted in the same
 * connection limits, handed to the plugin's accept callback. */

int
tale_server_add_raw_listener(tale_host_t *h, tale_plugin_t *owner, const char *spec, tale_accept_cb cb, void *data, char *err,
                             size_t errlen)
{
    /* "port", "host:port" or "[v6]:port" */
    char host[256] = "127.0.0.1";
    const char *port_at = spec;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof(host)) {
            snprintf(err, errlen, "'%s' is not an address: expected \"port\", \"host:port\" or \"[v6]:port\"", spec);
            return -1;
        }
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = '\0';
        port_at = close + 2;
    } else if (strchr(spec, ':') != NULL) {
        const char *colon = strrchr(spec, ':');
        if (colon == spec || (size_t)(colon - spec) >= sizeof(host) || memchr(spec, ':', (size_t)(colon - spec)) != NULL) {
            snprintf(err, errlen, "'%s' is not an address: expected \"port\", \"host:port\" or \"[v6]:port\"", spec);
            return -1;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port_at = colon + 1;
    }
    char *end;
    unsigned long port = strtoul(port_at, &end, 10);
    if (*port_at < '0' || *port_at > '9' || *end != '\0' || port > 65535) {
        snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535", spec);
        return -1;
    }
    tale_raw_listener_t *rl = tale_xcalloc(1, sizeof(*rl));
    rl->host = h;
    rl->owner = owner;
    rl->bind_host = tale_xstrdup(host);
    rl->port = (unsigned)port;
    rl->cb = cb;
    rl->data = data;
    rl->fd = -1;
    h->raw = tale_xrealloc(h->raw, (h->n_raw + 1) * sizeof(*h->raw));
    h->raw[h->n_raw++] = rl;
    return 0;
}

static int
open_raw_listener(tale_raw_listener_t *rl)
{
    struct sockaddr_storage ss;
    if ((rl->fd = open_tcp(rl->bind_host, rl->port, &ss)) < 0)
        return -1;
    unsigned actual;
    format_bound(&ss, rl->addr, sizeof(rl->addr), &actual);
    if (!is_loopback((struct sockaddr *)&ss))
        tale_warn("server",
                  "plugin '%s' listens on %s, beyond loopback: unless the plugin encrypts it, play crosses the network in clear",
                  rl->owner->conf->name, rl->addr);
    return 0;
}

/* Accept a bounded batch on a plugin's listener, within the same limits as
 * the HTTP listeners (no eviction: a raw connection is never "unanswered"
 * in the HTTP sense; the plugin bounds its own idle ones). */
static void
on_raw_accept(h2o_socket_t *listener, const char *err)
{
    tale_raw_listener_t *rl = listener->data;
    tale_host_t *h = rl->host;
    if (err != NULL)
        return;
    for (int i = 0; i < 16 && !h->accept_paused; i++) {
        h2o_socket_t *sock = accept_next(h, listener, rl->fd, 0);
        if (sock == NULL)
            break;
        if (admit(h, sock, 0) == NULL) {
            h2o_socket_close(sock); /* no answer: a raw client would not understand an HTTP 503 */
            continue;
        }
        rl->cb(rl->owner, sock, rl->data);
    }
}

int
tale_server_listen(tale_host_t *h)
{
    h->listeners = tale_xcalloc(h->cfg->n_listeners, sizeof(*h->listeners));
    for (size_t i = 0; i < h->cfg->n_listeners; i++) {
        tale_listener_t *l = &h->listeners[h->n_listeners];
        l->host = h;
        l->conf = &h->cfg->listeners[i];
        l->fd = -1;
        if (l->conf->tls_cert != NULL && (l->ssl_ctx = make_ssl_ctx(h, l->conf)) == NULL)
            return -1;
        h->n_listeners++;
        if (open_listener(h, l) != 0)
            return -1;
    }
    for (size_t i = 0; i < h->n_raw; i++)
        if (open_raw_listener(h->raw[i]) != 0)
            return -1;
    return 0;
}

/* ---- the service manager ---------------------------------------------------
 * Under systemd (Type=notify) NOTIFY_SOCKET is set and these reach it; run
 * by hand they do nothing (sd_notify returns 0 without the variable). */

static void
notify(const char *state)
{
    /* Once: a broken NOTIFY_SOCKET would otherwise log at every watchdog ping. */
    static int warned;
    int rc = sd_notify(0, state);
    if (rc < 0 && !warned) {
        tale_warn("server", "sd_notify(%s): %s (NOTIFY_SOCKET=%s); not logged again", state, strerror(-rc),
                  getenv("NOTIFY_SOCKET") != NULL ? getenv("NOTIFY_SOCKET") : "");
        warned = 1;
    }
}

static void
on_watchdog(h2o_timeout_entry_t *entry)
{
    tale_host_t *h = H2O_STRUCT_FROM_MEMBER(tale_host_t, watchdog_entry, entry);
    /* From a loop timer: a loop stuck in one callback stops the pings, which
     * is what the watchdog is for. */
    notify("WATCHDOG=1");
    h2o_timeout_link(h->loop, &h->watchdog_timeout, &h->watchdog_entry);
}

/* WatchdogSec= sets WATCHDOG_USEC: ping at half of it. */
static void
watchdog_start(tale_host_t *h)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    uint64_t ms = usec / 2000;
    h2o_timeout_init(h->loop, &h->watchdog_timeout, ms > 0 ? ms : 1);
    h->watchdog_entry.cb = on_watchdog;
    h2o_timeout_link(h->loop, &h->watchdog_timeout, &h->watchdog_entry);
    tale_info("server", "systemd watchdog: pinging every %llu ms", (unsigned long long)(ms > 0 ? ms : 1));
    notify("WATCHDOG=1");
}

/* ---- signals ------------------------------------------------------------- */

void
tale_host_request_stop(tale_host_t *h, const char *why)
{
    if (!h->stop_requested) {
        tale_info("server", "shutting down (%s)", why);
        notify("STOPPING=1");
    }
    h->stop_requested = 1;
}

void
tale_host_on_reload(tale_host_t *h, tale_reload_cb cb, void *data)
{
    h->reload_hooks = tale_xrealloc(h->reload_hooks, (h->n_reload_hooks + 1) * sizeof(*h->reload_hooks));
    h->reload_hooks[h->n_reload_hooks++] = (tale_reload_hook_t){.cb = cb, .data = data};
}

static void
run_reload_hooks(tale_host_t *h, int config_reread)
{
    for (size_t i = 0; i < h->n_reload_hooks; i++)
        h->reload_hooks[i].cb(h, config_reread, h->reload_hooks[i].data);
}

/* SIGHUP: re-read the config file on the loop.  What may change in place
 * does; what needs a restart is named in one line and kept; a file that
 * does not load is refused with its located error and nothing changes.
 * Connections and seats are not touched either way. */
static void
server_reload(tale_host_t *h)
{
    char err[1024], restart[512];
    int changed = 0;
    char monotonic[64];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(monotonic, sizeof(monotonic), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    notify(monotonic);
    tale_info("server", "reloading %s (SIGHUP)", h->cfg->file);
    tale_config_t *fresh = tale_config_load(h->cfg->file, err, sizeof(err));
    if (fresh == NULL) {
        tale_error("config", "reload refused, the running config stays: %s", err);
    } else {
        for (size_t i = 0; i < fresh->n_warnings; i++)
            tale_warn("config", "%s", fresh->warnings[i]);
        tale_config_reload_apply(h->cfg, fresh, restart, sizeof(restart), &changed);
        int plugins = tale_plugins_reload(h, fresh, restart, sizeof(restart));
        int needs_restart = restart[0] != '\0';
        tale_config_free(fresh);
        if (!h->log_level_pinned)
            tale_log_level = h->cfg->log_level;
        /* h2o reads the body cap from its globalconf at each request */
        h->globalconf.max_request_entity_size = h->cfg->limits.max_request_body;
        if (needs_restart)
            tale_warn("config", "reload: %s changed; these need a restart and keep their running values until then", restart);
        const char *what = "nothing that applies in place changed";
        if (changed)
            what = plugins ? "log level, limits, access lists and plugin settings now as in the file"
                           : "log level, limits and access lists now as in the file";
        else if (plugins)
            what = "plugin settings now as in the file";
        tale_info("config", "reload done: %s", what);
    }
    run_reload_hooks(h, 1);
    notify("READY=1");
}

static const char *
signal_name(uint32_t signo)
{
    switch (signo) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    case SIGUSR1:
        return "SIGUSR1";
    default:
        return "a signal";
    }
}

static void
on_signal(h2o_socket_t *sock, const char *err)
{
    tale_host_t *h = sock->data;
    if (err != NULL) {
        tale_host_request_stop(h, "signal descriptor failed");
        return;
    }
    /* h2o only tells us the fd is readable; read the records ourselves.
     * Several may be queued (a reload and a stop). */
    struct signalfd_siginfo si;
    while (read(h2o_socket_get_fd(sock), &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            if (!h->stop_requested)
                server_reload(h);
        } else if (si.ssi_signo == SIGUSR1) {
            tale_info("server", "reopening logs (SIGUSR1)");
            run_reload_hooks(h, 0);
        } else {
            tale_host_request_stop(h, signal_name(si.ssi_signo));
        }
    }
    h2o_buffer_consume(&sock->input, sock->input->size);
}

/* SIGINT/SIGTERM (stop), SIGHUP (reload) and SIGUSR1 (reopen logs) arrive
 * as reads on a signalfd registered on the loop (H2O-NOTES 6): no work in
 * a handler, no flags polled, no EINTR games. */
static int
setup_signals(tale_host_t *h)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        tale_error("server", "signalfd: %s", strerror(errno));
        return -1;
    }
    h->signal_sock = h2o_evloop_socket_create(h->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h->signal_sock->data = h;
    h2o_socket_read_start(h->signal_sock, on_signal);
    return 0;
}

/* ---- run and shut down --------------------------------------------------- */

int
tale_server_run(tale_host_t *h)
{
    h2o_context_init(&h->ctx, h->loop, &h->globalconf);
    h->ctx_inited = 1;
    h2o_timeout_init(h->loop, &h->trim_timeout, TRIM_CHECK_MS);
    h->trim_entry.cb = on_trim;
    h2o_timeout_link(h->loop, &h->trim_timeout, &h->trim_entry);
    h2o_linklist_init_anchor(&h->unanswered);
    h2o_timeout_init(h->loop, &h->accept_pause_timeout, ACCEPT_PAUSE_MS);
    h->accept_pause_entry.cb = on_accept_resume;
    /* kept open to be given up when accept() runs out of descriptors */
    if ((h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        tale_warn("server", "cannot open /dev/null for a spare descriptor: %s", strerror(errno));
    if (setup_signals(h) != 0)
        return -1;
    tale_metrics_start(h);
    for (size_t i = 0; i < h->n_listeners; i++) {
        tale_listener_t *l = &h->listeners[i];
        l->accept_ctx.ctx = &h->ctx;
        l->accept_ctx.hosts = h->globalconf.hosts;
        l->accept_ctx.ssl_ctx = l->ssl_ctx;
        l->sock = h2o_evloop_socket_create(h->loop, l->fd, H2O_SOCKET_FLAG_DONT_READ);
        l->sock->data = l;
        h2o_socket_read_start(l->sock, on_accept);
        tale_info("server", "listening on %s%s", l->url, l->ssl_ctx != NULL && l->conf->http2 ? " (HTTP/2 enabled)" : "");
    }
    for (size_t i = 0; i < h->n_raw; i++) {
        tale_raw_listener_t *rl = h->raw[i];
        rl->sock = h2o_evloop_socket_create(h->loop, rl->fd, H2O_SOCKET_FLAG_DONT_READ);
        rl->sock->data = rl;
        h2o_socket_read_start(rl->sock, on_raw_accept);
        tale_info("server", "plugin '%s' listening on %s", rl->owner->conf->name, rl->addr);
    }
    watchdog_start(h);
    notify("READY=1");

    while (!h->stop_requested)
        h2o_evloop_run(h->loop, INT32_MAX);
    return 0;
}

static void drain_loop(tale_host_t *h);

static void
close_raw_listeners(tale_host_t *h)
{
    for (size_t i = 0; i < h->n_raw; i++) {
        tale_raw_listener_t *rl = h->raw[i];
        if (rl->sock != NULL) {
            h2o_socket_read_stop(rl->sock);
            h2o_socket_close(rl->sock);
            rl->sock = NULL;
        } else if (rl->fd >= 0) {
            close(rl->fd);
        }
        rl->fd = -1;
    }
}

/* Close the listeners, let plugins close their players, drain. */
static void
drain(tale_host_t *h)
{
    for (size_t i = 0; i < h->n_listeners; i++) {
        if (h->listeners[i].sock != NULL) {
            h2o_socket_read_stop(h->listeners[i].sock);
            h2o_socket_close(h->listeners[i].sock);
            h->listeners[i].sock = NULL;
            h->listeners[i].fd = -1;
        }
    }
    close_raw_listeners(h);
    /* Idle keep-alive connections close at once instead of lingering (H2O-NOTES 9). */
    h->ctx.http1.req_timeout.timeout = 0;
    h2o_context_request_shutdown(&h->ctx);
    tale_plugins_stop(h);
    drain_loop(h);
}

/* Run the loop after stop() whatever connections there are: what plugins
 * queued in stop (a goodbye on a raw socket) is written and its callbacks
 * run while their state exists, before any destroy.  Then until the host's
 * own connections are closed and no plugin reports its own still closing. */
static void
drain_loop(tale_host_t *h)
{
    uint64_t deadline = h2o_now(h->loop) + DRAIN_MS;
    unsigned busy;
    h2o_evloop_run(h->loop, 0);
    while (((busy = tale_plugins_draining(h)) > 0 || h->n_conns > 0) && h2o_now(h->loop) < deadline)
        h2o_evloop_run(h->loop, 50);
    if (h->n_conns > 0 || busy > 0)
        tale_warn("server", "%zu connection(s) and %u plugin connection(s) still open after %d ms; closing anyway", h->n_conns,
                  busy, DRAIN_MS);
}

void
tale_server_dispose(tale_host_t *h)
{
    if (h->ctx_inited) {
        drain(h);
    } else {
        tale_plugins_stop(h);
        if (h->loop != NULL)
            drain_loop(h);
    }
}

/* Free what server_init and run created; plugins' destroy comes first. */
void
tale_server_free(tale_host_t *h)
{
    tale_metrics_stop(h);
    if (h->trim_entry.cb != NULL) {
        if (h2o_timeout_is_linked(&h->trim_entry))
            h2o_timeout_unlink(&h->trim_entry);
        h2o_timeout_dispose(h->loop, &h->trim_timeout);
        h->trim_entry.cb = NULL;
    }
    if (h->accept_pause_entry.cb != NULL) {
        if (h2o_timeout_is_linked(&h->accept_pause_entry))
            h2o_timeout_unlink(&h->accept_pause_entry);
        h2o_timeout_dispose(h->loop, &h->accept_pause_timeout);
        h->accept_pause_entry.cb = NULL;
    }
    if (h->watchdog_entry.cb != NULL) {
        if (h2o_timeout_is_linked(&h->watchdog_entry))
            h2o_timeout_unlink(&h->watchdog_entry);
        h2o_timeout_dispose(h->loop, &h->watchdog_timeout);
        h->watchdog_entry.cb = NULL;
    }
    free(h->reload_hooks);
    h->reload_hooks = NULL;
    h->n_reload_hooks = 0;
    if (h->spare_fd >= 0)
        close(h->spare_fd);
    h->spare_fd = -1;
    if (h->ctx_inited) {
        /* request_shutdown parks an HTTP/2 timer for a second; h2o asserts
         * if it is still linked at dispose (H2O-NOTES 9). */
        if (h2o_timeout_is_linked(&h->ctx.http2._graceful_shutdown_timeout))
            h2o_timeout_unlink(&h->ctx.http2._graceful_shutdown_timeout);
        h2o_context_dispose(&h->ctx);
        h->ctx_inited = 0;
    }
    if (h->signal_sock != NULL) {
        h2o_socket_read_stop(h->signal_sock);
        h2o_socket_close(h->signal_sock);
        h->signal_sock = NULL;
    }
    for (size_t i = 0; i < h->n_listeners; i++) {
        if (h->listeners[i].sock != NULL)
            h2o_socket_close(h->listeners[i].sock);
        else if (h->listeners[i].fd >= 0)
            close(h->listeners[i].fd);
        if (h->listeners[i].ssl_ctx != NULL)
            SSL_CTX_free(h->listeners[i].ssl_ctx);
    }
    free(h->listeners);
    h->listeners = NULL;
    close_raw_listeners(h);
    for (size_t i = 0; i < h->n_raw; i++) {
        free(h->raw[i]->bind_host);
        free(h->raw[i]);
    }
    free(h->raw);
    h->raw = NULL;
    h->n_raw = 0;
    if (h->loop != NULL) {
        /* let closed sockets be freed before the loop goes */
        h2o_evloop_run(h->loop, 0);
        h2o_evloop_destroy(h->loop);
        h->loop = NULL;
    }
    h2o_config_dispose(&h->globalconf);
}
