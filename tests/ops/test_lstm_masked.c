/* The fused LSTM under a mask: against the composed reference (outputs and every
 * gradient, random lengths including 1 and T, pre and post padding, both directions,
 * with and without initial states, both thread splits and 1-3 threads, the folded
 * lookup too), the carried state at padded steps, the final state equal to that of the
 * unpadded sequence alone, no gradient at padded inputs, an all-ones mask bitwise equal
 * to no mask, finite differences of the fused masked op, and the mask checks. */
#include "helpers.h"

#include "tensor/lstm_internal.h"

#include <signal.h>

/* Fused and composed agree to |a - b| <= TOL * max(1, |b|). */
#define TOL 1e-5

enum { X, KERNEL, RECURRENT, BIAS, H0, C0, N_IN };
static const char *NAMES[3 + N_IN] = {"seq", "h", "c", "dx", "dkernel", "drecurrent", "dbias", "dh0", "dc0"};
static double worst[3 + N_IN];

typedef struct Case {
    int64_t B, T, D, H;
    Tensor *t[N_IN];
    Tensor *mask; /* (B, T) */
    int64_t *len; /* real steps per row */
} Case;

/* Lengths 1 and T among the rows, the others random in 1..T; pre or post padding. */
static Case make_case(Rng *rng, int64_t B, int64_t T, int64_t D, int64_t H, bool state, bool post) {
    Case c = {B, T, D, H, {NULL}, NULL, NULL};
    c.t[X] = test_random(rng, -1, 1, TENSOR_SHAPE(B, T, D));
    c.t[KERNEL] = test_random(rng, -0.5f, 0.5f, TENSOR_SHAPE(D, 4 * H));
    c.t[RECURRENT] = test_random(rng, -0.4f, 0.4f, TENSOR_SHAPE(H, 4 * H));
    c.t[BIAS] = test_random(rng, -0.5f, 0.5f, TENSOR_SHAPE(4 * H));
    if (state) {
        c.t[H0] = test_random(rng, -1, 1, TENSOR_SHAPE(B, H));
        c.t[C0] = test_random(rng, -1, 1, TENSOR_SHAPE(B, H));
    }
    c.mask = tensor_zeros(NULL, TENSOR_SHAPE(B, T));
    c.len = calloc((size_t)B, sizeof *c.len);
    for (int64_t b = 0; b < B; b++) {
        c.len[b] = b == 0 ? 1 : b == 1 ? T : 1 + (int64_t)tensor_rng_below(rng, (uint32_t)T);
        for (int64_t t = 0; t < c.len[b]; t++)
            tensor_f32(c.mask)[b * T + (post ? t : T - 1 - t)] = 1.0f;
    }
    return c;
}

static void free_case(Case *c) {
    for (int k = 0; k < N_IN; k++) tensor_free(c->t[k]);
    tensor_free(c->mask);
    free(c->len);
}

typedef AgLstmResult (*MaskedFn)(Tape *, Tensor *, Tensor *, Tensor *, Tensor *, Tensor *, Tensor *,
                                 const Tensor *, bool);

typedef struct Run {
    float *out[3];
    float *grad[N_IN];
} Run;

/* One run, upstream gradients for all three outputs drawn from seed. */
static Run run(MaskedFn fn, Case *c, const Tensor *mask, bool back, uint64_t seed) {
    Tape *tape = ag_tape_new();
    AgLstmResult res = fn(tape, c->t[X], c->t[KERNEL], c->t[RECURRENT], c->t[BIAS], c->t[H0], c->t[C0],
                          mask, back);
    Tensor *outs[3] = {res.seq, res.h, res.c};
    test_backward_random(tape, outs, 3, seed);
    Run r = {{NULL}, {NULL}};
    for (int k = 0; k < 3; k++) r.out[k] = test_copy(outs[k]->data, outs[k]->size);
    for (int k = 0; k < N_IN; k++)
        if (c->t[k]) {
            r.grad[k] = test_copy(tensor_grad(c->t[k]), c->t[k]->size);
            tensor_zero_grad(c->t[k]);
        }
    ag_tape_free(tape);
    return r;
}

