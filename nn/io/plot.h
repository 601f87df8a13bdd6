/* Standalone SVG plots, public API for any program (the apps' --plot uses them): loss
 * curves, a fit's history, and labelled 2-D scatter maps (word embeddings). The files
 * open in any browser; no dependencies. Every plot has its title and axis labels (give
 * the unit in the label: "cross-entropy (nats)", "step"); curves get a legend when more
 * than one series has points, and a marker on each point while a series has few. */
#ifndef NN_PLOT_H
#define NN_PLOT_H

#include <stdint.h>

#include <lamina/nn/model/model.h>

/* One curve: n points (x[i], y[i]), or (i + 1, y[i]) when x is NULL. Points with a NaN
 * or infinite coordinate are left out and the line joins the points around them, so a
 * series measured only now and then (a val_loss every 100 steps: NaN in between) is one
 * curve through its measurements. */
typedef struct NnPlotSeries {
    const char *name; /* the legend entry; NULL: "series 1", "series 2", ... */
    const double *x;  /* NULL: 1, 2, ..., n */
    const double *y;
    int64_t n;
} NnPlotSeries;

/* Writes the curves of series[0..n_series) to path (truncate and write): x ticks are
 * whole numbers when every x is. Returns 0, or -1 with tensor_last_error() naming the
 * path (or the series given without their values). */
int nn_plot_series_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, int n_series,
                       const NnPlotSeries *series);

/* nn_plot_series_svg on a logarithmic y axis (quantities over many orders of magnitude:
 * gradient norms, errors): ticks at powers of ten labelled 1e-6, 1e-3, ...; a y that is
 * zero, negative, NaN or infinite is left out like a NaN. Returns as nn_plot_series_svg. */
int nn_plot_series_log_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                           int n_series, const NnPlotSeries *series);

/* One line per series: ys[s][0..lens[s]) against x = 1, 2, ... (epochs or steps); names
 * may be NULL. The same as nn_plot_series_svg with x NULL. */
int nn_plot_curves_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                       int n_series, const char *const *names, const double *const *ys, const int64_t *lens);

/* The loss curves of a history nn_fit returned: loss and, when the fit validated,
 * val_loss against the epoch. title may be NULL ("training"). Returns 0, or -1 with
 * tensor_last_error() naming the path (or a NULL or empty history). */
int nn_plot_history_svg(const char *path, const char *title, const NnHistory *history);

/* A map of n points xy[2i], xy[2i+1] at equal scale (a unit is as long on x as on y, so
 * distances read true; the plot area takes the data's aspect), with axis labels xlabel
 * and ylabel (either may be NULL) and each point's label beside it where it has room
 * (labels may be NULL; a NULL entry draws no label): labels never overlap, earlier points
 * keep theirs first (give the most important first) and the rest are left out. Returns
 * 0, or -1 with tensor_last_error() naming the path (or n < 0). */
int nn_plot_scatter_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, int64_t n,
                        const float *xy, const char *const *labels);

#endif
