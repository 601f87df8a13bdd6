/* square: hand-computed values and gradient, finite-difference checks, dtype check,
 * and the parallel path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *square_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_square(tape, in[0]);
}

Test(op_square, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, 7.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v);
    Tensor *y = ag_square(tape, x);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 3);
    float expect[] = {9.0f, 0.25f, 0.0f, 0.0625f, 4.0f, 49.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 0, 0);
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_square(tape, x);
    float g[] = {1, 2, 3, -1, 0.5f, 0};
    ag_backward_with(tape, y, g);
    float gexp[] = {-6.0f, -2.0f, 0.0f, -0.5f, 2.0f, 0.0f}; /* 2 x g */
    ASSERT_CLOSE_ARRAY(x->grad, gexp, 6, 0, 1e-7);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_square, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        ASSERT_GRADCHECK(square_fn, 1, &x, NULL);
        tensor_free(x);
    }
}

Test(op_square, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_square(tape, x);
}

Test(op_square, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -3, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_square(tape, x);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], xv[i] * xv[i]);
        cr_assert_eq(x->grad[i], 2.0f * xv[i]);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
