/* The one-line JSON object that --json ends stdout with (and bench's per-config
 * lines): written field by field, numbers that are NaN or infinite as null. */
#ifndef APPS_COMMON_JSON_H
#define APPS_COMMON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* app_json_begin, then fields, then app_json_end (which writes "}\n"). */
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
