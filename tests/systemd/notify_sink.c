/*
 * notify_sink.c - stands in for systemd's notification socket in tests:
 * binds a unix datagram socket at argv[1] and prints each message it
 * receives on one line (its own newlines as spaces), until argv[2] seconds
 * have passed (a bound, so a forgotten sink cannot outlive its test).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: notify_sink SOCKET_PATH SECONDS\n");
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "notify_sink: socket path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("notify_sink: socket/bind");
        return 1;
    }
    printf("LISTENING\n");
    fflush(stdout);
    time_t end = time(NULL) + atoi(argv[2]);
    char buf[4096];
    while (time(NULL) < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
            continue;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\n')
                buf[i] = ' ';
        buf[n] = '\0';
        printf("%s\n", buf);
        fflush(stdout);
    }
    unlink(argv[1]);
    return 0;
}
