/* add_scalar: hand-computed values and gradient, finite-difference checks, dtype
 * check, and the parallel path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *add_scalar_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_add_scalar(tape, in[0], *(const float *)ctx);
}

Test(op_add_scalar, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(5), v);
    Tensor *y = ag_add_scalar(tape, x, 1.5f);
    cr_assert_eq(y->ndim, 1);
    cr_assert_eq(y->shape[0], 5);
    float expect[] = {-1.5f, 1.0f, 1.5f, 1.75f, 3.5f};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 5, 0, 0);
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_add_scalar(tape, x, -4.0f);
    float g[] = {1, 2, 3, -1, 0.5f};
    ag_backward_with(tape, y, g);
    ASSERT_CLOSE_ARRAY(x->grad, g, 5, 0, 0);
    ag_backward_with(tape, y, g); /* accumulates */
    for (int i = 0; i < 5; i++) cr_assert_eq(x->grad[i], 2 * g[i]);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_add_scalar, scalar_input) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_full(NULL, 0, NULL, 2.0f);
    Tensor *y = ag_add_scalar(tape, x, 0.5f);
    cr_assert_eq(y->ndim, 0);
    cr_assert_eq(((float *)y->data)[0], 2.5f);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_add_scalar, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    float c = 0.75f;
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        ASSERT_GRADCHECK(add_scalar_fn, 1, &x, &c);
        tensor_free(x);
    }
}

Test(op_add_scalar, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_add_scalar(tape, x, 1.0f);
}

Test(op_add_scalar, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -3, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_add_scalar(tape, x, -0.7f);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], xv[i] + -0.7f);
        cr_assert_eq(x->grad[i], 1.0f);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
