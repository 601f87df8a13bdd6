/* The curves' legend hides no curve: it takes a corner that no point and no segment
 * meets (a line crossing a corner between two distant points counts), and when every
 * corner is taken it goes beside the plot area, the canvas widened to hold it. */
#include "helpers.h"

#include "nn/io/plot.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Box {
    double x, y, w, h;
} Box;

/* The box of the rect that follows marker in svg. */
static Box rect_after(const char *svg, const char *marker) {
    const char *r = strstr(svg, marker);
    cr_assert_not_null(r, "no %s in the plot", marker);
    Box b;
    cr_assert_eq(sscanf(strstr(r, "<rect "), "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &b.x, &b.y,
                        &b.w, &b.h),
                 4);
    return b;
}

/* The plot area: the frame's rect, the one drawn with the dark stroke. */
static Box frame_of(const char *svg) {
    const char *p = strstr(svg, "fill=\"none\" stroke=\"#333333\"");
    cr_assert_not_null(p);
    while (p > svg && strncmp(p, "<rect ", 6) != 0) p--;
    Box b;
    cr_assert_eq(sscanf(p, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &b.x, &b.y, &b.w, &b.h), 4);
    return b;
}

static char *plot(const char *path, int n, const NnPlotSeries *series) {
    cr_assert_eq(nn_plot_series_svg(path, "legend", "step", "loss (nats)", n, series), 0, "%s", tensor_last_error());
    return test_read_text(path);
}

/* Two points per series, far apart: only their segments pass the corners. */
Test(plot_legend, a_segment_through_a_corner_keeps_the_legend_off_it) {
    char *path = test_temp_path("legend-diagonal.svg");
    const double x[] = {0, 100}, down[] = {10, 0}, up[] = {0, 10};
    NnPlotSeries s[] = {{.name = "down", .x = x, .y = down, .n = 2}, {.name = "up", .x = x, .y = up, .n = 2}};
    char *svg = plot(path, 2, s);
    Box legend = rect_after(svg, "<g class=\"legend\">"), frame = frame_of(svg);
    /* The diagonals cross all four corners' boxes: the legend must sit outside. */
    cr_assert_geq(legend.x, frame.x + frame.w, "legend at x %.1f inside the plot area ending at %.1f", legend.x,
                  frame.x + frame.w);
    double width;
    cr_assert_eq(sscanf(strstr(svg, "<svg "), "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%lf\"", &width), 1);
    cr_assert_geq(width, legend.x + legend.w, "the canvas (%.0f) must hold the legend", width);
    free(svg);
    unlink(path);
    free(path);
}

/* Curves along the bottom leave the top corners free: the legend stays inside. */
Test(plot_legend, a_free_corner_is_used) {
    char *path = test_temp_path("legend-corner.svg");
    double x[30], a[30], b[30];
    for (int i = 0; i < 30; i++) x[i] = i, a[i] = i % 2 ? 0.1 : 0.0, b[i] = 0.05;
    a[0] = 1.0; /* the y range reaches up, the curves stay low */
    NnPlotSeries s[] = {{.name = "a", .x = x, .y = a, .n = 30}, {.name = "b", .x = x, .y = b, .n = 30}};
    char *svg = plot(path, 2, s);
    Box legend = rect_after(svg, "<g class=\"legend\">"), frame = frame_of(svg);
    cr_assert_leq(legend.x + legend.w, frame.x + frame.w, "the legend left the plot area with a corner free");
    cr_assert_lt(legend.y + legend.h, frame.y + frame.h / 2, "the legend should take a top corner");
    free(svg);
    unlink(path);
    free(path);
}
