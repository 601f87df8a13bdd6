/* The broadcasting binary ops (add, sub, mul, div), one row of OPS each: hand-computed
 * values on broadcast shapes ((2,3) op (3,) and its mirror, (2,1,4) op (3,1), 0-d
 * scalars, (1,) op (5,)), gradient checks of both inputs on broadcast shapes with size-1
 * dims, one tensor passed as both inputs, an abort on shapes that cannot broadcast, and
 * the parallel path against a serial reference. Each test runs once per row, in its own
 * process; --verbose names the row an instance runs. */
#include "helpers.h"

#include <criterion/parameterized.h>
#include <signal.h>
#include <stdlib.h>

typedef struct {
    const char *name;
    Tensor *(*op)(Tape *tape, Tensor *a, Tensor *b);
    /* The double-precision reference and its partial derivatives. */
    double (*fwd)(double a, double b);
    double (*dfda)(double a, double b);
    double (*dfdb)(double a, double b);
    double (*dself)(double x); /* d op(x, x) / dx */
    float b_lo;                /* random b is drawn from [b_lo, 2): div keeps it away from 0 */
    /* Hand-computed results of the fixed cases below (values_row_broadcast, values_scalars). */
    float row[6], row_mirror[6];           /* a (2,3) = 1..6 with b (3,) = (2,4,8), and b op a */
    float scalar_left[6], scalar_right[6]; /* 2 (0-d) op m (2,3) = 1..6, and m op 2 */
    float scalars;                         /* 8 op 2, both 0-d */
    float one_by_five[5];                  /* (4) op (1, 2, 4, 8, -2) */
} BinaryOp;

static double add_f(double x, double z) { return x + z; }
static double sub_f(double x, double z) { return x - z; }
static double mul_f(double x, double z) { return x * z; }
static double div_f(double x, double z) { return x / z; }
static double one(double x, double z) { (void)x; (void)z; return 1.0; }
static double minus_one(double x, double z) { (void)x; (void)z; return -1.0; }
static double mul_dfda(double x, double z) { (void)x; return z; }
static double mul_dfdb(double x, double z) { (void)z; return x; }
static double div_dfda(double x, double z) { (void)x; return 1.0 / z; }
static double div_dfdb(double x, double z) { return -x / (z * z); }
static double two(double x) { (void)x; return 2.0; }
static double zero(double x) { (void)x; return 0.0; }
static double twice(double x) { return 2.0 * x; }

static const BinaryOp OPS[] = {
    {"add", ag_add, add_f, one, one, two, -2,
     {3, 6, 11, 6, 9, 14}, {3, 6, 11, 6, 9, 14}, {3, 4, 5, 6, 7, 8}, {3, 4, 5, 6, 7, 8}, 10,
     {5, 6, 8, 12, 2}},
    {"sub", ag_sub, sub_f, one, minus_one, zero, -2,
     {-1, -2, -5, 2, 1, -2}, {1, 2, 5, -2, -1, 2}, {1, 0, -1, -2, -3, -4}, {-1, 0, 1, 2, 3, 4}, 6,
     {3, 2, 0, -4, 6}},
    {"mul", ag_mul, mul_f, mul_dfda, mul_dfdb, twice, -2,
     {2, 8, 24, 8, 20, 48}, {2, 8, 24, 8, 20, 48}, {2, 4, 6, 8, 10, 12}, {2, 4, 6, 8, 10, 12}, 16,
     {4, 8, 16, 32, -8}},
    {"div", ag_div, div_f, div_dfda, div_dfdb, zero, 0.5f,
     {0.5f, 0.5f, 0.375f, 2.0f, 1.25f, 0.75f}, {2.0f, 2.0f, 2.66666667f, 0.5f, 0.8f, 1.33333333f},
     {2.0f, 1.0f, 0.666666667f, 0.5f, 0.4f, 0.333333333f}, {0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f}, 4,
     {4.0f, 2.0f, 1.0f, 0.5f, -2.0f}},
};
#define N_OPS (sizeof OPS / sizeof OPS[0])

/* The parameters of every test: indices into OPS. (Criterion copies parameters into
 * the test's process, where the parent's function pointers would not be valid.) */
static struct criterion_test_params each_op(void) {
    static int rows[N_OPS];
    for (size_t i = 0; i < N_OPS; i++) rows[i] = (int)i;
    return cr_make_param_array(int, rows, N_OPS);
}

static const BinaryOp *op_row(const int *row) {
    cr_log_info("op %s", OPS[*row].name);
    return &OPS[*row];
}

