/*
 * test_session.c - the session layer against a fake engine: seq stamping,
 * the bounded backlog (per session and in total), resume, take-over, IF seat
 * vs MUD seats, cookies, the IF seat's claim key, Host/Origin checks,
 * per-address limits, the token table, linger, and broadcast delivery
 * across loop turns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "games_dir.h"
#include "instances.h"
#include "log.h"
#include "peers.h"
#include "session.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* fake_engine.c: call the broadcast hook the host registered, as the engine does */
void fake_world_broadcast(tale_world_t *w, void *const *ctxs, size_t n, json_t *frame);

typedef struct rec_conn {
    uint64_t seqs[4096];
    size_t n;
    char last[1024];
    int closed_code;
    char closed_reason[256];
} rec_conn_t;

static int
rec_send(void *c, const tale_frame_t *f)
{
    rec_conn_t *rc = c;
    if (rc->n < 4096)
        rc->seqs[rc->n++] = f->seq;
    snprintf(rc->last, sizeof(rc->last), "%.*s", (int)f->len, f->json);
    return 0;
}

static void
rec_close(void *c, int code, const char *reason)
{
    rec_conn_t *rc = c;
    rc->closed_code = code;
    snprintf(rc->closed_reason, sizeof(rc->closed_reason), "%s", reason);
}

static const tale_player_io_t rec_io = {sizeof(tale_player_io_t), rec_send, rec_close, NULL};

/* Connections live in the fixture: teardown closes whatever is still
 * attached, after the test function's stack is gone. */
typedef struct fixture {
    tale_config_t cfg;
    tale_host_t host;
    rec_conn_t conns[8];
    char data_dir[64]; /* per_visitor: a temp folder, removed at teardown */
} fixture_t;

static int
setup_mode(void **state, int mode)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->cfg.mode = mode;
    f->cfg.tick_ms = 1000;
    f->cfg.limits.session_backlog = 4096;
    f->cfg.limits.max_sessions = 3;
    f->cfg.limits.linger_ms = 1000;
    f->cfg.limits.total_backlog = 1 << 20;
    f->cfg.limits.max_input = 64;
    f->cfg.limits.input_rate = 10;
    f->cfg.limits.input_burst = 5;
    f->cfg.seat_claim = TALE_SEAT_CLAIM_FIRST;
    f->host.cfg = &f->cfg;
    f->host.peers = tale_peers_new();
    f->host.loop = h2o_evloop_create();
    f->host.world = tale_world_load("x", NULL, NULL, 0);
    f->host.sessions = tale_sessions_new(&f->host);
    *state = f;
    return 0;
}

static int
setup_if(void **state)
{
    return setup_mode(state, TALE_MODE_IF);
}

static int
setup_mud(void **state)
{
    return setup_mode(state, TALE_MODE_MUD);
}

/* per_visitor, two live worlds at most, writes synchronous (no save worker) */
static int
setup_per_visitor(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->cfg.mode = TALE_MODE_IF;
    f->cfg.instances = TALE_INSTANCES_PER_VISITOR;
    f->cfg.autosave = 1;
    f->cfg.tick_ms = 1000;
    f->cfg.limits.session_backlog = 4096;
    f->cfg.limits.max_sessions = 1; /* a MUD limit: per_visitor ignores it */
    f->cfg.limits.total_backlog = 1 << 20;
    f->cfg.limits.max_input = 64;
    f->cfg.limits.input_burst = 5;
    f->cfg.limits.max_live_worlds = 2;
    f->cfg.limits.world_idle_ms = 60000;
    f->cfg.limits.world_save_ms = 5000;
    f->cfg.limits.max_stored_worlds = 100;
    f->cfg.limits.max_stored_bytes = 1 << 20;
    strcpy(f->data_dir, "/tmp/tale-session-test-XXXXXX");
    assert_non_null(mkdtemp(f->data_dir));
    f->cfg.data_dir = f->data_dir;
    f->host.cfg = &f->cfg;
    f->host.peers = tale_peers_new();
    f->host.loop = h2o_evloop_create();
    f->host.sessions = tale_sessions_new(&f->host);
    assert_int_equal(tale_sessions_use_instances(f->host.sessions, NULL), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    tale_sessions_free(f->host.sessions, TALE_CLOSE_GOING_AWAY, "bye");
    if (f->data_dir[0] != '\0')
        games_dir_remove(f->data_dir);
    tale_peers_free(f->host.peers);
    tale_world_free(f->host.world);
    h2o_evloop_destroy(f->host.loop);
    free(f);
    return 0;
}

static tale_session_t *
new_session(fixture_t *f, char *cookie_out)
{
    char set_cookie[TALE_SET_COOKIE_MAX];
    tale_session_t *s = tale_session_get(f->host.sessions, NULL, 0, TALE_SESSION_CREATE, set_cookie);
    assert_non_null(s);
    if (cookie_out != NULL) {
        /* turn "tale_session=TOKEN; Path=/..." into a Cookie header value */
        char *semi = strchr(set_cookie, ';');
        assert_non_null(semi);
        *semi = '\0';
        strcpy(cookie_out, set_cookie);
    }
    return s;
}

static void
frames_are_stamped_with_consecutive_seqs(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    assert_int_equal(tale_session_attach(s, &rec_io, c, 0), 0);
    assert_int_equal(c->n, 1); /* the welcome frame, held from before the attach */
    tale_session_input(s, "look", 4, 0);
    tale_session_input(s, "wait", 4, 0);
    assert_int_equal(c->n, 3);
    for (size_t i = 0; i < c->n; i++)
        assert_int_equal(c->seqs[i], i + 1);
    assert_non_null(strstr(c->last, "\"seq\":3"));
    assert_non_null(strstr(c->last, "you said wait"));
    assert_int_equal(tale_session_last_seq(s), 3);
}

/* Issue #17: what a transport carried lands on its plugin's counters. */
static void
transport_counters_follow_the_connection(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *a = &f->conns[0], *b = &f->conns[1];
    tale_conf_plugin_t conf_ws = {.name = "ws"}, conf_sse = {.name = "sse"};
    tale_plugin_t ws = {.host = &f->host, .conf = &conf_ws}, sse = {.host = &f->host, .conf = &conf_sse};
    tale_session_t *s = new_session(f, NULL);
    tale_session_opened(s, &ws, NULL);
    assert_int_equal(ws.metrics.seats, 1);
    tale_session_attach(s, &rec_io, a, 0);
    tale_session_input(s, "look", 4, 0);
    assert_int_equal(ws.metrics.connects, 1);
    assert_int_equal(ws.metrics.connected, 1);
    assert_int_equal(ws.metrics.commands, 1);
    assert_int_equal(ws.metrics.frames_out, a->n);
    assert_true(ws.metrics.bytes_out > 0);
    assert_int_equal(f->host.metrics.command_seconds.count, 1);
    tale_session_closed(s, a, 1000);
    assert_int_equal(ws.metrics.connected, 0);
    assert_int_equal(ws.metrics.n_closes, 1);
    assert_int_equal(ws.metrics.closes[0].code, 1000);
    tale_session_closed(s, a, 1000); /* no longer attached: counted once */
    assert_int_equal(ws.metrics.closes[0].n, 1);
    /* the seat comes back over another transport, resuming after the first frame */
    tale_session_input(s, "wait", 4, 0);
    tale_session_opened(s, &sse, NULL);
    assert_int_equal(ws.metrics.seats, 0);
    assert_int_equal(sse.metrics.seats, 1);
    tale_session_attach(s, &rec_io, b, 1);
    assert_int_equal(sse.metrics.resumes, 1);
    assert_int_equal(sse.metrics.replayed, b->n);
    assert_int_equal(sse.metrics.frames_out, b->n);
    tale_session_quit(s); /* the host closes it: the code is the host's */
    assert_int_equal(sse.metrics.closes[0].code, b->closed_code);
    assert_int_equal(sse.metrics.seats, 0);
    assert_int_equal(sse.metrics.connected, 0);
}

static void
resume_replays_exactly_the_frames_after_the_given_seq(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *a = &f->conns[0], *b = &f->conns[1];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, a, 0);
    tale_session_input(s, "one", 3, 0);
    tale_session_detach(s, a);
    /* produced while nobody is attached: held */
    tale_session_input(s, "two", 3, 0);
    tale_session_input(s, "three", 5, 0);
    tale_session_attach(s, &rec_io, b, 2);
    assert_int_equal(b->n, 2);
    assert_int_equal(b->seqs[0], 3);
    assert_int_equal(b->seqs[1], 4);
    tale_session_input(s, "four", 4, 0);
    assert_int_equal(b->n, 3);
    assert_int_equal(b->seqs[2], 5);
    assert_int_equal(a->n, 2); /* the detached connection got nothing more */
}

