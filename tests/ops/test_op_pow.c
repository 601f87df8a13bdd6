/* pow: values against double-precision pow, the documented behaviour at x = 0 and
 * for negative x, finite-difference checks for several exponents, input checks,
 * and the parallel path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *pow_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_pow(tape, in[0], *(const float *)ctx);
}

Test(op_pow, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {0.5f, 1.0f, 2.0f, 3.0f, 4.0f, 9.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v);
    ag_requires_grad(x, true);
    float p = 1.5f;
    Tensor *y = ag_pow(tape, x, p);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[1], 3);
    float g[] = {1, 2, 3, -1, 0.5f, 0};
    ag_backward_with(tape, y, g);
    for (int i = 0; i < 6; i++) {
        double e = pow(v[i], p), ge = g[i] * p * pow(v[i], p - 1);
        cr_assert_float_eq(((float *)y->data)[i], e, 1e-6 * e);
        cr_assert_float_eq(x->grad[i], ge, 1e-6 * fabs(ge) + 1e-7);
    }
    /* by hand: 4^1.5 = 8, gradient 1.5 * 4^0.5 * 0.5 = 1.5; 9^1.5 = 27 */
    cr_assert_float_eq(((float *)y->data)[4], 8.0f, 1e-5);
    cr_assert_float_eq(x->grad[4], 1.5f, 1e-6);
    cr_assert_float_eq(((float *)y->data)[5], 27.0f, 1e-5);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_pow, integer_exponent_negative_input) {
    Tape *tape = ag_tape_new();
    float v[] = {-2.0f, -0.5f, 3.0f};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(3), v), true);
    Tensor *y = ag_pow(tape, x, 3.0f);
    ag_backward(tape, ag_sum(tape, y));
    float ye[] = {-8.0f, -0.125f, 27.0f}, ge[] = {12.0f, 0.75f, 27.0f}; /* 3 x^2 */
    ASSERT_CLOSE_ARRAY((float *)y->data, ye, 3, 1e-6, 0);
    ASSERT_CLOSE_ARRAY(x->grad, ge, 3, 1e-6, 0);
    /* a non-integer exponent of a negative number is NaN, as powf */
    Tensor *z = ag_pow(tape, x, 0.5f);
    cr_assert(isnan(((float *)z->data)[0]));
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_pow, at_zero) {
    /* Documented in pow.c: y and dy/dx at x = 0 for p > 1, p = 1, 0 < p < 1, p = 0. */
    float ps[] = {2.0f, 1.0f, 0.5f, 0.0f};
    float ye[] = {0.0f, 0.0f, 0.0f, 1.0f};
    float ge[] = {0.0f, 1.0f, INFINITY, 0.0f};
    for (int k = 0; k < 4; k++) {
        Tape *tape = ag_tape_new();
        Tensor *x = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(1)), true);
        Tensor *y = ag_pow(tape, x, ps[k]);
        ag_backward(tape, ag_sum(tape, y));
        cr_assert_eq(((float *)y->data)[0], ye[k], "p=%g", (double)ps[k]);
        cr_assert_eq(x->grad[0], ge[k], "p=%g: gradient %g", (double)ps[k], (double)x->grad[0]);
        tensor_free(x);
        ag_tape_free(tape);
    }
}

Test(op_pow, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    float ps[] = {2.5f, -1.5f, 0.5f};
    for (int s = 0; s < 3; s++) {
        for (int k = 0; k < 3; k++) {
            Tensor *x = test_random(&rng, 0.5f, 2.0f, 3, shapes[s]); /* x > 0: p not an integer */
            ASSERT_GRADCHECK(pow_fn, 1, &x, &ps[k]);
            tensor_free(x);
        }
    }
    float p3 = 3.0f; /* integer exponent: negative inputs are fine */
    Tensor *x = test_random(&rng, -2, 2, TENSOR_SHAPE(4, 1, 3));
    ASSERT_GRADCHECK(pow_fn, 1, &x, &p3);
    tensor_free(x);
}

Test(op_pow, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_pow(tape, x, 2.0f);
}

Test(op_pow, rejects_nan_exponent, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(2, 2));
    ag_pow(tape, x, NAN);
}

Test(op_pow, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, 0.1f, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_pow(tape, x, 1.7f);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], powf(xv[i], 1.7f));
        cr_assert_eq(x->grad[i], 1.7f * powf(xv[i], 1.7f - 1.0f));
    }
    tensor_free(x);
    ag_tape_free(tape);
}
