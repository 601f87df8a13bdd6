/* matmul: values by hand; every transpose combination on 2-D, batched (3-D, 4-D) and
 * shared-2-D operands, against a naive triple loop in double (values and gradients)
 * and the finite-difference checker; the parallel batch path; gradient accumulation;
 * bad shapes stopping. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>

/* Naive reference in double. Element (m, k) of op(A) for batch entry i sits at
 * a[i*sa + (ta ? k*M + m : m*K + k)], likewise for B; sa/sb are 0 for a 2-D side. */
typedef struct {
    bool ta, tb;
    int64_t batch, M, N, K, sa, sb;
} Geo;

static Geo geometry(const Tensor *a, const Tensor *b, bool ta, bool tb) {
    Geo g = {.ta = ta, .tb = tb};
    int na = a->ndim, nb = b->ndim;
    g.M = ta ? a->shape[na - 1] : a->shape[na - 2];
    g.K = ta ? a->shape[na - 2] : a->shape[na - 1];
    g.N = tb ? b->shape[nb - 2] : b->shape[nb - 1];
    g.sa = na > 2 ? g.M * g.K : 0;
    g.sb = nb > 2 ? g.K * g.N : 0;
    const Tensor *bt = na > 2 ? a : b;
    g.batch = tensor_dims_product(bt, 0, bt->ndim - 2);
    return g;
}

static int64_t ia(const Geo *g, int64_t i, int64_t m, int64_t k) {
    return i * g->sa + (g->ta ? k * g->M + m : m * g->K + k);
}
static int64_t ib(const Geo *g, int64_t i, int64_t k, int64_t n) {
    return i * g->sb + (g->tb ? n * g->K + k : k * g->N + n);
}

/* c = op(A) op(B); with G given, also gA += dC-projection and gB likewise. */
static void reference(const Geo *g, const float *a, const float *b, double *c, const float *G,
                      double *ga, double *gb) {
    for (int64_t i = 0; i < g->batch; i++)
        for (int64_t m = 0; m < g->M; m++)
            for (int64_t n = 0; n < g->N; n++) {
                int64_t ci = (i * g->M + m) * g->N + n;
                double s = 0;
                for (int64_t k = 0; k < g->K; k++) {
                    s += (double)a[ia(g, i, m, k)] * b[ib(g, i, k, n)];
                    if (G) {
                        ga[ia(g, i, m, k)] += (double)G[ci] * b[ib(g, i, k, n)];
                        gb[ib(g, i, k, n)] += (double)G[ci] * a[ia(g, i, m, k)];
                    }
                }
                if (c) c[ci] = s;
            }
}

typedef struct {
    bool ta, tb;
} Flags;

static Tensor *matmul_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const Flags *f = ctx;
    return ag_matmul_t(tape, in[0], in[1], f->ta, f->tb);
}

/* Operand shapes for batch dims (nbatch of them, or none when the side is 2-D). */
static void make_shape(int64_t *s, int *nd, const int64_t *bdims, int nb, bool batched,
                       int64_t rows, int64_t cols) {
    *nd = 0;
    if (batched)
        for (int i = 0; i < nb; i++) s[(*nd)++] = bdims[i];
    s[(*nd)++] = rows;
    s[(*nd)++] = cols;
}

typedef struct {
    int nb;
    int64_t bdims[2];
    bool a_batched, b_batched;
    int64_t M, K, N;
} Config;

static const Config CONFIGS[] = {
    {0, {0}, false, false, 3, 4, 2},    /* 2-D x 2-D */
    {0, {0}, false, false, 1, 1, 1},    /* all size 1 */
    {1, {2}, true, true, 2, 3, 4},      /* batched 3-D x 3-D */
    {2, {2, 3}, true, true, 2, 1, 3},   /* batched 4-D, K = 1 */
    {1, {3}, true, false, 2, 3, 2},     /* a batched, b shared 2-D */
    {2, {2, 2}, true, false, 1, 4, 3},  /* a 4-D, b shared, M = 1 */
    {1, {3}, false, true, 2, 3, 2},     /* a shared 2-D, b batched */
    {2, {2, 1}, false, true, 3, 2, 1},  /* a shared, b 4-D, N = 1 */
};

