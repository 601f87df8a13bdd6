/* What the SVG plots share (plot.c: curves; plot_scatter.c: maps): the frame with its
 * ticks and labels, text escaping and width estimates, and the scatter map's layout and
 * label placement, exposed so the tests can check them without parsing pixels. */
#ifndef NN_PLOT_INTERNAL_H
#define NN_PLOT_INTERNAL_H

#include "nn/io/plot.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A data range mapped onto a pixel box of a canvas (SVG user units, y down). */
typedef struct NnPlotAxes {
    double x0, x1, y0, y1;             /* data range */
    double left, top, right, bottom;   /* the plot area in pixels */
    double width, height;              /* the canvas */
    double x_step, y_step;             /* tick spacing in data units; 0: choose */
    bool log_y;                        /* y is log10 of the data: ticks at powers of ten, "1e-6" */
} NnPlotAxes;

/* A label's box in pixels (y down: top < bottom). */
typedef struct NnPlotBox {
    double left, top, right, bottom;
} NnPlotBox;

double nn__plot_px(const NnPlotAxes *a, double x);
double nn__plot_py(const NnPlotAxes *a, double y);

/* Writes s as XML character data (escaped, valid UTF-8, no forbidden controls). */
void nn__plot_text(FILE *f, const char *s);

/* The width in pixels text of font_size takes in a sans-serif font, estimated from
 * its character count (an average glyph is about 0.6 em; a little generous). */
double nn__plot_text_width(const char *s, double font_size);

/* Turns a data range into a drawable one: empty -> [0, 1], a single value -> a band
 * around it, anything else padded by pad_fraction of its span on each side. */
void nn__plot_pad_range(double *lo, double *hi, bool any, double pad_fraction);
void nn__plot_extend(double v, double *lo, double *hi, bool *any);

/* A tick step of 1, 2 or 5 times a power of ten giving about target intervals over
 * span (> 0); *decimals is how many decimals its multiples need. */
double nn__plot_nice_step(double span, int target, int *decimals);

/* Opens path for writing (error set and NULL on failure); finish closes the document
 * and the file, returning 0 or -1 with the error naming path. */
FILE *nn__plot_open(const char *path);
int nn__plot_finish(FILE *f, const char *path);

/* The header, the frame, grid and ticks, the title and the axis labels. With
 * integer_x the x ticks are whole numbers (epochs, steps). */
void nn__plot_frame(FILE *f, const NnPlotAxes *a, const char *title, const char *xlabel, const char *ylabel,
                    bool integer_x);

/* nn_plot_series_svg's drawing; with log_y the series' y values are already log10 of
 * the data and the y ticks are labelled as the powers of ten they stand for. */
int nn__plot_curves(const char *path, const char *title, const char *xlabel, const char *ylabel, int n_series,
                    const NnPlotSeries *series, bool log_y);

/* The scatter map's axes for the finite points of xy[0..2n): the same pixels per data
 * unit on x and y, the plot area's aspect following the data's (within the canvas),
 * and one tick step for both axes. */
NnPlotAxes nn__plot_scatter_axes(int64_t n, const float *xy);

/* Greedy label placement: point i (pixel px[i], py[i]) gets its label beside it, right,
 * left, above, below or on a diagonal, at the first spot that stays inside the plot area
 * and overlaps no label placed before (a spot clear of other points is preferred); a
 * label with no free spot is left out. Earlier points are served first, so the order
 * is the priority. Sets placed[i] and boxes[i]; returns how many were placed. */
int64_t nn__plot_place_labels(const NnPlotAxes *a, int64_t n, const double *px, const double *py,
                              const char *const *labels, double font_size, NnPlotBox *boxes, bool *placed);

#endif
