/*
 * session.c - players' seats, their frame backlog, and the game tick.
 *
 * The cost of a player is flat, from the first to the ten-thousandth (issue
 * #13); each part below says how.
 *
 * Frames.  The engine hands a frame to one player (on_emit) or to many
 * (on_broadcast: a yell, room news).  Either way it is serialised once,
 * without "seq", into a refcounted body; each recipient holds a small node
 * {seq, body} in its backlog.  A player's wire bytes are built at delivery
 * into one reusable scratch buffer: `{"seq":N,` and then the body after its
 * `{`.  That is safe because a transport's send copies what it is given
 * (tale_frame_t: the bytes are valid only for the call): ws queues them in
 * wslay, which copies; sse appends them to its stream buffer; the console
 * parses them at once.
 *
 * Backlog.  Per session at most limits.session_backlog bytes (what a resume
 * would send: each frame's full size), always keeping the newest frame.  In
 * total limits.total_backlog, where a shared body counts once plus a node
 * per holder (malloc's own overhead is not counted).  Over the total: the session receiving a frame is cut to
 * its fair share (total / open sessions); then, for a bounded number of
 * steps per frame, a cursor that goes round all sessions cuts them too,
 * taking seats without a connection first (oldest disconnect first, down to
 * their newest frame), then connected ones (down to the fair share).
 * Cutting takes the oldest frames and spares those not sent yet (they
 * leave within a turn or two; session_backlog bounds them meanwhile, and
 * the session is trimmed again once they are sent).
 *
 * Delivery.  Appending is O(1) per recipient; handing bytes to a transport
 * is the costly part.  A connected session with unsent frames joins the
 * delivery queue, which is drained on later loop turns, at most
 * DRAIN_SESSIONS sessions or DRAIN_NS of time per turn, so one broadcast to
 * thousands never stalls the loop.  The queue wakes the loop through an
 * eventfd: a zero timeout re-armed inside its own callback runs again in
 * the same turn (h2o 2.2.5), an eventfd only at the next poll, after the
 * other sockets ready by then.  Delivering a session sends all its unsent
 * frames in seq order, so its later frames never overtake earlier ones.  A
 * player's own command answer is delivered at once: the session is flushed
 * as the command returns (its own frames do not wake the loop meanwhile).
 *
 * Lookup.  Sessions by token in a chained hash table.  The bucket comes
 * from SipHash-2-4 keyed with RAND_bytes at start, so a presented token
 * cannot steer which bucket it lands in nor learn the layout from timing;
 * candidates are compared with CRYPTO_memcmp.
 *
 * Time.  Each session is on one of two lists in time order: connected ones
 * by their last input (moved to the tail on input), the others by when
 * their connection went.  A tick looks at the heads only: limits.seat_idle
 * closes connected players idle too long, limits.linger ends MUD seats
 * whose connection went that long ago ("X fades away").
 *
 * Instances (`instances: per_visitor`, issue #14).  Each session owns a
 * world of the shared story and an instances.h record named by its token.
 * At most limits.max_live_worlds are live: making room for one more evicts
 * the least recently used (a seat without a connection first, the one that
 * left longest ago; else the connected one idle longest), and the tick
 * evicts seats without a connection for limits.world_idle.  An eviction
 * serialises the world on the loop (the bytes go to the save worker) and
 * frees it; a world nobody ever typed into is not worth a file and is just
 * dropped.  A cookie naming no live session but a stored instance restores
 * it into a fresh world, under the same token.  Changed worlds are saved
 * limits.world_save after their first change (a list in change order: the
 * tick looks at its head, a batch at a time), on eviction and at shutdown.
 */
#include "session.h"
#include "access.h"
#include "accesslog.h"
#include "accounts_dialogue.h"
#include "instances.h"
#include "json_compact.h"
#include "log.h"
#include "peers.h"
#include <tale/alloc.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_BYTES 16 /* 128 bits from OpenSSL's RAND */
#define TOKEN_HEX (TOKEN_BYTES * 2)
#define COOKIE_NAME "tale_session"
/* A drain turn ends after this many sessions or this much time (checked
 * every DRAIN_CLOCK_EVERY sessions, since reading the clock costs too). */
#define DRAIN_SESSIONS 512
#define DRAIN_NS (2 * 1000 * 1000)
#define DRAIN_CLOCK_EVERY 32
/* Sessions the total-backlog cursor may cut per frame held. */
#define TRIM_STEPS 16
#define MIN_BUCKETS 64
/* Per-visitor worlds a tick may save or evict: at most this many, and no
 * more once SWEEP_NS has gone (the rest wait for the next tick). */
#define SWEEP_WORLDS 256
#define SWEEP_NS (4 * 1000 * 1000)
/* Over max_live_worlds, the drain turn puts away at most this many worlds
 * (or stops after EVICT_NS), so a burst of returns is answered before the
 * evictions it causes; the live count may run SOFT_CAP_DIV'th of the cap
 * over meanwhile, beyond which an opening game makes room itself. */
#define EVICT_WORLDS 16
#define EVICT_NS (1000 * 1000)
#define SOFT_CAP_DIV 8
/* A game opened this recently whose visitor has not connected yet (the page
 * is loading) is put away only when nothing else is left. */
#define FRESH_MS 10000
/* Bytes of put-away saves kept in memory per game max_live_worlds allows. */
#define CACHE_PER_LIVE (16 * 1024)
/* The console's instance: a name no cookie can present (tokens are hex of
 * TOKEN_HEX), so its game lasts across restarts and no visitor reaches it. */
#define CONSOLE_INSTANCE "console"

/* A frame's JSON without "seq", shared by everyone who holds it. */
typedef struct frame_body {
    uint32_t refs;
    uint8_t is_data; /* the SSE event: "data", else "text" */
    size_t len;
    char *json; /* compact, an object: starts with '{' */
} frame_body_t;

/* One frame in one session's backlog. */
typedef struct held_frame {
    struct held_frame *next;
    uint64_t seq;
    frame_body_t *body;
} held_frame_t;

struct tale_session {
    tale_sessions_t *ss;
    tale_session_t *hnext;     /* the next in its hash bucket */
    h2o_linklist_t timeline;   /* on ss->attached or ss->detached, in time order */
    h2o_linklist_t queue_link; /* on ss->queue while it has frames to deliver */
    tale_player_t *player;
    held_frame_t *head, *tail;
    held_frame_t *unsent; /* the first frame the attached connection has not been given; NULL: none */
    size_t held_bytes;    /* each held frame's full size: what a resume would send */
    const tale_player_io_t *io;
    void *conn;
    uint64_t seq; /* last seq stamped */
    /* loop time in ms that orders the session on its time list: its last
     * input (or attach) while attached, when it was detached otherwise */
    uint64_t since;
    /* input rate limit: a token bucket refilled at limits.input_rate/s */
    double tokens;
    uint64_t refilled_at, noticed_at;
    tale_peer_t *peer; /* the client address that created the seat (per-address limits); may be NULL */
    /* per_visitor: the session's own world and its record; NULL otherwise (the host's world) */
    tale_world_t *world;
    tale_inst_t *inst;
    h2o_linklist_t dirty_link; /* on ss->dirty while changed since its last save */
    uint64_t dirty_since;
    uint8_t changed;      /* ever typed into: worth a file */
    uint8_t pinned;       /* the console's: never evicted */
    uint8_t fresh;        /* per_visitor: opened at `since` and never attached */
    uint8_t ending;       /* quit in progress: no new input */
    tale_dialogue_t *dlg; /* accounts on: the seat's login dialogue and account (see "accounts" below) */
    char token[TOKEN_HEX + 1];
    /* metrics and the access log (issue #17) */
    tale_plugin_t *via;         /* the transport the seat was last opened through; NULL: unknown */
    tale_plugin_t *conn_via;    /* the attached connection's transport (via, at attach) */
    tale_addr_t client;         /* the address it was last opened from; family 0: unknown */
    struct timespec conn_since; /* monotonic: when the connection attached */
    uint64_t conn_frames, conn_bytes, conn_commands;
};

enum refusal { REFUSED_KEY, REFUSED_FULL, REFUSED_PER_ADDRESS, REFUSED_PER_MINUTE, REFUSAL_KINDS };

struct tale_sessions {
    tale_host_t *host;
    size_t count;
    /* the token hash table: a power-of-two number of chains */
    tale_session_t **buckets;
    size_t n_buckets;
    uint8_t hash_key[16];
    h2o_linklist_t attached, detached; /* time lists (see the top of the file) */
    h2o_linklist_t queue;              /* sessions with frames to deliver, in the order they got them */
    size_t n_queued;
    tale_session_t *victim; /* where the total-backlog cursor stands; NULL: before the first */
    size_t held_total;      /* bytes held by all backlogs, a shared body once */
    char *scratch;          /* one player's wire bytes at delivery */
    size_t scratch_cap;
    int scratch_busy;
    h2o_socket_t *wake; /* an eventfd on the loop: the next drain turn; NULL: deliver at once */
    int wake_armed;
    int closing;                   /* tale_sessions_free: frames emitted now go nowhere */
    tale_session_t *answering;     /* whose input runs: its frames go when it returns, without a wake-up */
    tale_session_t *seat;          /* IF mode: the one seat */
    char claim_key[TOKEN_HEX + 1]; /* IF mode: the one-time key that takes the seat (printed on the console) */
    char *claim_url;               /* where the key is shown: a listener's URL */
    /* each kind of refusal is logged at warn at most once a second (a flood must not flood the log) */
    uint64_t refusal_logged_at[REFUSAL_KINDS];
    uint64_t refusals_unlogged[REFUSAL_KINDS];
    h2o_timeout_t tick;
    h2o_timeout_entry_t tick_entry;
    int tick_inited;
    /* per_visitor */
    tale_instances_t *instances; /* NULL: single (or the index could not be opened) */
    h2o_linklist_t dirty;        /* sessions changed since their last save, first change first (accounts: characters) */
    size_t n_live;
    tale_accounts_t *accounts; /* accounts on (MUD): the store's worker; NULL otherwise */
};

static void session_destroy(tale_session_t *s, int code, const char *reason, int depart);
static void conn_end(tale_session_t *s, void *conn, int code);
static void evict_over_cap(tale_sessions_t *ss);
static int accounts_seat(tale_session_t *s);
static void account_leaves(tale_session_t *s);

/* The per_visitor mode, where every visitor has a world of their own. */
static int
per_visitor(const tale_sessions_t *ss)
{
    const tale_config_t *cfg = ss->host->cfg;
    return cfg->mode == TALE_MODE_IF && cfg->instances == TALE_INSTANCES_PER_VISITOR;
}

