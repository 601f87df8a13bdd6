/* The checks on output and input paths made before any work (see paths.h): stat and
 * access on the file and its directory, and the first bytes of a file to load. */
#include "common/paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool refuse(const char *app, const char *option, const char *path, const char *why, const char *dir) {
    fprintf(stderr, "%s: %s %s: cannot be written: %s%s\n", app, option, path, why, dir ? dir : "");
    return false;
}

bool app_check_writable(const char *app, const char *option, const char *path) {
    if (!path) return true;
    if (!*path) return refuse(app, option, "''", "the file name is empty", NULL);
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return refuse(app, option, path, "it is a directory", NULL);
        if (access(path, W_OK) != 0) return refuse(app, option, path, "no permission to write the file", NULL);
    }
    /* The file is written beside itself and renamed into place, so its directory must
     * take new files. */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (slash && !slash[1]) return refuse(app, option, path, "it names a directory", NULL);
    if (stat(dir, &st) != 0)
        return refuse(app, option, path, errno == ENOENT ? "no such directory: " : "cannot reach the directory: ", dir);
    if (!S_ISDIR(st.st_mode)) return refuse(app, option, path, "not a directory: ", dir);
    if (access(dir, W_OK | X_OK) != 0) return refuse(app, option, path, "no permission to write in ", dir);
    return true;
}

bool app_check_outputs(const char *app, const AppOutput *outputs, int n) {
    for (int i = 0; i < n; i++)
        if (!app_check_writable(app, outputs[i].option, outputs[i].path)) return false;
    return true;
}

bool app_check_readable(const char *app, const char *option, const char *path, const char *magic,
                        size_t magic_len, const char *kind) {
    struct stat st;
    const char *why = NULL;
    char head[16] = {0}, bad[160];
    FILE *f = NULL;
    if (stat(path, &st) != 0) why = strerror(errno);
    else if (S_ISDIR(st.st_mode)) why = "it is a directory";
    else if (!(f = fopen(path, "rb"))) why = strerror(errno);
    else if (magic && magic_len <= sizeof head &&
             (fread(head, 1, magic_len, f) != magic_len || memcmp(head, magic, magic_len) != 0)) {
        snprintf(bad, sizeof bad, "not a %s file (it does not start as one)", kind ? kind : "known");
        why = bad;
    }
    if (f) fclose(f);
    if (!why) return true;
    fprintf(stderr, "%s: cannot use %s %s: %s\n", app, option, path, why);
    return false;
}
