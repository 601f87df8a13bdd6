/* Flag values: integers, numbers and --checkpoint-every's N / Ne, range-checked
 * (see flags.h). */
#include "common/flags.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool app_parse_int(const char *app, const char *flag, const char *value, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: invalid value '%s' for %s: expected an integer from %lld to %lld\n", app, value, flag,
                (long long)lo, (long long)hi);
        return false;
    }
    *out = v;
    return true;
}

bool app_parse_float(const char *app, const char *flag, const char *value, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "%s: invalid value '%s' for %s: expected a number from %g to %g\n", app, value, flag, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

bool app_parse_every(const char *app, const char *value, int64_t max, const char *expected, int64_t *every,
                     bool *in_epochs) {
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    bool epochs = *end == 'e' && end[1] == '\0';
    if (errno || end == value || (*end && !epochs) || v < 1 || v > max) {
        fprintf(stderr, "%s: invalid value '%s' for --checkpoint-every: expected %s\n", app, value, expected);
        return false;
    }
    *every = v;
    *in_epochs = epochs;
    return true;
}

bool app_parse_adam_rows(const char *app, const char *value, NnAdamRows *rows) {
    if (strcmp(value, "summed") == 0) *rows = NN_ADAM_ROWS_SUMMED;
    else if (strcmp(value, "per-lookup") == 0) *rows = NN_ADAM_ROWS_PER_LOOKUP;
    else {
        fprintf(stderr, "%s: invalid value '%s' for --adam-rows: expected summed or per-lookup\n", app, value);
        return false;
    }
    return true;
}