/* IF with one seat for the host (instances: single): the seat rules apply. */
static int
single_seat(const tale_sessions_t *ss)
{
    return ss->host->cfg->mode == TALE_MODE_IF && !per_visitor(ss);
}

static uint64_t
now_ms(tale_sessions_t *ss)
{
    return h2o_now(ss->host->loop);
}

static tale_session_t *
from_timeline(h2o_linklist_t *node)
{
    return H2O_STRUCT_FROM_MEMBER(tale_session_t, timeline, node);
}

/* ---- frames ------------------------------------------------------------ */

/* The body a frame's recipients share; one reference is the caller's. */
static frame_body_t *
body_new(tale_sessions_t *ss, const json_t *frame)
{
    size_t len = 0;
    char *json = tale_json_compact(frame, &len);
    if (json == NULL || len < 2 || json[0] != '{') {
        tale_error("session", "the engine sent a frame that is not a JSON object; dropped");
        free(json);
        return NULL;
    }
    frame_body_t *b = tale_xmalloc(sizeof(*b));
    const char *type = json_string_value(json_object_get(frame, "type"));
    b->refs = 1;
    b->is_data = type != NULL && strcmp(type, "data") == 0;
    b->len = len;
    b->json = json;
    ss->held_total += sizeof(*b) + len;
    return b;
}

static void
body_release(tale_sessions_t *ss, frame_body_t *b)
{
    if (--b->refs != 0)
        return;
    ss->held_total -= sizeof(*b) + b->len;
    free(b->json);
    free(b);
}

/* A frame's size in its session's own backlog: all of it, as a resume sends it. */
static size_t
frame_cost(const frame_body_t *b)
{
    return sizeof(held_frame_t) + b->len;
}

static void
drop_oldest(tale_session_t *s)
{
    held_frame_t *f = s->head;
    s->head = f->next;
    if (s->head == NULL)
        s->tail = NULL;
    if (s->unsent == f) /* a player this far behind gets a gap: its client resumes */
        s->unsent = f->next;
    s->held_bytes -= frame_cost(f->body);
    s->ss->held_total -= sizeof(*f);
    body_release(s->ss, f->body);
    free(f);
}

/* Cut a backlog to `bytes`, keeping its newest frame whatever its size. */
static void
trim_to(tale_session_t *s, size_t bytes)
{
    while (s->held_bytes > bytes && s->head != s->tail) {
        drop_oldest(s);
        s->ss->host->metrics.backlog_dropped++;
    }
}

/* The same for the total: frames not yet sent stay (they go within a turn
 * or two, bounded by session_backlog meanwhile); flush() trims again once
 * they are sent. */
static void
trim_sent_to(tale_session_t *s, size_t bytes)
{
    while (s->held_bytes > bytes && s->head != s->tail && s->head != s->unsent) {
        drop_oldest(s);
        s->ss->host->metrics.backlog_dropped++;
    }
}

/* The session after `s` in the total-backlog cursor's round: the detached
 * list, then the attached one; NULL when the round is over. */
static tale_session_t *
round_next(tale_sessions_t *ss, tale_session_t *s)
{
    h2o_linklist_t *node = s == NULL ? ss->detached.next : s->timeline.next;
    if (node == &ss->detached)
        node = ss->attached.next;
    return node == &ss->attached ? NULL : from_timeline(node);
}

/* Over limits.total_backlog: see "Backlog" at the top of the file. */
static void
trim_total(tale_sessions_t *ss, tale_session_t *receiver)
{
    uint64_t limit = ss->host->cfg->limits.total_backlog;
    if (ss->held_total <= limit)
        return;
    size_t fair = (size_t)(limit / (ss->count != 0 ? ss->count : 1));
    trim_sent_to(receiver, fair);
    for (int step = 0; step < TRIM_STEPS && ss->held_total > limit; step++) {
        tale_session_t *v = ss->victim = round_next(ss, ss->victim);
        if (v != NULL)
            trim_sent_to(v, v->io == NULL ? 0 : fair);
    }
}

/* ---- delivery ---------------------------------------------------------- */

static void
wake_loop(tale_sessions_t *ss)
{
    if (ss->wake_armed)
        return;
    uint64_t one = 1;
    if (write(h2o_socket_get_fd(ss->wake), &one, sizeof(one)) == (ssize_t)sizeof(one) || errno == EAGAIN)
        ss->wake_armed = 1;
    else
        tale_error("session", "cannot wake the loop to deliver frames: %s", strerror(errno));
}

static void
dequeue(tale_session_t *s)
{
    if (h2o_linklist_is_linked(&s->queue_link)) {
        h2o_linklist_unlink(&s->queue_link);
        s->ss->n_queued--;
    }
}

/* Hand one frame to the attached connection, its seq in the envelope;
 * -1 when the transport refused it (the session is then detached). */
static int
send_frame(tale_session_t *s, const held_frame_t *f)
{
    tale_sessions_t *ss = s->ss;
    const frame_body_t *b = f->body;
    char head[32];
    int n = snprintf(head, sizeof(head), "{\"seq\":%" PRIu64, f->seq);
    size_t len = (size_t)n + b->len; /* the body's '{' makes room for the ',' (or the '}' of "{}") */
    /* a transport that sent frames of its own from inside send would find
     * the scratch in use: such a nested frame gets a buffer of its own */
    char *buf = ss->scratch;
    if (ss->scratch_busy) {
        buf = tale_xmalloc(len);
    } else if (len > ss->scratch_cap) {
        free(ss->scratch);
        ss->scratch_cap = len;
        buf = ss->scratch = tale_xmalloc(len);
    }
    memcpy(buf, head, (size_t)n);
    if (b->len > 2) {
        buf[n] = ',';
        memcpy(buf + n + 1, b->json + 1, b->len - 1);
    } else {
        buf[n] = '}';
        len = (size_t)n + 1;
    }
    int own = buf != ss->scratch;
    ss->scratch_busy += !own;
    tale_frame_t frame = {f->seq, b->is_data ? "data" : "text", buf, len};
    int rc = s->io->send(s->conn, &frame);
    ss->scratch_busy -= !own;
    if (own)
        free(buf);
    if (rc != 0) {
        tale_debug("session", "transport refused frame %llu; detaching", (unsigned long long)f->seq);
        if (s->conn_via != NULL)
            s->conn_via->metrics.refused++;
        /* the transport closes it as a client that does not read (TALE_CLOSE_POLICY) */
        conn_end(s, s->conn, TALE_CLOSE_POLICY);
        return -1;
    }
    s->conn_frames++;
    s->conn_bytes += len;
    if (s->conn_via != NULL) {
        s->conn_via->metrics.frames_out++;
        s->conn_via->metrics.bytes_out += len;
    }
    return 0;
}

/* Send the attached connection everything it has not been given, in seq
 * order, and leave the delivery queue. */
static void
flush(tale_session_t *s)
{
    dequeue(s);
    while (s->io != NULL && s->unsent != NULL) {
        held_frame_t *f = s->unsent;
        s->unsent = f->next;
        if (send_frame(s, f) != 0)
            break;
    }
    trim_total(s->ss, s);
}

/* One drain turn (the eventfd is readable): the queue's oldest sessions
 * first, within the turn's budget; what is left waits for the next turn. */
static void
on_wake(h2o_socket_t *sock, const char *err)
{
    tale_sessions_t *ss = sock->data;
    uint64_t count;
    if (read(h2o_socket_get_fd(sock), &count, sizeof(count)) < 0 && errno != EAGAIN)
        tale_debug("session", "reading the wake eventfd: %s", strerror(errno));
    ss->wake_armed = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int n = 0; n < DRAIN_SESSIONS && !h2o_linklist_is_empty(&ss->queue); n++) {
        if (n % DRAIN_CLOCK_EVERY == DRAIN_CLOCK_EVERY - 1) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec) > DRAIN_NS)
                break;
        }
        flush(H2O_STRUCT_FROM_MEMBER(tale_session_t, queue_link, ss->queue.next));
    }
    if (!h2o_linklist_is_empty(&ss->queue))
        wake_loop(ss);
    else if (ss->instances != NULL && ss->n_live > ss->host->cfg->limits.max_live_worlds)
        evict_over_cap(ss);
}

/* `f` was held for `s`: queue it for the attached connection. */
static void
to_deliver(tale_session_t *s, held_frame_t *f)
{
    if (s->io == NULL)
        return;
    if (s->unsent == NULL)
        s->unsent = f;
    if (s == s->ss->answering)
        return;
    if (s->ss->wake == NULL) {
        flush(s);
        return;
    }
    if (!h2o_linklist_is_linked(&s->queue_link)) {
        h2o_linklist_insert(&s->ss->queue, &s->queue_link);
        s->ss->n_queued++;
        wake_loop(s->ss);
    }
}

/* Hold `b` in s's backlog under the next seq, within the limits, and queue it. */
static void
hold(tale_session_t *s, frame_body_t *b)
{
    tale_sessions_t *ss = s->ss;
    held_frame_t *f = tale_xmalloc(sizeof(*f));
    f->next = NULL;
    f->seq = ++s->seq;
    f->body = b;
    b->refs++;
    if (s->tail != NULL)
        s->tail->next = f;
    else
        s->head = f;
    s->tail = f;
    s->held_bytes += frame_cost(b);
    ss->held_total += sizeof(*f);
    trim_to(s, ss->host->cfg->limits.session_backlog);
    trim_total(ss, s);
    to_deliver(s, f);
}

/* The engine's emit callback: takes ownership of `frame`. */
static void
on_emit(void *ctx, json_t *frame)
{
    tale_session_t *s = ctx;
    frame_body_t *b = s->ss->closing ? NULL : body_new(s->ss, frame);
    if (b != NULL) {
        hold(s, b);
        body_release(s->ss, b);
    }
    json_decref(frame);
}

/* The engine's broadcast hook: one body for the `n` players of `ctxs`. */
static void
on_broadcast(void *bctx, void *const *ctxs, size_t n, json_t *frame)
{
    tale_sessions_t *ss = bctx;
    frame_body_t *b = n == 0 || ss->closing ? NULL : body_new(ss, frame);
    if (b != NULL) {
        for (size_t i = 0; i < n; i++)
            hold(ctxs[i], b);
        body_release(ss, b);
    }
    json_decref(frame);
}

/* A notice from the host (plain text): the engine makes it a text frame
 * with the player's location snapshot, as it does every frame (LlamaTale's
 * client reads "location" from any text frame), through on_emit. */
