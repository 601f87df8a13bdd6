/* nn_plot_series_log_svg: y drawn at log10 y (equal ratios, equal distances), ticks at
 * whole powers of ten labelled 1e-k, points that are zero, negative or not finite left
 * out, and the same argument errors as the linear plot. */
#include "helpers.h"

#include "nn/io/plot.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The cy of the k-th marker circle. */
static double marker_y(const char *svg, int k) {
    const char *p = svg;
    for (int i = 0; i <= k; i++) {
        p = strstr(p, "<circle cx=");
        cr_assert_not_null(p, "marker %d missing", k);
        p++;
    }
    const char *cy = strstr(p, "cy=\"");
    cr_assert_not_null(cy);
    return strtod(cy + 4, NULL);
}

Test(plot_log, powers_of_ten_ticks_and_log_positions) {
    double x[] = {0, 1, 2, 3, 4, 5}, y[] = {1.0, 1e-3, 1e-6, 0.0, -2.0, NAN};
    const NnPlotSeries s = {"gradient", x, y, 6};
    char *path = test_temp_path("log.svg");
    cr_assert_eq(nn_plot_series_log_svg(path, "decay", "distance", "norm", 1, &s), 0);
    char *svg = test_read_text(path);
    cr_assert(strstr(svg, "<svg") && strstr(svg, ">decay</text>") && strstr(svg, ">norm</text>"));
    for (const char *t = "1e0\0" "1e-2\0" "1e-4\0" "1e-6\0"; *t; t += strlen(t) + 1) {
        char want[32];
        snprintf(want, sizeof want, ">%s</text>", t);
        cr_assert(strstr(svg, want) != NULL, "missing y tick %s", t);
    }
    cr_assert(strstr(svg, ">-3</text>") == NULL && strstr(svg, ">-2.0</text>") == NULL,
              "y ticks are labelled as powers of ten, not as logarithms");
    /* Three positive points: three markers; 1e-3 sits halfway between 1 and 1e-6. */
    int markers = 0;
    for (const char *p = strstr(svg, "<circle cx="); p; p = strstr(p + 1, "<circle cx=")) markers++;
    cr_assert_eq(markers, 3, "zero, negative and NaN values are left out");
    double y0 = marker_y(svg, 0), y1 = marker_y(svg, 1), y2 = marker_y(svg, 2);
    cr_assert(y0 < y1 && y1 < y2, "smaller values lower down");
    cr_assert_float_eq(y1 - y0, y2 - y1, 0.02, "equal ratios, equal distances: %g vs %g", y1 - y0, y2 - y1);
    free(svg);
    unlink(path);
    free(path);
}

Test(plot_log, argument_errors) {
    char *path = test_temp_path("bad.svg");
    cr_assert_eq(nn_plot_series_log_svg(path, "t", "x", "y", 1, NULL), -1);
    const NnPlotSeries s = {"s", NULL, NULL, 3};
    cr_assert_eq(nn_plot_series_log_svg(path, "t", "x", "y", 1, &s), -1);
    cr_assert(strstr(tensor_last_error(), "no values") != NULL, "%s", tensor_last_error());
    cr_assert_eq(nn_plot_series_log_svg("/nonexistent-dir/x.svg", "t", "x", "y", 0, NULL), -1);
    cr_assert(strstr(tensor_last_error(), "/nonexistent-dir/x.svg") != NULL, "%s", tensor_last_error());
    free(path);
}
