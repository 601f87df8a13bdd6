/* Helpers shared by the bundled apps (see app.h). */
#include "common/app.h"

#include <lamina/nn/nn.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef LAMINA_DEFAULT_DATA_DIR
#define LAMINA_DEFAULT_DATA_DIR "data"
#endif

const char *app_data_dir(const char *flag_value) {
    if (flag_value && *flag_value) return flag_value;
    const char *env = getenv("DATA_DIR");
    if (env && *env) return env;
    return LAMINA_DEFAULT_DATA_DIR;
}

char *app_read_corpus(const char *app, const char *dir, const char *file, int64_t *len) {
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

bool app_parse_checkpoint_every(const char *app, const char *value, int64_t *every, bool *in_epochs) {
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    bool epochs = *end == 'e' && end[1] == '\0';
    if (errno || end == value || (*end && !epochs) || v < 1 || v > 1000000000) {
        fprintf(stderr,
                "%s: invalid value '%s' for --checkpoint-every: expected N optimizer steps or Ne epochs "
                "(N from 1 to 1000000000), e.g. 500 or 1e\n",
                app, value);
        return false;
    }
    *every = v;
    *in_epochs = epochs;
    return true;
}

bool app_fits_in_memory(const char *app, const char *what, const char *detail, double bytes) {
    double memory = (double)tensor_physical_memory();
    if (memory <= 0 || bytes <= memory) return true;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    fprintf(stderr, "%s: %s needs %.1f GiB (%s), more than this machine's %.1f GiB of memory\n", app, what,
            bytes / gib, detail, memory / gib);
    return false;
}

/* Writes an argument so a POSIX shell reads it back unchanged. */
static void put_shell_word(FILE *out, const char *word) {
    bool plain = *word != '\0';
    for (const char *c = word; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *c)) plain = false;
    if (plain) {
        fputs(word, out);
        return;
    }
    fputc('\'', out);
    for (const char *c = word; *c; c++) {
        if (*c == '\'') fputs("'\\''", out);
        else fputc(*c, out);
    }
    fputc('\'', out);
}

int app_report_interrupted(const char *app, int signo, int64_t steps, const char *checkpoint, int argc,
                              char **argv) {
    fprintf(stderr, "%s: stopped by %s after step %lld; checkpoint written to %s\nresume with: %s", app,
            signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal", (long long)steps, checkpoint,
            app);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0) {
            i++; /* and its value */
            continue;
        }
        if (strncmp(argv[i], "--resume=", 9) == 0) continue;
        fputc(' ', stderr);
        put_shell_word(stderr, argv[i]);
    }
    fputs(" --resume ", stderr);
    put_shell_word(stderr, checkpoint);
    fputc('\n', stderr);
    return APP_EXIT_SIGNAL_BASE + signo;
}

void app_json_begin(AppJson *j, FILE *out) {
    j->out = out;
    j->first = true;
    fputc('{', out);
}

static void json_key(AppJson *j, const char *key) {
    if (!j->first) fputc(',', j->out);
    j->first = false;
    fprintf(j->out, "\"%s\":", key);
}

void app_json_number(AppJson *j, const char *key, double value) {
    json_key(j, key);
    if (isfinite(value))
        fprintf(j->out, "%.6g", value);
    else
        fputs("null", j->out);
}

void app_json_int(AppJson *j, const char *key, int64_t value) {
    json_key(j, key);
    fprintf(j->out, "%lld", (long long)value);
}

void app_json_string(AppJson *j, const char *key, const char *value) {
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

void app_json_end(AppJson *j) { fputs("}\n", j->out); }
