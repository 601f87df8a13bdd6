/* Scatter maps (see plot.h): equal scale on both axes, and labels placed greedily
 * beside their points so that none overlaps another; a label with no free spot is
 * left out (most maps have more words than room). */
#include "nn/io/plot.h"
#include "nn/io/plot_internal.h"

#include "tensor/error.h"

#include <math.h>
#include <stdlib.h>

/* The largest plot area (canvas 760 wide, at most 480 high) and the smallest one, so a
 * nearly flat data set still gets a readable band around it. */
enum { MAP_W = 760, MAP_MARGIN_L = 78, MAP_MARGIN_R = 24, MAP_MARGIN_T = 44, MAP_MARGIN_B = 58 };
enum { MAP_AREA_W = 658, MAP_AREA_H = 378, MAP_MIN_W = 240, MAP_MIN_H = 160 };

/* Points beyond this many are not checked for being covered by a label (quadratic). */
enum { DOT_CHECK_MAX = 4000 };

static const double LABEL_FONT = 11, DOT_R = 2.5;

/* Widens [*lo, *hi] about its centre to span. */
static void plot__widen(double *lo, double *hi, double span) {
    double mid = (*lo + *hi) / 2;
    *lo = mid - span / 2;
    *hi = mid + span / 2;
}

NnPlotAxes nn__plot_scatter_axes(int64_t n, const float *xy) {
    double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    bool any_x = false, any_y = false;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) continue;
        nn__plot_extend(xy[2 * i], &x0, &x1, &any_x);
        nn__plot_extend(xy[2 * i + 1], &y0, &y1, &any_y);
    }
    nn__plot_pad_range(&x0, &x1, any_x, 0.04);
    nn__plot_pad_range(&y0, &y1, any_y, 0.04);
    /* One scale for both: the tighter axis sets it, the other gets the pixels it needs
     * (at least the minimum, by widening its range rather than stretching it). */
    double scale = fmin(MAP_AREA_W / (x1 - x0), MAP_AREA_H / (y1 - y0));
    double w = (x1 - x0) * scale, h = (y1 - y0) * scale;
    if (w < MAP_MIN_W) plot__widen(&x0, &x1, (w = MAP_MIN_W) / scale);
    if (h < MAP_MIN_H) plot__widen(&y0, &y1, (h = MAP_MIN_H) / scale);
    int decimals;
    double step = nn__plot_nice_step(fmax(x1 - x0, y1 - y0), 8, &decimals);
    double left = MAP_MARGIN_L + (MAP_AREA_W - w) / 2;
    return (NnPlotAxes){.x0 = x0, .x1 = x1, .y0 = y0, .y1 = y1, .left = left, .top = MAP_MARGIN_T,
                        .right = left + w, .bottom = MAP_MARGIN_T + h, .width = MAP_W,
                        .height = ceil(MAP_MARGIN_T + h + MAP_MARGIN_B), .x_step = step, .y_step = step};
}

