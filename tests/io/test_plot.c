/* Tests for nn/plot.h: the SVG files are well-formed XML (a small checker: every tag
 * closes in order, attributes are quoted, '&' starts an entity, no stray '<'), carry
 * the title, axis labels, tick numbers and (with more than one series) a legend that
 * covers no point, draw a marker for a series of one point, escape markup in text,
 * survive NaN, empty and constant data, and an unwritable path is an error naming it.
 * The scatter map's scale and labels: test_plot_scatter.c. */
#include "helpers.h"

#include "nn/io/plot.h"
#include "nn/io/plot_internal.h"
#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/plot_svg.h"

Test(plot, curves_have_axes_ticks_labels_and_legend) {
    double loss[] = {3.0, 2.5, 2.0, 1.5}, val[] = {3.1, 2.6, 2.2, 1.9};
    const double *ys[] = {loss, val};
    const char *names[] = {"loss", "val_loss"};
    int64_t lens[] = {4, 4};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "sonnets training", "epoch", "loss per character", 2, names, ys, lens), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    assert_titled(svg, "sonnets training", "epoch", "loss per character");
    cr_assert_eq(count(svg, "<g class=\"legend\""), 1);
    cr_assert(strstr(svg, ">loss</text>") != NULL && strstr(svg, ">val_loss</text>") != NULL);
    cr_assert_eq(count(svg, "<polyline"), 2);
    /* y ticks every 0.5 over [1.5, 3.1]; x ticks on whole epochs 1..4. */
    for (const char *t = "1.5\0" "2.0\0" "2.5\0" "3.0\0"; *t; t += strlen(t) + 1) {
        char want[32];
        snprintf(want, sizeof want, ">%s</text>", t);
        cr_assert(strstr(svg, want) != NULL, "missing y tick %s", t);
    }
    for (int e = 1; e <= 4; e++) {
        char want[32];
        snprintf(want, sizeof want, ">%d</text>", e);
        cr_assert(strstr(svg, want) != NULL, "missing x tick %d", e);
    }
    cr_assert(strstr(svg, ">0.5</text>") == NULL, "x ticks must be whole numbers");
    free(svg);
    unlink(tmp_path());
}

Test(plot, text_is_escaped) {
    double v[] = {1, 2};
    const double *ys[] = {v, v};
    const char *names[] = {"<b>&\"q\"'s", "plain"};
    int64_t lens[] = {2, 2};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "a<b & c>d", "x<", "&y", 2, names, ys, lens), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    cr_assert(strstr(svg, "a&lt;b &amp; c&gt;d") != NULL);
    cr_assert(strstr(svg, "x&lt;") != NULL && strstr(svg, "&amp;y") != NULL);
    cr_assert(strstr(svg, "&lt;b&gt;&amp;&quot;q&quot;&apos;s") != NULL);
    cr_assert(strstr(svg, "<b>") == NULL);
    free(svg);
    unlink(tmp_path());
}

Test(plot, nan_points_are_skipped) {
    double v[] = {2.0, NAN, 1.0, INFINITY, 0.5, NAN};
    const double *ys[] = {v};
    int64_t lens[] = {6};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "t", "step", "loss", 1, NULL, ys, lens), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    /* Three finite points: one line through them and three markers; one line needs
     * no legend. */
    cr_assert_eq(count(svg, "<polyline"), 1);
    cr_assert_eq(count(svg, "<circle"), 3);
    cr_assert_eq(count(svg, "class=\"legend\""), 0);
    free(svg);
    const double *two[] = {v, v};
    int64_t lens2[] = {6, 6};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "t", "step", "loss", 2, NULL, two, lens2), 0);
    svg = test_read_text(tmp_path());
    cr_assert(strstr(svg, ">series 1</text>") && strstr(svg, ">series 2</text>"),
              "unnamed series get a default legend entry");
    free(svg);
    unlink(tmp_path());
}

Test(plot, empty_and_all_nan_series) {
    double v[] = {NAN, NAN};
    const double *ys[] = {v, NULL};
    const char *names[] = {"nothing", "empty"};
    int64_t lens[] = {2, 0};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "empty", "x", "y", 2, names, ys, lens), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    cr_assert(strstr(svg, "no data") != NULL);
    cr_assert_eq(count(svg, "<polyline"), 0);
    free(svg);
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "none", NULL, NULL, 0, NULL, NULL, NULL), 0);
    svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    free(svg);
    unlink(tmp_path());
}