static void
emit_text(tale_session_t *s, const char *text)
{
    if (s->player != NULL)
        tale_player_notice(s->player, text);
    else if (s->dlg != NULL)
        on_emit(s, tale_prompt_frame(text, 0));
}

/* ---- tokens and cookies ------------------------------------------------ */

const char *
tale_cookie_find(const char *header, size_t len, const char *name, size_t *value_len)
{
    size_t nlen = strlen(name);
    size_t i = 0;
    if (header == NULL)
        return NULL;
    while (i < len) {
        while (i < len && (header[i] == ' ' || header[i] == '\t' || header[i] == ';'))
            i++;
        size_t start = i;
        while (i < len && header[i] != ';')
            i++;
        /* start..i is "name=value" */
        if (i - start > nlen && memcmp(header + start, name, nlen) == 0 && header[start + nlen] == '=') {
            *value_len = i - start - nlen - 1;
            return header + start + nlen + 1;
        }
    }
    return NULL;
}

/* ---- sessions by token ------------------------------------------------- */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                                                   \
    do {                                                                                                                           \
        v0 += v1;                                                                                                                  \
        v1 = ROTL64(v1, 13);                                                                                                       \
        v1 ^= v0;                                                                                                                  \
        v0 = ROTL64(v0, 32);                                                                                                       \
        v2 += v3;                                                                                                                  \
        v3 = ROTL64(v3, 16);                                                                                                       \
        v3 ^= v2;                                                                                                                  \
        v0 += v3;                                                                                                                  \
        v3 = ROTL64(v3, 21);                                                                                                       \
        v3 ^= v0;                                                                                                                  \
        v2 += v1;                                                                                                                  \
        v1 = ROTL64(v1, 17);                                                                                                       \
        v1 ^= v2;                                                                                                                  \
        v2 = ROTL64(v2, 32);                                                                                                       \
    } while (0)

static uint64_t
load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash made for hash tables
 * whose keys an attacker chooses. */
static uint64_t
siphash24(const uint8_t key[16], const uint8_t *in, size_t len)
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++)
        last |= (uint64_t)in[whole + i] << (8 * i);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static size_t
bucket_of(const tale_sessions_t *ss, const char *token)
{
    return (size_t)siphash24(ss->hash_key, (const uint8_t *)token, TOKEN_HEX) & (ss->n_buckets - 1);
}

/* Re-chain every session into n buckets (a power of two). */
static void
rehash(tale_sessions_t *ss, size_t n)
{
    tale_session_t **old = ss->buckets;
    size_t n_old = ss->n_buckets;
    ss->buckets = tale_xcalloc(n, sizeof(*ss->buckets));
    ss->n_buckets = n;
    for (size_t i = 0; i < n_old; i++)
        for (tale_session_t *s = old[i], *next; s != NULL; s = next) {
            next = s->hnext;
            size_t b = bucket_of(ss, s->token);
            s->hnext = ss->buckets[b];
            ss->buckets[b] = s;
        }
    free(old);
}

/* Chains stay about one long: the table doubles when it would hold more
 * sessions than buckets (count is already the new count). */
static void
hash_insert(tale_sessions_t *ss, tale_session_t *s)
{
    if (ss->count > ss->n_buckets)
        rehash(ss, ss->n_buckets * 2);
    size_t b = bucket_of(ss, s->token);
    s->hnext = ss->buckets[b];
    ss->buckets[b] = s;
}

/* ...and halves when an eighth full, so a crowd that left gives its table back. */
static void
hash_remove(tale_sessions_t *ss, tale_session_t *s)
{
    for (tale_session_t **p = &ss->buckets[bucket_of(ss, s->token)]; *p != NULL; p = &(*p)->hnext)
        if (*p == s) {
            *p = s->hnext;
            break;
        }
    s->hnext = NULL;
    if (ss->n_buckets > MIN_BUCKETS && ss->count < ss->n_buckets / 8)
        rehash(ss, ss->n_buckets / 2);
}

static tale_session_t *
find_by_token(tale_sessions_t *ss, const char *tok, size_t len)
{
    if (len != TOKEN_HEX)
        return NULL;
    /* Constant-time per comparison: the token must not leak through timing
     * (and the keyed bucket says nothing about it either). */
    tale_session_t *found = NULL;
    for (tale_session_t *s = ss->buckets[bucket_of(ss, tok)]; s != NULL; s = s->hnext)
        if (CRYPTO_memcmp(s->token, tok, TOKEN_HEX) == 0)
            found = s;
    return found;
}

static int
new_token(char out[TOKEN_HEX + 1])
{
    unsigned char raw[TOKEN_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    for (int i = 0; i < TOKEN_BYTES; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
    return 0;
}

static void
write_set_cookie(const tale_session_t *s, unsigned flags, char set_cookie[TALE_SET_COOKIE_MAX])
{
    snprintf(set_cookie, TALE_SET_COOKIE_MAX, COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict%s", s->token,
             (flags & TALE_SESSION_SECURE) ? "; Secure" : "");
}

/* ---- lifecycle --------------------------------------------------------- */

/* Off its time list; the total-backlog cursor steps back over it first. */
static void
timeline_unlink(tale_session_t *s)
{
    tale_sessions_t *ss = s->ss;
    if (!h2o_linklist_is_linked(&s->timeline))
        return;
    if (ss->victim == s) {
        h2o_linklist_t *prev = s->timeline.prev;
        ss->victim = prev == &ss->detached || prev == &ss->attached ? NULL : from_timeline(prev);
    }
    h2o_linklist_unlink(&s->timeline);
}

/* To the tail of its time list (attached: by s->io), stamped now. */
static void
timeline_touch(tale_session_t *s)
{
    tale_sessions_t *ss = s->ss;
    timeline_unlink(s);
    s->since = now_ms(ss);
    h2o_linklist_insert(s->io != NULL ? &ss->attached : &ss->detached, &s->timeline);
}

/* A seat under `token` (NULL: a new one), on the table and the detached list. */
static tale_session_t *
session_new(tale_sessions_t *ss, const char *token)
{
    tale_session_t *s = tale_xcalloc(1, sizeof(*s));
    if (token != NULL) {
        memcpy(s->token, token, TOKEN_HEX);
    } else if (new_token(s->token) != 0) {
        free(s);
        tale_error("session", "cannot create a session token");
        return NULL;
    }
    s->ss = ss;
    s->tokens = (double)ss->host->cfg->limits.input_burst;
    s->refilled_at = now_ms(ss);
    ss->count++;
    hash_insert(ss, s);
    timeline_touch(s); /* detached, from now: a seat nobody attaches to goes after limits.linger */
    return s;
}

static tale_session_t *
session_create(tale_sessions_t *ss)
{
    tale_host_t *h = ss->host;
    tale_session_t *s = session_new(ss, NULL);
    if (s == NULL)
        return NULL;

    /* IF mode picks up the saved game before the player appears. */
    if (h->cfg->mode == TALE_MODE_IF && h->cfg->autosave && h->cfg->data_dir != NULL) {
        char err[512] = "";
        if (tale_world_restore(h->world, NULL, err, sizeof(err)) == 0)
            tale_info("session", "restored the saved game");
        else if (err[0] != '\0')
            tale_info("session", "starting a new game (%s)", err);
    }
    if (ss->accounts != NULL) {
        if (accounts_seat(s) != 0) {
            session_destroy(s, TALE_CLOSE_SESSION_ENDED, "no player", TALE_DEPART_QUIT);
            return NULL;
        }
        return s;
    }
    s->player = tale_player_join(h->world, on_emit, s);
    if (s->player == NULL) {
        tale_error("session", "the engine refused a new player");
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "no player", TALE_DEPART_QUIT);
        return NULL;
    }
    tale_debug("session", "new session (%zu open)", ss->count);
    return s;
}

/* End a seat: what it was sent reaches its connection before the close,
 * then its player leaves the world as `depart` says (TALE_DEPART_*). */
static void
session_destroy(tale_session_t *s, int code, const char *reason, int depart)
{
    tale_sessions_t *ss = s->ss;
    if (s->io != NULL) {
        flush(s);
        if (s->io != NULL) {
            const tale_player_io_t *io = s->io;
            void *conn = s->conn;
            conn_end(s, conn, code);
            io->close(conn, code, reason);
        }
    }
    if (s->via != NULL)
        s->via->metrics.seats--;
    if (s->dlg != NULL)
        account_leaves(s); /* the character's last state, before it departs */
    if (s->player != NULL) {
        tale_player_t *p = s->player;
        s->player = NULL;
        tale_player_depart(p, depart);
    }
    if (s->world != NULL) {
        if (s->inst != NULL)
            tale_inst_set_owner(s->inst, NULL);
        tale_world_free(s->world);
        s->world = NULL;
        ss->n_live--;
    }
    if (h2o_linklist_is_linked(&s->dirty_link))
        h2o_linklist_unlink(&s->dirty_link);
    dequeue(s);
    timeline_unlink(s);
    while (s->head != NULL)
        drop_oldest(s);
    if (s->peer != NULL) {
        s->peer->seats--;
        tale_peers_release(ss->host->peers, s->peer);
    }
    if (ss->seat == s)
        ss->seat = NULL;
    ss->count--;
    hash_remove(ss, s);
    free(s);
}

/* ---- per-visitor instances --------------------------------------------- */

/* The engine's save writer for a per-visitor world: its bytes go to the
 * instance's own file through the index (instances.h). */
static int
inst_submit(void *ctx, uint64_t ticket, char *data, size_t len, char *err, size_t errlen)
{
    tale_session_t *s = ctx;
    return tale_inst_store(s->ss->instances, s->inst, ticket, data, len, err, errlen);
}

static const char *
inst_unwritten(void *ctx, size_t *len)
{
    return tale_inst_unwritten(((tale_session_t *)ctx)->inst, len);
}

/* A write reached the disk: a player waiting on their `save` is told. */
static void
on_inst_saved(void *data, void *owner, uint64_t ticket, int ok, const char *err)
{
    (void)data;
    tale_session_t *s = owner;
    if (s != NULL && s->world != NULL)
        tale_world_save_done(s->world, ticket, ok, err);
}

/* Save a live instance now: serialised here, written by the worker.  A
 * save the worker could not take (its queue full) leaves the game on the
 * dirty list, at its tail: a later sweep, or the shutdown, tries again. */
static int
save_instance(tale_session_t *s)
{
    char err[512] = "";
    int was_dirty = h2o_linklist_is_linked(&s->dirty_link);
    if (was_dirty)
        h2o_linklist_unlink(&s->dirty_link);
    if (tale_world_checkpoint(s->world, NULL, err, sizeof(err)) < 0) {
        if (!tale_instances_queue_full(s->ss->instances))
            tale_error("session", "saving a visitor's game failed: %s", err); /* a full queue is logged by the saver */
        if (!was_dirty)
            s->dirty_since = now_ms(s->ss);
        h2o_linklist_insert(&s->ss->dirty, &s->dirty_link);
        return -1;
    }
    return 0;
}

static void
mark_dirty(tale_session_t *s)
{
    s->changed = 1;
    if (h2o_linklist_is_linked(&s->dirty_link))
        return;
    s->dirty_since = now_ms(s->ss);
    h2o_linklist_insert(&s->ss->dirty, &s->dirty_link);
}

/* Put a live instance away: saved when a command changed it since its last
 * save or restore (nobody typed into it: no file; only ticked since: its
 * clock and wandering NPCs resume from the save, which spares the loop a
 * serialisation per eviction), then out of memory.  -1 when it could not be
 * saved: it stays live rather than lose the game. */
static int
evict(tale_session_t *s, const char *why)
{
    tale_sessions_t *ss = s->ss;
    tale_inst_t *in = s->inst;
    int unsaved = h2o_linklist_is_linked(&s->dirty_link) || (s->changed && !tale_inst_stored(in));
    if (unsaved && save_instance(s) != 0)
        return -1;
    tale_inst_set_last_seq(in, s->seq);
    tale_debug("session", "a visitor's game put away (%s)", why);
    session_destroy(s, TALE_CLOSE_GOING_AWAY, "This game was put away to make room; reload the page to continue it.",
                    TALE_DEPART_QUIT);
    if (!tale_inst_stored(in))
        tale_inst_forget(ss->instances, in);
    return 0;
}

/* The least recently used instance that may go: seats without a connection
 * first (the one that left longest ago); then games opened for a visitor
 * who has not connected yet (the page is loading: nothing typed, nothing
 * lost); then connected ones idle longest; a game opened in this loop turn
 * only when nothing else is left. */
static tale_session_t *
lru_victim(tale_sessions_t *ss)
{
    uint64_t now = now_ms(ss);
    tale_session_t *young = NULL, *now_opened = NULL;
    for (h2o_linklist_t *n = ss->detached.next; n != &ss->detached; n = n->next) {
        tale_session_t *s = from_timeline(n);
        if (s->pinned || s->ending)
            continue;
        if (!s->fresh || now - s->since >= FRESH_MS)
            return s;
        if (s->since != now && young == NULL)
            young = s;
        else if (s->since == now && now_opened == NULL)
            now_opened = s;
    }
    if (young != NULL)
        return young;
    for (h2o_linklist_t *n = ss->attached.next; n != &ss->attached; n = n->next) {
        tale_session_t *s = from_timeline(n);
        if (!s->pinned && !s->ending)
            return s;
    }
    return now_opened;
}

/* Put away least recently used games until fewer than `limit` are live. */
static int
make_room(tale_sessions_t *ss, uint64_t limit)
{
    while (ss->n_live >= limit) {
        tale_session_t *v = lru_victim(ss);
        if (v == NULL || evict(v, "max_live_worlds") != 0)
            return -1;
    }
    return 0;
}

/* The live count is over max_live_worlds: a bounded batch of evictions,
 * run from the drain turn after the answers of the turn have gone out (and
 * from the tick, which retries after a save the worker could not take). */
static void
evict_over_cap(tale_sessions_t *ss)
{
    uint64_t cap = ss->host->cfg->limits.max_live_worlds;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int n = 0; ss->n_live > cap; n++) {
        if (n == EVICT_WORLDS)
            goto more;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (n != 0 && (t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec) > EVICT_NS)
            goto more;
        tale_session_t *v = lru_victim(ss);
        if (v == NULL || evict(v, "max_live_worlds") != 0)
            return; /* nothing may go, or its save was refused: the tick tries again */
    }
    return;
more:
    wake_loop(ss);
}

