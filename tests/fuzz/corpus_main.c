/*
 * corpus_main.c - the regression-test driver for a fuzz target: feed every
 * file of the given corpus folders (or single files) to
 * LLVMFuzzerTestOneInput once.  Linked instead of libFuzzer, so the corpora
 * run under gcc too.  Fails when it found no input at all, so a mistyped
 * path cannot pass silently.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL)
                abort();
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    /* an exact-size copy, so a read past the end trips ASan as under libFuzzer */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL)
        abort();
    memcpy(exact, buf, len);
    free(buf);
    fprintf(stderr, "running %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the number of inputs run, or -1. */
static long
run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path) == 0 ? 1 : -1;
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *names);
        if (nn == NULL)
            abort();
        names = nn;
        if (asprintf(&names[n++], "%s/%s", path, e->d_name) < 0)
            abort();
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names); /* a stable order makes failures reproducible */
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        long r = stat(names[i], &st) == 0 && S_ISREG(st.st_mode) ? (run_file(names[i]) == 0 ? 1 : -1) : 0;
        if (r < 0)
            total = -1;
        else if (total >= 0)
            total += r;
        free(names[i]);
    }
    free(names);
    return total;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    long total = 0;
    for (int i = 1; i < argc; i++) {
        long r = run_path(argv[i]);
        if (r < 0)
            return 1;
        total += r;
    }
    if (total == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    fprintf(stderr, "%ld inputs ran without a failure\n", total);
    return 0;
}
