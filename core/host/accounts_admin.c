/*
 * accounts_admin.c - `tale-host accounts ...`: the operator's commands on
 * the accounts database, safe while the server runs (SQLite's locking: WAL,
 * and a busy timeout so a command waits out the server's batch of saves).
 *
 * A lock or a deletion takes effect at the account's next login; a player
 * online is closed when the server next saves their character (a minute
 * after their last change), which re-checks the account.
 */
#include "accounts_admin.h"
#include "accounts_store.h"
#include "config.h"
#include <tale/alloc.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_BUSY_MS 10000
#define GENERATED_LEN 16

static void
admin_usage(FILE *out)
{
    fprintf(out, "Usage: tale-host accounts list [--config FILE]\n"
                 "       tale-host accounts lock|unlock|delete NAME [--config FILE]\n"
                 "       tale-host accounts reset-password NAME [--generate] [--config FILE]\n"
                 "\n"
                 "Works on data_dir/accounts.sqlite of the config's MUD, also while the server runs.\n"
                 "lock and delete take effect at the account's next login; a player online is closed\n"
                 "when the server next saves their character (within a minute of their last command).\n"
                 "reset-password reads the new password from standard input (twice, without echo, on a\n"
                 "terminal), or with --generate makes one and prints it.  Exit status: 0 done, 1 failed,\n"
                 "2 usage.\n");
}

static void
print_row(void *data, const tale_acct_record_t *r)
{
    (void)data;
    char created[32] = "-", last[32] = "never";
    time_t c = (time_t)r->created, l = (time_t)r->last_login;
    struct tm tm;
    if (r->created > 0 && gmtime_r(&c, &tm) != NULL)
        strftime(created, sizeof(created), "%Y-%m-%d %H:%M", &tm);
    if (r->last_login > 0 && gmtime_r(&l, &tm) != NULL)
        strftime(last, sizeof(last), "%Y-%m-%d %H:%M", &tm);
    printf("%-16s  %-16s  %-16s  %s\n", r->name, created, last, r->locked ? "locked" : "");
}

/* One line from stdin without its line end (no echo on a terminal); -1 at EOF. */
static int
read_secret(const char *prompt, char *buf, size_t cap)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (got == NULL)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

