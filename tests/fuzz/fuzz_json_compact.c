/*
 * fuzz_json_compact.c - the host's frame writer (tale_json_compact in
 * core/host/json_compact.c) on any JSON jansson parses.
 *
 * Promise checked: for every value json_loadb accepts (any type at the top,
 * NUL in strings), the writer gives exactly the bytes and the length of
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), and fails only when
 * json_dumps does.
 */
#include "json_compact.h"

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (v == NULL)
        return 0;
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t len = 0;
    char *got = tale_json_compact(v, &len);
    FUZZ_CHECK((want == NULL) == (got == NULL), "json_dumps %s but tale_json_compact %s", want ? "wrote" : "failed",
               got ? "wrote" : "failed");
    if (want != NULL) {
        FUZZ_CHECK(len == strlen(want), "length %zu, json_dumps wrote %zu", len, strlen(want));
        FUZZ_CHECK(memcmp(got, want, len + 1) == 0, "bytes differ: %s vs json_dumps %s", got, want);
    }
    free(got);
    free(want);
    json_decref(v);
    return 0;
}
