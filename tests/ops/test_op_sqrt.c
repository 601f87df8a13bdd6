/* sqrt: hand-computed values and gradient, finite-difference checks (inputs kept
 * away from 0), dtype check, and the parallel path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *sqrt_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_sqrt(tape, in[0]);
}

Test(op_sqrt, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {0.25f, 1.0f, 4.0f, 9.0f, 2.0f, 100.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(3, 2), v);
    Tensor *y = ag_sqrt(tape, x);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 3);
    float expect[] = {0.5f, 1.0f, 2.0f, 3.0f, (float)sqrt(2.0), 10.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 1e-7, 0);
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_sqrt(tape, x);
    float g[] = {1, 2, 3, -1, 0.5f, 4};
    ag_backward_with(tape, y, g);
    /* g * 0.5 / sqrt(x) */
    float gexp[] = {1.0f, 1.0f, 0.75f, -1.0f / 6.0f, (float)(0.25 / sqrt(2.0)), 0.2f};
    ASSERT_CLOSE_ARRAY(x->grad, gexp, 6, 1e-6, 0);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sqrt, zero_and_negative) {
    /* Documented: sqrt(0) = 0 with an infinite gradient; x < 0 is NaN. */
    Tape *tape = ag_tape_new();
    float v[] = {0.0f, -1.0f};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2), v), true);
    Tensor *y = ag_sqrt(tape, x);
    float g[] = {1, 1};
    ag_backward_with(tape, y, g);
    cr_assert_eq(((float *)y->data)[0], 0.0f);
    cr_assert(isinf(x->grad[0]) && x->grad[0] > 0);
    cr_assert(isnan(((float *)y->data)[1]));
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sqrt, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, 0.3f, 4, 3, shapes[s]);
        ASSERT_GRADCHECK(sqrt_fn, 1, &x, NULL);
        tensor_free(x);
    }
}

Test(op_sqrt, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_sqrt(tape, x);
}

Test(op_sqrt, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, 0.1f, 5, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_sqrt(tape, x);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], sqrtf(xv[i]));
        cr_assert_eq(x->grad[i], 0.5f / yv[i]);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
