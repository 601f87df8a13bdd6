/* The LSTM layer: Keras parameter counts, names and output shapes; fused against
 * unfused; nn_rnn_call's initial/final state (a sequence split in two, and stepping
 * one token at a time); go_backwards against a reversed input; the stateful carry
 * across tape resets and reset_state; a gradient check through the layer; and the
 * errors (bad options, bad inputs, a batch-size change on a stateful layer). */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <signal.h>
#include <string.h>

static Layer *built(NnRnnOpts opts, NnShape in, uint64_t seed) {
    Layer *l = nn_lstm_new(&opts);
    cr_assert_not_null(l, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    cr_assert_eq(nn_layer_build(l, in, &rng), 0, "%s", tensor_last_error());
    return l;
}

/* Gives dst the same weights as src (both built on the same input). */
static void copy_weights(Layer *dst, const Layer *src) {
    cr_assert_eq(dst->n_params, src->n_params);
    for (int i = 0; i < src->n_params; i++) {
        cr_assert_eq(dst->params[i]->size, src->params[i]->size);
        memcpy(dst->params[i]->data, src->params[i]->data, (size_t)src->params[i]->size * sizeof(float));
    }
}

static Tensor *random_x(uint64_t seed, int64_t B, int64_t T, int64_t D) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 1);
    return test_random(&rng, -1.0f, 1.0f, 3, (int64_t[]){B, T, D});
}

/* x[:, t0:t1, :] as a heap tensor. */
static Tensor *time_slice(const Tensor *x, int64_t t0, int64_t t1) {
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    Tensor *y = tensor_zeros(NULL, 3, (int64_t[]){B, t1 - t0, D});
    for (int64_t b = 0; b < B; b++)
        memcpy(tensor_f32(y) + b * (t1 - t0) * D, tensor_f32(x) + (b * T + t0) * D,
               (size_t)((t1 - t0) * D) * sizeof(float));
    return y;
}

/* x with its time axis reversed, as a heap tensor. */
static Tensor *time_reversed(const Tensor *x) {
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    Tensor *y = tensor_zeros(NULL, 3, x->shape);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            memcpy(tensor_f32(y) + (b * T + t) * D, tensor_f32(x) + (b * T + T - 1 - t) * D,
                   (size_t)D * sizeof(float));
    return y;
}

Test(layer_lstm, keras_param_counts_names_and_shapes) {
    Layer *l = built((NnRnnOpts){.units = 64}, NN_SHAPE(TENSOR_F32, -1, 64), 1);
    cr_assert_eq(nn_layer_param_count(l), 33024);
    cr_assert_str_eq(l->vt->type, "LSTM");
    cr_assert_str_eq(l->name, "lstm");
    cr_assert(nn_layer_is_rnn(l));
    cr_assert_eq(l->n_params, 3);
    cr_assert_str_eq(l->params[0]->name, "lstm/kernel");
    cr_assert_str_eq(l->params[1]->name, "lstm/recurrent_kernel");
    cr_assert_str_eq(l->params[2]->name, "lstm/bias");
    cr_assert(l->params[0]->shape[0] == 64 && l->params[0]->shape[1] == 256);
    cr_assert(l->params[1]->shape[0] == 64 && l->params[1]->shape[1] == 256);
    cr_assert(l->params[2]->ndim == 1 && l->params[2]->shape[0] == 256);
    /* Forget-gate quarter of the bias is 1, the rest 0 (gates i, f, c, o). */
    const float *bias = l->params[2]->data;
    for (int i = 0; i < 256; i++) cr_assert_eq(bias[i], (i >= 64 && i < 128) ? 1.0f : 0.0f, "bias[%d]", i);
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, 64)");
    nn_layer_free(l);

    Layer *big = built((NnRnnOpts){.units = 256, .return_sequences = true, .name = "enc"},
                       NN_SHAPE(TENSOR_F32, 40, 64), 2);
    cr_assert_eq(nn_layer_param_count(big), 328704);
    cr_assert_str_eq(big->name, "enc");
    cr_assert_str_eq(big->params[0]->name, "enc/kernel");
    cr_assert_str_eq(nn_shape_str(&big->out_shape, buf, sizeof buf), "(None, 40, 256)");
    nn_layer_free(big);
}