/* Builds a random (a, b) pair for a config and transpose flags. */
static void make_operands(Rng *rng, const Config *c, bool ta, bool tb, Tensor **a, Tensor **b) {
    int64_t sa[4], sb[4];
    int na, nb;
    make_shape(sa, &na, c->bdims, c->nb, c->a_batched, ta ? c->K : c->M, ta ? c->M : c->K);
    make_shape(sb, &nb, c->bdims, c->nb, c->b_batched, tb ? c->N : c->K, tb ? c->K : c->N);
    *a = test_random(rng, -1, 1, na, sa);
    *b = test_random(rng, -1, 1, nb, sb);
}

Test(op_matmul, values_by_hand) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *b = tensor_from_array(NULL, TENSOR_SHAPE(3, 2), (float[]){7, 8, 9, 10, 11, 12});
    Tensor *c = ag_matmul(tape, a, b);
    cr_assert_eq(c->shape[0], 2);
    cr_assert_eq(c->shape[1], 2);
    float e[] = {58, 64, 139, 154};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(tensor_f32(c)[i], e[i], 1e-4);
    /* a^T (3x2) times a (2x3): the Gram matrix. */
    Tensor *g = ag_matmul_t(tape, a, a, true, false);
    float eg[] = {17, 22, 27, 22, 29, 36, 27, 36, 45};
    for (int i = 0; i < 9; i++) cr_assert_float_eq(tensor_f32(g)[i], eg[i], 1e-4);
    /* a a^T (2x2). */
    Tensor *h = ag_matmul_t(tape, a, a, false, true);
    float eh[] = {14, 32, 32, 77};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(tensor_f32(h)[i], eh[i], 1e-4);
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

Test(op_matmul, all_configs_match_reference_and_gradcheck) {
    Rng rng;
    tensor_rng_seed(&rng, 81, 0);
    for (size_t c = 0; c < sizeof CONFIGS / sizeof CONFIGS[0]; c++)
        for (int f = 0; f < 4; f++) {
            Flags fl = {f & 1, (f >> 1) & 1};
            Tensor *in[2];
            make_operands(&rng, &CONFIGS[c], fl.ta, fl.tb, &in[0], &in[1]);
            Tape *tape = ag_tape_new();
            Tensor *out = ag_matmul_t(tape, in[0], in[1], fl.ta, fl.tb);
            Geo g = geometry(in[0], in[1], fl.ta, fl.tb);
            cr_assert_eq(out->ndim, (c < 2) ? 2 : 2 + CONFIGS[c].nb);
            cr_assert_eq(out->shape[out->ndim - 2], CONFIGS[c].M);
            cr_assert_eq(out->shape[out->ndim - 1], CONFIGS[c].N);
            cr_assert_eq(out->size, g.batch * g.M * g.N);
            double *ref = calloc((size_t)out->size, sizeof(double));
            reference(&g, in[0]->data, in[1]->data, ref, NULL, NULL, NULL);
            ASSERT_CLOSE_ARRAY(tensor_f32(out), ref, out->size, 1e-5, 1e-5);
            free(ref);
            ag_tape_free(tape);
            ASSERT_GRADCHECK(matmul_fn, 2, in, &fl);
            in[0]->requires_grad = false; /* only b needs a gradient */
            ASSERT_GRADCHECK(matmul_fn, 2, in, &fl);
            in[0]->requires_grad = true;
            in[1]->requires_grad = false; /* only a */
            ASSERT_GRADCHECK(matmul_fn, 2, in, &fl);
            tensor_free(in[0]);
            tensor_free(in[1]);
        }
}

/* Larger shapes: the folded-batch GEMM, the shared-side gradient sums, and the
 * one-small-GEMM-per-thread batch path; gradients against the reference, and
 * accumulated over two backward calls. */
