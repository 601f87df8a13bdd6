/* gensim's KeyedVectors queries (keyed_vectors.h): 3CosAdd and 3CosMul neighbours,
 * the odd one out, and cosines between words and between word lists. */
#include "nn/word2vec/keyed_vectors.h"

#include "nn/word2vec/word_eval.h"
#include "nn/word2vec/word_eval_internal.h"
#include "tensor/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The rows of words[0..n), or -1 after naming the first unknown word. */
static int find_rows(const NnWordVectors *wv, const char *what, const char *const *words, int n, int64_t *rows) {
    if (n > 0 && !words) return tensor_set_error("%s: a list of %d words given as NULL", what, n);
    for (int i = 0; i < n; i++) {
        rows[i] = words[i] ? nn_word_vectors_find(wv, words[i]) : -1;
        if (rows[i] < 0)
            return tensor_set_error("%s: the word '%s' is not in the vocabulary", what, words[i] ? words[i] : "(null)");
    }
    return 0;
}

/* The positive rows then the negative ones, or NULL after saying why (the caller
 * frees them). */
static int64_t *query_rows(const NnWordVectors *wv, const char *what, const NnKvQuery *q) {
    if (q->n_positive < 0 || q->n_negative < 0 || q->n_positive + q->n_negative == 0) {
        tensor_set_error("%s: no positive and no negative word: nothing to compare with", what);
        return NULL;
    }
    int64_t *rows = tensor_xmalloc((size_t)(q->n_positive + q->n_negative) * sizeof *rows);
    if (find_rows(wv, what, q->positive, q->n_positive, rows) != 0 ||
        find_rows(wv, what, q->negative, q->n_negative, rows + q->n_positive) != 0) {
        free(rows);
        return NULL;
    }
    return rows;
}

int64_t nn_kv_most_similar(const NnWordVectors *wv, const NnKvQuery *q, int64_t *rows, float *scores) {
    int64_t *in = query_rows(wv, "most_similar", q);
    if (!in) return -1;
    const int64_t d = wv->dim;
    const int n_in = q->n_positive + q->n_negative;
    /* gensim's mean divides by the total weight; the cosine does not see the scale. */
    float *mean = tensor_xcalloc((size_t)d, sizeof *mean);
    for (int i = 0; i < n_in; i++) {
        const float sign = i < q->n_positive ? 1.0f : -1.0f, *u = wv->unit + in[i] * d;
        for (int64_t j = 0; j < d; j++) mean[j] += sign * u[j];
    }
    int64_t n = q->topn < 1 ? 0 : nn_nearest(wv, mean, q->topn, q->restrict_vocab, in, n_in, rows, scores);
    free(mean);
    free(in);
    return n;
}

static float unit_dot(const NnWordVectors *wv, int64_t a, int64_t b) {
    const float *u = wv->unit + a * wv->dim, *v = wv->unit + b * wv->dim;
    float dot = 0;
    for (int64_t j = 0; j < wv->dim; j++) dot += u[j] * v[j];
    return dot;
}

/* 3CosMul of one row: cosines shifted to [0, 1] (Levy and Goldberg's footnote 7). */
static float cosmul_score(const NnWordVectors *wv, int64_t row, const int64_t *in, int n_positive, int n_negative) {
    double num = 1, den = 1;
    for (int i = 0; i < n_positive; i++) num *= (1.0 + unit_dot(wv, row, in[i])) / 2.0;
    for (int i = 0; i < n_negative; i++) den *= (1.0 + unit_dot(wv, row, in[n_positive + i])) / 2.0;
    return (float)(num / (den + 1e-6));
}

static bool is_query_row(int64_t row, const int64_t *in, int n) {
    for (int i = 0; i < n; i++)
        if (in[i] == row) return true;
    return false;
}

