/* lstm: the fused op against the composed reference (outputs and every gradient, many
 * shapes, both directions, with and without initial states), finite-difference checks,
 * a hand-computed one-step cell, bad-shape aborts (ag_lstm_lookup's table and ids too)
 * and thread-count determinism. */
#include "helpers.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fused and reference agree to |a - b| <= TOL * max(1, |b|). */
#define TOL 1e-5

enum { X, KERNEL, RECURRENT, BIAS, H0, C0, N_IN };

typedef struct Inputs {
    int64_t B, T, D, H;
    Tensor *t[N_IN]; /* h0, c0 NULL when absent */
} Inputs;

static Inputs make_inputs(Rng *rng, int64_t B, int64_t T, int64_t D, int64_t H, bool state) {
    Inputs in = {B, T, D, H, {NULL}};
    in.t[X] = test_random(rng, -1, 1, TENSOR_SHAPE(B, T, D));
    in.t[KERNEL] = test_random(rng, -0.5f, 0.5f, TENSOR_SHAPE(D, 4 * H));
    in.t[RECURRENT] = test_random(rng, -0.4f, 0.4f, TENSOR_SHAPE(H, 4 * H));
    in.t[BIAS] = test_random(rng, -0.5f, 0.5f, TENSOR_SHAPE(4 * H));
    if (state) {
        in.t[H0] = test_random(rng, -1, 1, TENSOR_SHAPE(B, H));
        in.t[C0] = test_random(rng, -1, 1, TENSOR_SHAPE(B, H));
    }
    return in;
}

static void free_inputs(Inputs *in) {
    for (int k = 0; k < N_IN; k++) tensor_free(in->t[k]);
}

typedef AgLstmResult (*LstmFn)(Tape *, Tensor *, Tensor *, Tensor *, Tensor *, Tensor *, Tensor *,
                               bool);

/* Everything one run produces: outputs seq, h, c, then the gradient of each input. */
typedef struct Run {
    float *out[3];
    float *grad[N_IN];
} Run;

/* which: bit 0 seeds seq with r[0], bit 1 h with r[1], bit 2 c with r[2], each through
 * its own ag_backward_with (leaf gradients accumulate across the calls). */
static Run run(LstmFn fn, Inputs *in, bool back, float *const r[3], unsigned which) {
    Tape *tape = ag_tape_new();
    for (int k = 0; k < N_IN; k++) tensor_zero_grad(in->t[k]);
    AgLstmResult res = fn(tape, in->t[X], in->t[KERNEL], in->t[RECURRENT], in->t[BIAS], in->t[H0],
                          in->t[C0], back);
    Tensor *outs[3] = {res.seq, res.h, res.c};
    cr_assert_eq(res.seq->ndim, 3);
    cr_assert(res.seq->shape[0] == in->B && res.seq->shape[1] == in->T &&
              res.seq->shape[2] == in->H);
    cr_assert(res.h->shape[0] == in->B && res.h->shape[1] == in->H);
    cr_assert(res.c->shape[0] == in->B && res.c->shape[1] == in->H);
    for (int k = 0; k < 3; k++)
        if (which & (1u << k)) ag_backward_with(tape, outs[k], r[k]);
    Run out = {{NULL}, {NULL}};
    for (int k = 0; k < 3; k++) out.out[k] = test_copy(outs[k]->data, outs[k]->size);
    for (int k = 0; k < N_IN; k++) {
        Tensor *t = in->t[k];
        if (t && t->requires_grad) {
            out.grad[k] = test_copy(tensor_grad(t), t->size);
            tensor_zero_grad(t);
        }
    }
    ag_tape_free(tape);
    return out;
}

static void free_run(Run *r) {
    for (int k = 0; k < 3; k++) free(r->out[k]);
    for (int k = 0; k < N_IN; k++) free(r->grad[k]);
}

/* The quantities compared: outputs seq, h, c, then the gradient of each input. */
static const char *NAMES[3 + N_IN] = {"seq", "h",     "c",   "dx",
                                      "dkernel", "drecurrent", "dbias", "dh0", "dc0"};
static double worst[3 + N_IN]; /* largest |a - b| / max(1, |b|) seen for each */

static void compare(int q, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (d > worst[q]) worst[q] = d;
        cr_assert(d <= TOL, "%s[%lld]: fused %.9g vs reference %.9g", NAMES[q], (long long)i,
                  a[i], b[i]);
    }
}

