/* The arithmetic the training loops share (kernel.c's loop, objectives.c's
 * updates): the sigmoid and softplus tables, a dot product that gives the same bits
 * in every target clone, the fused logistic steps, the generator and the thread's
 * row copies. Everything is inline so that each multiversioned caller gets its own
 * vectorised copy. Not part of the public API. */
#ifndef NN_WORD2VEC_KERNEL_INTERNAL_H
#define NN_WORD2VEC_KERNEL_INTERNAL_H

#include "nn/word2vec/word2vec_internal.h"

#include <string.h>

#define SIG_MAX 8.0f
#define SIG_N 4096 /* intervals over [-SIG_MAX, SIG_MAX] */
/* kernel.c: sigmoid(x) and log(1 + e^x) on the grid, filled by nn__w2v_init_tables. */
extern float nn__w2v_sig_tab[SIG_N + 2], nn__w2v_softplus_tab[SIG_N + 2];

#define W2V_INLINE static inline __attribute__((always_inline))

/* Linear interpolation in a table; callers handle |x| >= SIG_MAX. */
W2V_INLINE float tab_lookup(const float *t, float x) {
    float pos = (x + SIG_MAX) * (SIG_N / (2 * SIG_MAX));
    int i = (int)pos;
    return t[i] + (pos - (float)i) * (t[i + 1] - t[i]);
}

/* Written so that a NaN takes the first branch and never reaches the table index. */
W2V_INLINE float sigmoid_tab(float x) {
    return !(x < SIG_MAX) ? 1.0f : x <= -SIG_MAX ? 0.0f : tab_lookup(nn__w2v_sig_tab, x);
}

W2V_INLINE float softplus(float x) { /* -log sigmoid(-x) */
    return !(x < SIG_MAX) ? x : x <= -SIG_MAX ? 0.0f : tab_lookup(nn__w2v_softplus_tab, x);
}

/* 16 lane-wise partial sums in a fixed order: vectorised by the compiler in every
 * target clone, and the same result in each (no reassociation, no FMA contraction). */
W2V_INLINE float dot(const float *restrict a, const float *restrict b, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += a[i + k] * b[i + k];
    for (int k = 0; i < n; i++, k++) acc[k] += a[i] * b[i];
    for (int w = 8; w; w >>= 1)
        for (int k = 0; k < w; k++) acc[k] += acc[k + w];
    return acc[0];
}

/* One logistic target of the fused step: g = alpha (label - sigmoid(u . in)),
 * work += g u, u += g in. Returns the target's loss -log sigmoid(+-u . in). */
W2V_INLINE float logistic_target(const float *restrict in, float *restrict u, bool positive, int64_t d,
                                 float alpha, float *restrict work) {
    float f = dot(in, u, d);
    float g = ((positive ? 1.0f : 0.0f) - sigmoid_tab(f)) * alpha;
    for (int64_t i = 0; i < d; i++) {
        float ui = u[i];
        work[i] += g * ui;
        u[i] = ui + g * in[i];
    }
    return positive ? softplus(-f) : softplus(f);
}

/* Negative sampling's step into work (zeroed first) over the target rows (rows[0]
 * the center's, label 1, then the negatives', label 0); in is left as it is. */
W2V_INLINE float ns_rows(const float *restrict in, float *const *rows, int n, int64_t d, float alpha,
                         float *restrict work) {
    float loss = 0;
    for (int64_t i = 0; i < d; i++) work[i] = 0;
    for (int t = 0; t < n; t++) loss += logistic_target(in, rows[t], t == 0, d, alpha, work);
    return loss;
}

/* The fused skip-gram step: ns_rows, then in += work. */
W2V_INLINE float sgd_rows(float *restrict in, float *const *rows, int n, int64_t d, float alpha,
                          float *restrict work) {
    float loss = ns_rows(in, rows, n, d, alpha, work);
    for (int64_t i = 0; i < d; i++) in[i] += work[i];
    return loss;
}

W2V_INLINE uint64_t next_random(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The row's storage for this thread: the shared row, or its own copy of it. */
W2V_INLINE float *row_of(LocalRows *l, float *table, int32_t row, int64_t d) {
    if (!l) return table + (int64_t)row * d;
    int32_t s = l->slot[row];
    if (s < 0) {
        s = l->slot[row] = (int32_t)l->n++;
        l->rows[s] = row;
        memcpy(l->pool + (int64_t)s * d, table + (int64_t)row * d, (size_t)d * sizeof(float));
    }
    return l->pool + (int64_t)s * d;
}

#endif