static void free_run(Run *r) {
    for (int k = 0; k < 3; k++) free(r->out[k]);
    for (int k = 0; k < N_IN; k++) free(r->grad[k]);
}

static void compare(int q, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (d > worst[q]) worst[q] = d;
        cr_assert(d <= TOL, "%s[%lld]: fused %.9g vs composed %.9g", NAMES[q], (long long)i, a[i], b[i]);
    }
}

static void compare_runs(const Run *a, const Run *b, const Case *c) {
    const int64_t sizes[3] = {c->B * c->T * c->H, c->B * c->H, c->B * c->H};
    for (int k = 0; k < 3; k++) compare(k, a->out[k], b->out[k], sizes[k]);
    for (int k = 0; k < N_IN; k++)
        if (c->t[k]) compare(3 + k, a->grad[k], b->grad[k], c->t[k]->size);
}

static void restore(void) {
    tensor__lstm_force_split(TENSOR_LSTM_SPLIT_AUTO);
    tensor_set_num_threads(2);
}

Test(lstm_masked, fused_matches_composed, .fini = restore) {
    /* (B, T, D, H); 33 rows and H = 40 split unevenly over 2 and 3 threads. */
    const int64_t shapes[][4] = {{2, 1, 3, 4}, {3, 7, 5, 6}, {5, 12, 4, 8}, {33, 9, 6, 40}};
    const TensorLstmSplit splits[2] = {TENSOR_LSTM_SPLIT_UNITS, TENSOR_LSTM_SPLIT_ROWS};
    uint64_t seed = 10;
    for (int s = 0; s < 4; s++)
        for (int cfg = 0; cfg < 8; cfg++) {
            const bool state = cfg & 1, back = cfg & 2, post = cfg & 4;
            Rng rng;
            tensor_rng_seed(&rng, seed++, 0);
            Case c = make_case(&rng, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], state, post);
            tensor__lstm_force_split(TENSOR_LSTM_SPLIT_AUTO);
            tensor_set_num_threads(1);
            Run ref = run(ag_lstm_reference_masked, &c, c.mask, back, seed);
            for (int si = 0; si < 2; si++)
                for (int th = 1; th <= 3; th++) {
                    tensor__lstm_force_split(splits[si]);
                    tensor_set_num_threads(th);
                    Run f = run(ag_lstm_masked, &c, c.mask, back, seed);
                    compare_runs(&f, &ref, &c);
                    free_run(&f);
                }
            free_run(&ref);
            free_case(&c);
        }
    fprintf(stderr, "lstm_masked: max |fused - composed| / max(1, |composed|):");
    for (int q = 0; q < 3 + N_IN; q++) fprintf(stderr, " %s %.2g", NAMES[q], worst[q]);
    fprintf(stderr, " (tolerance %g)\n", TOL);
}

/* Padded steps carry the state: seq there equals the step before (h0 or 0 first), and
 * x at a padded step gets no gradient. */
