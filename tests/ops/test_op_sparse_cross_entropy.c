/* sparse_cross_entropy: a 2x3 example computed in double, the fused op against the
 * composed path (log_softmax, pick the target, mean) for values and gradients,
 * ignore_index, stability with +-1e4 logits, gradient checks, bad shapes/dtypes/
 * targets, and the parallel path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>
#include <string.h>

typedef struct {
    Tensor *targets;
    int32_t ignore;
} SceCtx;

static Tensor *sce_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const SceCtx *c = ctx;
    return ag_sparse_cross_entropy(tape, in[0], c->targets, c->ignore);
}

/* Loss and d(loss)/d(logits) of the composed path: ag_log_softmax on the last axis,
 * then -mean of the entries picked by the counted targets (the pick and mean are a
 * seed of -1/count at those entries). grad gets logits->size floats. */
static float composed(const Tensor *logits, const Tensor *targets, int32_t ignore, float *grad) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_copy(NULL, logits), true);
    Tensor *ly = ag_log_softmax(tape, x, -1);
    int64_t C = x->shape[x->ndim - 1], rows = x->size / C, count = 0;
    const int32_t *t = targets->data;
    for (int64_t r = 0; r < rows; r++) count += t[r] != ignore;
    float *seed = tensor_arena_calloc(ag_tape_arena(tape), (size_t)x->size, sizeof(float));
    double loss = 0;
    for (int64_t r = 0; r < rows; r++)
        if (t[r] != ignore) {
            loss -= ((float *)ly->data)[r * C + t[r]];
            seed[r * C + t[r]] = -1.0f / (float)count;
        }
    ag_backward_with(tape, ly, seed);
    memcpy(grad, x->grad, (size_t)x->size * sizeof(float));
    tensor_free(x);
    ag_tape_free(tape);
    return count ? (float)(loss / (double)count) : 0.0f;
}

/* Fused loss and gradient, checked against the composed path. */
static void check_against_composed(Tensor *logits, Tensor *targets, int32_t ignore) {
    Tape *tape = ag_tape_new();
    tensor_zero_grad(logits);
    logits->requires_grad = true;
    Tensor *loss = ag_sparse_cross_entropy(tape, logits, targets, ignore);
    cr_assert_eq(loss->ndim, 0, "the loss is a 0-d scalar");
    ag_backward(tape, loss);
    float *ref = tensor_xmalloc((size_t)logits->size * sizeof(float));
    float ref_loss = composed(logits, targets, ignore, ref);
    cr_assert_float_eq(((float *)loss->data)[0], ref_loss, 1e-5 * (1 + fabsf(ref_loss)));
    ASSERT_CLOSE_ARRAY(logits->grad, ref, logits->size, 1e-4, 1e-6);
    free(ref);
    ag_tape_free(tape);
}

Test(op_sparse_cross_entropy, values_2x3) {
    Tape *tape = ag_tape_new();
    float v[] = {1, 2, 3, 1, -1, 0.5f};
    int32_t tv[] = {2, 0};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 3), v), true);
    Tensor *t = tensor_i32_from_array(NULL, TENSOR_SHAPE(2), tv);
    Tensor *loss = ag_sparse_cross_entropy(tape, x, t, AG_NO_IGNORE_INDEX);
    double expect = 0, grad[6];
    for (int r = 0; r < 2; r++) {
        double s = 0;
        for (int c = 0; c < 3; c++) s += exp((double)v[r * 3 + c]);
        expect += (log(s) - v[r * 3 + tv[r]]) / 2;
        for (int c = 0; c < 3; c++)
            grad[r * 3 + c] = (exp((double)v[r * 3 + c]) / s - (c == tv[r])) / 2;
    }
    cr_assert_float_eq(((float *)loss->data)[0], expect, 1e-6); /* (0.40761 + 0.55495) / 2 */
    cr_assert_float_eq(((float *)loss->data)[0], 0.48128f, 1e-4);
    ag_backward(tape, loss);
    ASSERT_CLOSE_ARRAY(x->grad, grad, 6, 1e-5, 1e-7);
    tensor_free(x);
    tensor_free(t);
    ag_tape_free(tape);
}

Test(op_sparse_cross_entropy, fused_equals_composed) {
    Rng rng;
    tensor_rng_seed(&rng, 20, 0);
    int64_t shapes[][3] = {{2, 5, 7}, {1, 1, 3}, {3, 4, 1}, {4, 2, 30}};
    for (int s = 0; s < 4; s++) {
        Tensor *x = test_random(&rng, -5, 5, 3, shapes[s]);
        Tensor *t = tensor_i32_zeros(NULL, 2, shapes[s]);
        int32_t *tv = t->data;
        for (int64_t r = 0; r < t->size; r++)
            tv[r] = (int32_t)tensor_rng_below(&rng, (uint32_t)shapes[s][2]);
        check_against_composed(x, t, AG_NO_IGNORE_INDEX);
        if (t->size > 1) tv[1] = -1; /* and with one ignored row */
        check_against_composed(x, t, -1);
        tensor_free(x);
        tensor_free(t);
    }
}

