/* split: values by hand with sizes and with equal pieces, gradient checks (pieces
 * recombined, and a piece left unused), and bad sizes stopping. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>

typedef struct {
    int axis, n;
    const int64_t *sizes; /* NULL: equal pieces */
    int use_only;         /* >= 0: return only that piece */
} SplitCtx;

/* The pieces recombined in reverse order with one passed through tanh, so every
 * piece's gradient is distinct. */
static Tensor *split_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const SplitCtx *c = ctx;
    Tensor *parts[8];
    ag_split(tape, in[0], c->axis, c->n, c->sizes, parts);
    if (c->use_only >= 0) return parts[c->use_only];
    Tensor *rev[8];
    for (int i = 0; i < c->n; i++) rev[i] = parts[c->n - 1 - i];
    rev[0] = ag_tanh(tape, rev[0]);
    return ag_concat(tape, c->n, rev, c->axis);
}

Test(op_split, values_by_hand) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *p[3];
    ag_split(tape, x, 1, 2, (int64_t[]){1, 2}, p);
    cr_assert_eq(p[0]->shape[1], 1);
    cr_assert_eq(p[1]->shape[1], 2);
    cr_assert_eq(tensor_f32(p[0])[0], 1);
    cr_assert_eq(tensor_f32(p[0])[1], 4);
    float e1[] = {2, 3, 5, 6};
    for (int i = 0; i < 4; i++) cr_assert_eq(tensor_f32(p[1])[i], e1[i]);
    ag_split(tape, x, -1, 3, NULL, p);
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(p[k]->shape[0], 2);
        cr_assert_eq(p[k]->shape[1], 1);
        cr_assert_eq(tensor_f32(p[k])[0], 1.0f + k);
        cr_assert_eq(tensor_f32(p[k])[1], 4.0f + k);
    }
    ag_split(tape, x, 0, 1, NULL, p);
    cr_assert(tensor_same_shape(p[0], x));
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_split, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 61, 0);
    static const int64_t s5[] = {2, 1, 2}, s4[] = {1, 3}, s6[] = {3, 0, 3};
    struct {
        int nd;
        int64_t shape[4];
        SplitCtx c;
    } cases[] = {
        {1, {5}, {0, 3, s5, -1}},
        {2, {4, 3}, {0, 2, s4, -1}},
        {2, {3, 6}, {-1, 3, NULL, -1}},
        {3, {2, 6, 1}, {1, 3, s6, -1}},
        {3, {2, 1, 4}, {-1, 2, NULL, -1}},
        {4, {2, 4, 1, 3}, {1, 4, NULL, -1}},
        {4, {2, 3, 2, 5}, {-1, 3, s5, 1}}, /* only the middle piece is used */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *x = test_random(&rng, -2, 2, cases[c].nd, cases[c].shape);
        ASSERT_GRADCHECK(split_fn, 1, &x, &cases[c].c);
        tensor_free(x);
    }
}

Test(op_split, unused_pieces_get_no_gradient) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_ones(NULL, TENSOR_SHAPE(2, 4)), true);
    Tensor *p[2];
    ag_split(tape, x, 1, 2, NULL, p);
    ag_backward(tape, ag_sum(tape, p[1]));
    float e[] = {0, 0, 1, 1, 0, 0, 1, 1};
    for (int i = 0; i < 8; i++) cr_assert_eq(x->grad[i], e[i]);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_split, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 62, 0);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(150, 2, 200));
    Tensor *p[2];
    ag_split(tape, x, 1, 2, NULL, p);
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < 150; r++)
            for (int c = 0; c < 200; c++)
                cr_assert_eq(tensor_f32(p[k])[r * 200 + c], tensor_f32(x)[(r * 2 + k) * 200 + c]);
    ag_backward_with(tape, p[1], p[1]->data);
    for (int r = 0; r < 150; r++)
        for (int k = 0; k < 2; k++)
            for (int c = 0; c < 200; c++) {
                int64_t i = (r * 2 + k) * 200 + c;
                cr_assert_eq(x->grad[i], k == 1 ? tensor_f32(x)[i] : 0.0f);
            }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_split, sizes_not_summing_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 5));
    Tensor *p[2];
    ag_split(tape, x, 1, 2, (int64_t[]){2, 2}, p);
}

Test(op_split, negative_size_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 5));
    Tensor *p[2];
    ag_split(tape, x, 1, 2, (int64_t[]){-1, 6}, p);
}

Test(op_split, uneven_equal_split_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 5));
    Tensor *p[2];
    ag_split(tape, x, 1, 2, NULL, p);
}

Test(op_split, zero_pieces_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 5));
    ag_split(tape, x, 1, 0, NULL, NULL);
}

Test(op_split, bad_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 5));
    Tensor *p[2];
    ag_split(tape, x, 2, 2, NULL, p);
}
