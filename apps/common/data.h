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

/* Reads file into a heap buffer: the file itself when it has a '/' (or when dir has no
 * file of that name and the current directory does), else dir/file.
 * On failure prints "<app>: cannot read the corpus: <reason>" (and, for a name in the
 * data directory, how to get the data) to stderr, and returns NULL (the app then exits
 * with APP_EXIT_USAGE). A corpus that is partly not UTF-8 text gets the warning of
 * app_warn_not_text. */
char *app_read_corpus(const char *app, const char *dir, const char *file, int64_t *len);

/* Prints "<app>: warning: <path>: N% of its bytes are not UTF-8 text ..." to stderr
 * when text (len bytes, read from path) has malformed UTF-8 or control characters
 * other than tab, line breaks and form feed (nn_text_check); prints nothing otherwise. */
void app_warn_not_text(const char *app, const char *path, const char *text, int64_t len);

/* The file a name stands for, by app_read_corpus's rule: the name itself, or dir/name;
 * written to buf (cap bytes), which is returned. */
char *app_data_path(const char *dir, const char *name, char *buf, size_t cap);

#endif