static void compare_runs(const Run *f, const Run *ref, const Inputs *in) {
    int64_t sizes[3] = {in->B * in->T * in->H, in->B * in->H, in->B * in->H};
    for (int k = 0; k < 3; k++) compare(k, f->out[k], ref->out[k], sizes[k]);
    for (int k = 0; k < N_IN; k++) {
        cr_assert_eq(f->grad[k] == NULL, ref->grad[k] == NULL);
        if (f->grad[k]) compare(3 + k, f->grad[k], ref->grad[k], in->t[k]->size);
    }
}

/* Runs the fused and the reference op on the same inputs and upstream gradients. */
static void check_against_reference(Inputs *in, bool back, unsigned which, uint64_t seed) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 7);
    int64_t sizes[3] = {in->B * in->T * in->H, in->B * in->H, in->B * in->H};
    float *r[3];
    for (int k = 0; k < 3; k++) {
        r[k] = tensor_xmalloc((size_t)(sizes[k] ? sizes[k] : 1) * sizeof(float));
        tensor_fill_uniform(r[k], sizes[k], &rng, -1, 1);
    }
    Run f = run(ag_lstm, in, back, r, which), ref = run(ag_lstm_reference, in, back, r, which);
    compare_runs(&f, &ref, in);
    free_run(&f);
    free_run(&ref);
    for (int k = 0; k < 3; k++) free(r[k]);
}

/* Prints the largest differences measured (stderr; ctest shows it with -V). */
static void report(const char *test) {
    fprintf(stderr, "%s: max |fused - reference| / max(1, |reference|):", test);
    for (int q = 0; q < 3 + N_IN; q++) fprintf(stderr, " %s %.2g", NAMES[q], worst[q]);
    fprintf(stderr, " (tolerance %g)\n", TOL);
}

Test(op_lstm, matches_reference) {
    int64_t shapes[][4] = {
        {1, 1, 1, 1}, {2, 1, 3, 4}, {3, 7, 5, 6}, {4, 100, 8, 16}, {16, 40, 10, 32}};
    uint64_t seed = 1;
    for (int s = 0; s < 5; s++)
        for (int state = 0; state < 2; state++)
            for (int back = 0; back < 2; back++) {
                Rng rng;
                tensor_rng_seed(&rng, seed++, 0);
                Inputs in = make_inputs(&rng, shapes[s][0], shapes[s][1], shapes[s][2],
                                        shapes[s][3], state);
                check_against_reference(&in, back, 7u, seed);
                free_inputs(&in);
            }
    report("matches_reference");
}

Test(op_lstm, single_output_gradients) {
    /* Only one output receives a gradient: the others' ag_output_grad is NULL. */
    for (unsigned which = 1; which <= 4; which <<= 1)
        for (int back = 0; back < 2; back++) {
            Rng rng;
            tensor_rng_seed(&rng, 100 + which, back);
            Inputs in = make_inputs(&rng, 3, 6, 4, 5, true);
            check_against_reference(&in, back, which, which);
            free_inputs(&in);
        }
    report("single_output_gradients");
}

Test(op_lstm, some_inputs_without_gradient) {
    /* x and h0 need no gradient (ag_input_grad returns NULL for them); c0 absent. */
    Rng rng;
    tensor_rng_seed(&rng, 200, 0);
    Inputs in = make_inputs(&rng, 3, 5, 4, 6, true);
    tensor_free(in.t[C0]);
    in.t[C0] = NULL;
    in.t[X]->requires_grad = false;
    in.t[H0]->requires_grad = false;
    check_against_reference(&in, false, 7u, 3);
    /* Only h0 needs a gradient. */
    for (int k = 0; k < N_IN; k++)
        if (in.t[k]) in.t[k]->requires_grad = k == H0;
    check_against_reference(&in, true, 7u, 4);
    free_inputs(&in);
    report("some_inputs_without_gradient");
}

