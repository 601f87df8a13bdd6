/* Reading one flag's value: whole-string integers and finite numbers within a range,
 * and the N / Ne form of --checkpoint-every. A bad value is reported naming the app,
 * the flag and what was expected, so every app words it the same way. */
#ifndef APPS_COMMON_FLAGS_H
#define APPS_COMMON_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

/* Parse a whole string as an integer / finite float within [lo, hi]. On failure print
 * "<app>: invalid value '<value>' for <flag>: expected ..." and return false. */
bool app_parse_int(const char *app, const char *flag, const char *value, int64_t lo, int64_t hi, int64_t *out);
bool app_parse_float(const char *app, const char *flag, const char *value, double lo, double hi, double *out);

/* Parses --checkpoint-every: "N" is every N units (optimizer steps, corpus words),
 * "Ne" every N epochs, N from 1 to max. On failure prints
 * "<app>: invalid value '<value>' for --checkpoint-every: expected <expected>" and
 * returns false. */
bool app_parse_every(const char *app, const char *value, int64_t max, const char *expected, int64_t *every,
                     bool *in_epochs);

#endif
