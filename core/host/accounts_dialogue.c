/*
 * accounts_dialogue.c - the login dialogue (accounts_dialogue.h).
 *
 * create: name -> password -> password again -> (worker: hash, insert)
 * login:  name -> password -> (worker: verify, read the character)
 * password: old -> new -> new again -> (worker: verify, hash, update)
 *
 * Refusals say why in words a player can act on.  A wrong password and an
 * unknown name get the same message, so the dialogue does not tell which
 * accounts exist.  Passwords live only in this struct between questions
 * and are wiped (sodium_memzero) as soon as they are handed on or refused.
 */
#include "accounts_dialogue.h"
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    D_IDLE = 0, /* playing (or a guest) */
    D_CHOOSE,   /* required: create or login? */
    D_LOGIN_NAME,
    D_LOGIN_PW,
    D_CREATE_NAME,
    D_CREATE_PW,
    D_CREATE_PW2,
    D_OLD_PW,
    D_NEW_PW,
    D_NEW_PW2,
    D_WAIT_LOGIN,
    D_WAIT_CREATE,
    D_WAIT_PASSWORD,
};

#define GREETING "Welcome. Type create to make a new account, or login to play the character of an account you have."
#define BUSY "The server is busy; try again in a moment."

static void
wipe(char **p, size_t *len)
{
    if (*p != NULL) {
        sodium_memzero(*p, *len);
        free(*p);
    }
    *p = NULL;
    *len = 0;
}

static void
say(tale_dialogue_t *d, const char *text)
{
    d->ops->say(d->ctx, text, 0);
}

static void
ask_secret(tale_dialogue_t *d, const char *text)
{
    d->ops->say(d->ctx, text, 1);
}

void
tale_dialogue_init(tale_dialogue_t *d, const tale_dialogue_ops_t *ops, void *ctx, tale_accounts_t *accounts, int required,
                   const char *addr)
{
    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->ctx = ctx;
    d->accounts = accounts;
    d->required = required;
    d->state = required ? D_CHOOSE : D_IDLE;
    snprintf(d->addr, sizeof(d->addr), "%s", addr != NULL ? addr : "");
}

void
tale_dialogue_clear(tale_dialogue_t *d)
{
    wipe(&d->pw, &d->pwlen);
    wipe(&d->pw2, &d->pw2len);
    if (d->accounts != NULL)
        tale_accounts_cancel(d->accounts, d);
}

void
tale_dialogue_greet(tale_dialogue_t *d)
{
    say(d, GREETING);
}

int
tale_dialogue_active(const tale_dialogue_t *d)
{
    return d->state != D_IDLE;
}

/* Back to where the seat was before the dialogue: playing, or the greeting. */
static void
back(tale_dialogue_t *d)
{
    wipe(&d->pw, &d->pwlen);
    wipe(&d->pw2, &d->pw2len);
    if (d->required && d->account_id == 0) {
        d->state = D_CHOOSE;
        say(d, GREETING);
    } else {
        d->state = D_IDLE;
    }
}

void
tale_dialogue_logout(tale_dialogue_t *d)
{
    d->account_id = 0;
    d->account[0] = '\0';
    back(d);
}

static const char *
addr_or_null(const tale_dialogue_t *d)
{
    return d->addr[0] != '\0' ? d->addr : NULL;
}

static void
on_login(void *owner, tale_acct_result_t *r)
{
    tale_dialogue_t *d = owner;
    wipe(&d->pw, &d->pwlen);
    switch (r->status) {
    case TALE_ACCT_OK:
        tale_accounts_login_ok(d->accounts, d->skeleton);
        d->account_id = r->id;
        snprintf(d->account, sizeof(d->account), "%s", r->name);
        d->state = D_IDLE;
        d->ops->logged_in(d->ctx, r, 0);
        return;
    case TALE_ACCT_NOT_FOUND:
    case TALE_ACCT_BAD_PASSWORD:
        tale_accounts_login_failed(d->accounts, d->skeleton, addr_or_null(d), d->asked_at);
        say(d, "Wrong name or password.");
        break;
    case TALE_ACCT_LOCKED:
        say(d, "That account is locked; ask the game's operator.");
        break;
    default:
        say(d, "Logging in failed on the server's side; try again later.");
        break;
    }
    back(d);
}