Test(lstm_masked, padded_steps_carry_state) {
    for (int post = 0; post < 2; post++) {
        Rng rng;
        tensor_rng_seed(&rng, 40 + post, 0);
        Case c = make_case(&rng, 6, 8, 3, 5, true, post);
        Tape *tape = ag_tape_new();
        AgLstmResult r = ag_lstm_masked(tape, c.t[X], c.t[KERNEL], c.t[RECURRENT], c.t[BIAS], c.t[H0],
                                        c.t[C0], c.mask, false);
        ag_backward(tape, ag_sum(tape, r.seq));
        const float *seq = r.seq->data, *m = c.mask->data, *gx = tensor_grad(c.t[X]);
        for (int64_t b = 0; b < c.B; b++)
            for (int64_t t = 0; t < c.T; t++) {
                if (m[b * c.T + t] != 0.0f) continue;
                const float *prev = t > 0 ? seq + (b * c.T + t - 1) * c.H : tensor_f32(c.t[H0]) + b * c.H;
                cr_assert(memcmp(seq + (b * c.T + t) * c.H, prev, (size_t)c.H * sizeof(float)) == 0,
                          "row %lld step %lld is padding but its state changed", (long long)b, (long long)t);
                for (int64_t d = 0; d < c.D; d++) cr_assert_eq(gx[(b * c.T + t) * c.D + d], 0.0f);
            }
        free_case(&c);
        ag_tape_free(tape);
    }
}

/* Post padding: each row's final h and c are those of its unpadded sequence run alone,
 * forwards; backwards (go_backwards) too, since the padded steps come first there and
 * carry the zero state. */
Test(lstm_masked, final_state_is_last_real_step) {
    Rng rng;
    tensor_rng_seed(&rng, 50, 0);
    Case c = make_case(&rng, 5, 9, 4, 6, false, true);
    for (int back = 0; back < 2; back++) {
        Tape *tape = ag_tape_new();
        AgLstmResult r = ag_lstm_masked(tape, c.t[X], c.t[KERNEL], c.t[RECURRENT], c.t[BIAS], NULL, NULL,
                                        c.mask, back);
        for (int64_t b = 0; b < c.B; b++) {
            Tensor *xb = tensor_zeros(NULL, TENSOR_SHAPE(1, c.len[b], c.D)); /* row b's real steps */
            memcpy(xb->data, tensor_f32(c.t[X]) + b * c.T * c.D, (size_t)(c.len[b] * c.D) * sizeof(float));
            AgLstmResult alone = ag_lstm(tape, xb, c.t[KERNEL], c.t[RECURRENT], c.t[BIAS], NULL, NULL, back);
            ASSERT_CLOSE_ARRAY(tensor_f32(r.h) + b * c.H, tensor_f32(alone.h), c.H, 1e-6, 1e-6);
            ASSERT_CLOSE_ARRAY(tensor_f32(r.c) + b * c.H, tensor_f32(alone.c), c.H, 1e-6, 1e-6);
            tensor_free(xb);
        }
        ag_tape_free(tape);
    }
    free_case(&c);
}

/* A mask of ones is no mask: the same bits, forward and backward. */
Test(lstm_masked, all_ones_equals_unmasked) {
    Rng rng;
    tensor_rng_seed(&rng, 60, 0);
    Case c = make_case(&rng, 4, 6, 3, 5, true, true);
    for (int64_t i = 0; i < c.mask->size; i++) tensor_f32(c.mask)[i] = 1.0f;
    Run a = run(ag_lstm_masked, &c, c.mask, false, 3), b = run(ag_lstm_masked, &c, NULL, false, 3);
    for (int k = 0; k < 3; k++)
        cr_assert(memcmp(a.out[k], b.out[k], (size_t)(k ? c.B * c.H : c.B * c.T * c.H) * sizeof(float)) == 0);
    for (int k = 0; k < N_IN; k++)
        cr_assert(memcmp(a.grad[k], b.grad[k], (size_t)c.t[k]->size * sizeof(float)) == 0, "%s", NAMES[3 + k]);
    free_run(&a), free_run(&b);
    free_case(&c);
}