/* Room for one more live instance: within max_live_worlds + a slack of
 * cap / SOFT_CAP_DIV the eviction waits for the drain turn; at the soft cap
 * (or without a drain turn) it happens here, before the new world. */
static int
room_for_one(tale_sessions_t *ss)
{
    uint64_t cap = ss->host->cfg->limits.max_live_worlds, slack = ss->wake != NULL ? cap / SOFT_CAP_DIV : 0;
    if (make_room(ss, cap + slack) != 0)
        return -1;
    if (ss->n_live + 1 > cap)
        wake_loop(ss);
    return 0;
}

/* A live instance for `in` (NULL: a new game) under `token` (NULL: a new
 * one); a stored game is restored into a fresh world of the shared story
 * before the player joins, so the first frame shows where they left off. */
static tale_session_t *
instance_open(tale_sessions_t *ss, const char *token, tale_inst_t *in)
{
    tale_host_t *h = ss->host;
    if (ss->instances == NULL || room_for_one(ss) != 0) {
        tale_warn("session", "no room for another game: max_live_worlds (%llu) reached and none could be put away",
                  (unsigned long long)h->cfg->limits.max_live_worlds);
        return NULL;
    }
    tale_session_t *s = session_new(ss, token);
    if (s == NULL)
        return NULL;
    s->inst = in != NULL ? in : tale_instances_add(ss->instances, s->token, TOKEN_HEX);
    tale_inst_set_owner(s->inst, s);
    s->fresh = 1;
    tale_world_options_t wopt = {.save_dir = tale_inst_dir(s->inst), .max_input = h->cfg->limits.max_input};
    s->world = tale_world_new(h->story, &wopt);
    ss->n_live++;
    tale_world_set_broadcast(s->world, on_broadcast, ss);
    tale_save_writer_t sw = {.submit = inst_submit, .unwritten = inst_unwritten, .ctx = s};
    tale_world_set_save_writer(s->world, &sw);
    if (tale_inst_stored(s->inst)) {
        char err[512] = "";
        if (tale_world_restore(s->world, NULL, err, sizeof(err)) == 0) {
            s->changed = 1;
            tale_inst_uncache(s->inst); /* the world holds it now: the cache keeps games not live */
            /* number on from the frames the client saw before the eviction
             * (after a restart that is not known: the wall clock in ms is
             * past any count a session reaches) */
            uint64_t last = tale_inst_last_seq(s->inst);
            s->seq = last != 0 ? last : (uint64_t)time(NULL) * 1000;
        } else {
            tale_error("session", "a visitor's stored game does not restore (%s); they start a new one", err);
        }
    }
    s->player = tale_player_join(s->world, on_emit, s);
    if (s->player == NULL) {
        tale_error("session", "the engine refused a new player");
        tale_inst_t *orphan = s->inst;
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "no player", TALE_DEPART_QUIT);
        tale_inst_forget(ss->instances, orphan);
        return NULL;
    }
    tale_debug("session", "%s game (%zu live)", in != NULL ? "a returning visitor's" : "a new", ss->n_live);
    return s;
}

/* The console's own game: the same one across restarts, never evicted. */
static tale_session_t *
console_instance(tale_sessions_t *ss)
{
    if (ss->instances == NULL)
        return NULL;
    tale_inst_t *in = tale_instances_find(ss->instances, CONSOLE_INSTANCE, sizeof(CONSOLE_INSTANCE) - 1);
    if (in == NULL)
        in = tale_instances_add(ss->instances, CONSOLE_INSTANCE, sizeof(CONSOLE_INSTANCE) - 1);
    tale_session_t *s = instance_open(ss, NULL, in);
    if (s != NULL)
        s->pinned = 1;
    else if (!tale_inst_stored(in))
        tale_inst_forget(ss->instances, in);
    return s;
}

/* A cookie that names no live seat: its stored game, restored (0 with *out
 * NULL when it names none; -1 when there is no room for it now). */
static int
instance_return(tale_sessions_t *ss, const char *tok, size_t len, const tale_addr_t *client, tale_session_t **out)
{
    *out = NULL;
    if (ss->instances == NULL || len != TOKEN_HEX)
        return 0;
    for (size_t i = 0; i < len; i++) /* only what new_token makes: the cookie's bytes are not NUL-terminated */
        if (!((tok[i] >= '0' && tok[i] <= '9') || (tok[i] >= 'a' && tok[i] <= 'f')))
            return 0;
    tale_inst_t *in = tale_instances_find(ss->instances, tok, len);
    if (in == NULL)
        return 0;
    char token[TOKEN_HEX + 1];
    memcpy(token, tok, TOKEN_HEX);
    token[TOKEN_HEX] = '\0';
    tale_session_t *s = instance_open(ss, token, in);
    if (s == NULL)
        return -1;
    /* a returning visitor is not a new seat (no token taken), but counts as one */
    if (client != NULL && client->family != 0 && (s->peer = tale_peers_get(ss->host->peers, client)) != NULL)
        s->peer->seats++;
    *out = s;
    return 0;
}

/* The tick of every live world: O(live), evicted ones do not tick. */
static void
tick_instances(tale_sessions_t *ss)
{
    h2o_linklist_t *lists[] = {&ss->attached, &ss->detached};
    for (size_t i = 0; i < 2; i++)
        for (h2o_linklist_t *n = lists[i]->next; n != lists[i]; n = n->next)
            tale_world_tick(from_timeline(n)->world);
}

static int
sweep_over(const struct timespec *t0, int n)
{
    if (n >= SWEEP_WORLDS)
        return 1;
    if (n % 16 != 15)
        return 0;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000000000LL + (t.tv_nsec - t0->tv_nsec) > SWEEP_NS;
}

/* A batch of autosaves (changed limits.world_save ago) and idle evictions
 * (no connection for limits.world_idle); what is left waits a tick. */
static void
sweep_instances(tale_sessions_t *ss, uint64_t now)
{
    const tale_config_t *cfg = ss->host->cfg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int n = 0;
    size_t saved = 0, evicted = 0;
    while (!h2o_linklist_is_empty(&ss->dirty) && !sweep_over(&t0, n)) {
        tale_session_t *s = H2O_STRUCT_FROM_MEMBER(tale_session_t, dirty_link, ss->dirty.next);
        if (now - s->dirty_since < cfg->limits.world_save_ms)
            break;
        if (save_instance(s) != 0)
            break; /* the save queue is full (or the disk fails): the rest wait a tick */
        saved++;
        n++;
    }
    size_t skipped = 0;
    while (!h2o_linklist_is_empty(&ss->detached) && !sweep_over(&t0, n) && skipped < ss->count) {
        tale_session_t *s = from_timeline(ss->detached.next);
        if (now - s->since < cfg->limits.world_idle_ms)
            break;
        if (s->pinned || evict(s, "world_idle") != 0) {
            timeline_touch(s); /* to the tail: tried again a world_idle later */
            skipped++;
        } else {
            evicted++;
        }
        n++;
    }
    if (saved != 0 || evicted != 0)
        tale_debug("session", "tick: %zu game%s saved, %zu put away after world_idle (%zu live)", saved, saved == 1 ? "" : "s",
                   evicted, ss->n_live);
}

