/* Dense: Keras parameter counts and shapes, values against a hand computation, each
 * activation, the logits context skipping softmax/sigmoid, gradient checks through
 * nn_layer_call, the Glorot kernel, and invalid options. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <signal.h>
#include <string.h>

/* The layer and the ctx a gradient-check forward calls it with. */
typedef struct {
    Layer *layer;
    NnCallCtx ctx;
    int x_index; /* where x sits among the checked inputs */
} CallCtx;

static Tensor *call_fn(Tape *tape, Tensor *const *in, void *ctx) {
    CallCtx *c = ctx;
    return nn_layer_call(c->layer, tape, in[c->x_index], &c->ctx);
}

static Layer *built_dense(NnDenseOpts opts, NnShape in, uint64_t seed) {
    Layer *l = nn_dense_new(&opts);
    cr_assert_not_null(l, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    cr_assert_eq(nn_layer_build(l, in, &rng), 0, "%s", tensor_last_error());
    return l;
}

/* kernel (3, 2) and bias (2) set by hand. */
static const float K[] = {1, -1, 2, 0.5f, -3, 1}, Bv[] = {0.25f, -0.5f};
static const float X[] = {1, 2, 3, -1, 0, 2};

/* y = x K + b for X (2, 3), computed by hand. */
static void expected_linear(float *y) {
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
            float s = Bv[c];
            for (int k = 0; k < 3; k++) s += X[r * 3 + k] * K[k * 2 + c];
            y[r * 2 + c] = s;
        }
}

static Layer *hand_dense(NnActivation act) {
    Layer *l = built_dense((NnDenseOpts){.units = 2, .activation = act}, NN_SHAPE(TENSOR_F32, 3), 1);
    memcpy(l->params[0]->data, K, sizeof K);
    memcpy(l->params[1]->data, Bv, sizeof Bv);
    return l;
}

Test(layer_dense, keras_param_count_names_and_shapes) {
    Layer *l = built_dense((NnDenseOpts){.units = 27}, NN_SHAPE(TENSOR_F32, 64), 1);
    cr_assert_eq(nn_layer_param_count(l), 1755);
    cr_assert_str_eq(l->name, "dense");
    cr_assert_str_eq(l->vt->type, "Dense");
    cr_assert_eq(l->n_params, 2);
    cr_assert_str_eq(l->params[0]->name, "dense/kernel");
    cr_assert_str_eq(l->params[1]->name, "dense/bias");
    cr_assert_eq(l->params[0]->ndim, 2);
    cr_assert_eq(l->params[0]->shape[0], 64);
    cr_assert_eq(l->params[0]->shape[1], 27);
    cr_assert_eq(l->params[1]->shape[0], 27);
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, 27)");
    for (int i = 0; i < 27; i++) cr_assert_eq(((float *)l->params[1]->data)[i], 0.0f);
    nn_layer_free(l);

    Layer *nb = built_dense((NnDenseOpts){.units = 27, .no_bias = true}, NN_SHAPE(TENSOR_F32, 64), 1);
    cr_assert_eq(nn_layer_param_count(nb), 1728);
    cr_assert_eq(nb->n_params, 1);
    nn_layer_free(nb);

    Layer *named = built_dense((NnDenseOpts){.units = 3, .name = "head"}, NN_SHAPE(TENSOR_F32, 4), 1);
    cr_assert_str_eq(named->name, "head");
    cr_assert_str_eq(named->params[0]->name, "head/kernel");
    nn_layer_free(named);
}

Test(layer_dense, activation_is_published_on_the_base) {
    NnActivation acts[] = {NN_LINEAR, NN_RELU, NN_TANH, NN_SIGMOID, NN_SOFTMAX};
    for (int a = 0; a < 5; a++) {
        Layer *l = nn_dense(.units = 2, .activation = acts[a]);
        cr_assert_eq(l->activation, acts[a], "a model reads layer->activation to fuse the loss");
        nn_layer_free(l);
    }
}

Test(layer_dense, glorot_kernel_within_limit) {
    Layer *l = built_dense((NnDenseOpts){.units = 27}, NN_SHAPE(TENSOR_F32, 64), 7);
    double limit = sqrt(6.0 / (64 + 27)), maxabs = 0, sq = 0;
    const float *k = l->params[0]->data;
    for (int i = 0; i < 64 * 27; i++) {
        cr_assert(fabs(k[i]) <= limit, "kernel[%d] = %g beyond %g", i, (double)k[i], limit);
        maxabs = fmax(maxabs, fabs(k[i]));
        sq += (double)k[i] * k[i];
    }
    cr_assert(maxabs > 0.95 * limit, "max |w| %g, limit %g", maxabs, limit);
    double var = sq / (64 * 27);
    cr_assert(fabs(var - limit * limit / 3) < 0.1 * limit * limit / 3, "variance %g vs %g", var,
              limit * limit / 3);
    /* same seed, same kernel */
    Layer *again = built_dense((NnDenseOpts){.units = 27}, NN_SHAPE(TENSOR_F32, 64), 7);
    cr_assert_eq(memcmp(again->params[0]->data, k, 64 * 27 * sizeof(float)), 0);
    nn_layer_free(again);
    nn_layer_free(l);
}

