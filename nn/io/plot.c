/* Standalone SVG plots (see plot.h): loss curves against 1, 2, ... (a fit's history
 * among them) and labelled 2-D scatter maps. Axes get "nice" ticks (1, 2 or 5 times a power of ten); text is
 * XML-escaped (and made valid UTF-8), so any label or title yields a well-formed file.
 * Non-finite points are left out; empty and constant data still give a sensible plot. */
#include "nn/io/plot.h"

#include "tensor/error.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Canvas and plot-area geometry, in SVG user units (pixels). */
enum { PLOT_W = 760, PLOT_H = 480, MARGIN_L = 78, MARGIN_R = 24, MARGIN_T = 44, MARGIN_B = 58 };

static const char *const plot__colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* Writes s as XML character data: & < > " ' escaped, control characters that XML 1.0
 * forbids dropped, and every byte that is not part of valid UTF-8 written as U+FFFD. */
static void plot__text(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char c = *p;
        if (c < 0x80) {
            switch (c) {
            case '&': fputs("&amp;", f); break;
            case '<': fputs("&lt;", f); break;
            case '>': fputs("&gt;", f); break;
            case '"': fputs("&quot;", f); break;
            case '\'': fputs("&apos;", f); break;
            default:
                if (c >= 0x20 || c == '\t') fputc(c, f);
                else if (c == '\n' || c == '\r') fputc(' ', f);
            }
            p++;
            continue;
        }
        /* A multi-byte sequence: check lead byte, continuation bytes, overlongs,
         * surrogates and the U+10FFFF limit before copying it through. */
        int n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? (c <= 0xEF ? 3 : 0) : c >= 0xC2 ? 2 : 0;
        bool ok = n > 0;
        for (int k = 1; ok && k < n; k++) ok = (p[k] & 0xC0) == 0x80;
        if (ok && n == 3) ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0);
        if (ok && n == 4) ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] >= 0x90);
        if (ok) {
            fwrite(p, 1, (size_t)n, f);
            p += n;
        } else {
            fputs("\xEF\xBF\xBD", f);
            p++;
        }
    }
}

/* A tick step of 1, 2 or 5 times a power of ten giving about `target` intervals over
 * span (> 0); *decimals is how many decimals its multiples need. */
