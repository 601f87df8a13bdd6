/* Each objective's updates over one subsampled piece of a sentence, as gensim's
 * word2vec_inner.pyx trains them (word2vec.c's, but for the sigmoid: the table of
 * kernel_internal.h everywhere, with no skipped targets beyond |x| > 6):
 *  - skip-gram: for every (center, context) pair in the shrunk window, the context
 *    word's input row learns to predict the center through hierarchical softmax
 *    (the center's path in the tree) and then negative sampling (the center against
 *    K noise words), each step moving the input row by its accumulated error;
 *  - CBOW: for every center, the sum or mean of its context's input rows (neu1)
 *    predicts it the same two ways; each context row then gets the accumulated error,
 *    whole with the mean (cbow_mean=1, as gensim and word2vec.c) and divided by the
 *    context's size with the sum (cbow_mean=0, as gensim);
 *  - the full softmax: skip-gram with -log softmax(U v)[center] over all V output
 *    rows, O(V D) per pair.
 * Losses are taken before each update. Every function is compiled per target (as
 * kernel.c's loop) so that the row loops vectorise. */
#include "nn/word2vec/kernel_internal.h"

#include "tensor/parallel.h"

#include <math.h>

/* What a piece's updates read: the tables, or this thread's copies of their rows. */
typedef struct Tables {
    int64_t D;
    int K, window;
    uint32_t V;
    const uint32_t *noise_p;
    const int32_t *alias;
    float *syn0, *syn1neg, *syn1; /* input, negative sampling / softmax output, tree rows */
    LocalRows *lin, *lout, *lhs;  /* NULL: write the shared tables */
    const W2vTree *tree;          /* NULL without hierarchical softmax */
} Tables;

static inline Tables tables_of(Worker *w) {
    const NnWord2Vec *m = w->run->m;
    const bool local = w->run->local;
    return (Tables){.D = m->D, .K = m->o.negative, .window = m->o.window, .V = (uint32_t)m->V,
                    .noise_p = m->noise_p, .alias = m->noise_alias, .syn0 = tensor_f32(m->in),
                    .syn1neg = m->out ? tensor_f32(m->out) : NULL, .syn1 = m->hs ? tensor_f32(m->hs) : NULL,
                    .lin = local ? &w->in : NULL, .lout = local ? &w->out : NULL, .lhs = local ? &w->hs : NULL,
                    .tree = m->hs ? &m->tree : NULL};
}

/* Hierarchical softmax into work (zeroed first): in predicts the center's path,
 * label 1 - code at each inner node. */
W2V_INLINE float hs_step(const Tables *t, const float *restrict in, int32_t center, float alpha,
                         float *restrict work) {
    const int64_t D = t->D;
    float loss = 0;
    for (int64_t i = 0; i < D; i++) work[i] = 0;
    for (int64_t k = t->tree->start[center]; k < t->tree->start[center + 1]; k++) {
        float *u = row_of(t->lhs, t->syn1, t->tree->point[k], D);
        loss += logistic_target(in, u, t->tree->code[k] == 0, D, alpha, work);
    }
    return loss;
}

/* Negative sampling into work: the center (label 1) and K draws from the alias table
 * of count^0.75 (label 0), a draw equal to the center skipped as in word2vec.c. */
W2V_INLINE float ns_step(const Tables *t, uint64_t *rng, const float *restrict in, int32_t center, float alpha,
                         float *restrict work) {
    const int64_t D = t->D;
    float *rows[101];
    int nt = 0;
    rows[nt++] = row_of(t->lout, t->syn1neg, center, D);
    for (int k = 0; k < t->K; k++) {
        uint64_t r = next_random(rng);
        uint32_t col = (uint32_t)(((r >> 32) * t->V) >> 32);
        int32_t neg = (uint32_t)r < t->noise_p[col] ? (int32_t)col : t->alias[col];
        if (neg != center) rows[nt++] = row_of(t->lout, t->syn1neg, neg, D);
    }
    /* Memory latency, not arithmetic, is the cost here: ask for every random row (the
     * center's is in cache) before the kernel needs the first. */
    for (int k = 1; k < nt; k++)
        for (int64_t off = 0; off < D; off += 16) __builtin_prefetch(rows[k] + off, 1, 3);
    return ns_rows(in, rows, nt, D, alpha, work);
}

W2V_INLINE void add_to(float *restrict row, const float *restrict work, int64_t d) {
    for (int64_t i = 0; i < d; i++) row[i] += work[i];
}

/* The window of position i, shrunk by a random 0..window-1: [*lo, *hi] within the piece. */
W2V_INLINE void window_of(const Tables *t, uint64_t *rng, int i, int n, int *lo, int *hi) {
    int b = (int)((uint32_t)next_random(rng) % (uint32_t)t->window);
    *lo = i - t->window + b < 0 ? 0 : i - t->window + b;
    *hi = i + t->window - b >= n ? n - 1 : i + t->window - b;
}

