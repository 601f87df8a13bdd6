/* slice: values by hand, gradient checks along every kind of axis, an empty slice,
 * the parallel path, and out-of-range bounds stopping. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>

typedef struct {
    int axis;
    int64_t start, stop;
} SliceCtx;

static Tensor *slice_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const SliceCtx *c = ctx;
    return ag_slice(tape, in[0], c->axis, c->start, c->stop);
}

Test(op_slice, values_by_hand) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(
        tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6}), true);
    Tensor *y = ag_slice(tape, x, 1, 1, 3);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 2);
    float e1[] = {2, 3, 5, 6};
    for (int i = 0; i < 4; i++) cr_assert_eq(tensor_f32(y)[i], e1[i]);
    Tensor *z = ag_slice(tape, x, -2, 1, 2);
    cr_assert_eq(z->shape[0], 1);
    cr_assert_eq(z->shape[1], 3);
    for (int i = 0; i < 3; i++) cr_assert_eq(tensor_f32(z)[i], 4.0f + i);
    /* The gradient lands in the sliced columns only. */
    ag_backward_with(tape, y, (float[]){10, 20, 30, 40});
    float g[] = {0, 10, 20, 0, 30, 40};
    for (int i = 0; i < 6; i++) cr_assert_eq(x->grad[i], g[i]);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_slice, empty_and_full_slices) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *e = ag_slice(tape, x, 1, 2, 2);
    cr_assert_eq(e->shape[1], 0);
    cr_assert_eq(e->size, 0);
    Tensor *f = ag_slice(tape, x, 0, 0, 2);
    for (int i = 0; i < 6; i++) cr_assert_eq(tensor_f32(f)[i], tensor_f32(x)[i]);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_slice, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 31, 0);
    struct {
        int nd;
        int64_t shape[4];
        SliceCtx c;
    } cases[] = {
        {1, {7}, {0, 2, 5}},
        {2, {3, 5}, {0, 1, 3}},
        {2, {3, 5}, {-1, 0, 1}},
        {3, {2, 1, 4}, {1, 0, 1}},
        {3, {2, 4, 3}, {-2, 1, 4}},
        {4, {2, 3, 4, 2}, {2, 1, 3}},
        {4, {2, 3, 4, 2}, {-1, 1, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *x = test_random(&rng, -2, 2, cases[c].nd, cases[c].shape);
        ASSERT_GRADCHECK(slice_fn, 1, &x, &cases[c].c);
        tensor_free(x);
    }
}

Test(op_slice, large_parallel_matches_serial) {
    /* 400 x 200 input: a (400, 100) column slice (strided rows) and a (380, 200) row
     * slice (one contiguous run), both above the parallel threshold. */
    Rng rng;
    tensor_rng_seed(&rng, 32, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(400, 200));
    Tensor *y = ag_slice(tape, x, 1, 50, 150);
    Tensor *z = ag_slice(tape, x, 0, 10, 390);
    const float *xv = x->data;
    for (int r = 0; r < 400; r++)
        for (int c = 0; c < 100; c++) cr_assert_eq(tensor_f32(y)[r * 100 + c], xv[r * 200 + 50 + c]);
    for (int i = 0; i < 380 * 200; i++) cr_assert_eq(tensor_f32(z)[i], xv[10 * 200 + i]);
    ag_backward_with(tape, y, y->data);
    for (int r = 0; r < 400; r++)
        for (int c = 0; c < 200; c++)
            cr_assert_eq(x->grad[r * 200 + c], (c >= 50 && c < 150) ? xv[r * 200 + c] : 0.0f);
    ag_backward_with(tape, z, z->data);
    for (int r = 0; r < 400; r++)
        for (int c = 0; c < 200; c++) {
            float e = ((c >= 50 && c < 150) ? xv[r * 200 + c] : 0.0f) +
                      ((r >= 10 && r < 390) ? xv[r * 200 + c] : 0.0f);
            cr_assert_eq(x->grad[r * 200 + c], e);
        }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_slice, stop_past_the_end_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_slice(tape, x, 1, 1, 4);
}

Test(op_slice, start_after_stop_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_slice(tape, x, 1, 2, 1);
}

Test(op_slice, negative_start_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_slice(tape, x, 0, -1, 1);
}

Test(op_slice, bad_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_slice(tape, x, -3, 0, 1);
}
