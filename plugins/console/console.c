/*
 * console.c - the terminal transport: play on stdin/stdout.
 *
 * One player, one "connection": the process's own terminal (or pipes).  Lines
 * read from stdin become session input; text frames are rendered as plain
 * lines (ANSI attributes when stdout is a terminal).  stdin is read on the
 * host's loop like any socket, so the game tick keeps pushing NPC moves and
 * emotes while the player thinks.  End of input asks the host to quit.
 *
 * Output never blocks the loop either: it goes to a private non-blocking
 * description of stdout, and what the terminal does not take at once waits in
 * a backlog (max_backlog bytes) written from a loop timer.  Past the bound,
 * output is dropped until the backlog drains, then one line says how much.
 *
 *   plugins:
 *     - name: console
 *       module: console
 *       config: { prompt: "> ", max_backlog: 1m, drain_timeout: 2s }
 */
#include <tale/alloc.h>
#include <tale/buf.h>
#include <tale/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <inttypes.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#define LINE_MAX_BYTES 4096   /* longer input lines are refused whole (the host caps commands further) */
#define FILE_SLICE_BYTES 4096 /* bytes read per loop turn when stdin is a plain file */
#define RETRY_MS 20           /* while the terminal takes no output: try again this often */

/* How output reaches stdout without blocking the loop. */
enum out_mode {
    OUT_BLOCKING, /* a plain file (never stalls for long), or stdout could not be reopened */
    OUT_NONBLOCK, /* our own O_NONBLOCK description of a pipe or terminal */
    OUT_SOCKET,   /* a socket: send() with MSG_DONTWAIT, leaving the shared description alone */
};

typedef struct console {
    tale_plugin_t *self;
    const tale_host_api_t *host;
    char *prompt;
    int ansi;        /* stdout is a terminal: style classes become SGR attributes */
    int stdout_tty;  /* stdout is a terminal: wrap lines at its width */
    int interactive; /* stdin is a terminal: show the prompt, the terminal echoes input itself */

    h2o_evloop_t *loop;
    int in_fd;          /* our own descriptor for stdin, -1 once handed to h2o or closed */
    h2o_socket_t *sock; /* stdin when it can be polled (tty, pipe, socket) */
    int file_mode;      /* stdin cannot be polled (plain file, /dev/null): read a slice per loop turn */
    h2o_timeout_t zero; /* 0 ms: "on the next loop turn" */
    h2o_timeout_entry_t kick;
    int zero_inited;

    tale_session_t *session;
    int attached;   /* the host may send to us */
    int started;    /* the session was asked for */
    int input_done; /* stdin reached its end, or we stopped reading it */
    int stopping;   /* stop() ran */
    int quit_asked;
    int out_broken;  /* stdout is gone: the player cannot see anything any more */
    int end_process; /* IF game over: stop the host as a terminal program would */
    int prompt_shown;
    int prompt_wanted; /* show the prompt on the next loop turn (after a data frame) */
    int echo_is_off;   /* "noecho": the terminal does not echo the next line */
    struct termios saved_termios;

    tale_buf_t in;  /* bytes read but not yet split into lines */
    int discarding; /* inside an over-long line: drop until its newline */
    tale_buf_t out; /* scratch for one frame's rendering */

    int out_fd; /* where output goes (see enum out_mode) */
    enum out_mode out_mode;
    tale_buf_t backlog; /* output stdout has not taken yet: [backlog_off, backlog.len) */
    size_t backlog_off;
    uint64_t max_backlog; /* config: bytes the backlog may hold */
    uint64_t drain_ms;    /* config: how long stop() waits for the backlog to drain */
    uint64_t dropped;     /* bytes dropped since the backlog overflowed; told once it drains */
    h2o_timeout_t retry;  /* RETRY_MS: write the backlog again */
    h2o_timeout_entry_t retry_entry;
} console_t;

static void request_kick(console_t *c);
static void show_prompt(console_t *c);

/* Write what stdout takes now, without waiting.  Returns the bytes written;
 * on a real error (the reader is gone) marks stdout broken and lets the next
 * loop turn end the game (see on_kick). */
static size_t
write_some(console_t *c, const char *p, size_t len)
{
    size_t done = 0;
    while (done < len && !c->out_broken) {
        ssize_t n = c->out_mode == OUT_SOCKET ? send(c->out_fd, p + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL)
                                              : write(c->out_fd, p + done, len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break; /* full: the rest waits in the backlog */
        } else {
            c->out_broken = 1;
            request_kick(c);
        }
    }
    return done;
}

