/* concat: values by hand, gradient checks along first, middle and last (negative)
 * axes with unequal pieces, round trips with split, the parallel path, and
 * mismatched inputs stopping. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>

static Tensor *concat_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const int *c = ctx; /* {n, axis} */
    return ag_concat(tape, c[0], in, c[1]);
}

Test(op_concat, values_by_hand) {
    Tape *tape = ag_tape_new();
    Tensor *a = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 1), (float[]){1, 2}), true);
    Tensor *b = ag_requires_grad(
        tensor_from_array(NULL, TENSOR_SHAPE(2, 2), (float[]){3, 4, 5, 6}), true);
    Tensor *y = ag_concat(tape, 2, (Tensor *[]){a, b}, -1);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 3);
    float e[] = {1, 3, 4, 2, 5, 6};
    for (int i = 0; i < 6; i++) cr_assert_eq(tensor_f32(y)[i], e[i]);
    Tensor *z = ag_concat(tape, 2, (Tensor *[]){b, b}, 0);
    cr_assert_eq(z->shape[0], 4);
    float ez[] = {3, 4, 5, 6, 3, 4, 5, 6};
    for (int i = 0; i < 8; i++) cr_assert_eq(tensor_f32(z)[i], ez[i]);
    ag_backward_with(tape, y, (float[]){10, 20, 30, 40, 50, 60});
    cr_assert_eq(a->grad[0], 10);
    cr_assert_eq(a->grad[1], 40);
    float gb[] = {20, 30, 50, 60};
    for (int i = 0; i < 4; i++) cr_assert_eq(b->grad[i], gb[i]);
    /* The same tensor twice: both halves of the gradient add up. */
    ag_backward_with(tape, z, (float[]){1, 2, 3, 4, 10, 20, 30, 40});
    float gb2[] = {31, 52, 83, 104};
    for (int i = 0; i < 4; i++) cr_assert_eq(b->grad[i], gb2[i]);
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

Test(op_concat, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 41, 0);
    /* Three inputs per case, differing only along the axis. */
    struct {
        int nd, axis;
        int64_t shape[4];
        int64_t sizes[3];
    } cases[] = {
        {1, 0, {0}, {2, 1, 3}},
        {2, 0, {0, 3}, {1, 2, 1}},
        {2, -1, {2, 0}, {3, 1, 2}},
        {3, 1, {2, 0, 3}, {1, 1, 2}},
        {4, -2, {2, 1, 0, 2}, {2, 3, 1}},
        {4, 0, {0, 1, 2, 1}, {1, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ax = cases[c].axis < 0 ? cases[c].axis + cases[c].nd : cases[c].axis;
        Tensor *xs[3];
        for (int i = 0; i < 3; i++) {
            int64_t s[4];
            for (int d = 0; d < cases[c].nd; d++) s[d] = cases[c].shape[d];
            s[ax] = cases[c].sizes[i];
            xs[i] = test_random(&rng, -2, 2, cases[c].nd, s);
        }
        int ctx[2] = {3, cases[c].axis};
        ASSERT_GRADCHECK(concat_fn, 3, xs, ctx);
        xs[1]->requires_grad = false; /* an input without a gradient is skipped */
        ASSERT_GRADCHECK(concat_fn, 3, xs, ctx);
        for (int i = 0; i < 3; i++) tensor_free(xs[i]);
    }
}

Test(op_concat, round_trips_with_split) {
    Rng rng;
    tensor_rng_seed(&rng, 42, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(3, 7, 2));
    int64_t sizes[] = {2, 0, 4, 1};
    Tensor *parts[4];
    ag_split(tape, x, 1, 4, sizes, parts);
    Tensor *back = ag_concat(tape, 4, parts, 1);
    cr_assert(tensor_same_shape(back, x));
    for (int64_t i = 0; i < x->size; i++) cr_assert_eq(tensor_f32(back)[i], tensor_f32(x)[i]);
    /* concat then split gives the pieces back. */
    Tensor *again[4];
    ag_split(tape, back, -2, 4, sizes, again);
    for (int k = 0; k < 4; k++) {
        cr_assert(tensor_same_shape(again[k], parts[k]));
        for (int64_t i = 0; i < parts[k]->size; i++)
            cr_assert_eq(tensor_f32(again[k])[i], tensor_f32(parts[k])[i]);
    }
    /* And the gradient of the round trip is the identity. */
    ag_backward_with(tape, back, x->data);
    for (int64_t i = 0; i < x->size; i++) cr_assert_eq(x->grad[i], tensor_f32(x)[i]);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_concat, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 43, 0);
    Tape *tape = ag_tape_new();
    Tensor *a = test_random(&rng, -1, 1, TENSOR_SHAPE(200, 100));
    Tensor *b = test_random(&rng, -1, 1, TENSOR_SHAPE(200, 150));
    Tensor *y = ag_concat(tape, 2, (Tensor *[]){a, b}, 1);
    for (int r = 0; r < 200; r++)
        for (int c = 0; c < 250; c++) {
            float e = c < 100 ? tensor_f32(a)[r * 100 + c] : tensor_f32(b)[r * 150 + c - 100];
            cr_assert_eq(tensor_f32(y)[r * 250 + c], e);
        }
    ag_backward_with(tape, y, y->data);
    for (int64_t i = 0; i < a->size; i++) cr_assert_eq(a->grad[i], tensor_f32(a)[i]);
    for (int64_t i = 0; i < b->size; i++) cr_assert_eq(b->grad[i], tensor_f32(b)[i]);
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

Test(op_concat, mismatched_dims_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *c = tensor_zeros(NULL, TENSOR_SHAPE(3, 3));
    ag_concat(tape, 3, (Tensor *[]){a, b, c}, 1);
}

Test(op_concat, mismatched_rank_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 1));
    ag_concat(tape, 2, (Tensor *[]){a, b}, 0);
}

Test(op_concat, no_inputs_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    ag_concat(tape, 0, NULL, 0);
}

Test(op_concat, bad_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_concat(tape, 2, (Tensor *[]){a, a}, 2);
}