/* ctx is the row. */
static Tensor *op_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const BinaryOp *op = ctx;
    return op->op(tape, in[0], in[1]);
}

static Tensor *self_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const BinaryOp *op = ctx;
    return op->op(tape, in[0], in[0]);
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

ParameterizedTestParameters(op_binary, values_row_broadcast) { return each_op(); }
ParameterizedTest(const int *row, op_binary, values_row_broadcast) {
    const BinaryOp *op = op_row(row);
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *b = tensor_from_array(NULL, TENSOR_SHAPE(3), (float[]){2, 4, 8});
    Tensor *y = op->op(tape, a, b);
    assert_shape(y, TENSOR_SHAPE(2, 3));
    ASSERT_CLOSE_ARRAY((float *)y->data, op->row, 6, 1e-6, 0);
    /* The mirror: (3,) op (2, 3). */
    Tensor *y2 = op->op(tape, b, a);
    assert_shape(y2, TENSOR_SHAPE(2, 3));
    ASSERT_CLOSE_ARRAY((float *)y2->data, op->row_mirror, 6, 1e-6, 0);
    cr_assert_null(y->node, "no input requires a gradient, so nothing is recorded");
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

ParameterizedTestParameters(op_binary, values_both_stretched) { return each_op(); }
ParameterizedTest(const int *row, op_binary, values_both_stretched) {
    /* (2, 1, 4) op (3, 1) -> (2, 3, 4): y[i, j, k] = a[i, 0, k] op b[j, 0]. */
    const BinaryOp *op = op_row(row);
    Tape *tape = ag_tape_new();
    float av[8] = {1, 2, 3, 4, 5, 6, 7, 8}, bv[3] = {0.5f, 2, 4};
    Tensor *a = tensor_from_array(NULL, TENSOR_SHAPE(2, 1, 4), av);
    Tensor *b = tensor_from_array(NULL, TENSOR_SHAPE(3, 1), bv);
    Tensor *y = op->op(tape, a, b);
    assert_shape(y, TENSOR_SHAPE(2, 3, 4));
    const float *yv = y->data;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                cr_assert_float_eq(yv[(i * 3 + j) * 4 + k], (float)op->fwd(av[i * 4 + k], bv[j]), 1e-6,
                                   "%s: element (%d, %d, %d)", op->name, i, j, k);
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

ParameterizedTestParameters(op_binary, values_scalars) { return each_op(); }
ParameterizedTest(const int *row, op_binary, values_scalars) {
    const BinaryOp *op = op_row(row);
    Tape *tape = ag_tape_new();
    Tensor *s = tensor_from_array(NULL, 0, NULL, (float[]){2});
    Tensor *m = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *y = op->op(tape, s, m);
    assert_shape(y, TENSOR_SHAPE(2, 3));
    ASSERT_CLOSE_ARRAY((float *)y->data, op->scalar_left, 6, 1e-6, 0);
    y = op->op(tape, m, s);
    assert_shape(y, TENSOR_SHAPE(2, 3));
    ASSERT_CLOSE_ARRAY((float *)y->data, op->scalar_right, 6, 1e-6, 0);
    /* 0-d op 0-d stays 0-d. */
    Tensor *t = tensor_from_array(NULL, 0, NULL, (float[]){8});
    y = op->op(tape, t, s);
    cr_assert_eq(y->ndim, 0);
    cr_assert_float_eq(((float *)y->data)[0], op->scalars, 1e-6, "%s", op->name);
    /* (1,) op (5,) -> (5,). */
    Tensor *single = tensor_from_array(NULL, TENSOR_SHAPE(1), (float[]){4});
    Tensor *v = tensor_from_array(NULL, TENSOR_SHAPE(5), (float[]){1, 2, 4, 8, -2});
    y = op->op(tape, single, v);
    assert_shape(y, TENSOR_SHAPE(5));
    ASSERT_CLOSE_ARRAY((float *)y->data, op->one_by_five, 5, 1e-6, 0);
    tensor_free(s);
    tensor_free(m);
    tensor_free(t);
    tensor_free(single);
    tensor_free(v);
    ag_tape_free(tape);
}

ParameterizedTestParameters(op_binary, gradient_broadcast_shapes) { return each_op(); }
ParameterizedTest(const int *row, op_binary, gradient_broadcast_shapes) {
    const BinaryOp *op = op_row(row);
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
                         test_random(&rng, op->b_lo, 2, cases[c].bn, cases[c].bs)};
        ASSERT_GRADCHECK(op_fn, 2, in, (void *)op, .seed = c);
        tensor_free(in[0]);
        tensor_free(in[1]);
    }
}