static void
arm_retry(console_t *c)
{
    if (c->zero_inited && !c->stopping && !h2o_timeout_is_linked(&c->retry_entry))
        h2o_timeout_link(c->loop, &c->retry, &c->retry_entry);
}

/* Write the backlog.  Once it is empty after an overflow, say once how much
 * was dropped.  Returns 1 when nothing is left to write. */
static int
flush_backlog(console_t *c)
{
    size_t n = write_some(c, c->backlog.data + c->backlog_off, c->backlog.len - c->backlog_off);
    c->backlog_off += n;
    if (c->backlog_off < c->backlog.len && !c->out_broken) {
        if (c->backlog_off >= c->backlog.len / 2) {
            /* keep the buffer from creeping: move the unwritten half down */
            memmove(c->backlog.data, c->backlog.data + c->backlog_off, c->backlog.len - c->backlog_off);
            c->backlog.len -= c->backlog_off;
            c->backlog_off = 0;
        }
        return 0;
    }
    c->backlog.len = c->backlog_off = 0;
    if (c->dropped > 0 && !c->out_broken) {
        char line[160];
        int len =
            snprintf(line, sizeof(line), "%s(console: the terminal stopped reading; %" PRIu64 " bytes of output were dropped)%s\n",
                     c->ansi ? "\r\033[K\033[0;2m" : "\n", c->dropped, c->ansi ? "\033[0m" : "");
        c->dropped = 0;
        c->prompt_shown = 0;
        n = write_some(c, line, (size_t)len);
        if (n < (size_t)len)
            tale_buf_append(&c->backlog, line + n, (size_t)len - n);
        return c->backlog.len == 0;
    }
    return 1;
}

static void
on_retry(h2o_timeout_entry_t *entry)
{
    console_t *c = H2O_STRUCT_FROM_MEMBER(console_t, retry_entry, entry);
    if (!flush_backlog(c))
        arm_retry(c);
    else
        show_prompt(c); /* after a drop notice, which took the prompt line */
}

/*
 * All output goes through here and never waits.  What stdout does not take
 * at once is kept in order in the backlog; past max_backlog, output is
 * dropped (whole pieces, so no half escape sequence) until the backlog has
 * drained, and then one line says how many bytes were lost.  The game, the
 * tick and every other transport go on meanwhile.
 */
static void
write_all(console_t *c, const char *p, size_t len)
{
    if (c->out_broken || len == 0)
        return;
    if (c->dropped > 0) {
        c->dropped += len;
        return;
    }
    if (c->backlog.len == c->backlog_off) {
        size_t n = write_some(c, p, len);
        p += n;
        len -= n;
        if (len == 0 || c->out_broken)
            return;
    }
    if (c->backlog.len - c->backlog_off + len > c->max_backlog) {
        if (c->dropped == 0)
            c->host->log(c->self, TALE_LOG_WARN,
                         "stdout is not being read: dropping output until %" PRIu64 " bytes drain (max_backlog)",
                         (uint64_t)(c->backlog.len - c->backlog_off));
        c->dropped = len;
    } else {
        tale_buf_append(&c->backlog, p, len);
    }
    arm_retry(c);
}

static void
write_str(console_t *c, const char *s)
{
    write_all(c, s, strlen(s));
}

/* At stop: give the backlog up to drain_timeout to reach stdout (the last
 * lines of a game), waiting with poll(); a reader that never reads does not
 * hold the shutdown longer than that. */
static void
drain_backlog(console_t *c)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!flush_backlog(c) && !c->out_broken) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t spent = (int64_t)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= (int64_t)c->drain_ms)
            break;
        struct pollfd pfd = {.fd = c->out_fd, .events = POLLOUT};
        poll(&pfd, 1, (int)((int64_t)c->drain_ms - spent));
    }
}

static void
show_prompt(console_t *c)
{
    if (!c->interactive || c->prompt_shown || c->input_done || c->stopping)
        return;
    write_str(c, c->prompt);
    c->prompt_shown = 1;
}

/* Something arrives while the prompt is up (a tick): take the prompt line back first. */
static void
clear_prompt(console_t *c)
{
    if (!c->prompt_shown)
        return;
    write_str(c, c->ansi ? "\r\033[K" : "\n");
    c->prompt_shown = 0;
}