static void
backlog_is_bounded_in_bytes_and_keeps_the_newest(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_input(s, "burst 500", 9, 0); /* ~60 KB of frames, limit 4 KiB */
    tale_session_attach(s, &rec_io, c, 0);
    assert_true(c->n > 10);
    assert_true(c->n < 100);
    assert_int_equal(c->seqs[c->n - 1], 501);
    for (size_t i = 1; i < c->n; i++)
        assert_int_equal(c->seqs[i], c->seqs[i - 1] + 1);
}

static void
a_second_connection_takes_over_the_seat_and_the_first_is_told(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *a = &f->conns[0], *b = &f->conns[1];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, a, 0);
    tale_session_attach(s, &rec_io, b, 0);
    assert_int_equal(a->closed_code, TALE_CLOSE_TAKEN_OVER);
    assert_true(strlen(a->closed_reason) > 0);
    tale_session_input(s, "hello", 5, 0);
    assert_non_null(strstr(b->last, "you said hello"));
    assert_int_equal(a->n, 1);
}

static void
if_seat_goes_only_to_its_token(void **state)
{
    fixture_t *f = *state;
    char cookie[128];
    tale_session_t *s1 = new_session(f, cookie);
    char set_cookie[TALE_SET_COOKIE_MAX];
    /* no cookie, or a wrong one: no seat, no token */
    assert_null(tale_session_get(f->host.sessions, NULL, 0, TALE_SESSION_CREATE, set_cookie));
    assert_string_equal(set_cookie, "");
    const char *bad = "tale_session=00000000000000000000000000000000";
    assert_null(tale_session_get(f->host.sessions, bad, strlen(bad), TALE_SESSION_CREATE, set_cookie));
    assert_string_equal(set_cookie, "");
    /* the same browser (a second tab) finds it, and learns nothing new */
    assert_ptr_equal(tale_session_get(f->host.sessions, cookie, strlen(cookie), TALE_SESSION_CREATE, set_cookie), s1);
    assert_string_equal(set_cookie, "");
    assert_int_equal(tale_sessions_count(f->host.sessions), 1);
}

/* A request as a transport would pass it, from `addr`. */
static tale_request_t
request_from(const char *addr, struct sockaddr_in *sin, unsigned flags)
{
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin->sin_addr);
    return (tale_request_t){.size = sizeof(tale_request_t),
                            .peer = sin,
                            .peer_len = sizeof(*sin),
                            .flags = flags,
                            .host = "127.0.0.1:8180",
                            .host_len = 14};
}

/* The claim key as the host printed it: the sessions object keeps it, and
 * tests read it by claiming with every wrong key first. */
static void
key_mode_refuses_visitors_and_the_key_claims_the_seat_once(void **state)
{
    fixture_t *f = *state;
    f->cfg.seat_claim = TALE_SEAT_CLAIM_KEY;
    struct sockaddr_in sin;
    tale_request_t rq = request_from("127.0.0.1", &sin, TALE_SESSION_CREATE);
    tale_session_t *s = NULL;
    const char *error = NULL;
    char set_cookie[TALE_SET_COOKIE_MAX];
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, set_cookie, &error), 403);
    assert_null(s);
    assert_non_null(strstr(error, "key"));
    assert_string_equal(set_cookie, "");

    rq.claim_key = "0123456789abcdef0123456789abcdef";
    rq.claim_key_len = 32;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, set_cookie, &error), 403);

    const char *key = tale_sessions_claim_key(f->host.sessions);
    char first_key[33];
    strcpy(first_key, key);
    rq.claim_key = first_key;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, set_cookie, &error), 0);
    assert_non_null(s);
    assert_non_null(strstr(set_cookie, "tale_session="));
    rec_conn_t *a = &f->conns[0];
    tale_session_attach(s, &rec_io, a, 0);
    char old_cookie[128];
    snprintf(old_cookie, sizeof(old_cookie), "%.*s", (int)strcspn(set_cookie, ";"), set_cookie);

    /* used once: the same key is refused, and a new one was made */
    tale_session_t *again = NULL;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &again, set_cookie, &error), 403);
    assert_string_not_equal(tale_sessions_claim_key(f->host.sessions), first_key);

    /* the new key takes the seat back: a fresh token, the old holder closed */
    char second_key[33];
    strcpy(second_key, tale_sessions_claim_key(f->host.sessions));
    rq.claim_key = second_key;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &again, set_cookie, &error), 0);
    assert_ptr_equal(again, s);
    assert_int_equal(a->closed_code, TALE_CLOSE_TAKEN_OVER);
    assert_null(tale_session_get(f->host.sessions, old_cookie, strlen(old_cookie), 0, NULL));
    assert_int_equal(tale_sessions_count(f->host.sessions), 1);
}

