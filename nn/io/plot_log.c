/* Curves on a logarithmic y axis (see plot.h): the series drawn at log10 y by plot.c's
 * curves, the frame labelling its ticks as the powers of ten they stand for. */
#include "nn/io/plot.h"
#include "nn/io/plot_internal.h"

#include "tensor/error.h"

#include <math.h>
#include <stdlib.h>

int nn_plot_series_log_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                           int n_series, const NnPlotSeries *series) {
    if (n_series < 0 || (n_series > 0 && !series))
        return tensor_set_error("plot: %d series given without their values", n_series);
    int64_t total = 0;
    for (int s = 0; s < n_series; s++) {
        if (series[s].n < 0 || (series[s].n > 0 && !series[s].y))
            return tensor_set_error("plot: series %d has length %lld but no values", s, (long long)series[s].n);
        total += series[s].n;
    }
    NnPlotSeries *logs = malloc((size_t)(n_series ? n_series : 1) * sizeof *logs);
    double *ys = malloc((size_t)(total ? total : 1) * sizeof *ys);
    if (!logs || !ys) {
        free(logs);
        free(ys);
        return tensor_set_error("plot: out of memory for %lld points", (long long)total);
    }
    double *y = ys;
    for (int s = 0; s < n_series; s++) {
        for (int64_t i = 0; i < series[s].n; i++) {
            const double v = series[s].y[i];
            y[i] = v > 0 && isfinite(v) ? log10(v) : NAN;
        }
        logs[s] = series[s];
        logs[s].y = y;
        y += series[s].n;
    }
    int rc = nn__plot_curves(path, title, xlabel, ylabel, n_series, logs, true);
    free(ys);
    free(logs);
    return rc;
}
