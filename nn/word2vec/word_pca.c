/* A deterministic 2-D PCA of word vectors, for maps. */
#include "nn/word2vec/word_eval.h"

#include "tensor/error.h"

#include <math.h>
#include <stdlib.h>


/* The leading eigenvector of the symmetric d x d matrix c (power iteration). */
static double leading(const double *c, int64_t d, double *v) {
    double *w = tensor_xmalloc((size_t)d * sizeof *w), lambda = 0;
    for (int64_t i = 0; i < d; i++) v[i] = 1.0 + 0.01 * (double)(i % 7); /* fixed, generic start */
    for (int it = 0; it < 1000; it++) {
        double norm = 0;
        for (int64_t i = 0; i < d; i++) {
            double acc = 0;
            for (int64_t j = 0; j < d; j++) acc += c[i * d + j] * v[j];
            w[i] = acc;
            norm += acc * acc;
        }
        norm = sqrt(norm);
        if (norm == 0) break;
        double change = 0;
        for (int64_t i = 0; i < d; i++) {
            change += fabs(w[i] / norm - v[i]);
            v[i] = w[i] / norm;
        }
        lambda = norm;
        if (change < 1e-10) break;
    }
    free(w);
    return lambda;
}

int nn_word_vectors_pca2(const NnWordVectors *wv, int64_t n, float *xy) {
    if (n < 1 || n > wv->size) return tensor_set_error("pca: asked for %lld of %lld rows", (long long)n, (long long)wv->size);
    const int64_t d = wv->dim;
    double *mean = tensor_xcalloc((size_t)d, sizeof *mean), *c = tensor_xcalloc((size_t)(d * d), sizeof *c);
    double *v1 = tensor_xmalloc((size_t)d * sizeof *v1), *v2 = tensor_xmalloc((size_t)d * sizeof *v2);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) mean[j] += wv->vectors[i * d + j] / (double)n;
    for (int64_t i = 0; i < n; i++) {
        const float *x = wv->vectors + i * d;
        for (int64_t a = 0; a < d; a++)
            for (int64_t b = 0; b < d; b++) c[a * d + b] += (x[a] - mean[a]) * (x[b] - mean[b]);
    }
    double l1 = leading(c, d, v1);
    for (int64_t a = 0; a < d; a++) /* deflate */
        for (int64_t b = 0; b < d; b++) c[a * d + b] -= l1 * v1[a] * v1[b];
    leading(c, d, v2);
    for (int64_t i = 0; i < n; i++) {
        double p1 = 0, p2 = 0;
        for (int64_t j = 0; j < d; j++) {
            double x = wv->vectors[i * d + j] - mean[j];
            p1 += x * v1[j];
            p2 += x * v2[j];
        }
        xy[2 * i] = (float)p1;
        xy[2 * i + 1] = (float)p2;
    }
    free(mean);
    free(c);
    free(v1);
    free(v2);
    return 0;
}
