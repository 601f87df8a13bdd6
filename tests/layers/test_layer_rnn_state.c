/* The recurrent layers over time, each test run once per row of KINDS (rnn_kinds.h) in
 * its own process, --verbose naming the row: nn_rnn_call's initial/final state (a
 * sequence split in two, stepping one token at a time with grad mode on and off);
 * go_backwards against a reversed input; the stateful carry across tape resets and
 * reset_state, and its abort on a batch-size change; gradient checks through the layer
 * for its input, initial states and parameters. */
#include "rnn_kinds.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Steps through x one token at a time, each step from the previous final state, and
 * compares with yw and `whole`, the outputs and final state of one call over all of x.
 * With grad mode off, as generation runs, no node is recorded. The first step starts
 * from zeros: a state of NULL fields with grad mode on, no state at all with it off. */
static void check_stepping(Layer *l, Tape *tape, const Tensor *x, const Tensor *yw, const NnRnnState *whole,
                           bool grad) {
    const int64_t B = x->shape[0], T = x->shape[1], H = yw->shape[2];
    ag_set_grad_enabled(tape, grad);
    NnRnnState st = {0};
    for (int64_t t = 0; t < T; t++) {
        Tensor *xt = test_time_slice(x, t, t + 1);
        int64_t before = ag_tape_size(tape);
        NnRnnState next;
        Tensor *yt = nn_rnn_call(l, tape, xt, (t || grad) ? &st : NULL, &next, NULL);
        if (!grad) cr_assert_eq(ag_tape_size(tape), before, "no-grad stepping recorded nodes");
        cr_assert(yt->shape[1] == 1);
        for (int64_t b = 0; b < B; b++)
            ASSERT_CLOSE_ARRAY(tensor_f32(yt) + b * H, tensor_f32(yw) + (b * T + t) * H, H, 1e-5, 1e-6);
        st = next;
        tensor_free(xt);
    }
    ASSERT_CLOSE_ARRAY(tensor_f32(st.h), tensor_f32(whole->h), B * H, 1e-5, 1e-6);
    if (whole->c) ASSERT_CLOSE_ARRAY(tensor_f32(st.c), tensor_f32(whole->c), B * H, 1e-5, 1e-6);
    ag_set_grad_enabled(tape, true);
}

/* A sequence split in two at `split` with the state carried equals one call over all
 * of it; stepping T = 1 at a time equals it as well (the O(1) generation path). A
 * bias_seed of 0 keeps the initial bias. */
static void check_carried_state(const Kind *k, uint64_t x_seed, int64_t T, int64_t split, uint64_t build_seed,
                                uint64_t bias_seed) {
    Tape *tape = ag_tape_new();
    const int64_t B = 2, D = 3, H = 4;
    Tensor *x = test_random_sequence(x_seed, B, T, D);
    Layer *l = built(k, (NnRnnOpts){.units = H, .return_sequences = true}, NN_SHAPE(TENSOR_F32, -1, D),
                     build_seed);
    if (bias_seed) randomise_bias(l, bias_seed);
    NnRnnState whole;
    Tensor *yw = nn_rnn_call(l, tape, x, NULL, &whole, NULL);
    cr_assert_not_null(whole.h);
    cr_assert(k->has_cell ? whole.c != NULL : whole.c == NULL);

    Tensor *x1 = test_time_slice(x, 0, split), *x2 = test_time_slice(x, split, T);
    NnRnnState mid, end;
    Tensor *y1 = nn_rnn_call(l, tape, x1, NULL, &mid, NULL);
    Tensor *y2 = nn_rnn_call(l, tape, x2, &mid, &end, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(end.h), tensor_f32(whole.h), B * H, 1e-5, 1e-6);
    if (k->has_cell) ASSERT_CLOSE_ARRAY(tensor_f32(end.c), tensor_f32(whole.c), B * H, 1e-5, 1e-6);
    for (int64_t b = 0; b < B; b++) {
        ASSERT_CLOSE_ARRAY(tensor_f32(y1) + b * split * H, tensor_f32(yw) + b * T * H, split * H, 1e-5, 1e-6);
        ASSERT_CLOSE_ARRAY(tensor_f32(y2) + b * (T - split) * H, tensor_f32(yw) + (b * T + split) * H,
                           (T - split) * H, 1e-5, 1e-6);
    }
    /* Without the carried state the second half differs: the state matters. */
    Tensor *y2_fresh = nn_rnn_call(l, tape, x2, NULL, NULL, NULL);
    cr_assert_gt(abs_diff(y2, y2_fresh), 1e-3);

    check_stepping(l, tape, x, yw, &whole, true);
    check_stepping(l, tape, x, yw, &whole, false);
    nn_layer_free(l);
    tensor_free(x);
    tensor_free(x1);
    tensor_free(x2);
    ag_tape_free(tape);
}

