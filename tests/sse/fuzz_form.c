/*
 * fuzz_form.c - libFuzzer target for the sse form decoder (TALE_FUZZ=ON, clang).
 * Checks the decoder's own promises on any input: never longer than the
 * input, in-place decoding equals out-of-place, and tale_form_get agrees.
 */
#include "form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1), *inplace = malloc(size + 1);
    if (out == NULL || inplace == NULL)
        abort();
    long n = tale_form_decode((const char *)data, size, out);
    memcpy(inplace, data, size);
    long m = tale_form_decode(inplace, size, inplace);
    if (n != m || n > (long)size || (n >= 0 && memcmp(out, inplace, (size_t)n) != 0))
        abort();
    size_t len = 0;
    int rc = tale_form_get((const char *)data, size, "cmd", out, size + 1, &len);
    if (rc == TALE_FORM_OK && len > size)
        abort();
    if (rc == TALE_FORM_TOO_LONG) /* size + 1 always fits */
        abort();
    free(out);
    free(inplace);
    return 0;
}
