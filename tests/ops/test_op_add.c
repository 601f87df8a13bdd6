/* add: y = a + b with broadcasting: hand-computed values on broadcast shapes
 * ((2,3) + (3,), (2,1,4) + (3,1), 0-d scalars, (1,) + (5,)), gradient checks of
 * both inputs on broadcast shapes with size-1 dims, one tensor passed as both inputs, an
 * abort on shapes that cannot broadcast, and the parallel path against a serial
 * reference. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>

static double fwd(double x, double z) { return x + z; }
static double dfda(double x, double z) { (void)x; (void)z; return 1.0; }
static double dfdb(double x, double z) { (void)x; (void)z; return 1.0; }

static Tensor *op_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_add(tape, in[0], in[1]);
}

static Tensor *self_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_add(tape, in[0], in[0]);
}

/* Flat index into x (aligned from the right to y) of y's element with flat index i. */
static int64_t src_index(const Tensor *y, int64_t i, const Tensor *x) {
    int64_t xi = 0, xstride = 1;
    for (int d = y->ndim - 1; d >= 0; d--) {
        int64_t c = i % y->shape[d];
        i /= y->shape[d];
        int dx = d - (y->ndim - x->ndim);
        if (dx >= 0) {
            if (x->shape[dx] != 1) xi += c * xstride;
            xstride *= x->shape[dx];
        }
    }
    return xi;
}

static void assert_shape(const Tensor *t, int ndim, const int64_t *shape) {
    cr_assert_eq(t->ndim, ndim, "rank %d, expected %d", t->ndim, ndim);
    for (int d = 0; d < ndim; d++) cr_assert_eq(t->shape[d], shape[d], "dim %d", d);
}

Test(op_add, values_row_broadcast) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *b = tensor_from_array(NULL, TENSOR_SHAPE(3), (float[]){2, 4, 8});
    Tensor *y = ag_add(tape, a, b);
    assert_shape(y, TENSOR_SHAPE(2, 3));
    float expected[6] = {3.0f, 6.0f, 11.0f, 6.0f, 9.0f, 14.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, expected, 6, 1e-6, 0);
    /* The mirror: (3,) + (2, 3). */
    Tensor *y2 = ag_add(tape, b, a);
    assert_shape(y2, TENSOR_SHAPE(2, 3));
    float expected2[6] = {3.0f, 6.0f, 11.0f, 6.0f, 9.0f, 14.0f};
    ASSERT_CLOSE_ARRAY((float *)y2->data, expected2, 6, 1e-6, 0);
    cr_assert_null(y->node, "no input requires a gradient, so nothing is recorded");
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