static void
a_trusted_console_takes_the_if_seat_without_a_key(void **state)
{
    fixture_t *f = *state;
    f->cfg.seat_claim = TALE_SEAT_CLAIM_KEY;
    tale_request_t rq = {.size = sizeof(rq), .flags = TALE_SESSION_CREATE | TALE_SESSION_TRUSTED};
    tale_session_t *s = NULL;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, NULL), 0);
    assert_non_null(s);
}

static void
foreign_host_or_origin_is_refused_before_any_seat(void **state)
{
    fixture_t *f = *state;
    struct sockaddr_in sin;
    tale_request_t rq = request_from("127.0.0.1", &sin, TALE_SESSION_CREATE);
    tale_session_t *s = NULL;
    const char *error = NULL;
    rq.host = "attacker.example:8180";
    rq.host_len = strlen(rq.host);
    rq.origin = "http://attacker.example:8180";
    rq.origin_len = strlen(rq.origin);
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, &error), 403);
    assert_non_null(strstr(error, "allowed_hosts"));
    rq.host = "127.0.0.1:8180";
    rq.host_len = strlen(rq.host);
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, &error), 403);
    assert_non_null(strstr(error, "allowed_origins"));
    /* a NUL inside an IP literal does not end it: "[::\0 2]" is a name, not "::" */
    static const char nul_host[] = "[::\0"
                                   "2]",
                      nul_origin[] = "http://[::\0"
                                     "2]";
    rq.host = nul_host;
    rq.host_len = sizeof(nul_host) - 1;
    rq.origin = nul_origin;
    rq.origin_len = sizeof(nul_origin) - 1;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, &error), 403);
    assert_int_equal(tale_sessions_count(f->host.sessions), 0);
    rq.host = "127.0.0.1:8180";
    rq.host_len = strlen(rq.host);
    rq.origin = "http://127.0.0.1:8180";
    rq.origin_len = strlen(rq.origin);
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, &error), 0);
    assert_non_null(s);
    assert_int_equal(tale_sessions_count(f->host.sessions), 1);
}

static void
seats_per_address_and_new_seats_per_minute_are_bounded(void **state)
{
    fixture_t *f = *state;
    f->cfg.limits.max_sessions = 100;
    f->cfg.limits.max_sessions_per_address = 2;
    struct sockaddr_in sin;
    tale_request_t rq = request_from("127.0.0.2", &sin, TALE_SESSION_CREATE);
    tale_session_t *s = NULL;
    const char *error = NULL;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, &error), 0);
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, &error), 0);
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, &error), 429);
    /* another address is not affected */
    struct sockaddr_in sin3;
    tale_request_t other = request_from("127.0.0.3", &sin3, TALE_SESSION_CREATE);
    assert_int_equal(tale_session_open(f->host.sessions, &other, &s, NULL, &error), 0);
    /* a quit frees the address's seat */
    tale_session_quit(s);
    f->cfg.limits.max_sessions_per_address = 0;
    f->cfg.limits.new_sessions_per_minute = 3;
    struct sockaddr_in sin4;
    tale_request_t burst = request_from("127.0.0.4", &sin4, TALE_SESSION_CREATE);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tale_session_open(f->host.sessions, &burst, &s, NULL, &error), 0);
    assert_int_equal(tale_session_open(f->host.sessions, &burst, &s, NULL, &error), 429);
    assert_non_null(strstr(error, "minute"));
}

static void
behind_a_trusted_proxy_the_forwarded_client_counts(void **state)
{
    fixture_t *f = *state;
    f->cfg.limits.max_sessions = 100;
    f->cfg.limits.max_sessions_per_address = 1;
    tale_cidr_t proxy;
    assert_int_equal(tale_cidr_parse(&proxy, "127.0.0.0/8"), 0);
    f->cfg.trusted_proxies = &proxy;
    f->cfg.n_trusted_proxies = 1;
    struct sockaddr_in sin;
    tale_request_t rq = request_from("127.0.0.1", &sin, TALE_SESSION_CREATE);
    tale_session_t *s = NULL;
    rq.forwarded_for = "203.0.113.7, 127.0.0.9";
    rq.forwarded_for_len = strlen(rq.forwarded_for);
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, NULL), 0);
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, NULL), 429);
    rq.forwarded_for = "203.0.113.8";
    rq.forwarded_for_len = strlen(rq.forwarded_for);
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, NULL), 0);
    f->cfg.trusted_proxies = NULL;
    f->cfg.n_trusted_proxies = 0;
}

static void
mud_mode_gives_each_browser_a_seat_up_to_max_sessions(void **state)
{
    fixture_t *f = *state;
    char c1[128], c2[128];
    tale_session_t *s1 = new_session(f, c1);
    tale_session_t *s2 = new_session(f, c2);
    assert_ptr_not_equal(s1, s2);
    assert_ptr_equal(tale_session_get(f->host.sessions, c2, strlen(c2), TALE_SESSION_CREATE, NULL), s2);
    new_session(f, NULL);
    char set_cookie[TALE_SET_COOKIE_MAX];
    assert_null(tale_session_get(f->host.sessions, NULL, 0, TALE_SESSION_CREATE, set_cookie));
    assert_int_equal(tale_sessions_count(f->host.sessions), 3);
}