static double plot__nice_step(double span, int target, int *decimals) {
    double raw = span / target;
    double e = floor(log10(raw));
    double base = pow(10.0, e), m = raw / base;
    double step = (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * base;
    int d = -(int)floor(log10(step) + 1e-9);
    *decimals = d > 0 ? d : 0;
    return step;
}

/* The range of the finite values among v[0..n), or false if there are none. */
static void plot__extend(double v, double *lo, double *hi, bool *any) {
    if (!isfinite(v)) return;
    if (!*any || v < *lo) *lo = v;
    if (!*any || v > *hi) *hi = v;
    *any = true;
}

/* Turns a data range into a drawable one: empty -> [0, 1], a single value -> a band
 * around it, and anything else padded by a little so points do not sit on the frame. */
static void plot__pad_range(double *lo, double *hi, bool any, double pad_fraction) {
    if (!any) {
        *lo = 0;
        *hi = 1;
        return;
    }
    if (*hi - *lo <= 1e-12 * fmax(1.0, fabs(*lo))) {
        double w = fabs(*lo) > 0 ? 0.1 * fabs(*lo) : 1.0;
        *lo -= w;
        *hi += w;
        return;
    }
    double pad = (*hi - *lo) * pad_fraction;
    *lo -= pad;
    *hi += pad;
}

typedef struct Axes {
    double x0, x1, y0, y1; /* data range mapped onto the plot area */
} Axes;

static double plot__px(const Axes *a, double x) {
    return MARGIN_L + (x - a->x0) / (a->x1 - a->x0) * (PLOT_W - MARGIN_L - MARGIN_R);
}
static double plot__py(const Axes *a, double y) {
    return PLOT_H - MARGIN_B - (y - a->y0) / (a->y1 - a->y0) * (PLOT_H - MARGIN_T - MARGIN_B);
}

/* The multiples of step within [lo, hi] (at most max of them), computed from an
 * integer counter so a step too small to change a huge value cannot loop forever. */
static int plot__ticks(double lo, double hi, double step, double *ticks, int max) {
    if (!(step > 0) || !isfinite(step) || !isfinite(lo) || !isfinite(hi)) return 0;
    double k0 = ceil(lo / step - 1e-9);
    int n = 0;
    for (int i = 0; i < max; i++) {
        double t = (k0 + i) * step;
        if (t > hi + step * 1e-9) break;
        ticks[n++] = t;
    }
    return n;
}

static void plot__tick_label(char *buf, size_t len, double v, int decimals) {
    if (fabs(v) < 1e-300) v = 0; /* no "-0" */
    if (decimals > 6 || fabs(v) >= 1e7)
        snprintf(buf, len, "%.3g", v);
    else
        snprintf(buf, len, "%.*f", decimals, v);
}

/* Header, frame, grid, ticks with labels, title and axis labels. With integer_x the x
 * ticks are whole numbers (epochs, steps). */
static void plot__frame(FILE *f, const Axes *a, const char *title, const char *xlabel, const char *ylabel,
                        bool integer_x) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n",
            PLOT_W, PLOT_H, PLOT_W, PLOT_H);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", PLOT_W, PLOT_H);
    double left = MARGIN_L, right = PLOT_W - MARGIN_R, top = MARGIN_T, bottom = PLOT_H - MARGIN_B;
    char label[64];
    int dx, dy;
    double sx = plot__nice_step(a->x1 - a->x0, 8, &dx), sy = plot__nice_step(a->y1 - a->y0, 6, &dy);
    if (integer_x && sx < 1) sx = 1, dx = 0;
    double tx[64], ty[64];
    int nx = plot__ticks(a->x0, a->x1, sx, tx, 64), ny = plot__ticks(a->y0, a->y1, sy, ty, 64);
    fprintf(f, "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n");
    for (int i = 0; i < nx; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", plot__px(a, tx[i]), top,
                plot__px(a, tx[i]), bottom);
    for (int i = 0; i < ny; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", left, plot__py(a, ty[i]), right,
                plot__py(a, ty[i]));
    fprintf(f, "</g>\n");
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#333333\"/>\n", left,
            top, right - left, bottom - top);
    fprintf(f, "<g fill=\"#333333\" text-anchor=\"middle\">\n");
    for (int i = 0; i < nx; i++) {
        plot__tick_label(label, sizeof label, tx[i], dx);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333333\"/>", plot__px(a, tx[i]),
                bottom, plot__px(a, tx[i]), bottom + 5);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", plot__px(a, tx[i]), bottom + 19, label);
    }
    fprintf(f, "</g>\n<g fill=\"#333333\" text-anchor=\"end\">\n");
    for (int i = 0; i < ny; i++) {
        plot__tick_label(label, sizeof label, ty[i], dy);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333333\"/>", left - 5,
                plot__py(a, ty[i]), left, plot__py(a, ty[i]));
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", left - 8, plot__py(a, ty[i]) + 4, label);
    }
    fprintf(f, "</g>\n");
    fprintf(f, "<text x=\"%.2f\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">",
            (left + right) / 2);
    plot__text(f, title);
    fprintf(f, "</text>\n");
    if (xlabel && *xlabel) {
        fprintf(f, "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">", (left + right) / 2, PLOT_H - 14);
        plot__text(f, xlabel);
        fprintf(f, "</text>\n");
    }
    if (ylabel && *ylabel) {
        fprintf(f, "<text x=\"18\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.2f)\">",
                (top + bottom) / 2, (top + bottom) / 2);
        plot__text(f, ylabel);
        fprintf(f, "</text>\n");
    }
}

/* Closes the document and the file; -1 with the error set if anything failed. */
static int plot__finish(FILE *f, const char *path) {
    fputs("</svg>\n", f);
    bool failed = ferror(f) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !failed) failed = true, saved = errno;
    if (failed) return tensor_set_error("plot: cannot write %s: %s", path, strerror(saved ? saved : EIO));
    return 0;
}

static FILE *plot__open(const char *path) {
    if (!path || !*path) {
        tensor_set_error("plot: no output path given");
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f) tensor_set_error("plot: cannot write %s: %s", path, strerror(errno));
    return f;
}

