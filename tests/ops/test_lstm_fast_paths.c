/* The fused LSTM's fast paths against the plain ones: an embedding lookup folded into
 * the input projection by ag_lstm_lookup (training and inference, both directions, with
 * initial states) against ag_lstm on the same lookup, a table too large to fold, ag_lstm
 * taking x as it is, the LSTM layers after an Embedding calling the fold, and the
 * multi-threaded team against one thread. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <stdlib.h>
#include <string.h>

#define TOL 1e-5

enum { TABLE, KERNEL, RECURRENT, BIAS, H0, C0, N_P };

typedef struct Case {
    int64_t V, B, T, D, H;
    bool state, back;
    Tensor *p[N_P];
    Tensor *ids;
} Case;

static Case make_case(uint64_t seed, int64_t V, int64_t B, int64_t T, int64_t D, int64_t H, bool state,
                      bool back) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 1);
    Case c = {V, B, T, D, H, state, back, {NULL}, NULL};
    c.p[TABLE] = test_random(&rng, -1, 1, TENSOR_SHAPE(V, D));
    c.p[KERNEL] = test_random(&rng, -0.5f, 0.5f, TENSOR_SHAPE(D, 4 * H));
    c.p[RECURRENT] = test_random(&rng, -0.4f, 0.4f, TENSOR_SHAPE(H, 4 * H));
    c.p[BIAS] = test_random(&rng, -0.5f, 0.5f, TENSOR_SHAPE(4 * H));
    if (state) {
        c.p[H0] = test_random(&rng, -1, 1, TENSOR_SHAPE(B, H));
        c.p[C0] = test_random(&rng, -1, 1, TENSOR_SHAPE(B, H));
    }
    c.ids = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T));
    for (int64_t i = 0; i < B * T; i++) ((int32_t *)c.ids->data)[i] = (int32_t)tensor_rng_below(&rng, (uint32_t)V);
    return c;
}

static void free_case(Case *c) {
    for (int k = 0; k < N_P; k++) tensor_free(c->p[k]);
    tensor_free(c->ids);
}

typedef struct Out {
    float *v[3];     /* seq, h, c */
    float *g[N_P];   /* gradients of the parameters */
    bool x_grad;     /* whether x (the lookup's output) got a gradient of its own */
} Out;

/* x = table[ids], given to ag_lstm_lookup with the table and the ids (foldable) or to
 * ag_lstm (plain); then seq, h, c get random upstream gradients. */
static Out run(Case *c, bool foldable, bool grad) {
    Tape *tape = ag_tape_new();
    ag_set_grad_enabled(tape, grad);
    for (int k = 0; k < N_P; k++) tensor_zero_grad(c->p[k]);
    Tensor *x = ag_gather_rows(tape, c->p[TABLE], c->ids);
    Tensor *kern = c->p[KERNEL], *rk = c->p[RECURRENT], *b = c->p[BIAS], *h0 = c->p[H0], *c0 = c->p[C0];
    AgLstmResult r = foldable ? ag_lstm_lookup(tape, x, c->p[TABLE], c->ids, kern, rk, b, h0, c0, c->back)
                              : ag_lstm(tape, x, kern, rk, b, h0, c0, c->back);
    Tensor *outs[3] = {r.seq, r.h, r.c};
    Out o = {{NULL}, {NULL}, false};
    for (int k = 0; k < 3; k++) o.v[k] = test_copy(outs[k]->data, outs[k]->size);
    if (grad) {
        test_backward_random(tape, outs, 3, 99);
        for (int k = 0; k < N_P; k++)
            if (c->p[k]) o.g[k] = test_copy(tensor_grad(c->p[k]), c->p[k]->size);
        o.x_grad = x->grad != NULL;
    }
    ag_tape_free(tape);
    return o;
}

static void free_out(Out *o) {
    for (int k = 0; k < 3; k++) free(o->v[k]);
    for (int k = 0; k < N_P; k++) free(o->g[k]);
}

static void close_arrays(const char *what, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        cr_assert(fabs((double)a[i] - b[i]) <= TOL * fmax(1.0, fabs((double)b[i])),
                  "%s[%lld]: folded %.9g vs plain %.9g", what, (long long)i, a[i], b[i]);
}

static void compare(const Case *c, const Out *f, const Out *p, bool grads) {
    const int64_t sizes[3] = {c->B * c->T * c->H, c->B * c->H, c->B * c->H};
    const char *names[3] = {"seq", "h", "c"}, *pnames[N_P] = {"dtable", "dkernel", "drecurrent", "dbias", "dh0", "dc0"};
    for (int k = 0; k < 3; k++) close_arrays(names[k], f->v[k], p->v[k], sizes[k]);
    if (!grads) return;
    for (int k = 0; k < N_P; k++)
        if (c->p[k]) close_arrays(pnames[k], f->g[k], p->g[k], c->p[k]->size);
}