Test(layer_lstm, return_sequences_shapes) {
    Tape *tape = ag_tape_new();
    Tensor *x = random_x(3, 2, 5, 3);
    Layer *seq = built((NnRnnOpts){.units = 4, .return_sequences = true}, NN_SHAPE(TENSOR_F32, -1, 3), 1);
    Layer *last = built((NnRnnOpts){.units = 4}, NN_SHAPE(TENSOR_F32, -1, 3), 1);
    Tensor *ys = nn_layer_call(seq, tape, x, NULL);
    cr_assert(ys->ndim == 3 && ys->shape[0] == 2 && ys->shape[1] == 5 && ys->shape[2] == 4);
    Tensor *yl = nn_layer_call(last, tape, x, NULL);
    cr_assert(yl->ndim == 2 && yl->shape[0] == 2 && yl->shape[1] == 4);
    /* The last step of the sequence is the final output (same seed, same weights). */
    for (int b = 0; b < 2; b++)
        ASSERT_CLOSE_ARRAY(tensor_f32(ys) + (b * 5 + 4) * 4, tensor_f32(yl) + b * 4, 4, 0, 0);
    /* A different length works on a layer built with an unknown T. */
    Tensor *x7 = random_x(4, 2, 7, 3);
    Tensor *y7 = nn_layer_call(seq, tape, x7, NULL);
    cr_assert_eq(y7->shape[1], 7);
    nn_layer_free(seq);
    nn_layer_free(last);
    tensor_free(x);
    tensor_free(x7);
    ag_tape_free(tape);
}

Test(layer_lstm, fused_equals_unfused) {
    Tape *tape = ag_tape_new();
    Tensor *x = random_x(5, 3, 6, 4);
    for (int back = 0; back < 2; back++)
        for (int rs = 0; rs < 2; rs++) {
            NnRnnOpts o = {.units = 5, .return_sequences = rs, .go_backwards = back};
            Layer *fused = built(o, NN_SHAPE(TENSOR_F32, 6, 4), 7);
            o.unfused = true;
            Layer *unfused = built(o, NN_SHAPE(TENSOR_F32, 6, 4), 8);
            copy_weights(unfused, fused);
            NnRnnState fs, us;
            Tensor *yf = nn_rnn_call(fused, tape, x, NULL, &fs, NULL);
            Tensor *yu = nn_rnn_call(unfused, tape, x, NULL, &us, NULL);
            cr_assert(tensor_same_shape(yf, yu));
            ASSERT_CLOSE_ARRAY(tensor_f32(yf), tensor_f32(yu), yf->size, 1e-5, 1e-6);
            ASSERT_CLOSE_ARRAY(tensor_f32(fs.c), tensor_f32(us.c), fs.c->size, 1e-5, 1e-6);
            /* Gradients of the parameters agree too. */
            ag_backward(tape, ag_sum(tape, ag_square(tape, yf)));
            ag_backward(tape, ag_sum(tape, ag_square(tape, yu)));
            for (int i = 0; i < 3; i++)
                ASSERT_CLOSE_ARRAY(fused->params[i]->grad, unfused->params[i]->grad,
                                   fused->params[i]->size, 1e-4, 1e-5);
            nn_layer_free(fused);
            nn_layer_free(unfused);
            ag_tape_reset(tape);
        }
    tensor_free(x);
    ag_tape_free(tape);
}

/* A sequence split in two with the state carried equals one call over all of it;
 * stepping T = 1 at a time equals it as well (the O(1) generation path). */
Test(layer_lstm, carried_state_equals_whole_sequence) {
    Tape *tape = ag_tape_new();
    const int64_t B = 2, T = 6, D = 3, H = 4;
    Tensor *x = random_x(11, B, T, D);
    Layer *l = built((NnRnnOpts){.units = H, .return_sequences = true}, NN_SHAPE(TENSOR_F32, -1, D), 3);
    NnRnnState whole;
    Tensor *yw = nn_rnn_call(l, tape, x, NULL, &whole, NULL);
    cr_assert_not_null(whole.h);
    cr_assert_not_null(whole.c);

    Tensor *x1 = time_slice(x, 0, 4), *x2 = time_slice(x, 4, T);
    NnRnnState mid, end;
    Tensor *y1 = nn_rnn_call(l, tape, x1, NULL, &mid, NULL);
    Tensor *y2 = nn_rnn_call(l, tape, x2, &mid, &end, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(end.h), tensor_f32(whole.h), B * H, 1e-5, 1e-6);
    ASSERT_CLOSE_ARRAY(tensor_f32(end.c), tensor_f32(whole.c), B * H, 1e-5, 1e-6);
    for (int64_t b = 0; b < B; b++) {
        ASSERT_CLOSE_ARRAY(tensor_f32(y1) + b * 4 * H, tensor_f32(yw) + b * T * H, 4 * H, 1e-5, 1e-6);
        ASSERT_CLOSE_ARRAY(tensor_f32(y2) + b * 2 * H, tensor_f32(yw) + (b * T + 4) * H, 2 * H, 1e-5, 1e-6);
    }
    /* Without the carried state the second half differs: the state matters. */
    Tensor *y2_fresh = nn_rnn_call(l, tape, x2, NULL, NULL, NULL);
    double diff = 0;
    for (int64_t i = 0; i < y2->size; i++) diff += fabs(tensor_f32(y2)[i] - tensor_f32(y2_fresh)[i]);
    cr_assert_gt(diff, 1e-3);

    /* One token at a time, grad mode off, as generation does. */
    ag_set_grad_enabled(tape, false);
    NnRnnState st = {0};
    for (int64_t t = 0; t < T; t++) {
        Tensor *xt = time_slice(x, t, t + 1);
        int64_t before = ag_tape_size(tape);
        NnRnnState next;
        Tensor *yt = nn_rnn_call(l, tape, xt, t ? &st : NULL, &next, NULL);
        cr_assert_eq(ag_tape_size(tape), before, "no-grad stepping recorded nodes");
        cr_assert(yt->shape[1] == 1);
        for (int64_t b = 0; b < B; b++)
            ASSERT_CLOSE_ARRAY(tensor_f32(yt) + b * H, tensor_f32(yw) + (b * T + t) * H, H, 1e-5, 1e-6);
        st = next;
        tensor_free(xt);
    }
    ASSERT_CLOSE_ARRAY(tensor_f32(st.h), tensor_f32(whole.h), B * H, 1e-5, 1e-6);
    nn_layer_free(l);
    tensor_free(x);
    tensor_free(x1);
    tensor_free(x2);
    ag_tape_free(tape);
}