static void
on_create(void *owner, tale_acct_result_t *r)
{
    tale_dialogue_t *d = owner;
    wipe(&d->pw, &d->pwlen);
    switch (r->status) {
    case TALE_ACCT_OK:
        d->account_id = r->id;
        snprintf(d->account, sizeof(d->account), "%s", r->name);
        d->state = D_IDLE;
        d->ops->logged_in(d->ctx, r, 1);
        return;
    case TALE_ACCT_TAKEN:
        say(d, "That name, or one that looks like it, is taken. Choose another name:");
        d->state = D_CREATE_NAME;
        return;
    case TALE_ACCT_FULL:
        say(d, "The game has as many accounts as it can hold; no new account can be made now.");
        break;
    default:
        say(d, "Making the account failed on the server's side; try again later.");
        break;
    }
    back(d);
}

static void
on_password(void *owner, tale_acct_result_t *r)
{
    tale_dialogue_t *d = owner;
    wipe(&d->pw, &d->pwlen);
    wipe(&d->pw2, &d->pw2len);
    d->state = D_IDLE;
    if (r->status == TALE_ACCT_OK)
        say(d, "Your password is changed.");
    else if (r->status == TALE_ACCT_BAD_PASSWORD)
        say(d, "That is not your current password; the password is unchanged.");
    else
        say(d, "Changing the password failed on the server's side; it is unchanged.");
}

