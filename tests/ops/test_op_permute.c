/* permute and transpose: values by hand and against a naive index loop (every
 * permutation of a 4-D shape, size-1 dims included, overwrite and accumulate),
 * gradient checks, the parallel path, and bad permutations stopping. */
#include "helpers.h"
#include "tensor/permute.h"

#include <signal.h>
#include <stdlib.h>

/* Naive reference: walks every output index and reads x at the permuted index. */
static void ref_permute(const float *x, float *y, int nd, const int64_t *shape, const int *perm) {
    int64_t istr[8], oshape[8], total = 1;
    for (int d = nd - 1, s = 1; d >= 0; d--) {
        istr[d] = s;
        s *= (int)shape[d];
    }
    for (int k = 0; k < nd; k++) {
        oshape[k] = shape[perm[k]];
        total *= oshape[k];
    }
    for (int64_t o = 0; o < total; o++) {
        int64_t rem = o, in = 0;
        for (int k = nd - 1; k >= 0; k--) {
            in += (rem % oshape[k]) * istr[perm[k]];
            rem /= oshape[k];
        }
        y[o] = x[in];
    }
}

typedef struct {
    int perm[TENSOR_MAX_DIMS];
    int axis0, axis1;
} PermCtx;

static Tensor *permute_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_permute(tape, in[0], ((PermCtx *)ctx)->perm);
}

static Tensor *transpose_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const PermCtx *c = ctx;
    return ag_tanh(tape, ag_transpose(tape, in[0], c->axis0, c->axis1));
}

Test(op_permute, transpose_values_by_hand) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *y = ag_transpose(tape, x, 0, -1);
    cr_assert_eq(y->shape[0], 3);
    cr_assert_eq(y->shape[1], 2);
    float expect[] = {1, 4, 2, 5, 3, 6};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(tensor_f32(y)[i], expect[i], 0);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_permute, permute_values_by_hand) {
    /* x[i][j][k] = 100 i + 10 j + k with shape (2, 3, 4); perm (2, 0, 1) gives
     * y[k][i][j] = x[i][j][k], shape (4, 2, 3). */
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 4));
    float *xv = x->data;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) xv[(i * 3 + j) * 4 + k] = 100 * i + 10 * j + k;
    Tensor *y = ag_permute(tape, x, (int[]){2, 0, 1});
    cr_assert_eq(y->shape[0], 4);
    cr_assert_eq(y->shape[1], 2);
    cr_assert_eq(y->shape[2], 3);
    const float *yv = y->data;
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                cr_assert_float_eq(yv[(k * 2 + i) * 3 + j], 100 * i + 10 * j + k, 0);
    /* Negative entries count from the end: (-1, 0, 1) is the same permutation. */
    Tensor *z = ag_permute(tape, x, (int[]){-1, 0, -2});
    for (int i = 0; i < 24; i++) cr_assert_eq(tensor_f32(z)[i], yv[i]);
    tensor_free(x);
    ag_tape_free(tape);
}

/* Every permutation of (3, 1, 4, 5) and of (2, 3, 4, 5): the kernel against the
 * reference, overwriting and accumulating. */
Test(op_permute, kernel_matches_reference_for_every_4d_permutation) {
    Rng rng;
    tensor_rng_seed(&rng, 21, 0);
    int64_t shapes[][4] = {{3, 1, 4, 5}, {2, 3, 4, 5}, {1, 7, 1, 33}};
    float x[1000], y[1000], ref[1000], base[1000];
    for (int s = 0; s < 3; s++) {
        int64_t total = shapes[s][0] * shapes[s][1] * shapes[s][2] * shapes[s][3];
        tensor_fill_uniform(x, total, &rng, -1, 1);
        tensor_fill_uniform(base, total, &rng, -1, 1);
        for (int p = 0; p < 256; p++) {
            int perm[4] = {p & 3, (p >> 2) & 3, (p >> 4) & 3, (p >> 6) & 3};
            int seen = 0;
            for (int k = 0; k < 4; k++) seen |= 1 << perm[k];
            if (seen != 15) continue;
            ref_permute(x, ref, 4, shapes[s], perm);
            tensor_permute(x, y, 4, shapes[s], perm, false);
            for (int64_t i = 0; i < total; i++) cr_assert_eq(y[i], ref[i], "perm %d%d%d%d", perm[0], perm[1], perm[2], perm[3]);
            for (int64_t i = 0; i < total; i++) y[i] = base[i];
            tensor_permute(x, y, 4, shapes[s], perm, true);
            for (int64_t i = 0; i < total; i++) cr_assert_eq(y[i], base[i] + ref[i]);
        }
    }
}

Test(op_permute, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 22, 0);
    struct {
        int nd;
        int64_t shape[4];
        PermCtx c;
    } cases[] = {
        {2, {3, 4}, {{1, 0}, 0, 1}},
        {3, {2, 1, 3}, {{2, 0, 1}, -1, 0}},
        {3, {2, 3, 4}, {{1, 2, 0}, 1, -1}},
        {4, {2, 3, 1, 4}, {{0, 2, 1, 3}, 1, 2}},
        {4, {2, 3, 2, 3}, {{3, -2, 0, 1}, -3, -4}},
        {1, {5}, {{0}, 0, -1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *x = test_random(&rng, -2, 2, cases[c].nd, cases[c].shape);
        ASSERT_GRADCHECK(permute_fn, 1, &x, &cases[c].c);
        ASSERT_GRADCHECK(transpose_fn, 1, &x, &cases[c].c);
        tensor_free(x);
    }
}

/* > 32768 elements: the tiled and the row paths run in parallel; values and the
 * (inverse-permuted, accumulated) gradient against the reference. */
Test(op_permute, large_parallel_matches_reference) {
    Rng rng;
    tensor_rng_seed(&rng, 23, 0);
    int64_t shape[] = {64, 40, 30};
    int perms[][3] = {{2, 0, 1}, {1, 0, 2}, {0, 2, 1}, {2, 1, 0}};
    for (int p = 0; p < 4; p++) {
        Tape *tape = ag_tape_new();
        Tensor *x = test_random(&rng, -1, 1, 3, shape);
        Tensor *y = ag_permute(tape, x, perms[p]);
        float *ref = malloc(sizeof(float) * (size_t)x->size);
        ref_permute(x->data, ref, 3, shape, perms[p]);
        for (int64_t i = 0; i < x->size; i++) cr_assert_eq(tensor_f32(y)[i], ref[i]);
        /* Backward with upstream = y itself gives x's own values back, twice. */
        ag_backward_with(tape, y, y->data);
        ag_backward_with(tape, y, y->data);
        for (int64_t i = 0; i < x->size; i++) cr_assert_eq(x->grad[i], 2 * tensor_f32(x)[i]);
        free(ref);
        tensor_free(x);
        ag_tape_free(tape);
    }
}

Test(op_permute, repeated_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 4));
    ag_permute(tape, x, (int[]){0, 2, 0});
}

Test(op_permute, axis_out_of_range_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_permute(tape, x, (int[]){0, 2});
}

Test(op_permute, negative_alias_of_same_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_permute(tape, x, (int[]){1, -1});
}

Test(op_permute, transpose_bad_axis_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_transpose(tape, x, 0, 2);
}

Test(op_permute, int32_input_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_transpose(tape, x, 0, 1);
}
