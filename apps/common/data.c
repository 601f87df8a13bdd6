/* The data directory and reading corpora from it (see data.h). The repository's data/
 * folder is known here only, compiled in as LAMINA_DEFAULT_DATA_DIR. */
#include "common/data.h"

#include <lamina/nn/nn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Whether a name from the command line is read as it stands: it has a '/', or the data
 * directory has no file of that name and the current directory does. The data
 * directory comes first, so a stray file here never shadows the corpus asked for. */
static bool names_path(const char *dir, const char *name) {
    if (strchr(name, '/')) return true;
    size_t n = strlen(dir) + strlen(name) + 2;
    char *in_dir = tensor_xmalloc(n);
    snprintf(in_dir, n, "%s/%s", dir, name);
    bool in_data_dir = access(in_dir, F_OK) == 0;
    free(in_dir);
    return !in_data_dir && access(name, R_OK) == 0;
}

void app_warn_not_text(const char *app, const char *path, const char *text, int64_t len) {
    NnTextCheck c = nn_text_check(text, len);
    if (c.invalid + c.control == 0) return;
    double share = 100.0 * nn_text_check_share(&c);
    fprintf(stderr,
            "%s: warning: %s: %.*f%% of its %lld bytes are not UTF-8 text (%lld malformed, read as U+FFFD or\n"
            "  a space; %lld in control characters): is it the right file, in UTF-8?\n",
            app, path, share < 0.1 ? 3 : 1, share, (long long)c.bytes, (long long)c.invalid, (long long)c.control);
}

char *app_read_corpus(const char *app, const char *dir, const char *file, int64_t *len) {
    if (names_path(dir, file)) { /* a path names its file: no data directory to point at */
        char *text = nn_read_file(file, len);
        if (!text) fprintf(stderr, "%s: cannot read the corpus: %s\n", app, tensor_last_error());
        else app_warn_not_text(app, file, text, *len);
        return text;
    }
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
    else
        app_warn_not_text(app, path, text, *len);
    free(path);
    return text;
}

char *app_data_path(const char *dir, const char *name, char *buf, size_t cap) {
    if (names_path(dir, name)) snprintf(buf, cap, "%s", name);
    else snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}
