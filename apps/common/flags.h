/* Reading one flag's value: whole-string integers and finite numbers within a range,
 * and the N / Ne form of --checkpoint-every. A bad value is reported naming the app,
 * the flag and what was expected, so every app words it the same way. */
#ifndef APPS_COMMON_FLAGS_H
#define APPS_COMMON_FLAGS_H

#include <lamina/nn/nn.h>

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

/* --help's line of --adam-rows, Adam's rule for the embedding table of the apps that
 * train one (sonnets, sherlock), naming the app's default: the rule that reached the
 * lower val_loss at equal updates there (docs/interop.md). */
#define APP_ADAM_ROWS_HELP(default_rule)                                                         \
    "  --adam-rows RULE    Adam's second moment for the embedding table (default " default_rule \
    "):\n"                                                                                      \
    "                      per-lookup sums the squares of each lookup's gradient, as Keras 3 on\n" \
    "                      TensorFlow; summed squares their sum, as PyTorch (docs/interop.md)\n"
/* Parses --adam-rows: "summed" or "per-lookup". On failure prints
 * "<app>: invalid value '<value>' for --adam-rows: expected summed or per-lookup" and
 * returns false. */
bool app_parse_adam_rows(const char *app, const char *value, NnAdamRows *rows);

#endif
