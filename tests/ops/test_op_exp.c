/* exp: values against double-precision exp, hand-computed gradient,
 * finite-difference checks, dtype check, and the parallel path against a serial
 * reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *exp_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_exp(tape, in[0]);
}

Test(op_exp, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -0.5f, 0.0f, 0.25f, 1.0f, 5.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v);
    Tensor *y = ag_exp(tape, x);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(((float *)y->data)[2], 1.0f);
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(((float *)y->data)[i], exp((double)v[i]), 1e-6 * exp((double)v[i]));
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_exp(tape, x);
    float g[] = {1, 2, 3, -1, 0.5f, 0};
    ag_backward_with(tape, y, g);
    for (int i = 0; i < 6; i++) {
        double ge = g[i] * exp((double)v[i]);
        cr_assert_float_eq(x->grad[i], ge, 1e-6 * fabs(ge));
    }
    cr_assert_float_eq(x->grad[2], 3.0f, 1e-7); /* 3 * e^0 */
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_exp, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        ASSERT_GRADCHECK(exp_fn, 1, &x, NULL);
        tensor_free(x);
    }
}

Test(op_exp, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_exp(tape, x);
}

Test(op_exp, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -3, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_exp(tape, x);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], expf(xv[i]));
        cr_assert_eq(x->grad[i], yv[i]);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
