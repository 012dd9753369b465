/*
 * conf_table.h - host->conf_table (ABI 1.3) over an API table's own getters
 * (host-internal).  The host and the mock host of the plugin unit tests read
 * a plugin's config table the same way, each through its own getters.
 */
#ifndef TALE_CONF_TABLE_H
#define TALE_CONF_TABLE_H

#include <tale/plugin.h>

/* Writes the error for a SIZE or DURATION_MS value `v` outside a row's bounds
 * (min..max, checked when max > 0); returns -1.  The host locates it. */
typedef int (*tale_conf_bounds_error_fn)(tale_plugin_t *self, const tale_conf_row_t *row, uint64_t v);

/* Check keys against the rows (api->conf_check_keys), then read each row with
 * the getter of its type into `out` + row->offset.  A malformed row (no key,
 * unknown type) is reported in `err` as a plugin bug.  0 or -1. */
int tale_conf_table_read(const tale_host_api_t *api, tale_plugin_t *self, const tale_conf_row_t *rows, size_t n, void *out,
                         tale_conf_bounds_error_fn bounds_error, char *err, size_t errlen);

#endif