/* Every live instance worth a file, saved now (shutdown: the worker drains
 * the queue before the process exits). */
static int
save_all(tale_sessions_t *ss)
{
    int rc = 0;
    size_t n = 0;
    h2o_linklist_t *lists[] = {&ss->attached, &ss->detached};
    for (size_t i = 0; i < 2; i++)
        for (h2o_linklist_t *l = lists[i]->next; l != lists[i]; l = l->next) {
            tale_session_t *s = from_timeline(l);
            if (!s->changed)
                continue;
            if (!h2o_linklist_is_linked(&s->dirty_link) && tale_inst_stored(s->inst))
                continue; /* saved since its last change */
            rc |= save_instance(s);
            n++;
        }
    if (n != 0)
        tale_info("session", "saved %zu visitor game%s", n, n == 1 ? "" : "s");
    return rc;
}

int
tale_sessions_use_instances(tale_sessions_t *ss, struct tale_saver *sv)
{
    char err[512], *dir;
    if (!per_visitor(ss))
        return 0;
    if (asprintf(&dir, "%s/worlds", ss->host->cfg->data_dir) < 0)
        tale_oom(strlen(ss->host->cfg->data_dir) + 8);
    mkdir(ss->host->cfg->data_dir, 0750);
    const tale_config_t *cfg = ss->host->cfg;
    ss->instances = tale_instances_new(dir, cfg->limits.max_stored_worlds, cfg->limits.max_stored_bytes, sv, on_inst_saved, ss, err,
                                       sizeof(err));
    free(dir);
    if (ss->instances == NULL) {
        tale_error("session", "cannot open the stored games: %s", err);
        return -1;
    }
    /* recently put-away saves stay in memory, so a visitor coming back soon
     * restores without reading the file: about a save each for 3 times as
     * many games as may be live (~5 KiB a save), never more than a quarter
     * of the stored bytes */
    uint64_t budget = cfg->limits.max_live_worlds * CACHE_PER_LIVE;
    if (budget > cfg->limits.max_stored_bytes / 4)
        budget = cfg->limits.max_stored_bytes / 4;
    tale_instances_set_cache(ss->instances, budget);
    return 0;
}

size_t
tale_sessions_live_worlds(const tale_sessions_t *ss)
{
    return ss->n_live;
}

tale_sessions_t *
tale_sessions_new(tale_host_t *h)
{
    tale_sessions_t *ss = tale_xcalloc(1, sizeof(*ss));
    ss->host = h;
    if (RAND_bytes(ss->hash_key, sizeof(ss->hash_key)) != 1 || (h->cfg->mode == TALE_MODE_IF && new_token(ss->claim_key) != 0)) {
        free(ss);
        tale_error("session", "cannot create the session table's key or the seat's claim key");
        return NULL;
    }
    ss->n_buckets = MIN_BUCKETS;
    ss->buckets = tale_xcalloc(ss->n_buckets, sizeof(*ss->buckets));
    h2o_linklist_init_anchor(&ss->attached);
    h2o_linklist_init_anchor(&ss->detached);
    h2o_linklist_init_anchor(&ss->queue);
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd >= 0) {
        ss->wake = h2o_evloop_socket_create(h->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
        ss->wake->data = ss;
        h2o_socket_read_start(ss->wake, on_wake);
    } else {
        tale_warn("session", "no eventfd (%s): frames are delivered at once, without the per-turn budget", strerror(errno));
    }
    h2o_linklist_init_anchor(&ss->dirty);
    if (h->world != NULL)
        tale_world_set_broadcast(h->world, on_broadcast, ss);
    return ss;
}

/* Print where the IF seat is claimed.  Each key works once: after a claim a
 * new one is made and printed again. */
static void
announce_claim_key(tale_sessions_t *ss)
{
    if (!single_seat(ss))
        return;
    if (ss->claim_url != NULL)
        tale_info("session", "to take this game's seat, open %s/tale/?key=%s (a one-time key)", ss->claim_url, ss->claim_key);
    else
        tale_info("session", "the game's one-time seat key is %s", ss->claim_key);
}

const char *
tale_sessions_claim_key(const tale_sessions_t *ss)
{
    return ss->claim_key;
}

void
tale_sessions_announce(tale_sessions_t *ss, const char *base_url)
{
    free(ss->claim_url);
    ss->claim_url = base_url != NULL ? tale_xstrdup(base_url) : NULL;
    announce_claim_key(ss);
}

int
tale_sessions_autosave(tale_sessions_t *ss)
{
    tale_config_t *cfg = ss->host->cfg;
    if (per_visitor(ss))
        return save_all(ss);
    if (cfg->mode != TALE_MODE_IF || !cfg->autosave || ss->seat == NULL)
        return 0;
    char err[512] = "";
    int rc = tale_world_checkpoint(ss->host->world, NULL, err, sizeof(err)); /* 1: handed to the save worker */
    if (rc < 0) {
        tale_error("session", "autosave failed: %s", err);
        return -1;
    }
    tale_info("session", rc == 0 ? "game saved" : "game saving");
    return 0;
}

void
tale_sessions_free(tale_sessions_t *ss, int code, const char *reason)
{
    if (ss == NULL)
        return;
    tale_sessions_stop_tick(ss);
    tale_sessions_autosave(ss);
    /* the players leaving one by one would tell everyone still here: no one
     * will read it */
    ss->closing = 1;
    while (!h2o_linklist_is_empty(&ss->attached))
        session_destroy(from_timeline(ss->attached.next), code, reason, TALE_DEPART_QUIT);
    while (!h2o_linklist_is_empty(&ss->detached))
        session_destroy(from_timeline(ss->detached.next), code, reason, TALE_DEPART_QUIT);
    if (ss->host->world != NULL)
        tale_world_set_broadcast(ss->host->world, NULL, NULL);
    tale_accounts_free(ss->accounts); /* writes the characters the seats above left */
    tale_instances_free(ss->instances);
    if (ss->wake != NULL) {
        h2o_socket_read_stop(ss->wake);
        h2o_socket_close(ss->wake);
    }
    free(ss->buckets);
    free(ss->scratch);
    free(ss->claim_url);
    free(ss);
}

size_t
tale_sessions_count(const tale_sessions_t *ss)
{
    return ss->count;
}

size_t
tale_sessions_players(const tale_sessions_t *ss)
{
    /* counted when asked (a server-status probe), not kept on every join and leave */
    size_t n = 0;
    for (size_t i = 0; i < ss->n_buckets; i++)
        for (const tale_session_t *s = ss->buckets[i]; s != NULL; s = s->hnext)
            n += s->player != NULL;
    return n;
}

size_t
tale_sessions_held_bytes(const tale_sessions_t *ss)
{
    return ss->held_total;
}

size_t
tale_sessions_queued(const tale_sessions_t *ss)
{
    return ss->n_queued;
}

/* ---- accounts (issue #15) -------------------------------------------- */

static void
dlg_say(void *ctx, const char *text, int noecho)
{
    tale_session_t *s = ctx;
    if (s->player != NULL)
        tale_player_prompt(s->player, text, noecho);
    else
        on_emit(s, tale_prompt_frame(text, noecho));
}

static int
dlg_name_free(void *ctx, const char *name, char *why, size_t whylen)
{
    tale_session_t *s = ctx;
    const char *w = NULL;
    if (tale_world_name_check(s->ss->host->world, name, &w) == 0)
        return 0;
    snprintf(why, whylen, "%s", w != NULL ? w : "That name cannot be used in this game.");
    return -1;
}

/* The character's state to the accounts worker (it batches the writes). */
static void
save_character(tale_session_t *s)
{
    if (s->dlg == NULL || s->dlg->account_id == 0 || s->player == NULL || s->ss->accounts == NULL)
        return;
    size_t len = 0;
    char *state = tale_player_state_serialise(s->player, &len);
    tale_accounts_save(s->ss->accounts, s->dlg->account_id, state, len);
    if (h2o_linklist_is_linked(&s->dirty_link))
        h2o_linklist_unlink(&s->dirty_link);
}

/* The seat is ending: its character's last state is kept, its dialogue wiped. */
static void
account_leaves(tale_session_t *s)
{
    save_character(s);
    tale_dialogue_clear(s->dlg);
    free(s->dlg);
    s->dlg = NULL;
}

/* Another seat playing account `id` (a login from a second browser takes it over). */
static tale_session_t *
account_seat(tale_sessions_t *ss, int64_t id, const tale_session_t *except)
{
    for (size_t i = 0; i < ss->n_buckets; i++)
        for (tale_session_t *o = ss->buckets[i]; o != NULL; o = o->hnext)
            if (o != except && o->dlg != NULL && o->dlg->account_id == id)
                return o;
    return NULL;
}

/* A seat that could not take its character back plays on as a guest
 * (optional) or is asked to log in again (required). */
static void
login_undone(tale_session_t *s, const char *why)
{
    dlg_say(s, why, 0);
    tale_dialogue_logout(s->dlg);
    if (s->player == NULL && s->ss->host->cfg->accounts == TALE_ACCOUNTS_OPTIONAL &&
        (s->player = tale_player_join(s->ss->host->world, on_emit, s)) != NULL)
        tale_player_set_guest(s->player, 1);
}

