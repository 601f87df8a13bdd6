/* reshape: a view sharing the input's data with a gradient of its own; -1 inference,
 * gradient checks through it, accumulation, and bad shapes stopping. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>

typedef struct {
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
} ShapeCtx;

static Tensor *reshape_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const ShapeCtx *s = ctx;
    return ag_reshape(tape, in[0], s->ndim, s->shape);
}

/* reshape followed by a non-linear op, so the view's data is read downstream. */
static Tensor *reshape_tanh_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_tanh(tape, reshape_fn(tape, in, ctx));
}

Test(op_reshape, values_share_data_and_infer) {
    Tape *tape = ag_tape_new();
    float v[] = {1, 2, 3, 4, 5, 6};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v), true);
    Tensor *y = ag_reshape(tape, x, TENSOR_SHAPE(3, -1));
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 3);
    cr_assert_eq(y->shape[1], 2);
    cr_assert_eq(y->data, x->data, "a reshape is a view of the same storage");
    cr_assert_str_eq(y->node->op->name, "reshape");
    float up[] = {0.5f, -1, 2, 3, -4, 10};
    ag_backward_with(tape, y, up);
    cr_assert_neq(y->grad, x->grad, "the view has a gradient buffer of its own");
    for (int i = 0; i < 6; i++) cr_assert_float_eq(x->grad[i], up[i], 0);
    /* A 0-d scalar and back. */
    Tensor *s = ag_reshape(tape, ag_reshape(tape, x, TENSOR_SHAPE(-1)), TENSOR_SHAPE(6, 1, 1));
    cr_assert_eq(s->ndim, 3);
    cr_assert_eq(s->shape[0], 6);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_reshape, int32_ids_reshape_without_recording) {
    Tape *tape = ag_tape_new();
    Tensor *ids = tensor_i32_from_array(NULL, TENSOR_SHAPE(2, 2), (int32_t[]){1, 2, 3, 4});
    Tensor *y = ag_reshape(tape, ids, TENSOR_SHAPE(4));
    cr_assert_eq(y->dtype, TENSOR_I32);
    cr_assert_eq(tensor_i32(y)[3], 4);
    cr_assert_eq(ag_tape_size(tape), 0);
    tensor_free(ids);
    ag_tape_free(tape);
}

Test(op_reshape, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 11, 0);
    struct {
        int n_in;
        int64_t in[4];
        ShapeCtx out;
    } cases[] = {
        {3, {1, 1, 1}, {1, {-1}}},
        {3, {3, 1, 5}, {2, {5, 3}}},
        {3, {2, 4, 3}, {4, {2, 2, -1, 3}}},
        {4, {2, 3, 1, 2}, {3, {1, 12, 1}}},
        {2, {4, 6}, {2, {-1, 4}}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *x = test_random(&rng, -2, 2, cases[c].n_in, cases[c].in);
        ASSERT_GRADCHECK(reshape_fn, 1, &x, &cases[c].out);
        ASSERT_GRADCHECK(reshape_tanh_fn, 1, &x, &cases[c].out);
        tensor_free(x);
    }
}

Test(op_reshape, two_views_accumulate) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_ones(NULL, TENSOR_SHAPE(2, 3)), true);
    Tensor *a = ag_reshape(tape, x, TENSOR_SHAPE(6));
    Tensor *b = ag_reshape(tape, x, TENSOR_SHAPE(3, 2));
    ag_backward(tape, ag_add(tape, ag_sum(tape, a), ag_sum(tape, ag_tanh(tape, b))));
    float t = tanhf(1.0f);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(x->grad[i], 1.0f + (1 - t * t), 1e-6);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_reshape, large_parallel) {
    Rng rng;
    tensor_rng_seed(&rng, 12, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_reshape(tape, x, TENSOR_SHAPE(100, 10, -1));
    cr_assert_eq(y->shape[2], 100);
    float *up = malloc(sizeof(float) * 100000);
    for (int i = 0; i < 100000; i++) up[i] = (float)(i % 17) - 8;
    ag_backward_with(tape, y, up);
    for (int i = 0; i < 100000; i++) cr_assert_eq(x->grad[i], up[i]);
    free(up);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_reshape, element_count_mismatch_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_reshape(tape, x, TENSOR_SHAPE(4, 2));
}

Test(op_reshape, inferred_dim_that_does_not_divide_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_reshape(tape, x, TENSOR_SHAPE(4, -1));
}

Test(op_reshape, two_inferred_dims_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_reshape(tape, x, TENSOR_SHAPE(-1, -1));
}
