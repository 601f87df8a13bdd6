/* The arithmetic of training: the sigmoid and softplus tables, the fused SGD step for
 * one (center, context) pair (word2vec.c's inner loop: allocation-free, the same bits
 * in every target clone), the same loss written with tape ops (the reference the
 * step is tested against), and the per-thread loop that feeds the step: subsampling,
 * shrunk windows, negatives from the alias table, rows from the thread's copies. */
#include "nn/word2vec/word2vec_internal.h"

#include "autograd/ops.h"
#include "tensor/parallel.h"

#include <math.h>
#include <string.h>

/* ---- the sigmoid tables and the fused step ---- */

#define SIG_MAX 8.0f
#define SIG_N 4096 /* intervals over [-SIG_MAX, SIG_MAX] */
static float sig_tab[SIG_N + 2], softplus_tab[SIG_N + 2]; /* sigmoid(x), log(1 + e^x) */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
    for (int i = 0; i <= SIG_N + 1; i++) {
        double x = -SIG_MAX + 2.0 * SIG_MAX * i / SIG_N;
        sig_tab[i] = (float)(1.0 / (1.0 + exp(-x)));
        softplus_tab[i] = (float)(x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)));
    }
}

#define W2V_INLINE static inline __attribute__((always_inline))

/* Linear interpolation in a table; callers handle |x| >= SIG_MAX. */
W2V_INLINE float tab_lookup(const float *t, float x) {
    float pos = (x + SIG_MAX) * (SIG_N / (2 * SIG_MAX));
    int i = (int)pos;
    return t[i] + (pos - (float)i) * (t[i + 1] - t[i]);
}

/* Written so that a NaN takes the first branch and never reaches the table index. */
W2V_INLINE float sigmoid_tab(float x) {
    return !(x < SIG_MAX) ? 1.0f : x <= -SIG_MAX ? 0.0f : tab_lookup(sig_tab, x);
}