Test(lstm_fast_paths, folded_lookup_matches_plain_training) {
    uint64_t seed = 1;
    /* 4V <= B*T: folded. Several shapes, both directions, with and without h0/c0. */
    int64_t shapes[][5] = {{5, 4, 6, 3, 4}, {7, 8, 9, 5, 16}, {27, 16, 40, 8, 40}};
    for (int s = 0; s < 3; s++)
        for (int state = 0; state < 2; state++)
            for (int back = 0; back < 2; back++) {
                Case c = make_case(seed++, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4],
                                   state, back);
                Out f = run(&c, true, true), p = run(&c, false, true);
                cr_assert(!f.x_grad, "the fold should send the gradient to the table, not through x");
                cr_assert(p.x_grad, "the plain path forms x's gradient");
                compare(&c, &f, &p, true);
                free_out(&f);
                free_out(&p);
                free_case(&c);
            }
}

Test(lstm_fast_paths, folded_lookup_matches_plain_inference) {
    Case c = make_case(40, 6, 8, 12, 5, 24, true, false);
    Out f = run(&c, true, false), p = run(&c, false, false), g = run(&c, true, true);
    compare(&c, &f, &p, false);
    /* Inference and training run the same folded forward: identical outputs. */
    for (int k = 0; k < 3; k++) {
        int64_t n = k == 0 ? c.B * c.T * c.H : c.B * c.H;
        cr_assert(memcmp(f.v[k], g.v[k], (size_t)n * sizeof(float)) == 0);
    }
    free_out(&f);
    free_out(&p);
    free_out(&g);
    free_case(&c);
}

/* Bitwise equality of two runs' outputs and (when grads) gradients. */
static void same_bits(const Case *c, const Out *a, const Out *b, bool grads) {
    for (int k = 0; k < 3; k++) {
        int64_t n = k == 0 ? c->B * c->T * c->H : c->B * c->H;
        cr_assert(memcmp(a->v[k], b->v[k], (size_t)n * sizeof(float)) == 0, "output %d differs", k);
    }
    for (int k = 0; grads && k < N_P; k++)
        cr_assert(!c->p[k] || memcmp(a->g[k], b->g[k], (size_t)c->p[k]->size * sizeof(float)) == 0,
                  "gradient %d differs", k);
}

Test(lstm_fast_paths, large_table_is_not_folded) {
    /* 4V > B*T: ag_lstm_lookup is ag_lstm on x, so x gets its own gradient. */
    Case c = make_case(41, 50, 2, 5, 3, 4, false, false);
    Out f = run(&c, true, true), p = run(&c, false, true);
    cr_assert(f.x_grad);
    same_bits(&c, &f, &p, true);
    free_out(&f);
    free_out(&p);
    free_case(&c);
}

Test(lstm_fast_paths, plain_op_reads_x_as_it_is) {
    /* x is overwritten after the lookup: ag_lstm reads x, wherever it came from. */
    Case c = make_case(42, 4, 4, 6, 3, 8, false, false);
    Tape *tape = ag_tape_new();
    Tensor *x = ag_gather_rows(tape, c.p[TABLE], c.ids);
    ((float *)x->data)[5] += 0.25f;
    AgLstmResult a = ag_lstm(tape, x, c.p[KERNEL], c.p[RECURRENT], c.p[BIAS], NULL, NULL, false);
    Tensor *xc = tensor_copy(NULL, x);
    AgLstmResult b = ag_lstm(tape, xc, c.p[KERNEL], c.p[RECURRENT], c.p[BIAS], NULL, NULL, false);
    cr_assert(memcmp(a.seq->data, b.seq->data, (size_t)a.seq->size * sizeof(float)) == 0);
    tensor_free(xc);
    ag_tape_free(tape);
    free_case(&c);
}

