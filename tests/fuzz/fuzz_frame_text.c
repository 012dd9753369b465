/*
 * fuzz_frame_text.c - host->frame_text (core/host/text/frame_text.c) on any
 * bytes as a frame: its scan of the host's compact frames must give exactly
 * what a full jansson parse gives on every input jansson takes as a frame,
 * and never crash on any other.
 */
#include "html_text.h"

#include <tale/plugin.h>

#include "fuzz_common.h"

#include <jansson.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 3, width = (data[0] >> 2) * 2;
    const char *json = (const char *)data + 1;
    size_t n = size - 1, fast_len, tree_len;
    unsigned fast_bits, tree_bits;
    char *fast = tale_frame_to_text(json, n, flags, width, "> ", &fast_len, &fast_bits);
    char *tree = tale_frame_to_text_tree(json, n, flags, width, "> ", &tree_len, &tree_bits);
    json_t *v = json_loadb(json, n, 0, NULL);
    if (v != NULL) {
        FUZZ_CHECK(fast_bits == tree_bits, "special bits %u != %u", fast_bits, tree_bits);
        FUZZ_CHECK(fast_len == tree_len && (fast_len == 0 || memcmp(fast, tree, fast_len) == 0),
                   "the scan rendered %zu bytes, the tree %zu", fast_len, tree_len);
    }
    json_decref(v);
    free(fast);
    free(tree);
    return 0;
}