Test(op_lstm, no_grad_mode_records_nothing) {
    Rng rng;
    tensor_rng_seed(&rng, 300, 0);
    Inputs in = make_inputs(&rng, 2, 4, 3, 5, true);
    Tape *tape = ag_tape_new();
    AgLstmResult a = ag_lstm(tape, in.t[X], in.t[KERNEL], in.t[RECURRENT], in.t[BIAS], in.t[H0],
                             in.t[C0], false);
    ag_set_grad_enabled(tape, false);
    AgLstmResult b = ag_lstm(tape, in.t[X], in.t[KERNEL], in.t[RECURRENT], in.t[BIAS], in.t[H0],
                             in.t[C0], false);
    cr_assert_eq(ag_tape_size(tape), 1);
    cr_assert_null(b.seq->node);
    cr_assert(memcmp(a.seq->data, b.seq->data, (size_t)a.seq->size * sizeof(float)) == 0);
    cr_assert(memcmp(a.c->data, b.c->data, (size_t)a.c->size * sizeof(float)) == 0);
    cr_assert(memcmp(a.h->data, b.h->data, (size_t)a.h->size * sizeof(float)) == 0);
    free_inputs(&in);
    ag_tape_free(tape);
}

/* ---- hand-computed one-step, one-unit cell ---- */

Test(op_lstm, hand_computed_one_step) {
    /* x = 0.5, h0 = 0.2, c0 = -0.3, kernel/recurrent/bias in gate order i, f, c, o:
     * z = (0.16, 0.98, 0.27, 0.07); i = 0.539914885, f = 0.727108216, g = 0.263624835,
     * o = 0.517492858; c = f c0 + i g = -0.0757974923; h = o tanh(c) = -0.0391497145.
     * For L = h + c (computed in double): dz = (0.0991808885, -0.0901548211,
     * 0.760888071, -0.0188900169) = d bias; d kernel = x dz; d recurrent = h0 dz;
     * dc0 = dc f = 1.10122799; dh0 = dz . recurrent = 0.651417; dx = dz . kernel = 0.212597539. */
    const double dz[4] = {0.0991808885, -0.0901548211, 0.760888071, -0.0188900169};
    LstmFn fns[2] = {ag_lstm, ag_lstm_reference};
    for (int which = 0; which < 2; which++) {
        Tensor *x =
            ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(1, 1, 1), (float[]){0.5f}), true);
        Tensor *k = ag_requires_grad(
            tensor_from_array(NULL, TENSOR_SHAPE(1, 4), (float[]){0.1f, 0.2f, 0.3f, 0.4f}), true);
        Tensor *r = ag_requires_grad(
            tensor_from_array(NULL, TENSOR_SHAPE(1, 4), (float[]){0.5f, -0.6f, 0.7f, -0.8f}), true);
        Tensor *b = ag_requires_grad(
            tensor_from_array(NULL, TENSOR_SHAPE(4), (float[]){0.01f, 1.0f, -0.02f, 0.03f}), true);
        Tensor *h0 =
            ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(1, 1), (float[]){0.2f}), true);
        Tensor *c0 =
            ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(1, 1), (float[]){-0.3f}), true);
        Tape *tape = ag_tape_new();
        AgLstmResult res = fns[which](tape, x, k, r, b, h0, c0, which == 0);
        cr_assert_float_eq(((float *)res.c->data)[0], -0.0757974923, 1e-6);
        cr_assert_float_eq(((float *)res.h->data)[0], -0.0391497145, 1e-6);
        cr_assert_float_eq(((float *)res.seq->data)[0], -0.0391497145, 1e-6);
        const float one = 1.0f;
        ag_backward_with(tape, res.h, &one);
        ag_backward_with(tape, res.c, &one);
        for (int g = 0; g < 4; g++) {
            cr_assert_float_eq(b->grad[g], dz[g], 1e-6, "dbias[%d]", g);
            cr_assert_float_eq(k->grad[g], 0.5 * dz[g], 1e-6, "dkernel[%d]", g);
            cr_assert_float_eq(r->grad[g], 0.2 * dz[g], 1e-6, "drecurrent[%d]", g);
        }
        cr_assert_float_eq(c0->grad[0], 1.10122799, 1e-6);
        cr_assert_float_eq(h0->grad[0], 0.651417, 1e-6);
        cr_assert_float_eq(x->grad[0], 0.212597539, 1e-6);
        Tensor *all[] = {x, k, r, b, h0, c0};
        for (int i = 0; i < 6; i++) tensor_free(all[i]);
        ag_tape_free(tape);
    }
}

/* ---- finite differences ---- */

typedef struct GcCtx {
    int output; /* 0 seq, 1 h, 2 c */
    bool state, back;
    bool reference;
} GcCtx;

