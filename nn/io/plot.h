/* Standalone SVG plots for the apps' --plot: loss curves and labelled 2-D scatter
 * maps (word embeddings). The files open in any browser; no dependencies. */
#ifndef NN_PLOT_H
#define NN_PLOT_H

#include <stdint.h>

/* One line per series: ys[s][0..lens[s]) against x = 1, 2, ... (epochs or steps).
 * NaN points are skipped. Writes path atomically enough for a plot (truncate and
 * write). Returns 0, or -1 with tensor_last_error() naming the path. */
int nn_plot_curves_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                       int n_series, const char *const *names, const double *const *ys, const int64_t *lens);

/* A scatter plot of n points xy[2i], xy[2i+1], each drawn with its label (labels may
 * be NULL). Returns 0, or -1 with tensor_last_error() naming the path (or n < 0). */
int nn_plot_scatter_svg(const char *path, const char *title, int64_t n, const float *xy,
                        const char *const *labels);

#endif