Test(op_sparse_cross_entropy, ignore_index) {
    Tape *tape = ag_tape_new();
    float v[] = {1, 2, 3, 9, 9, 9, 1, -1, 0.5f, 4, -4, 0};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(4, 3), v), true);
    Tensor *t = tensor_i32_from_array(NULL, TENSOR_SHAPE(4), (int32_t[]){2, -100, 0, -100});
    Tensor *loss = ag_sparse_cross_entropy(tape, x, t, -100);
    /* only rows 0 and 2 count: the 2x3 example's value */
    Tensor *x2 = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 1, -1, 0.5f});
    Tensor *t2 = tensor_i32_from_array(NULL, TENSOR_SHAPE(2), (int32_t[]){2, 0});
    float kept = ((float *)ag_sparse_cross_entropy(tape, x2, t2, AG_NO_IGNORE_INDEX)->data)[0];
    cr_assert_float_eq(((float *)loss->data)[0], kept, 1e-6);
    ag_backward(tape, loss);
    for (int c = 0; c < 3; c++) {
        cr_assert_eq(x->grad[3 + c], 0.0f, "ignored rows get no gradient");
        cr_assert_eq(x->grad[9 + c], 0.0f);
    }
    cr_assert_neq(x->grad[0], 0.0f);
    /* a valid class id can be the ignored one too */
    tensor_zero_grad(x);
    int32_t *tv = t->data;
    tv[1] = 0;
    tv[3] = 1;
    check_against_composed(x, t, 0); /* counts rows 0 and 3 */
    cr_assert_eq(x->grad[6], 0.0f);
    tensor_free(x);
    tensor_free(t);
    tensor_free(x2);
    tensor_free(t2);
    ag_tape_free(tape);
}

Test(op_sparse_cross_entropy, all_rows_ignored) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_ones(NULL, TENSOR_SHAPE(2, 4)), true);
    Tensor *t = tensor_i32_from_array(NULL, TENSOR_SHAPE(2), (int32_t[]){7, 7});
    Tensor *loss = ag_sparse_cross_entropy(tape, x, t, 7);
    cr_assert_eq(((float *)loss->data)[0], 0.0f);
    ag_backward(tape, loss);
    for (int i = 0; i < 8; i++) cr_assert_eq(x->grad[i], 0.0f);
    tensor_free(x);
    tensor_free(t);
    ag_tape_free(tape);
}

Test(op_sparse_cross_entropy, stable_for_huge_logits) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(
        tensor_from_array(NULL, TENSOR_SHAPE(3, 3),
                          (float[]){1e4f, -1e4f, 0, 1e4f, -1e4f, 0, -1e4f, -1e4f, -1e4f}),
        true);
    Tensor *t = tensor_i32_from_array(NULL, TENSOR_SHAPE(3), (int32_t[]){1, 0, 2});
    Tensor *loss = ag_sparse_cross_entropy(tape, x, t, AG_NO_IGNORE_INDEX);
    ag_backward(tape, loss);
    float l = ((float *)loss->data)[0];
    cr_assert(isfinite(l));
    cr_assert_float_eq(l, (2e4 + 0 + log(3.0)) / 3, 1e-2);
    for (int i = 0; i < 9; i++) cr_assert(isfinite(x->grad[i]), "element %d", i);
    double third = 1.0 / 3;
    double expect[] = {third, -third, 0, 0, 0, 0, third / 3, third / 3, third / 3 - third};
    ASSERT_CLOSE_ARRAY(x->grad, expect, 9, 1e-5, 1e-6);
    check_against_composed(x, t, AG_NO_IGNORE_INDEX);
    tensor_free(x);
    tensor_free(t);
    ag_tape_free(tape);
}

Test(op_sparse_cross_entropy, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 21, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {1, 1, 4}, {4, 1, 5}, {2, 3, 4}, {3, 2, 1}};
    for (int s = 0; s < 5; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        Tensor *t = tensor_i32_zeros(NULL, 2, shapes[s]);
        int32_t *tv = t->data;
        for (int64_t r = 0; r < t->size; r++)
            tv[r] = (int32_t)tensor_rng_below(&rng, (uint32_t)shapes[s][2]);
        SceCtx c = {t, AG_NO_IGNORE_INDEX};
        ASSERT_GRADCHECK(sce_fn, 1, &x, &c, .seed = (uint64_t)s);
        if (t->size > 2) {
            tv[0] = -5;
            c.ignore = -5;
            ASSERT_GRADCHECK(sce_fn, 1, &x, &c, .seed = (uint64_t)s);
        }
        tensor_free(x);
        tensor_free(t);
    }
    /* 1-D logits (C,) with a 0-d target */
    Tensor *x = test_random(&rng, -2, 2, TENSOR_SHAPE(6));
    Tensor *t = tensor_i32_from_array(NULL, 0, NULL, (int32_t[]){4});
    SceCtx c = {t, AG_NO_IGNORE_INDEX};
    ASSERT_GRADCHECK(sce_fn, 1, &x, &c);
    tensor_free(x);
    tensor_free(t);
}

