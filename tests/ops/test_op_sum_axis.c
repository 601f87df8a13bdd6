/* sum_axis and mean_axis: hand-computed values and shapes (keepdims, negative axes,
 * 1-D to 0-d), gradient checks over shapes and axes, bad axes, and the parallel path
 * against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

typedef struct {
    int axis;
    bool keepdims, mean;
} AxisCtx;

static Tensor *axis_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const AxisCtx *c = ctx;
    return c->mean ? ag_mean_axis(tape, in[0], c->axis, c->keepdims)
                   : ag_sum_axis(tape, in[0], c->axis, c->keepdims);
}

static void assert_shape(const Tensor *t, int ndim, const int64_t *shape) {
    cr_assert_eq(t->ndim, ndim);
    for (int d = 0; d < ndim; d++) cr_assert_eq(t->shape[d], shape[d], "dim %d", d);
}

Test(op_sum_axis, values) {
    Tape *tape = ag_tape_new();
    /* [[1, 2, 3], [4, 5, 6]] */
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *s0 = ag_sum_axis(tape, x, 0, false);
    assert_shape(s0, TENSOR_SHAPE(3));
    ASSERT_CLOSE_ARRAY((float *)s0->data, ((float[]){5, 7, 9}), 3, 0, 1e-6);
    Tensor *s1 = ag_sum_axis(tape, x, -1, true);
    assert_shape(s1, TENSOR_SHAPE(2, 1));
    ASSERT_CLOSE_ARRAY((float *)s1->data, ((float[]){6, 15}), 2, 0, 1e-6);
    Tensor *m0 = ag_mean_axis(tape, x, -2, true);
    assert_shape(m0, TENSOR_SHAPE(1, 3));
    ASSERT_CLOSE_ARRAY((float *)m0->data, ((float[]){2.5f, 3.5f, 4.5f}), 3, 0, 1e-6);
    Tensor *m1 = ag_mean_axis(tape, x, 1, false);
    assert_shape(m1, TENSOR_SHAPE(2));
    ASSERT_CLOSE_ARRAY((float *)m1->data, ((float[]){2, 5}), 2, 0, 1e-6);
    cr_assert_null(m1->node);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sum_axis, middle_axis_3d) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_arange(NULL, 0, 24, 1);
    Tensor *x3 = tensor_reshape_view(NULL, x, TENSOR_SHAPE(2, 3, 4));
    Tensor *s = ag_sum_axis(tape, x3, 1, false);
    assert_shape(s, TENSOR_SHAPE(2, 4));
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 4; i++) {
            float ref = 0;
            for (int k = 0; k < 3; k++) ref += (float)(o * 12 + k * 4 + i);
            cr_assert_float_eq(((float *)s->data)[o * 4 + i], ref, 1e-6);
        }
    tensor_free(x3);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sum_axis, vector_to_scalar_and_backward) {
    Tape *tape = ag_tape_new();
    Tensor *x =
        ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(4), (float[]){1, 2, 3, 6}), true);
    Tensor *m = ag_mean_axis(tape, x, 0, false);
    cr_assert_eq(m->ndim, 0, "reducing the only axis gives a 0-d scalar");
    cr_assert_float_eq(((float *)m->data)[0], 3.0f, 1e-6);
    ag_backward(tape, m);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(x->grad[i], 0.25f, 1e-7);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sum_axis, backward_broadcasts_upstream) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(2, 3)), true);
    Tensor *s = ag_sum_axis(tape, x, 0, true); /* (1, 3) */
    ag_backward_with(tape, s, (float[]){1, 2, 3});
    ASSERT_CLOSE_ARRAY(x->grad, ((float[]){1, 2, 3, 1, 2, 3}), 6, 0, 0);
    Tensor *m = ag_mean_axis(tape, x, 1, false); /* (2,) */
    ag_backward_with(tape, m, (float[]){3, -6});
    ASSERT_CLOSE_ARRAY(x->grad, ((float[]){2, 3, 4, -1, 0, 1}), 6, 0, 1e-6);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sum_axis, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}, {4, 2, 1}};
    int axes[] = {0, 1, 2, -1, -3};
    for (int s = 0; s < 4; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        for (int a = 0; a < 5; a++)
            for (int mode = 0; mode < 4; mode++) {
                AxisCtx c = {axes[a], mode & 1, mode & 2};
                ASSERT_GRADCHECK(axis_fn, 1, &x, &c, .seed = (uint64_t)(s * 10 + a));
            }
        tensor_free(x);
    }
}

Test(op_sum_axis, bad_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_sum_axis(tape, x, 2, false);
}

Test(op_sum_axis, bad_negative_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_mean_axis(tape, x, -3, true);
}

Test(op_sum_axis, scalar_input_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, 0, NULL);
    ag_sum_axis(tape, x, 0, false);
}

Test(op_sum_axis, mean_over_empty_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 0));
    ag_mean_axis(tape, x, 1, false);
}

Test(op_sum_axis, int_input_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_sum_axis(tape, x, 0, false);
}

Test(op_sum_axis, sum_over_empty_axis_is_zero) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 0, 3));
    Tensor *s = ag_sum_axis(tape, x, 1, false);
    assert_shape(s, TENSOR_SHAPE(2, 3));
    for (int i = 0; i < 6; i++) cr_assert_eq(((float *)s->data)[i], 0.0f);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_sum_axis, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 4, 0);
    Tape *tape = ag_tape_new();
    const int64_t B = 40, T = 30, D = 50; /* 60000 elements */
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(B, T, D));
    const float *xv = x->data;
    for (int axis = 0; axis < 3; axis++) {
        ag_tape_reset(tape);
        tensor_zero_grad(x);
        Tensor *m = ag_mean_axis(tape, x, axis, false);
        float *up = tensor_arena_alloc(ag_tape_arena(tape), (size_t)m->size * sizeof(float));
        tensor_fill_uniform(up, m->size, &rng, -1, 1);
        ag_backward_with(tape, m, up);
        int64_t n = x->shape[axis];
        for (int64_t b = 0; b < B; b++)
            for (int64_t t = 0; t < T; t++)
                for (int64_t d = 0; d < D; d++) {
                    int64_t e = (b * T + t) * D + d;
                    int64_t o = axis == 0 ? t * D + d : axis == 1 ? b * D + d : b * T + t;
                    cr_assert_float_eq(x->grad[e], up[o] / (float)n, 1e-7);
                }
        for (int64_t o = 0; o < m->size; o++) {
            int64_t i0 = axis == 0 ? 0 : axis == 1 ? (o / D) * T * D + o % D : o * D;
            int64_t stride = axis == 0 ? T * D : axis == 1 ? D : 1;
            int64_t base = axis == 0 ? o : i0;
            double s = 0;
            for (int64_t k = 0; k < n; k++) s += xv[base + k * stride];
            cr_assert_float_eq(((float *)m->data)[o], s / (double)n, 1e-6, "axis %d out %lld", axis,
                               (long long)o);
        }
    }
    tensor_free(x);
    ag_tape_free(tape);
}