static void
unknown_or_missing_cookie_finds_no_session_without_create(void **state)
{
    fixture_t *f = *state;
    new_session(f, NULL);
    const char *bad = "tale_session=00000000000000000000000000000000";
    assert_null(tale_session_get(f->host.sessions, bad, strlen(bad), 0, NULL));
    assert_null(tale_session_get(f->host.sessions, NULL, 0, 0, NULL));
    const char *shortc = "tale_session=abc";
    assert_null(tale_session_get(f->host.sessions, shortc, strlen(shortc), 0, NULL));
}

static void
set_cookie_is_httponly_samesite_strict_and_secure_under_tls(void **state)
{
    fixture_t *f = *state;
    char set_cookie[TALE_SET_COOKIE_MAX];
    tale_session_get(f->host.sessions, NULL, 0, TALE_SESSION_CREATE | TALE_SESSION_SECURE, set_cookie);
    assert_non_null(strstr(set_cookie, "tale_session="));
    assert_non_null(strstr(set_cookie, "; HttpOnly"));
    assert_non_null(strstr(set_cookie, "; SameSite=Strict"));
    assert_non_null(strstr(set_cookie, "; Secure"));
    /* 128 bits as hex */
    const char *tok = strchr(set_cookie, '=') + 1;
    assert_int_equal(strcspn(tok, ";"), 32);
}

static void
quit_ends_the_session_and_closes_its_connection(void **state)
{
    fixture_t *f = *state;
    char cookie[128];
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, cookie);
    tale_session_attach(s, &rec_io, c, 0);
    tale_session_input(s, "quit", 4, 0);
    assert_non_null(strstr(c->last, "bye"));
    assert_int_equal(c->closed_code, TALE_CLOSE_SESSION_ENDED);
    assert_null(tale_session_get(f->host.sessions, cookie, strlen(cookie), 0, NULL));
    assert_int_equal(tale_sessions_count(f->host.sessions), 0);
}

static void
autocomplete_input_asks_the_engine_for_suggestions_not_a_command(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    tale_session_input(s, "lo", 2, TALE_INPUT_AUTOCOMPLETE);
    assert_non_null(strstr(c->last, "suggestions for lo"));
    size_t len = 0;
    char *json = tale_session_complete(s, "loo", 3, &len);
    assert_string_equal(json, "[\"look\"]");
    assert_int_equal(len, 8);
    free(json);
}

static void
host_notices_carry_the_location_snapshot(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    char big[65];
    memset(big, 'x', sizeof(big));
    tale_session_input(s, big, sizeof(big), 0); /* a host-made "too long" notice */
    assert_non_null(strstr(c->last, "too long"));
    /* LlamaTale's client reads "location" from every text frame */
    assert_non_null(strstr(c->last, "\"location\":\"The Jetty\""));
    assert_non_null(strstr(c->last, "\"exits\":\"north\""));
}

static void
a_command_flood_is_cut_to_the_burst_with_one_polite_notice(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    size_t before = c->n;
    /* 100 commands inside one loop iteration: the clock does not move */
    int notices = 0;
    for (int i = 0; i < 100; i++) {
        tale_session_input(s, "look", 4, 0);
        if (strstr(c->last, "slow down") != NULL && c->n == before + 5 + 1 + notices)
            notices++;
    }
    assert_int_equal(c->n - before, 5 + 1); /* the burst, then one notice */
    assert_int_equal(notices, 1);
    assert_non_null(strstr(c->last, "faster than the game can follow"));
}

static void
input_over_max_input_is_refused_with_a_message(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    char big[65];
    memset(big, 'x', sizeof(big));
    tale_session_input(s, big, sizeof(big), 0);
    assert_non_null(strstr(c->last, "too long"));
    assert_null(strstr(c->last, "you said"));
    tale_session_input(s, big, 64, 0);
    assert_non_null(strstr(c->last, "you said"));
}

static void
input_with_a_nul_byte_is_refused_not_cut_short(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    tale_session_input(s, "lo\0ok", 5, 0);
    assert_non_null(strstr(c->last, "NUL character"));
    assert_null(strstr(c->last, "you said"));
}

static void
cookie_parser_finds_the_named_cookie_among_others(void **state)
{
    size_t len = 0;
    const char *h = "a=1; tale_sessionx=no; tale_session=abc;b=2";
    const char *v = tale_cookie_find(h, strlen(h), "tale_session", &len);
    assert_non_null(v);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "abc", 3);
    assert_null(tale_cookie_find("a=1", 3, "tale_session", &len));
    assert_null(tale_cookie_find(NULL, 0, "tale_session", &len));
    /* a cookie split at the header's length limit is not read past it */
    assert_null(tale_cookie_find("tale_session=abc", 12, "tale_session", &len));
}

/* ---- the token table, linger, total backlog, delivery ---------------- */

/* A connection that only counts what it gets (a crowd of them is cheap). */
typedef struct count_conn {
    size_t n;
    uint64_t last_seq;
    int gap; /* a seq that did not follow the one before */
} count_conn_t;

static int
count_send(void *c, const tale_frame_t *f)
{
    count_conn_t *cc = c;
    if (cc->n > 0 && f->seq != cc->last_seq + 1)
        cc->gap = 1;
    cc->n++;
    cc->last_seq = f->seq;
    return 0;
}

static void
count_close(void *c, int code, const char *reason)
{
}

static const tale_player_io_t count_io = {sizeof(tale_player_io_t), count_send, count_close, NULL};

