/* Tests for nn/plot.h: the SVG files are well-formed XML (a small checker: every tag
 * closes in order, attributes are quoted, '&' starts an entity, no stray '<'), carry
 * the title, labels, legend and tick numbers, escape markup in text, survive NaN,
 * empty and constant data, and an unwritable path is an error naming it. */
#include "helpers.h"

#include "nn/io/plot.h"
#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

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
    char *svg = read_all(tmp_path());
    assert_well_formed(svg);
    cr_assert(strstr(svg, ">sonnets training</text>") != NULL);
    cr_assert(strstr(svg, ">epoch</text>") != NULL);
    cr_assert(strstr(svg, ">loss per character</text>") != NULL);
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
    const double *ys[] = {v};
    const char *names[] = {"<b>&\"q\"'s"};
    int64_t lens[] = {2};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "a<b & c>d", "x<", "&y", 1, names, ys, lens), 0);
    char *svg = read_all(tmp_path());
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
    char *svg = read_all(tmp_path());
    assert_well_formed(svg);
    /* Three finite points: one line through them and three markers. */
    cr_assert_eq(count(svg, "<polyline"), 1);
    cr_assert_eq(count(svg, "<circle"), 3);
    cr_assert(strstr(svg, ">series 1</text>") != NULL, "unnamed series get a default legend entry");
    free(svg);
    unlink(tmp_path());
}

Test(plot, empty_and_all_nan_series) {
    double v[] = {NAN, NAN};
    const double *ys[] = {v, NULL};
    const char *names[] = {"nothing", "empty"};
    int64_t lens[] = {2, 0};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "empty", "x", "y", 2, names, ys, lens), 0);
    char *svg = read_all(tmp_path());
    assert_well_formed(svg);
    cr_assert(strstr(svg, "no data") != NULL);
    cr_assert_eq(count(svg, "<polyline"), 0);
    free(svg);
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "none", NULL, NULL, 0, NULL, NULL, NULL), 0);
    svg = read_all(tmp_path());
    assert_well_formed(svg);
    free(svg);
    unlink(tmp_path());
}

Test(plot, constant_and_single_point_series) {
    double c[] = {2.5, 2.5, 2.5}, one[] = {7.0};
    const double *ys[] = {c, one};
    int64_t lens[] = {3, 1};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "flat", "x", "y", 2, NULL, ys, lens), 0);
    char *svg = read_all(tmp_path());
    assert_well_formed(svg);
    cr_assert_eq(count(svg, "<polyline"), 1, "the one-point series is a marker, not a line");
    cr_assert_eq(count(svg, "<circle"), 4);
    free(svg);
    double z[] = {0, 0};
    const double *zs[] = {z};
    int64_t zl[] = {2};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "zeros", "x", "y", 1, NULL, zs, zl), 0);
    svg = read_all(tmp_path());
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
    cr_assert_eq(nn_plot_scatter_svg(bad, "t", 1, xy, NULL), -1);
    cr_assert(strstr(tensor_last_error(), bad) != NULL);
    cr_assert_eq(nn_plot_scatter_svg(NULL, "t", 1, xy, NULL), -1);
}

Test(plot, bad_arguments_are_errors) {
    int64_t lens[] = {3};
    const double *ys[] = {NULL};
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "t", "x", "y", 1, NULL, ys, lens), -1);
    cr_assert_eq(nn_plot_curves_svg(tmp_path(), "t", "x", "y", -1, NULL, NULL, NULL), -1);
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "t", 3, NULL, NULL), -1);
    unlink(tmp_path());
}

Test(plot, scatter_labels_nan_and_invalid_utf8) {
    float xy[] = {0.0f, 0.0f, 1.0f, 2.0f, NAN, 1.0f, -1.0f, 0.5f};
    const char *labels[] = {"king", "queen & <co>", "hidden", "caf\xc3\xa9 \xff"};
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "words", 4, xy, labels), 0);
    char *svg = read_all(tmp_path());
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
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "one", 1, xy, NULL), 0);
    svg = read_all(tmp_path());
    assert_well_formed(svg);
    cr_assert_eq(count(svg, "<circle"), 1);
    free(svg);
    cr_assert_eq(nn_plot_scatter_svg(tmp_path(), "none", 0, NULL, NULL), 0);
    svg = read_all(tmp_path());
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
    char *svg = read_all(tmp_path());
    assert_well_formed(svg);
    cr_assert(strstr(svg, ">my model</text>") && strstr(svg, ">epoch</text>"));
    cr_assert_eq(count(svg, "<polyline"), 2);
    cr_assert(strstr(svg, ">val_loss</text>") != NULL);
    free(svg);
    h.val_loss = none;
    cr_assert_eq(nn_plot_history_svg(tmp_path(), NULL, &h), 0, "%s", tensor_last_error());
    svg = read_all(tmp_path());
    cr_assert_eq(count(svg, "<polyline"), 1, "no val_loss line without validation");
    cr_assert(strstr(svg, ">val_loss</text>") == NULL && strstr(svg, ">training</text>"));
    free(svg);
    NnHistory empty = {0};
    cr_assert_eq(nn_plot_history_svg(tmp_path(), NULL, &empty), -1);
    cr_assert(strstr(tensor_last_error(), "no epoch"), "%s", tensor_last_error());
    cr_assert_eq(nn_plot_history_svg(tmp_path(), NULL, NULL), -1);
    unlink(tmp_path());
}