Test(plot, constant_and_single_point_series) {
    double c[] = {2.5, 2.5, 2.5}, one[] = {7.0};
    const double *ys[] = {c, one};
    int64_t lens[] = {3, 1};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "flat", "x", "y", 2, NULL, ys, lens), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    cr_assert_eq(count(svg, "<polyline"), 1, "the one-point series is a marker, not a line");
    double cx[8], cy[8];
    cr_assert_eq(circles_in(svg, "markers", cx, cy, 8), 4);
    free(svg);
    double z[] = {0, 0};
    const double *zs[] = {z};
    int64_t zl[] = {2};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "zeros", "x", "y", 1, NULL, zs, zl), 0);
    svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    cr_assert(strstr(svg, ">0.0</text>") != NULL || strstr(svg, ">0</text>") != NULL, "a tick at zero");
    free(svg);
    unlink(tmp_path());
}

Test(plot, unwritable_path_is_an_error) {
    double v[] = {1, 2};
    const double *ys[] = {v};
    int64_t lens[] = {2};
    const char *bad = "/nonexistent-lamina-dir/plot.svg";
    cr_assert_eq(nn_plot_curves_svg(bad, "t", "x", "y", 1, NULL, ys, lens), -1);
    cr_assert(strstr(tensor_last_error(), bad) != NULL, "error should name the path: %s", tensor_last_error());
    float xy[] = {0, 0};
    cr_assert_eq(nn_plot_scatter_svg(bad, "t", NULL, NULL, 1, xy, NULL), -1);
    cr_assert(strstr(tensor_last_error(), bad) != NULL);
    cr_assert_eq(nn_plot_scatter_svg(NULL, "t", NULL, NULL, 1, xy, NULL), -1);
}

Test(plot, bad_arguments_are_errors) {
    int64_t lens[] = {3};
    const double *ys[] = {NULL};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "t", "x", "y", 1, NULL, ys, lens), -1);
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "t", "x", "y", -1, NULL, NULL, NULL), -1);
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "t", "x", "y", 3, NULL, NULL), -1);
    unlink(tmp_path());
}

Test(plot, scatter_labels_nan_and_invalid_utf8) {
    float xy[] = {0.0f, 0.0f, 1.0f, 2.0f, NAN, 1.0f, -1.0f, 0.5f};
    const char *labels[] = {"king", "queen & <co>", "hidden", "caf\xc3\xa9 \xff"};
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "words", "x", "y", 4, xy, labels), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    cr_assert(strstr(svg, ">words</text>") != NULL);
    cr_assert(strstr(svg, ">king</text>") != NULL);
    cr_assert(strstr(svg, "queen &amp; &lt;co&gt;") != NULL);
    cr_assert(strstr(svg, "hidden") == NULL, "a NaN point is not drawn");
    cr_assert_eq(count(svg, "<circle"), 3);
    cr_assert(strstr(svg, "caf\xc3\xa9 \xef\xbf\xbd") != NULL, "invalid UTF-8 becomes U+FFFD");
    cr_assert(strstr(svg, "\xff") == NULL);
    free(svg);
    /* One point (a constant range) and no points at all. */
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "one", "x", "y", 1, xy, NULL), 0);
    svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    cr_assert_eq(count(svg, "<circle"), 1);
    free(svg);
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "none", "x", "y", 0, NULL, NULL), 0);
    svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    cr_assert(strstr(svg, "no data") != NULL);
    free(svg);
    unlink(tmp_path());
}

/* A history as nn_fit returns it: loss always, val_loss NaN when nothing validated. */
Test(plot, history_plots_loss_and_val_loss_when_validated) {
    double loss[] = {2.0, 1.5, 1.2}, val[] = {2.1, 1.7, 1.6}, none[] = {NAN, NAN, NAN};
    NnHistory h = {.epochs = 3, .loss = loss, .val_loss = val};
    cr_assert_eq(nn_plot_history_svg(tmp_path(), "my model", &h), 0, "%s", tensor_last_error());
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    assert_titled(svg, "my model", "epoch", "loss (nats for cross-entropy)");
    cr_assert_eq(count(svg, "<polyline"), 2);
    cr_assert(strstr(svg, ">val_loss</text>") != NULL);
    free(svg);
    h.val_loss = none;
    cr_assert_eq(nn_plot_history_svg(tmp_path(), NULL, &h), 0, "%s", tensor_last_error());
    svg = test_read_text(tmp_path());
    cr_assert_eq(count(svg, "<polyline"), 1, "no val_loss line without validation");
    cr_assert(strstr(svg, ">val_loss</text>") == NULL);
    assert_titled(svg, "training", "epoch", "loss (nats for cross-entropy)");
    free(svg);
    NnHistory empty = {0};
    cr_assert_eq(nn_plot_history_svg(tmp_path(), NULL, &empty), -1);
    cr_assert(strstr(tensor_last_error(), "no epoch"), "%s", tensor_last_error());
    cr_assert_eq(nn_plot_history_svg(tmp_path(), NULL, NULL), -1);
    unlink(tmp_path());
}

