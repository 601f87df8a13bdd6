/* The GRU layer (Keras reset_after=True): parameter counts and layout, two steps
 * against numbers computed by hand (in Python) from fixed weights, gradient checks
 * through the layer for its parameters, input and initial state, carried state and
 * stepping, go_backwards against a reversed input, the stateful carry, and errors. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <signal.h>
#include <string.h>

static Layer *built(NnRnnOpts opts, NnShape in, uint64_t seed) {
    Layer *l = nn_gru_new(&opts);
    cr_assert_not_null(l, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    cr_assert_eq(nn_layer_build(l, in, &rng), 0, "%s", tensor_last_error());
    return l;
}

static void copy_weights(Layer *dst, const Layer *src) {
    cr_assert_eq(dst->n_params, src->n_params);
    for (int i = 0; i < src->n_params; i++)
        memcpy(dst->params[i]->data, src->params[i]->data, (size_t)src->params[i]->size * sizeof(float));
}

/* Makes the zero-initialised bias non-trivial so tests exercise it. */
static void randomise_bias(Layer *l, uint64_t seed) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 3);
    tensor_fill_uniform(l->params[2]->data, l->params[2]->size, &rng, -0.3f, 0.3f);
}

static Tensor *random_x(uint64_t seed, int64_t B, int64_t T, int64_t D) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 1);
    return test_random(&rng, -1.0f, 1.0f, 3, (int64_t[]){B, T, D});
}

static Tensor *time_slice(const Tensor *x, int64_t t0, int64_t t1) {
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    Tensor *y = tensor_zeros(NULL, 3, (int64_t[]){B, t1 - t0, D});
    for (int64_t b = 0; b < B; b++)
        memcpy(tensor_f32(y) + b * (t1 - t0) * D, tensor_f32(x) + (b * T + t0) * D,
               (size_t)((t1 - t0) * D) * sizeof(float));
    return y;
}

static Tensor *time_reversed(const Tensor *x) {
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    Tensor *y = tensor_zeros(NULL, 3, x->shape);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            memcpy(tensor_f32(y) + (b * T + t) * D, tensor_f32(x) + (b * T + T - 1 - t) * D,
                   (size_t)D * sizeof(float));
    return y;
}

Test(layer_gru, keras_param_count_and_layout) {
    Layer *l = built((NnRnnOpts){.units = 64}, NN_SHAPE(TENSOR_F32, -1, 64), 1);
    /* Keras GRU(64, reset_after=True) on 64-d input: 3 * (64*64 + 64*64 + 2*64). */
    cr_assert_eq(nn_layer_param_count(l), 24960);
    cr_assert_str_eq(l->vt->type, "GRU");
    cr_assert_str_eq(l->name, "gru");
    cr_assert(nn_layer_is_rnn(l));
    cr_assert_str_eq(l->params[0]->name, "gru/kernel");
    cr_assert_str_eq(l->params[1]->name, "gru/recurrent_kernel");
    cr_assert_str_eq(l->params[2]->name, "gru/bias");
    cr_assert(l->params[0]->shape[0] == 64 && l->params[0]->shape[1] == 192);
    cr_assert(l->params[1]->shape[0] == 64 && l->params[1]->shape[1] == 192);
    cr_assert(l->params[2]->ndim == 2 && l->params[2]->shape[0] == 2 && l->params[2]->shape[1] == 192);
    for (int64_t i = 0; i < l->params[2]->size; i++) cr_assert_eq(tensor_f32(l->params[2])[i], 0.0f);
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, 64)");
    nn_layer_free(l);
    Layer *s = built((NnRnnOpts){.units = 8, .return_sequences = true}, NN_SHAPE(TENSOR_F32, 12, 3), 1);
    cr_assert_str_eq(nn_shape_str(&s->out_shape, buf, sizeof buf), "(None, 12, 8)");
    nn_layer_free(s);
}

/* Two steps from h0 = (0.3, -0.2) with fixed weights; expected values from the Keras
 * formulas evaluated by hand in double precision. */
