/* log.c - the host's logger, also behind the plugins' host->log(). */
#include "log.h"
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <tale/plugin.h>
#include <time.h>

int tale_log_level = TALE_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int
tale_log_level_from_name(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void
tale_vlog(int level, const char *component, const char *fmt, va_list ap)
{
    if (level > tale_log_level)
        return;
    if (level < 0)
        level = 0;
    if (level > 3)
        level = 3;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    /* Build the whole line first so concurrent writers (children, tests
     * reading stderr) never see half a line. */
    char line[2048];
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s [%s] ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[level], component);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(line)) {
        int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    /* one line per event: a message never spans lines */
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    fwrite(line, 1, n, stderr);
}

void
tale_log(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tale_vlog(level, component, fmt, ap);
    va_end(ap);
}