/* A one-epoch fit is one point: it must show as a marker inside the plot area, not as
 * a zero-length line nobody sees. */
Test(plot, one_epoch_history_is_a_visible_dot) {
    double loss[] = {2.25};
    NnHistory h = {.epochs = 1, .loss = loss};
    cr_assert_eq(nn_plot_history_svg(tmp_path(), "one epoch", &h), 0, "%s", tensor_last_error());
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    double cx[2], cy[2];
    cr_assert_eq(circles_in(svg, "markers", cx, cy, 2), 1);
    double r = 0;
    const char *m = strstr(strstr(svg, "<g class=\"markers\""), "<circle ");
    cr_assert_eq(sscanf(m, "<circle cx=\"%*f\" cy=\"%*f\" r=\"%lf\"", &r), 1);
    cr_assert_geq(r, 3.5, "a marker big enough to see");
    cr_assert(cx[0] > 78 + 50 && cx[0] < 760 - 24 - 50, "the point sits inside the plot, not on its edge");
    cr_assert(cy[0] > 44 + 50 && cy[0] < 480 - 58 - 50);
    cr_assert_eq(count(svg, "<polyline"), 0);
    cr_assert(strstr(svg, ">1</text>") != NULL, "a tick at epoch 1");
    free(svg);
    unlink(tmp_path());
}

/* Long series get no markers (they would hide the line), short ones do, and the key
 * shows a marker only for a series drawn with them. */
Test(plot, markers_only_while_few_points) {
    double many[200], few[5] = {3, 2, 1.5, 1.2, 1.1};
    for (int i = 0; i < 200; i++) many[i] = 3.0 / (1 + 0.05 * i);
    NnPlotSeries series[] = {{.name = "loss", .y = many, .n = 200}, {.name = "val_loss", .y = few, .n = 5}};
    double x[5] = {40, 80, 120, 160, 200};
    series[1].x = x;
    cr_assert_eq(nn_plot_series_svg(tmp_path(), "t", "step", "loss (nats)", 2, series), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    double cx[16], cy[16];
    cr_assert_eq(circles_in(svg, "markers", cx, cy, 16), 5);
    cr_assert_eq(circles_in(svg, "legend", cx, cy, 16), 1, "one key marker, for val_loss");
    free(svg);
    unlink(tmp_path());
}

/* Points at given x: sparse validation lands at its steps, and x ticks are multiples
 * of a nice step. */
Test(plot, series_with_x_values) {
    double x[] = {1, 8, 16, 24}, y[] = {4, 3, 2.5, 2.2}, vx[] = {12, 24}, vy[] = {2.9, 2.4};
    NnPlotSeries series[] = {{.name = "loss", .x = x, .y = y, .n = 4}, {.name = "val_loss", .x = vx, .y = vy, .n = 2}};
    cr_assert_eq(nn_plot_series_svg(tmp_path(), "steps", "step", "cross-entropy (nats)", 2, series), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    assert_titled(svg, "steps", "step", "cross-entropy (nats)");
    double cx[8], cy[8];
    cr_assert_eq(circles_in(svg, "markers", cx, cy, 8), 6);
    /* val at x = 12 lies halfway between loss points at x = 8 and x = 16. */
    cr_assert_float_eq(cx[4], (cx[1] + cx[2]) / 2, 0.02);
    cr_assert_float_eq(cx[5], cx[3], 0.02);
    cr_assert(strstr(svg, ">5</text>") && strstr(svg, ">10</text>") && strstr(svg, ">20</text>"), "x ticks every 5");
    free(svg);
    unlink(tmp_path());
}

/* The legend goes to a corner the curves leave free: here the line runs from bottom
 * left to top right, so neither of those corners. */
Test(plot, legend_covers_no_point) {
    double a[20], b[20];
    for (int i = 0; i < 20; i++) a[i] = i, b[i] = i + 0.5;
    const double *ys[] = {a, b};
    const char *names[] = {"rising", "also rising"};
    int64_t lens[] = {20, 20};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "t", "epoch", "y (units)", 2, names, ys, lens), 0);
    char *svg = test_read_text(tmp_path());
    double x, y, w, h;
    const char *r = strstr(svg, "<g class=\"legend\">\n<rect ");
    cr_assert_not_null(r);
    cr_assert_eq(sscanf(r, "<g class=\"legend\">\n<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &x, &y, &w, &h), 4);
    double cx[64], cy[64];
    int n = circles_in(svg, "markers", cx, cy, 64);
    cr_assert_eq(n, 40);
    for (int i = 0; i < n; i++)
        cr_assert(!(cx[i] >= x && cx[i] <= x + w && cy[i] >= y && cy[i] <= y + h), "point %d under the legend", i);
    free(svg);
    unlink(tmp_path());
}