/* A one-line note from the console itself (dim on a terminal). */
static void
note(console_t *c, const char *text)
{
    clear_prompt(c);
    if (c->ansi)
        write_str(c, "\033[2m");
    write_str(c, text);
    write_str(c, c->ansi ? "\033[0m\n" : "\n");
}

/* ---- the player-IO vtable ---- */

/* Wrap for a terminal at its current width (asked per frame, so a resize just works); never for pipes. */
static unsigned
terminal_width(console_t *c)
{
    struct winsize ws;
    if (!c->stdout_tty || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col < 20)
        return 0;
    return ws.ws_col;
}

/* "noecho": the next line is a secret.  Terminal settings belong to the
 * device, so stdin's descriptor is as good as the one h2o holds. */
static void
echo_off(console_t *c)
{
    struct termios t;
    if (!c->interactive || c->echo_is_off || tcgetattr(STDIN_FILENO, &c->saved_termios) != 0)
        return;
    t = c->saved_termios;
    t.c_lflag &= ~(tcflag_t)ECHO;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
        c->echo_is_off = 1;
}

/* After the secret line (or when we go): echo back on, and the newline the terminal did not echo. */
static void
echo_on(console_t *c)
{
    if (!c->echo_is_off)
        return;
    c->echo_is_off = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &c->saved_termios);
    write_str(c, "\n");
}

static int
console_send(void *conn, const tale_frame_t *frame)
{
    console_t *c = conn;
    clear_prompt(c);
    /* Without a terminal echoing the typing, echoed input shows after the prompt, so a transcript reads "> look". */
    tale_text_opts_t opts = {
        .size = sizeof(opts),
        .flags = (c->ansi ? TALE_TEXT_ANSI : TALE_TEXT_PLAIN) | (c->interactive ? TALE_TEXT_SKIP_INPUT : 0),
        .width = terminal_width(c),
        .input_prefix = c->prompt,
    };
    size_t len;
    unsigned special;
    char *text = c->host->frame_text(c->self, frame, &opts, &len, &special);
    if ((special & TALE_FRAME_CLEAR) && c->ansi)
        write_str(c, "\033[H\033[2J");
    if (special & TALE_FRAME_NOECHO)
        echo_off(c);
    if (text != NULL)
        write_all(c, text, len);
    c->host->free(text);
    if (c->out_broken) {
        /* Nobody can read the game any more: end it, but not from inside the host's call. */
        c->input_done = 1;
        request_kick(c);
        return -1;
    }
    if (!(special & TALE_FRAME_DATA)) {
        show_prompt(c);
    } else {
        /* a command's data frame comes just before its text frame: prompt after that, or next turn */
        c->prompt_wanted = 1;
        request_kick(c);
    }
    return 0;
}

static void
stop_reading(console_t *c)
{
    echo_on(c);
    c->input_done = 1;
    if (c->sock != NULL) {
        h2o_socket_t *sock = c->sock;
        c->sock = NULL;
        h2o_socket_close(sock);
    }
    if (c->in_fd >= 0) {
        close(c->in_fd);
        c->in_fd = -1;
    }
}

static void
console_close(void *conn, int code, const char *reason)
{
    console_t *c = conn;
    c->attached = 0;
    if (reason != NULL && reason[0] != '\0') {
        char line[300];
        snprintf(line, sizeof(line), "[%.280s]", reason);
        note(c, line);
    }
    /* The seat is gone (taken over, game ended, shutdown): further input has nowhere to go. */
    stop_reading(c);
    c->prompt_shown = 0;
    if (code == TALE_CLOSE_SESSION_ENDED && !c->stopping) {
        const tale_story_info_t *info = c->host->story_info(c->self);
        if (info != NULL && info->mode == TALE_MODE_IF) {
            /* The one game is over and this terminal was playing it: end the process as a
             * terminal program ends, on the next loop turn (unless the host stops first). */
            c->end_process = 1;
            request_kick(c);
        }
    }
}

static const tale_player_io_t console_io = {
    .size = sizeof(tale_player_io_t),
    .send = console_send,
    .close = console_close,
    .backlog = NULL,
};

/* ---- input ---- */

static void
ask_quit(console_t *c)
{
    if (c->quit_asked || c->session == NULL || c->stopping)
        return;
    c->quit_asked = 1;
    c->host->session_quit(c->session);
}

