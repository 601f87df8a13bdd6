/* Loss curves (see plot.h): each series a line through its finite points, markers while
 * a series has few points (so a one-epoch run's single point is a dot, not an invisible
 * zero-length line), and a legend in a corner the curves leave free, or beside the plot
 * area when they leave none. */
#include "nn/io/plot.h"
#include "nn/io/plot_internal.h"

#include "tensor/error.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The canvas and the curves' plot area, in SVG user units (pixels). */
enum { PLOT_W = 760, PLOT_H = 480, MARGIN_L = 78, MARGIN_R = 24, MARGIN_T = 44, MARGIN_B = 58 };

/* Series with at most this many points get a marker on each. */
enum { MARKER_MAX = 40 };

static const char *const plot__colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

static const char *plot__color(int s) {
    return plot__colors[s % (int)(sizeof plot__colors / sizeof *plot__colors)];
}

static double plot__x(const NnPlotSeries *s, int64_t i) { return s->x ? s->x[i] : (double)(i + 1); }
static bool plot__ok(const NnPlotSeries *s, int64_t i) { return isfinite(s->y[i]) && isfinite(plot__x(s, i)); }

static int64_t plot__points(const NnPlotSeries *s) {
    int64_t k = 0;
    for (int64_t i = 0; i < s->n; i++) k += plot__ok(s, i);
    return k;
}

/* The axes for all finite points: y padded, x padded a little (markers clear the frame);
 * *integer_x says every x is a whole number. */
static NnPlotAxes plot__curve_axes(int n_series, const NnPlotSeries *series, bool *any, bool *integer_x) {
    double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    bool any_x = false;
    *any = false;
    *integer_x = true;
    for (int s = 0; s < n_series; s++)
        for (int64_t i = 0; i < series[s].n; i++) {
            if (!plot__ok(&series[s], i)) continue;
            double x = plot__x(&series[s], i);
            nn__plot_extend(x, &x0, &x1, &any_x);
            nn__plot_extend(series[s].y[i], &y0, &y1, any);
            *integer_x &= x == floor(x);
        }
    if (any_x && x1 - x0 < 1e-12 * fmax(1.0, fabs(x0)) && *integer_x) /* one epoch: centred, one tick */
        x0 -= 0.5, x1 += 0.5;
    else nn__plot_pad_range(&x0, &x1, any_x, 0.02);
    nn__plot_pad_range(&y0, &y1, *any, 0.05);
    return (NnPlotAxes){.x0 = x0, .x1 = x1, .y0 = y0, .y1 = y1, .left = MARGIN_L, .top = MARGIN_T,
                        .right = PLOT_W - MARGIN_R, .bottom = PLOT_H - MARGIN_B, .width = PLOT_W, .height = PLOT_H};
}

static void plot__series(FILE *f, const NnPlotAxes *a, const NnPlotSeries *s, const char *color) {
    int64_t points = plot__points(s);
    if (points >= 2) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"",
                color);
        int64_t written = 0;
        for (int64_t i = 0; i < s->n; i++)
            if (plot__ok(s, i))
                fprintf(f, "%s%.2f,%.2f", written++ % 8 ? " " : "\n", nn__plot_px(a, plot__x(s, i)),
                        nn__plot_py(a, s->y[i]));
        fprintf(f, "\"/>\n");
    }
    if (points == 0 || points > MARKER_MAX) return;
    double r = points <= 3 ? 4.5 : 3.5; /* a lone point is the whole curve: make it plain */
    fprintf(f, "<g class=\"markers\" fill=\"%s\" stroke=\"white\" stroke-width=\"0.8\">\n", color);
    for (int64_t i = 0; i < s->n; i++)
        if (plot__ok(s, i))
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\"/>\n", nn__plot_px(a, plot__x(s, i)),
                    nn__plot_py(a, s->y[i]), r);
    fprintf(f, "</g>\n");
}

/* Whether the segment (x0, y0)-(x1, y1) meets box b (Liang-Barsky clipping): a line
 * can cross a corner between two distant points, so points alone do not tell. */
static bool plot__segment_meets(double x0, double y0, double x1, double y1, NnPlotBox b) {
    double t0 = 0, t1 = 1, dx = x1 - x0, dy = y1 - y0;
    const double p[] = {-dx, dx, -dy, dy}, q[] = {x0 - b.left, b.right - x0, y0 - b.top, b.bottom - y0};
    for (int k = 0; k < 4; k++) {
        if (p[k] == 0) {
            if (q[k] < 0) return false; /* parallel to this edge and outside it */
            continue;
        }
        double t = q[k] / p[k];
        if (p[k] < 0) t0 = fmax(t0, t);
        else t1 = fmin(t1, t);
        if (t0 > t1) return false;
    }
    return true;
}

/* How many points and segments of the curves meet box b. */
static int64_t plot__covered(const NnPlotAxes *a, int n_series, const NnPlotSeries *series, NnPlotBox b) {
    int64_t hits = 0;
    for (int s = 0; s < n_series; s++) {
        double px = 0, py = 0;
        bool have = false;
        for (int64_t i = 0; i < series[s].n; i++) {
            if (!plot__ok(&series[s], i)) continue;
            double x = nn__plot_px(a, plot__x(&series[s], i)), y = nn__plot_py(a, series[s].y[i]);
            hits += x >= b.left && x <= b.right && y >= b.top && y <= b.bottom;
            hits += have && plot__segment_meets(px, py, x, y, b);
            px = x, py = y, have = true;
        }
    }
    return hits;
}

static const char *plot__name(const NnPlotSeries *s, int i, char *buf, size_t len) {
    if (s->name) return s->name;
    snprintf(buf, len, "series %d", i + 1);
    return buf;
}

