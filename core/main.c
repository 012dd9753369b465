/*
 * main.c - tale-host's command line and start-up / shut-down order.
 */
#include "accounts_admin.h"
#include "config.h"
#include "engine.h"
#include "host.h"
#include "accesslog.h"
#include "log.h"
#include "peers.h"
#include "saver.h"
#include "session.h"
#include <tale/alloc.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void
usage(FILE *out)
{
    fprintf(out, "Usage: tale-host [--config FILE] [--log-level LEVEL]\n"
                 "       tale-host --check-config FILE\n"
                 "       tale-host accounts list|lock|unlock|delete|reset-password [NAME] [--config FILE]\n"
                 "       tale-host --version | --help\n"
                 "\n"
                 "Runs a text game (interactive fiction or MUD) and serves it to browsers\n"
                 "through the transport plugins named in the config.\n"
                 "\n"
                 "  -c, --config FILE        run with this config (default: the installed\n"
                 "                           conf/tale.yaml, or the source tree's when run\n"
                 "                           from a build folder)\n"
                 "  -t, --check-config FILE  validate the config, the story and every plugin\n"
                 "                           (loaded and initialised) without binding ports;\n"
                 "                           exit 0 if all is well, 1 otherwise\n"
                 "  -l, --log-level LEVEL    error, warn, info or debug (overrides the config)\n"
                 "  -V, --version            print host, plugin ABI and h2o versions\n"
                 "  -h, --help               this text\n"
                 "\n"
                 "  accounts ...             manage a MUD's accounts (tale-host accounts --help),\n"
                 "                           also while the server runs\n");
}

/* The folder holding this executable, for finding the default config and
 * (in the loader) the plugins relative to it (works in the build tree and
 * when installed). */
static char *
exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0)
        return tale_xstrdup(".");
    buf[n] = '\0';
    return tale_xstrdup(dirname(buf));
}

static char *
join(const char *a, const char *b)
{
    char *out;
    if (asprintf(&out, "%s/%s", a, b) < 0)
        tale_oom(strlen(a) + strlen(b) + 2);
    return out;
}

static const char *
default_config(const char *bindir, char **owned)
{
    char *installed = join(bindir, "../" TALE_REL_DATA_DIR "/conf/tale.yaml");
    if (access(installed, R_OK) == 0) {
        *owned = installed;
        return installed;
    }
    free(installed);
    return TALE_SOURCE_CONF;
}

/* The engine's save writer, backed by the host's save worker (saver.c). */
static int
writer_submit(void *ctx, uint64_t ticket, char *data, size_t len, char *err, size_t errlen)
{
    return tale_saver_submit(((tale_host_t *)ctx)->saver, ticket, data, len, err, errlen);
}

static const char *
writer_unwritten(void *ctx, size_t *len)
{
    return tale_saver_unwritten(((tale_host_t *)ctx)->saver, len);
}

/* A save reached the disk (or failed): on the loop, tell who waits for it. */
static void
on_save_written(void *data, uint64_t ticket, int ok, const char *err)
{
    tale_host_t *h = data;
    if (!ok)
        tale_error("session", "saving failed: %s", err);
    tale_world_save_done(h->world, ticket, ok, err);
}

/* IF mode with a data_dir: saves go to the worker, never fsync on the loop.
 * (MUD players cannot save; the shared world has no saver.) */
static int
saver_setup(tale_host_t *h)
{
    char err[512];
    if (h->cfg->mode != TALE_MODE_IF || h->cfg->data_dir == NULL)
        return 0;
    if (h->world == NULL) { /* per_visitor: each instance queues its own file */
        if ((h->saver = tale_saver_new(h->loop, NULL, NULL, NULL, err, sizeof(err))) == NULL) {
            tale_error("host", "%s", err);
            return -1;
        }
        return tale_sessions_use_instances(h->sessions, h->saver);
    }
    char *path = tale_world_save_path(h->world, err, sizeof(err));
    if (path != NULL)
        h->saver = tale_saver_new(h->loop, path, on_save_written, h, err, sizeof(err));
    free(path);
    if (h->saver == NULL) {
        tale_error("host", "%s", err);
        return -1;
    }
    tale_save_writer_t sw = {.submit = writer_submit, .unwritten = writer_unwritten, .ctx = h};
    tale_world_set_save_writer(h->world, &sw);
    return 0;
}

/* Descriptors the host needs besides its client connections: listeners, the
 * epoll fd and signalfd, the spare kept for running out of descriptors
 * (server.c), story, save and log files, the plugins' own files and the few
 * connections being evicted at once.  Generous on purpose: running out is
 * survivable (server.c answers 503 and pauses), but noisy. */
#define TALE_FD_RESERVE 64

/* RLIMIT_NOFILE must fit max_connections plus the reserve: raise the soft
 * limit as far as needed (up to the hard one); if the hard limit is too low,
 * refuse with one line saying what to change.  Under --check-config the same
 * line is a warning, since the limits there may not be the service's. */
