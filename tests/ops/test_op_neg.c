/* neg: hand-computed values and gradient, finite-difference checks, dtype check,
 * and the parallel path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *neg_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_neg(tape, in[0]);
}

Test(op_neg, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, 7.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v);
    Tensor *y = ag_neg(tape, x);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 3);
    float expect[] = {3.0f, 0.5f, -0.0f, -0.25f, -2.0f, -7.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 0, 0);
    cr_assert_null(y->node, "no input requires a gradient, so nothing is recorded");

    ag_requires_grad(x, true);
    y = ag_neg(tape, x);
    float g[] = {1, 2, 3, -1, 0.5f, 0};
    ag_backward_with(tape, y, g);
    ag_backward_with(tape, y, g); /* leaf gradients accumulate */
    float gexp[] = {-2, -4, -6, 2, -1, 0};
    ASSERT_CLOSE_ARRAY(x->grad, gexp, 6, 0, 1e-7);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_neg, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        ASSERT_GRADCHECK(neg_fn, 1, &x, NULL);
        tensor_free(x);
    }
}

Test(op_neg, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_neg(tape, x);
}

Test(op_neg, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -3, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_neg(tape, x);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], -xv[i]);
        cr_assert_eq(x->grad[i], -1.0f);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
