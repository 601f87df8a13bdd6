/* What the bundled command-line apps share, so each app is only its own logic:
 * finding the data directory and reading a corpus with a helpful message, parsing
 * numeric flags with range checks, and writing the final JSON line. */
#ifndef APPS_COMMON_APP_H
#define APPS_COMMON_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every app: 0 success, 1 a failure while running (training diverged, a
 * file could not be written), 2 bad usage (unknown flag, bad value, missing corpus);
 * training stopped by a signal exits 128 + its number (130 SIGINT, 143 SIGTERM), as a
 * shell reports a process the signal killed. */
enum { APP_EXIT_OK = 0, APP_EXIT_FAILURE = 1, APP_EXIT_USAGE = 2, APP_EXIT_SIGNAL_BASE = 128 };

/* The data directory: the --data value if given, else $DATA_DIR if set and non-empty,
 * else the repository's data/ folder (fixed at build time). */
const char *app_data_dir(const char *flag_value);

/* Reads dir/file into a heap buffer. On failure prints
 * "<app>: cannot read the corpus: <reason>" and how to get the data to stderr, and
 * returns NULL (the app then exits with APP_EXIT_USAGE). */
char *app_read_corpus(const char *app, const char *dir, const char *file, int64_t *len);

/* Parse a whole string as an integer / finite float within [lo, hi]. On failure print
 * "<app>: invalid value '<value>' for <flag>: expected ..." and return false. */
bool app_parse_int(const char *app, const char *flag, const char *value, int64_t lo, int64_t hi,
                      int64_t *out);
bool app_parse_float(const char *app, const char *flag, const char *value, double lo, double hi,
                        double *out);

/* Parses --checkpoint-every: "N" is every N optimizer steps, "Ne" every N epochs
 * (N from 1 to 10^9). On failure prints "<app>: invalid value ..." and returns false. */
bool app_parse_checkpoint_every(const char *app, const char *value, int64_t *every, bool *in_epochs);

/* Whether a run needing `bytes` fits in physical memory; if not, prints
 * "<app>: <what> needs X GiB (<detail>), more than this machine's Y GiB of memory"
 * and returns false, so the app can refuse before allocating any of it. */
bool app_fits_in_memory(const char *app, const char *what, const char *detail, double bytes);

/* Reports training stopped by a signal: the step reached, where its checkpoint was
 * written and the command that resumes it (this command line with --resume PATH in
 * place of any --resume), on stderr. Returns the exit status, 128 + signo. */
int app_report_interrupted(const char *app, int signo, int64_t steps, const char *checkpoint, int argc,
                              char **argv);

/* One-line JSON object writer for --json: app_json_begin, then fields, then app_json_end
 * (which writes "}\n"). Numbers that are NaN or infinite are written as null. */
typedef struct AppJson {
    FILE *out;
    bool first;
} AppJson;
void app_json_begin(AppJson *j, FILE *out);                              /* writes "{" */
void app_json_number(AppJson *j, const char *key, double value);         /* "key": 0.123 */
void app_json_int(AppJson *j, const char *key, int64_t value);           /* "key": 42 */
void app_json_string(AppJson *j, const char *key, const char *value);    /* "key": "escaped" */
void app_json_end(AppJson *j);                                           /* writes "}\n" */

#endif
