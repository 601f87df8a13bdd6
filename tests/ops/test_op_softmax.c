/* softmax: hand values, rows summing to 1 along any axis, stability with +-1e4
 * logits, gradient checks over shapes and axes, bad axes, and the parallel path
 * against a serial double reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *softmax_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_softmax(tape, in[0], *(const int *)ctx);
}

Test(op_softmax, values) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(3), (float[]){1, 2, 3});
    Tensor *y = ag_softmax(tape, x, 0);
    double s = exp(1.0) + exp(2.0) + exp(3.0);
    double expect[] = {exp(1.0) / s, exp(2.0) / s, exp(3.0) / s}; /* 0.0900, 0.2447, 0.6652 */
    cr_assert_eq(y->ndim, 1);
    cr_assert_eq(y->shape[0], 3);
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 3, 1e-6, 1e-7);
    cr_assert_float_eq(((float *)y->data)[2], 0.66524096f, 1e-6);
    cr_assert_null(y->node);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_softmax, axis0_of_matrix) {
    Tape *tape = ag_tape_new();
    /* columns (0, ln 3) -> (1/4, 3/4); (5, 5) -> (1/2, 1/2); (-1, 1) */
    float l3 = logf(3.0f);
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){0, 5, -1, l3, 5, 1});
    Tensor *y = ag_softmax(tape, x, -2);
    double e = exp(2.0);
    double expect[] = {0.25, 0.5, 1 / (1 + e), 0.75, 0.5, e / (1 + e)};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 1e-6, 1e-7);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_softmax, sums_to_one_along_each_axis) {
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -4, 4, TENSOR_SHAPE(3, 4, 5));
    for (int axis = 0; axis < 3; axis++) {
        Tensor *y = ag_softmax(tape, x, axis);
        Tensor *s = ag_sum_axis(tape, y, axis, false);
        for (int64_t i = 0; i < s->size; i++) cr_assert_float_eq(((float *)s->data)[i], 1.0f, 1e-6);
    }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_softmax, stable_for_huge_logits) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(
        tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1e4f, -1e4f, 0, -1e4f, -1e4f, 1e4f}),
        true);
    Tensor *y = ag_softmax(tape, x, -1);
    ag_backward_with(tape, y, (float[]){1, 2, 3, -1, 0.5f, 2});
    const float *yv = y->data;
    for (int i = 0; i < 6; i++) cr_assert(isfinite(yv[i]) && isfinite(x->grad[i]), "element %d", i);
    ASSERT_CLOSE_ARRAY(yv, ((float[]){1, 0, 0, 0, 0, 1}), 6, 0, 1e-7);
    /* saturated softmax: y(g - y.g) is 0 everywhere */
    ASSERT_CLOSE_ARRAY(x->grad, ((float[]){0, 0, 0, 0, 0, 0}), 6, 0, 1e-6);
    /* equal huge logits share the mass */
    Tensor *z = tensor_full(NULL, TENSOR_SHAPE(4), 1e4f);
    Tensor *yz = ag_softmax(tape, z, 0);
    ASSERT_CLOSE_ARRAY((float *)yz->data, ((float[]){0.25f, 0.25f, 0.25f, 0.25f}), 4, 0, 1e-7);
    tensor_free(z);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_softmax, backward_values) {
    /* g = e_0 on softmax([1,2,3]): gx_k = y_k (delta_k0 - y_0). */
    Tape *tape = ag_tape_new();
    Tensor *x =
        ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(1, 3), (float[]){1, 2, 3}), true);
    Tensor *y = ag_softmax(tape, x, 1);
    ag_backward_with(tape, y, (float[]){1, 0, 0});
    const float *yv = y->data;
    double expect[] = {yv[0] * (1 - yv[0]), -yv[1] * yv[0], -yv[2] * yv[0]};
    ASSERT_CLOSE_ARRAY(x->grad, expect, 3, 1e-5, 1e-7);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_softmax, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 6, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}, {2, 3, 20}};
    int axes[] = {0, 1, 2, -1};
    for (int s = 0; s < 4; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        for (int a = 0; a < 4; a++)
            ASSERT_GRADCHECK(softmax_fn, 1, &x, &axes[a], .seed = (uint64_t)a);
        tensor_free(x);
    }
    int axis = 0;
    Tensor *v = test_random(&rng, -2, 2, TENSOR_SHAPE(7));
    ASSERT_GRADCHECK(softmax_fn, 1, &v, &axis);
    tensor_free(v);
}

Test(op_softmax, bad_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_softmax(tape, x, 2);
}

Test(op_softmax, bad_negative_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_softmax(tape, x, -3);
}

Test(op_softmax, scalar_input_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, 0, NULL);
    ag_softmax(tape, x, 0);
}

Test(op_softmax, int_input_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_softmax(tape, x, -1);
}

/* Serial double reference of softmax along the N axis and of its backward. */
static void check_large(int64_t A, int64_t N, int64_t I, int axis) {
    Rng rng;
    tensor_rng_seed(&rng, 7, (uint64_t)axis);
    Tape *tape = ag_tape_new();
    /* axis -1: an (A, N) matrix (I must be 1); otherwise (A, N, I) along axis 1. */
    Tensor *x = axis == -1 ? test_random(&rng, -6, 6, TENSOR_SHAPE(A, N))
                           : test_random(&rng, -6, 6, TENSOR_SHAPE(A, N, I));
    Tensor *y = ag_softmax(tape, x, axis);
    float *g = tensor_arena_alloc(ag_tape_arena(tape), (size_t)x->size * sizeof(float));
    tensor_fill_uniform(g, x->size, &rng, -1, 1);
    ag_backward_with(tape, y, g);
    const float *xv = x->data, *yv = y->data;
    for (int64_t a = 0; a < A; a++)
        for (int64_t i = 0; i < I; i++) {
            double m = -INFINITY, s = 0, dot = 0;
            for (int64_t k = 0; k < N; k++) m = fmax(m, xv[(a * N + k) * I + i]);
            for (int64_t k = 0; k < N; k++) s += exp(xv[(a * N + k) * I + i] - m);
            for (int64_t k = 0; k < N; k++) {
                int64_t e = (a * N + k) * I + i;
                dot += g[e] * exp(xv[e] - m) / s;
            }
            for (int64_t k = 0; k < N; k++) {
                int64_t e = (a * N + k) * I + i;
                double ref = exp(xv[e] - m) / s;
                cr_assert_float_eq(yv[e], ref, 1e-6, "element %lld", (long long)e);
                cr_assert_float_eq(x->grad[e], ref * (g[e] - dot), 1e-5, "grad %lld", (long long)e);
            }
        }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_softmax, large_parallel_matches_serial_last_axis) { check_large(500, 100, 1, -1); }

Test(op_softmax, large_parallel_matches_serial_middle_axis) { check_large(20, 60, 40, 1); }
