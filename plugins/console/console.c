/*
 * console.c - the terminal transport: play on stdin/stdout.
 *
 * One player, one "connection": the process's own terminal (or pipes).  Lines
 * read from stdin become session input; text frames are rendered as plain
 * lines (ANSI attributes when stdout is a terminal).  stdin is read on the
 * host's loop like any socket, so the game tick keeps pushing NPC moves and
 * emotes while the player thinks.  End of input asks the host to quit.
 *
 *   plugins:
 *     - name: console
 *       module: console
 *       config: { prompt: "> " }
 */
#include <tale/alloc.h>
#include <tale/plugin.h>

#include "html_text.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <h2o.h>

#define LINE_MAX_BYTES 4096   /* longer input lines are refused whole (the host caps commands further) */
#define FILE_SLICE_BYTES 4096 /* bytes read per loop turn when stdin is a plain file */

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

    tale_console_buf_t in;  /* bytes read but not yet split into lines */
    int discarding;         /* inside an over-long line: drop until its newline */
    tale_console_buf_t out; /* scratch for one frame's rendering */
} console_t;

/*
 * Write everything to stdout.  The write blocks if the terminal or pipe is
 * full: a trade-off we accept for a local console (a reader that stops
 * reading is the player's own terminal), where a non-blocking stdout would
 * also flip O_NONBLOCK on the shell's shared terminal description.
 */
static int
write_all(console_t *c, const char *p, size_t len)
{
    if (c->out_broken)
        return -1;
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* someone else made the description non-blocking: wait as a blocking write would */
                struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
                if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
                    continue;
            }
            c->out_broken = 1;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void
write_str(console_t *c, const char *s)
{
    write_all(c, s, strlen(s));
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

static void request_kick(console_t *c);

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

static void
print_text_frame(console_t *c, json_t *frame)
{
    json_t *special = json_object_get(frame, "special");
    size_t i;
    json_t *v;
    json_array_foreach(special, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), "clear") == 0 && c->ansi)
            write_str(c, "\033[H\033[2J");
        if (json_is_string(v) && strcmp(json_string_value(v), "noecho") == 0)
            echo_off(c);
    }
    json_t *text = json_object_get(frame, "text");
    if (!json_is_string(text))
        return;
    c->out.len = 0;
    /* Without a terminal echoing the typing, echoed input shows after the prompt, so a transcript reads "> look". */
    tale_console_render_opts_t opts = {
        .flags = (c->ansi ? TALE_CONSOLE_ANSI : 0) | (c->interactive ? TALE_CONSOLE_SKIP_INPUT : 0),
        .input_prefix = c->prompt,
        .width = terminal_width(c),
    };
    tale_console_html_to_text(json_string_value(text), json_string_length(text), &opts, &c->out);
    write_all(c, c->out.data, c->out.len);
}

static void
print_data_frame(console_t *c, json_t *frame)
{
    const char *id = json_string_value(json_object_get(frame, "id"));
    const char *data = json_string_value(json_object_get(frame, "data"));
    char line[256];
    const char *type = "data";
    size_t tlen = 4;
    if (data != NULL && strncmp(data, "data:", 5) == 0) {
        type = data + 5;
        tlen = strcspn(type, ";,");
        if (tlen > 64)
            tlen = 64;
    }
    snprintf(line, sizeof(line), "[%.*s for #%.64s: %zu bytes; open the web client to see it]", (int)tlen, type,
             id ? id : "default-image", data ? strlen(data) : 0);
    note(c, line);
}

static int
console_send(void *conn, const tale_frame_t *frame)
{
    console_t *c = conn;
    json_error_t jerr;
    json_t *j = json_loadb(frame->json, frame->len, 0, &jerr);
    int is_text = 0;
    clear_prompt(c);
    if (j == NULL) {
        note(c, "(console: the host sent a frame that is not JSON)");
    } else {
        const char *type = json_string_value(json_object_get(j, "type"));
        if (type == NULL)
            type = frame->event;
        if (type != NULL && strcmp(type, "text") == 0) {
            print_text_frame(c, j);
            is_text = 1;
        } else if (type != NULL && strcmp(type, "data") == 0) {
            print_data_frame(c, j);
        }
        json_decref(j);
    }
    if (c->out_broken) {
        /* Nobody can read the game any more: end it, but not from inside the host's call. */
        c->input_done = 1;
        request_kick(c);
        return -1;
    }
    if (is_text) {
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
    tale_console_buf_append(&c->in, p, len);
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
    if (TALE_HOST_HAS(c->host, session_open)) {
        /* The player sits at the host's own terminal: trusted with the IF seat. */
        tale_request_t rq = {.size = sizeof(rq), .flags = TALE_SESSION_CREATE | TALE_SESSION_TRUSTED};
        c->host->session_open(c->self, &rq, &c->session, NULL, &why);
    } else {
        char set_cookie[TALE_SET_COOKIE_MAX];
        c->session = c->host->session_get(c->self, NULL, 0, TALE_SESSION_CREATE, set_cookie);
    }
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

/* The player is gone for good: ask the host to shut down gracefully.  A host
 * older than ABI 1.1 has no request_stop; SIGTERM reaches its signalfd and
 * does the same. */
static void
end_process(console_t *c, const char *why)
{
    if (c->host->size > offsetof(tale_host_api_t, request_stop) && c->host->request_stop != NULL)
        c->host->request_stop(c->self, why);
    else
        kill(getpid(), SIGTERM);
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

/* ---- lifecycle ---- */

static int
console_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    static const char *const known[] = {"prompt", NULL};
    const char *prompt;
    if (host->conf_check_keys(self, known) != 0 || host->conf_string(self, "prompt", "> ", &prompt) != 0)
        return -1;
    console_t *c = tale_xcalloc(1, sizeof(*c));
    c->prompt = tale_xstrdup(prompt);
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
    h2o_timeout_init(c->loop, &c->zero, 0);
    c->zero_inited = 1;
    c->kick.cb = on_kick;
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
    stop_reading(c);
    if (c->attached) {
        c->attached = 0;
        c->host->session_detach(c->session, c);
    }
    if (c->prompt_shown) {
        write_str(c, "\n");
        c->prompt_shown = 0;
    }
}

static void
console_destroy(tale_plugin_t *self, void *state)
{
    console_t *c = state;
    if (c->zero_inited) {
        if (h2o_timeout_is_linked(&c->kick))
            h2o_timeout_unlink(&c->kick);
        h2o_timeout_dispose(c->loop, &c->zero);
    }
    stop_reading(c);
    tale_console_buf_free(&c->in);
    tale_console_buf_free(&c->out);
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
