/* Checks the apps make before any work, so a run that could not write its results or
 * read its --load file is refused at once rather than after minutes of training: an
 * output path's directory exists and is writable, an input file exists, is readable
 * and starts as its format does. Nothing is created, truncated or written. */
#ifndef APPS_COMMON_PATHS_H
#define APPS_COMMON_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* One file an app will write, and the option that names it (for the message). A NULL
 * path is skipped. */
typedef struct AppOutput {
    const char *option; /* "--save", "--plot", ... */
    const char *path;
} AppOutput;

/* Whether path can be written later: not empty, not a directory, an existing file
 * writable, and its directory existing, a directory and writable. Otherwise prints
 * "<app>: <option> <path>: cannot be written: <why>" and returns false. */
bool app_check_writable(const char *app, const char *option, const char *path);

/* app_check_writable over n outputs (NULL paths skipped); false after the first refused. */
bool app_check_outputs(const char *app, const AppOutput *outputs, int n);

/* Whether path (named by option) is a readable regular file; when magic is not NULL,
 * whether it starts with those magic_len bytes, as a file of the format named kind
 * does. Otherwise prints "<app>: cannot use <option> <path>: <why>" and returns
 * false. Reads at most magic_len bytes. */
bool app_check_readable(const char *app, const char *option, const char *path, const char *magic,
                        size_t magic_len, const char *kind);

/* The first bytes of the files nn_load_weights reads (lamina's .weights format). */
#define APP_WEIGHTS_MAGIC "LAMINAW\0"
#define APP_WEIGHTS_MAGIC_LEN 8

#endif
