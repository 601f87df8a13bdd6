/* TimeDistributed: Keras parameter count and shapes, equality with the wrapped Dense
 * applied step by step, the logits context reaching the wrapped layer, a gradient
 * check through nn_layer_call, unknown time lengths, and construction/build errors. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <signal.h>
#include <string.h>

static Layer *built_td(Layer *inner, NnShape in) {
    Layer *l = nn_time_distributed(inner);
    cr_assert_not_null(l, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, 31, 0);
    cr_assert_eq(nn_layer_build(l, in, &rng), 0, "%s", tensor_last_error());
    return l;
}

Test(layer_time_distributed, keras_param_count_names_and_shapes) {
    Layer *l = built_td(nn_dense(.units = 27, .activation = NN_SOFTMAX), NN_SHAPE(TENSOR_F32, -1, 256));
    cr_assert_eq(nn_layer_param_count(l), 6939);
    cr_assert_str_eq(l->name, "time_distributed");
    cr_assert_str_eq(l->vt->type, "TimeDistributed");
    cr_assert_eq(l->n_params, 0, "the parameters belong to the wrapped layer");
    cr_assert_eq(l->n_children, 1);
    cr_assert_eq(l->activation, NN_SOFTMAX, "the wrapper ends with its inner layer's activation");
    Layer *inner = l->children[0];
    cr_assert(inner->built);
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&inner->in_shape, buf, sizeof buf), "(None, 256)");
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, None, 27)");
    nn_layer_free(l);

    Layer *fixed = built_td(nn_dense(.units = 3), NN_SHAPE(TENSOR_F32, 40, 2, 8));
    cr_assert_str_eq(nn_shape_str(&fixed->out_shape, buf, sizeof buf), "(None, 40, 2, 3)");
    cr_assert_eq(nn_layer_param_count(fixed), 8 * 3 + 3);
    nn_layer_free(fixed);
}

/* The wrapped Dense on each step (B, D) separately, written into (B, T, U). */
static void step_by_step(Layer *dense, Tensor *x, float *out, NnCallCtx ctx) {
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    Tape *tape = ag_tape_new();
    Arena *arena = ag_tape_arena(tape);
    const float *xv = x->data;
    for (int64_t t = 0; t < T; t++) {
        Tensor *xt = tensor_empty(arena, TENSOR_F32, TENSOR_SHAPE(B, D));
        for (int64_t b = 0; b < B; b++)
            memcpy((float *)xt->data + b * D, xv + (b * T + t) * D, (size_t)D * sizeof(float));
        Tensor *yt = nn_layer_call(dense, tape, xt, &ctx);
        int64_t U = yt->shape[1];
        for (int64_t b = 0; b < B; b++)
            memcpy(out + (b * T + t) * U, (float *)yt->data + b * U, (size_t)U * sizeof(float));
    }
    ag_tape_free(tape);
}

static void check_equals_steps(NnActivation act, NnCallCtx ctx, int64_t T) {
    Layer *l = built_td(nn_dense(.units = 5, .activation = act), NN_SHAPE(TENSOR_F32, -1, 4));
    Rng rng;
    tensor_rng_seed(&rng, 6, 0);
    tensor_fill_uniform(l->children[0]->params[1]->data, 5, &rng, -1, 1);
    Tensor *x = test_random(&rng, -2, 2, TENSOR_SHAPE(3, T, 4));
    Tape *tape = ag_tape_new();
    Tensor *y = nn_layer_call(l, tape, x, &ctx);
    cr_assert_eq(y->ndim, 3);
    cr_assert_eq(y->shape[0], 3);
    cr_assert_eq(y->shape[1], T);
    cr_assert_eq(y->shape[2], 5);
    float *want = malloc((size_t)y->size * sizeof(float));
    step_by_step(l->children[0], x, want, ctx);
    ASSERT_CLOSE_ARRAY((float *)y->data, want, y->size, 1e-6, 1e-6);
    free(want);
    ag_tape_free(tape);
    tensor_free(x);
    nn_layer_free(l);
}

