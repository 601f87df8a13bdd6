/* The scatter map (nn_plot_scatter_svg): equal scale on both axes, whatever the data's
 * shape, and labels that never overlap one another or cover a labelled point, from
 * the placement function and from the boxes rebuilt from the SVG. */
#include "helpers.h"

#include "io/plot_svg.h"
#include "nn/io/plot.h"
#include "nn/io/plot_internal.h"
#include "nn/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Equal scale: a unit spans as many pixels on x as on y, whatever the data's shape, and
 * the plot area stays inside the canvas and no smaller than a readable band. */
static void assert_equal_scale(int64_t n, const float *xy) {
    NnPlotAxes a = nn__plot_scatter_axes(n, xy);
    double sx = (a.right - a.left) / (a.x1 - a.x0), sy = (a.bottom - a.top) / (a.y1 - a.y0);
    cr_assert_float_eq(sx, sy, 1e-9 * sx, "x %g px/unit, y %g px/unit", sx, sy);
    cr_assert(a.left >= 78 - 1e-9 && a.right <= 760 - 24 + 1e-9 && a.top >= 44 && a.bottom <= 480 - 58 + 1e-9);
    cr_assert(a.right - a.left >= 240 - 1e-9 && a.bottom - a.top >= 160 - 1e-9);
    cr_assert_eq(a.x_step, a.y_step, "one tick step for both axes");
    for (int64_t i = 0; i < n; i++) /* every point inside the ranges */
        cr_assert(xy[2 * i] > a.x0 && xy[2 * i] < a.x1 && xy[2 * i + 1] > a.y0 && xy[2 * i + 1] < a.y1);
}

Test(plot, scatter_has_equal_scale) {
    float wide[] = {0, 0, 10, 1, -3, 0.5f}, tall[] = {0, 0, 0.2f, 8, 0.1f, -5}, flat[] = {0, 1, 5, 1, 9, 1};
    float square[] = {0, 0, 1, 1, 0.5f, 0.25f};
    assert_equal_scale(3, wide);
    assert_equal_scale(3, tall);
    assert_equal_scale(3, flat);
    assert_equal_scale(3, square);
    /* And in the file: the drawn points keep their distances' ratio. */
    float xy[] = {0, 0, 1, 2, -1, 0.5f, 3, -1};
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "map", "PC 1", "PC 2", 4, xy, NULL), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    assert_titled(svg, "map", "PC 1", "PC 2");
    double cx[4], cy[4];
    cr_assert_eq(circles_in(svg, "points unlabelled", cx, cy, 4), 4);
    double px_per_x = (cx[3] - cx[0]) / 3, px_per_y = (cy[0] - cy[1]) / 2;
    cr_assert_float_eq(px_per_x, px_per_y, 0.02, "x %g px/unit, y %g px/unit", px_per_x, px_per_y);
    free(svg);
    unlink(tmp_path());
}