static void
dlg_logged_in(void *ctx, tale_acct_result_t *r, int created)
{
    tale_session_t *s = ctx;
    tale_sessions_t *ss = s->ss;
    const char *why = NULL;
    if (created && s->player != NULL) {
        /* a guest who made an account keeps their character under its name */
        if (tale_player_rename(s->player, r->name, &why) != 0) {
            char msg[384];
            snprintf(msg, sizeof(msg),
                     "Your account %s is made, but your character cannot take its name now (%s) Type login to play it.", r->name,
                     why != NULL ? why : "");
            login_undone(s, msg);
            return;
        }
        tale_player_set_guest(s->player, 0);
        save_character(s);
        char msg[160];
        snprintf(msg, sizeof(msg), "Your account is made: you are %s now, and your character is kept when you leave.", r->name);
        dlg_say(s, msg, 0);
        tale_info("session", "account %s created by a guest", r->name);
        return;
    }
    char *state = NULL;
    size_t len = 0;
    tale_session_t *old = account_seat(ss, r->id, s);
    if (old != NULL) {
        /* the live character is newer than what the store has */
        if (old->player != NULL)
            state = tale_player_state_serialise(old->player, &len);
        tale_info("session", "%s logged in from another window: the older seat is closed", r->name);
        session_destroy(old, TALE_CLOSE_TAKEN_OVER, "You logged in from another window.", TALE_DEPART_QUIT);
    }
    if (state == NULL && r->state != NULL) {
        state = r->state;
        len = r->state_len;
        r->state = NULL;
    }
    if (s->player != NULL) { /* the guest gives way to the account's character */
        tale_player_t *guest = s->player;
        s->player = NULL;
        tale_player_depart(guest, TALE_DEPART_QUIT);
    }
    s->player = tale_player_join_as(ss->host->world, r->name, on_emit, s, &why);
    if (s->player == NULL) {
        free(state);
        login_undone(s, why != NULL ? why : "Your character cannot join the game now.");
        return;
    }
    tale_player_set_guest(s->player, 0);
    if (state != NULL) {
        char err[256];
        if (tale_player_state_restore(s->player, state, len, err, sizeof(err)) != 0)
            tale_warn("session", "%s's saved character was not restored: %s", r->name, err);
        free(state);
    }
    tale_info("session", "%s %s", r->name, created ? "created an account" : "logged in");
}

static const tale_dialogue_ops_t dlg_ops = {dlg_say, dlg_name_free, dlg_logged_in};

/* A new seat with accounts on: a guest at once (optional), or the greeting
 * and no player until a login (required).  0, or -1 (the engine refused). */
static int
accounts_seat(tale_session_t *s)
{
    tale_sessions_t *ss = s->ss;
    int required = ss->host->cfg->accounts == TALE_ACCOUNTS_REQUIRED;
    s->dlg = tale_xmalloc(sizeof(*s->dlg));
    tale_dialogue_init(s->dlg, &dlg_ops, s, ss->accounts, required, NULL);
    if (required) {
        tale_dialogue_greet(s->dlg);
        return 0;
    }
    if ((s->player = tale_player_join(ss->host->world, on_emit, s)) == NULL)
        return -1;
    tale_player_set_guest(s->player, 1);
    return 0;
}

/* The periodic re-check: a locked (or deleted) account's seat ends. */
static void
on_lock_checked(void *owner, tale_acct_result_t *r)
{
    tale_dialogue_t *d = owner;
    if (r->status != TALE_ACCT_LOCKED && r->status != TALE_ACCT_NOT_FOUND)
        return;
    tale_info("session", "%s's account was %s: their seat ends", d->account, r->status == TALE_ACCT_LOCKED ? "locked" : "deleted");
    session_destroy(d->ctx, TALE_CLOSE_SESSION_ENDED,
                    r->status == TALE_ACCT_LOCKED ? "Your account was locked." : "Your account was deleted.", TALE_DEPART_QUIT);
}

/* Characters changed limits.character_save ago: saved, and their account's
 * lock re-checked (they are saved on leaving and at shutdown too). */
static void
save_characters(tale_sessions_t *ss, uint64_t now)
{
    int n = 0;
    while (!h2o_linklist_is_empty(&ss->dirty) && n++ < SWEEP_WORLDS) {
        tale_session_t *s = H2O_STRUCT_FROM_MEMBER(tale_session_t, dirty_link, ss->dirty.next);
        if (now - s->dirty_since < ss->host->cfg->limits.character_save_ms)
            break;
        save_character(s);
        /* a full queue skips one check: the next save brings it again */
        tale_accounts_check(ss->accounts, s->dlg->account_id, on_lock_checked, s->dlg);
    }
}

int
tale_sessions_use_accounts(tale_sessions_t *ss)
{
    const tale_config_t *cfg = ss->host->cfg;
    if (cfg->mode != TALE_MODE_MUD || cfg->accounts == TALE_ACCOUNTS_OFF)
        return 0;
    char err[512], *path;
    if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
        tale_error("session", "cannot make data_dir %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    if (asprintf(&path, "%s/accounts.sqlite", cfg->data_dir) < 0)
        tale_oom(strlen(cfg->data_dir) + 16);
    ss->accounts = tale_accounts_new(ss->host->loop, path, cfg->limits.max_accounts, cfg->limits.login_failures_per_minute,
                                     cfg->limits.accounts_per_address_per_hour, err, sizeof(err));
    if (ss->accounts == NULL)
        tale_error("session", "accounts: %s", err);
    else
        tale_info("session", "accounts (%s) in %s", cfg->accounts == TALE_ACCOUNTS_REQUIRED ? "required" : "optional", path);
    free(path);
    return ss->accounts != NULL ? 0 : -1;
}

/* ---- the tick ---------------------------------------------------------- */

/* A MUD seat whose connection went limits.linger ago: its player fades away. */
static void
end_lingering(tale_sessions_t *ss, uint64_t now)
{
    tale_host_t *h = ss->host;
    uint64_t linger = h->cfg->limits.linger_ms;
    size_t ended = 0;
    while (!h2o_linklist_is_empty(&ss->detached)) {
        tale_session_t *s = from_timeline(ss->detached.next);
        if (now - s->since < linger)
            break;
        tale_debug("session", "a player who left %llu s ago fades away (linger)", (unsigned long long)(linger / 1000));
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "idle", TALE_DEPART_FADE);
        ended++;
    }
    if (ended == 0)
        return;
    tale_info("session", "%zu player%s faded away after limits.linger (%zu sessions left, %zu bytes held)", ended,
              ended == 1 ? "" : "s", ss->count, ss->held_total);
    /* server.c's trim timer sees the sessions go (they are part of its
     * load) and hands the freed backlogs back to the system */
}

/* Connections whose player has sent nothing for limits.seat_idle are closed
 * (a MUD seat goes with its connection; the IF seat stays for its player's
 * return). */
static void
close_idle(tale_sessions_t *ss, uint64_t now)
{
    uint64_t seat_idle = ss->host->cfg->limits.seat_idle_ms;
    while (seat_idle != 0 && !h2o_linklist_is_empty(&ss->attached)) {
        tale_session_t *s = from_timeline(ss->attached.next);
        if (now - s->since <= seat_idle)
            break;
        tale_info("session", "closing a connection whose player sent nothing for %llu s (seat_idle)",
                  (unsigned long long)(seat_idle / 1000));
        if (ss->host->cfg->mode == TALE_MODE_MUD) {
            session_destroy(s, TALE_CLOSE_IDLE, "You were idle for too long.", TALE_DEPART_QUIT);
        } else {
            const tale_player_io_t *io = s->io;
            void *conn = s->conn;
            conn_end(s, conn, TALE_CLOSE_IDLE);
            io->close(conn, TALE_CLOSE_IDLE, "You were idle for too long.");
        }
    }
}

/* Only the heads of the time lists are looked at: a tick costs what it
 * ends, not what is open. */
static void
on_tick(h2o_timeout_entry_t *entry)
{
    tale_sessions_t *ss = H2O_STRUCT_FROM_MEMBER(tale_sessions_t, tick_entry, entry);
    tale_host_t *h = ss->host;
    uint64_t now = now_ms(ss);
    if (per_visitor(ss)) {
        tick_instances(ss);
        close_idle(ss, now);
        sweep_instances(ss, now);
        if (ss->instances != NULL && ss->n_live > h->cfg->limits.max_live_worlds)
            evict_over_cap(ss);
    } else {
        tale_world_tick(h->world);
        if (h->cfg->mode == TALE_MODE_MUD)
            end_lingering(ss, now);
        if (ss->accounts != NULL)
            save_characters(ss, now);
        close_idle(ss, now);
    }
    h2o_timeout_link(h->loop, &ss->tick, &ss->tick_entry);
}

void
tale_sessions_start_tick(tale_sessions_t *ss)
{
    tale_host_t *h = ss->host;
    h2o_timeout_init(h->loop, &ss->tick, h->cfg->tick_ms);
    ss->tick_entry.cb = on_tick;
    ss->tick_inited = 1;
    h2o_timeout_link(h->loop, &ss->tick, &ss->tick_entry);
}

void
tale_sessions_stop_tick(tale_sessions_t *ss)
{
    if (!ss->tick_inited)
        return;
    h2o_timeout_unlink(&ss->tick_entry);
    h2o_timeout_dispose(ss->host->loop, &ss->tick);
    ss->tick_inited = 0;
}

/* ---- the API behind host->session_* ------------------------------------ */

/* A refused seat: a warn line at most once a second (with how many went
 * unlogged since), debug otherwise, so a refusal flood cannot flood the log. */
static void log_refusal(tale_sessions_t *ss, enum refusal kind, const char *fmt, ...) TALE_PRINTF(3, 4);
static void
log_refusal(tale_sessions_t *ss, enum refusal kind, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    uint64_t now = now_ms(ss);
    if (ss->refusal_logged_at[kind] != 0 && now - ss->refusal_logged_at[kind] < 1000) {
        ss->refusals_unlogged[kind]++;
        tale_debug("session", "%s", line);
        return;
    }
    if (ss->refusals_unlogged[kind] != 0)
        tale_warn("session", "%s (and %llu more like it in the last second)", line,
                  (unsigned long long)ss->refusals_unlogged[kind]);
    else
        tale_warn("session", "%s", line);
    ss->refusal_logged_at[kind] = now != 0 ? now : 1;
    ss->refusals_unlogged[kind] = 0;
}

/* Take one new-seat token from the client's bucket (limits.new_sessions_per_minute). */
static int
take_seat_token(tale_sessions_t *ss, tale_peer_t *peer)
{
    uint64_t per_minute = ss->host->cfg->limits.new_sessions_per_minute, now = now_ms(ss);
    if (per_minute == 0)
        return 1;
    if (peer->seat_refilled_ms == 0) {
        peer->seat_tokens = (double)per_minute;
    } else {
        peer->seat_tokens += (double)(now - peer->seat_refilled_ms) * (double)per_minute / 60000.0;
        if (peer->seat_tokens > (double)per_minute)
            peer->seat_tokens = (double)per_minute;
    }
    peer->seat_refilled_ms = now != 0 ? now : 1;
    if (peer->seat_tokens < 1.0)
        return 0;
    peer->seat_tokens -= 1.0;
    return 1;
}

/* A new seat token for the IF seat: whoever held the old one loses it, and
 * a connection attached with it is closed. */
