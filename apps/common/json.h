/* The one-line JSON object that --json ends stdout with (and bench's per-config
 * lines): written field by field, numbers that are NaN or infinite as null. */
#ifndef APPS_COMMON_JSON_H
#define APPS_COMMON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* app_json_begin, then fields, then app_json_end (which writes "}\n"). Inside an
 * array opened with app_json_open the values take a NULL key. */
typedef struct AppJson {
    FILE *out;
    bool first;
} AppJson;
void app_json_begin(AppJson *j, FILE *out);                              /* writes "{" */
void app_json_number(AppJson *j, const char *key, double value);         /* "key": 0.123 */
void app_json_int(AppJson *j, const char *key, int64_t value);           /* "key": 42 */
void app_json_string(AppJson *j, const char *key, const char *value);    /* "key": "escaped" */
void app_json_end(AppJson *j);                                           /* writes "}\n" */
/* "key": [ or "key": { (bracket '[' or '{'; key NULL inside an array), closed by
 * app_json_close with the matching ']' or '}'. */
void app_json_open(AppJson *j, const char *key, char bracket);
void app_json_close(AppJson *j, char bracket);

#endif
