/*
 * conf_table.c - read a plugin's declarative config table (conf_table.h).
 */
#include "conf_table.h"
#include <tale/alloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
in_bounds(const tale_conf_row_t *r, uint64_t v)
{
    return r->max <= 0 || (v >= (uint64_t)(r->min > 0 ? r->min : 0) && v <= (uint64_t)r->max);
}

/* One row into its field.  The field's C type follows from the row's type
 * (plugin.h, enum tale_conf_type); memcpy, as `field` is a byte offset into
 * the plugin's struct. */
static int
read_row(const tale_host_api_t *api, tale_plugin_t *self, const tale_conf_row_t *r, char *field,
         tale_conf_bounds_error_fn bounds_error, char *err, size_t errlen)
{
    switch (r->type) {
    case TALE_CONF_STRING:
    case TALE_CONF_PATH: {
        const char *v;
        if ((r->type == TALE_CONF_STRING ? api->conf_string : api->conf_path)(self, r->key, r->def_str, &v) != 0)
            return -1;
        memcpy(field, &v, sizeof(v));
        return 0;
    }
    case TALE_CONF_BOOL: {
        int v;
        if (api->conf_bool(self, r->key, r->def != 0, &v) != 0)
            return -1;
        memcpy(field, &v, sizeof(v));
        return 0;
    }
    case TALE_CONF_INT: {
        int64_t v;
        if (api->conf_int(self, r->key, r->def, r->min, r->max, &v) != 0)
            return -1;
        memcpy(field, &v, sizeof(v));
        return 0;
    }
    case TALE_CONF_SIZE:
    case TALE_CONF_DURATION_MS: {
        uint64_t v;
        if ((r->type == TALE_CONF_SIZE ? api->conf_size : api->conf_duration_ms)(self, r->key, (uint64_t)r->def, &v) != 0)
            return -1;
        if (!in_bounds(r, v))
            return bounds_error(self, r, v);
        memcpy(field, &v, sizeof(v));
        return 0;
    }
    case TALE_CONF_STRING_LIST: {
        const char *const *v;
        size_t n;
        if (api->conf_string_list(self, r->key, &v, &n) != 0)
            return -1;
        memcpy(field, &v, sizeof(v));
        return 0;
    }
    }
    snprintf(err, errlen, "config table row '%s' has an unknown type %d (a plugin bug)", r->key, r->type);
    return -1;
}

int
tale_conf_table_read(const tale_host_api_t *api, tale_plugin_t *self, const tale_conf_row_t *rows, size_t n, void *out,
                     tale_conf_bounds_error_fn bounds_error, char *err, size_t errlen)
{
    if (rows == NULL || out == NULL) {
        snprintf(err, errlen, "conf_table called without rows or without the struct to fill (a plugin bug)");
        return -1;
    }
    const char **known = tale_xcalloc(n + 1, sizeof(*known));
    for (size_t i = 0; i < n; i++) {
        if (rows[i].key == NULL) {
            free(known);
            snprintf(err, errlen, "config table row %zu has no key (a plugin bug)", i);
            return -1;
        }
        known[i] = rows[i].key;
    }
    int rc = api->conf_check_keys(self, known);
    free(known);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = read_row(api, self, &rows[i], (char *)out + rows[i].offset, bounds_error, err, errlen);
    return rc;
}
