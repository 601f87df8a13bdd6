/* What the plot tests share: a small XML checker (every tag closes in order,
 * attributes are quoted, '&' starts an entity, no stray '<'), and readers of the
 * markers, texts and titles in an SVG the plot functions wrote. */
#ifndef TESTS_IO_PLOT_SVG_H
#define TESTS_IO_PLOT_SVG_H

#include "helpers.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Checks an entity reference at s ("&...;"); returns its length or 0. */
static inline size_t entity_len(const char *s) {
    static const char *const names[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strncmp(s, names[i], strlen(names[i])) == 0) return strlen(names[i]);
    return 0;
}

/* A minimal well-formedness check. Returns NULL if fine, else a description. */
static inline const char *xml_check(const char *s, int *n_roots) {
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

static inline void assert_well_formed(const char *svg) {
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

static inline int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* The centres of the circles inside every <g> whose class attribute is cls. */
static inline int circles_in(const char *svg, const char *cls, double *cx, double *cy, int max) {
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
static inline const char *text_of(const char *svg, const char *cls) {
    static char buf[256];
    char want[64];
    snprintf(want, sizeof want, "<text class=\"%s\"", cls);
    const char *t = strstr(svg, want);
    buf[0] = '\0';
    if (t && (t = strchr(t, '>')) != NULL) sscanf(t + 1, "%255[^<]", buf);
    return buf;
}

/* Every plot names itself and both axes (unless asked for none). */
static inline void assert_titled(const char *svg, const char *title, const char *xlabel, const char *ylabel) {
    cr_assert_str_eq(text_of(svg, "title"), title);
    cr_assert_str_eq(text_of(svg, "xlabel"), xlabel);
    cr_assert_str_eq(text_of(svg, "ylabel"), ylabel);
}

static inline const char *tmp_path(void) {
    static char path_buf[64];
    snprintf(path_buf, sizeof path_buf, "/tmp/lamina_test_plot_%d.svg", (int)getpid());
    return path_buf;
}

#endif