static bool plot__overlap(NnPlotBox a, NnPlotBox b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/* The k-th spot for a w x h label beside the point (x, y): right, left, above, below,
 * then the four diagonals. */
static NnPlotBox plot__spot(int k, double x, double y, double w, double h) {
    double g = DOT_R + 1.5;
    double lx[] = {x + g, x - g - w, x - w / 2, x - w / 2, x + g - 1, x + g - 1, x - g - w + 1, x - g - w + 1};
    double ty[] = {y - h / 2, y - h / 2, y - g - h, y + g, y - h - 1, y + 1, y - h - 1, y + 1};
    return (NnPlotBox){lx[k], ty[k], lx[k] + w, ty[k] + h};
}

static bool plot__dot_under(NnPlotBox b, double x, double y) {
    return x + DOT_R > b.left && x - DOT_R < b.right && y + DOT_R > b.top && y - DOT_R < b.bottom;
}

/* How many points other than self lie under box b (up to a dot's radius). */
static int64_t plot__dots_under(NnPlotBox b, int64_t n, const double *px, const double *py, int64_t self) {
    int64_t k = 0;
    for (int64_t j = 0; j < n; j++) k += j != self && isfinite(px[j]) && plot__dot_under(b, px[j], py[j]);
    return k;
}

/* The free spot for point i covering the fewest other points, or -1 if none is free:
 * free means overlapping no placed label nor the point of one, so every labelled point
 * stays in sight; a point already under a label gets none (it would read as another's). */
static int plot__best_spot(const NnPlotAxes *a, int64_t i, const double *px, const double *py, int64_t n,
                           double w, double h, const NnPlotBox *boxes, const int64_t *order, int64_t n_placed,
                           NnPlotBox *out) {
    for (int64_t j = 0; j < n_placed; j++)
        if (plot__dot_under(boxes[order[j]], px[i], py[i])) return -1;
    int best = -1;
    int64_t best_dots = 0;
    for (int k = 0; k < 8; k++) {
        NnPlotBox b = plot__spot(k, px[i], py[i], w, h);
        if (b.left < a->left + 1 || b.right > a->right - 1 || b.top < a->top + 1 || b.bottom > a->bottom - 1)
            continue;
        bool free_spot = true;
        for (int64_t j = 0; free_spot && j < n_placed; j++) {
            int64_t o = order[j];
            free_spot = !plot__overlap(b, boxes[o]) && !plot__dot_under(b, px[o], py[o]);
        }
        if (!free_spot) continue;
        int64_t dots = n <= DOT_CHECK_MAX ? plot__dots_under(b, n, px, py, i) : 0;
        if (best < 0 || dots < best_dots) best = k, best_dots = dots, *out = b;
        if (dots == 0) break;
    }
    return best;
}

int64_t nn__plot_place_labels(const NnPlotAxes *a, int64_t n, const double *px, const double *py,
                              const char *const *labels, double font_size, NnPlotBox *boxes, bool *placed) {
    int64_t *order = malloc((size_t)(n > 0 ? n : 1) * sizeof *order); /* the placed ones, in order */
    if (!order) return 0;
    int64_t n_placed = 0;
    double h = 1.15 * font_size;
    for (int64_t i = 0; i < n; i++) {
        placed[i] = false;
        if (!labels || !labels[i] || !*labels[i] || !isfinite(px[i]) || !isfinite(py[i])) continue;
        double w = nn__plot_text_width(labels[i], font_size);
        if (plot__best_spot(a, i, px, py, n, w, h, boxes, order, n_placed, &boxes[i]) < 0) continue;
        placed[i] = true;
        order[n_placed++] = i;
    }
    free(order);
    return n_placed;
}

static void plot__labels(FILE *f, int64_t n, const char *const *labels, const NnPlotBox *boxes, const bool *placed) {
    /* A white halo under each label keeps it legible over the grid and nearby dots. */
    fprintf(f, "<g class=\"labels\" fill=\"#222222\" font-size=\"%.0f\" stroke=\"white\" stroke-width=\"3\" "
               "stroke-linejoin=\"round\" paint-order=\"stroke\">\n",
            LABEL_FONT);
    for (int64_t i = 0; i < n; i++) {
        if (!placed[i]) continue;
        /* The baseline sits a descender above the box's bottom. */
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", boxes[i].left + 1, boxes[i].bottom - 0.25 * LABEL_FONT);
        nn__plot_text(f, labels[i]);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</g>\n");
}

/* The points with (labelled) or without a label; those without are paler, so a label
 * is read as belonging to a dark dot beside it. */
static void plot__points(FILE *f, int64_t n, const double *px, const double *py, const bool *placed, bool labelled) {
    fprintf(f, "<g class=\"%s\" fill=\"%s\">\n", labelled ? "points" : "points unlabelled",
            labelled ? "#1f77b4" : "#a6c8e4");
    for (int64_t i = 0; i < n; i++)
        if (isfinite(px[i]) && placed[i] == labelled)
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\"/>\n", px[i], py[i], DOT_R);
    fprintf(f, "</g>\n");
}

int nn_plot_scatter_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, int64_t n,
                        const float *xy, const char *const *labels) {
    if (n < 0 || (n > 0 && !xy)) return tensor_set_error("plot: %lld points given without coordinates", (long long)n);
    NnPlotAxes a = nn__plot_scatter_axes(n, xy);
    size_t m = (size_t)(n > 0 ? n : 1);
    double *px = calloc(2 * m, sizeof *px);
    NnPlotBox *boxes = malloc(m * sizeof *boxes);
    bool *placed = malloc(m * sizeof *placed);
    if (!px || !boxes || !placed) {
        free(px), free(boxes), free(placed);
        return tensor_set_error("plot: out of memory for %lld points", (long long)n);
    }
    double *py = px + m;
    bool any = false;
    for (int64_t i = 0; i < n; i++) {
        bool ok = isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1]);
        px[i] = ok ? nn__plot_px(&a, xy[2 * i]) : NAN;
        py[i] = ok ? nn__plot_py(&a, xy[2 * i + 1]) : NAN;
        any |= ok;
    }
    nn__plot_place_labels(&a, n, px, py, labels, LABEL_FONT, boxes, placed);
    FILE *f = nn__plot_open(path);
    if (f) {
        nn__plot_frame(f, &a, title, xlabel, ylabel, false);
        if (!any)
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
                    (a.left + a.right) / 2, (a.top + a.bottom) / 2);
        plot__points(f, n, px, py, placed, false);
        plot__points(f, n, px, py, placed, true);
        if (labels) plot__labels(f, n, labels, boxes, placed);
    }
    int rc = f ? nn__plot_finish(f, path) : -1;
    free(px), free(boxes), free(placed);
    return rc;
}
