/* The --json result line (see json.h): keys in the order written, strings escaped,
 * numbers with 6 significant digits. */
#include "common/json.h"

#include <math.h>

void app_json_begin(AppJson *j, FILE *out) {
    j->out = out;
    j->first = true;
    fputc('{', out);
}

static void json_key(AppJson *j, const char *key) {
    if (!j->first) fputc(',', j->out);
    j->first = false;
    if (key) fprintf(j->out, "\"%s\":", key);
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

void app_json_open(AppJson *j, const char *key, char bracket) {
    json_key(j, key);
    fputc(bracket, j->out);
    j->first = true;
}

void app_json_close(AppJson *j, char bracket) {
    fputc(bracket, j->out);
    j->first = false; /* the container just closed is a value of the one around it */
}
