/* Tests for nn/plot.h: the SVG files are well-formed XML (a small checker: every tag
 * closes in order, attributes are quoted, '&' starts an entity, no stray '<'), carry
 * the title, axis labels, tick numbers and (with more than one series) a legend that
 * covers no point, draw a marker for a series of one point, escape markup in text,
 * survive NaN, empty and constant data, and an unwritable path is an error naming it.
 * The scatter map has equal scale on both axes and labels that never overlap. */
#include "helpers.h"

#include "nn/io/plot.h"
#include "nn/io/plot_internal.h"
#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Checks an entity reference at s ("&...;"); returns its length or 0. */
static size_t entity_len(const char *s) {
    static const char *const names[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strncmp(s, names[i], strlen(names[i])) == 0) return strlen(names[i]);
    return 0;
}

/* A minimal well-formedness check. Returns NULL if fine, else a description. */
static const char *xml_check(const char *s, int *n_roots) {
    static char msg[200];
    char stack[64][32];
    int depth = 0;
    *n_roots = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            size_t k = entity_len(p);
            if (!k) return "bare & in text";
            p += k;
        } else if (*p == '>') {
            return "bare > in text";
        } else if (*p != '<') {
            p++;
        } else if (strncmp(p, "<?", 2) == 0) {
            const char *e = strstr(p, "?>");
            if (!e) return "unterminated <?";
            p = e + 2;
        } else if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p, "-->");
            if (!e) return "unterminated comment";
            p = e + 3;
        } else if (p[1] == '/') {
            size_t n = strcspn(p + 2, ">");
            if (p[2 + n] != '>') return "unterminated end tag";
            if (depth == 0) return "end tag without start tag";
            depth--;
            if (strlen(stack[depth]) != n || strncmp(stack[depth], p + 2, n) != 0) {
                snprintf(msg, sizeof msg, "</%.*s> closes <%.31s>", (int)(n < 32 ? n : 32), p + 2, stack[depth]);
                return msg;
            }
            p += n + 3;
        } else {
            p++;
            size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:");
            if (n == 0 || n >= 32) return "bad tag name";
            if (depth == 64) return "too deep";
            if (depth == 0) ++*n_roots;
            memcpy(stack[depth], p, n);
            stack[depth][n] = '\0';
            p += n;
            for (;;) { /* attributes: name="value" */
                p += strspn(p, " \t\n");
                if (*p == '>') {
                    depth++;
                    p++;
                    break;
                }
                if (p[0] == '/' && p[1] == '>') {
                    p += 2;
                    break;
                }
                size_t an = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:");
                if (an == 0 || p[an] != '=' || p[an + 1] != '"') return "bad attribute";
                p += an + 2;
                while (*p != '"') {
                    if (!*p || *p == '<') return "bad attribute value";
                    if (*p == '&') {
                        size_t k = entity_len(p);
                        if (!k) return "bare & in attribute";
                        p += k;
                    } else {
                        p++;
                    }
                }
                p++;
            }
        }
    }
    return depth ? "unclosed tag" : NULL;
}

static void assert_well_formed(const char *svg) {
    int roots;
    const char *err = xml_check(svg, &roots);
    cr_assert_null(err, "SVG not well-formed: %s", err);
    cr_assert_eq(roots, 1, "expected one root element, found %d", roots);
    cr_assert(strstr(svg, "<svg ") != NULL);
    cr_assert(strstr(svg, "xmlns=\"http://www.w3.org/2000/svg\"") != NULL);
    /* No coordinate or label became nan/inf. */
    cr_assert(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL && strstr(svg, "NaN") == NULL,
              "non-finite number in the SVG");
}

static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* The centres of the circles inside every <g> whose class attribute is cls. */
static int circles_in(const char *svg, const char *cls, double *cx, double *cy, int max) {
    char open[64];
    snprintf(open, sizeof open, "<g class=\"%s\"", cls);
    int n = 0;
    for (const char *g = strstr(svg, open); g; g = strstr(g + 1, open)) {
        const char *end = strstr(g, "</g>");
        for (const char *c = strstr(g, "<circle "); c && c < end; c = strstr(c + 1, "<circle ")) {
            cr_assert_lt(n, max);
            cr_assert_eq(sscanf(c, "<circle cx=\"%lf\" cy=\"%lf\"", &cx[n], &cy[n]), 2, "%.60s", c);
            n++;
        }
    }
    return n;
}

/* The text of the element with class cls ("title", "xlabel", "ylabel"), or "". */
static const char *text_of(const char *svg, const char *cls) {
    static char buf[256];
    char want[64];
    snprintf(want, sizeof want, "<text class=\"%s\"", cls);
    const char *t = strstr(svg, want);
    buf[0] = '\0';
    if (t && (t = strchr(t, '>')) != NULL) sscanf(t + 1, "%255[^<]", buf);
    return buf;
}

/* Every plot names itself and both axes (unless asked for none). */
static void assert_titled(const char *svg, const char *title, const char *xlabel, const char *ylabel) {
    cr_assert_str_eq(text_of(svg, "title"), title);
    cr_assert_str_eq(text_of(svg, "xlabel"), xlabel);
    cr_assert_str_eq(text_of(svg, "ylabel"), ylabel);
}

static char path_buf[64];
static const char *tmp_path(void) {
    snprintf(path_buf, sizeof path_buf, "/tmp/lamina_test_plot_%d.svg", (int)getpid());
    return path_buf;
}

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