/* The folded lookup (a small table) under a mask equals ag_lstm_masked on x = table[ids]. */
Test(lstm_masked, folded_lookup_matches) {
    Rng rng;
    tensor_rng_seed(&rng, 70, 0);
    const int64_t B = 6, T = 10, V = 5, D = 4, H = 8;
    Case c = make_case(&rng, B, T, D, H, false, true);
    Tensor *table = test_random(&rng, -1, 1, TENSOR_SHAPE(V, D));
    Tensor *ids = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T));
    for (int64_t i = 0; i < B * T; i++) tensor_i32(ids)[i] = (int32_t)tensor_rng_below(&rng, V);
    float *outs[2][2], *gt[2];
    for (int folded = 0; folded < 2; folded++) {
        Tape *tape = ag_tape_new();
        Tensor *x = ag_gather_rows(tape, table, ids);
        AgLstmResult r = folded ? ag_lstm_lookup_masked(tape, x, table, ids, c.t[KERNEL], c.t[RECURRENT],
                                                        c.t[BIAS], NULL, NULL, c.mask, false)
                                : ag_lstm_masked(tape, x, c.t[KERNEL], c.t[RECURRENT], c.t[BIAS], NULL, NULL,
                                                 c.mask, false);
        test_backward_random(tape, (Tensor *[]){r.seq, r.h}, 2, 9);
        outs[folded][0] = test_copy(r.seq->data, r.seq->size);
        outs[folded][1] = test_copy(r.h->data, r.h->size);
        gt[folded] = test_copy(tensor_grad(table), table->size);
        tensor_zero_grad(table);
        for (int k = 1; k < N_IN; k++)
            if (c.t[k]) tensor_zero_grad(c.t[k]);
        ag_tape_free(tape);
    }
    ASSERT_CLOSE_ARRAY(outs[1][0], outs[0][0], B * T * H, 1e-5, 1e-6);
    ASSERT_CLOSE_ARRAY(outs[1][1], outs[0][1], B * H, 1e-5, 1e-6);
    ASSERT_CLOSE_ARRAY(gt[1], gt[0], V * D, 1e-4, 1e-5);
    for (int f = 0; f < 2; f++) free(outs[f][0]), free(outs[f][1]), free(gt[f]);
    tensor_free(table), tensor_free(ids);
    free_case(&c);
}

/* Finite differences: output `out` (seq, h or c) of the fused op under c->mask. */
typedef struct GcCtx {
    const Case *c;
    int out;
    bool back;
} GcCtx;

static Tensor *masked_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const GcCtx *g = ctx;
    AgLstmResult r = ag_lstm_masked(tape, in[X], in[KERNEL], in[RECURRENT], in[BIAS], in[H0], in[C0], g->c->mask,
                                    g->back);
    return g->out == 0 ? r.seq : g->out == 1 ? r.h : r.c;
}

Test(lstm_masked, gradient_check) {
    for (int cfg = 0; cfg < 4; cfg++) {
        Rng rng;
        tensor_rng_seed(&rng, 90 + cfg, 0);
        Case c = make_case(&rng, 3, 4, 2, 3, true, cfg & 1);
        for (int out = 0; out < 3; out++) {
            GcCtx ctx = {&c, out, cfg & 2};
            ASSERT_GRADCHECK(masked_fn, N_IN, c.t, &ctx, .seed = (uint64_t)out);
        }
        free_case(&c);
    }
}

static void call_with_mask(Tensor *mask) {
    Rng rng;
    tensor_rng_seed(&rng, 80, 0);
    Case c = make_case(&rng, 2, 3, 2, 2, false, true);
    Tape *tape = ag_tape_new();
    ag_lstm_masked(tape, c.t[X], c.t[KERNEL], c.t[RECURRENT], c.t[BIAS], NULL, NULL, mask, false);
}

Test(lstm_masked, wrong_mask_shape_aborts, .signal = SIGABRT) {
    call_with_mask(tensor_zeros(NULL, TENSOR_SHAPE(2, 4)));
}
Test(lstm_masked, int32_mask_aborts, .signal = SIGABRT) {
    call_with_mask(tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3)));
}
Test(lstm_masked, mask_value_not_0_or_1_aborts, .signal = SIGABRT) {
    Tensor *m = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    tensor_f32(m)[4] = 0.5f;
    call_with_mask(m);
}
