/* scale: hand-computed values and gradient, finite-difference checks, dtype check,
 * and the parallel path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *scale_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_scale(tape, in[0], *(const float *)ctx);
}

Test(op_scale, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, 7.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(3, 2), v);
    Tensor *y = ag_scale(tape, x, -1.5f);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 3);
    cr_assert_eq(y->shape[1], 2);
    float expect[] = {4.5f, 0.75f, 0.0f, -0.375f, -3.0f, -10.5f};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 0, 0);
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_scale(tape, x, 2.5f);
    float g[] = {1, 2, 3, -1, 0.5f, 0};
    ag_backward_with(tape, y, g);
    float gexp[] = {2.5f, 5.0f, 7.5f, -2.5f, 1.25f, 0};
    ASSERT_CLOSE_ARRAY(x->grad, gexp, 6, 0, 1e-7);
    ag_backward_with(tape, y, g); /* accumulates */
    for (int i = 0; i < 6; i++) cr_assert_float_eq(x->grad[i], 2 * gexp[i], 1e-6);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_scale, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    float factors[] = {0.5f, -3.0f, 0.0f};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        ASSERT_GRADCHECK(scale_fn, 1, &x, &factors[s]);
        tensor_free(x);
    }
}

Test(op_scale, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_scale(tape, x, 2.0f);
}

Test(op_scale, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -3, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_scale(tape, x, 0.3f);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], 0.3f * xv[i]);
        cr_assert_eq(x->grad[i], 0.3f);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
