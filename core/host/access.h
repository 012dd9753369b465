/*
 * access.h - who may use the game's endpoints: the Host allowlist (against
 * DNS rebinding) and the Origin check (against cross-site pages), one
 * implementation for every transport (docs/SECURITY.md, "Threat model").
 * Pure: no sockets, no h2o; fuzzed and unit-tested on its own.
 */
#ifndef TALE_ACCESS_H
#define TALE_ACCESS_H

#include "config.h"

/* 0 when a request with this Host (or :authority; may be empty) and this
 * Origin (NULL when absent) may proceed; otherwise 403 with *why set to a
 * static message for the JSON body. */
int tale_access_check(const tale_config_t *cfg, const char *host, size_t host_len, const char *origin, size_t origin_len,
                      const char **why);

#endif
