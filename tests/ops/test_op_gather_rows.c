/* gather_rows (embedding lookup): values by hand, repeated ids adding up in the
 * table's gradient, gradient checks for several id shapes, determinism across thread
 * counts on the parallel path, and bad ids / shapes stopping. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static Tensor *gather_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return ag_tanh(tape, ag_gather_rows(tape, in[0], (Tensor *)ctx));
}

Test(op_gather_rows, values_and_repeated_ids) {
    Tape *tape = ag_tape_new();
    /* table rows: r0 = (0, 1, 2), r1 = (10, 11, 12), r2 = (20, ..), r3 = (30, ..) */
    float tv[12];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 3; c++) tv[r * 3 + c] = 10.0f * r + c;
    Tensor *table = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(4, 3), tv), true);
    Tensor *ids = tensor_i32_from_array(NULL, TENSOR_SHAPE(2, 2), (int32_t[]){3, 0, 1, 3});
    Tensor *y = ag_gather_rows(tape, table, ids);
    cr_assert_eq(y->ndim, 3);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 2);
    cr_assert_eq(y->shape[2], 3);
    float e[] = {30, 31, 32, 0, 1, 2, 10, 11, 12, 30, 31, 32};
    for (int i = 0; i < 12; i++) cr_assert_eq(tensor_f32(y)[i], e[i]);
    float up[12];
    for (int i = 0; i < 12; i++) up[i] = (float)(i + 1);
    ag_backward_with(tape, y, up);
    /* row 3 was looked up at positions 0 and 3: (1, 2, 3) + (10, 11, 12) */
    float g[] = {4, 5, 6, 7, 8, 9, 0, 0, 0, 11, 13, 15};
    for (int i = 0; i < 12; i++) cr_assert_eq(table->grad[i], g[i], "element %d", i);
    /* Backward accumulates into an existing gradient. */
    ag_backward_with(tape, y, up);
    for (int i = 0; i < 12; i++) cr_assert_eq(table->grad[i], 2 * g[i]);
    tensor_free(ids);
    tensor_free(table);
    ag_tape_free(tape);
}

Test(op_gather_rows, scalar_and_empty_ids) {
    Tape *tape = ag_tape_new();
    Tensor *table = tensor_from_array(NULL, TENSOR_SHAPE(2, 2), (float[]){1, 2, 3, 4});
    Tensor *one = tensor_i32_from_array(NULL, 0, NULL, (int32_t[]){1});
    Tensor *y = ag_gather_rows(tape, table, one);
    cr_assert_eq(y->ndim, 1);
    cr_assert_eq(tensor_f32(y)[0], 3);
    cr_assert_eq(tensor_f32(y)[1], 4);
    Tensor *none = tensor_i32_zeros(NULL, TENSOR_SHAPE(0, 5));
    Tensor *z = ag_gather_rows(tape, table, none);
    cr_assert_eq(z->ndim, 3);
    cr_assert_eq(z->size, 0);
    tensor_free(one);
    tensor_free(none);
    tensor_free(table);
    ag_tape_free(tape);
}

Test(op_gather_rows, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 71, 0);
    struct {
        int64_t V, D;
        int nd;
        int64_t ids_shape[3];
    } cases[] = {
        {7, 3, 1, {5}}, {1, 4, 2, {2, 3}}, {7, 1, 3, {1, 1, 4}}, {5, 5, 3, {2, 3, 2}}, {40, 20, 1, {64}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *table = test_random(&rng, -1, 1, TENSOR_SHAPE(cases[c].V, cases[c].D));
        Tensor *ids = tensor_i32_zeros(NULL, cases[c].nd, cases[c].ids_shape);
        int32_t *iv = ids->data;
        /* Ids drawn from the lower half of the table, so rows repeat and some rows
         * are never looked up (their gradient must stay 0). */
        for (int64_t i = 0; i < ids->size; i++)
            iv[i] = (int32_t)tensor_rng_below(&rng, (uint32_t)((cases[c].V + 1) / 2));
        ASSERT_GRADCHECK(gather_fn, 1, &table, ids);
        tensor_free(ids);
        tensor_free(table);
    }
}

