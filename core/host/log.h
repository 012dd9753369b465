/* log.h - one line per event on stderr: time, level, component, message. */
#ifndef TALE_LOG_H
#define TALE_LOG_H

#include <stdarg.h>

/* Lines above this level are dropped (enum tale_log_level; default info). */
extern int tale_log_level;

void tale_log(int level, const char *component, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tale_vlog(int level, const char *component, const char *fmt, va_list ap);
/* "error" -> TALE_LOG_ERROR ...; -1 when unknown. */
int tale_log_level_from_name(const char *name);

#define tale_error(comp, ...) tale_log(TALE_LOG_ERROR, comp, __VA_ARGS__)
#define tale_warn(comp, ...) tale_log(TALE_LOG_WARN, comp, __VA_ARGS__)
#define tale_info(comp, ...) tale_log(TALE_LOG_INFO, comp, __VA_ARGS__)
#define tale_debug(comp, ...) tale_log(TALE_LOG_DEBUG, comp, __VA_ARGS__)

#endif
