/*
 * fuzz_ws_input.c - the ws plugin's input decoder (ws_input_decode in
 * plugins/ws/proto.c) on any text message.
 *
 * Promises checked (PROTOCOL.md, "WebSocket"): a JSON object with a string
 * "cmd" gives exactly that string as the command, with the autocomplete
 * flag or none; text that is not JSON is a plain command byte for byte; any
 * other JSON is no command: a JSON value that is not an object asks for the
 * "must be an object" notice, an object without a string cmd for the "must
 * be a string" one.
 */
#include "proto.h"

#include <tale/plugin.h>

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_input_t in;
    ws_input_kind_t kind = ws_input_decode(data, size, &in);

    /* what the protocol says should happen to these bytes, decided here again */
    json_error_t jerr;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        FUZZ_CHECK(kind == WS_INPUT_COMMAND && in.len == size && in.flags == 0 && memcmp(in.cmd, data, size) == 0,
                   "text that is not JSON was not taken verbatim");
    } else {
        json_t *cmd = json_is_object(v) ? json_object_get(v, "cmd") : NULL;
        if (!json_is_object(v)) {
            FUZZ_CHECK(kind == WS_INPUT_NOT_OBJECT, "JSON that is not an object gave kind %d", (int)kind);
        } else if (!json_is_string(cmd)) {
            FUZZ_CHECK(kind == WS_INPUT_NO_CMD, "an object without a string cmd gave kind %d", (int)kind);
        } else {
            FUZZ_CHECK(kind == WS_INPUT_COMMAND && in.len == json_string_length(cmd) &&
                           memcmp(in.cmd, json_string_value(cmd), in.len) == 0,
                       "the cmd string was not taken as is");
            FUZZ_CHECK(in.flags == 0 || in.flags == TALE_INPUT_AUTOCOMPLETE, "unknown input flags %u", in.flags);
        }
        json_decref(v);
    }
    ws_input_release(&in);
    FUZZ_CHECK(in.json == NULL, "release left the JSON behind");
    return 0;
}