static void
the_token_table_finds_thousands_of_sessions_and_forgets_removed_ones(void **state)
{
    fixture_t *f = *state;
    enum { N = 3000 };
    f->cfg.limits.max_sessions = N;
    static char cookies[N][64];
    static tale_session_t *seats[N];
    for (int i = 0; i < N; i++)
        seats[i] = new_session(f, cookies[i]);
    assert_int_equal(tale_sessions_count(f->host.sessions), N);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(tale_session_get(f->host.sessions, cookies[i], strlen(cookies[i]), 0, NULL), seats[i]);
    /* one hex digit off, short, long, empty: nobody */
    char wrong[64];
    strcpy(wrong, cookies[7]);
    char *last = wrong + strlen(wrong) - 1;
    *last = *last == '0' ? '1' : '0';
    assert_null(tale_session_get(f->host.sessions, wrong, strlen(wrong), 0, NULL));
    assert_null(tale_session_get(f->host.sessions, cookies[7], strlen(cookies[7]) - 1, 0, NULL));
    char longer[80];
    snprintf(longer, sizeof(longer), "%s0", cookies[7]);
    assert_null(tale_session_get(f->host.sessions, longer, strlen(longer), 0, NULL));
    const char *empty = "tale_session=";
    assert_null(tale_session_get(f->host.sessions, empty, strlen(empty), 0, NULL));
    /* every other one quits: those are gone, the rest still found */
    for (int i = 0; i < N; i += 2)
        tale_session_quit(seats[i]);
    assert_int_equal(tale_sessions_count(f->host.sessions), N / 2);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(tale_session_get(f->host.sessions, cookies[i], strlen(cookies[i]), 0, NULL), i % 2 == 0 ? NULL : seats[i]);
    for (int i = 1; i < N; i += 2)
        tale_session_quit(seats[i]);
    assert_int_equal(tale_sessions_count(f->host.sessions), 0);
    /* the crowd's frames are all given back */
    assert_int_equal(tale_sessions_held_bytes(f->host.sessions), 0);
    assert_null(tale_session_get(f->host.sessions, cookies[1], strlen(cookies[1]), 0, NULL));
}

static int
found_fade(const rec_conn_t *c, const char *text)
{
    return strstr(c->last, text) != NULL;
}

static void
a_player_lingers_then_fades_away_and_the_cookie_is_dead(void **state)
{
    fixture_t *f = *state;
    f->cfg.tick_ms = 10;
    f->cfg.limits.linger_ms = 100;
    tale_sessions_start_tick(f->host.sessions);
    rec_conn_t *a = &f->conns[0], *b = &f->conns[1];
    static rec_conn_t a2;
    memset(&a2, 0, sizeof(a2));
    char ca[128];
    tale_session_t *sa = new_session(f, ca);
    tale_session_t *sb = new_session(f, NULL);
    tale_session_attach(sa, &rec_io, a, 0);
    tale_session_attach(sb, &rec_io, b, 0);
    tale_session_input(sa, "one", 3, 0);
    uint64_t seen = a->seqs[a->n - 1];

    /* the connection goes; a reconnect at once, with the cookie, resumes */
    tale_session_detach(sa, a);
    tale_session_input(sb, "yell are you there", 18, 0);
    tale_session_t *back = tale_session_get(f->host.sessions, ca, strlen(ca), 0, NULL);
    assert_ptr_equal(back, sa);
    tale_session_attach(back, &rec_io, &a2, seen);
    assert_int_equal(a2.n, 1); /* the yell made while away, and nothing before it */
    assert_int_equal(a2.seqs[0], seen + 1);
    assert_non_null(strstr(a2.last, "yells: are you there"));

    /* gone for good: after linger the room hears it and the cookie is dead */
    tale_session_detach(sa, &a2);
    int faded = 0;
    for (int i = 0; i < 200 && !faded; i++) {
        h2o_evloop_run(f->host.loop, 10);
        faded = found_fade(b, "fades away");
    }
    assert_true(faded);
    assert_null(tale_session_get(f->host.sessions, ca, strlen(ca), 0, NULL));
    assert_int_equal(tale_sessions_count(f->host.sessions), 1);
    /* the one still connected typed nothing yet stays (seat_idle is off) */
    assert_int_equal(b->closed_code, 0);
}

static void
total_backlog_cuts_the_disconnected_first_and_keeps_each_newest_frame(void **state)
{
    fixture_t *f = *state;
    f->cfg.limits.session_backlog = 64 * 1024;
    f->cfg.limits.total_backlog = 16 * 1024;
    f->cfg.limits.input_rate = 0;
    rec_conn_t *b = &f->conns[0];
    tale_session_t *away = new_session(f, NULL); /* never connected */
    tale_session_t *here = new_session(f, NULL);
    tale_session_attach(here, &rec_io, b, 0);
    tale_session_input(away, "burst 100", 9, 0); /* ~18 KB for one seat alone */
    assert_true(tale_sessions_held_bytes(f->host.sessions) <= 16 * 1024);
    tale_session_input(here, "burst 100", 9, 0);
    assert_true(tale_sessions_held_bytes(f->host.sessions) <= 16 * 1024);
    assert_int_equal(b->n, 1 + 100);

    /* the seat without a connection was cut to its newest frame */
    static rec_conn_t late;
    memset(&late, 0, sizeof(late));
    tale_session_attach(away, &rec_io, &late, 0);
    assert_int_equal(late.n, 1);
    assert_int_equal(late.seqs[0], 101);
    /* the connected one keeps a fair share, newest last, without gaps */
    static rec_conn_t again;
    memset(&again, 0, sizeof(again));
    tale_session_detach(here, b);
    tale_session_attach(here, &rec_io, &again, 0);
    assert_true(again.n > 1);
    assert_true(again.n < 101);
    assert_int_equal(again.seqs[again.n - 1], 101);
    for (size_t i = 1; i < again.n; i++)
        assert_int_equal(again.seqs[i], again.seqs[i - 1] + 1);

    tale_session_quit(away);
    tale_session_quit(here);
    assert_int_equal(tale_sessions_held_bytes(f->host.sessions), 0);
}

static void
a_broadcast_is_one_body_with_each_players_seq_in_front(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *a = &f->conns[0], *b = &f->conns[1];
    tale_session_t *sa = new_session(f, NULL), *sb = new_session(f, NULL);
    tale_session_attach(sa, &rec_io, a, 0);
    tale_session_attach(sb, &rec_io, b, 0);
    tale_session_input(sb, "look", 4, 0); /* b's seqs run one ahead of a's */
    size_t held = tale_sessions_held_bytes(f->host.sessions);
    char text[801], want[1024];
    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    void *both[] = {sa, sb};
    fake_world_broadcast(f->host.world, both, 2, json_pack("{s:s, s:s, s:[]}", "type", "text", "text", text, "special"));
    /* held once for both (two copies would be over 1600 bytes) */
    assert_true(tale_sessions_held_bytes(f->host.sessions) - held < 1200);
    for (int i = 0; i < 200 && !(a->n == 2 && b->n == 3); i++)
        h2o_evloop_run(f->host.loop, 10);
    snprintf(want, sizeof(want), "{\"seq\":2,\"type\":\"text\",\"text\":\"%s\",\"special\":[]}", text);
    assert_string_equal(a->last, want);
    snprintf(want, sizeof(want), "{\"seq\":3,\"type\":\"text\",\"text\":\"%s\",\"special\":[]}", text);
    assert_string_equal(b->last, want);
    /* an empty object still makes valid JSON */
    fake_world_broadcast(f->host.world, both, 1, json_object());
    for (int i = 0; i < 200 && a->n < 3; i++)
        h2o_evloop_run(f->host.loop, 10);
    assert_string_equal(a->last, "{\"seq\":3}");
}

