/*
 * fuzz_ws_input.c - the ws plugin's input decoder (handle_text in
 * plugins/ws/ws.c) on any text message.
 *
 * The decoder is a static function that talks to the host, not a pure one,
 * so this target compiles ws.c into itself and drives handle_text with a
 * connection whose wslay context is real (notices are queued into it) and
 * whose host is a recorder.  The socket is absent, so nothing is flushed and
 * no loop is needed.  Promises checked (PROTOCOL.md, "WebSocket"): a JSON
 * object with a string "cmd" forwards exactly that string, with the
 * autocomplete flag when asked; text that is not JSON forwards byte for
 * byte as a plain command; any other JSON forwards nothing and queues one
 * notice for the client.  Never more than one input per message.
 */
#include "../../plugins/ws/ws.c"

#include "fuzz_common.h"

static struct {
    int calls;
    char *cmd; /* a copy: the decoder frees its JSON before we look */
    size_t len;
    unsigned flags;
} rec;

static void
fake_input(tale_session_t *s, const char *cmd, size_t len, unsigned flags)
{
    rec.calls++;
    free(rec.cmd);
    rec.cmd = malloc(len ? len : 1);
    if (rec.cmd == NULL)
        abort();
    memcpy(rec.cmd, cmd, len);
    rec.len = len;
    rec.flags = flags;
}

static void
fake_detach(tale_session_t *s, void *conn)
{
    FUZZ_CHECK(0, "the decoder detached the session");
}

static void
fake_log(tale_plugin_t *self, int level, const char *fmt, ...)
{
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tale_host_api_t api = {.size = sizeof api, .log = fake_log, .session_input = fake_input, .session_detach = fake_detach};
    ws_plugin_t p = {.host = &api, .max_message = 1 << 20, .max_backlog = (uint64_t)1 << 40};
    h2o_websocket_conn_t ws = {0};
    struct wslay_event_callbacks cb = {0};
    if (wslay_event_context_server_init(&ws.ws_ctx, &cb, NULL) != 0)
        abort();
    static int session_token;
    ws_conn_t c = {.p = &p, .ws = &ws, .session = (tale_session_t *)&session_token};

    rec.calls = 0;
    handle_text(&c, data, size);
    size_t queued = wslay_event_get_queued_msg_length(ws.ws_ctx);
    FUZZ_CHECK(rec.calls <= 1, "one message gave %d inputs", rec.calls);

    /* what the protocol says should happen to these bytes */
    json_error_t jerr;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        FUZZ_CHECK(rec.calls == 1 && rec.len == size && rec.flags == 0 && memcmp(rec.cmd, data, size) == 0,
                   "text that is not JSON was not forwarded verbatim");
        FUZZ_CHECK(queued == 0, "a notice for a plain command");
    } else {
        json_t *cmd = json_is_object(v) ? json_object_get(v, "cmd") : NULL;
        if (json_is_string(cmd)) {
            FUZZ_CHECK(rec.calls == 1 && rec.len == json_string_length(cmd) &&
                           memcmp(rec.cmd, json_string_value(cmd), rec.len) == 0,
                       "the cmd string was not forwarded as is");
            FUZZ_CHECK(rec.flags == 0 || rec.flags == TALE_INPUT_AUTOCOMPLETE, "unknown input flags %u", rec.flags);
            FUZZ_CHECK(queued == 0, "a notice for a good command");
        } else {
            FUZZ_CHECK(rec.calls == 0, "JSON without a string cmd was forwarded");
            FUZZ_CHECK(queued > 0, "JSON without a string cmd got no notice");
        }
        json_decref(v);
    }
    wslay_event_context_free(ws.ws_ctx);
    free(rec.cmd);
    rec.cmd = NULL;
    return 0;
}
