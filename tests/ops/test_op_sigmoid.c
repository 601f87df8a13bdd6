/* sigmoid: values against a double-precision reference, saturation at |x| = 100
 * without overflow or NaN, hand-computed gradient, finite-difference checks, dtype
 * check, and the parallel path against a serial reference. */
#include "helpers.h"

#include <fenv.h>
#include <math.h>
#include <signal.h>

static Tensor *sigmoid_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_sigmoid(tape, in[0]);
}

static double sigmoid_ref(double x) { return 1.0 / (1.0 + exp(-x)); }

Test(op_sigmoid, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, 8.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v);
    Tensor *y = ag_sigmoid(tape, x);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[1], 3);
    cr_assert_eq(((float *)y->data)[2], 0.5f);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(((float *)y->data)[i], sigmoid_ref(v[i]), 1e-7);
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_sigmoid(tape, x);
    float g[] = {1, 2, 3, -1, 0.5f, 0};
    ag_backward_with(tape, y, g);
    for (int i = 0; i < 6; i++) {
        double s = sigmoid_ref(v[i]);
        cr_assert_float_eq(x->grad[i], g[i] * s * (1 - s), 1e-7);
    }
    cr_assert_float_eq(x->grad[2], 0.75f, 1e-7); /* 3 * 0.5 * 0.5 */
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sigmoid, saturates_without_overflow) {
    Tape *tape = ag_tape_new();
    float v[] = {-100.0f, -50.0f, 50.0f, 100.0f, -1e30f, 1e30f};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(6), v), true);
    feclearexcept(FE_ALL_EXCEPT);
    Tensor *y = ag_sigmoid(tape, x);
    cr_assert(!fetestexcept(FE_OVERFLOW | FE_INVALID | FE_DIVBYZERO),
              "sigmoid raised a floating-point overflow/invalid/divide-by-zero");
    float g[] = {1, 1, 1, 1, 1, 1};
    ag_backward_with(tape, y, g);
    const float *yv = y->data;
    for (int i = 0; i < 6; i++) {
        cr_assert(isfinite(yv[i]) && isfinite(x->grad[i]), "element %d not finite", i);
        cr_assert(yv[i] >= 0.0f && yv[i] <= 1.0f);
        cr_assert(x->grad[i] >= 0.0f && x->grad[i] < 1e-20f);
    }
    cr_assert_eq(yv[3], 1.0f);
    cr_assert_eq(yv[5], 1.0f);
    cr_assert(yv[0] < 1e-40f);
    cr_assert_eq(yv[4], 0.0f);
    cr_assert_float_eq(yv[1], sigmoid_ref(-50.0), 1e-6 * sigmoid_ref(-50.0));
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sigmoid, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -4, 4, 3, shapes[s]);
        ASSERT_GRADCHECK(sigmoid_fn, 1, &x, NULL);
        tensor_free(x);
    }
}

Test(op_sigmoid, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_sigmoid(tape, x);
}

Test(op_sigmoid, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -10, 10, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_sigmoid(tape, x);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_float_eq(yv[i], sigmoid_ref(xv[i]), 2e-7);
        cr_assert_eq(x->grad[i], yv[i] * (1.0f - yv[i]));
    }
    tensor_free(x);
    ag_tape_free(tape);
}
