/* log: values against double-precision log, hand-computed gradient,
 * finite-difference checks (inputs kept away from 0), dtype check, and the parallel
 * path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *log_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_log(tape, in[0]);
}

Test(op_log, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {0.125f, 0.5f, 1.0f, 2.0f, 4.0f, 10.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(6, 1), v);
    Tensor *y = ag_log(tape, x);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 6);
    cr_assert_eq(y->shape[1], 1);
    cr_assert_eq(((float *)y->data)[2], 0.0f);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(((float *)y->data)[i], log((double)v[i]), 1e-6);
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_log(tape, x);
    float g[] = {1, 2, 3, -1, 0.5f, 0};
    ag_backward_with(tape, y, g);
    float gexp[] = {8.0f, 4.0f, 3.0f, -0.5f, 0.125f, 0.0f}; /* g / x */
    ASSERT_CLOSE_ARRAY(x->grad, gexp, 6, 1e-7, 0);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_log, zero_and_negative) {
    /* Documented: log(0) = -inf, log(x < 0) = NaN, as logf. */
    Tape *tape = ag_tape_new();
    float v[] = {0.0f, -1.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2), v);
    Tensor *y = ag_log(tape, x);
    cr_assert(isinf(((float *)y->data)[0]) && ((float *)y->data)[0] < 0);
    cr_assert(isnan(((float *)y->data)[1]));
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_log, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, 0.3f, 4, 3, shapes[s]);
        ASSERT_GRADCHECK(log_fn, 1, &x, NULL);
        tensor_free(x);
    }
}

Test(op_log, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_log(tape, x);
}

Test(op_log, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, 0.1f, 5, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_log(tape, x);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], logf(xv[i]));
        cr_assert_eq(x->grad[i], 1.0f / xv[i]);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