static void
a_players_own_answer_comes_at_once_after_what_it_was_waiting_behind(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *a = &f->conns[0], *b = &f->conns[1];
    tale_session_t *sa = new_session(f, NULL), *sb = new_session(f, NULL);
    tale_session_attach(sa, &rec_io, a, 0);
    tale_session_attach(sb, &rec_io, b, 0);
    tale_session_input(sa, "yell hello", 10, 0);
    assert_non_null(strstr(a->last, "you yell")); /* a's own answer: at once */
    assert_int_equal(b->n, 1);                    /* b's copy waits for a delivery turn */
    tale_session_input(sb, "look", 4, 0);         /* ...or for b's own command */
    assert_int_equal(b->n, 3);
    assert_int_equal(b->seqs[1], 2);
    assert_int_equal(b->seqs[2], 3);
    assert_non_null(strstr(b->last, "you said look"));
    h2o_evloop_run(f->host.loop, 0);
    assert_int_equal(b->n, 3); /* nothing delivered twice */
    assert_int_equal(tale_sessions_queued(f->host.sessions), 0);
}

static void
a_broadcast_to_a_crowd_is_delivered_over_several_turns(void **state)
{
    fixture_t *f = *state;
    enum { N = 1500 };
    f->cfg.limits.max_sessions = N;
    static count_conn_t conns[N];
    static tale_session_t *seats[N];
    memset(conns, 0, sizeof(conns));
    for (int i = 0; i < N; i++) {
        seats[i] = new_session(f, NULL);
        tale_session_attach(seats[i], &count_io, &conns[i], 0);
    }
    tale_session_input(seats[0], "yell everyone", 13, 0);
    assert_int_equal(tale_sessions_queued(f->host.sessions), N - 1);
    size_t turns = 0;
    while (tale_sessions_queued(f->host.sessions) > 0 && turns < 100) {
        h2o_evloop_run(f->host.loop, 10);
        turns++;
        if (turns == 1) {
            size_t after_one = 0;
            for (int i = 1; i < N; i++)
                after_one += conns[i].n == 2;
            assert_true(after_one > 0);
            assert_true(after_one < N - 1); /* one turn did not take all of it */
        }
    }
    assert_true(turns > 1);
    /* everyone else got the welcome and the yell, in order, once */
    for (int i = 1; i < N; i++) {
        assert_int_equal(conns[i].n, 2);
        assert_int_equal(conns[i].last_seq, 2);
        assert_false(conns[i].gap);
    }
}

/* The attached list is ordered by last input: the first to attach, if it
 * keeps typing, is not the one closed; the quiet one behind it is. */
static void
seat_idle_closes_the_quiet_player_not_the_one_who_attached_first(void **state)
{
    fixture_t *f = *state;
    f->cfg.tick_ms = 10;
    f->cfg.limits.seat_idle_ms = 150;
    f->cfg.limits.input_rate = 0;
    tale_sessions_start_tick(f->host.sessions);
    rec_conn_t *busy = &f->conns[0], *quiet = &f->conns[1];
    tale_session_t *sb = new_session(f, NULL), *sq = new_session(f, NULL);
    tale_session_attach(sb, &rec_io, busy, 0);
    tale_session_attach(sq, &rec_io, quiet, 0);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        h2o_evloop_run(f->host.loop, 10);
        tale_session_input(sb, "look", 4, 0);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (quiet->closed_code == 0 && t.tv_sec - t0.tv_sec < 3);
    assert_int_equal(quiet->closed_code, TALE_CLOSE_IDLE);
    assert_int_equal(busy->closed_code, 0);
    assert_int_equal(tale_sessions_count(f->host.sessions), 1); /* MUD: the seat went with it */
}

/* ---- per_visitor ---- */

static tale_session_t *
with_cookie(fixture_t *f, const char *cookie, unsigned flags)
{
    return tale_session_get(f->host.sessions, cookie, strlen(cookie), flags, NULL);
}

static void
say_(tale_session_t *s, const char *cmd)
{
    tale_session_input(s, cmd, strlen(cmd), 0);
}

/* Does the data_dir hold `token` in any name, or a game file for it? */
static int
name_holds(const char *dir, const char *token)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int found = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        found |= strstr(e->d_name, token) != NULL;
        char sub[512];
        snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            found |= name_holds(sub, token);
    }
    closedir(d);
    return found;
}

/* Where the game of a "tale_session=TOKEN" cookie is stored. */
static void
game_file_path(fixture_t *f, const char *cookie, char *path, size_t cap)
{
    const char *token = strchr(cookie, '=') + 1;
    char name[TALE_INST_NAME + 1];
    tale_inst_name_of(token, strlen(token), name);
    snprintf(path, cap, "%s/worlds/%s/world.save", f->data_dir, name);
}

static int
game_file_exists(fixture_t *f, const char *cookie)
{
    char path[512];
    game_file_path(f, cookie, path, sizeof(path));
    return access(path, F_OK) == 0;
}

/* Let the loop's clock move on: what follows happens in a later loop turn
 * (a game opened in the current turn is the last the LRU would pick). */
static void
next_turn(fixture_t *f)
{
    usleep(2000);
    h2o_evloop_run(f->host.loop, 0);
}

/* The visitor of `cookie` comes back on `conn`: their game, restored, says `what`. */
static void
comes_back_remembering(fixture_t *f, const char *cookie, rec_conn_t *conn, const char *what)
{
    tale_session_t *s = with_cookie(f, cookie, 0);
    assert_non_null(s);
    assert_int_equal(tale_session_attach(s, &rec_io, conn, 0), 0);
    assert_non_null(strstr(conn->last, what));
}

