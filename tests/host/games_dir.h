/*
 * games_dir.h - for the host's unit tests that write per-visitor games into a
 * temp folder: remove it again (the folder, its game folders and their files).
 */
#ifndef TALE_TEST_GAMES_DIR_H
#define TALE_TEST_GAMES_DIR_H

#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

static inline void
games_dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
            continue; /* not one of ours: the tests' names are short */
        if (unlink(path) != 0)
            games_dir_remove(path);
    }
    closedir(d);
    rmdir(dir);
}

#endif