W2V_INLINE float softplus(float x) { /* -log sigmoid(-x) */
    return !(x < SIG_MAX) ? x : x <= -SIG_MAX ? 0.0f : tab_lookup(softplus_tab, x);
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

/* The fused step over the target rows (rows[0] the center's, then the negatives'). */
W2V_INLINE float sgd_rows(float *restrict in, float *const *rows, int n, int64_t d, float alpha,
                          float *restrict work) {
    float loss = 0;
    for (int64_t i = 0; i < d; i++) work[i] = 0;
    for (int t = 0; t < n; t++) {
        float *restrict u = rows[t];
        float f = dot(in, u, d), label = t == 0 ? 1.0f : 0.0f;
        loss += t == 0 ? softplus(-f) : softplus(f);
        float g = (label - sigmoid_tab(f)) * alpha;
        for (int64_t i = 0; i < d; i++) {
            float ui = u[i];
            work[i] += g * ui;
            u[i] = ui + g * in[i];
        }
    }
    for (int64_t i = 0; i < d; i++) in[i] += work[i];
    return loss;
}

float nn_w2v_sgd_pair(float *in_row, float *out_table, int64_t dim, int32_t center, const int32_t *negatives,
                      int n_negatives, float alpha, float *work) {
    pthread_once(&tables_once, tables_init);
    float *rows[101];
    int n = 0;
    rows[n++] = out_table + (int64_t)center * dim;
    for (int k = 0; k < n_negatives && k < 100; k++)
        if (negatives[k] != center) rows[n++] = out_table + (int64_t)negatives[k] * dim;
    return sgd_rows(in_row, rows, n, dim, alpha, work);
}

void nn__w2v_init_tables(void) { pthread_once(&tables_once, tables_init); }

float nn_w2v_sigmoid(float x) {
    pthread_once(&tables_once, tables_init);
    return sigmoid_tab(x);
}

Tensor *nn_w2v_pair_loss(Tape *tape, Tensor *in_table, Tensor *out_table, int32_t context, int32_t center,
                         const int32_t *negatives, int n_negatives) {
    Arena *arena = ag_tape_arena(tape);
    int n = 1; /* center, then the negatives the kernel does not skip (those equal to center) */
    for (int i = 0; i < n_negatives; i++) n += negatives[i] != center;
    Tensor *targets = tensor_i32_zeros(arena, TENSOR_SHAPE(n));
    int32_t *t = tensor_i32(targets);
    *t++ = center;
    for (int i = 0; i < n_negatives; i++)
        if (negatives[i] != center) *t++ = negatives[i];
    Tensor *labels = tensor_zeros(arena, TENSOR_SHAPE(n, 1));
    tensor_f32(labels)[0] = 1.0f;
    Tensor *ctx = tensor_i32_from_array(arena, TENSOR_SHAPE(1), &context);
    Tensor *v = ag_gather_rows(tape, in_table, ctx);     /* (1, D) */
    Tensor *u = ag_gather_rows(tape, out_table, targets); /* (n, D) */
    Tensor *logits = ag_matmul_t(tape, u, v, false, true); /* (n, 1) */
    return ag_scale(tape, ag_bce_with_logits(tape, logits, labels), (float)n); /* mean -> sum */
}

/* ---- the per-thread training loop ---- */

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

/* See nn__w2v_train_chunk. The whole loop is compiled for AVX-512, AVX2 and baseline
 * x86-64 (the kernel's loops vectorise in each), picked once at load time. */
TENSOR_MULTIVERSION
static void train_chunk(Worker *w, int64_t until) {
    NnWord2Vec *m = w->run->m;
    WorkerState *st = w->st;
    const NnW2vCorpus *c = m->corpus;
    const int64_t D = m->D;
    const int K = m->o.negative, window = m->o.window;
    const uint32_t V = (uint32_t)m->V, *keep = m->keep, *noise_p = m->noise_p;
    const int32_t *alias = m->noise_alias;
    float *syn0 = tensor_f32(m->in), *syn1 = tensor_f32(m->out), *rows[101];
    LocalRows *lin = w->run->local ? &w->in : NULL, *lout = w->run->local ? &w->out : NULL;
    int32_t *piece = w->piece;
    const float alpha = nn__w2v_alpha(m, st);
    while (st->done < until && st->done < st->budget) {
        if (st->sent == st->s1) { /* a new pass over its sentences */
            if (st->epoch < m->o.iter) {
                m->pass_loss[(int64_t)w->id * m->o.iter + st->epoch] = st->loss;
                m->pass_pairs[(int64_t)w->id * m->o.iter + st->epoch] = st->epoch_pairs;
            }
            st->pairs += st->epoch_pairs;
            st->epoch_pairs = 0;
            st->loss = 0;
            st->epoch++;
            st->sent = st->s0;
            st->pos = 0;
        }
        int64_t len;
        const int32_t *sent = nn__w2v_sentence(c, st->sent, &len);
        int64_t p0 = st->pos;
        int n = 0; /* subsample into a piece of at most MAX_PIECE words */
        for (; p0 < len && n < MAX_PIECE; p0++) {
            int32_t id = sent[p0];
            if (keep[id] != UINT32_MAX && keep[id] < (uint32_t)next_random(&st->rng)) continue;
            piece[n++] = id;
        }
        for (int i = 0; i < n; i++) {
            int b = (int)((uint32_t)next_random(&st->rng) % (uint32_t)window);
            int lo = i - window + b, hi = i + window - b;
            for (int j = lo < 0 ? 0 : lo; j <= hi && j < n; j++) {
                if (j == i) continue;
                int nt = 0;
                rows[nt++] = row_of(lout, syn1, piece[i], D);
                for (int k = 0; k < K; k++) {
                    uint64_t r = next_random(&st->rng);
                    uint32_t col = (uint32_t)(((r >> 32) * V) >> 32);
                    int32_t neg = (uint32_t)r < noise_p[col] ? (int32_t)col : alias[col];
                    if (neg != piece[i]) rows[nt++] = row_of(lout, syn1, neg, D); /* as word2vec.c */
                }
                float *in = row_of(lin, syn0, piece[j], D);
                /* Memory latency, not arithmetic, is the cost here: ask for every random row
                 * (the center's is in cache) before the kernel needs the first. */
                for (int t = 1; t < nt; t++)
                    for (int64_t off = 0; off < D; off += 16) __builtin_prefetch(rows[t] + off, 1, 3);
                st->loss += sgd_rows(in, rows, nt, D, alpha, w->work);
                st->epoch_pairs++;
            }
        }
        st->done += p0 - st->pos;
        st->pos = p0;
        if (p0 == len) st->sent++, st->pos = 0;
    }
}

void nn__w2v_train_chunk(Worker *w, int64_t until) { train_chunk(w, until); }
