/* The arithmetic of training: the sigmoid and softplus tables, the fused SGD step for
 * one (center, context) pair (word2vec.c's inner loop: allocation-free, the same bits
 * in every target clone; its pieces are in kernel_internal.h), the same loss written
 * with tape ops (the reference the step is tested against), and the per-thread loop:
 * sentences subsampled into pieces, each piece handed to the objective's updates
 * (objectives.c: shrunk windows, negatives, the tree, rows from the thread's copies). */
#include "nn/word2vec/kernel_internal.h"

#include "autograd/ops.h"
#include "tensor/parallel.h"

#include <math.h>
#include <string.h>

/* ---- the sigmoid tables and the fused step ---- */

float nn__w2v_sig_tab[SIG_N + 2], nn__w2v_softplus_tab[SIG_N + 2];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
    for (int i = 0; i <= SIG_N + 1; i++) {
        double x = -SIG_MAX + 2.0 * SIG_MAX * i / SIG_N;
        nn__w2v_sig_tab[i] = (float)(1.0 / (1.0 + exp(-x)));
        nn__w2v_softplus_tab[i] = (float)(x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)));
    }
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

/* The objective's updates over a subsampled piece (objectives.c). */
static inline void train_piece(Worker *w, int n, float alpha) {
    switch (w->run->m->objective) {
    case W2V_SKIP_GRAM: nn__w2v_train_piece_sg(w, n, alpha); break;
    case W2V_CBOW: nn__w2v_train_piece_cbow(w, n, alpha); break;
    case W2V_SOFTMAX: nn__w2v_train_piece_softmax(w, n, alpha); break;
    }
}

/* See nn__w2v_train_chunk. The whole loop is compiled for AVX-512, AVX2 and baseline
 * x86-64 (the kernel's loops vectorise in each), picked once at load time. */
TENSOR_MULTIVERSION
static void train_chunk(Worker *w, int64_t until) {
    NnWord2Vec *m = w->run->m;
    WorkerState *st = w->st;
    const NnW2vCorpus *c = m->corpus;
    const uint32_t *keep = m->keep;
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
        train_piece(w, n, alpha);
        st->done += p0 - st->pos;
        st->pos = p0;
        if (p0 == len) st->sent++, st->pos = 0;
    }
}

void nn__w2v_train_chunk(Worker *w, int64_t until) { train_chunk(w, until); }
