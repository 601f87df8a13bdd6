/* where: hand-computed values and gradients (a where cond, b elsewhere), a broadcast
 * (B, 1) selector as the masked RNNs use it, finite-difference checks on several shapes
 * and selectors, and the shape and dtype checks. */
#include "helpers.h"

#include <signal.h>

static Tensor *where_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_where(tape, (Tensor *)ctx, in[0], in[1]);
}

Test(op_where, values_and_gradients) {
    Tape *tape = ag_tape_new();
    float av[] = {1, 2, 3, 4, 5, 6}, bv[] = {-1, -2, -3, -4, -5, -6}, cv[] = {1, 0, 0, 1, 1, 0};
    Tensor *a = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 3), av), true);
    Tensor *b = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 3), bv), true);
    Tensor *c = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), cv);
    Tensor *y = ag_where(tape, c, a, b);
    float expect[] = {1, -2, -3, 4, 5, -6};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 0, 0);
    float g[] = {10, 20, 30, 40, 50, 60};
    ag_backward_with(tape, y, g);
    float ga[] = {10, 0, 0, 40, 50, 0}, gb[] = {0, 20, 30, 0, 0, 60};
    ASSERT_CLOSE_ARRAY(a->grad, ga, 6, 0, 0);
    ASSERT_CLOSE_ARRAY(b->grad, gb, 6, 0, 0);
    tensor_free(a), tensor_free(b), tensor_free(c);
    ag_tape_free(tape);
}

/* A (B, 1) row selector, as a masked RNN step keeps padded rows' state. */
Test(op_where, row_selector_broadcasts) {
    Tape *tape = ag_tape_new();
    float av[] = {1, 2, 3, 4, 5, 6}, bv[] = {7, 8, 9, 10, 11, 12}, cv[] = {0, 1};
    Tensor *a = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), av);
    Tensor *b = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), bv);
    Tensor *c = tensor_from_array(NULL, TENSOR_SHAPE(2, 1), cv);
    Tensor *y = ag_where(tape, c, a, b);
    float expect[] = {7, 8, 9, 4, 5, 6};
    ASSERT_CLOSE_ARRAY((float *)y->data, expect, 6, 0, 0);
    cr_assert_null(y->node); /* nothing needed a gradient */
    tensor_free(a), tensor_free(b), tensor_free(c);
    ag_tape_free(tape);
}

Test(op_where, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    int64_t cond_shapes[][3] = {{1, 1, 1}, {3, 1, 1}, {2, 4, 1}};
    for (int s = 0; s < 3; s++) {
        Tensor *in[2] = {test_random(&rng, -1, 1, 3, shapes[s]), test_random(&rng, -1, 1, 3, shapes[s])};
        Tensor *c = tensor_zeros(NULL, 3, cond_shapes[s]);
        for (int64_t i = 0; i < c->size; i++) ((float *)c->data)[i] = (float)((i + s) % 2);
        ASSERT_GRADCHECK(where_fn, 2, in, c);
        tensor_free(in[0]), tensor_free(in[1]), tensor_free(c);
    }
}

Test(op_where, rejects_different_shapes, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3)), *b = tensor_zeros(NULL, TENSOR_SHAPE(3, 2));
    ag_where(tape, tensor_zeros(NULL, TENSOR_SHAPE(2, 1)), a, b);
}

Test(op_where, rejects_cond_that_does_not_broadcast, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3)), *b = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_where(tape, tensor_zeros(NULL, TENSOR_SHAPE(3, 1)), a, b);
}

Test(op_where, rejects_int32_cond, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3)), *b = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_where(tape, tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 1)), a, b);
}
