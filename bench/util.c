/*
 * util.c - clocks, loopback sockets, percentiles, a JSON field scan and /proc readers.
 */
#include "bench.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

uint64_t
bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
poll_ms_until(uint64_t deadline_ns)
{
    uint64_t now = bench_now_ns();
    if (now >= deadline_ns)
        return 0;
    /* Round up so a sub-millisecond remainder still waits instead of spinning. */
    return (int)((deadline_ns - now + 999999) / 1000000);
}

int
bench_connect_start(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int
bench_connect_result(int fd)
{
    int err = 0;
    socklen_t sl = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
        return errno;
    return err;
}

int
bench_connect(uint16_t port)
{
    int fd = bench_connect_start(port);
    if (fd < 0)
        return -1;
    /* Loopback connects complete at once or within one poll; wait up to 5 s. */
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, 5000) != 1) {
        close(fd);
        return -1;
    }
    int soerr = bench_connect_result(fd);
    if (soerr != 0) {
        close(fd);
        errno = soerr;
        return -1;
    }
    return fd;
}

int
bench_write_all(int fd, const void *buf, size_t len, uint64_t deadline_ns)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int ms = poll_ms_until(deadline_ns);
            if (ms == 0)
                return -1;
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (poll(&pf, 1, ms) < 0 && errno != EINTR)
                return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

int
bench_wait_readable(int fd, uint64_t deadline_ns)
{
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, poll_ms_until(deadline_ns));
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile: the smallest sample with at least q of the samples at or below it. */
static double
pct_us(const uint64_t *s, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)s[rank - 1] / 1000.0;
}

void
bench_stats_compute(uint64_t *samples, size_t n, uint64_t elapsed_ns, bench_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->n = n;
    out->elapsed_s = (double)elapsed_ns / 1e9;
    if (n == 0)
        return;
    qsort(samples, n, sizeof(*samples), cmp_u64);
    out->min_us = (double)samples[0] / 1000.0;
    out->median_us = pct_us(samples, n, 0.5);
    out->p90_us = pct_us(samples, n, 0.9);
    out->p99_us = pct_us(samples, n, 0.99);
    out->max_us = (double)samples[n - 1] / 1000.0;
    out->rate = elapsed_ns ? (double)n / out->elapsed_s : 0;
}

/* Find the value of a top-level-looking "key": the quoted key followed by
 * optional spaces and a colon.  Escaped quotes inside string values are
 * preceded by a backslash, so they never match the pattern. */
static const char *
json_value(const char *msg, size_t len, const char *key)
{
    char pat[64];
    int pl = snprintf(pat, sizeof(pat), "\"%s\"", key);
    if (pl <= 0 || (size_t)pl >= sizeof(pat))
        return NULL;
    const char *end = msg + len, *p = msg;
    while ((p = memmem(p, (size_t)(end - p), pat, (size_t)pl)) != NULL) {
        const char *v = p + pl;
        while (v < end && isspace((unsigned char)*v))
            v++;
        if (v < end && *v == ':') {
            v++;
            while (v < end && isspace((unsigned char)*v))
                v++;
            return v < end ? v : NULL;
        }
        p += pl;
    }
    return NULL;
}

void
bench_json_str(const char *msg, size_t len, const char *key, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *v = json_value(msg, len, key), *end = msg + len;
    if (v == NULL || *v != '"')
        return;
    size_t o = 0;
    for (v++; v < end && *v != '"' && o + 1 < outlen; v++) {
        if (*v == '\\' && v + 1 < end)
            v++;
        out[o++] = *v;
    }
    out[o] = '\0';
}

uint64_t
bench_json_u64(const char *msg, size_t len, const char *key)
{
    const char *v = json_value(msg, len, key), *end = msg + len;
    uint64_t n = 0;
    if (v == NULL)
        return 0;
    for (; v < end && *v >= '0' && *v <= '9'; v++)
        n = n * 10 + (uint64_t)(*v - '0');
    return n;
}

static int
read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, buf, len - 1);
    close(fd);
    if (r < 0)
        return -1;
    buf[r] = '\0';
    return 0;
}

long
bench_proc_rss_kib(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (read_small(path, buf, sizeof(buf)) != 0)
        return -1;
    const char *p = strstr(buf, "VmRSS:");
    return p ? strtol(p + 6, NULL, 10) : -1;
}

long
bench_proc_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int
bench_rss_over(bench_rss_cap_t *c)
{
    uint64_t now = bench_now_ns();
    if (!c->over && now - c->t_read >= 250000000ull) {
        c->t_read = now;
        long rss = bench_proc_rss_kib(c->pid);
        if (rss > c->peak)
            c->peak = rss;
        if (c->cap_mib > 0 && rss > (long)(c->cap_mib * 1024)) {
            c->over = 1;
            fprintf(stderr, "tale-bench: the host's RSS is %ld MiB, over the cap of %.0f MiB: no more load\n", rss / 1024,
                    c->cap_mib);
        }
    }
    return c->over;
}

void
bench_wait_settled(pid_t pid, long fds0, uint64_t min_ns, uint64_t end_ns, long *rss, long *fds)
{
    long prev = -1;
    int steady = 0;
    while (bench_now_ns() < end_ns) {
        usleep(250000);
        *rss = bench_proc_rss_kib(pid);
        *fds = bench_proc_fds(pid);
        steady = *rss == prev ? steady + 1 : 0;
        prev = *rss;
        if (bench_now_ns() >= min_ns && *fds <= fds0 && steady >= 12)
            break;
    }
}

long long
bench_proc_cpu_ticks(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_small(path, buf, sizeof(buf)) != 0)
        return -1;
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    const char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    p += 2; /* field 3, state */
    unsigned long long ut = 0, st = 0;
    /* fields 3..13 skipped, 14 utime, 15 stime */
    if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* ---- buffers and HTTP heads ---- */

int
bench_form_body(const char *cmd, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = (size_t)snprintf(out, outlen, "cmd=");
    for (const unsigned char *c = (const unsigned char *)cmd; *c && o + 4 < outlen; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("-_.~", *c))
            out[o++] = (char)*c;
        else if (*c == ' ')
            out[o++] = '+';
        else {
            out[o++] = '%';
            out[o++] = hex[*c >> 4];
            out[o++] = hex[*c & 15];
        }
    }
    out[o] = '\0';
    return (int)o;
}

int
bench_buf_append(bench_buf_t *b, const void *d, size_t n, size_t max)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > max)
            return -1;
        char *np = realloc(b->p, cap);
        if (np == NULL)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

void
bench_buf_consume(bench_buf_t *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    if (b->p)
        b->p[b->len] = '\0';
}

int
bench_http_header(const char *head, const char *name, char *out, size_t outlen)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\r\n%s:", name);
    const char *p = strcasestr(head, pat);
    if (p == NULL)
        return -1;
    p += strlen(pat);
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\r\n");
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}
