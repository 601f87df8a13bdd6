/* tanh: values against libm and a finite-difference gradient check. */
#include "helpers.h"

#include <math.h>

static Tensor *tanh_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_tanh(tape, in[0]);
}

Test(op_tanh, values) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, 20.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v);
    Tensor *y = ag_tanh(tape, x);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 3);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(((float *)y->data)[i], tanhf(v[i]), 1e-7);
    cr_assert_null(y->node, "no input requires a gradient, so nothing is recorded");
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_tanh, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        ASSERT_GRADCHECK(tanh_fn, 1, &x, NULL);
        tensor_free(x);
    }
}

Test(op_tanh, large_parallel_matches_serial) {
    /* Above the parallel threshold the kernel runs on all threads; same values. */
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -3, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_tanh(tape, x);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_float_eq(yv[i], tanhf(xv[i]), 1e-7);
        cr_assert_float_eq(x->grad[i], 1.0f - yv[i] * yv[i], 1e-6);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
