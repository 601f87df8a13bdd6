/* clip: hand-computed values and gradient (nothing flows at or beyond the bounds),
 * finite-difference checks away from the bounds, bound checks, and the parallel
 * path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

typedef struct {
    float lo, hi;
} Bounds;

static Tensor *clip_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const Bounds *b = ctx;
    return ag_clip(tape, in[0], b->lo, b->hi);
}

Test(op_clip, values_and_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {-3.0f, -1.0f, -0.5f, 0.0f, 0.25f, 2.0f, 7.0f, 1.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 4), v);
    Tensor *y = ag_clip(tape, x, -1.0f, 1.0f);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[1], 4);
    float expect[] = {-1.0f, -1.0f, -0.5f, 0.0f, 0.25f, 1.0f, 1.0f, 1.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 8, 0, 0);
    cr_assert_null(y->node);

    ag_requires_grad(x, true);
    y = ag_clip(tape, x, -1.0f, 1.0f);
    float g[] = {1, 2, 3, -1, 0.5f, 4, 5, 6};
    ag_backward_with(tape, y, g);
    float gexp[] = {0, 0, 3, -1, 0.5f, 0, 0, 0}; /* only strictly inside (-1, 1) */
    ASSERT_CLOSE_ARRAY(x->grad, gexp, 8, 0, 0);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_clip, equal_bounds) {
    Tape *tape = ag_tape_new();
    float v[] = {-2.0f, 0.5f, 3.0f};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(3), v), true);
    Tensor *y = ag_clip(tape, x, 0.5f, 0.5f);
    ag_backward(tape, ag_sum(tape, y));
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(((float *)y->data)[i], 0.5f);
        cr_assert_eq(x->grad[i], 0.0f);
    }
    tensor_free(x);
    ag_tape_free(tape);
}

/* Random values at least 0.1 away from both bounds. */
static Tensor *away_from_bounds(Rng *rng, Bounds b, int ndim, const int64_t *shape) {
    Tensor *x = test_random(rng, -3, 3, ndim, shape);
    float *v = x->data;
    for (int64_t i = 0; i < x->size; i++) {
        if (fabsf(v[i] - b.lo) < 0.1f) v[i] = b.lo + (v[i] < b.lo ? -0.2f : 0.2f);
        if (fabsf(v[i] - b.hi) < 0.1f) v[i] = b.hi + (v[i] < b.hi ? -0.2f : 0.2f);
    }
    return x;
}

Test(op_clip, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    Bounds b = {-1.0f, 1.5f};
    for (int s = 0; s < 3; s++) {
        Tensor *x = away_from_bounds(&rng, b, 3, shapes[s]);
        ASSERT_GRADCHECK(clip_fn, 1, &x, &b);
        tensor_free(x);
    }
}

Test(op_clip, rejects_lo_above_hi, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_clip(tape, x, 1.0f, -1.0f);
}

Test(op_clip, rejects_nan_bound, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_clip(tape, x, NAN, 1.0f);
}

Test(op_clip, rejects_int32, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 2));
    ag_clip(tape, x, -1.0f, 1.0f);
}

Test(op_clip, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -3, 3, TENSOR_SHAPE(1000, 100));
    Tensor *y = ag_clip(tape, x, -1.0f, 2.0f);
    ag_backward(tape, ag_sum(tape, y));
    const float *xv = x->data, *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) {
        float e = fminf(fmaxf(xv[i], -1.0f), 2.0f);
        cr_assert_eq(yv[i], e);
        cr_assert_eq(x->grad[i], (xv[i] > -1.0f && xv[i] < 2.0f) ? 1.0f : 0.0f);
    }
    tensor_free(x);
    ag_tape_free(tape);
}