static int
rotate_token(tale_session_t *s)
{
    char token[TOKEN_HEX + 1];
    if (new_token(token) != 0)
        return -1;
    tale_sessions_t *ss = s->ss;
    hash_remove(ss, s);
    memcpy(s->token, token, sizeof(token));
    hash_insert(ss, s);
    if (s->io != NULL) {
        const tale_player_io_t *io = s->io;
        void *conn = s->conn;
        conn_end(s, conn, TALE_CLOSE_TAKEN_OVER);
        io->close(conn, TALE_CLOSE_TAKEN_OVER, "The game's owner took the seat back with its key.");
    }
    return 0;
}

/* A request presenting the IF seat's one-time key: it gets the seat (a new
 * one, or the existing one under a fresh token) and a new key is printed. */
static int
claim_seat(tale_sessions_t *ss, const tale_request_t *rq, tale_session_t **out, const char **error)
{
    if (rq->claim_key_len != TOKEN_HEX || CRYPTO_memcmp(rq->claim_key, ss->claim_key, TOKEN_HEX) != 0) {
        log_refusal(ss, REFUSED_KEY, "refused a seat claim with a wrong or used key");
        *error = "that key is not valid: each key works once; the server's console shows the current one";
        return 403;
    }
    if (rq->flags & TALE_SESSION_PEEK)
        return 0;
    if (ss->seat != NULL) {
        if (rotate_token(ss->seat) != 0) {
            *error = "cannot make a session token";
            return 503;
        }
        tale_info("session", "the seat was claimed with its key");
    } else if ((ss->seat = session_create(ss)) == NULL) {
        *error = "cannot create a seat";
        return 503;
    } else {
        tale_info("session", "the seat was claimed with its key (new game)");
    }
    if (new_token(ss->claim_key) != 0)
        tale_error("session", "cannot make a new claim key; the old one stays valid");
    announce_claim_key(ss);
    *out = ss->seat;
    return 0;
}

/* No cookie names a seat and the request asks for one: IF seat rules, or a
 * new MUD seat within the global and per-address limits. */
static int
new_seat(tale_sessions_t *ss, const tale_request_t *rq, const tale_addr_t *client, tale_session_t **out, const char **error)
{
    const tale_config_t *cfg = ss->host->cfg;
    int peek = (rq->flags & TALE_SESSION_PEEK) != 0;
    if (per_visitor(ss) && (rq->flags & TALE_SESSION_TRUSTED)) {
        if (peek)
            return 0;
        *out = console_instance(ss);
        return *out != NULL ? 0 : 503;
    }
    if (single_seat(ss)) {
        if (!(rq->flags & TALE_SESSION_TRUSTED)) {
            if (ss->seat != NULL) {
                *error = "someone else is playing this game; its owner can take the seat back with the key printed on the "
                         "server's console";
                return 403;
            }
            if (cfg->seat_claim == TALE_SEAT_CLAIM_KEY) {
                *error = "this game is private: open the link with the key printed on the server's console";
                return 403;
            }
        }
        if (peek)
            return 0;
        if (ss->seat == NULL)
            ss->seat = session_create(ss);
        *out = ss->seat;
        return *out != NULL ? 0 : 503;
    }

    if (!per_visitor(ss) && ss->count >= cfg->limits.max_sessions) {
        log_refusal(ss, REFUSED_FULL, "refusing a new player: max_sessions (%llu) reached",
                    (unsigned long long)cfg->limits.max_sessions);
        *error = "no player seat is free";
        return 503;
    }
    tale_peer_t *peer = client != NULL && client->family != 0 ? tale_peers_get(ss->host->peers, client) : NULL;
    if (peer != NULL) {
        char addr[TALE_ADDR_STRLEN];
        uint64_t per_addr = cfg->limits.max_sessions_per_address;
        if (per_addr != 0 && peer->seats >= per_addr) {
            tale_addr_format(client, addr);
            log_refusal(ss, REFUSED_PER_ADDRESS, "refusing a new player from %s: max_sessions_per_address (%llu) reached", addr,
                        (unsigned long long)per_addr);
            *error = "too many players from your address";
            tale_peers_release(ss->host->peers, peer);
            return 429;
        }
        if (!peek && !take_seat_token(ss, peer)) {
            tale_addr_format(client, addr);
            log_refusal(ss, REFUSED_PER_MINUTE, "refusing a new player from %s: new_sessions_per_minute (%llu) reached", addr,
                        (unsigned long long)cfg->limits.new_sessions_per_minute);
            *error = "too many new players from your address; try again in a minute";
            tale_peers_release(ss->host->peers, peer);
            return 429;
        }
    }
    if (peek) {
        tale_peers_release(ss->host->peers, peer);
        return 0;
    }
    tale_session_t *s = per_visitor(ss) ? instance_open(ss, NULL, NULL) : session_create(ss);
    if (s == NULL) {
        tale_peers_release(ss->host->peers, peer);
        *error = per_visitor(ss) ? "cannot start a game for you now; try again in a moment" : "cannot create a seat";
        return 503;
    }
    if (peer != NULL) {
        s->peer = peer;
        peer->seats++;
    }
    if (s->dlg != NULL && client != NULL && client->family != 0)
        tale_addr_format(client, s->dlg->addr); /* the per-address login limits */
    *out = s;
    return 0;
}

int
tale_session_open(tale_sessions_t *ss, const tale_request_t *rq, tale_session_t **out, char set_cookie[TALE_SET_COOKIE_MAX],
                  const char **error)
{
    const tale_config_t *cfg = ss->host->cfg;
    static const char *unused;
    if (error == NULL)
        error = &unused;
    *out = NULL;
    *error = NULL;
    if (set_cookie != NULL)
        set_cookie[0] = '\0';
    int status = tale_access_check(cfg, rq->host, rq->host_len, rq->origin, rq->origin_len, error);
    if (status != 0)
        return status;

    tale_addr_t peer, client;
    int have_client = rq->peer != NULL && tale_addr_from_sockaddr(&peer, rq->peer, (socklen_t)rq->peer_len) == 0;
    if (have_client)
        tale_addr_client(&client, &peer, cfg->trusted_proxies, cfg->n_trusted_proxies, rq->forwarded_for, rq->forwarded_for_len,
                         rq->forwarded, rq->forwarded_len);

    tale_session_t *s = NULL;
    if (single_seat(ss) && rq->claim_key != NULL && (rq->flags & TALE_SESSION_CREATE)) {
        status = claim_seat(ss, rq, &s, error);
        if (status != 0 || (rq->flags & TALE_SESSION_PEEK))
            return status;
    } else {
        size_t tlen = 0;
        const char *tok = tale_cookie_find(rq->cookie, rq->cookie_len, COOKIE_NAME, &tlen);
        s = tok != NULL ? find_by_token(ss, tok, tlen) : NULL;
        if (s == NULL && tok != NULL && per_visitor(ss) && !(rq->flags & TALE_SESSION_PEEK)) {
            /* the visitor's game was put away: it comes back under the same cookie */
            if (instance_return(ss, tok, tlen, have_client ? &client : NULL, &s) != 0) {
                *error = "cannot bring your game back now; try again in a moment";
                return 503;
            }
            if (s != NULL) {
                *out = s;
                return 0;
            }
        }
        if (s != NULL || !(rq->flags & TALE_SESSION_CREATE)) {
            *out = s;
            return 0;
        }
        status = new_seat(ss, rq, have_client ? &client : NULL, &s, error);
        if (status != 0 || s == NULL) {
            if (status == 503 && *error == NULL)
                *error = "no player seat is free";
            return status;
        }
    }
    /* Only the request that creates (or claims) a seat learns its token. */
    if (set_cookie != NULL)
        write_set_cookie(s, rq->flags, set_cookie);
    *out = s;
    return 0;
}

/* ABI 1.0/1.1 session_get: a cookie and flags, no Host/Origin/address. */
tale_session_t *
tale_session_get(tale_sessions_t *ss, const char *cookie, size_t len, unsigned flags, char set_cookie[TALE_SET_COOKIE_MAX])
{
    tale_request_t rq = {.size = sizeof(rq), .cookie = cookie, .cookie_len = len, .flags = flags & ~TALE_SESSION_PEEK};
    tale_session_t *s = NULL;
    const char *error = NULL;
    if (tale_session_open(ss, &rq, &s, set_cookie, &error) != 0 && error != NULL)
        tale_debug("session", "no seat given: %s", error);
    return s;
}

int
tale_session_attach(tale_session_t *s, const tale_player_io_t *io, void *conn, uint64_t resume_after)
{
    if (io == NULL || io->size < offsetof(tale_player_io_t, backlog) || io->send == NULL || io->close == NULL)
        return -1;
    if (s->io != NULL && s->conn != conn) {
        /* IF: one seat.  The newest connection wins; the old one is told why. */
        const tale_player_io_t *old = s->io;
        void *oldconn = s->conn;
        conn_end(s, oldconn, TALE_CLOSE_TAKEN_OVER);
        tale_info("session", "seat taken over by a new connection");
        old->close(oldconn, TALE_CLOSE_TAKEN_OVER, "This game was opened in another window.");
    }
    if (s->io == NULL) { /* a new connection, not the same one attaching again */
        s->conn_via = s->via;
        clock_gettime(CLOCK_MONOTONIC, &s->conn_since);
        s->conn_frames = s->conn_bytes = s->conn_commands = 0;
        if (s->conn_via != NULL) {
            s->conn_via->metrics.connects++;
            s->conn_via->metrics.connected++;
        }
    }
    s->io = io;
    s->conn = conn;
    s->fresh = 0;
    timeline_touch(s); /* attached, and its idle time starts now */

    /* A seq from the future means the client saw another run of the host:
     * give it everything we hold. */
    if (resume_after > s->seq)
        resume_after = 0;
    if (s->head != NULL && resume_after + 1 < s->head->seq && resume_after != 0)
        tale_info("session", "resume after %llu: frames up to %llu are no longer held", (unsigned long long)resume_after,
                  (unsigned long long)(s->head->seq - 1));
    s->unsent = s->head;
    while (s->unsent != NULL && s->unsent->seq <= resume_after)
        s->unsent = s->unsent->next;
    if (resume_after != 0 && s->conn_via != NULL) {
        s->conn_via->metrics.resumes++;
        for (const held_frame_t *f = s->unsent; f != NULL; f = f->next)
            s->conn_via->metrics.replayed++;
    }
    flush(s);
    return 0;
}

/* The attached connection `conn` ends with `code` (0: none known): count it,
 * log it, and detach it. */