int nn_plot_curves_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, int n_series,
                       const char *const *names, const double *const *ys, const int64_t *lens) {
    if (n_series < 0 || (n_series > 0 && (!ys || !lens)))
        return tensor_set_error("plot: %d series given without their values and lengths", n_series);
    for (int s = 0; s < n_series; s++)
        if (lens[s] < 0 || (lens[s] > 0 && !ys[s]))
            return tensor_set_error("plot: series %d has length %lld but no values", s, (long long)lens[s]);
    int64_t n_max = 0;
    double lo = 0, hi = 0;
    bool any = false;
    for (int s = 0; s < n_series; s++) {
        if (lens[s] > n_max) n_max = lens[s];
        for (int64_t i = 0; i < lens[s]; i++) plot__extend(ys[s][i], &lo, &hi, &any);
    }
    FILE *f = plot__open(path);
    if (!f) return -1;
    Axes a = {.x0 = 1, .x1 = (double)(n_max > 1 ? n_max : 1)};
    if (n_max <= 1) a.x0 = 0, a.x1 = 2; /* one point (or none): centre it */
    plot__pad_range(&lo, &hi, any, 0.05);
    a.y0 = lo;
    a.y1 = hi;
    plot__frame(f, &a, title, xlabel, ylabel, true);
    if (!any)
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
                plot__px(&a, (a.x0 + a.x1) / 2), plot__py(&a, (a.y0 + a.y1) / 2));
    for (int s = 0; s < n_series; s++) {
        const char *color = plot__colors[s % (int)(sizeof plot__colors / sizeof *plot__colors)];
        int64_t finite = 0;
        for (int64_t i = 0; i < lens[s]; i++) finite += isfinite(ys[s][i]) != 0;
        /* Skipped points are left out of the line, which joins the points around them
         * (so a sparsely measured series is still one curve). */
        if (finite >= 2) {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"",
                    color);
            int64_t written = 0;
            for (int64_t i = 0; i < lens[s]; i++) {
                if (!isfinite(ys[s][i])) continue;
                fprintf(f, "%s%.2f,%.2f", written++ % 8 ? " " : "\n", plot__px(&a, (double)(i + 1)), plot__py(&a, ys[s][i]));
            }
            fprintf(f, "\"/>\n");
        }
        if (finite > 0 && finite <= 60) { /* markers while they do not clutter the line */
            fprintf(f, "<g fill=\"%s\">\n", color);
            for (int64_t i = 0; i < lens[s]; i++)
                if (isfinite(ys[s][i]))
                    fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\"/>\n", plot__px(&a, (double)(i + 1)),
                            plot__py(&a, ys[s][i]));
            fprintf(f, "</g>\n");
        }
    }
    if (n_series > 0) { /* legend, top right inside the plot area */
        double x = PLOT_W - MARGIN_R - 170, y = MARGIN_T + 10;
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"160\" height=\"%d\" fill=\"white\" fill-opacity=\"0.85\" "
                   "stroke=\"#999999\"/>\n",
                x, y, 8 + 18 * n_series);
        for (int s = 0; s < n_series; s++) {
            const char *color = plot__colors[s % (int)(sizeof plot__colors / sizeof *plot__colors)];
            double ly = y + 16 + 18 * s;
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2.5\"/>", x + 8,
                    ly - 4, x + 30, ly - 4, color);
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", x + 36, ly);
            if (names && names[s])
                plot__text(f, names[s]);
            else
                fprintf(f, "series %d", s + 1);
            fprintf(f, "</text>\n");
        }
    }
    return plot__finish(f, path);
}

int nn_plot_scatter_svg(const char *path, const char *title, int64_t n, const float *xy, const char *const *labels) {
    if (n < 0 || (n > 0 && !xy)) return tensor_set_error("plot: %lld points given without coordinates", (long long)n);
    double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    bool any_x = false, any_y = false;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) continue;
        plot__extend(xy[2 * i], &x0, &x1, &any_x);
        plot__extend(xy[2 * i + 1], &y0, &y1, &any_y);
    }
    FILE *f = plot__open(path);
    if (!f) return -1;
    plot__pad_range(&x0, &x1, any_x, 0.08); /* room for the labels right of the points */
    plot__pad_range(&y0, &y1, any_y, 0.06);
    Axes a = {x0, x1, y0, y1};
    plot__frame(f, &a, title, NULL, NULL, false);
    if (!any_x)
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
                plot__px(&a, 0.5), plot__py(&a, 0.5));
    fprintf(f, "<g fill=\"#1f77b4\">\n");
    for (int64_t i = 0; i < n; i++)
        if (isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1]))
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\"/>\n", plot__px(&a, xy[2 * i]), plot__py(&a, xy[2 * i + 1]));
    fprintf(f, "</g>\n");
    if (labels) {
        fprintf(f, "<g fill=\"#222222\" font-size=\"10\">\n");
        for (int64_t i = 0; i < n; i++) {
            if (!labels[i] || !isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) continue;
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", plot__px(&a, xy[2 * i]) + 4, plot__py(&a, xy[2 * i + 1]) - 3);
            plot__text(f, labels[i]);
            fprintf(f, "</text>\n");
        }
        fprintf(f, "</g>\n");
    }
    return plot__finish(f, path);
}

int nn_plot_history_svg(const char *path, const char *title, const NnHistory *history) {
    if (!history || history->epochs <= 0 || !history->loss)
        return tensor_set_error("plot: %s: the history holds no epoch to plot", path ? path : "(null)");
    bool validated = false;
    for (int e = 0; e < history->epochs && history->val_loss; e++) validated |= !isnan(history->val_loss[e]);
    const char *names[] = {"loss", "val_loss"};
    const double *ys[] = {history->loss, history->val_loss};
    const int64_t lens[] = {history->epochs, history->epochs};
    return nn_plot_curves_svg(path, title ? title : "training", "epoch", "loss", validated ? 2 : 1, names, ys,
                              lens);
}
