/* Standalone SVG plots, public API for any program (the apps' --plot uses them): loss
 * curves, a fit's history, and labelled 2-D scatter maps (word embeddings). The files
 * open in any browser; no dependencies. */
#ifndef NN_PLOT_H
#define NN_PLOT_H

#include <stdint.h>

#include <lamina/nn/model/model.h>

/* One line per series: ys[s][0..lens[s]) against x = 1, 2, ... (epochs or steps).
 * NaN points are skipped. Writes path atomically enough for a plot (truncate and
 * write). Returns 0, or -1 with tensor_last_error() naming the path. */
int nn_plot_curves_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                       int n_series, const char *const *names, const double *const *ys, const int64_t *lens);

/* The loss curves of a history nn_fit returned: loss and, when the fit validated,
 * val_loss against the epoch. title may be NULL ("training"). Returns 0, or -1 with
 * tensor_last_error() naming the path (or a NULL or empty history). */
int nn_plot_history_svg(const char *path, const char *title, const NnHistory *history);

/* A scatter plot of n points xy[2i], xy[2i+1], each drawn with its label (labels may
 * be NULL). Returns 0, or -1 with tensor_last_error() naming the path (or n < 0). */
int nn_plot_scatter_svg(const char *path, const char *title, int64_t n, const float *xy,
                        const char *const *labels);

#endif