ParameterizedTestParameters(layer_rnn_state, carried_state_equals_whole_sequence) {
    return kinds_where(EACH_KIND);
}
ParameterizedTest(const int *row, layer_rnn_state, carried_state_equals_whole_sequence) {
    const Kind *k = kind_row(row);
    check_carried_state(k, 11, 6, 4, 3, 0);
    check_carried_state(k, 7, 5, 2, 2, 1);
}

ParameterizedTestParameters(layer_rnn_state, go_backwards_equals_forward_on_reversed_input) {
    return kinds_where(EACH_KIND);
}
ParameterizedTest(const int *row, layer_rnn_state, go_backwards_equals_forward_on_reversed_input) {
    const Kind *k = kind_row(row);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random_sequence(13, 2, 5, 3);
    Tensor *xr = test_time_reversed(x);
    for (int rs = 0; rs < 2; rs++) {
        Layer *fwd = built(k, (NnRnnOpts){.units = 4, .return_sequences = rs}, NN_SHAPE(TENSOR_F32, 5, 3), 1);
        Layer *bwd = built(k, (NnRnnOpts){.units = 4, .return_sequences = rs, .go_backwards = true},
                           NN_SHAPE(TENSOR_F32, 5, 3), 2);
        copy_weights(bwd, fwd);
        Tensor *yb = nn_layer_call(bwd, tape, x, NULL);
        Tensor *yf_rev = nn_layer_call(fwd, tape, xr, NULL);
        Tensor *yf = nn_layer_call(fwd, tape, x, NULL);
        /* Keras: the sequence comes out in processing order, i.e. reversed. */
        ASSERT_CLOSE_ARRAY(tensor_f32(yb), tensor_f32(yf_rev), yb->size, 1e-5, 1e-6);
        cr_assert_gt(abs_diff(yb, yf), 1e-3, "go_backwards gave the forward answer");
        nn_layer_free(fwd);
        nn_layer_free(bwd);
    }
    tensor_free(x);
    tensor_free(xr);
    ag_tape_free(tape);
}

/* Two calls on the halves of a sequence (split at `split`) equal one call on the whole,
 * across tape resets (the state lives outside the arena), with the first call in
 * training mode (followed by backward when train_backward); reset_state goes back to
 * zeros; an explicit initial state wins over the carried one; after a reset the batch
 * size may change. */
static void check_stateful(const Kind *k, int64_t B, int64_t T, int64_t D, int64_t H, int64_t split,
                           uint64_t x_seed, bool train_backward) {
    Tape *tape = ag_tape_new();
    Tensor *x = test_random_sequence(x_seed, B, T, D);
    Tensor *x1 = test_time_slice(x, 0, split), *x2 = test_time_slice(x, split, T);
    Layer *plain = built(k, (NnRnnOpts){.units = H}, NN_SHAPE(TENSOR_F32, -1, D), 4);
    Layer *sf = built(k, (NnRnnOpts){.units = H, .stateful = true}, NN_SHAPE(TENSOR_F32, -1, D), 5);
    copy_weights(sf, plain);
    float *whole = test_copy(tensor_f32(nn_layer_call(plain, tape, x, NULL)), B * H);
    float *first = test_copy(tensor_f32(nn_layer_call(plain, tape, x1, NULL)), B * H);
    ag_tape_reset(tape);

    Tensor *y = nn_layer_call(sf, tape, x1, &(NnCallCtx){.training = true});
    ASSERT_CLOSE_ARRAY(tensor_f32(y), first, B * H, 1e-5, 1e-6);
    if (train_backward) ag_backward(tape, ag_sum(tape, y)); /* training use: backward, then the step ends */
    ag_tape_reset(tape);
    /* (The macro reads its argument per element: call the layer once, outside it.) */
    y = nn_layer_call(sf, tape, x2, NULL); /* inference carries too */
    ASSERT_CLOSE_ARRAY(tensor_f32(y), whole, B * H, 1e-5, 1e-6);
    ag_tape_reset(tape);

    nn_layer_reset_state(sf);
    y = nn_layer_call(sf, tape, x1, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), first, B * H, 1e-5, 1e-6);
    /* An explicit initial state wins over the carried one. */
    NnRnnState zero = {.h = tensor_zeros(ag_tape_arena(tape), 2, (int64_t[]){B, H}),
                       .c = k->has_cell ? tensor_zeros(ag_tape_arena(tape), 2, (int64_t[]){B, H}) : NULL};
    y = nn_rnn_call(sf, tape, x1, &zero, NULL, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), first, B * H, 1e-5, 1e-6);
    /* After reset the batch size may change. */
    nn_layer_reset_state(sf);
    /* The first two steps of sample 0: its rows come first in x. */
    Tensor *small = tensor_from_array(NULL, 3, (int64_t[]){1, 2, D}, tensor_f32(x));
    y = nn_layer_call(sf, tape, small, NULL);
    cr_assert_eq(y->shape[0], 1);
    Tensor *want = nn_layer_call(plain, tape, small, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), tensor_f32(want), H, 1e-5, 1e-6);

    free(whole);
    free(first);
    nn_layer_free(plain);
    nn_layer_free(sf);
    tensor_free(x);
    tensor_free(x1);
    tensor_free(x2);
    tensor_free(small);
    ag_tape_free(tape);
}