/* Backward of a large lookup with 1 and with 2 threads: bitwise identical, and equal
 * to a serial reference scatter. */
Test(op_gather_rows, large_parallel_is_deterministic) {
    Rng rng;
    tensor_rng_seed(&rng, 72, 0);
    const int64_t V = 50, D = 70, N = 1000; /* 70000 output elements */
    Tensor *table = test_random(&rng, -1, 1, TENSOR_SHAPE(V, D));
    Tensor *ids = tensor_i32_zeros(NULL, TENSOR_SHAPE(10, N / 10));
    int32_t *iv = ids->data;
    for (int64_t i = 0; i < N; i++) iv[i] = (int32_t)tensor_rng_below(&rng, (uint32_t)V);
    float *up = malloc(sizeof(float) * (size_t)(N * D));
    tensor_fill_uniform(up, N * D, &rng, -1, 1);
    float *ref = calloc((size_t)(V * D), sizeof(float));
    for (int64_t r = 0; r < N; r++)
        for (int64_t c = 0; c < D; c++) ref[iv[r] * D + c] += up[r * D + c];
    float *grads[2];
    int threads_before = tensor_get_num_threads();
    for (int t = 0; t < 2; t++) {
        tensor_set_num_threads(t + 1);
        Tape *tape = ag_tape_new();
        Tensor *y = ag_gather_rows(tape, table, ids);
        for (int64_t r = 0; r < N; r++)
            cr_assert(memcmp((float *)y->data + r * D, (float *)table->data + iv[r] * D,
                             sizeof(float) * (size_t)D) == 0);
        ag_backward_with(tape, y, up);
        grads[t] = malloc(sizeof(float) * (size_t)(V * D));
        memcpy(grads[t], table->grad, sizeof(float) * (size_t)(V * D));
        tensor_zero_grad(table);
        ag_tape_free(tape);
    }
    tensor_set_num_threads(threads_before);
    cr_assert(memcmp(grads[0], grads[1], sizeof(float) * (size_t)(V * D)) == 0,
              "the scatter must not depend on the thread count");
    for (int64_t i = 0; i < V * D; i++) cr_assert_eq(grads[0][i], ref[i], "element %lld", (long long)i);
    free(grads[0]);
    free(grads[1]);
    free(ref);
    free(up);
    tensor_free(ids);
    tensor_free(table);
}

Test(op_gather_rows, id_equal_to_v_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *table = tensor_zeros(NULL, TENSOR_SHAPE(4, 3));
    Tensor *ids = tensor_i32_from_array(NULL, TENSOR_SHAPE(2, 2), (int32_t[]){0, 1, 4, 2});
    ag_gather_rows(tape, table, ids);
}

Test(op_gather_rows, negative_id_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *table = tensor_zeros(NULL, TENSOR_SHAPE(4, 3));
    Tensor *ids = tensor_i32_from_array(NULL, TENSOR_SHAPE(3), (int32_t[]){0, -1, 2});
    ag_gather_rows(tape, table, ids);
}

Test(op_gather_rows, table_not_2d_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *table = tensor_zeros(NULL, TENSOR_SHAPE(4, 3, 2));
    Tensor *ids = tensor_i32_zeros(NULL, TENSOR_SHAPE(3));
    ag_gather_rows(tape, table, ids);
}

Test(op_gather_rows, float_ids_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *table = tensor_zeros(NULL, TENSOR_SHAPE(4, 3));
    Tensor *ids = tensor_zeros(NULL, TENSOR_SHAPE(3));
    ag_gather_rows(tape, table, ids);
}

Test(op_gather_rows, int_table_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *table = tensor_i32_zeros(NULL, TENSOR_SHAPE(4, 3));
    Tensor *ids = tensor_i32_zeros(NULL, TENSOR_SHAPE(3));
    ag_gather_rows(tape, table, ids);
}