/* The new password into pw: generated (and printed), or read. 0, or -1 after saying why. */
static int
new_password(int generate, char *pw, size_t cap)
{
    if (generate) {
        static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        for (size_t i = 0; i < GENERATED_LEN; i++)
            pw[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
        pw[GENERATED_LEN] = '\0';
        return 0;
    }
    char again[TALE_ACCT_PASSWORD_MAX + 2];
    if (read_secret("New password: ", pw, cap) != 0) {
        fprintf(stderr, "tale-host accounts: no password on standard input (or use --generate)\n");
        return -1;
    }
    size_t len = strlen(pw);
    if (len < TALE_ACCT_PASSWORD_MIN || len > TALE_ACCT_PASSWORD_MAX) {
        fprintf(stderr, "tale-host accounts: a password is %d to %d characters long\n", TALE_ACCT_PASSWORD_MIN,
                TALE_ACCT_PASSWORD_MAX);
        return -1;
    }
    if (isatty(STDIN_FILENO)) {
        int same = read_secret("The same password again: ", again, sizeof(again)) == 0 && strcmp(again, pw) == 0;
        sodium_memzero(again, sizeof(again));
        if (!same) {
            fprintf(stderr, "tale-host accounts: the two passwords differ; nothing changed\n");
            return -1;
        }
    }
    return 0;
}

int
tale_accounts_admin(int argc, char **argv, const char *default_config)
{
    const char *config = default_config, *cmd = NULL, *name = NULL;
    int generate = 0;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            config = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config = argv[i] + 9;
        } else if (strcmp(argv[i], "--generate") == 0) {
            generate = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            admin_usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "tale-host accounts: unknown option '%s'\n", argv[i]);
            admin_usage(stderr);
            return 2;
        } else if (cmd == NULL) {
            cmd = argv[i];
        } else if (name == NULL) {
            name = argv[i];
        } else {
            fprintf(stderr, "tale-host accounts: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    int list = cmd != NULL && strcmp(cmd, "list") == 0;
    int known = cmd != NULL && (list || strcmp(cmd, "lock") == 0 || strcmp(cmd, "unlock") == 0 || strcmp(cmd, "delete") == 0 ||
                                strcmp(cmd, "reset-password") == 0);
    if (!known || (list != (name == NULL)) || (generate && strcmp(cmd, "reset-password") != 0)) {
        if (cmd != NULL && !known)
            fprintf(stderr, "tale-host accounts: unknown command '%s'\n", cmd);
        admin_usage(stderr);
        return 2;
    }
    char canon[TALE_ACCT_NAME_MAX + 1], err[1024];
    if (name != NULL && tale_acct_name_canon(name, strlen(name), canon, err, sizeof(err)) != 0) {
        fprintf(stderr, "tale-host accounts: '%s' is not an account name: %s\n", name, err);
        return 1;
    }

    tale_config_t *cfg = tale_config_load(config, err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "tale-host accounts: %s\n", err);
        return 1;
    }
    char *path;
    if (asprintf(&path, "%s/accounts.sqlite", cfg->data_dir) < 0)
        tale_oom(strlen(cfg->data_dir) + 16);
    tale_config_free(cfg);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "tale-host accounts: no accounts database at %s (%s): is 'accounts' on in %s, and has the server run?\n",
                path, strerror(errno), config);
        free(path);
        return 1;
    }
    tale_acct_store_t *st = tale_acct_store_open(path, ADMIN_BUSY_MS, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "tale-host accounts: %s\n", err);
        free(path);
        return 1;
    }
    int rc;
    if (list) {
        printf("%-16s  %-16s  %-16s  %s\n", "NAME", "CREATED (UTC)", "LAST LOGIN", "");
        rc = tale_acct_list(st, print_row, NULL, err, sizeof(err));
    } else if (strcmp(cmd, "lock") == 0 || strcmp(cmd, "unlock") == 0) {
        rc = tale_acct_set_locked(st, canon, cmd[0] == 'l', err, sizeof(err));
        if (rc == TALE_ACCT_OK)
            printf("%s %s%s\n", canon, cmd[0] == 'l' ? "locked" : "unlocked",
                   cmd[0] == 'l' ? ": from their next login; if playing now, when the server next saves their character" : "");
    } else if (strcmp(cmd, "delete") == 0) {
        rc = tale_acct_delete(st, canon, err, sizeof(err));
        if (rc == TALE_ACCT_OK)
            printf("%s deleted, with their character\n", canon);
    } else {
        char pw[TALE_ACCT_PASSWORD_MAX + 2], hash[crypto_pwhash_STRBYTES];
        tale_acct_record_t r;
        rc = tale_acct_get(st, canon, &r, err, sizeof(err));
        tale_acct_record_clear(&r);
        if (rc == TALE_ACCT_OK && new_password(generate, pw, sizeof(pw)) != 0) {
            rc = TALE_ACCT_ERROR;
            err[0] = '\0';
        } else if (rc == TALE_ACCT_OK) {
            if (tale_acct_hash(pw, strlen(pw), hash, sizeof(hash)) != 0) {
                rc = TALE_ACCT_ERROR;
                snprintf(err, sizeof(err), "out of memory hashing the password");
            } else {
                rc = tale_acct_set_password(st, canon, hash, err, sizeof(err));
            }
            if (rc == TALE_ACCT_OK && generate)
                printf("%s\n", pw);
            else if (rc == TALE_ACCT_OK)
                printf("%s's password is changed\n", canon);
        }
        sodium_memzero(pw, sizeof(pw));
    }
    if (rc == TALE_ACCT_NOT_FOUND)
        fprintf(stderr, "tale-host accounts: no account named %s\n", canon);
    else if (rc != TALE_ACCT_OK && err[0] != '\0')
        fprintf(stderr, "tale-host accounts: %s\n", err);
    tale_acct_store_close(st);
    free(path);
    return rc == TALE_ACCT_OK ? 0 : 1;
}
