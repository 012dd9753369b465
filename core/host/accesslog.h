/*
 * accesslog.h - the access log (issue #17): one line per HTTP request and
 * one per player connection's end, `combined` or JSON lines, to a file or
 * stderr.  Not to be confused with access.h (the Host/Origin check).
 *
 * Lines are buffered and written when ACCESSLOG_FLUSH_BYTES are waiting or
 * by a timer a second after the first unwritten line, so a busy host makes
 * one write() per many requests and a quiet one's lines appear within a
 * second.  tale_accesslog_reopen() (SIGHUP/SIGUSR1, from the loop) writes
 * what is buffered to the old file, then opens the path again: logrotate's
 * "move, then signal" works without copytruncate.
 */
#ifndef TALE_ACCESSLOG_H
#define TALE_ACCESSLOG_H

#include "addr.h"
#include <h2o.h>
#include <stdint.h>

typedef struct tale_accesslog tale_accesslog_t;

enum tale_accesslog_format { TALE_ACCESSLOG_COMBINED = 0, TALE_ACCESSLOG_JSON = 1 };

/* A player connection that ended (WebSocket, event stream, any transport). */
typedef struct tale_accesslog_conn {
    const char *transport;     /* the plugin's name in the config */
    const tale_addr_t *client; /* family 0: unknown */
    uint64_t duration_ms;
    uint64_t frames, bytes; /* frames and bytes of frame JSON sent to it */
    uint64_t commands;      /* input lines it sent */
    int code;               /* close code; 0: none (the transport has no codes) */
} tale_accesslog_conn_t;

/* Open `path` ("stderr" or NULL: standard error) for appending; NULL with a
 * reason in err.  Timers go on `loop`. */
tale_accesslog_t *tale_accesslog_open(h2o_evloop_t *loop, const char *path, int format, char *err, size_t errlen);
/* Flush and close. */
void tale_accesslog_free(tale_accesslog_t *log);
/* Flush, then open the path again (a file only); 0, or -1 after logging why
 * (the old file then stays in use). */
int tale_accesslog_reopen(tale_accesslog_t *log);
/* Write what is buffered now. */
void tale_accesslog_flush(tale_accesslog_t *log);

/* One HTTP request, as h2o's logger callback sees it; `client` is the
 * address behind trusted proxies (may be the TCP peer). */
void tale_accesslog_request(tale_accesslog_t *log, h2o_req_t *req, const tale_addr_t *client);
void tale_accesslog_conn(tale_accesslog_t *log, const tale_accesslog_conn_t *c);

#endif