static int
fit_fd_limit(const tale_config_t *cfg, int check_only)
{
    rlim_t need = (rlim_t)cfg->limits.max_connections + TALE_FD_RESERVE;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        tale_warn("host", "getrlimit(RLIMIT_NOFILE): %s; not checking the descriptor limit", strerror(errno));
        return 0;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        char why[256];
        snprintf(why, sizeof(why),
                 "limits.max_connections (%llu) needs %llu file descriptors but the hard limit is %llu: raise it "
                 "(ulimit -Hn, LimitNOFILE=) or lower limits.max_connections",
                 (unsigned long long)cfg->limits.max_connections, (unsigned long long)need, (unsigned long long)rl.rlim_max);
        if (check_only) {
            tale_warn("host", "%s", why);
            return 0;
        }
        tale_error("host", "%s", why);
        return -1;
    }
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        tale_error("host", "cannot raise the file descriptor limit from %llu to %llu for limits.max_connections (%llu): %s",
                   (unsigned long long)was, (unsigned long long)need, (unsigned long long)cfg->limits.max_connections,
                   strerror(errno));
        return -1;
    }
    tale_debug("host", "raised the file descriptor limit from %llu to %llu", (unsigned long long)was, (unsigned long long)need);
    return 0;
}

/* What the open access log was opened with, to see whether a reload changed it. */
static struct {
    char *path; /* NULL: none, or standard error */
    int format;
} log_opened;

static void
log_opened_note(const tale_config_t *cfg)
{
    free(log_opened.path);
    log_opened.path = cfg->access_log != NULL ? tale_xstrdup(cfg->access_log) : NULL;
    log_opened.format = cfg->access_log_format;
}

/* A reload hook (SIGHUP/SIGUSR1, run on the loop by server.c).  SIGUSR1, or a
 * SIGHUP that left `access_log` as it was: logrotate has moved the file away,
 * so start a new one at its path.  A SIGHUP that changed `access_log`: open the
 * new one, and keep the old one if it cannot be opened. */
static void
reopen_logs(tale_host_t *h, int config_reread, void *data)
{
    (void)data;
    const tale_config_t *cfg = h->cfg;
    int same = (cfg->access_log == NULL) == (log_opened.path == NULL) &&
               (cfg->access_log == NULL || strcmp(cfg->access_log, log_opened.path) == 0) &&
               cfg->access_log_format == log_opened.format;
    if (!config_reread || same) {
        if (h->accesslog != NULL)
            tale_accesslog_reopen(h->accesslog);
        return;
    }
    tale_accesslog_t *fresh = NULL;
    if (cfg->access_log != NULL) {
        char err[512];
        if ((fresh = tale_accesslog_open(h->loop, cfg->access_log, cfg->access_log_format, err, sizeof(err))) == NULL) {
            tale_error("reload", "access_log not changed: %s", err);
            return;
        }
    }
    if (h->accesslog != NULL)
        tale_accesslog_free(h->accesslog);
    h->accesslog = fresh;
    log_opened_note(cfg);
    tale_info("reload", "access log now %s", cfg->access_log != NULL ? cfg->access_log : "off");
}

/* Everything from config to a listening server; -1 after logging why. */
static int
host_setup(tale_host_t *h, const char *config_path, const char *bindir, int check_only, int level)
{
    char err[1024];
    h->bindir = bindir; /* the loader's own plugin folders are beside the binary */
    tale_host_on_reload(h, reopen_logs, NULL);
    h->cfg = tale_config_load(config_path, err, sizeof(err));
    if (h->cfg == NULL) {
        tale_error("config", "%s", err);
        return -1;
    }
    if (level < 0)
        tale_log_level = h->cfg->log_level;
    for (size_t i = 0; i < h->cfg->n_warnings; i++)
        tale_warn("config", "%s", h->cfg->warnings[i]);
    tale_world_options_t wopt = {
        .save_dir = h->cfg->data_dir, .max_input = h->cfg->limits.max_input, .shared = h->cfg->mode == TALE_MODE_MUD};
    if (fit_fd_limit(h->cfg, check_only) != 0)
        return -1;
    h->story = tale_story_load(h->cfg->story, err, sizeof(err));
    if (h->story == NULL) {
        tale_error("story", "%s", err);
        return -1;
    }
    int per_visitor = h->cfg->mode == TALE_MODE_IF && h->cfg->instances == TALE_INSTANCES_PER_VISITOR;
    if (!per_visitor)
        h->world = tale_world_new(h->story, &wopt);
    const tale_story_meta_t *meta = tale_story_meta(h->story);
    h->start_time = time(NULL);
    h->story_info = (tale_story_info_t){
        .size = sizeof(tale_story_info_t),
        .name = meta->name,
        .version = meta->version,
        .author = meta->author,
        .author_email = meta->author_email,
        .resources_dir = meta->resources_dir,
        .tale_version = TALE_VERSION,
        .start_time = h->start_time,
        .mode = h->cfg->mode,
    };
    tale_info("host", "story '%s' %s by %s (%s)", meta->name, meta->version, meta->author,
              h->cfg->mode == TALE_MODE_MUD ? "MUD mode"
              : per_visitor                 ? "IF mode, a game per visitor"
                                            : "IF mode");

    if (tale_server_init(h) != 0)
        return -1;
    h->peers = tale_peers_new();
    if ((h->sessions = tale_sessions_new(h)) == NULL)
        return -1;
    if (tale_plugins_load(h) != 0 || tale_plugins_start(h) != 0 || tale_plugins_register_mounts(h) != 0)
        return -1;
    if (check_only)
        return 0;
    if (h->cfg->access_log != NULL &&
        (h->accesslog = tale_accesslog_open(h->loop, h->cfg->access_log, h->cfg->access_log_format, err, sizeof(err))) == NULL) {
        tale_error("host", "%s", err);
        return -1;
    }
    log_opened_note(h->cfg);
    if (saver_setup(h) != 0 || tale_sessions_use_accounts(h->sessions) != 0 || tale_server_listen(h) != 0)
        return -1;
    tale_sessions_announce(h->sessions, h->n_listeners > 0 ? h->listeners[0].url : NULL);
    return 0;
}