Test(layer_lstm, go_backwards_equals_forward_on_reversed_input) {
    Tape *tape = ag_tape_new();
    Tensor *x = random_x(13, 2, 5, 3);
    Tensor *xr = time_reversed(x);
    for (int rs = 0; rs < 2; rs++) {
        Layer *fwd = built((NnRnnOpts){.units = 4, .return_sequences = rs}, NN_SHAPE(TENSOR_F32, 5, 3), 1);
        Layer *bwd = built((NnRnnOpts){.units = 4, .return_sequences = rs, .go_backwards = true},
                           NN_SHAPE(TENSOR_F32, 5, 3), 2);
        copy_weights(bwd, fwd);
        Tensor *yb = nn_layer_call(bwd, tape, x, NULL);
        Tensor *yf_rev = nn_layer_call(fwd, tape, xr, NULL);
        Tensor *yf = nn_layer_call(fwd, tape, x, NULL);
        /* Keras: the sequence comes out in processing order, i.e. reversed. */
        ASSERT_CLOSE_ARRAY(tensor_f32(yb), tensor_f32(yf_rev), yb->size, 1e-5, 1e-6);
        double diff = 0;
        for (int64_t i = 0; i < yb->size; i++) diff += fabs(tensor_f32(yb)[i] - tensor_f32(yf)[i]);
        cr_assert_gt(diff, 1e-3, "go_backwards gave the forward answer");
        nn_layer_free(fwd);
        nn_layer_free(bwd);
    }
    tensor_free(x);
    tensor_free(xr);
    ag_tape_free(tape);
}

/* Two calls on the halves of a sequence equal one call on the whole, across tape
 * resets (the state lives outside the arena); reset_state goes back to zeros. */
Test(layer_lstm, stateful_carries_across_calls_and_resets) {
    Tape *tape = ag_tape_new();
    const int64_t B = 3, T = 8, D = 2, H = 5;
    Tensor *x = random_x(17, B, T, D);
    Tensor *x1 = time_slice(x, 0, 3), *x2 = time_slice(x, 3, T);
    Layer *plain = built((NnRnnOpts){.units = H}, NN_SHAPE(TENSOR_F32, -1, D), 4);
    Layer *sf = built((NnRnnOpts){.units = H, .stateful = true}, NN_SHAPE(TENSOR_F32, -1, D), 5);
    copy_weights(sf, plain);
    float whole[15], first[15], got[15];
    memcpy(whole, tensor_f32(nn_layer_call(plain, tape, x, NULL)), sizeof whole);
    memcpy(first, tensor_f32(nn_layer_call(plain, tape, x1, NULL)), sizeof first);
    ag_tape_reset(tape);

    NnCallCtx train = {.training = true};
    Tensor *y = nn_layer_call(sf, tape, x1, &train);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), first, B * H, 1e-5, 1e-6);
    ag_backward(tape, ag_sum(tape, y)); /* training use: backward, then the step ends */
    ag_tape_reset(tape);
    y = nn_layer_call(sf, tape, x2, NULL); /* inference carries too */
    memcpy(got, tensor_f32(y), sizeof got);
    ASSERT_CLOSE_ARRAY(got, whole, B * H, 1e-5, 1e-6);
    ag_tape_reset(tape);

    nn_layer_reset_state(sf);
    y = nn_layer_call(sf, tape, x1, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), first, B * H, 1e-5, 1e-6);
    /* An explicit initial state wins over the carried one. */
    NnRnnState zero = {.h = tensor_zeros(ag_tape_arena(tape), 2, (int64_t[]){B, H}),
                       .c = tensor_zeros(ag_tape_arena(tape), 2, (int64_t[]){B, H})};
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

    nn_layer_free(plain);
    nn_layer_free(sf);
    tensor_free(x);
    tensor_free(x1);
    tensor_free(x2);
    tensor_free(small);
    ag_tape_free(tape);
}