static void
each_visitor_gets_a_world_of_their_own(void **state)
{
    fixture_t *f = *state;
    char ca[128], cb[128];
    tale_session_t *a = new_session(f, ca), *b = new_session(f, cb);
    assert_ptr_not_equal(a, b);
    assert_string_not_equal(ca, cb);
    assert_int_equal(tale_sessions_live_worlds(f->host.sessions), 2);
    assert_int_equal(tale_sessions_count(f->host.sessions), 2); /* max_sessions (1) is a MUD limit */
    rec_conn_t *c = &f->conns[0];
    assert_int_equal(tale_session_attach(b, &rec_io, c, 0), 0);
    say_(a, "remember apples");
    say_(a, "yell hello"); /* a's world has no one else in it */
    assert_null(strstr(c->last, "yells"));
    assert_ptr_equal(with_cookie(f, ca, 0), a);
    assert_ptr_equal(with_cookie(f, cb, 0), b);
}

static void
the_least_recently_used_is_saved_and_evicted_and_its_cookie_restores_it(void **state)
{
    fixture_t *f = *state;
    char ca[128], cb[128], cc[128];
    tale_session_t *a = new_session(f, ca);
    say_(a, "remember apples");
    new_session(f, cb);
    rec_conn_t *conn = &f->conns[0];
    assert_int_equal(tale_session_attach(a, &rec_io, conn, 0), 0);
    next_turn(f);
    /* a is connected, b not: b goes first although a is older */
    tale_session_t *c = new_session(f, cc);
    assert_non_null(c);
    assert_int_equal(tale_sessions_live_worlds(f->host.sessions), 2);
    assert_false(game_file_exists(f, cb)); /* nobody typed into b: no file, just dropped */
    assert_null(with_cookie(f, cb, 0));
    /* now a is the only one to go (c is newer... but unconnected): c goes first */
    say_(c, "remember cherries");
    next_turn(f);
    tale_session_t *d = new_session(f, NULL);
    assert_non_null(d);
    assert_true(game_file_exists(f, cc));
    assert_int_equal(conn->closed_code, 0); /* a, connected, stayed */
    /* the visitor of c returns: restored from the file, the least recent goes (d, unconnected) */
    next_turn(f);
    comes_back_remembering(f, cc, &f->conns[1], "remembering cherries");
    assert_int_equal(tale_sessions_live_worlds(f->host.sessions), 2);
    /* with both connected, the one idle longest (a) is closed and put away */
    tale_session_t *e = new_session(f, NULL);
    assert_non_null(e);
    assert_int_equal(conn->closed_code, TALE_CLOSE_GOING_AWAY);
    assert_true(game_file_exists(f, ca));
    tale_session_t *a2 = with_cookie(f, ca, 0);
    assert_non_null(a2);
    assert_int_equal(tale_session_attach(a2, &rec_io, conn, 0), 0);
    assert_non_null(strstr(conn->last, "remembering apples"));
    /* no file or folder name shows a token */
    assert_false(name_holds(f->data_dir, strchr(ca, '=') + 1));
    assert_false(name_holds(f->data_dir, strchr(cc, '=') + 1));
}

/* Over max_live_worlds the eviction waits for the drain turn (the live
 * count runs up to cap/8 over); it takes the least recently used game
 * without a connection, never the ones just opened nor a connected one
 * while another may go; at the soft cap an opening game makes room itself. */
static void
over_the_cap_the_drain_turn_puts_away_others_than_the_games_just_opened(void **state)
{
    fixture_t *f = *state;
    f->cfg.limits.max_live_worlds = 16; /* a slack of 2 */
    tale_session_t *g[16];
    char cookies[16][128];
    for (int i = 0; i < 16; i++) {
        g[i] = new_session(f, cookies[i]);
        say_(g[i], "remember plums");
        assert_int_equal(tale_session_attach(g[i], &rec_io, &f->conns[i % 8], 0), 0);
        if (i >= 8) /* the second half left: seats without a connection, oldest first */
            tale_session_detach(g[i], &f->conns[i % 8]);
    }
    next_turn(f);
    char c_new[2][128];
    tale_session_t *fresh[2] = {new_session(f, c_new[0]), new_session(f, c_new[1])};
    assert_int_equal(tale_sessions_live_worlds(f->host.sessions), 18); /* nothing put away on the way */
    for (int i = 0; i < 10 && tale_sessions_live_worlds(f->host.sessions) > 16; i++)
        h2o_evloop_run(f->host.loop, 10);
    assert_int_equal(tale_sessions_live_worlds(f->host.sessions), 16);
    /* the two that left longest ago went, saved; the new ones and the connected stay */
    assert_true(game_file_exists(f, cookies[8]));
    assert_true(game_file_exists(f, cookies[9]));
    assert_ptr_equal(with_cookie(f, c_new[0], 0), fresh[0]);
    assert_ptr_equal(with_cookie(f, c_new[1], 0), fresh[1]);
    for (int i = 0; i < 8; i++)
        assert_int_equal(f->conns[i].closed_code, 0);
    assert_ptr_equal(with_cookie(f, cookies[10], 0), g[10]);
    /* at the soft cap (18) the opening game makes room at once: still 18 */
    new_session(f, NULL);
    new_session(f, NULL);
    assert_int_equal(tale_sessions_live_worlds(f->host.sessions), 18);
    new_session(f, NULL);
    assert_int_equal(tale_sessions_live_worlds(f->host.sessions), 18);
    for (int i = 0; i < 8; i++)
        assert_int_equal(f->conns[i].closed_code, 0);
}

/* A game that remembers apples, put away (saved) by two newer ones (the
 * fixture's cap is 2); its cookie in `cookie`. */
static void
put_away_a_game(fixture_t *f, char *cookie)
{
    tale_session_t *a = new_session(f, cookie);
    say_(a, "remember apples");
    next_turn(f);
    new_session(f, NULL);
    new_session(f, NULL);
    assert_true(game_file_exists(f, cookie));
}

/* A game put away stays in memory (within the cache's budget) after its
 * file is written: its visitor's return restores those bytes, the same
 * state, without reading the file. */
