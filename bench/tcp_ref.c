/*
 * tcp_ref.c - the reference: a raw TCP ping-pong over loopback with TCP_NODELAY.
 *
 * A tiny echo server thread answers each request of req_len bytes with
 * resp_len bytes, the sizes of a real command and its answer frame, so the
 * only difference left against rtt-ws is the server's work and the framing.
 * The client side waits exactly like the WebSocket client does (poll, recv).
 */
#include "tcp_ref.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct echo_server {
    int lfd;
    size_t req_len, resp_len;
} echo_server_t;

static int
read_exact(int fd, char *buf, size_t len)
{
    while (len > 0) {
        ssize_t r = recv(fd, buf, len, 0);
        if (r > 0) {
            buf += r;
            len -= (size_t)r;
        } else if (r == 0 || errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

static void *
echo_main(void *arg)
{
    echo_server_t *es = arg;
    int fd = accept(es->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char *req = malloc(es->req_len), *resp = calloc(1, es->resp_len);
    /* Serve until the client closes: the client bounds the count and the time. */
    while (req && resp && read_exact(fd, req, es->req_len) == 0)
        if (send(fd, resp, es->resp_len, MSG_NOSIGNAL) != (ssize_t)es->resp_len)
            break;
    free(req);
    free(resp);
    close(fd);
    return NULL;
}

int
tale_bench_tcp_ref(size_t req_len, size_t resp_len, size_t warm, size_t count, double max_s, uint64_t *samples, size_t *n_out,
                   uint64_t *elapsed_out)
{
    *n_out = 0;
    echo_server_t es = {.req_len = req_len ? req_len : 1, .resp_len = resp_len ? resp_len : 1};
    es.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (es.lfd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (bind(es.lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(es.lfd, 4) != 0 ||
        getsockname(es.lfd, (struct sockaddr *)&sa, &sl) != 0) {
        close(es.lfd);
        return -1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, echo_main, &es) != 0) {
        close(es.lfd);
        return -1;
    }
    int fd = bench_connect(ntohs(sa.sin_port));
    char *req = calloc(1, es.req_len), *resp = malloc(es.resp_len);
    int rc = fd < 0 || !req || !resp ? -1 : 0;
    uint64_t start = bench_now_ns(), end_by = start + (uint64_t)(max_s * 1e9);
    for (size_t i = 0; rc == 0 && i < warm + count && bench_now_ns() < end_by; i++) {
        if (i == warm) /* the warm-up rounds are not measured */
            start = bench_now_ns();
        uint64_t t0 = bench_now_ns(), deadline = t0 + 5000000000ull;
        if (bench_write_all(fd, req, es.req_len, deadline) != 0) {
            rc = -1;
            break;
        }
        size_t got = 0;
        while (got < es.resp_len) {
            if (bench_wait_readable(fd, deadline) <= 0) {
                rc = -1;
                break;
            }
            ssize_t r = recv(fd, resp + got, es.resp_len - got, 0);
            if (r > 0)
                got += (size_t)r;
            else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                rc = -1;
                break;
            }
        }
        if (rc == 0 && i >= warm)
            samples[(*n_out)++] = bench_now_ns() - t0;
    }
    *elapsed_out = bench_now_ns() - start;
    if (fd >= 0)
        close(fd); /* the echo thread sees EOF and ends */
    else
        shutdown(es.lfd, SHUT_RDWR); /* unblock accept */
    pthread_join(th, NULL);
    close(es.lfd);
    free(req);
    free(resp);
    return rc;
}