Test(layer_dense, linear_values_by_hand) {
    Layer *l = hand_dense(NN_LINEAR);
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(ag_tape_arena(tape), TENSOR_SHAPE(2, 3), X);
    Tensor *y = nn_layer_call(l, tape, x, &(NnCallCtx){0});
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 2);
    float e[4];
    expected_linear(e);
    /* 1*1 + 2*2 + 3*-3 + 0.25 = -3.75 as a spot check of the helper itself */
    cr_assert_float_eq(e[0], -3.75f, 1e-6f);
    ASSERT_CLOSE_ARRAY((float *)y->data, e, 4, 1e-6, 1e-6);
    ag_tape_free(tape);
    nn_layer_free(l);
}

Test(layer_dense, activations_by_hand) {
    float e[4];
    expected_linear(e);
    NnActivation acts[] = {NN_RELU, NN_TANH, NN_SIGMOID, NN_SOFTMAX};
    Tape *tape = ag_tape_new();
    for (int a = 0; a < 4; a++) {
        Layer *l = hand_dense(acts[a]);
        Tensor *x = tensor_from_array(ag_tape_arena(tape), TENSOR_SHAPE(2, 3), X);
        const float *y = nn_layer_call(l, tape, x, &(NnCallCtx){0})->data;
        for (int r = 0; r < 2; r++) {
            double z = exp(e[r * 2]) + exp(e[r * 2 + 1]), rowsum = 0;
            for (int c = 0; c < 2; c++) {
                float v = e[r * 2 + c], want = 0;
                switch (acts[a]) {
                case NN_RELU: want = v > 0 ? v : 0; break;
                case NN_TANH: want = tanhf(v); break;
                case NN_SIGMOID: want = 1 / (1 + expf(-v)); break;
                default: want = (float)(exp(v) / z); break;
                }
                cr_assert_float_eq(y[r * 2 + c], want, 1e-6f, "activation %d [%d][%d]", acts[a], r, c);
                rowsum += y[r * 2 + c];
            }
            if (acts[a] == NN_SOFTMAX) cr_assert_float_eq(rowsum, 1.0, 1e-6, "softmax row %d", r);
        }
        nn_layer_free(l);
    }
    ag_tape_free(tape);
}

Test(layer_dense, logits_ctx_skips_softmax_and_sigmoid_only) {
    float e[4];
    expected_linear(e);
    Tape *tape = ag_tape_new();
    NnActivation acts[] = {NN_SOFTMAX, NN_SIGMOID, NN_RELU};
    for (int a = 0; a < 3; a++) {
        Layer *l = hand_dense(acts[a]);
        Tensor *x = tensor_from_array(ag_tape_arena(tape), TENSOR_SHAPE(2, 3), X);
        const float *y = nn_layer_call(l, tape, x, &(NnCallCtx){.logits = true})->data;
        for (int i = 0; i < 4; i++) {
            float want = acts[a] == NN_RELU ? (e[i] > 0 ? e[i] : 0) : e[i];
            cr_assert_float_eq(y[i], want, 1e-6f, "activation %d element %d", acts[a], i);
        }
        nn_layer_free(l);
    }
    ag_tape_free(tape);
}

Test(layer_dense, rank3_input_applies_on_last_axis) {
    Layer *l = built_dense((NnDenseOpts){.units = 5, .activation = NN_TANH},
                           NN_SHAPE(TENSOR_F32, -1, 4), 2);
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, None, 5)");
    Rng rng;
    tensor_rng_seed(&rng, 8, 0);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(3, 6, 4));
    Tape *tape = ag_tape_new();
    Tensor *y = nn_layer_call(l, tape, x, &(NnCallCtx){0});
    cr_assert_eq(y->ndim, 3);
    cr_assert_eq(y->shape[0], 3);
    cr_assert_eq(y->shape[1], 6);
    cr_assert_eq(y->shape[2], 5);
    const float *xv = x->data, *k = l->params[0]->data, *b = l->params[1]->data, *yv = y->data;
    for (int r = 0; r < 18; r++)
        for (int c = 0; c < 5; c++) {
            double s = b[c];
            for (int i = 0; i < 4; i++) s += (double)xv[r * 4 + i] * k[i * 5 + c];
            cr_assert_float_eq(yv[r * 5 + c], tanh(s), 1e-5, "row %d col %d", r, c);
        }
    ag_tape_free(tape);
    tensor_free(x);
    nn_layer_free(l);
}

