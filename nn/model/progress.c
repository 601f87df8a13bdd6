/* Progress display for fit (see progress_internal.h): the line laid out for a width,
 * the width of the output, and the redraws of an epoch. */
#include "nn/model/progress_internal.h"
#include "tensor/system.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum { BAR_MAX = 30, BAR_MIN = 10, FIELD_LEN = 64 };

/* The fields in display order; the first three are joined by spaces, the rest by
 * " - ". */
enum { F_EPOCH, F_STEP, F_BAR, F_TIME, F_LOSS, F_ACC, F_VAL_LOSS, F_VAL_ACC, F_RATE, F_COUNT };

/* What goes when the line is too wide, first to last; the step count and the loss
 * always stay (then the line is cut). */
static const int DROP_ORDER[] = {F_BAR, F_RATE, F_ACC, F_VAL_ACC, F_TIME, F_VAL_LOSS, F_EPOCH};

typedef struct Layout {
    char text[F_COUNT][FIELD_LEN];
    bool shown[F_COUNT];
    int bar; /* the bar's inner width */
} Layout;

/* "12s", "2:03" or "1:02:03"; "1.2s" for a short epoch's time taken. */
static void format_seconds(char *buf, size_t size, double s, bool precise) {
    if (precise && s < 60) {
        snprintf(buf, size, "%.1fs", s);
        return;
    }
    long long t = (long long)(s + 0.5);
    if (t < 60) snprintf(buf, size, "%llds", t);
    else if (t < 3600) snprintf(buf, size, "%lld:%02lld", t / 60, t % 60);
    else snprintf(buf, size, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
}

static void fill_fields(Layout *y, const NnProgressLine *l) {
    memset(y, 0, sizeof *y);
    snprintf(y->text[F_EPOCH], FIELD_LEN, "Epoch %d/%d", l->epoch, l->epochs);
    snprintf(y->text[F_STEP], FIELD_LEN, "%lld/%lld", (long long)l->step, (long long)l->total_steps);
    y->shown[F_EPOCH] = l->epochs > 0;
    y->shown[F_STEP] = y->shown[F_BAR] = y->shown[F_LOSS] = true;
    if (isfinite(l->seconds) && l->seconds >= 0 && l->seconds < 1e12) {
        char t[32];
        format_seconds(t, sizeof t, l->seconds, l->done);
        snprintf(y->text[F_TIME], FIELD_LEN, "%s%s", l->done ? "" : "ETA: ", t);
        y->shown[F_TIME] = true;
    }
    snprintf(y->text[F_LOSS], FIELD_LEN, "loss: %.4f", l->loss);
    const double metric[] = {[F_ACC] = l->accuracy, [F_VAL_LOSS] = l->val_loss, [F_VAL_ACC] = l->val_accuracy};
    const char *name[] = {[F_ACC] = "accuracy", [F_VAL_LOSS] = "val_loss", [F_VAL_ACC] = "val_accuracy"};
    for (int f = F_ACC; f <= F_VAL_ACC; f++) {
        if (isnan(metric[f])) continue;
        snprintf(y->text[f], FIELD_LEN, "%s: %.4f", name[f], metric[f]);
        y->shown[f] = true;
    }
    if (l->rate >= 0 && isfinite(l->rate)) {
        snprintf(y->text[F_RATE], FIELD_LEN, "%.0f samples/s", l->rate);
        y->shown[F_RATE] = true;
    }
}

/* The length of the line with the fields shown and the bar's inner width. */
static size_t layout_length(const Layout *y) {
    size_t len = 0;
    bool any = false;
    for (int f = 0; f < F_COUNT; f++) {
        if (!y->shown[f]) continue;
        if (any) len += f <= F_BAR ? 1 : 3;
        len += f == F_BAR ? (size_t)y->bar + 2 : strlen(y->text[f]);
        any = true;
    }
    return len;
}

/* Sizes the bar to what is left of `width`, or drops fields until the line fits. */
static void fit_layout(Layout *y, int width) {
    y->shown[F_BAR] = false;
    size_t rest = layout_length(y), need = rest + 3 + BAR_MIN;
    if (need <= (size_t)width) {
        size_t room = (size_t)width - rest - 3;
        y->shown[F_BAR] = true;
        y->bar = room < BAR_MAX ? (int)room : BAR_MAX;
        return;
    }
    for (size_t d = 1; d < sizeof DROP_ORDER / sizeof DROP_ORDER[0] && layout_length(y) > (size_t)width; d++)
        y->shown[DROP_ORDER[d]] = false;
}

static void put_bar(char *out, int width, int64_t step, int64_t total) {
    int filled = total ? (int)((double)width * (double)step / (double)total) : width;
    out[0] = '[';
    for (int i = 0; i < width; i++)
        out[1 + i] = i < filled - 1 ? '=' : i == filled - 1 ? (step >= total ? '=' : '>') : '.';
    out[1 + width] = ']';
    out[2 + width] = '\0';
}

size_t nn__progress_format(char *buf, size_t size, int width, const NnProgressLine *l) {
    if (size == 0) return 0;
    buf[0] = '\0';
    if (width <= 0) return 0;
    Layout y;
    fill_fields(&y, l);
    fit_layout(&y, width);
    char bar[BAR_MAX + 3];
    if (y.shown[F_BAR]) put_bar(bar, y.bar, l->step, l->total_steps);
    size_t len = 0, limit = (size_t)width < size - 1 ? (size_t)width : size - 1;
    bool any = false;
    for (int f = 0; f < F_COUNT && len < limit; f++) {
        if (!y.shown[f]) continue;
        const char *sep = !any ? "" : f <= F_BAR ? " " : " - ";
        int n = snprintf(buf + len, limit + 1 - len, "%s%s", sep, f == F_BAR ? bar : y.text[f]);
        len += n < 0 ? 0 : (size_t)n < limit - len ? (size_t)n : limit - len; /* cut at the width */
        any = true;
    }
    buf[len] = '\0';
    return len;
}

int nn__progress_width(FILE *out) {
    struct winsize ws;
    int fd = fileno(out);
    if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *columns = getenv("COLUMNS");
    if (columns) {
        char *end;
        long c = strtol(columns, &end, 10);
        if (end != columns && *end == '\0' && c > 0 && c <= 10000) return (int)c;
    }
    return 80;
}

void nn__progress_epoch_start(NnProgress *p, FILE *out, bool quiet, int epoch, int epochs, int64_t total_steps) {
    *p = (NnProgress){.out = out, .quiet = quiet, .tty = isatty(fileno(out)), .epoch = epoch, .epochs = epochs,
                      .total_steps = total_steps, .start = tensor_seconds()};
}

/* Writes the line: redrawn over the previous one on a terminal, where it keeps off
 * the last column (a line reaching it makes some terminals wrap at once, and the
 * redraw would land on the next row); a plain line otherwise. */
static void draw(const NnProgress *p, const NnProgressLine *l, bool end) {
    char line[512];
    int width = nn__progress_width(p->out) - (p->tty ? 1 : 0);
    nn__progress_format(line, sizeof line, width, l);
    fprintf(p->out, "%s%s%s%s", p->tty ? "\r" : "", line, p->tty ? "\033[K" : "", end ? "\n" : "");
    fflush(p->out);
}

void nn__progress_update(NnProgress *p, int64_t step, double loss, int64_t samples) {
    if (p->quiet || !p->tty) return;
    double now = tensor_seconds();
    if (step != p->total_steps && now - p->last_draw < 0.1) return;
    p->last_draw = now;
    double elapsed = now - p->start;
    NnProgressLine l = {.epoch = p->epoch, .epochs = p->epochs, .step = step, .total_steps = p->total_steps,
                        .seconds = step > 0 ? elapsed / (double)step * (double)(p->total_steps - step) : NAN,
                        .loss = loss, .accuracy = NAN, .val_loss = NAN, .val_accuracy = NAN,
                        .rate = elapsed > 0 ? (double)samples / elapsed : -1};
    draw(p, &l, false);
}

void nn__progress_epoch_end(NnProgress *p, int64_t steps, double loss, double accuracy, double val_loss,
                            double val_accuracy, int64_t samples) {
    if (p->quiet) return;
    double elapsed = tensor_seconds() - p->start;
    NnProgressLine l = {.epoch = p->epoch, .epochs = p->epochs, .step = steps, .total_steps = p->total_steps,
                        .done = true, .seconds = elapsed, .loss = loss, .accuracy = accuracy,
                        .val_loss = val_loss, .val_accuracy = val_accuracy,
                        .rate = elapsed > 0 ? (double)samples / elapsed : -1};
    draw(p, &l, true);
}