static Layer *built(Layer *l, NnShape in, uint64_t seed) {
    cr_assert_not_null(l, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    cr_assert_eq(nn_layer_build(l, in, &rng), 0, "%s", tensor_last_error());
    return l;
}

Test(lstm_fast_paths, layers_after_an_embedding_fold) {
    /* Embedding -> LSTM and Embedding -> Bidirectional(LSTM), 4V <= B*T: every LSTM
     * runs ag_lstm_lookup, so the lookup's output gets no gradient, and the LSTM
     * layer's sequence is bitwise the op's on the same table and ids. */
    const int64_t V = 6, B = 4, T = 8, D = 5, H = 12;
    Layer *emb = built(nn_embedding(.vocab = V, .dim = D), NN_SHAPE(TENSOR_I32, T), 50);
    Layer *lstm = built(nn_lstm(.units = H, .return_sequences = true), NN_SHAPE(TENSOR_F32, T, D), 51);
    Layer *bi = built(nn_bidirectional(nn_lstm(.units = H)), NN_SHAPE(TENSOR_F32, T, D), 52);
    Rng rng;
    tensor_rng_seed(&rng, 53, 0);
    Tensor *ids = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T));
    for (int64_t i = 0; i < B * T; i++) tensor_i32(ids)[i] = (int32_t)tensor_rng_below(&rng, (uint32_t)V);
    const NnCallCtx ctx = {.training = true, .rng = &rng};
    for (int which = 0; which < 2; which++) {
        Tape *tape = ag_tape_new();
        Tensor *x = nn_layer_call(emb, tape, ids, &ctx);
        Tensor *y = nn_layer_call(which ? bi : lstm, tape, x, &ctx);
        test_backward_random(tape, &y, 1, 54);
        cr_assert_null(x->grad, "%s after an Embedding: the lookup was not folded",
                       which ? "Bidirectional" : "LSTM");
        if (which == 0) {
            Tensor **p = lstm->params, *table = emb->params[0];
            Tensor *x2 = ag_gather_rows(tape, table, ids);
            AgLstmResult r = ag_lstm_lookup(tape, x2, table, ids, p[0], p[1], p[2], NULL, NULL, false);
            cr_assert(memcmp(r.seq->data, y->data, (size_t)y->size * sizeof(float)) == 0);
        }
        ag_tape_free(tape);
    }
    tensor_free(ids);
    nn_layer_free(emb);
    nn_layer_free(lstm);
    nn_layer_free(bi);
}

Test(lstm_fast_paths, team_matches_one_thread) {
    /* Big enough for a team of threads (a step's recurrent GEMM >= 2 MFLOP): H = 160,
     * and H = 72 with B = 128, whose hidden units split unevenly (32 + 40); outputs and
     * gradients bitwise equal. */
    const Case cases[2] = {make_case(43, 9, 64, 6, 6, 160, true, true), make_case(44, 27, 128, 5, 8, 72, false, false)};
    for (int ci = 0; ci < 2; ci++) {
        Case c = cases[ci];
        Out o[2];
        for (int th = 0; th < 2; th++) {
            cr_assert_eq(tensor_set_num_threads(th + 1), 0);
            o[th] = run(&c, true, true);
        }
        for (int k = 0; k < 3; k++) {
            int64_t n = k == 0 ? c.B * c.T * c.H : c.B * c.H;
            cr_assert(memcmp(o[0].v[k], o[1].v[k], (size_t)n * sizeof(float)) == 0, "case %d: output %d differs", ci, k);
        }
        for (int k = 0; k < N_P; k++)
            cr_assert(!c.p[k] || memcmp(o[0].g[k], o[1].g[k], (size_t)c.p[k]->size * sizeof(float)) == 0,
                      "case %d: gradient %d differs", ci, k);
        /* And the team's folded run against the plain path, also run by the team. */
        Out p = run(&c, false, true);
        compare(&c, &o[1], &p, true);
        free_out(&p);
        free_out(&o[0]);
        free_out(&o[1]);
        free_case(&c);
    }
}

Test(lstm_fast_paths, short_wide_sequence_recurrent_gradient) {
    /* T = 3, H = 64, no h0: the recurrent gradient skips the first step's zero rows. */
    for (int back = 0; back < 2; back++) {
        Rng rng;
        tensor_rng_seed(&rng, 44, back);
        Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(4, 3, 5));
        Tensor *k = test_random(&rng, -0.5f, 0.5f, TENSOR_SHAPE(5, 256));
        Tensor *r = test_random(&rng, -0.3f, 0.3f, TENSOR_SHAPE(64, 256));
        Tensor *b = test_random(&rng, -0.5f, 0.5f, TENSOR_SHAPE(256));
        float *grads[2][4];
        for (int ref = 0; ref < 2; ref++) {
            Tape *tape = ag_tape_new();
            Tensor *all[4] = {x, k, r, b};
            for (int i = 0; i < 4; i++) tensor_zero_grad(all[i]);
            AgLstmResult res = (ref ? ag_lstm_reference : ag_lstm)(tape, x, k, r, b, NULL, NULL, back);
            float *up = malloc((size_t)res.seq->size * sizeof(float));
            Rng urng; /* the same upstream gradient for both */
            tensor_rng_seed(&urng, 45, back);
            tensor_fill_uniform(up, res.seq->size, &urng, -1, 1);
            ag_backward_with(tape, res.seq, up);
            free(up);
            for (int i = 0; i < 4; i++) {
                grads[ref][i] = malloc((size_t)all[i]->size * sizeof(float));
                memcpy(grads[ref][i], tensor_grad(all[i]), (size_t)all[i]->size * sizeof(float));
            }
            ag_tape_free(tape);
        }
        const char *names[4] = {"dx", "dkernel", "drecurrent", "dbias"};
        Tensor *all[4] = {x, k, r, b};
        for (int i = 0; i < 4; i++) {
            close_arrays(names[i], grads[0][i], grads[1][i], all[i]->size);
            free(grads[0][i]);
            free(grads[1][i]);
        }
        tensor_free(x), tensor_free(k), tensor_free(r), tensor_free(b);
    }
}