static void gradcheck_dense(NnActivation act, bool logits) {
    Layer *l = built_dense((NnDenseOpts){.units = 4, .activation = act}, NN_SHAPE(TENSOR_F32, 3, 5), 3);
    Rng rng;
    tensor_rng_seed(&rng, 21, 0);
    /* a non-zero bias so relu's kinks are not all at the same place */
    tensor_fill_uniform(l->params[1]->data, 4, &rng, -0.5f, 0.5f);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(2, 3, 5));
    CallCtx c = {.layer = l, .ctx = {.logits = logits}, .x_index = 2};
    Tensor *inputs[] = {l->params[0], l->params[1], x};
    cr_assert(l->params[0]->requires_grad && l->params[1]->requires_grad);
    ASSERT_GRADCHECK(call_fn, 3, inputs, &c, .seed = 5);
    tensor_free(x);
    nn_layer_free(l);
}

Test(layer_dense, gradcheck_linear) { gradcheck_dense(NN_LINEAR, false); }
Test(layer_dense, gradcheck_relu) { gradcheck_dense(NN_RELU, false); }
Test(layer_dense, gradcheck_tanh) { gradcheck_dense(NN_TANH, false); }
Test(layer_dense, gradcheck_sigmoid) { gradcheck_dense(NN_SIGMOID, false); }
Test(layer_dense, gradcheck_softmax) { gradcheck_dense(NN_SOFTMAX, false); }
Test(layer_dense, gradcheck_softmax_as_logits) { gradcheck_dense(NN_SOFTMAX, true); }

Test(layer_dense, gradient_reaches_params_after_backward) {
    Layer *l = hand_dense(NN_LINEAR);
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(ag_tape_arena(tape), TENSOR_SHAPE(2, 3), X);
    Tensor *loss = ag_sum(tape, nn_layer_call(l, tape, x, &(NnCallCtx){.training = true}));
    ag_backward(tape, loss);
    /* d sum / d bias = number of rows; d sum / d K[k][c] = sum of column k of X */
    const float *gb = l->params[1]->grad, *gk = l->params[0]->grad;
    cr_assert_not_null(gb);
    cr_assert_not_null(gk);
    for (int c = 0; c < 2; c++) cr_assert_float_eq(gb[c], 2.0f, 1e-6f);
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 2; c++) cr_assert_float_eq(gk[k * 2 + c], X[k] + X[3 + k], 1e-6f);
    ag_tape_free(tape);
    nn_layer_free(l);
}

Test(layer_dense, invalid_options_return_null_with_message) {
    tensor_clear_error();
    cr_assert_null(nn_dense(.units = 0));
    cr_assert(strstr(tensor_last_error(), "Dense") && strstr(tensor_last_error(), "units"),
              "got: %s", tensor_last_error());
    cr_assert_null(nn_dense(.units = -3));
    cr_assert(strstr(tensor_last_error(), "-3"), "got: %s", tensor_last_error());
    cr_assert_null(nn_dense(.units = 2, .activation = (NnActivation)42));
    cr_assert(strstr(tensor_last_error(), "activation") && strstr(tensor_last_error(), "42"),
              "got: %s", tensor_last_error());
    cr_assert_null(nn_dense(.units = 2, .name = ""));
    cr_assert(strstr(tensor_last_error(), "name"), "got: %s", tensor_last_error());
    cr_assert_null(nn_dense_new(NULL));
}

Test(layer_dense, build_refuses_int_input_and_unknown_last_dim) {
    Layer *l = nn_dense(.units = 2);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_I32, 10), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "float32"), "got: %s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 10, -1), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "(None, 10, None)"), "got: %s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, (NnShape){.dtype = TENSOR_F32, .ndim = 0}, NULL), -1);
    cr_assert_not(l->built);
    cr_assert_eq(l->n_params, 0);
    nn_layer_free(l);
}

Test(layer_dense, mismatched_input_aborts, .signal = SIGABRT) {
    Layer *l = built_dense((NnDenseOpts){.units = 27}, NN_SHAPE(TENSOR_F32, 64), 1);
    Tape *tape = ag_tape_new();
    nn_layer_call(l, tape, tensor_zeros(ag_tape_arena(tape), TENSOR_SHAPE(4, 63)), NULL);
}
