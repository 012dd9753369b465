/*
 * fuzz_login.c - the login dialogue (core/host/accounts_dialogue.c) over a
 * real accounts store, synchronously (no worker: tale_accounts_new with no
 * loop) in an in-memory SQLite database made fresh per input, with Argon2id
 * at libsodium's minimum cost.
 *
 * An input is a script of lines typed by up to three seats: a line starting
 * with TAB is seat 1's, with two TABs seat 2's; the rest seat 0's.  Every
 * line also moves the clock by a few seconds (the rate limits' windows).
 * Promises checked: every answer is one non-empty line; a line typed after a
 * noecho question (a password) never appears in any later answer; an account
 * that gets in has a positive id and a name by the rule; a seat cleared
 * hears nothing more.
 */
#include "fuzz_common.h"
#include "accounts_dialogue.h"
#include <sodium.h>

#define MAX_LINES 200
#define SEATS 3

typedef struct seat {
    tale_dialogue_t d;
    int asked_secret; /* the last answer carried noecho */
    int cleared;
    char secrets[4][TALE_ACCT_PASSWORD_MAX + 1]; /* recent marked passwords */
    int n_secrets;
} seat_t;

static seat_t seats[SEATS];

static void
check_no_secret(const char *text)
{
    for (int i = 0; i < SEATS; i++)
        for (int k = 0; k < seats[i].n_secrets && k < 4; k++)
            FUZZ_CHECK(strstr(text, seats[i].secrets[k]) == NULL, "a password in an answer: %s", text);
}

static void
f_say(void *ctx, const char *text, int noecho)
{
    seat_t *s = ctx;
    FUZZ_CHECK(!s->cleared, "a cleared seat was answered");
    FUZZ_CHECK(text[0] != '\0' && strchr(text, '\n') == NULL, "not one line: %s", text);
    check_no_secret(text);
    s->asked_secret = noecho;
}

static int
f_name_free(void *ctx, const char *name, char *why, size_t whylen)
{
    (void)ctx;
    if (strcmp(name, "Guard") == 0) {
        snprintf(why, whylen, "Someone in the game is called Guard.");
        return -1;
    }
    return 0;
}

static void
f_logged_in(void *ctx, tale_acct_result_t *r, int created)
{
    seat_t *s = ctx;
    (void)created;
    char canon[TALE_ACCT_NAME_MAX + 1], err[256];
    FUZZ_CHECK(!s->cleared, "a cleared seat logged in");
    FUZZ_CHECK(r->id > 0, "an account without an id");
    FUZZ_CHECK(tale_acct_name_canon(r->name, strlen(r->name), canon, err, sizeof err) == 0 && strcmp(canon, r->name) == 0,
               "an account name off the rule: %s", r->name);
}

static const tale_dialogue_ops_t ops = {f_say, f_name_free, f_logged_in};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(sodium_init() >= 0, "libsodium");
    tale_acct_hash_cost(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        LLVMFuzzerInitialize(NULL, NULL);
        inited = 1;
    }
    char err[256];
    tale_accounts_t *a = tale_accounts_new(NULL, ":memory:", 4, 3, 2, err, sizeof err);
    FUZZ_CHECK(a != NULL, "cannot open the store: %s", err);
    memset(seats, 0, sizeof seats);
    for (int i = 0; i < SEATS; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "10.0.0.%d", i % 2); /* two seats share an address */
        tale_dialogue_init(&seats[i].d, &ops, &seats[i], a, i != 2, addr);
        if (i != 2)
            tale_dialogue_greet(&seats[i].d);
    }
    uint64_t now = 1000;
    const char *s = (const char *)data, *end = s + size;
    for (int n = 0; s <= end && n < MAX_LINES; n++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        const char *line = s;
        int who = 0;
        while (who < SEATS - 1 && len > 0 && line[0] == '\t') {
            who++;
            line++;
            len--;
        }
        seat_t *st = &seats[who];
        now += 1000 + (len > 0 ? (uint8_t)line[0] : 0) * 100;
        if (len == 3 && memcmp(line, "bye", 3) == 0 && !st->cleared) {
            tale_dialogue_clear(&st->d);
            st->cleared = 1;
        } else if (!st->cleared) {
            /* a secret we can look for: long enough and with a mark no message has */
            int secret = st->asked_secret && len >= TALE_ACCT_PASSWORD_MIN && len <= TALE_ACCT_PASSWORD_MAX &&
                         memchr(line, '#', len) != NULL && memchr(line, '\0', len) == NULL;
            if (secret) {
                char *slot = st->secrets[st->n_secrets++ % 4];
                memcpy(slot, line, len);
                slot[len] = '\0';
            }
            tale_dialogue_input(&st->d, line, len, now);
        }
        if (nl == NULL)
            break;
        s = nl + 1;
    }
    for (int i = 0; i < SEATS; i++)
        if (!seats[i].cleared) {
            tale_dialogue_clear(&seats[i].d);
            seats[i].cleared = 1;
        }
    tale_accounts_free(a);
    return 0;
}