ParameterizedTestParameters(layer_rnn_state, stateful_carries_across_calls_and_resets) {
    return kinds_where(EACH_KIND);
}
ParameterizedTest(const int *row, layer_rnn_state, stateful_carries_across_calls_and_resets) {
    const Kind *k = kind_row(row);
    check_stateful(k, 3, 8, 2, 5, 3, 17, true);
    check_stateful(k, 2, 6, 3, 4, 2, 3, false);
}

ParameterizedTestParameters(layer_rnn_state, stateful_batch_change_aborts) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, layer_rnn_state, stateful_batch_change_aborts, .signal = SIGABRT) {
    const Kind *k = kind_row(row);
    Tape *tape = ag_tape_new();
    Layer *sf = built(k, (NnRnnOpts){.units = 3, .stateful = true}, NN_SHAPE(TENSOR_F32, -1, 2), 1);
    Tensor *a = test_random_sequence(1, 4, 3, 2), *b = test_random_sequence(2, 2, 3, 2);
    nn_layer_call(sf, tape, a, NULL);
    nn_layer_call(sf, tape, b, NULL); /* carries batch 4, gets 2 */
}

typedef struct {
    Layer *layer;
    bool has_cell;
    Tensor *x; /* for params_fn */
} GcCtx;

/* The inputs are the layer's own parameters, which the call reads. */
static Tensor *params_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)in;
    GcCtx *c = ctx;
    return nn_layer_call(c->layer, tape, c->x, NULL);
}

/* The inputs are x, h0 and (LSTM) c0; an LSTM's final c joins the output. */
static Tensor *state_fn(Tape *tape, Tensor *const *in, void *ctx) {
    GcCtx *c = ctx;
    NnRnnState init = {.h = in[1], .c = c->has_cell ? in[2] : NULL}, fin;
    Tensor *y = nn_rnn_call(c->layer, tape, in[0], &init, &fin, NULL);
    if (!c->has_cell) return y;
    return ag_concat(tape, 2, (Tensor *[]){ag_reshape(tape, y, 2, (int64_t[]){y->shape[0], -1}), fin.c}, 1);
}

/* Gradient checks of the input and initial states (seeded state_seed) and of the
 * parameters (params_seed) through a layer with units 3 on (2, 4, 2) drawn from rng. A
 * bias_seed of 0 keeps the initial bias. */
static void check_gradients(const Kind *k, Rng *rng, NnRnnOpts opts, uint64_t build_seed, uint64_t bias_seed,
                            uint64_t state_seed, uint64_t params_seed) {
    Layer *l = built(k, opts, NN_SHAPE(TENSOR_F32, 4, 2), build_seed);
    if (bias_seed) randomise_bias(l, bias_seed);
    Tensor *x = test_random(rng, -1, 1, 3, (int64_t[]){2, 4, 2});
    Tensor *h0 = test_random(rng, -0.5f, 0.5f, 2, (int64_t[]){2, 3});
    Tensor *c0 = k->has_cell ? test_random(rng, -0.5f, 0.5f, 2, (int64_t[]){2, 3}) : NULL;
    GcCtx ctx = {l, k->has_cell, x};
    ASSERT_GRADCHECK(state_fn, k->has_cell ? 3 : 2, ((Tensor *[]){x, h0, c0}), &ctx, .seed = state_seed);
    ASSERT_GRADCHECK(params_fn, 3, l->params, &ctx, .seed = params_seed, .max_elements = 12);
    nn_layer_free(l);
    tensor_free(x);
    tensor_free(h0);
    tensor_free(c0);
}

ParameterizedTestParameters(layer_rnn_state, gradient_check_through_layer_and_states) {
    return kinds_where(EACH_KIND);
}
ParameterizedTest(const int *row, layer_rnn_state, gradient_check_through_layer_and_states) {
    const Kind *k = kind_row(row);
    Rng rng;
    /* The initial bias, reading backwards, the whole sequence out. */
    tensor_rng_seed(&rng, 21, 0);
    NnRnnOpts seq_back = {.units = 3, .return_sequences = true, .go_backwards = true};
    check_gradients(k, &rng, seq_back, 6, 0, 1, 2);
    /* A random bias, forwards with the sequence out, then backwards with the last state. */
    tensor_rng_seed(&rng, 5, 0);
    for (int back = 0; back < 2; back++) {
        NnRnnOpts o = {.units = 3, .return_sequences = !back, .go_backwards = back};
        check_gradients(k, &rng, o, 9, 4, 2, 1);
    }
}