TENSOR_MULTIVERSION
void nn__w2v_train_piece_sg(Worker *w, int n, float alpha) {
    const Tables t = tables_of(w);
    WorkerState *st = w->st;
    const int32_t *piece = w->piece;
    for (int i = 0; i < n; i++) {
        int lo, hi;
        window_of(&t, &st->rng, i, n, &lo, &hi);
        for (int j = lo; j <= hi; j++) {
            if (j == i) continue;
            float *in = row_of(t.lin, t.syn0, piece[j], t.D), loss = 0;
            if (t.tree) { /* first, as gensim: negative sampling then sees the moved row */
                loss += hs_step(&t, in, piece[i], alpha, w->work);
                add_to(in, w->work, t.D);
            }
            if (t.K) {
                loss += ns_step(&t, &st->rng, in, piece[i], alpha, w->work);
                add_to(in, w->work, t.D);
            }
            st->loss += loss;
            st->epoch_pairs++;
        }
    }
}

/* neu1 = the sum of the context's input rows (piece[lo..hi] but i), times scale. */
W2V_INLINE void context_vector(const Tables *t, const int32_t *piece, int i, int lo, int hi, float scale,
                               float *restrict neu1) {
    const int64_t D = t->D;
    for (int64_t k = 0; k < D; k++) neu1[k] = 0;
    for (int j = lo; j <= hi; j++) {
        if (j == i) continue;
        const float *restrict row = row_of(t->lin, t->syn0, piece[j], D);
        for (int64_t k = 0; k < D; k++) neu1[k] += row[k];
    }
    if (scale != 1.0f)
        for (int64_t k = 0; k < D; k++) neu1[k] *= scale;
}

/* Every context row += work times scale (gensim scales work itself first). */
W2V_INLINE void spread(const Tables *t, const int32_t *piece, int i, int lo, int hi, float scale,
                       float *restrict work) {
    const int64_t D = t->D;
    if (scale != 1.0f)
        for (int64_t k = 0; k < D; k++) work[k] *= scale;
    for (int j = lo; j <= hi; j++)
        if (j != i) add_to(row_of(t->lin, t->syn0, piece[j], D), work, D);
}

TENSOR_MULTIVERSION
void nn__w2v_train_piece_cbow(Worker *w, int n, float alpha) {
    const Tables t = tables_of(w);
    const bool sum = w->run->m->o.cbow_sum;
    WorkerState *st = w->st;
    const int32_t *piece = w->piece;
    for (int i = 0; i < n; i++) {
        int lo, hi;
        window_of(&t, &st->rng, i, n, &lo, &hi);
        const int count = hi - lo; /* the window holds i */
        if (count == 0) continue; /* no context, no update (word2vec.c's `if (cw)`) */
        const float inv = 1.0f / (float)count;
        float loss = 0;
        if (t.tree) { /* first, as gensim: negative sampling then sums the moved rows */
            context_vector(&t, piece, i, lo, hi, sum ? 1.0f : inv, w->neu1);
            loss += hs_step(&t, w->neu1, piece[i], alpha, w->work);
            spread(&t, piece, i, lo, hi, sum ? inv : 1.0f, w->work);
        }
        if (t.K) {
            context_vector(&t, piece, i, lo, hi, sum ? 1.0f : inv, w->neu1);
            loss += ns_step(&t, &st->rng, w->neu1, piece[i], alpha, w->work);
            spread(&t, piece, i, lo, hi, sum ? inv : 1.0f, w->work);
        }
        st->loss += loss;
        st->epoch_pairs++;
    }
}

/* The full softmax step for one pair: scores s = U in over every output row, p =
 * softmax(s), each row u_r += alpha (y_r - p_r) in and in += alpha sum_r (y_r - p_r)
 * u_r (the rows as they were). Returns -log p_center = log sum exp(s) - s_center. */
W2V_INLINE float softmax_step(const Tables *t, float *restrict in, int32_t center, float alpha,
                              float *restrict work, float *restrict s) {
    const int64_t D = t->D;
    const uint32_t V = t->V;
    float top = -INFINITY;
    for (uint32_t r = 0; r < V; r++) {
        s[r] = dot(in, row_of(t->lout, t->syn1neg, (int32_t)r, D), D);
        top = s[r] > top ? s[r] : top;
    }
    const float s_center = s[center];
    double total = 0; /* in double: V terms */
    for (uint32_t r = 0; r < V; r++) total += s[r] = expf(s[r] - top);
    const float inv = (float)(1.0 / total);
    for (int64_t k = 0; k < D; k++) work[k] = 0;
    for (uint32_t r = 0; r < V; r++) {
        float *restrict u = row_of(t->lout, t->syn1neg, (int32_t)r, D);
        float g = ((r == (uint32_t)center ? 1.0f : 0.0f) - s[r] * inv) * alpha;
        for (int64_t k = 0; k < D; k++) {
            float uk = u[k];
            work[k] += g * uk;
            u[k] = uk + g * in[k];
        }
    }
    add_to(in, work, D);
    return (float)(log(total) + (double)top - (double)s_center);
}

TENSOR_MULTIVERSION
void nn__w2v_train_piece_softmax(Worker *w, int n, float alpha) {
    const Tables t = tables_of(w);
    WorkerState *st = w->st;
    const int32_t *piece = w->piece;
    for (int i = 0; i < n; i++) {
        int lo, hi;
        window_of(&t, &st->rng, i, n, &lo, &hi);
        for (int j = lo; j <= hi; j++) {
            if (j == i) continue;
            float *in = row_of(t.lin, t.syn0, piece[j], t.D);
            st->loss += softmax_step(&t, in, piece[i], alpha, w->work, w->scores);
            st->epoch_pairs++;
        }
    }
}
