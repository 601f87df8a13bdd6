/* Keras's CSVLogger: one row of metrics per epoch. Its checkpoint state is the file's
 * length and columns when the checkpoint was written, so a resumed run cuts off what
 * the interrupted one wrote after it and goes on from there: one row per epoch. */
#include "nn/model/callbacks_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

enum { COL_ACCURACY = 1, COL_VAL_ACCURACY = 2, COL_VAL_LOSS = 4, COL_CHOSEN = 8, RESTART = 16 };

/* The fewest significant digits that read back as v (Python's repr, in C's %g). */
static void shortest(char *out, size_t cap, double v, bool as_float) {
    if (isnan(v)) {
        snprintf(out, cap, "nan");
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, cap, "%.*g", digits, v);
        if (as_float ? strtof(out, NULL) == (float)v : strtod(out, NULL) == v) return;
    }
}

static int csv_on_train_begin(Model *m, void *user) {
    (void)m;
    NnCsvLogger *c = user;
    if (!c->path || !c->path[0]) return tensor_set_error("CSVLogger: no file named");
    if (c->separator == '"' || c->separator == '\n' || c->separator == '\r')
        return tensor_set_error("CSVLogger: the separator cannot be a quote or a line break");
    FILE *probe = fopen(c->path, "a"); /* fails early, and truncates nothing yet */
    if (!probe) return tensor_set_error("CSVLogger: cannot write %s: %s", c->path, strerror(errno));
    fclose(probe);
    c->file = NULL;
    c->columns = 0;
    c->length = 0;
    return 0;
}

/* Opens the file for the first row: appended to (no header if it has lines) or new. */
static bool csv_open(NnCsvLogger *c, bool *header) {
    c->file = fopen(c->path, c->append && !(c->columns & RESTART) ? "a" : "w");
    if (!c->file) return false;
    fseek(c->file, 0, SEEK_END);
    long at = ftell(c->file);
    c->length = at > 0 ? at : 0;
    *header = c->length == 0;
    return true;
}

static void csv_header(FILE *f, char sep, unsigned k) {
    fputs("epoch", f);
    if (k & COL_ACCURACY) fprintf(f, "%caccuracy", sep);
    fprintf(f, "%clearning_rate%closs", sep, sep);
    if (k & COL_VAL_ACCURACY) fprintf(f, "%cval_accuracy", sep);
    if (k & COL_VAL_LOSS) fprintf(f, "%cval_loss", sep);
    fputc('\n', f);
}

static void put_value(FILE *f, char sep, double v, bool as_float) {
    char text[40];
    shortest(text, sizeof text, v, as_float);
    fprintf(f, "%c%s", sep, text);
}

/* epoch, then accuracy, learning_rate, loss, val_accuracy, val_loss (sorted, as Keras). */
static void csv_row(NnCsvLogger *c, char sep, const NnEpochLogs *logs, bool header) {
    unsigned k = c->columns;
    if (header) csv_header(c->file, sep, k);
    fprintf(c->file, "%d", logs->epoch - 1);
    if (k & COL_ACCURACY) put_value(c->file, sep, logs->accuracy, false);
    put_value(c->file, sep, logs->lr, true);
    put_value(c->file, sep, logs->loss, false);
    if (k & COL_VAL_ACCURACY) put_value(c->file, sep, logs->val_accuracy, false);
    if (k & COL_VAL_LOSS) put_value(c->file, sep, logs->val_loss, false);
    fputc('\n', c->file);
}

static int csv_on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    (void)m;
    NnCsvLogger *c = user;
    char sep = c->separator ? c->separator : ',';
    if (!(c->columns & COL_CHOSEN)) /* fixed by the first row, as Keras's keys */
        c->columns = COL_CHOSEN | (!isnan(logs->accuracy) ? COL_ACCURACY : 0) |
                     (!isnan(logs->val_accuracy) ? COL_VAL_ACCURACY : 0) | (!isnan(logs->val_loss) ? COL_VAL_LOSS : 0);
    bool header = false;
    if (!c->file && !csv_open(c, &header)) {
        fprintf(stderr, "CSVLogger: cannot write %s: %s\n", c->path, strerror(errno));
        return 0;
    }
    csv_row(c, sep, logs, header);
    if (fflush(c->file) != 0) fprintf(stderr, "CSVLogger: cannot write %s: %s\n", c->path, strerror(errno));
    long at = ftell(c->file);
    if (at >= 0) c->length = at;
    return 0;
}

static void csv_on_train_end(Model *m, const NnHistory *history, void *user) {
    (void)m, (void)history;
    NnCsvLogger *c = user;
    if (c->file) fclose(c->file);
    c->file = NULL;
}

static size_t csv_save_state(const Model *m, void *user, unsigned char *buf) {
    (void)m;
    NnCsvLogger *c = user;
    NnStateOut o = {buf, 0};
    nn__state_i64(&o, c->length);
    nn__state_i64(&o, c->columns & ~(unsigned)RESTART);
    return o.len;
}

/* Cuts the file back to the checkpoint's length and appends from there; a file that
 * is gone or shorter is started again. */
static int csv_load_state(Model *m, void *user, const unsigned char *buf, size_t len) {
    (void)m;
    NnCsvLogger *c = user;
    NnCursor cur = {buf, len, 0, false};
    int64_t length = nn__cursor_i64(&cur), columns = nn__cursor_i64(&cur);
    if (cur.truncated || cur.pos != len || length < 0 || columns < 0 || columns > 15)
        return tensor_set_error("CSVLogger: the checkpoint's state is invalid");
    if (length == 0) return 0; /* no row yet */
    FILE *f = fopen(c->path, "r+");
    if (f && fseek(f, 0, SEEK_END) == 0 && ftell(f) >= length && ftruncate(fileno(f), (off_t)length) == 0 &&
        fseek(f, 0, SEEK_END) == 0) {
        c->file = f;
        c->length = length;
        c->columns = (unsigned)columns;
        return 0;
    }
    if (f) fclose(f);
    c->columns = (unsigned)columns | RESTART; /* written again from its header on */
    return 0;
}

NnCallback nn_csv_logger_callback(NnCsvLogger *state) {
    state->file = NULL;
    state->columns = 0;
    state->length = 0;
    return (NnCallback){.on_epoch_end = csv_on_epoch_end, .user = state, .on_train_begin = csv_on_train_begin,
                        .on_train_end = csv_on_train_end, .name = "CSVLogger", .save_state = csv_save_state,
                        .load_state = csv_load_state};
}
