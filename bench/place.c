/*
 * place.c - where the latency scenarios run: which CPU the client (this
 * process) and the server (the host's threads, or tcp-ref's echo process)
 * may use.
 *
 * On this kind of machine (a 2-vCPU VM) the placement decides a ping-pong's
 * latency more than anything the server does: waking a process that sleeps
 * on the other, idle vCPU costs an inter-processor interrupt through the
 * hypervisor, tens of microseconds, while a wake-up on the same CPU is a
 * context switch.  Left to the scheduler, a client and a server end up
 * together or apart by chance (tcp-ref's echo process usually lands beside
 * its client, tale-host usually does not), so ratios taken unpinned compare
 * a same-CPU reference with a cross-CPU subject.  Pinning both sides the same
 * way for the reference and for the host makes the ratio compare the work.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_setaffinity, CPU_* */
#endif
#include "bench.h"

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static cpu_set_t saved_self, saved_host;
static pid_t saved_pid;
static int placed;

int
bench_cpu_pair(int *a, int *b)
{
    cpu_set_t set;
    *a = *b = -1;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE && *b < 0; cpu++)
        if (CPU_ISSET(cpu, &set)) {
            if (*a < 0)
                *a = cpu;
            else
                *b = cpu;
        }
    return *b >= 0 ? 0 : -1;
}

/* Every thread of pid (an event-loop host has one; a library may add more). */
static int
set_all_threads(pid_t pid, const cpu_set_t *set)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid > 0 && sched_setaffinity(tid, sizeof(*set), set) != 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int
bench_pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

int
bench_place(pid_t host, int client_cpu, int server_cpu)
{
    if (!placed && (sched_getaffinity(0, sizeof(saved_self), &saved_self) != 0 ||
                    sched_getaffinity(host, sizeof(saved_host), &saved_host) != 0))
        return -1;
    saved_pid = host;
    placed = 1;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(server_cpu, &set);
    if (set_all_threads(host, &set) != 0)
        return -1;
    return bench_pin_self(client_cpu);
}

void
bench_place_restore(void)
{
    if (!placed)
        return;
    sched_setaffinity(0, sizeof(saved_self), &saved_self);
    set_all_threads(saved_pid, &saved_host);
    placed = 0;
}