/* The line without surrounding blanks. */
static void
trim(const char **s, size_t *len)
{
    while (*len > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

static int
is_word(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

static int
password_ok(size_t len)
{
    return len >= TALE_ACCT_PASSWORD_MIN && len <= TALE_ACCT_PASSWORD_MAX;
}

/* A name typed at a name question: 0 and d->name set, or -1 after saying why. */
static int
take_name(tale_dialogue_t *d, const char *s, size_t len)
{
    char why[256];
    if (tale_acct_name_canon(s, len, d->name, why, sizeof(why)) != 0) {
        say(d, why);
        return -1;
    }
    tale_acct_name_skeleton(d->name, d->skeleton);
    return 0;
}

static void
say_wait(tale_dialogue_t *d, const char *what, uint64_t secs)
{
    char msg[192];
    snprintf(msg, sizeof(msg), "%s; try again in %llu second%s.", what, (unsigned long long)secs, secs == 1 ? "" : "s");
    say(d, msg);
}

int
tale_dialogue_input(tale_dialogue_t *d, const char *line, size_t len, uint64_t now_ms)
{
    const char *s = line;
    size_t n = len;
    /* a password keeps its inner and outer blanks, but not a line end */
    size_t raw = len;
    while (raw > 0 && (line[raw - 1] == '\n' || line[raw - 1] == '\r'))
        raw--;
    trim(&s, &n);
    uint64_t wait;
    char why[256];

    switch (d->state) {
    case D_IDLE:
        if (is_word(s, n, "create") || is_word(s, n, "login")) {
            if (d->account_id != 0) {
                char msg[96];
                snprintf(msg, sizeof(msg), "You are logged in as %s already.", d->account);
                say(d, msg);
                return 1;
            }
            int create = is_word(s, n, "create");
            if (create && (wait = tale_accounts_create_wait(d->accounts, addr_or_null(d), now_ms)) != 0) {
                say_wait(d, "Too many accounts were made from your address", wait);
                return 1;
            }
            d->state = create ? D_CREATE_NAME : D_LOGIN_NAME;
            say(d, create ? "Choose a name for your account (3 to 20 letters; a hyphen or apostrophe may join two):"
                          : "Your account name:");
            return 1;
        }
        if (is_word(s, n, "password")) {
            if (d->account_id == 0) {
                say(d, "You are playing as a guest: type create to make an account first.");
                return 1;
            }
            d->state = D_OLD_PW;
            ask_secret(d, "Your current password:");
            return 1;
        }
        return 0;
    case D_CHOOSE:
        if (is_word(s, n, "create") || is_word(s, n, "login")) {
            d->state = D_IDLE;
            return tale_dialogue_input(d, s, n, now_ms);
        }
        say(d, GREETING);
        return 1;
    case D_LOGIN_NAME:
    case D_CREATE_NAME:
        if (is_word(s, n, "cancel")) {
            back(d);
            return 1;
        }
        if (take_name(d, s, n) != 0)
            return 1;
        if (d->state == D_LOGIN_NAME) {
            if ((wait = tale_accounts_login_wait(d->accounts, d->skeleton, addr_or_null(d), now_ms)) != 0) {
                say_wait(d, "Too many failed logins", wait);
                back(d);
                return 1;
            }
            d->state = D_LOGIN_PW;
            ask_secret(d, "Password:");
            return 1;
        }
        if (d->ops->name_free(d->ctx, d->name, why, sizeof(why)) != 0) {
            say(d, why);
            return 1;
        }
        d->state = D_CREATE_PW;
        {
            char msg[160];
            snprintf(msg, sizeof(msg), "Choose a password for %s (%d to %d characters):", d->name, TALE_ACCT_PASSWORD_MIN,
                     TALE_ACCT_PASSWORD_MAX);
            ask_secret(d, msg);
        }
        return 1;
    case D_LOGIN_PW:
        if ((wait = tale_accounts_login_wait(d->accounts, d->skeleton, addr_or_null(d), now_ms)) != 0) {
            say_wait(d, "Too many failed logins", wait);
            back(d);
            return 1;
        }
        d->state = D_WAIT_LOGIN;
        d->asked_at = now_ms;
        if (tale_accounts_login(d->accounts, d->name, line, raw, on_login, d) != 0) {
            say(d, BUSY);
            back(d);
        }
        return 1;
    case D_CREATE_PW:
    case D_NEW_PW:
        if (!password_ok(raw)) {
            char msg[128];
            snprintf(msg, sizeof(msg), "A password is %d to %d characters long. Choose a password:", TALE_ACCT_PASSWORD_MIN,
                     TALE_ACCT_PASSWORD_MAX);
            ask_secret(d, msg);
            return 1;
        }
        wipe(&d->pw2, &d->pw2len);
        d->pw2 = tale_acct_secret_dup(line, raw);
        d->pw2len = raw;
        d->state = d->state == D_CREATE_PW ? D_CREATE_PW2 : D_NEW_PW2;
        ask_secret(d, "The same password again:");
        return 1;
    case D_CREATE_PW2:
    case D_NEW_PW2:
        if (raw != d->pw2len || sodium_memcmp(line, d->pw2, raw) != 0) {
            wipe(&d->pw2, &d->pw2len);
            d->state = d->state == D_CREATE_PW2 ? D_CREATE_PW : D_NEW_PW;
            ask_secret(d, "The two passwords differ. Choose a password:");
            return 1;
        }
        if (d->state == D_CREATE_PW2) {
            d->state = D_WAIT_CREATE;
            tale_accounts_created(d->accounts, addr_or_null(d), now_ms);
            int rc = tale_accounts_create(d->accounts, d->name, d->pw2, d->pw2len, on_create, d);
            wipe(&d->pw2, &d->pw2len);
            if (rc != 0) {
                say(d, BUSY);
                back(d);
            }
            return 1;
        }
        d->state = D_WAIT_PASSWORD;
        {
            int rc = tale_accounts_password(d->accounts, d->account, d->pw, d->pwlen, d->pw2, d->pw2len, on_password, d);
            wipe(&d->pw, &d->pwlen);
            wipe(&d->pw2, &d->pw2len);
            if (rc != 0) {
                say(d, BUSY);
                d->state = D_IDLE;
            }
        }
        return 1;
    case D_OLD_PW:
        wipe(&d->pw, &d->pwlen);
        d->pw = tale_acct_secret_dup(line, raw);
        d->pwlen = raw;
        d->state = D_NEW_PW;
        {
            char msg[128];
            snprintf(msg, sizeof(msg), "Your new password (%d to %d characters):", TALE_ACCT_PASSWORD_MIN, TALE_ACCT_PASSWORD_MAX);
            ask_secret(d, msg);
        }
        return 1;
    default: /* an answer is on its way */
        say(d, "One moment, please.");
        return 1;
    }
}