/* One complete line from the player. */
static void
input_line(console_t *c, char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    while (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
        line++;
        len--;
    }
    c->prompt_shown = 0; /* the terminal moved to a new line when the player pressed enter */
    echo_on(c);
    if (len == 0) {
        show_prompt(c);
        return;
    }
    c->host->session_input(c->session, line, len, 0);
}

/*
 * Split what was read into lines and feed them.  Every call into the host may
 * run the game synchronously and come back through send/close (or, for
 * "quit", end the session), so the state is re-checked after each line.
 */
static void
feed(console_t *c, const char *p, size_t len)
{
    tale_buf_append(&c->in, p, len);
    size_t start = 0;
    while (c->attached && !c->stopping) {
        char *nl = memchr(c->in.data + start, '\n', c->in.len - start);
        if (nl == NULL)
            break;
        size_t llen = (size_t)(nl - (c->in.data + start));
        char *line = c->in.data + start;
        start += llen + 1;
        if (c->discarding) {
            c->discarding = 0;
            continue;
        }
        if (llen > LINE_MAX_BYTES) {
            note(c, "(console: that line is too long and was ignored)");
            continue;
        }
        input_line(c, line, llen);
    }
    memmove(c->in.data, c->in.data + start, c->in.len - start);
    c->in.len -= start;
    if (c->discarding) {
        c->in.len = 0; /* still inside the over-long line */
    } else if (c->in.len > LINE_MAX_BYTES) {
        /* an endless line: keep memory bounded and drop it up to its newline */
        note(c, "(console: that line is too long and was ignored)");
        c->in.len = 0;
        c->discarding = 1;
    }
}

/* stdin is finished: a last line without newline still counts, then the game ends. */
static void
input_eof(console_t *c)
{
    if (c->in.len > 0 && c->attached && !c->discarding) {
        size_t len = c->in.len;
        c->in.len = 0;
        input_line(c, c->in.data, len);
    }
    c->in.len = 0;
    stop_reading(c);
    if (c->interactive && c->prompt_shown) {
        write_str(c, "\n");
        c->prompt_shown = 0;
    }
    ask_quit(c);
}

static void
on_read(h2o_socket_t *sock, const char *err)
{
    console_t *c = sock->data;
    if (err != NULL) {
        input_eof(c);
        return;
    }
    /* Take the bytes out of h2o's buffer first: the lines we feed may close this socket. */
    size_t n = sock->input->size;
    if (n > 0) {
        char *copy = tale_xmalloc(n);
        memcpy(copy, sock->input->bytes, n);
        h2o_buffer_consume(&sock->input, n);
        feed(c, copy, n);
        free(copy);
    }
}

/* A plain file never blocks, but epoll refuses it: read one slice per loop turn instead. */
static void
read_file_slice(console_t *c)
{
    char buf[FILE_SLICE_BYTES];
    ssize_t n;
    do {
        n = read(c->in_fd, buf, sizeof(buf));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        input_eof(c);
        return;
    }
    feed(c, buf, (size_t)n);
    if (!c->input_done)
        request_kick(c);
}

/* First turn of the loop: every plugin has started and the game exists, so take the seat. */
static void
begin_session(console_t *c)
{
    c->started = 1;
    const char *why = "the game has no free session";
    c->session = NULL;
    /* The player sits at the host's own terminal: trusted with the IF seat. */
    tale_request_t rq = {.size = sizeof(rq), .flags = TALE_SESSION_CREATE | TALE_SESSION_TRUSTED};
    c->host->session_open(c->self, &rq, &c->session, NULL, &why);
    if (c->session == NULL) {
        c->host->log(c->self, TALE_LOG_ERROR, "no seat to play in (%s)", why != NULL ? why : "refused");
        stop_reading(c);
        return;
    }
    /* Attach first: the backlog (welcome text, first look) is printed before we read a line. */
    c->attached = 1;
    if (c->host->session_attach(c->session, &console_io, c, 0) != 0) {
        c->attached = 0;
        c->host->log(c->self, TALE_LOG_ERROR, "the host refused to attach the console");
        stop_reading(c);
        return;
    }
    show_prompt(c);
    if (c->sock != NULL)
        h2o_socket_read_start(c->sock, on_read);
    else if (c->file_mode)
        request_kick(c);
}

/* The player is gone for good: ask the host to shut down gracefully. */
static void
end_process(console_t *c, const char *why)
{
    c->host->request_stop(c->self, why);
}

