/*
 * fuzz_common.h - helpers shared by the fuzz targets (tests/fuzz/README in
 * docs/SECURITY.md, "Fuzzing and sanitizers").
 *
 * Every target is built twice: with -fsanitize=fuzzer as a libFuzzer binary
 * (TALE_FUZZ=ON, clang), and with corpus_main.c as a plain program that feeds
 * each corpus file to LLVMFuzzerTestOneInput once, so the corpora are
 * regression tests under any compiler.  The oracles below abort(): a failed
 * promise is a crash to both builds, with or without sanitizers.
 */
#ifndef TALE_FUZZ_COMMON_H
#define TALE_FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Report a broken promise and crash, so libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...)                                                                                                      \
    do {                                                                                                                           \
        if (!(cond)) {                                                                                                             \
            fprintf(stderr, "fuzz check failed: %s (%s:%d): ", #cond, __FILE__, __LINE__);                                         \
            fprintf(stderr, __VA_ARGS__);                                                                                          \
            fputc('\n', stderr);                                                                                                   \
            abort();                                                                                                               \
        }                                                                                                                          \
    } while (0)

/* A located error is one non-empty line (config.h, engine.h). */
static inline void
fuzz_check_error_line(const char *err)
{
    FUZZ_CHECK(err[0] != 0, "an error without a message");
    FUZZ_CHECK(strchr(err, '\n') == NULL, "a multi-line error: %s", err);
}

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF) - what jansson and libyaml accept. */
static inline int
fuzz_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint8_t lo = 0x80, hi = 0xbf; /* the range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return 0;
        }
        if (i + k >= n) /* truncated sequence */
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* A private scratch folder for this process, removed at exit. */
static char fuzz_tmp[64];

static inline void
fuzz_tmp_cleanup(void)
{
    if (fuzz_tmp[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", fuzz_tmp);
    }
}

static inline const char *
fuzz_tmpdir(void)
{
    if (!fuzz_tmp[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(fuzz_tmp, sizeof fuzz_tmp, "%s/tale-fuzz-XXXXXX", base && strlen(base) < 40 ? base : "/tmp");
        if (mkdtemp(fuzz_tmp) == NULL) {
            perror("mkdtemp");
            abort();
        }
        atexit(fuzz_tmp_cleanup);
    }
    return fuzz_tmp;
}

/* Replace the file at path with exactly these bytes. */
static inline void
fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(path);
        abort();
    }
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n <= 0) {
            perror(path);
            abort();
        }
        data += n;
        size -= (size_t)n;
    }
    close(fd);
}

#endif