static void
conn_end(tale_session_t *s, void *conn, int code)
{
    if (s == NULL || s->io == NULL || s->conn != conn)
        return;
    tale_host_t *h = s->ss->host;
    if (s->conn_via != NULL) {
        s->conn_via->metrics.connected--;
        tale_metrics_closed(&s->conn_via->metrics, code);
    }
    if (h->accesslog != NULL) {
        double secs = tale_metrics_since(&s->conn_since);
        tale_accesslog_conn_t c = {
            .transport = s->conn_via != NULL ? s->conn_via->conf->name : "-",
            .client = &s->client,
            .duration_ms = (uint64_t)(secs * 1000),
            .frames = s->conn_frames,
            .bytes = s->conn_bytes,
            .commands = s->conn_commands,
            .code = code,
        };
        tale_accesslog_conn(h->accesslog, &c);
    }
    s->conn_via = NULL;
    s->io = NULL;
    s->conn = NULL;
    s->unsent = NULL;
    dequeue(s);
    timeline_touch(s); /* detached: limits.linger runs from now */
}

void
tale_session_detach(tale_session_t *s, void *conn)
{
    conn_end(s, conn, 0);
}

void
tale_session_closed(tale_session_t *s, void *conn, int code)
{
    conn_end(s, conn, code);
}

void
tale_session_opened(tale_session_t *s, tale_plugin_t *via, const tale_request_t *rq)
{
    if (via != NULL)
        via->metrics.transport = 1;
    if (s->via != via) {
        if (s->via != NULL)
            s->via->metrics.seats--;
        if (via != NULL)
            via->metrics.seats++;
        s->via = via;
    }
    const tale_config_t *cfg = s->ss->host->cfg;
    tale_addr_t peer;
    if (rq != NULL && rq->peer != NULL && tale_addr_from_sockaddr(&peer, rq->peer, (socklen_t)rq->peer_len) == 0)
        tale_addr_client(&s->client, &peer, cfg->trusted_proxies, cfg->n_trusted_proxies, rq->forwarded_for, rq->forwarded_for_len,
                         rq->forwarded, rq->forwarded_len);
}

static void
end_session(tale_session_t *s)
{
    tale_sessions_t *ss = s->ss;
    if (s->pinned) {
        /* the console's game ends as the one game of `single` does: saved for the next start */
        save_instance(s);
        tale_info("session", "the console's player quit; their game is saved");
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "The game has ended.", TALE_DEPART_QUIT);
    } else if (s->inst != NULL) {
        /* that visitor's game only: its file goes after any write queued for it */
        tale_inst_remove(ss->instances, s->inst);
        s->inst = NULL;
        tale_info("session", "a visitor quit; their game is over (%zu live)", ss->n_live - 1);
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "The game has ended.", TALE_DEPART_QUIT);
    } else if (ss->host->cfg->mode == TALE_MODE_IF) {
        tale_sessions_autosave(ss);
        tale_info("session", "the player quit; the game is over");
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "The game has ended.", TALE_DEPART_QUIT);
    } else {
        tale_info("session", "a player quit (%zu sessions left)", ss->count - 1);
        session_destroy(s, TALE_CLOSE_SESSION_ENDED, "You have left the game.", TALE_DEPART_QUIT);
    }
}

/* Take one token from the session's bucket; 0 when the player is over the
 * rate.  A flooding client gets one polite line a second, not one per
 * command (the replies would be a flood of their own). */
static int
take_input_token(tale_session_t *s)
{
    const tale_config_t *cfg = s->ss->host->cfg;
    if (cfg->limits.input_rate == 0)
        return 1;
    uint64_t now = now_ms(s->ss);
    s->tokens += (double)(now - s->refilled_at) * (double)cfg->limits.input_rate / 1000.0;
    if (s->tokens > (double)cfg->limits.input_burst)
        s->tokens = (double)cfg->limits.input_burst;
    s->refilled_at = now;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return 1;
    }
    s->ss->host->metrics.rate_limited++;
    if (s->noticed_at == 0 || now - s->noticed_at >= 1000) {
        s->noticed_at = now;
        emit_text(s, "You are typing faster than the game can follow; slow down a little.");
    }
    return 0;
}

/* The input's checks and the command; the caller delivers what it emitted. */
static int
run_input(tale_session_t *s, const char *cmd, size_t len, unsigned flags)
{
    if (!take_input_token(s))
        return TALE_CMD_OK;
    /* The same answer whatever the transport: a NUL would silently cut the
     * command short in the engine's C strings (the sse plugin refuses it with
     * 400 before it gets here). */
    if (memchr(cmd, '\0', len) != NULL) {
        emit_text(s, "That input contains a NUL character; it was not run.");
        return TALE_CMD_OK;
    }
    if (len > s->ss->host->cfg->limits.max_input) {
        char msg[128];
        snprintf(msg, sizeof(msg), "That is too long for me to follow (the limit is %llu characters).",
                 (unsigned long long)s->ss->host->cfg->limits.max_input);
        emit_text(s, msg);
        return TALE_CMD_OK;
    }
    /* accounts: the login dialogue sees the line first (a password never
     * reaches the engine, nor a suggestion echoing what was typed) */
    if (s->dlg != NULL && (flags & TALE_INPUT_AUTOCOMPLETE) && tale_dialogue_active(s->dlg))
        return TALE_CMD_OK;
    if (s->dlg != NULL && !(flags & TALE_INPUT_AUTOCOMPLETE) && tale_dialogue_input(s->dlg, cmd, len, now_ms(s->ss)))
        return TALE_CMD_OK;
    if (s->player == NULL) /* logging in: nothing to suggest */
        return TALE_CMD_OK;
    if (flags & TALE_INPUT_AUTOCOMPLETE) {
        tale_player_suggest(s->player, cmd, len);
        return TALE_CMD_OK;
    }
    return tale_player_command(s->player, cmd, len);
}

void
tale_session_input(tale_session_t *s, const char *cmd, size_t len, unsigned flags)
{
    if (s->ending)
        return;
    if (s->io != NULL)
        timeline_touch(s); /* limits.seat_idle counts from the last input */
    tale_sessions_t *ss = s->ss;
    tale_session_t *outer = ss->answering; /* commands do not nest, but a notice might come from inside one */
    ss->answering = s;
    tale_plugin_t *via = s->io != NULL ? s->conn_via : s->via;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = run_input(s, cmd, len, flags);
    tale_metrics_observe(&ss->host->metrics.command_seconds, tale_metrics_command_bounds, tale_metrics_since(&t0));
    s->conn_commands++;
    if (via != NULL)
        via->metrics.commands++;
    ss->answering = outer;
    if (s->world != NULL && !(flags & TALE_INPUT_AUTOCOMPLETE))
        mark_dirty(s);
    else if (s->dlg != NULL && s->dlg->account_id != 0 && s->player != NULL && !(flags & TALE_INPUT_AUTOCOMPLETE))
        mark_dirty(s); /* the character is saved limits.character_save later */
    if (rc == TALE_CMD_QUIT) {
        s->ending = 1;
        end_session(s); /* flushes the goodbye before the close */
        return;
    }
    /* the player's own answer goes at once, after whatever it was waiting behind */
    flush(s);
}

char *
tale_session_complete(tale_session_t *s, const char *prefix, size_t len, size_t *out_len)
{
    /* nothing to complete while logging in (the prefix may be a password) */
    int playing = s->player != NULL && (s->dlg == NULL || !tale_dialogue_active(s->dlg));
    json_t *list = playing ? tale_player_complete(s->player, prefix, len) : NULL;
    size_t n = 2; /* the length of "[]" */
    char *out = list != NULL ? tale_json_compact(list, &n) : tale_xstrdup("[]");
    json_decref(list);
    if (out != NULL && out_len != NULL)
        *out_len = n;
    return out;
}

void
tale_session_quit(tale_session_t *s)
{
    if (s->ending)
        return;
    s->ending = 1;
    end_session(s);
}

uint64_t
tale_session_last_seq(tale_session_t *s)
{
    return s->seq;
}

/* ---- ABI 1.3: sessions for connections without cookies ------------------ */

int
tale_session_open_raw(tale_sessions_t *ss, const void *peer, size_t peer_len, const char *resume, size_t resume_len,
                      tale_session_t **out, char handle[TALE_SET_COOKIE_MAX], const char **error)
{
    static const char *unused;
    if (error == NULL)
        error = &unused;
    *out = NULL;
    if (handle != NULL)
        handle[0] = '\0';
    if (ss == NULL) {
        *error = "the game is not running";
        return TALE_OPEN_UNAVAILABLE;
    }
    /* The resume handle is the seat's token; wrapped as the cookie it stands
     * for, the seat rules, limits and per-visitor return of session_open all
     * apply unchanged.  No Host or Origin: there is no browser to forge them. */
    char cookie[sizeof(COOKIE_NAME) + TOKEN_HEX + 2];
    size_t cookie_len = 0;
    if (resume != NULL && resume_len == TOKEN_HEX)
        cookie_len = (size_t)snprintf(cookie, sizeof(cookie), COOKIE_NAME "=%.*s", (int)resume_len, resume);
    tale_request_t rq = {.size = sizeof(rq),
                         .cookie = cookie_len > 0 ? cookie : NULL,
                         .cookie_len = cookie_len,
                         .peer = peer,
                         .peer_len = peer != NULL ? peer_len : 0,
                         .flags = TALE_SESSION_CREATE};
    char set_cookie[TALE_SET_COOKIE_MAX];
    int status = tale_session_open(ss, &rq, out, set_cookie, error);
    if (status == 0 && *out != NULL) {
        if (handle != NULL && set_cookie[0] != '\0')
            snprintf(handle, TALE_SET_COOKIE_MAX, "%s", (*out)->token);
        return TALE_OPEN_OK;
    }
    if (*error == NULL)
        *error = "no player seat is free";
    switch (status) {
    case 403:
        return TALE_OPEN_PRIVATE;
    case 429:
        return TALE_OPEN_RATE_LIMITED;
    case 0:
    case 503:
        return TALE_OPEN_FULL;
    default:
        return TALE_OPEN_UNAVAILABLE;
    }
}

void
tale_session_end(tale_session_t *s, void *conn)
{
    if (s == NULL)
        return;
    tale_session_detach(s, conn);
    if (s->ss->host->cfg->mode != TALE_MODE_MUD || s->ending || s->pinned)
        return; /* the IF seat (and the console's) waits for its owner, as after any lost connection */
    if (s->io != NULL)
        return; /* another connection holds the seat now: it is not gone */
    tale_debug("session", "a player's connection failed; they fade away now");
    s->ending = 1;
    session_destroy(s, TALE_CLOSE_SESSION_ENDED, "The connection was lost.", TALE_DEPART_FADE);
}

const char *
tale_session_player_name(tale_session_t *s)
{
    return s != NULL ? tale_player_name(s->player) : "";
}