Test(layer_time_distributed, equals_dense_step_by_step) {
    check_equals_steps(NN_LINEAR, (NnCallCtx){0}, 7);
    check_equals_steps(NN_TANH, (NnCallCtx){0}, 1);
    check_equals_steps(NN_SOFTMAX, (NnCallCtx){0}, 9);
}

Test(layer_time_distributed, values_by_hand) {
    Layer *l = built_td(nn_dense(.units = 2), NN_SHAPE(TENSOR_F32, 2, 2));
    Layer *d = l->children[0];
    memcpy(d->params[0]->data, (float[]){1, 2, 3, 4}, 4 * sizeof(float)); /* [[1,2],[3,4]] */
    memcpy(d->params[1]->data, (float[]){10, 20}, 2 * sizeof(float));
    Tape *tape = ag_tape_new();
    /* one sample, steps [1, 0] and [0, -1] */
    Tensor *x = tensor_from_array(ag_tape_arena(tape), TENSOR_SHAPE(1, 2, 2), (float[]){1, 0, 0, -1});
    Tensor *y = nn_layer_call(l, tape, x, NULL);
    float want[] = {11, 22, 7, 16};
    ASSERT_CLOSE_ARRAY((float *)y->data, want, 4, 0, 1e-6);
    ag_tape_free(tape);
    nn_layer_free(l);
}

Test(layer_time_distributed, logits_reach_the_wrapped_layer) {
    Layer *l = built_td(nn_dense(.units = 4, .activation = NN_SOFTMAX), NN_SHAPE(TENSOR_F32, -1, 3));
    Rng rng;
    tensor_rng_seed(&rng, 8, 0);
    Tensor *x = test_random(&rng, -2, 2, TENSOR_SHAPE(2, 5, 3));
    Tape *tape = ag_tape_new();
    const float *probs = nn_layer_call(l, tape, x, NULL)->data;
    Tensor *logits = nn_layer_call(l, tape, x, &(NnCallCtx){.logits = true});
    Tensor *sm = ag_softmax(tape, logits, -1);
    bool differs = false;
    for (int64_t i = 0; i < sm->size; i++) {
        cr_assert_float_eq(((float *)sm->data)[i], probs[i], 1e-6f);
        differs |= fabsf(((float *)logits->data)[i] - probs[i]) > 1e-3f;
    }
    cr_assert(differs, "with logits requested the softmax must be skipped");
    for (int r = 0; r < 10; r++) {
        double s = 0;
        for (int c = 0; c < 4; c++) s += probs[r * 4 + c];
        cr_assert_float_eq(s, 1.0, 1e-5);
    }
    /* logits mode also matches the step-by-step logits */
    float *want = malloc((size_t)logits->size * sizeof(float));
    step_by_step(l->children[0], x, want, (NnCallCtx){.logits = true});
    ASSERT_CLOSE_ARRAY((float *)logits->data, want, logits->size, 1e-6, 1e-6);
    free(want);
    ag_tape_free(tape);
    tensor_free(x);
    nn_layer_free(l);
}

typedef struct {
    Layer *layer;
    NnCallCtx ctx;
} CallCtx;

static Tensor *call_fn(Tape *tape, Tensor *const *in, void *ctx) {
    CallCtx *c = ctx;
    return nn_layer_call(c->layer, tape, in[2], &c->ctx);
}

Test(layer_time_distributed, gradcheck_params_and_input) {
    Layer *l = built_td(nn_dense(.units = 3, .activation = NN_TANH), NN_SHAPE(TENSOR_F32, -1, 4));
    Layer *d = l->children[0];
    Rng rng;
    tensor_rng_seed(&rng, 10, 0);
    tensor_fill_uniform(d->params[1]->data, 3, &rng, -0.5f, 0.5f);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(2, 5, 4));
    CallCtx c = {l, {.training = true}};
    Tensor *inputs[] = {d->params[0], d->params[1], x};
    ASSERT_GRADCHECK(call_fn, 3, inputs, &c, .seed = 4);
    tensor_free(x);
    nn_layer_free(l);
}

