/* Where the apps find their corpora and test sets: the data directory (--data, else
 * $DATA_DIR, else the repository's data/), names resolved inside it, and reading a
 * corpus with a message that says how to get the data when it is missing. */
#ifndef APPS_COMMON_DATA_H
#define APPS_COMMON_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The data directory: the --data value if given, else $DATA_DIR if set and non-empty,
 * else the repository's data/ folder (fixed at build time). */
const char *app_data_dir(const char *flag_value);

/* Reads file into a heap buffer: the file itself when app_is_path(file), else dir/file.
 * On failure prints "<app>: cannot read the corpus: <reason>" (and, for a name in the
 * data directory, how to get the data) to stderr, and returns NULL (the app then exits
 * with APP_EXIT_USAGE). */
char *app_read_corpus(const char *app, const char *dir, const char *file, int64_t *len);

/* Whether a file name given on the command line is read as it stands (a readable file
 * there, or a name with a '/') rather than as a name inside the data directory. */
bool app_is_path(const char *name);

/* The file a name stands for: the name itself when app_is_path, else dir/name; written
 * to buf (cap bytes), which is returned. */
char *app_data_path(const char *dir, const char *name, char *buf, size_t cap);

#endif