static void call_sce(int ndim_x, const int64_t *sx, int ndim_t, const int64_t *st, bool float_t,
                     int32_t target, int32_t ignore) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, ndim_x, sx);
    Tensor *t = float_t ? tensor_zeros(NULL, ndim_t, st) : tensor_i32_zeros(NULL, ndim_t, st);
    if (!float_t && t->size > 0) ((int32_t *)t->data)[t->size - 1] = target;
    ag_sparse_cross_entropy(tape, x, t, ignore);
    tensor_free(x);
    tensor_free(t);
    ag_tape_free(tape);
}

Test(op_sparse_cross_entropy, shapes_that_work) {
    call_sce(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(2), false, 2, AG_NO_IGNORE_INDEX);
    call_sce(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(2), false, -1, -1);
    call_sce(TENSOR_SHAPE(0, 3), TENSOR_SHAPE(0), false, 0, AG_NO_IGNORE_INDEX); /* no rows: 0 */
}

Test(op_sparse_cross_entropy, mismatched_target_shape_aborts, .signal = SIGABRT) {
    call_sce(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(3), false, 0, AG_NO_IGNORE_INDEX);
}

Test(op_sparse_cross_entropy, target_shaped_like_logits_aborts, .signal = SIGABRT) {
    call_sce(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(2, 3), false, 0, AG_NO_IGNORE_INDEX);
}

Test(op_sparse_cross_entropy, float_targets_abort, .signal = SIGABRT) {
    call_sce(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(2), true, 0, AG_NO_IGNORE_INDEX);
}

Test(op_sparse_cross_entropy, int_logits_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *t = tensor_i32_zeros(NULL, TENSOR_SHAPE(2));
    ag_sparse_cross_entropy(tape, x, t, AG_NO_IGNORE_INDEX);
}

Test(op_sparse_cross_entropy, target_equal_to_c_aborts, .signal = SIGABRT) {
    call_sce(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(2), false, 3, AG_NO_IGNORE_INDEX);
}

Test(op_sparse_cross_entropy, negative_target_aborts, .signal = SIGABRT) {
    call_sce(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(2), false, -100, -1);
}

Test(op_sparse_cross_entropy, no_ignore_index_ignores_nothing, .signal = SIGABRT) {
    /* AG_NO_IGNORE_INDEX is INT32_MIN, yet a target of INT32_MIN is still out of range */
    call_sce(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(2), false, INT32_MIN, AG_NO_IGNORE_INDEX);
}

Test(op_sparse_cross_entropy, scalar_logits_abort, .signal = SIGABRT) {
    call_sce(0, NULL, 0, NULL, false, 0, AG_NO_IGNORE_INDEX);
}

Test(op_sparse_cross_entropy, zero_classes_abort, .signal = SIGABRT) {
    call_sce(TENSOR_SHAPE(2, 0), TENSOR_SHAPE(2), false, 0, AG_NO_IGNORE_INDEX);
}

Test(op_sparse_cross_entropy, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 22, 0);
    const int64_t B = 40, T = 50, C = 37; /* 74000 logits, 2000 rows */
    Tensor *x = test_random(&rng, -8, 8, TENSOR_SHAPE(B, T, C));
    Tensor *t = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T));
    int32_t *tv = t->data;
    for (int64_t r = 0; r < B * T; r++)
        tv[r] = r % 7 == 3 ? -1 : (int32_t)tensor_rng_below(&rng, C);
    float bits[2];
    for (int threads = 1; threads <= 2; threads++) {
        tensor_set_num_threads(threads);
        Tape *tape = ag_tape_new();
        tensor_zero_grad(x);
        Tensor *loss = ag_sparse_cross_entropy(tape, x, t, -1);
        ag_backward(tape, loss);
        bits[threads - 1] = ((float *)loss->data)[0];
        /* serial reference in double */
        const float *xv = x->data;
        double total = 0;
        int64_t count = 0;
        for (int64_t r = 0; r < B * T; r++) count += tv[r] != -1;
        for (int64_t r = 0; r < B * T; r++) {
            const float *xr = xv + r * C;
            double m = -INFINITY, s = 0;
            for (int64_t c = 0; c < C; c++) m = fmax(m, xr[c]);
            for (int64_t c = 0; c < C; c++) s += exp(xr[c] - m);
            double lse = m + log(s);
            if (tv[r] != -1) total += lse - xr[tv[r]];
            for (int64_t c = 0; c < C; c++) {
                double ref = tv[r] == -1 ? 0 : (exp(xr[c] - lse) - (c == tv[r])) / (double)count;
                cr_assert_float_eq(x->grad[r * C + c], ref, 1e-7, "row %lld class %lld",
                                   (long long)r, (long long)c);
            }
        }
        cr_assert_float_eq(bits[threads - 1], total / (double)count, 1e-5);
        ag_tape_free(tape);
    }
    cr_assert(memcmp(&bits[0], &bits[1], sizeof(float)) == 0, "loss differs by thread count");
    tensor_free(x);
    tensor_free(t);
}