Test(layer_lstm, stateful_batch_change_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Layer *sf = built((NnRnnOpts){.units = 3, .stateful = true}, NN_SHAPE(TENSOR_F32, -1, 2), 1);
    Tensor *a = random_x(1, 4, 3, 2), *b = random_x(2, 2, 3, 2);
    nn_layer_call(sf, tape, a, NULL);
    nn_layer_call(sf, tape, b, NULL); /* carries batch 4, gets 2 */
}

typedef struct {
    Layer *layer;
    bool with_state;
    Tensor *x; /* for params_fn */
} GcCtx;

/* The inputs are the layer's own parameters, which the call reads. */
static Tensor *params_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)in;
    GcCtx *c = ctx;
    return nn_layer_call(c->layer, tape, c->x, NULL);
}

static Tensor *lstm_fn(Tape *tape, Tensor *const *in, void *ctx) {
    GcCtx *c = ctx;
    NnRnnState init = {.h = c->with_state ? in[1] : NULL, .c = c->with_state ? in[2] : NULL};
    NnRnnState fin;
    Tensor *y = nn_rnn_call(c->layer, tape, in[0], &init, &fin, NULL);
    return ag_concat(tape, 2, (Tensor *[]){ag_reshape(tape, y, 2, (int64_t[]){y->shape[0], -1}), fin.c}, 1);
}

Test(layer_lstm, gradient_check_through_layer_and_states) {
    Rng rng;
    tensor_rng_seed(&rng, 21, 0);
    Layer *l = built((NnRnnOpts){.units = 3, .return_sequences = true, .go_backwards = true},
                     NN_SHAPE(TENSOR_F32, 4, 2), 6);
    Tensor *x = test_random(&rng, -1, 1, 3, (int64_t[]){2, 4, 2});
    Tensor *h0 = test_random(&rng, -0.5f, 0.5f, 2, (int64_t[]){2, 3});
    Tensor *c0 = test_random(&rng, -0.5f, 0.5f, 2, (int64_t[]){2, 3});
    GcCtx ctx = {l, true, x};
    ASSERT_GRADCHECK(lstm_fn, 3, ((Tensor *[]){x, h0, c0}), &ctx, .seed = 1);
    ASSERT_GRADCHECK(params_fn, 3, l->params, &ctx, .seed = 2, .max_elements = 12);
    nn_layer_free(l);
    tensor_free(x);
    tensor_free(h0);
    tensor_free(c0);
}

Test(layer_lstm, invalid_options_and_inputs) {
    tensor_clear_error();
    cr_assert_null(nn_lstm(.units = 0));
    cr_assert(strstr(tensor_last_error(), "LSTM") && strstr(tensor_last_error(), "units"), "%s",
              tensor_last_error());
    cr_assert_null(nn_lstm(.units = -3));
    cr_assert_null(nn_lstm(.units = 4, .name = ""));

    Layer *l = nn_lstm(.units = 4);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_I32, 10), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "LSTM \"lstm\""), "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 64), NULL), -1); /* no time axis */
    cr_assert(strstr(tensor_last_error(), "(batch, time, features)"), "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 10, -1), NULL), -1);
    cr_assert_eq(l->n_params, 0);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 10, 8), NULL), 0);
    nn_layer_free(l);
}

Test(layer_lstm, wrong_initial_state_shape_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Layer *l = built((NnRnnOpts){.units = 3}, NN_SHAPE(TENSOR_F32, -1, 2), 1);
    Tensor *x = random_x(1, 2, 3, 2);
    NnRnnState bad = {.h = tensor_zeros(NULL, 2, (int64_t[]){2, 4})};
    nn_rnn_call(l, tape, x, &bad, NULL, NULL);
}

Test(layer_lstm, wrong_input_width_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Layer *l = built((NnRnnOpts){.units = 3}, NN_SHAPE(TENSOR_F32, -1, 2), 1);
    nn_rnn_call(l, tape, random_x(1, 2, 3, 5), NULL, NULL, NULL);
}

Test(layer_lstm, rnn_call_on_a_dense_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Layer *d = nn_dense(.units = 3);
    cr_assert(!nn_layer_is_rnn(d));
    nn_layer_build(d, NN_SHAPE(TENSOR_F32, 4, 2), NULL);
    nn_rnn_call(d, tape, random_x(1, 2, 4, 2), NULL, NULL, NULL);
}