static void
on_kick(h2o_timeout_entry_t *entry)
{
    console_t *c = H2O_STRUCT_FROM_MEMBER(console_t, kick, entry);
    if (c->stopping)
        return;
    if (c->end_process) {
        end_process(c, "the game is over");
        return;
    }
    if (!c->started) {
        begin_session(c);
        return;
    }
    if (c->out_broken) {
        if (c->attached) {
            c->attached = 0;
            c->host->session_detach(c->session, c);
        }
        stop_reading(c);
        ask_quit(c);
        /* detached, we get no close for the game's end: stop here, as on a session-ended close */
        const tale_story_info_t *info = c->host->story_info(c->self);
        if (info != NULL && info->mode == TALE_MODE_IF)
            end_process(c, "the player's terminal went away");
        return;
    }
    if (c->prompt_wanted) {
        c->prompt_wanted = 0;
        show_prompt(c);
    }
    if (c->file_mode && !c->input_done && c->attached)
        read_file_slice(c);
}

static void
request_kick(console_t *c)
{
    if (c->zero_inited && !h2o_timeout_is_linked(&c->kick))
        h2o_timeout_link(c->loop, &c->zero, &c->kick);
}

/*
 * Our own descriptor for stdin.  h2o sets O_NONBLOCK on what it is given; on
 * fd 0 itself that flag would land on the open file description the shell
 * and our stdout share (a terminal is one description behind fds 0, 1 and 2).
 * Reopening through /proc gives a private description; a plain file is
 * dup()ed instead so it keeps its read offset (and never needs O_NONBLOCK).
 */
static int
open_stdin(console_t *c, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(STDIN_FILENO, &st) != 0) {
        /* no stdin at all: behave as an empty one */
        c->file_mode = 1;
        c->in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        return c->in_fd >= 0 ? 0 : -1;
    }
    int fd = -1;
    if (!S_ISREG(st.st_mode))
        fd = open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
        snprintf(err, errlen, "cannot use stdin: %s", strerror(errno));
        return -1;
    }
    c->in_fd = fd;
    if (S_ISREG(st.st_mode)) {
        c->file_mode = 1;
        return 0;
    }
    /* Ask epoll itself whether it can watch this descriptor (it refuses /dev/null and files). */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    int pollable = ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
    if (ep >= 0)
        close(ep);
    if (!pollable) {
        c->file_mode = 1;
        return 0;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    c->sock = h2o_evloop_socket_create(c->loop, fd, 0);
    c->in_fd = -1; /* h2o owns it now and closes it with the socket */
    if (c->sock == NULL) {
        close(fd);
        snprintf(err, errlen, "cannot watch stdin on the event loop");
        return -1;
    }
    c->sock->data = c;
    return 0;
}

/*
 * Our own way to write stdout without blocking.  O_NONBLOCK on fd 1 itself
 * would land on the description the shell shares (as with stdin, above), so
 * a pipe or terminal is reopened through /proc for a private description; a
 * socket gets MSG_DONTWAIT per send; a plain file is written as is (it never
 * stalls for long).  If the reopen fails, writes may block, as they always
 * did: logged once.
 */
static void
open_stdout(console_t *c)
{
    struct stat st;
    c->out_fd = STDOUT_FILENO;
    c->out_mode = OUT_BLOCKING;
    if (fstat(STDOUT_FILENO, &st) != 0 || S_ISREG(st.st_mode))
        return;
    if (S_ISSOCK(st.st_mode)) {
        c->out_mode = OUT_SOCKET;
        return;
    }
    int fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        c->host->log(c->self, TALE_LOG_WARN, "cannot reopen stdout without blocking (%s): a stalled terminal may stall the game",
                     strerror(errno));
        return;
    }
    c->out_fd = fd;
    c->out_mode = OUT_NONBLOCK;
}

/* ---- lifecycle ---- */

/* The plugin's config keys (docs/CONFIG.md, "console"). */
typedef struct console_conf {
    const char *prompt;
    uint64_t max_backlog, drain_ms;
} console_conf_t;

static const tale_conf_row_t console_conf_rows[] = {
    TALE_CONF_ROW_STRING("prompt", console_conf_t, prompt, "> "),
    TALE_CONF_ROW_SIZE("max_backlog", console_conf_t, max_backlog, 1024 * 1024, 0, 0),
    TALE_CONF_ROW_DURATION("drain_timeout", console_conf_t, drain_ms, 2000, 0, 0),
};