Test(op_add, values_both_stretched) {
    /* (2, 1, 4) + (3, 1) -> (2, 3, 4): y[i, j, k] = a[i, 0, k] + b[j, 0]. */
    Tape *tape = ag_tape_new();
    float av[8] = {1, 2, 3, 4, 5, 6, 7, 8}, bv[3] = {0.5f, 2, 4};
    Tensor *a = tensor_from_array(NULL, TENSOR_SHAPE(2, 1, 4), av);
    Tensor *b = tensor_from_array(NULL, TENSOR_SHAPE(3, 1), bv);
    Tensor *y = ag_add(tape, a, b);
    assert_shape(y, TENSOR_SHAPE(2, 3, 4));
    const float *yv = y->data;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                cr_assert_float_eq(yv[(i * 3 + j) * 4 + k], (float)fwd(av[i * 4 + k], bv[j]), 1e-6,
                                   "element (%d, %d, %d)", i, j, k);
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

Test(op_add, values_scalars) {
    Tape *tape = ag_tape_new();
    Tensor *s = tensor_from_array(NULL, 0, NULL, (float[]){2});
    Tensor *m = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *y = ag_add(tape, s, m);
    assert_shape(y, TENSOR_SHAPE(2, 3));
    float e1[6] = {3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, e1, 6, 1e-6, 0);
    y = ag_add(tape, m, s);
    assert_shape(y, TENSOR_SHAPE(2, 3));
    float e2[6] = {3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, e2, 6, 1e-6, 0);
    /* 0-d + 0-d stays 0-d. */
    Tensor *t = tensor_from_array(NULL, 0, NULL, (float[]){8});
    y = ag_add(tape, t, s);
    cr_assert_eq(y->ndim, 0);
    cr_assert_float_eq(((float *)y->data)[0], 10.0f, 1e-6);
    /* (1,) + (5,) -> (5,). */
    Tensor *one = tensor_from_array(NULL, TENSOR_SHAPE(1), (float[]){4});
    Tensor *v = tensor_from_array(NULL, TENSOR_SHAPE(5), (float[]){1, 2, 4, 8, -2});
    y = ag_add(tape, one, v);
    assert_shape(y, TENSOR_SHAPE(5));
    float e6[5] = {5.0f, 6.0f, 8.0f, 12.0f, 2.0f};
    ASSERT_CLOSE_ARRAY((float *)y->data, e6, 5, 1e-6, 0);
    tensor_free(s);
    tensor_free(m);
    tensor_free(t);
    tensor_free(one);
    tensor_free(v);
    ag_tape_free(tape);
}

Test(op_add, gradient_broadcast_shapes) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    struct {
        int an;
        int64_t as[4];
        int bn;
        int64_t bs[4];
    } cases[] = {
        {2, {2, 3}, 1, {3}},           {1, {3}, 2, {2, 3}},        {3, {2, 1, 4}, 2, {3, 1}},
        {0, {0}, 2, {2, 3}},           {2, {2, 3}, 0, {0}},        {1, {1}, 1, {5}},
        {3, {3, 1, 5}, 3, {1, 4, 1}},  {2, {4, 1}, 2, {4, 3}},     {2, {2, 3}, 2, {2, 3}},
        {4, {2, 3, 1, 2}, 3, {3, 4, 1}}, {3, {1, 1, 1}, 1, {1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *in[2] = {test_random(&rng, -2, 2, cases[c].an, cases[c].as),
                         test_random(&rng, -2, 2, cases[c].bn, cases[c].bs)};
        ASSERT_GRADCHECK(op_fn, 2, in, NULL, .seed = c);
        tensor_free(in[0]);
        tensor_free(in[1]);
    }
}

Test(op_add, gradient_one_input_only) {
    /* Only one side requires a gradient: the other's is never touched. */
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    for (int side = 0; side < 2; side++) {
        Tensor *in[2] = {test_random(&rng, -2, 2, TENSOR_SHAPE(3, 1, 4)),
                         test_random(&rng, -2, 2, TENSOR_SHAPE(2, 1))};
        in[1 - side]->requires_grad = false;
        ASSERT_GRADCHECK(op_fn, 2, in, NULL);
        cr_assert_null(in[1 - side]->grad);
        tensor_free(in[0]);
        tensor_free(in[1]);
    }
}

Test(op_add, same_tensor_both_inputs) {
    /* ag_add(t, x, x): both input slots add into x's gradient; d(x + x)/dx = 2. */
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    Tape *tape = ag_tape_new();
    Tensor *xt = test_random(&rng, 0.5f, 2, TENSOR_SHAPE(2, 3));
    ag_backward(tape, ag_sum(tape, ag_add(tape, xt, xt)));
    const float *xv = xt->data;
    for (int i = 0; i < 6; i++) {
        double x = xv[i];
        (void)x;
        cr_assert_float_eq(xt->grad[i], (float)(2.0), 1e-5, "element %d", i);
    }
    ASSERT_GRADCHECK(self_fn, 1, &xt, NULL);
    tensor_free(xt);
    ag_tape_free(tape);
}

Test(op_add, incompatible_shapes_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_ones(NULL, TENSOR_SHAPE(4));
    ag_add(tape, a, b); /* "add: shapes cannot broadcast: got (2, 3) and (4)" */
}

/* Forward and both gradients (with a random upstream gradient) against a serial
 * double-precision reference, on shapes big enough for the parallel paths. */
static void check_large(Rng *rng, int an, const int64_t *as, int bn, const int64_t *bs) {
    Tape *tape = ag_tape_new();
    Tensor *a = test_random(rng, -2, 2, an, as), *b = test_random(rng, -2, 2, bn, bs);
    Tensor *y = ag_add(tape, a, b);
    cr_assert_gt(y->size, TENSOR_PARALLEL_THRESHOLD);
    float *u = malloc((size_t)y->size * sizeof *u);
    tensor_fill_uniform(u, y->size, rng, -1, 1);
    ag_backward_with(tape, y, u);
    double *ga = calloc((size_t)a->size, sizeof *ga), *gb = calloc((size_t)b->size, sizeof *gb);
    const float *av = a->data, *bv = b->data, *yv = y->data;
    for (int64_t i = 0; i < y->size; i++) {
        int64_t ia = src_index(y, i, a), ib = src_index(y, i, b);
        double e = fwd(av[ia], bv[ib]);
        cr_assert(fabs(yv[i] - e) <= 1e-6 * (1 + fabs(e)), "y[%lld] = %g, expected %g",
                  (long long)i, yv[i], e);
        ga[ia] += u[i] * dfda(av[ia], bv[ib]);
        gb[ib] += u[i] * dfdb(av[ia], bv[ib]);
    }
    ASSERT_CLOSE_ARRAY(a->grad, ga, a->size, 1e-4, 1e-4);
    ASSERT_CLOSE_ARRAY(b->grad, gb, b->size, 1e-4, 1e-4);
    free(u);
    free(ga);
    free(gb);
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

Test(op_add, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 4, 0);
    tensor_set_num_threads(2);
    check_large(&rng, TENSOR_SHAPE(64, 32, 40), TENSOR_SHAPE(40));        /* bias-style */
    check_large(&rng, TENSOR_SHAPE(200, 200), TENSOR_SHAPE(200, 200));    /* same shape */
    check_large(&rng, TENSOR_SHAPE(64, 1, 40), TENSOR_SHAPE(1, 32, 40));  /* both stretched */
    check_large(&rng, 0, NULL, TENSOR_SHAPE(300, 120));                   /* scalar left */
}