int64_t nn_kv_most_similar_cosmul(const NnWordVectors *wv, const NnKvQuery *q, int64_t *rows, float *scores) {
    if (q->n_positive < 1) {
        tensor_set_error("most_similar_cosmul: no positive word: the product needs at least one");
        return -1;
    }
    int64_t *in = query_rows(wv, "most_similar_cosmul", q);
    if (!in || q->topn < 1) {
        free(in);
        return in ? 0 : -1;
    }
    const int n_in = q->n_positive + q->n_negative;
    int64_t limit = q->restrict_vocab > 0 && q->restrict_vocab < wv->size ? q->restrict_vocab : wv->size, n = 0;
    const int64_t k = q->topn < limit ? q->topn : limit > 0 ? limit : 1; /* a huge topn asks for every row */
    int64_t *best = tensor_xmalloc((size_t)k * sizeof *best);
    float *best_score = tensor_xmalloc((size_t)k * sizeof *best_score);
    for (int64_t row = 0; row < limit; row++)
        if (!is_query_row(row, in, n_in))
            nn__keep_best(k, &n, best, best_score, row, cosmul_score(wv, row, in, q->n_positive, q->n_negative));
    for (int64_t i = 0; i < n; i++) {
        if (rows) rows[i] = best[i];
        if (scores) scores[i] = best_score[i];
    }
    free(best);
    free(best_score);
    free(in);
    return n;
}

int nn_kv_doesnt_match(const NnWordVectors *wv, const char *const *words, int n) {
    if (n < 1) return tensor_set_error("doesnt_match: an empty list of words");
    int64_t *in = tensor_xmalloc((size_t)n * sizeof *in);
    if (find_rows(wv, "doesnt_match", words, n, in) != 0) {
        free(in);
        return -1;
    }
    const int64_t d = wv->dim;
    float *mean = tensor_xcalloc((size_t)d, sizeof *mean);
    for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) mean[j] += wv->unit[in[i] * d + j];
    int worst = -1;
    float worst_cos = 0;
    for (int i = 0; i < n; i++) {
        float dot = 0; /* the mean's length does not change which word is farthest */
        for (int64_t j = 0; j < d; j++) dot += wv->unit[in[i] * d + j] * mean[j];
        /* gensim sorts (cosine, word) pairs: among equal cosines the smallest word is last */
        if (worst < 0 || dot < worst_cos || (dot == worst_cos && strcmp(words[i], words[worst]) < 0)) {
            worst = i;
            worst_cos = dot;
        }
    }
    free(mean);
    free(in);
    return worst;
}

int nn_kv_similarity(const NnWordVectors *wv, const char *w1, const char *w2, double *similarity) {
    int64_t rows[2] = {-1, -1};
    if (find_rows(wv, "similarity", (const char *const[]){w1, w2}, 2, rows) != 0) return -1;
    *similarity = unit_dot(wv, rows[0], rows[1]);
    return 0;
}

/* The sum of the raw vectors of words[0..n) into sum (dim doubles). */
static int sum_vectors(const NnWordVectors *wv, const char *const *words, int n, double *sum) {
    if (n < 1) return tensor_set_error("n_similarity: an empty list of words");
    int64_t *rows = tensor_xmalloc((size_t)n * sizeof *rows);
    int rc = find_rows(wv, "n_similarity", words, n, rows);
    for (int i = 0; rc == 0 && i < n; i++)
        for (int64_t j = 0; j < wv->dim; j++) sum[j] += wv->vectors[rows[i] * wv->dim + j];
    free(rows);
    return rc;
}

int nn_kv_n_similarity(const NnWordVectors *wv, const char *const *ws1, int n1, const char *const *ws2, int n2,
                       double *similarity) {
    const int64_t d = wv->dim;
    double *a = tensor_xcalloc((size_t)(2 * d), sizeof *a), *b = a + d;
    int rc = sum_vectors(wv, ws1, n1, a) == 0 && sum_vectors(wv, ws2, n2, b) == 0 ? 0 : -1;
    if (rc == 0) { /* the means' cosine: the division by the counts cancels */
        double ab = 0, aa = 0, bb = 0;
        for (int64_t j = 0; j < d; j++) ab += a[j] * b[j], aa += a[j] * a[j], bb += b[j] * b[j];
        *similarity = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
    }
    free(a);
    return rc;
}
