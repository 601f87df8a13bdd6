/* Where masks come from and where they go: Embedding(mask_zero) masks id 0 and only
 * with the option; Masking masks steps whose every feature is the mask value and zeroes
 * them; Dense (3-D), Dropout and TimeDistributed hand the mask on (TimeDistributed's
 * inner layer gets none); nn_mask_rows picks the real steps, float and int, with the
 * gradient of float rows going back to their steps; the options' errors. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <signal.h>

/* A heap int32 tensor holding values. */
static Tensor *ids_tensor(int ndim, const int64_t *shape, const int32_t *values) {
    Tensor *t = tensor_i32_zeros(NULL, ndim, shape);
    memcpy(t->data, values, (size_t)t->size * sizeof(int32_t));
    return t;
}

static Layer *built_on(Layer *l, NnShape in) {
    cr_assert_not_null(l, "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, in, NULL), 0, "%s", tensor_last_error());
    return l;
}

Test(masking, embedding_mask_zero) {
    Tape *tape = ag_tape_new();
    int32_t idv[] = {3, 0, 5, 0, 0, 1, 2, 4};
    Tensor *ids = ids_tensor(TENSOR_SHAPE(2, 4), idv);
    Layer *plain = built_on(nn_embedding(.vocab = 6, .dim = 3), NN_SHAPE(TENSOR_I32, 4));
    Layer *masked = built_on(nn_embedding(.vocab = 6, .dim = 3, .mask_zero = true), NN_SHAPE(TENSOR_I32, 4));
    cr_assert_null(nn_layer_compute_mask(plain, tape, ids, NULL));
    const Tensor *m = nn_layer_compute_mask(masked, tape, ids, NULL);
    cr_assert_not_null(m);
    cr_assert(m->dtype == TENSOR_F32 && m->ndim == 2 && m->shape[0] == 2 && m->shape[1] == 4);
    for (int i = 0; i < 8; i++) cr_assert_eq(tensor_f32(m)[i], idv[i] != 0 ? 1.0f : 0.0f, "step %d", i);
    /* The lookup itself is unchanged: id 0 has its row. */
    Tensor *y = nn_layer_call(masked, tape, ids, NULL);
    cr_assert(y->ndim == 3 && y->shape[2] == 3);
    nn_layer_free(plain), nn_layer_free(masked);
    tensor_free(ids);
    ag_tape_free(tape);
}

Test(masking, embedding_mask_zero_needs_time_axis) {
    Layer *l = nn_embedding(.vocab = 6, .dim = 3, .mask_zero = true);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_I32, 4, 2), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "mask_zero needs (batch, time) ids"), "%s", tensor_last_error());
    nn_layer_free(l);
}

Test(masking, masking_layer) {
    Tape *tape = ag_tape_new();
    /* (1, 4, 2): steps 1 and 3 are all -1; step 2 has one -1 only, so it is real. */
    float xv[] = {0.5f, 2.0f, -1.0f, -1.0f, -1.0f, 3.0f, -1.0f, -1.0f};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(1, 4, 2), xv), true);
    Layer *l = built_on(nn_masking(.mask_value = -1.0f), NN_SHAPE(TENSOR_F32, 4, 2));
    const Tensor *m = nn_layer_compute_mask(l, tape, x, NULL);
    float want_m[] = {1, 0, 1, 0};
    ASSERT_CLOSE_ARRAY(tensor_f32(m), want_m, 4, 0, 0);
    Tensor *y = nn_layer_call(l, tape, x, NULL);
    float want_y[] = {0.5f, 2.0f, 0, 0, -1.0f, 3.0f, 0, 0};
    ASSERT_CLOSE_ARRAY(tensor_f32(y), want_y, 8, 0, 0);
    ag_backward(tape, ag_sum(tape, y));
    float want_g[] = {1, 1, 0, 0, 1, 1, 0, 0};
    ASSERT_CLOSE_ARRAY(tensor_grad(x), want_g, 8, 0, 0);
    nn_layer_free(l);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(masking, masking_refuses_bad_options_and_inputs) {
    cr_assert_null(nn_masking(.mask_value = NAN));
    cr_assert(strstr(tensor_last_error(), "NaN"), "%s", tensor_last_error());
    Layer *l = nn_masking();
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 4), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "(batch, time, features)"), "%s", tensor_last_error());
    nn_layer_free(l);
}

/* Dense on (B, T, D), Dropout and TimeDistributed return the mask they were given;
 * Dense on (B, D) has no time axis and drops it. */
Test(masking, pass_through_layers) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 4)), *flat = tensor_zeros(NULL, TENSOR_SHAPE(2, 4));
    Tensor *mask = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Layer *dense = built_on(nn_dense(.units = 2), NN_SHAPE(TENSOR_F32, 3, 4));
    Layer *drop = built_on(nn_dropout(.rate = 0.5f), NN_SHAPE(TENSOR_F32, 3, 4));
    Layer *td = built_on(nn_time_distributed(nn_dense(.units = 2)), NN_SHAPE(TENSOR_F32, 3, 4));
    Layer *dense2 = built_on(nn_dense(.units = 2), NN_SHAPE(TENSOR_F32, 4));
    cr_assert_eq(nn_layer_compute_mask(dense, tape, x, mask), mask);
    cr_assert_eq(nn_layer_compute_mask(drop, tape, x, mask), mask);
    cr_assert_eq(nn_layer_compute_mask(td, tape, x, mask), mask);
    cr_assert_null(nn_layer_compute_mask(dense2, tape, flat, mask));
    /* The wrapped Dense runs on (B*T, D) steps: called with the mask, it must not see it. */
    Tensor *y = nn_layer_call(td, tape, x, &(NnCallCtx){.mask = mask});
    cr_assert(y->ndim == 3 && y->shape[1] == 3 && y->shape[2] == 2);
    nn_layer_free(dense), nn_layer_free(drop), nn_layer_free(td), nn_layer_free(dense2);
    tensor_free(x), tensor_free(flat), tensor_free(mask);
    ag_tape_free(tape);
}

Test(masking, mask_rows) {
    Tape *tape = ag_tape_new();
    float xv[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; /* (2, 3, 2) */
    int32_t yv[] = {7, 8, 9, 10, 11, 12};
    float mv[] = {1, 0, 1, 0, 1, 0};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 3, 2), xv), true);
    Tensor *y = ids_tensor(TENSOR_SHAPE(2, 3), yv);
    Tensor *m = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), mv);
    Tensor *rx = nn_mask_rows(tape, x, m), *ry = nn_mask_rows(tape, y, m);
    cr_assert(rx->ndim == 2 && rx->shape[0] == 3 && rx->shape[1] == 2);
    cr_assert(ry->ndim == 1 && ry->shape[0] == 3 && ry->dtype == TENSOR_I32);
    float want_x[] = {1, 2, 5, 6, 9, 10};
    int32_t want_y[] = {7, 9, 11};
    ASSERT_CLOSE_ARRAY(tensor_f32(rx), want_x, 6, 0, 0);
    for (int i = 0; i < 3; i++) cr_assert_eq(tensor_i32(ry)[i], want_y[i]);
    ag_backward(tape, ag_sum(tape, rx));
    float want_g[] = {1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0};
    ASSERT_CLOSE_ARRAY(tensor_grad(x), want_g, 12, 0, 0);
    tensor_free(x), tensor_free(y), tensor_free(m);
    ag_tape_free(tape);
}

Test(masking, mask_rows_rejects_a_mask_of_another_shape, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    nn_mask_rows(tape, tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 2)), tensor_zeros(NULL, TENSOR_SHAPE(3, 2)));
}
