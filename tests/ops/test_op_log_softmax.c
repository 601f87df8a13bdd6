/* log_softmax: hand values, agreement with log(softmax) along any axis, stability
 * with +-1e4 logits, gradient checks over shapes and axes, bad axes, and the parallel
 * path against a serial double reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

static Tensor *log_softmax_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_log_softmax(tape, in[0], *(const int *)ctx);
}

Test(op_log_softmax, values) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 0, 0, 0});
    Tensor *y = ag_log_softmax(tape, x, 1);
    double l = log(exp(1.0) + exp(2.0) + exp(3.0)); /* 3.40760596 */
    double expect[] = {1 - l, 2 - l, 3 - l, -log(3.0), -log(3.0), -log(3.0)};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 1e-6, 1e-7);
    cr_assert_float_eq(((float *)y->data)[2], -0.40760596f, 1e-6);
    cr_assert_null(y->node);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_log_softmax, equals_log_of_softmax_on_every_axis) {
    Rng rng;
    tensor_rng_seed(&rng, 8, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -4, 4, TENSOR_SHAPE(3, 1, 4, 5));
    for (int axis = -4; axis < 4; axis++) {
        const float *ly = ag_log_softmax(tape, x, axis)->data, *y = ag_softmax(tape, x, axis)->data;
        for (int64_t i = 0; i < x->size; i++)
            cr_assert_float_eq(ly[i], logf(y[i]), 1e-5, "axis %d element %lld", axis, (long long)i);
    }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_log_softmax, stable_for_huge_logits) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(
        tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1e4f, -1e4f, 0, -1e4f, -1e4f, -1e4f}),
        true);
    Tensor *y = ag_log_softmax(tape, x, -1);
    ag_backward_with(tape, y, (float[]){1, 2, 3, -1, 0.5f, 2});
    const float *yv = y->data;
    for (int i = 0; i < 6; i++) cr_assert(isfinite(yv[i]) && isfinite(x->grad[i]), "element %d", i);
    float l3 = logf(3.0f);
    ASSERT_CLOSE_ARRAY(yv, ((float[]){0, -2e4f, -1e4f, -l3, -l3, -l3}), 6, 1e-7, 1e-6);
    /* gx = g - softmax * sum(g): row 0 softmax is (1, 0, 0), sum 6; row 1 uniform, sum 1.5 */
    ASSERT_CLOSE_ARRAY(x->grad, ((float[]){-5, 2, 3, -1.5f, 0, 1.5f}), 6, 1e-6, 1e-6);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_log_softmax, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 9, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}, {2, 3, 20}};
    int axes[] = {0, 1, 2, -1, -2};
    for (int s = 0; s < 4; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        for (int a = 0; a < 5; a++)
            ASSERT_GRADCHECK(log_softmax_fn, 1, &x, &axes[a], .seed = (uint64_t)a);
        tensor_free(x);
    }
    int axis = -1;
    Tensor *v = test_random(&rng, -2, 2, TENSOR_SHAPE(7));
    ASSERT_GRADCHECK(log_softmax_fn, 1, &v, &axis);
    tensor_free(v);
}

Test(op_log_softmax, bad_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_log_softmax(tape, x, 5);
}

Test(op_log_softmax, bad_negative_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_log_softmax(tape, x, -3);
}

Test(op_log_softmax, int_input_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_log_softmax(tape, x, -1);
}

/* Serial double reference along the N axis: (A, N) for axis -1, else (A, N, I) axis 1. */
static void check_large(int64_t A, int64_t N, int64_t I, int axis) {
    Rng rng;
    tensor_rng_seed(&rng, 10, (uint64_t)(axis + 2));
    Tape *tape = ag_tape_new();
    Tensor *x = axis == -1 ? test_random(&rng, -6, 6, TENSOR_SHAPE(A, N))
                           : test_random(&rng, -6, 6, TENSOR_SHAPE(A, N, I));
    Tensor *y = ag_log_softmax(tape, x, axis);
    float *g = tensor_arena_alloc(ag_tape_arena(tape), (size_t)x->size * sizeof(float));
    tensor_fill_uniform(g, x->size, &rng, -1, 1);
    ag_backward_with(tape, y, g);
    const float *xv = x->data, *yv = y->data;
    for (int64_t a = 0; a < A; a++)
        for (int64_t i = 0; i < I; i++) {
            double m = -INFINITY, s = 0, sg = 0;
            for (int64_t k = 0; k < N; k++) {
                m = fmax(m, xv[(a * N + k) * I + i]);
                sg += g[(a * N + k) * I + i];
            }
            for (int64_t k = 0; k < N; k++) s += exp(xv[(a * N + k) * I + i] - m);
            for (int64_t k = 0; k < N; k++) {
                int64_t e = (a * N + k) * I + i;
                double ref = xv[e] - m - log(s);
                cr_assert_float_eq(yv[e], ref, 1e-5, "element %lld", (long long)e);
                cr_assert_float_eq(x->grad[e], g[e] - exp(ref) * sg, 1e-5, "grad %lld",
                                   (long long)e);
            }
        }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_log_softmax, large_parallel_matches_serial_last_axis) { check_large(500, 100, 1, -1); }

Test(op_log_softmax, large_parallel_matches_serial_middle_axis) { check_large(20, 60, 40, 1); }
