/* The progress bar (see progress.h): the line laid out for a width, the width of the
 * output, and an epoch's redraws. */
#include "nn/model/progress.h"
#include "tensor/system.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum { BAR_MAX = 30, BAR_MIN = 10, FIELD_LEN = 64, MAX_METRICS = 8 };

/* The fields in display order: epoch, step, bar, time, the metrics, rate. The first
 * three are joined by spaces, the rest by " - ". */
enum { F_EPOCH, F_STEP, F_BAR, F_TIME, F_METRIC, F_RATE = F_METRIC + MAX_METRICS, F_COUNT };

typedef struct Layout {
    char text[F_COUNT][FIELD_LEN];
    bool shown[F_COUNT];
    int drop[F_COUNT], n_drop; /* what goes when the line is too wide, first to last */
    int bar;                   /* the bar's inner width */
} Layout;

/* "12s", "2:03" or "1:02:03"; "1.2s" for a short epoch's time taken. */
static void format_seconds(char *buf, size_t size, double s, bool precise) {
    if (precise && s < 59.95) {
        snprintf(buf, size, "%.1fs", s);
        return;
    }
    long long t = (long long)(s + 0.5);
    if (t < 60) snprintf(buf, size, "%llds", t);
    else if (t < 3600) snprintf(buf, size, "%lld:%02lld", t / 60, t % 60);
    else snprintf(buf, size, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
}

/* Keras's rule: 4 decimals, or scientific for small magnitudes. */
static void format_metric(char *buf, const NnMetric *m) {
    double v = m->value, a = fabs(v);
    snprintf(buf, FIELD_LEN, a > 0 && a < 1e-3 ? "%.24s: %.4e" : "%.24s: %.4f", m->name, v);
}

static void fill_fields(Layout *y, const NnProgbarLine *l) {
    memset(y, 0, sizeof *y);
    snprintf(y->text[F_EPOCH], FIELD_LEN, "Epoch %d/%d", l->epoch, l->epochs);
    y->shown[F_EPOCH] = l->epochs > 0;
    if (l->percent)
        snprintf(y->text[F_STEP], FIELD_LEN, "%d%%",
                 l->total > 0 ? (int)(100.0 * (double)l->step / (double)l->total) : 100);
    else
        snprintf(y->text[F_STEP], FIELD_LEN, "%lld/%lld", (long long)l->step, (long long)l->total);
    y->shown[F_STEP] = y->shown[F_BAR] = true;
    if (isfinite(l->seconds) && l->seconds >= 0 && l->seconds < 1e12) {
        char t[32];
        format_seconds(t, sizeof t, l->seconds, l->done);
        snprintf(y->text[F_TIME], FIELD_LEN, "%s%s", l->done ? "" : "ETA: ", t);
        y->shown[F_TIME] = true;
    }
    int n = l->n_metrics < MAX_METRICS ? l->n_metrics : MAX_METRICS;
    for (int i = 0; i < n; i++) {
        if (isnan(l->metrics[i].value) || !l->metrics[i].name) continue;
        format_metric(y->text[F_METRIC + i], &l->metrics[i]);
        y->shown[F_METRIC + i] = true;
    }
    if (l->unit && l->rate >= 0 && isfinite(l->rate)) {
        snprintf(y->text[F_RATE], FIELD_LEN, "%.0f %.24s/s", l->rate, l->unit);
        y->shown[F_RATE] = true;
    }
}

/* The order fields go in: bar, rate, optional metrics (last first), time, essential
 * metrics but the first shown (last first), epoch. */
static void fill_drops(Layout *y, const NnProgbarLine *l) {
    int n = l->n_metrics < MAX_METRICS ? l->n_metrics : MAX_METRICS, kept = -1;
    for (int i = 0; i < n && kept < 0; i++)
        if (y->shown[F_METRIC + i] && !l->metrics[i].optional) kept = i;
    y->drop[y->n_drop++] = F_BAR;
    y->drop[y->n_drop++] = F_RATE;
    for (int i = n - 1; i >= 0; i--)
        if (l->metrics[i].optional) y->drop[y->n_drop++] = F_METRIC + i;
    y->drop[y->n_drop++] = F_TIME;
    for (int i = n - 1; i >= 0; i--)
        if (!l->metrics[i].optional && i != kept) y->drop[y->n_drop++] = F_METRIC + i;
    y->drop[y->n_drop++] = F_EPOCH;
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
    for (int d = 1; d < y->n_drop && layout_length(y) > (size_t)width; d++) y->shown[y->drop[d]] = false;
}

static void put_bar(char *out, int width, int64_t step, int64_t total) {
    double part = total > 0 ? (double)step / (double)total : 1.0;
    int filled = (int)((double)width * (part < 1 ? part : 1.0));
    out[0] = '[';
    for (int i = 0; i < width; i++)
        out[1 + i] = i < filled - 1 ? '=' : i == filled - 1 ? (part >= 1 ? '=' : '>') : '.';
    out[1 + width] = ']';
    out[2 + width] = '\0';
}

size_t nn_progbar_format(char *buf, size_t size, int width, const NnProgbarLine *l) {
    if (size == 0) return 0;
    buf[0] = '\0';
    if (width <= 0) return 0;
    Layout y;
    fill_fields(&y, l);
    fill_drops(&y, l);
    fit_layout(&y, width);
    char bar[BAR_MAX + 3];
    if (y.shown[F_BAR]) put_bar(bar, y.bar, l->step, l->total);
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

int nn_progbar_width(FILE *out) {
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

void nn_progbar_start(NnProgbar *p, const NnProgbarOpts *o) {
    *p = (NnProgbar){.o = *o};
    if (!p->o.out) p->o.out = stderr;
    if (!p->o.clock) p->o.clock = tensor_seconds;
    int fd = fileno(p->o.out);
    p->tty = fd >= 0 && isatty(fd);
    if (p->o.start == 0) p->o.start = p->o.clock();
    p->step = p->o.first_step;
    p->last_update = p->last_draw = p->o.start;
}

/* Writes the line: redrawn over the previous one on a terminal, where it keeps off
 * the last column (a line reaching it makes some terminals wrap at once, and the
 * redraw would land on the next row); a plain line otherwise. */
static void draw(NnProgbar *p, const NnProgbarLine *l, bool end) {
    if (!p->o.out) return; /* never started */
    char line[512];
    int width = nn_progbar_width(p->o.out) - (p->tty ? 1 : 0);
    nn_progbar_format(line, sizeof line, width, l);
    fprintf(p->o.out, "%s%s%s%s", p->tty ? "\r" : "", line, p->tty ? "\033[K" : "", end || !p->tty ? "\n" : "");
    fflush(p->o.out);
    p->open = p->tty && !end;
}

static NnProgbarLine line_of(const NnProgbar *p, double seconds, bool done, int n, const NnMetric *metrics) {
    double elapsed = p->last_update - p->o.start;
    return (NnProgbarLine){.epoch = p->o.epoch, .epochs = p->o.epochs, .step = p->step, .total = p->o.total,
                           .percent = p->o.percent, .done = done, .seconds = seconds, .n_metrics = n,
                           .metrics = metrics, .rate = elapsed > 0 ? (double)p->units / elapsed : NAN,
                           .unit = p->o.unit};
}

void nn_progbar_update(NnProgbar *p, int64_t step, int64_t units, int n, const NnMetric *metrics) {
    if (!p->o.clock) return; /* never started */
    double now = p->o.clock();
    p->step = step;
    p->units = units;
    p->last_update = now;
    /* Ten redraws a second on a terminal (and the last step, which an evaluation may
     * follow); a plain line every ten seconds in a log. */
    bool last = p->tty && step >= p->o.total;
    if (p->o.quiet || (!last && now - p->last_draw < (p->tty ? 0.1 : 10.0))) return;
    p->last_draw = now;
    int64_t done = step - p->o.first_step;
    double eta = done > 0 ? (now - p->o.start) / (double)done * (double)(p->o.total - step) : NAN;
    NnProgbarLine l = line_of(p, eta, false, n, metrics);
    draw(p, &l, false);
}

void nn_progbar_finish(NnProgbar *p, int n, const NnMetric *metrics) {
    if (p->o.quiet || !p->o.clock) return;
    NnProgbarLine l = line_of(p, p->o.clock() - p->o.start, true, n, metrics);
    draw(p, &l, true);
}

void nn_progbar_break(NnProgbar *p) {
    if (!p->open) return;
    fputc('\n', p->o.out);
    fflush(p->o.out);
    p->open = false;
}