static int
console_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    /* conf_table (ABI 1.3) is the newest call we make. */
    if (!TALE_HOST_HAS(host, conf_table)) {
        snprintf(err, errlen, "the host's API %u.%u is older than the 1.3 this plugin needs", host->abi_major, host->abi_minor);
        return -1;
    }
    console_conf_t cf;
    if (host->conf_table(self, console_conf_rows, sizeof(console_conf_rows) / sizeof(console_conf_rows[0]), &cf) != 0)
        return -1;
    const char *prompt = cf.prompt;
    uint64_t max_backlog = cf.max_backlog, drain_ms = cf.drain_ms;
    if (max_backlog < 4096) {
        snprintf(err, errlen, "max_backlog must be at least 4k");
        return -1;
    }
    if (drain_ms > 60000) {
        snprintf(err, errlen, "drain_timeout must be at most 1m");
        return -1;
    }
    /* The frames' text comes from the host's renderer (ABI 1.3). */
    if (!TALE_HOST_HAS(host, frame_text)) {
        snprintf(err, errlen, "this host (plugin ABI %u.%u) cannot render frames as text; the console needs ABI 1.3",
                 host->abi_major, host->abi_minor);
        return -1;
    }
    console_t *c = tale_xcalloc(1, sizeof(*c));
    c->prompt = tale_xstrdup(prompt);
    c->max_backlog = max_backlog;
    c->drain_ms = drain_ms;
    c->out_fd = STDOUT_FILENO;
    c->self = self;
    c->host = host;
    c->in_fd = -1;
    c->interactive = isatty(STDIN_FILENO);
    c->stdout_tty = isatty(STDOUT_FILENO);
    /* NO_COLOR (no-color.org) and TERM=dumb turn attributes off even on a terminal. */
    const char *term = getenv("TERM"), *nocolor = getenv("NO_COLOR");
    c->ansi = isatty(STDOUT_FILENO) && !(nocolor != NULL && nocolor[0] != '\0') && !(term != NULL && strcmp(term, "dumb") == 0);
    *state = c;
    return 0;
}

static int
console_start(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    console_t *c = state;
    c->loop = c->host->loop(self);
    if (open_stdin(c, err, errlen) != 0)
        return -1;
    open_stdout(c);
    h2o_timeout_init(c->loop, &c->zero, 0);
    h2o_timeout_init(c->loop, &c->retry, RETRY_MS);
    c->zero_inited = 1;
    c->kick.cb = on_kick;
    c->retry_entry.cb = on_retry;
    request_kick(c);
    return 0;
}

static void
console_stop(tale_plugin_t *self, void *state)
{
    console_t *c = state;
    c->stopping = 1;
    if (c->zero_inited && h2o_timeout_is_linked(&c->kick))
        h2o_timeout_unlink(&c->kick);
    if (c->zero_inited && h2o_timeout_is_linked(&c->retry_entry))
        h2o_timeout_unlink(&c->retry_entry);
    stop_reading(c);
    if (c->attached) {
        c->attached = 0;
        c->host->session_detach(c->session, c);
    }
    if (c->prompt_shown) {
        write_str(c, "\n");
        c->prompt_shown = 0;
    }
    drain_backlog(c);
}

static void
console_destroy(tale_plugin_t *self, void *state)
{
    console_t *c = state;
    if (c->zero_inited) {
        if (h2o_timeout_is_linked(&c->kick))
            h2o_timeout_unlink(&c->kick);
        if (h2o_timeout_is_linked(&c->retry_entry))
            h2o_timeout_unlink(&c->retry_entry);
        h2o_timeout_dispose(c->loop, &c->zero);
        h2o_timeout_dispose(c->loop, &c->retry);
    }
    stop_reading(c);
    if (c->out_fd != STDOUT_FILENO)
        close(c->out_fd);
    tale_buf_free(&c->in);
    tale_buf_free(&c->out);
    tale_buf_free(&c->backlog);
    free(c->prompt);
    free(c);
}

static const tale_plugin_desc_t console_desc = {
    TALE_PLUGIN_DESC_HEADER, "console", "1.0", console_init, console_start, console_stop, console_destroy,
};

TALE_EXPORT const tale_plugin_desc_t *
TALE_PLUGIN_ENTRY(void)
{
    return &console_desc;
}