static Tensor *lstm_fn(Tape *tape, Tensor *const *in, void *ctx) {
    GcCtx *c = ctx;
    LstmFn fn = c->reference ? ag_lstm_reference : ag_lstm;
    AgLstmResult r = fn(tape, in[X], in[KERNEL], in[RECURRENT], in[BIAS], c->state ? in[H0] : NULL,
                        c->state ? in[C0] : NULL, c->back);
    return c->output == 0 ? r.seq : c->output == 1 ? r.h : r.c;
}

Test(op_lstm, gradient_check) {
    int64_t shapes[][4] = {{1, 1, 1, 1}, {2, 3, 2, 3}, {3, 4, 1, 2}, {1, 5, 3, 1}};
    for (int s = 0; s < 4; s++)
        for (int state = 0; state < 2; state++)
            for (int back = 0; back < 2; back++) {
                Rng rng;
                tensor_rng_seed(&rng, 400 + s, state * 2 + back);
                Inputs in = make_inputs(&rng, shapes[s][0], shapes[s][1], shapes[s][2],
                                        shapes[s][3], state);
                for (int out = 0; out < 3; out++) {
                    GcCtx ctx = {out, state, back, false};
                    ASSERT_GRADCHECK(lstm_fn, state ? 6 : 4, in.t, &ctx, .seed = (uint64_t)out);
                }
                free_inputs(&in);
            }
}

Test(op_lstm, reference_gradient_check) {
    Rng rng;
    tensor_rng_seed(&rng, 500, 0);
    Inputs in = make_inputs(&rng, 2, 3, 2, 2, true);
    for (int out = 0; out < 3; out++) {
        GcCtx ctx = {out, true, out == 1, true};
        ASSERT_GRADCHECK(lstm_fn, 6, in.t, &ctx, .seed = 9);
    }
    free_inputs(&in);
}

/* ---- bad shapes ---- */

static void call_bad(int64_t kd, int64_t k4h, int64_t rh, int64_t r4h, int64_t b4h, int64_t h0b,
                     int64_t t) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, t, 3));
    Tensor *k = tensor_zeros(NULL, TENSOR_SHAPE(kd, k4h));
    Tensor *r = tensor_zeros(NULL, TENSOR_SHAPE(rh, r4h));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(b4h));
    Tensor *h0 = tensor_zeros(NULL, TENSOR_SHAPE(h0b, 4));
    ag_lstm(tape, x, k, r, b, h0, NULL, false);
}

Test(op_lstm, bad_kernel_aborts, .signal = SIGABRT) { call_bad(3, 12, 4, 16, 16, 2, 5); }
Test(op_lstm, bad_kernel_rows_aborts, .signal = SIGABRT) { call_bad(2, 16, 4, 16, 16, 2, 5); }
Test(op_lstm, bad_recurrent_aborts, .signal = SIGABRT) { call_bad(3, 16, 4, 12, 16, 2, 5); }
Test(op_lstm, bad_bias_aborts, .signal = SIGABRT) { call_bad(3, 16, 4, 16, 12, 2, 5); }
Test(op_lstm, bad_h0_aborts, .signal = SIGABRT) { call_bad(3, 16, 4, 16, 16, 3, 5); }
Test(op_lstm, zero_steps_aborts, .signal = SIGABRT) { call_bad(3, 16, 4, 16, 16, 2, 0); }

Test(op_lstm, bad_x_rank_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *k = tensor_zeros(NULL, TENSOR_SHAPE(3, 16));
    Tensor *r = tensor_zeros(NULL, TENSOR_SHAPE(4, 16));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(16));
    ag_lstm(tape, x, k, r, b, NULL, NULL, false);
}

Test(op_lstm, reference_bad_c0_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 5, 3));
    Tensor *k = tensor_zeros(NULL, TENSOR_SHAPE(3, 16));
    Tensor *r = tensor_zeros(NULL, TENSOR_SHAPE(4, 16));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(16));
    Tensor *c0 = tensor_zeros(NULL, TENSOR_SHAPE(2, 5));
    ag_lstm_reference(tape, x, k, r, b, NULL, c0, false);
}

/* ag_lstm_lookup on x (2, 5, 3) = a (V, 3) table's rows, with one thing wrong: the
 * table's width, the ids' shape or dtype, or (V = 2 folds) an id outside the table. */
