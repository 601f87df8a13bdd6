/* What every SVG plot draws the same way (see plot_internal.h): escaped text, the frame
 * with its grid, "nice" ticks (1, 2 or 5 times a power of ten) and labels, the title and
 * the axis labels, and the file's opening and closing. */
#include "nn/io/plot_internal.h"

#include "tensor/error.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Writes s as XML character data: & < > " ' escaped, control characters that XML 1.0
 * forbids dropped, and every byte that is not part of valid UTF-8 written as U+FFFD. */
void nn__plot_text(FILE *f, const char *s) {
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

double nn__plot_text_width(const char *s, double font_size) {
    int64_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        chars += (*p & 0xC0) != 0x80; /* count code points, not bytes */
    return (double)chars * 0.6 * font_size + 2.0;
}

double nn__plot_nice_step(double span, int target, int *decimals) {
    double raw = span / target;
    double e = floor(log10(raw));
    double base = pow(10.0, e), m = raw / base;
    double step = (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * base;
    int d = -(int)floor(log10(step) + 1e-9);
    *decimals = d > 0 ? d : 0;
    return step;
}

void nn__plot_extend(double v, double *lo, double *hi, bool *any) {
    if (!isfinite(v)) return;
    if (!*any || v < *lo) *lo = v;
    if (!*any || v > *hi) *hi = v;
    *any = true;
}

void nn__plot_pad_range(double *lo, double *hi, bool any, double pad_fraction) {
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

double nn__plot_px(const NnPlotAxes *a, double x) {
    return a->left + (x - a->x0) / (a->x1 - a->x0) * (a->right - a->left);
}
double nn__plot_py(const NnPlotAxes *a, double y) {
    return a->bottom - (y - a->y0) / (a->y1 - a->y0) * (a->bottom - a->top);
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

/* The step a->x_step (or y_step) asks for, else a nice one for span; its decimals. */
static double plot__step(double asked, double span, int target, int *decimals) {
    if (!(asked > 0)) return nn__plot_nice_step(span, target, decimals);
    int d = -(int)floor(log10(asked) + 1e-9);
    *decimals = d > 0 ? d : 0;
    return asked;
}

static void plot__grid_and_ticks(FILE *f, const NnPlotAxes *a, bool integer_x) {
    char label[64];
    int dx, dy;
    double sx = plot__step(a->x_step, a->x1 - a->x0, 8, &dx), sy = plot__step(a->y_step, a->y1 - a->y0, 6, &dy);
    if (integer_x && sx < 1) sx = 1, dx = 0;
    if (a->log_y) sy = fmax(1.0, round(sy)), dy = 0; /* whole powers of ten only */
    double tx[64], ty[64];
    int nx = plot__ticks(a->x0, a->x1, sx, tx, 64), ny = plot__ticks(a->y0, a->y1, sy, ty, 64);
    fprintf(f, "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n");
    for (int i = 0; i < nx; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", nn__plot_px(a, tx[i]), a->top,
                nn__plot_px(a, tx[i]), a->bottom);
    for (int i = 0; i < ny; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", a->left, nn__plot_py(a, ty[i]),
                a->right, nn__plot_py(a, ty[i]));
    fprintf(f, "</g>\n");
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#333333\"/>\n",
            a->left, a->top, a->right - a->left, a->bottom - a->top);
    fprintf(f, "<g fill=\"#333333\" text-anchor=\"middle\">\n");
    for (int i = 0; i < nx; i++) {
        plot__tick_label(label, sizeof label, tx[i], dx);
        double x = nn__plot_px(a, tx[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333333\"/>", x, a->bottom, x,
                a->bottom + 5);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", x, a->bottom + 19, label);
    }
    fprintf(f, "</g>\n<g fill=\"#333333\" text-anchor=\"end\">\n");
    for (int i = 0; i < ny; i++) {
        if (a->log_y) snprintf(label, sizeof label, "1e%d", (int)round(ty[i]));
        else plot__tick_label(label, sizeof label, ty[i], dy);
        double y = nn__plot_py(a, ty[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#333333\"/>", a->left - 5, y,
                a->left, y);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", a->left - 8, y + 4, label);
    }
    fprintf(f, "</g>\n");
}

void nn__plot_frame(FILE *f, const NnPlotAxes *a, const char *title, const char *xlabel, const char *ylabel,
                    bool integer_x) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n",
            a->width, a->height, a->width, a->height);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", a->width, a->height);
    plot__grid_and_ticks(f, a, integer_x);
    double mid_x = (a->left + a->right) / 2, mid_y = (a->top + a->bottom) / 2;
    fprintf(f, "<text class=\"title\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"16\" "
               "font-weight=\"bold\">",
            mid_x, a->top - 18); /* over the plot area, legend or not */
    nn__plot_text(f, title);
    fprintf(f, "</text>\n");
    if (xlabel && *xlabel) {
        fprintf(f, "<text class=\"xlabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", mid_x, a->bottom + 42);
        nn__plot_text(f, xlabel);
        fprintf(f, "</text>\n");
    }
    if (ylabel && *ylabel) {
        double x = a->left - 60;
        fprintf(f, "<text class=\"ylabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 %.2f %.2f)\">",
                x, mid_y, x, mid_y);
        nn__plot_text(f, ylabel);
        fprintf(f, "</text>\n");
    }
}

int nn__plot_finish(FILE *f, const char *path) {
    fputs("</svg>\n", f);
    bool failed = ferror(f) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !failed) failed = true, saved = errno;
    if (failed) return tensor_set_error("plot: cannot write %s: %s", path, strerror(saved ? saved : EIO));
    return 0;
}

FILE *nn__plot_open(const char *path) {
    if (!path || !*path) {
        tensor_set_error("plot: no output path given");
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f) tensor_set_error("plot: cannot write %s: %s", path, strerror(errno));
    return f;
}
