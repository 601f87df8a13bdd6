/* Helpers shared by the bundled apps (see app.h). */
#include "app.h"

#include "tensor/error.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef LAMINA_DEFAULT_DATA_DIR
#define LAMINA_DEFAULT_DATA_DIR "data"
#endif

const char *nn_app_data_dir(const char *flag_value) {
    if (flag_value && *flag_value) return flag_value;
    const char *env = getenv("DATA_DIR");
    if (env && *env) return env;
    return LAMINA_DEFAULT_DATA_DIR;
}

char *nn_app_read_corpus(const char *app, const char *dir, const char *file, int64_t *len) {
    size_t n = strlen(dir) + strlen(file) + 2;
    char *path = tensor_xmalloc(n);
    snprintf(path, n, "%s/%s", dir, file);
    char *text = nn_read_file(path, len);
    if (!text)
        fprintf(stderr,
                "%s: cannot read the corpus: %s\n"
                "  Run scripts/get-data.sh to fill the repository's data/ folder, or point --data DIR\n"
                "  (or DATA_DIR) at a folder holding %s.\n",
                app, tensor_last_error(), file);
    free(path);
    return text;
}

bool nn_app_parse_int(const char *app, const char *flag, const char *value, int64_t lo, int64_t hi, int64_t *out) {
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

bool nn_app_parse_float(const char *app, const char *flag, const char *value, double lo, double hi, double *out) {
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

double nn_app_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nn_json_begin(NnJson *j, FILE *out) {
    j->out = out;
    j->first = true;
    fputc('{', out);
}

static void json_key(NnJson *j, const char *key) {
    if (!j->first) fputc(',', j->out);
    j->first = false;
    fprintf(j->out, "\"%s\":", key);
}

void nn_json_number(NnJson *j, const char *key, double value) {
    json_key(j, key);
    if (isfinite(value))
        fprintf(j->out, "%.6g", value);
    else
        fputs("null", j->out);
}

void nn_json_int(NnJson *j, const char *key, int64_t value) {
    json_key(j, key);
    fprintf(j->out, "%lld", (long long)value);
}

void nn_json_string(NnJson *j, const char *key, const char *value) {
    if (!j) return;
    json_key(j, key);
    fputc('"', j->out);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(j->out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(j->out, "\\u%04x", *p);
        else
            fputc(*p, j->out);
    }
    fputc('"', j->out);
}

void nn_json_end(NnJson *j) { fputs("}\n", j->out); }