static void call_bad_lookup(int64_t tw, int64_t ib, bool i32, int32_t id) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 5, 3));
    Tensor *table = tensor_zeros(NULL, TENSOR_SHAPE(2, tw));
    Tensor *ids = i32 ? tensor_i32_zeros(NULL, TENSOR_SHAPE(ib, 5)) : tensor_zeros(NULL, TENSOR_SHAPE(ib, 5));
    if (i32) tensor_i32(ids)[7] = id;
    Tensor *k = tensor_zeros(NULL, TENSOR_SHAPE(3, 16));
    Tensor *r = tensor_zeros(NULL, TENSOR_SHAPE(4, 16));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(16));
    ag_lstm_lookup(tape, x, table, ids, k, r, b, NULL, NULL, false);
    Tensor *all[] = {x, table, ids, k, r, b}; /* reached only by the good call */
    for (int i = 0; i < 6; i++) tensor_free(all[i]);
    ag_tape_free(tape);
}

Test(op_lstm, lookup_good_call_runs) { call_bad_lookup(3, 2, true, 1); }
Test(op_lstm, lookup_bad_table_width_aborts, .signal = SIGABRT) { call_bad_lookup(4, 2, true, 0); }
Test(op_lstm, lookup_bad_ids_shape_aborts, .signal = SIGABRT) { call_bad_lookup(3, 3, true, 0); }
Test(op_lstm, lookup_float_ids_abort, .signal = SIGABRT) { call_bad_lookup(3, 2, false, 0); }
Test(op_lstm, lookup_id_out_of_range_aborts, .signal = SIGABRT) { call_bad_lookup(3, 2, true, 2); }

/* ---- threads ---- */

/* Large enough that the gate kernels (B * 4H >= 32768) and the bias column sums take
 * their parallel paths. */
static Run big_run(Inputs *in, bool back, LstmFn fn) {
    Rng rng;
    tensor_rng_seed(&rng, 77, 0);
    int64_t sizes[3] = {in->B * in->T * in->H, in->B * in->H, in->B * in->H};
    float *r[3];
    for (int k = 0; k < 3; k++) {
        r[k] = tensor_xmalloc((size_t)sizes[k] * sizeof(float));
        tensor_fill_uniform(r[k], sizes[k], &rng, -1, 1);
    }
    Run out = run(fn, in, back, r, 7u);
    for (int k = 0; k < 3; k++) free(r[k]);
    return out;
}

static bool same_run(const Run *a, const Run *b, Inputs *in) {
    int64_t sizes[3] = {in->B * in->T * in->H, in->B * in->H, in->B * in->H};
    for (int k = 0; k < 3; k++)
        if (memcmp(a->out[k], b->out[k], (size_t)sizes[k] * sizeof(float))) return false;
    for (int k = 0; k < N_IN; k++)
        if (memcmp(a->grad[k], b->grad[k], (size_t)in->t[k]->size * sizeof(float))) return false;
    return true;
}

Test(op_lstm, thread_count_determinism) {
    Rng rng;
    tensor_rng_seed(&rng, 600, 0);
    Inputs in = make_inputs(&rng, 64, 4, 24, 128, true);
    Run runs[2][2];
    for (int th = 0; th < 2; th++) {
        cr_assert_eq(tensor_set_num_threads(th + 1), 0);
        for (int rep = 0; rep < 2; rep++) runs[th][rep] = big_run(&in, true, ag_lstm);
        cr_assert(same_run(&runs[th][0], &runs[th][1], &in), "two runs with %d thread(s) differ",
                  th + 1);
    }
    /* 1 vs 2 threads, and the parallel paths against the composed reference (serial). */
    cr_assert_eq(tensor_set_num_threads(1), 0);
    Run ref = big_run(&in, true, ag_lstm_reference);
    for (int th = 0; th < 2; th++) compare_runs(&runs[th][0], &ref, &in);
    report("thread_count_determinism (vs reference)");
    fprintf(stderr, "thread_count_determinism: 1 and 2 threads bitwise identical: %s\n",
            same_run(&runs[0][0], &runs[1][0], &in) ? "yes" : "no");
    for (int th = 0; th < 2; th++)
        for (int rep = 0; rep < 2; rep++) free_run(&runs[th][rep]);
    free_run(&ref);
    free_inputs(&in);
}