/* Undo host_setup in the order h2o needs (H2O-NOTES 9). */
static void
host_teardown(tale_host_t *h)
{
    tale_server_dispose(h); /* listeners, plugins' stop, drain */
    if (h->saver != NULL) {
        /* per_visitor: every live game goes to the worker's queue first */
        if (h->world == NULL && h->sessions != NULL)
            tale_sessions_autosave(h->sessions);
        /* every queued save reaches the disk before the shutdown save,
         * which then runs synchronously: the loop has stopped */
        tale_saver_finish(h->saver);
        if (h->world != NULL)
            tale_world_set_save_writer(h->world, NULL);
    }
    if (h->sessions != NULL)
        tale_sessions_free(h->sessions, TALE_CLOSE_GOING_AWAY, "The server is shutting down.");
    h->sessions = NULL;
    tale_plugins_destroy(h);
    /* after the sessions: their connections' last lines go in */
    tale_accesslog_free(h->accesslog);
    h->accesslog = NULL;
    tale_saver_free(h->saver);
    h->saver = NULL;
    if (h->loop != NULL)
        tale_server_free(h);
    free(h->reload_hooks); /* registered before the loop exists: a setup that failed early */
    h->reload_hooks = NULL;
    h->n_reload_hooks = 0;
    free(log_opened.path);
    log_opened.path = NULL;
    tale_plugins_unload(h);
    tale_peers_free(h->peers);
    h->peers = NULL;
    if (h->world != NULL)
        tale_world_free(h->world);
    tale_story_free(h->story);
    if (h->cfg != NULL)
        tale_config_free(h->cfg);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", required_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'l'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int check_only = 0, level = -1, c;
    if (argc > 1 && strcmp(argv[1], "accounts") == 0) {
        char *bindir = exe_dir(), *owned = NULL;
        int rc = tale_accounts_admin(argc - 2, argv + 2, default_config(bindir, &owned));
        free(bindir);
        free(owned);
        return rc;
    }
    while ((c = getopt_long(argc, argv, "c:t:l:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 't':
            config_path = optarg;
            check_only = 1;
            break;
        case 'l':
            if ((level = tale_log_level_from_name(optarg)) < 0) {
                fprintf(stderr, "tale-host: unknown log level '%s' (expected error, warn, info or debug)\n", optarg);
                return 2;
            }
            break;
        case 'V':
            printf("tale-host %s (plugin ABI %d.%d, h2o %s)\n", TALE_VERSION, TALE_ABI_MAJOR, TALE_ABI_MINOR, H2O_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tale-host: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    /* A peer that vanishes mid-write must not kill the process (H2O-NOTES 5). */
    signal(SIGPIPE, SIG_IGN);

    char *bindir = exe_dir(), *owned = NULL;
    if (config_path == NULL)
        config_path = default_config(bindir, &owned);
    if (level >= 0)
        tale_log_level = level;

    tale_host_t host = {.log_level_pinned = level >= 0};
    int rc = host_setup(&host, config_path, bindir, check_only, level);
    if (rc == 0 && check_only) {
        printf("%s: OK (%zu plugin%s loaded)\n", config_path, host.n_plugins, host.n_plugins == 1 ? "" : "s");
    } else if (rc == 0) {
        tale_sessions_start_tick(host.sessions);
        rc = tale_server_run(&host);
    }
    host_teardown(&host);
    if (rc == 0 && !check_only)
        tale_info("host", "bye");
    free(bindir);
    free(owned);
    return rc == 0 ? 0 : 1;
}
