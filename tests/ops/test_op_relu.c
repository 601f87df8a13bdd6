/* relu: hand-computed values and gradient (0 at the kink x = 0), finite-difference
 * checks away from 0, dtype check, and the parallel path against a serial
 * reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *relu_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_relu(tape, in[0]);
}

Test(op_relu, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, 7.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v);
    Tensor *y = ag_relu(tape, x);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 2);
    float expect[] = {0.0f, 0.0f, 0.0f, 0.25f, 2.0f, 7.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 0, 0);
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_relu(tape, x);
    float g[] = {1, 2, 3, -1, 0.5f, 4};
    ag_backward_with(tape, y, g);
    float gexp[] = {0, 0, 0, -1, 0.5f, 4}; /* nothing flows at x <= 0, including 0 */
    ASSERT_CLOSE_ARRAY(x->grad, gexp, 6, 0, 0);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_relu, nan_propagates) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_full(NULL, TENSOR_SHAPE(1), NAN);
    Tensor *y = ag_relu(tape, x);
    cr_assert(isnan(((float *)y->data)[0]));
    tensor_free(x);
    ag_tape_free(tape);
}

/* Random values with |x| >= 0.1 so the finite differences never straddle the kink. */
static Tensor *away_from_zero(Rng *rng, int ndim, const int64_t *shape) {
    Tensor *x = test_random(rng, -2, 2, ndim, shape);
    float *v = x->data;
    for (int64_t i = 0; i < x->size; i++)
        if (fabsf(v[i]) < 0.1f) v[i] += v[i] < 0 ? -0.1f : 0.1f;
    return x;
}

Test(op_relu, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = away_from_zero(&rng, 3, shapes[s]);
        ASSERT_GRADCHECK(relu_fn, 1, &x, NULL);
        tensor_free(x);
    }
}

Test(op_relu, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_relu(tape, x);
}

Test(op_relu, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -3, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_relu(tape, x);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(yv[i], xv[i] > 0 ? xv[i] : 0.0f);
        cr_assert_eq(x->grad[i], xv[i] > 0 ? 1.0f : 0.0f);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
