/* stack: values by hand along each new axis (negative too), gradient checks, round
 * trips with split + reshape, the parallel path, and bad input stopping. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>

static Tensor *stack_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const int *c = ctx; /* {n, axis} */
    return ag_stack(tape, c[0], in, c[1]);
}

Test(op_stack, values_by_hand) {
    Tape *tape = ag_tape_new();
    Tensor *a = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2), (float[]){1, 2}), true);
    Tensor *b = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2), (float[]){3, 4}), true);
    Tensor *c = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2), (float[]){5, 6}), true);
    Tensor *xs[] = {a, b, c};
    Tensor *y0 = ag_stack(tape, 3, xs, 0);
    cr_assert_eq(y0->ndim, 2);
    cr_assert_eq(y0->shape[0], 3);
    cr_assert_eq(y0->shape[1], 2);
    for (int i = 0; i < 6; i++) cr_assert_eq(tensor_f32(y0)[i], 1.0f + i);
    Tensor *y1 = ag_stack(tape, 3, xs, -1);
    cr_assert_eq(y1->shape[0], 2);
    cr_assert_eq(y1->shape[1], 3);
    float e1[] = {1, 3, 5, 2, 4, 6};
    for (int i = 0; i < 6; i++) cr_assert_eq(tensor_f32(y1)[i], e1[i]);
    ag_backward_with(tape, y1, (float[]){10, 20, 30, 40, 50, 60});
    cr_assert_eq(a->grad[0], 10);
    cr_assert_eq(a->grad[1], 40);
    cr_assert_eq(b->grad[0], 20);
    cr_assert_eq(b->grad[1], 50);
    cr_assert_eq(c->grad[0], 30);
    cr_assert_eq(c->grad[1], 60);
    /* Scalars stack into a vector. */
    Tensor *s = tensor_full(NULL, 0, NULL, 7.0f);
    Tensor *v = ag_stack(tape, 2, (Tensor *[]){s, s}, 0);
    cr_assert_eq(v->ndim, 1);
    cr_assert_eq(v->shape[0], 2);
    cr_assert_eq(tensor_f32(v)[1], 7.0f);
    tensor_free(s);
    tensor_free(a);
    tensor_free(b);
    tensor_free(c);
    ag_tape_free(tape);
}

Test(op_stack, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 51, 0);
    struct {
        int nd;
        int64_t shape[3];
        int axis;
    } cases[] = {
        {1, {3}, 0}, {1, {3}, 1}, {2, {2, 3}, 1}, {2, {1, 3}, -1},
        {3, {2, 1, 3}, 2}, {3, {2, 3, 2}, -4}, {3, {2, 3, 2}, 3},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *xs[3];
        for (int i = 0; i < 3; i++) xs[i] = test_random(&rng, -2, 2, cases[c].nd, cases[c].shape);
        int ctx[2] = {3, cases[c].axis};
        ASSERT_GRADCHECK(stack_fn, 3, xs, ctx);
        for (int i = 0; i < 3; i++) tensor_free(xs[i]);
    }
}

Test(op_stack, round_trip_with_split) {
    Rng rng;
    tensor_rng_seed(&rng, 52, 0);
    Tape *tape = ag_tape_new();
    Tensor *xs[4];
    for (int i = 0; i < 4; i++) xs[i] = test_random(&rng, -1, 1, TENSOR_SHAPE(2, 3));
    Tensor *y = ag_stack(tape, 4, xs, 1); /* (2, 4, 3) */
    Tensor *parts[4];
    ag_split(tape, y, 1, 4, NULL, parts);
    for (int i = 0; i < 4; i++) {
        Tensor *p = ag_reshape(tape, parts[i], TENSOR_SHAPE(2, 3));
        for (int64_t k = 0; k < 6; k++) cr_assert_eq(tensor_f32(p)[k], tensor_f32(xs[i])[k]);
    }
    for (int i = 0; i < 4; i++) tensor_free(xs[i]);
    ag_tape_free(tape);
}

Test(op_stack, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 53, 0);
    Tape *tape = ag_tape_new();
    Tensor *xs[3];
    for (int i = 0; i < 3; i++) xs[i] = test_random(&rng, -1, 1, TENSOR_SHAPE(100, 120));
    Tensor *y = ag_stack(tape, 3, xs, 1); /* (100, 3, 120) */
    for (int r = 0; r < 100; r++)
        for (int i = 0; i < 3; i++)
            for (int c = 0; c < 120; c++)
                cr_assert_eq(tensor_f32(y)[(r * 3 + i) * 120 + c], tensor_f32(xs[i])[r * 120 + c]);
    ag_backward_with(tape, y, y->data);
    for (int i = 0; i < 3; i++)
        for (int64_t k = 0; k < xs[i]->size; k++) cr_assert_eq(xs[i]->grad[k], tensor_f32(xs[i])[k]);
    for (int i = 0; i < 3; i++) tensor_free(xs[i]);
    ag_tape_free(tape);
}

Test(op_stack, different_shapes_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(3, 2));
    ag_stack(tape, 2, (Tensor *[]){a, b}, 0);
}

Test(op_stack, axis_past_the_new_rank_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_stack(tape, 2, (Tensor *[]){a, a}, 3);
}

Test(op_stack, negative_axis_too_small_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_stack(tape, 2, (Tensor *[]){a, a}, -4);
}

Test(op_stack, no_inputs_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    ag_stack(tape, 0, NULL, 0);
}