static void
a_return_soon_after_eviction_restores_the_cached_save(void **state)
{
    fixture_t *f = *state;
    char ca[128];
    put_away_a_game(f, ca);
    /* the file goes: only the cache can bring the game back */
    char path[512];
    game_file_path(f, ca, path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    next_turn(f);
    comes_back_remembering(f, ca, &f->conns[0], "remembering apples");
}

static void
a_peek_or_a_malformed_cookie_restores_nothing(void **state)
{
    fixture_t *f = *state;
    char ca[128];
    put_away_a_game(f, ca);
    assert_null(with_cookie(f, "tale_session=console", 0));
    assert_null(with_cookie(f, "tale_session=ZZ", 0));
    tale_request_t rq = {
        .size = sizeof(rq), .cookie = ca, .cookie_len = strlen(ca), .flags = TALE_SESSION_CREATE | TALE_SESSION_PEEK};
    tale_session_t *s = NULL;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &s, NULL, NULL), 0);
    assert_null(s);
    assert_non_null(with_cookie(f, ca, 0)); /* a real request does */
}

static void
quit_ends_that_game_and_removes_its_file(void **state)
{
    fixture_t *f = *state;
    char ca[128], cb[128];
    tale_session_t *a = new_session(f, ca), *b = new_session(f, cb);
    say_(a, "remember apples");
    say_(b, "remember bananas");
    assert_int_equal(tale_sessions_autosave(f->host.sessions), 0);
    assert_true(game_file_exists(f, ca));
    assert_true(game_file_exists(f, cb));
    rec_conn_t *c = &f->conns[0];
    assert_int_equal(tale_session_attach(a, &rec_io, c, 0), 0);
    say_(a, "quit");
    assert_int_equal(c->closed_code, TALE_CLOSE_SESSION_ENDED);
    assert_false(game_file_exists(f, ca));
    assert_null(with_cookie(f, ca, 0));
    assert_true(game_file_exists(f, cb));
    assert_ptr_equal(with_cookie(f, cb, 0), b);
    assert_int_equal(tale_sessions_live_worlds(f->host.sessions), 1);
}

static void
the_console_has_its_own_game_that_is_never_evicted(void **state)
{
    fixture_t *f = *state;
    tale_request_t rq = {.size = sizeof(rq), .flags = TALE_SESSION_CREATE | TALE_SESSION_TRUSTED};
    tale_session_t *console = NULL;
    assert_int_equal(tale_session_open(f->host.sessions, &rq, &console, NULL, NULL), 0);
    assert_non_null(console);
    rec_conn_t *c = &f->conns[0];
    assert_int_equal(tale_session_attach(console, &rec_io, c, 0), 0);
    say_(console, "remember the lamp");
    for (int i = 0; i < 5; i++)
        assert_non_null(new_session(f, NULL));
    assert_int_equal(c->closed_code, 0);
    say_(console, "look");
    assert_non_null(strstr(c->last, "you said look"));
}

int
main(void)
{
    tale_log_level = TALE_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(frames_are_stamped_with_consecutive_seqs, setup_if, teardown),
        cmocka_unit_test_setup_teardown(resume_replays_exactly_the_frames_after_the_given_seq, setup_if, teardown),
        cmocka_unit_test_setup_teardown(transport_counters_follow_the_connection, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(backlog_is_bounded_in_bytes_and_keeps_the_newest, setup_if, teardown),
        cmocka_unit_test_setup_teardown(a_second_connection_takes_over_the_seat_and_the_first_is_told, setup_if, teardown),
        cmocka_unit_test_setup_teardown(if_seat_goes_only_to_its_token, setup_if, teardown),
        cmocka_unit_test_setup_teardown(key_mode_refuses_visitors_and_the_key_claims_the_seat_once, setup_if, teardown),
        cmocka_unit_test_setup_teardown(a_trusted_console_takes_the_if_seat_without_a_key, setup_if, teardown),
        cmocka_unit_test_setup_teardown(foreign_host_or_origin_is_refused_before_any_seat, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(seats_per_address_and_new_seats_per_minute_are_bounded, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(behind_a_trusted_proxy_the_forwarded_client_counts, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(mud_mode_gives_each_browser_a_seat_up_to_max_sessions, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(unknown_or_missing_cookie_finds_no_session_without_create, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(set_cookie_is_httponly_samesite_strict_and_secure_under_tls, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(quit_ends_the_session_and_closes_its_connection, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(autocomplete_input_asks_the_engine_for_suggestions_not_a_command, setup_if, teardown),
        cmocka_unit_test_setup_teardown(host_notices_carry_the_location_snapshot, setup_if, teardown),
        cmocka_unit_test_setup_teardown(a_command_flood_is_cut_to_the_burst_with_one_polite_notice, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(input_over_max_input_is_refused_with_a_message, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(input_with_a_nul_byte_is_refused_not_cut_short, setup_mud, teardown),
        cmocka_unit_test(cookie_parser_finds_the_named_cookie_among_others),
        cmocka_unit_test_setup_teardown(the_token_table_finds_thousands_of_sessions_and_forgets_removed_ones, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(a_player_lingers_then_fades_away_and_the_cookie_is_dead, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(total_backlog_cuts_the_disconnected_first_and_keeps_each_newest_frame, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(a_broadcast_is_one_body_with_each_players_seq_in_front, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(a_players_own_answer_comes_at_once_after_what_it_was_waiting_behind, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(a_broadcast_to_a_crowd_is_delivered_over_several_turns, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(seat_idle_closes_the_quiet_player_not_the_one_who_attached_first, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(each_visitor_gets_a_world_of_their_own, setup_per_visitor, teardown),
        cmocka_unit_test_setup_teardown(the_least_recently_used_is_saved_and_evicted_and_its_cookie_restores_it, setup_per_visitor,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_peek_or_a_malformed_cookie_restores_nothing, setup_per_visitor, teardown),
        cmocka_unit_test_setup_teardown(quit_ends_that_game_and_removes_its_file, setup_per_visitor, teardown),
        cmocka_unit_test_setup_teardown(the_console_has_its_own_game_that_is_never_evicted, setup_per_visitor, teardown),
        cmocka_unit_test_setup_teardown(over_the_cap_the_drain_turn_puts_away_others_than_the_games_just_opened, setup_per_visitor,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_return_soon_after_eviction_restores_the_cached_save, setup_per_visitor, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
