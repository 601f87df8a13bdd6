/* sum and mean of all elements (autograd/ops/sum.c): values, 0-d output, gradient
 * checks, bad inputs, and the parallel backward on a large tensor. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *sum_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_sum(tape, in[0]);
}

static Tensor *mean_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_mean(tape, in[0]);
}

Test(op_sum, values) {
    Tape *tape = ag_tape_new();
    float v[] = {1, -2, 3.5f, 4, 0.25f, -0.75f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v);
    Tensor *s = ag_sum(tape, x), *m = ag_mean(tape, x);
    cr_assert_eq(s->ndim, 0, "a 0-d scalar");
    cr_assert_eq(s->size, 1);
    cr_assert_eq(m->ndim, 0);
    cr_assert_float_eq(((float *)s->data)[0], 6.0f, 1e-6);
    cr_assert_float_eq(((float *)m->data)[0], 1.0f, 1e-6);
    cr_assert_null(s->node, "no input requires a gradient, so nothing is recorded");
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sum, small_terms_are_not_lost) {
    /* Summed in double: 1e8 + many 1s keeps the 1s a float sum would drop. */
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(1001));
    ((float *)x->data)[0] = 1e8f;
    float s = ((float *)ag_sum(tape, x)->data)[0];
    cr_assert_float_eq(s, 1e8f + 1000.0f, 1e-3);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sum, backward_values) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(2, 2)), true);
    ag_backward(tape, ag_sum(tape, x));
    for (int i = 0; i < 4; i++) cr_assert_eq(x->grad[i], 1.0f);
    ag_backward(tape, ag_mean(tape, x)); /* leaves accumulate */
    for (int i = 0; i < 4; i++) cr_assert_float_eq(x->grad[i], 1.25f, 1e-7);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sum, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        ASSERT_GRADCHECK(sum_fn, 1, &x, NULL);
        ASSERT_GRADCHECK(mean_fn, 1, &x, NULL);
        tensor_free(x);
    }
    Tensor *scalar = test_random(&rng, -1, 1, 0, NULL);
    ASSERT_GRADCHECK(sum_fn, 1, &scalar, NULL);
    ASSERT_GRADCHECK(mean_fn, 1, &scalar, NULL);
    tensor_free(scalar);
}

Test(op_sum, mean_of_empty_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(0, 3));
    ag_mean(tape, x);
}

Test(op_sum, int_input_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_sum(tape, x);
}

Test(op_sum, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(300, 200));
    Tensor *m = ag_mean(tape, x);
    ag_backward(tape, m);
    double ref = 0;
    const float *xv = x->data;
    for (int64_t i = 0; i < x->size; i++) ref += xv[i];
    cr_assert_float_eq(((float *)m->data)[0], ref / (double)x->size, 1e-6);
    for (int64_t i = 0; i < x->size; i++) cr_assert_eq(x->grad[i], 1.0f / (float)x->size);
    tensor_free(x);
    ag_tape_free(tape);
}