Test(layer_time_distributed, wraps_an_embedding) {
    Layer *l = built_td(nn_embedding(.vocab = 9, .dim = 2), NN_SHAPE(TENSOR_I32, -1, 3));
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, None, 3, 2)");
    cr_assert_eq(l->out_shape.dtype, TENSOR_F32);
    Tape *tape = ag_tape_new();
    int32_t ids[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2};
    Tensor *x = tensor_i32_from_array(ag_tape_arena(tape), TENSOR_SHAPE(2, 2, 3), ids);
    Tensor *y = nn_layer_call(l, tape, x, NULL);
    cr_assert_eq(y->ndim, 4);
    const float *table = l->children[0]->params[0]->data, *yv = y->data;
    for (int i = 0; i < 12; i++)
        for (int c = 0; c < 2; c++) cr_assert_eq(yv[i * 2 + c], table[ids[i] * 2 + c]);
    ag_tape_free(tape);
    nn_layer_free(l);
}

Test(layer_time_distributed, null_inner_returns_null_with_message) {
    tensor_clear_error();
    cr_assert_null(nn_time_distributed(NULL));
    cr_assert(strstr(tensor_last_error(), "TimeDistributed") && strstr(tensor_last_error(), "NULL"),
              "got: %s", tensor_last_error());
    /* the failed constructor's reason is kept */
    cr_assert_null(nn_time_distributed(nn_dense(.units = -4)));
    cr_assert(strstr(tensor_last_error(), "TimeDistributed") && strstr(tensor_last_error(), "-4"),
              "got: %s", tensor_last_error());
}

Test(layer_time_distributed, build_errors) {
    Layer *l = nn_time_distributed(nn_dense(.units = 2));
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 5), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "Dense"), "the wrapped layer's reason, got: %s",
              tensor_last_error());
    NnShape scalar = {.dtype = TENSOR_F32, .ndim = 0};
    cr_assert_eq(nn_layer_build(l, scalar, NULL), -1);
    cr_assert(strstr(tensor_last_error(), "time axis"), "got: %s", tensor_last_error());
    cr_assert_not(l->built);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 5, 6), NULL), 0, "%s", tensor_last_error());
    nn_layer_free(l);

    /* a wrapped layer built already must fit the steps */
    Layer *pre = nn_dense(.units = 2);
    cr_assert_eq(nn_layer_build(pre, NN_SHAPE(TENSOR_F32, 6), NULL), 0);
    Layer *ok = nn_time_distributed(pre);
    cr_assert_eq(nn_layer_build(ok, NN_SHAPE(TENSOR_F32, 4, 6), NULL), 0, "%s", tensor_last_error());
    nn_layer_free(ok);
    Layer *pre2 = nn_dense(.units = 2);
    cr_assert_eq(nn_layer_build(pre2, NN_SHAPE(TENSOR_F32, 6), NULL), 0);
    Layer *bad = nn_time_distributed(pre2);
    cr_assert_eq(nn_layer_build(bad, NN_SHAPE(TENSOR_F32, 4, 7), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "(None, 6)") && strstr(tensor_last_error(), "(None, 7)"),
              "got: %s", tensor_last_error());
    nn_layer_free(bad);
}

Test(layer_time_distributed, mismatched_step_aborts, .signal = SIGABRT) {
    Layer *l = built_td(nn_dense(.units = 2), NN_SHAPE(TENSOR_F32, -1, 4));
    Tape *tape = ag_tape_new();
    nn_layer_call(l, tape, tensor_zeros(ag_tape_arena(tape), TENSOR_SHAPE(2, 3, 5)), NULL);
}