Test(op_matmul, larger_shapes_values_and_gradients) {
    Rng rng;
    tensor_rng_seed(&rng, 82, 0);
    static const Config big[] = {
        {1, {16}, true, false, 32, 24, 40}, /* folded batch, shared b */
        {1, {64}, true, true, 8, 8, 8},     /* many small products in parallel */
        {2, {4, 8}, true, true, 6, 10, 7},  /* 4-D batched */
        {1, {12}, false, true, 20, 16, 30}, /* shared a */
    };
    for (size_t c = 0; c < sizeof big / sizeof big[0]; c++)
        for (int f = 0; f < 4; f++) {
            bool ta = f & 1, tb = (f >> 1) & 1;
            Tensor *a, *b;
            make_operands(&rng, &big[c], ta, tb, &a, &b);
            Tape *tape = ag_tape_new();
            Tensor *out = ag_matmul_t(tape, a, b, ta, tb);
            Geo g = geometry(a, b, ta, tb);
            float *G = malloc(sizeof(float) * (size_t)out->size);
            tensor_fill_uniform(G, out->size, &rng, -1, 1);
            double *ref = calloc((size_t)out->size, sizeof(double));
            double *ga = calloc((size_t)a->size, sizeof(double));
            double *gb = calloc((size_t)b->size, sizeof(double));
            reference(&g, a->data, b->data, ref, G, ga, gb);
            ASSERT_CLOSE_ARRAY(tensor_f32(out), ref, out->size, 1e-4, 1e-4);
            ag_backward_with(tape, out, G);
            ag_backward_with(tape, out, G);
            for (int64_t i = 0; i < a->size; i++) ga[i] *= 2;
            for (int64_t i = 0; i < b->size; i++) gb[i] *= 2;
            ASSERT_CLOSE_ARRAY(a->grad, ga, a->size, 1e-4, 1e-4);
            ASSERT_CLOSE_ARRAY(b->grad, gb, b->size, 1e-4, 1e-4);
            free(G);
            free(ref);
            free(ga);
            free(gb);
            tensor_free(a);
            tensor_free(b);
            ag_tape_free(tape);
        }
}

Test(op_matmul, same_tensor_on_both_sides) {
    /* d/dA sum(G * A^T A) = A (G + G^T). */
    Tape *tape = ag_tape_new();
    Tensor *a = ag_requires_grad(
        tensor_from_array(NULL, TENSOR_SHAPE(2, 2), (float[]){1, 2, 3, 4}), true);
    Tensor *c = ag_matmul_t(tape, a, a, true, false);
    float G[] = {1, 0, 1, 1};
    ag_backward_with(tape, c, G);
    /* G + G^T = [[2, 1], [1, 2]]; A (G + G^T) = [[4, 5], [10, 11]] */
    float e[] = {4, 5, 10, 11};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(a->grad[i], e[i], 1e-5);
    tensor_free(a);
    ag_tape_free(tape);
}

Test(op_matmul, zero_inner_dimension_gives_zeros) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 0));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(0, 3));
    Tensor *c = ag_matmul(tape, a, b);
    cr_assert_eq(c->size, 6);
    for (int i = 0; i < 6; i++) cr_assert_eq(tensor_f32(c)[i], 0.0f);
    tensor_free(a);
    tensor_free(b);
    ag_tape_free(tape);
}

Test(op_matmul, inner_mismatch_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(4, 5));
    ag_matmul(tape, a, b);
}

Test(op_matmul, inner_mismatch_with_transpose_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(3, 4));
    ag_matmul_t(tape, a, b, true, false); /* op(a) is 3x2, needs 2 rows in b */
}

Test(op_matmul, batch_mismatch_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(3, 2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 4));
    ag_matmul(tape, a, b);
}

Test(op_matmul, batch_rank_mismatch_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 2, 2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 4));
    ag_matmul(tape, a, b);
}

Test(op_matmul, one_d_operand_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(3));
    ag_matmul(tape, a, b);
}

Test(op_matmul, int32_operand_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *a = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(3, 2));
    ag_matmul(tape, a, b);
}
