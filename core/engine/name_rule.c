/*
 * name_rule.c - what a chosen name may be made of (engine.h,
 * tale_name_shape_check).  Apart from names.c, which needs a world, so the
 * host's accounts store, its admin CLI and their tests hold names to the same
 * rule without linking the rest of the engine.
 */
#include "engine.h"

static int
is_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int
tale_name_shape_check(const char *name, size_t len, const char **why)
{
    static const char *const e_length = "A name must be 3 to 20 letters long.";
    static const char *const e_ascii = "A name may use only the plain letters A to Z (no accents, no other alphabets).";
    static const char *const e_shape = "A name is letters A to Z, with at most a single hyphen or apostrophe between two "
                                       "letters (like Mary-Ann or O'Neil): no spaces, digits or other signs.";
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (name == NULL) {
        *why = e_length;
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] >= 0x80) {
            *why = e_ascii; /* before the length: a multibyte name's byte count means nothing to its owner */
            return -1;
        }
    if (len < TALE_NAME_MIN || len > TALE_NAME_MAX) {
        *why = e_length;
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (is_letter(c))
            continue;
        /* a separator only between two letters: no doubles, none at either end */
        if ((c == '-' || c == '\'') && i > 0 && i + 1 < len && is_letter((unsigned char)name[i - 1]) &&
            is_letter((unsigned char)name[i + 1]))
            continue;
        *why = e_shape;
        return -1;
    }
    *why = NULL;
    return 0;
}