Test(layer_gru, hand_computed_steps) {
    static const float K[] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, 0.2f, -0.3f, -0.1f, 0.25f, -0.4f};
    static const float U[] = {0.2f, 0.1f, -0.4f, 0.3f, 0.5f, -0.2f, -0.3f, 0.6f, 0.2f, -0.1f, -0.25f, 0.35f};
    static const float Bv[] = {0.05f, -0.1f, 0.15f, 0.0f, 0.2f, -0.05f, 0.1f, 0.05f, -0.2f, 0.1f, -0.15f, 0.3f};
    static const float X[] = {0.5f, -1.0f, -0.4f, 0.8f}, H0[] = {0.3f, -0.2f};
    static const float want[] = {-0.035834150f, 0.310234043f, 0.143374018f, 0.021433052f};
    Layer *l = built((NnRnnOpts){.units = 2, .return_sequences = true}, NN_SHAPE(TENSOR_F32, 2, 2), 1);
    memcpy(l->params[0]->data, K, sizeof K);
    memcpy(l->params[1]->data, U, sizeof U);
    memcpy(l->params[2]->data, Bv, sizeof Bv);
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(NULL, 3, (int64_t[]){1, 2, 2}, X);
    Tensor *h0 = tensor_from_array(NULL, 2, (int64_t[]){1, 2}, H0);
    NnRnnState fin;
    Tensor *y = nn_rnn_call(l, tape, x, &(NnRnnState){.h = h0}, &fin, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), want, 4, 1e-5, 1e-6);
    ASSERT_CLOSE_ARRAY(tensor_f32(fin.h), want + 2, 2, 1e-5, 1e-6);
    cr_assert_null(fin.c);
    nn_layer_free(l);
    tensor_free(x);
    tensor_free(h0);
    ag_tape_free(tape);
}

typedef struct {
    Layer *layer;
    Tensor *x;
} GcCtx;

/* The inputs are the layer's own parameters, which the call reads. */
static Tensor *params_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)in;
    GcCtx *c = ctx;
    return nn_layer_call(c->layer, tape, c->x, NULL);
}

static Tensor *input_fn(Tape *tape, Tensor *const *in, void *ctx) {
    GcCtx *c = ctx;
    return nn_rnn_call(c->layer, tape, in[0], &(NnRnnState){.h = in[1]}, NULL, NULL);
}

Test(layer_gru, gradient_check_params_input_and_state) {
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    for (int back = 0; back < 2; back++) {
        Layer *l = built((NnRnnOpts){.units = 3, .return_sequences = !back, .go_backwards = back},
                         NN_SHAPE(TENSOR_F32, 4, 2), 9);
        randomise_bias(l, 4);
        Tensor *x = test_random(&rng, -1, 1, 3, (int64_t[]){2, 4, 2});
        Tensor *h0 = test_random(&rng, -0.5f, 0.5f, 2, (int64_t[]){2, 3});
        GcCtx ctx = {l, x};
        ASSERT_GRADCHECK(params_fn, 3, l->params, &ctx, .seed = 1, .max_elements = 12);
        ASSERT_GRADCHECK(input_fn, 2, ((Tensor *[]){x, h0}), &ctx, .seed = 2);
        nn_layer_free(l);
        tensor_free(x);
        tensor_free(h0);
    }
}

Test(layer_gru, carried_state_and_one_step_at_a_time) {
    Tape *tape = ag_tape_new();
    const int64_t B = 2, T = 5, D = 3, H = 4;
    Tensor *x = random_x(7, B, T, D);
    Layer *l = built((NnRnnOpts){.units = H, .return_sequences = true}, NN_SHAPE(TENSOR_F32, -1, D), 2);
    randomise_bias(l, 1);
    NnRnnState whole, mid, end;
    Tensor *yw = nn_rnn_call(l, tape, x, NULL, &whole, NULL);
    Tensor *x1 = time_slice(x, 0, 2), *x2 = time_slice(x, 2, T);
    nn_rnn_call(l, tape, x1, NULL, &mid, NULL);
    Tensor *y2 = nn_rnn_call(l, tape, x2, &mid, &end, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(end.h), tensor_f32(whole.h), B * H, 1e-5, 1e-6);
    for (int64_t b = 0; b < B; b++)
        ASSERT_CLOSE_ARRAY(tensor_f32(y2) + b * 3 * H, tensor_f32(yw) + (b * T + 2) * H, 3 * H, 1e-5, 1e-6);
    NnRnnState st = {0};
    for (int64_t t = 0; t < T; t++) {
        Tensor *xt = time_slice(x, t, t + 1);
        NnRnnState next;
        Tensor *yt = nn_rnn_call(l, tape, xt, &st, &next, NULL);
        for (int64_t b = 0; b < B; b++)
            ASSERT_CLOSE_ARRAY(tensor_f32(yt) + b * H, tensor_f32(yw) + (b * T + t) * H, H, 1e-5, 1e-6);
        st = next;
        tensor_free(xt);
    }
    nn_layer_free(l);
    tensor_free(x);
    tensor_free(x1);
    tensor_free(x2);
    ag_tape_free(tape);
}

