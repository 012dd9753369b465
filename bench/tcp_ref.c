/*
 * tcp_ref.c - the reference: a raw TCP ping-pong over loopback with TCP_NODELAY.
 *
 * A tiny echo server answers each request of req_len bytes with resp_len
 * bytes, the sizes of a real command and its answer frame, so the only
 * difference left against rtt-ws is the server's work and the framing.  It is
 * a process of its own, like tale-host, placed on the CPU the host is placed
 * on (place.c); a thread of ours would share our address space, which makes
 * its wake-ups cheaper than any server's.  The client side waits exactly like
 * the WebSocket client does (poll, one recv).
 */
#include "tcp_ref.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

static void
echo_main(echo_server_t *es)
{
    int fd = accept(es->lfd, NULL, NULL);
    if (fd < 0)
        return;
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
}

struct tale_bench_tcp_ref {
    echo_server_t es;
    pid_t pid;
    int fd;
    char *req, *resp;
};

tale_bench_tcp_ref_t *
tale_bench_tcp_ref_open(size_t req_len, size_t resp_len, int server_cpu)
{
    tale_bench_tcp_ref_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->es.req_len = req_len ? req_len : 1;
    t->es.resp_len = resp_len ? resp_len : 1;
    t->es.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (t->es.lfd < 0 || bind(t->es.lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(t->es.lfd, 4) != 0 ||
        getsockname(t->es.lfd, (struct sockaddr *)&sa, &sl) != 0 || (t->pid = fork()) < 0) {
        if (t->es.lfd >= 0)
            close(t->es.lfd);
        free(t);
        return NULL;
    }
    if (t->pid == 0) {
        if (server_cpu >= 0 && bench_pin_self(server_cpu) != 0)
            _exit(1);
        echo_main(&t->es);
        _exit(0);
    }
    t->req = calloc(1, t->es.req_len);
    t->resp = malloc(t->es.resp_len);
    if ((t->fd = bench_connect(ntohs(sa.sin_port))) < 0 || t->req == NULL || t->resp == NULL) {
        tale_bench_tcp_ref_close(t);
        return NULL;
    }
    return t;
}

int
tale_bench_tcp_ref_round(tale_bench_tcp_ref_t *t, uint64_t *ns)
{
    uint64_t t0 = bench_now_ns(), deadline = t0 + 5000000000ull;
    if (bench_write_all(t->fd, t->req, t->es.req_len, deadline) != 0)
        return -1;
    size_t got = 0;
    while (got < t->es.resp_len) {
        if (bench_wait_readable(t->fd, deadline) <= 0)
            return -1;
        ssize_t r = recv(t->fd, t->resp + got, t->es.resp_len - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EINTR))
            return -1;
    }
    *ns = bench_now_ns() - t0;
    return 0;
}

void
tale_bench_tcp_ref_close(tale_bench_tcp_ref_t *t)
{
    if (t == NULL)
        return;
    if (t->fd >= 0)
        close(t->fd); /* the echo process sees EOF and ends */
    else
        kill(t->pid, SIGKILL); /* it may still wait in accept */
    waitpid(t->pid, NULL, 0);
    close(t->es.lfd);
    free(t->req);
    free(t->resp);
    free(t);
}