/* Where the legend goes and its size. */
typedef struct Legend {
    double x, y, w, h;
} Legend;

/* The legend's box: the corner of the plot area whose box meets the fewest points and
 * segments, or, when every corner would hide part of a curve, outside the plot area on
 * its right, the canvas widened to hold it (a->width grows). */
static Legend plot__place_legend(NnPlotAxes *a, int n_series, const NnPlotSeries *series) {
    char buf[32];
    double w = 0;
    int rows = 0;
    for (int s = 0; s < n_series; s++)
        if (plot__points(&series[s]) > 0) {
            w = fmax(w, nn__plot_text_width(plot__name(&series[s], s, buf, sizeof buf), 12));
            rows++;
        }
    w += 46;
    double h = 8 + 18 * rows, inset = 10;
    double xs[] = {a->right - inset - w, a->left + inset, a->left + inset, a->right - inset - w};
    double ys[] = {a->top + inset, a->bottom - inset - h, a->top + inset, a->bottom - inset - h};
    int best = 0;
    int64_t best_hits = -1;
    for (int c = 0; c < 4; c++) { /* top right, bottom left, top left, bottom right */
        NnPlotBox b = {xs[c] - 4, ys[c] - 4, xs[c] + w + 4, ys[c] + h + 4};
        int64_t hits = plot__covered(a, n_series, series, b);
        if (best_hits < 0 || hits < best_hits) best = c, best_hits = hits;
    }
    if (best_hits == 0) return (Legend){xs[best], ys[best], w, h};
    Legend outside = {a->right + 16, a->top, w, h};
    a->width = fmax(a->width, outside.x + w + 12);
    return outside;
}

static void plot__legend(FILE *f, Legend l, int n_series, const NnPlotSeries *series) {
    char buf[32];
    fprintf(f, "<g class=\"legend\">\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"white\" "
               "fill-opacity=\"0.9\" stroke=\"#999999\"/>\n",
            l.x, l.y, l.w, l.h);
    for (int s = 0, row = 0; s < n_series; s++) {
        if (plot__points(&series[s]) == 0) continue;
        double ly = l.y + 16 + 18 * row++;
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2.5\"/>",
                l.x + 8, ly - 4, l.x + 34, ly - 4, plot__color(s));
        int64_t points = plot__points(&series[s]);
        if (points <= MARKER_MAX) /* the key shows a marker where the curve has them */
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\"/>", l.x + 21, ly - 4,
                    plot__color(s));
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", l.x + 40, ly);
        nn__plot_text(f, plot__name(&series[s], s, buf, sizeof buf));
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</g>\n");
}

int nn__plot_curves(const char *path, const char *title, const char *xlabel, const char *ylabel, int n_series,
                    const NnPlotSeries *series, bool log_y) {
    if (n_series < 0 || (n_series > 0 && !series))
        return tensor_set_error("plot: %d series given without their values", n_series);
    for (int s = 0; s < n_series; s++)
        if (series[s].n < 0 || (series[s].n > 0 && !series[s].y))
            return tensor_set_error("plot: series %d has length %lld but no values", s, (long long)series[s].n);
    bool any, integer_x;
    NnPlotAxes a = plot__curve_axes(n_series, series, &any, &integer_x);
    a.log_y = log_y;
    int drawn = 0;
    for (int s = 0; s < n_series; s++) drawn += plot__points(&series[s]) > 0;
    Legend legend = drawn > 1 ? plot__place_legend(&a, n_series, series) : (Legend){0};
    FILE *f = nn__plot_open(path);
    if (!f) return -1;
    nn__plot_frame(f, &a, title, xlabel, ylabel, integer_x);
    if (!any)
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
                (a.left + a.right) / 2, (a.top + a.bottom) / 2);
    for (int s = 0; s < n_series; s++) plot__series(f, &a, &series[s], plot__color(s));
    if (drawn > 1) plot__legend(f, legend, n_series, series);
    return nn__plot_finish(f, path);
}

int nn_plot_series_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, int n_series,
                       const NnPlotSeries *series) {
    return nn__plot_curves(path, title, xlabel, ylabel, n_series, series, false);
}

int nn_plot_curves_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, int n_series,
                       const char *const *names, const double *const *ys, const int64_t *lens) {
    if (n_series < 0 || (n_series > 0 && (!ys || !lens)))
        return tensor_set_error("plot: %d series given without their values and lengths", n_series);
    NnPlotSeries *series = malloc((size_t)(n_series ? n_series : 1) * sizeof *series);
    if (!series) return tensor_set_error("plot: out of memory for %d series", n_series);
    for (int s = 0; s < n_series; s++)
        series[s] = (NnPlotSeries){.name = names ? names[s] : NULL, .y = ys[s], .n = lens[s]};
    int rc = nn_plot_series_svg(path, title, xlabel, ylabel, n_series, series);
    free(series);
    return rc;
}

int nn_plot_history_svg(const char *path, const char *title, const NnHistory *history) {
    if (!history || history->epochs <= 0 || !history->loss)
        return tensor_set_error("plot: %s: the history holds no epoch to plot", path ? path : "(null)");
    bool validated = false;
    for (int e = 0; e < history->epochs && history->val_loss; e++) validated |= !isnan(history->val_loss[e]);
    NnPlotSeries series[] = {{.name = "loss", .y = history->loss, .n = history->epochs},
                             {.name = "val_loss", .y = history->val_loss, .n = history->epochs}};
    return nn_plot_series_svg(path, title ? title : "training", "epoch", "loss (nats for cross-entropy)",
                              validated ? 2 : 1, series);
}