Test(layer_gru, go_backwards_equals_forward_on_reversed_input) {
    Tape *tape = ag_tape_new();
    Tensor *x = random_x(13, 2, 5, 3), *xr = time_reversed(x);
    for (int rs = 0; rs < 2; rs++) {
        Layer *fwd = built((NnRnnOpts){.units = 4, .return_sequences = rs}, NN_SHAPE(TENSOR_F32, 5, 3), 1);
        Layer *bwd = built((NnRnnOpts){.units = 4, .return_sequences = rs, .go_backwards = true},
                           NN_SHAPE(TENSOR_F32, 5, 3), 2);
        copy_weights(bwd, fwd);
        Tensor *yb = nn_layer_call(bwd, tape, x, NULL);
        Tensor *yf_rev = nn_layer_call(fwd, tape, xr, NULL);
        Tensor *yf = nn_layer_call(fwd, tape, x, NULL);
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

Test(layer_gru, stateful_halves_equal_whole_and_reset) {
    Tape *tape = ag_tape_new();
    const int64_t B = 2, T = 6, D = 3, H = 4;
    Tensor *x = random_x(3, B, T, D), *x1 = time_slice(x, 0, 2), *x2 = time_slice(x, 2, T);
    Layer *plain = built((NnRnnOpts){.units = H}, NN_SHAPE(TENSOR_F32, -1, D), 4);
    Layer *sf = built((NnRnnOpts){.units = H, .stateful = true}, NN_SHAPE(TENSOR_F32, -1, D), 5);
    copy_weights(sf, plain);
    float whole[8], first[8];
    memcpy(whole, tensor_f32(nn_layer_call(plain, tape, x, NULL)), sizeof whole);
    memcpy(first, tensor_f32(nn_layer_call(plain, tape, x1, NULL)), sizeof first);
    ag_tape_reset(tape);
    nn_layer_call(sf, tape, x1, &(NnCallCtx){.training = true});
    ag_tape_reset(tape);
    /* (The macro reads its argument per element: call the layer once, outside it.) */
    Tensor *y = nn_layer_call(sf, tape, x2, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), whole, B * H, 1e-5, 1e-6);
    nn_layer_reset_state(sf);
    y = nn_layer_call(sf, tape, x1, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), first, B * H, 1e-5, 1e-6);
    nn_layer_free(plain);
    nn_layer_free(sf);
    tensor_free(x);
    tensor_free(x1);
    tensor_free(x2);
    ag_tape_free(tape);
}

Test(layer_gru, invalid_options) {
    cr_assert_null(nn_gru(.units = 0));
    cr_assert(strstr(tensor_last_error(), "GRU"), "%s", tensor_last_error());
    Layer *l = nn_gru(.units = 2);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_I32, 5, 2), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "GRU \"gru\""), "%s", tensor_last_error());
    nn_layer_free(l);
}

Test(layer_gru, cell_state_for_a_gru_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Layer *l = built((NnRnnOpts){.units = 3}, NN_SHAPE(TENSOR_F32, -1, 2), 1);
    Tensor *c = tensor_zeros(NULL, 2, (int64_t[]){2, 3});
    nn_rnn_call(l, tape, random_x(1, 2, 3, 2), &(NnRnnState){.c = c}, NULL, NULL);
}
