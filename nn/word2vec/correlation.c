/* Rank and linear correlation as scipy.stats computes them: Spearman's rho with
 * average ranks for ties (spearmanr) and Pearson's r (pearsonr), in double. */
#include "nn/word2vec/word_eval.h"

#include "tensor/error.h"

#include <math.h>
#include <stdlib.h>

typedef struct Ranked {
    double v;
    int64_t i;
} Ranked;

static int cmp_ranked(const void *pa, const void *pb) {
    const Ranked *a = pa, *b = pb;
    if (a->v != b->v) return a->v < b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Average ranks (1-based) of x, ties sharing the mean of their positions. */
static void ranks(const double *x, int64_t n, double *r) {
    Ranked *s = tensor_xmalloc((size_t)n * sizeof *s);
    for (int64_t i = 0; i < n; i++) s[i] = (Ranked){x[i], i};
    qsort(s, (size_t)n, sizeof *s, cmp_ranked);
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && s[j + 1].v == s[i].v) j++;
        double avg = 0.5 * (double)(i + j) + 1.0;
        for (int64_t t = i; t <= j; t++) r[s[t].i] = avg;
        i = j + 1;
    }
    free(s);
}

double nn_pearson(const double *x, const double *y, int64_t n) {
    if (n < 2) return NAN;
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int64_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

double nn_spearman(const double *x, const double *y, int64_t n) {
    if (n < 2) return NAN;
    double *rx = tensor_xmalloc((size_t)n * sizeof *rx), *ry = tensor_xmalloc((size_t)n * sizeof *ry);
    ranks(x, n, rx);
    ranks(y, n, ry);
    double rho = nn_pearson(rx, ry, n);
    free(rx);
    free(ry);
    return rho;
}