static bool boxes_overlap(NnPlotBox a, NnPlotBox b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/* A dense cloud of labelled points: the labels placed never overlap one another nor
 * cover a labelled point, stay inside the plot area and touch their point; the first
 * (most frequent) keeps its label, and some of the crowd are thinned out. */
Test(plot, scatter_labels_do_not_overlap) {
    enum { N = 300 };
    static float xy[2 * N];
    static char words[N][16];
    static const char *labels[N];
    uint32_t r = 12345;
    for (int i = 0; i < N; i++) {
        r = r * 1664525u + 1013904223u;
        xy[2 * i] = (float)((r >> 8) % 1000) / 1000.0f;
        r = r * 1664525u + 1013904223u;
        xy[2 * i + 1] = (float)((r >> 8) % 1000) / 2000.0f;
        snprintf(words[i], sizeof words[i], "%.*s", 2 + i % 9, "wordwordword");
        labels[i] = words[i];
    }
    NnPlotAxes a = nn__plot_scatter_axes(N, xy);
    double px[N], py[N];
    for (int i = 0; i < N; i++) px[i] = nn__plot_px(&a, xy[2 * i]), py[i] = nn__plot_py(&a, xy[2 * i + 1]);
    NnPlotBox boxes[N];
    bool placed[N];
    int64_t k = nn__plot_place_labels(&a, N, px, py, labels, 11, boxes, placed);
    cr_assert(k > 20 && k < N, "%lld of %d labels placed", (long long)k, N);
    cr_assert(placed[0], "the first point keeps its label");
    for (int i = 0; i < N; i++) {
        if (!placed[i]) continue;
        NnPlotBox b = boxes[i];
        cr_assert(b.left >= a.left && b.right <= a.right && b.top >= a.top && b.bottom <= a.bottom);
        cr_assert(px[i] >= b.left - 6 && px[i] <= b.right + 6 && py[i] >= b.top - 6 && py[i] <= b.bottom + 6,
                  "label %d is beside its point", i);
        cr_assert_geq(b.right - b.left + 1e-9, nn__plot_text_width(labels[i], 11), "the box holds the text");
        for (int j = 0; j < i; j++)
            cr_assert(!placed[j] || !boxes_overlap(b, boxes[j]), "labels %d and %d overlap", j, i);
        for (int j = 0; j < N; j++) /* a labelled point is never under another's label */
            cr_assert(j == i || !placed[j] || !(px[j] > b.left - 2.5 && px[j] < b.right + 2.5 &&
                                                  py[j] > b.top - 2.5 && py[j] < b.bottom + 2.5),
                      "label %d covers labelled point %d", i, j);
    }
    /* Far-apart points all keep their labels. */
    float sparse[] = {0, 0, 1, 1, 2, 0, 0, 2, 2, 2};
    a = nn__plot_scatter_axes(5, sparse);
    for (int i = 0; i < 5; i++) px[i] = nn__plot_px(&a, sparse[2 * i]), py[i] = nn__plot_py(&a, sparse[2 * i + 1]);
    cr_assert_eq(nn__plot_place_labels(&a, 5, px, py, labels, 11, boxes, placed), 5);
}

/* What the file draws: one text per placed label, at the boxes the placement chose
 * (rebuilt from each text's position and width), none overlapping. */
Test(plot, scatter_svg_labels_do_not_overlap) {
    enum { N = 200 };
    static float xy[2 * N];
    static char words[N][16];
    static const char *labels[N];
    for (int i = 0; i < N; i++) {
        double t = 0.1 * i; /* a spiral, densest in the middle */
        xy[2 * i] = (float)(t * cos(t)), xy[2 * i + 1] = (float)(t * sin(t));
        snprintf(words[i], sizeof words[i], "w%d", i * 37);
        labels[i] = words[i];
    }
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "spiral", "PC 1", "PC 2", N, xy, labels), 0);
    char *svg = test_read_text(tmp_path());
    assert_well_formed(svg);
    const char *g = strstr(svg, "<g class=\"labels\"");
    cr_assert_not_null(g);
    const char *end = strstr(g, "</g>");
    static NnPlotBox drawn[N];
    int n = 0;
    for (const char *t = strstr(g, "<text "); t && t < end; t = strstr(t + 1, "<text ")) {
        double x, y;
        char word[32];
        cr_assert_eq(sscanf(t, "<text x=\"%lf\" y=\"%lf\">%31[^<]", &x, &y, word), 3);
        double bottom = y + 0.25 * 11;
        drawn[n] = (NnPlotBox){x - 1, bottom - 1.15 * 11, x - 1 + nn__plot_text_width(word, 11), bottom};
        for (int j = 0; j < n; j++)
            cr_assert(!boxes_overlap(drawn[n], drawn[j]), "drawn labels %d and %d overlap", j, n);
        n++;
    }
    double cx[N], cy[N];
    cr_assert_eq(circles_in(svg, "points", cx, cy, N), n, "each labelled point is dark");
    cr_assert(n > 10 && n < N, "%d labels drawn", n);
    cr_assert_eq(circles_in(svg, "points unlabelled", cx, cy, N), N - n);
    free(svg);
    unlink(tmp_path());
}
