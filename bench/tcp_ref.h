/* tcp_ref.h - the loopback TCP ping-pong every ratio is taken against. */
#ifndef TALE_BENCH_TCP_REF_H
#define TALE_BENCH_TCP_REF_H

#include "bench.h"

typedef struct tale_bench_tcp_ref tale_bench_tcp_ref_t;

/* Start the echo process (answers req_len bytes with resp_len bytes; pinned
 * to server_cpu unless it is -1) and connect to it.  NULL on error. */
tale_bench_tcp_ref_t *tale_bench_tcp_ref_open(size_t req_len, size_t resp_len, int server_cpu);
/* One round trip; its latency in *ns.  0, or -1 if the exchange failed. */
int tale_bench_tcp_ref_round(tale_bench_tcp_ref_t *t, uint64_t *ns);
/* Close the connection and reap the echo process. */
void tale_bench_tcp_ref_close(tale_bench_tcp_ref_t *t);

#endif