ParameterizedTestParameters(op_binary, gradient_one_input_only) { return each_op(); }
ParameterizedTest(const int *row, op_binary, gradient_one_input_only) {
    /* Only one side requires a gradient: the other's is never touched. */
    const BinaryOp *op = op_row(row);
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    for (int side = 0; side < 2; side++) {
        Tensor *in[2] = {test_random(&rng, -2, 2, TENSOR_SHAPE(3, 1, 4)),
                         test_random(&rng, op->b_lo, 2, TENSOR_SHAPE(2, 1))};
        in[1 - side]->requires_grad = false;
        ASSERT_GRADCHECK(op_fn, 2, in, (void *)op);
        cr_assert_null(in[1 - side]->grad, "%s: side %d", op->name, 1 - side);
        tensor_free(in[0]);
        tensor_free(in[1]);
    }
}

ParameterizedTestParameters(op_binary, same_tensor_both_inputs) { return each_op(); }
ParameterizedTest(const int *row, op_binary, same_tensor_both_inputs) {
    /* op(t, x, x): both input slots add into x's gradient, d op(x, x)/dx. */
    const BinaryOp *op = op_row(row);
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    Tape *tape = ag_tape_new();
    Tensor *xt = test_random(&rng, 0.5f, 2, TENSOR_SHAPE(2, 3));
    ag_backward(tape, ag_sum(tape, op->op(tape, xt, xt)));
    const float *xv = xt->data;
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(xt->grad[i], (float)op->dself(xv[i]), 1e-5, "%s: element %d", op->name, i);
    ASSERT_GRADCHECK(self_fn, 1, &xt, (void *)op);
    tensor_free(xt);
    ag_tape_free(tape);
}

ParameterizedTestParameters(op_binary, incompatible_shapes_abort) { return each_op(); }
ParameterizedTest(const int *row, op_binary, incompatible_shapes_abort, .signal = SIGABRT) {
    const BinaryOp *op = op_row(row);
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_ones(NULL, TENSOR_SHAPE(4));
    op->op(tape, a, b); /* "<op>: shapes cannot broadcast: got (2, 3) and (4)" */
}

/* Forward and both gradients (with a random upstream gradient) against a serial
 * double-precision reference, on shapes big enough for the parallel paths. */
static void check_large(const BinaryOp *op, Rng *rng, int an, const int64_t *as, int bn, const int64_t *bs) {
    Tape *tape = ag_tape_new();
    Tensor *a = test_random(rng, -2, 2, an, as), *b = test_random(rng, op->b_lo, 2, bn, bs);
    Tensor *y = op->op(tape, a, b);
    cr_assert_gt(y->size, TENSOR_PARALLEL_THRESHOLD);
    float *u = malloc((size_t)y->size * sizeof *u);
    tensor_fill_uniform(u, y->size, rng, -1, 1);
    ag_backward_with(tape, y, u);
    double *ga = calloc((size_t)a->size, sizeof *ga), *gb = calloc((size_t)b->size, sizeof *gb);
    const float *av = a->data, *bv = b->data, *yv = y->data;
    for (int64_t i = 0; i < y->size; i++) {
        int64_t ia = src_index(y, i, a), ib = src_index(y, i, b);
        double e = op->fwd(av[ia], bv[ib]);
        cr_assert(fabs(yv[i] - e) <= 1e-6 * (1 + fabs(e)), "%s: y[%lld] = %g, expected %g", op->name,
                  (long long)i, yv[i], e);
        ga[ia] += u[i] * op->dfda(av[ia], bv[ib]);
        gb[ib] += u[i] * op->dfdb(av[ia], bv[ib]);
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

ParameterizedTestParameters(op_binary, large_parallel_matches_serial) { return each_op(); }
ParameterizedTest(const int *row, op_binary, large_parallel_matches_serial) {
    const BinaryOp *op = op_row(row);
    Rng rng;
    tensor_rng_seed(&rng, 4, 0);
    tensor_set_num_threads(2);
    check_large(op, &rng, TENSOR_SHAPE(64, 32, 40), TENSOR_SHAPE(40));        /* bias-style */
    check_large(op, &rng, TENSOR_SHAPE(200, 200), TENSOR_SHAPE(200, 200));    /* same shape */
    check_large(op, &rng, TENSOR_SHAPE(64, 1, 40), TENSOR_SHAPE(1, 32, 40));  /* both stretched */
    check_large(op, &rng, 0, NULL, TENSOR_SHAPE(300, 120));                   /* scalar left */
}
