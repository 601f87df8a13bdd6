/* Dropout: identity at inference, inverted dropout while training (rate, scaling,
 * determinism from the call's Rng), no parameters, a gradient check with a re-seeded
 * Rng, and invalid rates. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <signal.h>
#include <string.h>

static Layer *built_dropout(float rate, NnShape in) {
    Layer *l = nn_dropout(.rate = rate);
    cr_assert_not_null(l, "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, in, NULL), 0, "%s", tensor_last_error());
    return l;
}

Test(layer_dropout, no_params_same_shape_keras_name) {
    Layer *l = built_dropout(0.3f, NN_SHAPE(TENSOR_F32, -1, 16));
    cr_assert_eq(nn_layer_param_count(l), 0);
    cr_assert_eq(l->n_params, 0);
    cr_assert_str_eq(l->name, "dropout");
    cr_assert_str_eq(l->vt->type, "Dropout");
    cr_assert_eq(l->activation, NN_LINEAR);
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, None, 16)");
    nn_layer_free(l);
}

Test(layer_dropout, inference_is_identity) {
    Layer *l = built_dropout(0.5f, NN_SHAPE(TENSOR_F32, 100));
    Tape *tape = ag_tape_new();
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(8, 100));
    Rng before = rng;
    Tensor *y = nn_layer_call(l, tape, x, &(NnCallCtx){.training = false, .rng = &rng});
    cr_assert_eq(y, x, "inference must hand x back unchanged");
    cr_assert_eq(memcmp(&before, &rng, sizeof rng), 0, "inference must not draw random numbers");
    cr_assert_eq(nn_layer_call(l, tape, x, NULL), x, "a NULL ctx is inference");
    tensor_free(x);
    ag_tape_free(tape);
    nn_layer_free(l);
}

Test(layer_dropout, training_drops_at_rate_and_scales) {
    float rates[] = {0.2f, 0.5f, 0.75f};
    Tape *tape = ag_tape_new();
    Rng rng;
    tensor_rng_seed(&rng, 4, 0);
    Tensor *x = test_random(&rng, 0.5f, 1.5f, TENSOR_SHAPE(50, 1000)); /* no zeros */
    for (int r = 0; r < 3; r++) {
        Layer *l = built_dropout(rates[r], NN_SHAPE(TENSOR_F32, 1000));
        Tensor *y = nn_layer_call(l, tape, x, &(NnCallCtx){.training = true, .rng = &rng});
        cr_assert_neq(y, x);
        cr_assert(tensor_same_shape(x, y));
        const float *xv = x->data, *yv = y->data;
        float scale = 1.0f / (1.0f - rates[r]);
        int64_t dropped = 0;
        for (int64_t i = 0; i < x->size; i++) {
            if (yv[i] == 0.0f)
                dropped++;
            else
                cr_assert_float_eq(yv[i], xv[i] * scale, 1e-6f * yv[i], "element %lld", (long long)i);
        }
        double frac = (double)dropped / (double)x->size;
        cr_assert(fabs(frac - rates[r]) < 0.01, "rate %g dropped %g", (double)rates[r], frac);
        nn_layer_free(l);
    }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(layer_dropout, same_seed_same_mask) {
    Layer *l = built_dropout(0.4f, NN_SHAPE(TENSOR_F32, 3, 50));
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(4, 3, 50));
    Rng a, b, c;
    tensor_rng_seed(&a, 77, 1);
    tensor_rng_seed(&b, 77, 1);
    tensor_rng_seed(&c, 78, 1);
    Tensor *ya = nn_layer_call(l, tape, x, &(NnCallCtx){.training = true, .rng = &a});
    Tensor *yb = nn_layer_call(l, tape, x, &(NnCallCtx){.training = true, .rng = &b});
    Tensor *yc = nn_layer_call(l, tape, x, &(NnCallCtx){.training = true, .rng = &c});
    cr_assert_eq(memcmp(ya->data, yb->data, (size_t)x->size * sizeof(float)), 0);
    cr_assert_neq(memcmp(ya->data, yc->data, (size_t)x->size * sizeof(float)), 0);
    ag_tape_free(tape);
    nn_layer_free(l);
}

Test(layer_dropout, rate_zero_is_identity_when_training) {
    Layer *l = built_dropout(0.0f, NN_SHAPE(TENSOR_F32, 5));
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(2, 5));
    cr_assert_eq(nn_layer_call(l, tape, x, &(NnCallCtx){.training = true}), x);
    ag_tape_free(tape);
    nn_layer_free(l);
}

typedef struct {
    Layer *layer;
    uint64_t seed;
} DropCtx;

/* Re-seeds on every call so each forward of the checker draws the same mask. */
static Tensor *dropout_fn(Tape *tape, Tensor *const *in, void *ctx) {
    DropCtx *c = ctx;
    Rng rng;
    tensor_rng_seed(&rng, c->seed, 3);
    return nn_layer_call(c->layer, tape, in[0], &(NnCallCtx){.training = true, .rng = &rng});
}

Test(layer_dropout, gradcheck_training) {
    Layer *l = built_dropout(0.3f, NN_SHAPE(TENSOR_F32, 4, 6));
    Rng rng;
    tensor_rng_seed(&rng, 12, 0);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(3, 4, 6));
    DropCtx c = {l, 99};
    ASSERT_GRADCHECK(dropout_fn, 1, &x, &c, .seed = 1);
    /* and the mask really dropped something: the gradient of sum(y) has zeros */
    Tape *tape = ag_tape_new();
    ag_backward(tape, ag_sum(tape, dropout_fn(tape, &x, &c)));
    int zeros = 0;
    for (int64_t i = 0; i < x->size; i++) {
        float g = x->grad[i];
        cr_assert(g == 0.0f || fabsf(g - 1.0f / 0.7f) < 1e-6f, "grad[%lld] = %g", (long long)i,
                  (double)g);
        zeros += g == 0.0f;
    }
    cr_assert(zeros > 0 && zeros < x->size, "%d of %lld dropped", zeros, (long long)x->size);
    ag_tape_free(tape);
    tensor_free(x);
    nn_layer_free(l);
}

Test(layer_dropout, training_without_rng_aborts, .signal = SIGABRT) {
    Layer *l = built_dropout(0.5f, NN_SHAPE(TENSOR_F32, 5));
    Tape *tape = ag_tape_new();
    nn_layer_call(l, tape, tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(2, 5)),
                  &(NnCallCtx){.training = true});
}

Test(layer_dropout, build_refuses_int_input) {
    Layer *l = nn_dropout(.rate = 0.1f);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_I32, 5), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "Dropout"), "got: %s", tensor_last_error());
    nn_layer_free(l);
}

Test(layer_dropout, invalid_rates_return_null_with_message) {
    float bad[] = {1.0f, 1.5f, -0.1f, NAN};
    const char *shown[] = {"1", "1.5", "-0.1", "nan"};
    for (int i = 0; i < 4; i++) {
        tensor_clear_error();
        cr_assert_null(nn_dropout(.rate = bad[i]), "rate %g accepted", (double)bad[i]);
        cr_assert(strstr(tensor_last_error(), "Dropout") && strstr(tensor_last_error(), "rate") &&
                      strstr(tensor_last_error(), shown[i]),
                  "got: %s", tensor_last_error());
    }
    Layer *ok = nn_dropout(.rate = 0.999f);
    cr_assert_not_null(ok);
    nn_layer_free(ok);
}
