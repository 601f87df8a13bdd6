/* The broadcasting kernels in tensor/broadcast.h: the shape rule (including shapes
 * that must fail), the forward kernel and the reduce-to-shape kernel against naive
 * per-element references, their parallel paths and thread-count independence. */
#include "helpers.h"
#include "tensor/broadcast.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Flat index into x (aligned from the right to y) of y's element with flat index i. */
static int64_t src_index(int y_ndim, const int64_t *y_shape, int64_t i, int x_ndim,
                         const int64_t *x_shape) {
    int64_t xi = 0, xstride = 1;
    for (int d = y_ndim - 1; d >= 0; d--) {
        int64_t c = i % y_shape[d];
        i /= y_shape[d];
        int dx = d - (y_ndim - x_ndim);
        if (dx >= 0) {
            if (x_shape[dx] != 1) xi += c * xstride;
            xstride *= x_shape[dx];
        }
    }
    return xi;
}

static double apply(TensorBinaryOp op, double x, double z) {
    switch (op) {
    case TENSOR_BINARY_ADD: return x + z;
    case TENSOR_BINARY_SUB: return x - z;
    case TENSOR_BINARY_MUL: return x * z;
    default: return x / z;
    }
}

static float *random_floats(Rng *rng, int64_t n, float lo, float hi) {
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    tensor_fill_uniform(v, n, rng, lo, hi);
    return v;
}

typedef struct {
    int an;
    int64_t as[4];
    int bn;
    int64_t bs[4];
} ShapePair;

/* ---- the shape rule ---- */

Test(broadcast, shape_rule) {
    struct {
        int an;
        int64_t as[8];
        int bn;
        int64_t bs[8];
        int ok, yn;
        int64_t ys[8];
    } cases[] = {
        {2, {2, 3}, 1, {3}, 1, 2, {2, 3}},
        {3, {2, 1, 4}, 2, {3, 1}, 1, 3, {2, 3, 4}},
        {0, {0}, 2, {2, 3}, 1, 2, {2, 3}},
        {2, {2, 3}, 0, {0}, 1, 2, {2, 3}},
        {0, {0}, 0, {0}, 1, 0, {0}},
        {1, {1}, 1, {5}, 1, 1, {5}},
        {1, {0}, 1, {1}, 1, 1, {0}},
        {2, {3, 1}, 1, {0}, 1, 2, {3, 0}},
        {2, {2, 3}, 2, {2, 3}, 1, 2, {2, 3}},
        {4, {5, 1, 1, 2}, 3, {4, 3, 1}, 1, 4, {5, 4, 3, 2}},
        {8, {1, 2, 1, 2, 1, 2, 1, 2}, 8, {2, 1, 2, 1, 2, 1, 2, 1}, 1, 8, {2, 2, 2, 2, 2, 2, 2, 2}},
        {2, {2, 3}, 1, {4}, 0, 0, {0}},
        {2, {2, 3}, 2, {3, 2}, 0, 0, {0}},
        {1, {0}, 1, {3}, 0, 0, {0}},
        {3, {2, 3, 4}, 2, {2, 4}, 0, 0, {0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int yn = -7;
        int64_t ys[TENSOR_MAX_DIMS] = {-7};
        int rc = tensor_broadcast_shape(cases[c].an, cases[c].as, cases[c].bn, cases[c].bs, &yn, ys);
        if (!cases[c].ok) {
            cr_assert_eq(rc, -1, "case %zu should fail", c);
            cr_assert_eq(yn, -7, "case %zu: a failure leaves the output untouched", c);
            continue;
        }
        cr_assert_eq(rc, 0, "case %zu should broadcast", c);
        cr_assert_eq(yn, cases[c].yn, "case %zu rank", c);
        for (int d = 0; d < yn; d++) cr_assert_eq(ys[d], cases[c].ys[d], "case %zu dim %d", c, d);
        /* Symmetric in its arguments. */
        int yn2;
        int64_t ys2[TENSOR_MAX_DIMS];
        cr_assert_eq(tensor_broadcast_shape(cases[c].bn, cases[c].bs, cases[c].an, cases[c].as,
                                            &yn2, ys2), 0);
        cr_assert_eq(yn2, yn);
        for (int d = 0; d < yn; d++) cr_assert_eq(ys2[d], ys[d]);
    }
}

Test(broadcast, broadcasts_to) {
    cr_assert(tensor_broadcasts_to(TENSOR_SHAPE(3), TENSOR_SHAPE(2, 3)));
    cr_assert(tensor_broadcasts_to(0, NULL, TENSOR_SHAPE(2, 3)));
    cr_assert(tensor_broadcasts_to(TENSOR_SHAPE(2, 1, 4), TENSOR_SHAPE(2, 3, 4)));
    cr_assert(tensor_broadcasts_to(TENSOR_SHAPE(1, 1), TENSOR_SHAPE(1, 1)));
    cr_assert_not(tensor_broadcasts_to(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(3)), "rank too high");
    cr_assert_not(tensor_broadcasts_to(TENSOR_SHAPE(2, 3), TENSOR_SHAPE(1, 3)), "2 cannot shrink");
    cr_assert_not(tensor_broadcasts_to(TENSOR_SHAPE(4), TENSOR_SHAPE(2, 3)));
}

/* ---- forward kernel ---- */

/* Runs every op, overwrite and accumulate, on a and b of the given shapes against the
 * naive reference. */
static void check_forward(Rng *rng, int an, const int64_t *as, int bn, const int64_t *bs) {
    int yn;
    int64_t ys[TENSOR_MAX_DIMS];
    cr_assert_eq(tensor_broadcast_shape(an, as, bn, bs, &yn, ys), 0);
    int64_t na = tensor_shape_size(an, as), nb = tensor_shape_size(bn, bs);
    int64_t ny = tensor_shape_size(yn, ys);
    float *a = random_floats(rng, na, -2, 2), *b = random_floats(rng, nb, 0.5f, 2);
    float *y = random_floats(rng, ny, -1, 1), *y0 = malloc((size_t)(ny ? ny : 1) * sizeof *y0);
    for (int op = TENSOR_BINARY_ADD; op < TENSOR_BINARY_COUNT; op++) {
        for (int accumulate = 0; accumulate < 2; accumulate++) {
            memcpy(y0, y, (size_t)ny * sizeof *y);
            tensor_binary_broadcast((TensorBinaryOp)op, a, an, as, b, bn, bs, y, accumulate);
            for (int64_t i = 0; i < ny; i++) {
                double e = apply((TensorBinaryOp)op, a[src_index(yn, ys, i, an, as)],
                                 b[src_index(yn, ys, i, bn, bs)]);
                if (accumulate) e += y0[i];
                cr_assert(fabs(y[i] - e) <= 1e-6 + 1e-6 * fabs(e),
                          "op %d acc %d element %lld: got %g, expected %g", op, accumulate,
                          (long long)i, y[i], e);
            }
        }
    }
    free(a);
    free(b);
    free(y);
    free(y0);
}

Test(broadcast, forward_matches_reference) {
    Rng rng;
    tensor_rng_seed(&rng, 11, 0);
    ShapePair pairs[] = {
        {2, {2, 3}, 1, {3}},          /* bias-style row */
        {1, {3}, 2, {2, 3}},          /* mirrored */
        {3, {2, 1, 4}, 2, {3, 1}},    /* both stretched */
        {0, {0}, 2, {2, 3}},          /* 0-d scalar left */
        {2, {2, 3}, 0, {0}},          /* 0-d scalar right */
        {1, {1}, 1, {5}},             /* (1,) with (5,) */
        {2, {2, 3}, 2, {2, 3}},       /* same shape */
        {2, {4, 5}, 2, {4, 1}},       /* one value per row */
        {2, {4, 1}, 2, {1, 5}},       /* outer product */
        {4, {2, 3, 4, 5}, 3, {3, 1, 5}}, /* general strided path */
        {4, {2, 1, 4, 1}, 4, {1, 3, 1, 2}},
        {3, {1, 1, 1}, 0, {0}},       /* all ones */
        {2, {0, 3}, 1, {3}},          /* empty */
    };
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++)
        check_forward(&rng, pairs[p].an, pairs[p].as, pairs[p].bn, pairs[p].bs);
}

Test(broadcast, forward_in_place) {
    /* y may be a when a already has the output shape. */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30};
    tensor_binary_broadcast(TENSOR_BINARY_MUL, a, TENSOR_SHAPE(2, 3), b, TENSOR_SHAPE(3), a, false);
    float expected[6] = {10, 40, 90, 40, 100, 180};
    ASSERT_CLOSE_ARRAY(a, expected, 6, 0, 0);
}

Test(broadcast, forward_large_parallel_paths) {
    /* Above the threshold every path runs on all threads; same values as the reference. */
    Rng rng;
    tensor_rng_seed(&rng, 12, 0);
    tensor_set_num_threads(2);
    check_forward(&rng, TENSOR_SHAPE(200, 300), TENSOR_SHAPE(200, 300)); /* flat */
    check_forward(&rng, TENSOR_SHAPE(40000), 0, NULL);                   /* scalar */
    check_forward(&rng, TENSOR_SHAPE(16, 64, 40), TENSOR_SHAPE(40));     /* bias rows */
    check_forward(&rng, TENSOR_SHAPE(300, 200), TENSOR_SHAPE(300, 1));   /* per-row value */
    check_forward(&rng, TENSOR_SHAPE(8, 1, 70, 3), TENSOR_SHAPE(20, 1, 3)); /* general */
}

Test(broadcast, forward_incompatible_aborts, .signal = SIGABRT) {
    float a[6] = {0}, b[4] = {0}, y[6];
    tensor_binary_broadcast(TENSOR_BINARY_ADD, a, TENSOR_SHAPE(2, 3), b, TENSOR_SHAPE(4), y, false);
}

/* ---- reduce to shape ---- */

/* gx (starting from random values) += scale * reduce(g) against the double reference. */
static void check_reduce(Rng *rng, int gn, const int64_t *gs, int xn, const int64_t *xs) {
    int64_t ng = tensor_shape_size(gn, gs), nx = tensor_shape_size(xn, xs);
    float *g = random_floats(rng, ng, -1, 1), *gx = random_floats(rng, nx, -1, 1);
    double *ref = calloc((size_t)(nx ? nx : 1), sizeof *ref);
    const float scale = -0.75f;
    for (int64_t i = 0; i < ng; i++) ref[src_index(gn, gs, i, xn, xs)] += g[i];
    for (int64_t j = 0; j < nx; j++) ref[j] = gx[j] + scale * ref[j];
    tensor_reduce_to_shape_add(g, gn, gs, gx, xn, xs, scale);
    for (int64_t j = 0; j < nx; j++)
        cr_assert(fabs(gx[j] - ref[j]) <= 1e-5 + 1e-5 * fabs(ref[j]),
                  "element %lld: got %.8g, expected %.8g", (long long)j, gx[j], ref[j]);
    free(g);
    free(gx);
    free(ref);
}

Test(broadcast, reduce_matches_reference) {
    Rng rng;
    tensor_rng_seed(&rng, 13, 0);
    const int64_t g3[] = {2, 3, 4};
    struct {
        int n;
        int64_t s[3];
    } xs[] = {
        {3, {2, 3, 4}}, {1, {4}},       {2, {3, 1}},    {3, {2, 1, 4}}, {3, {1, 3, 1}},
        {0, {0}},       {1, {1}},       {3, {2, 1, 1}}, {2, {1, 4}},    {3, {1, 1, 1}},
        {2, {3, 4}},
    };
    for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) check_reduce(&rng, 3, g3, xs[k].n, xs[k].s);
    check_reduce(&rng, TENSOR_SHAPE(5, 1, 6), TENSOR_SHAPE(6));
    check_reduce(&rng, TENSOR_SHAPE(5, 1, 6), TENSOR_SHAPE(5, 1, 1));
    check_reduce(&rng, TENSOR_SHAPE(3, 4, 5, 6), TENSOR_SHAPE(4, 1, 6));
    check_reduce(&rng, TENSOR_SHAPE(3, 4, 5, 6), TENSOR_SHAPE(3, 1, 5, 1));
    check_reduce(&rng, TENSOR_SHAPE(3, 4, 5, 6), TENSOR_SHAPE(1, 4, 1, 1));
    check_reduce(&rng, TENSOR_SHAPE(2, 2, 2, 2, 2, 2, 2, 2), TENSOR_SHAPE(2, 1, 2, 1, 2, 1, 2, 1));
    check_reduce(&rng, TENSOR_SHAPE(7), 0, NULL);
    check_reduce(&rng, TENSOR_SHAPE(0, 3), TENSOR_SHAPE(3)); /* empty sum adds 0 */
}

Test(broadcast, reduce_large_parallel_paths) {
    Rng rng;
    tensor_rng_seed(&rng, 14, 0);
    tensor_set_num_threads(2);
    check_reduce(&rng, TENSOR_SHAPE(16, 64, 40), TENSOR_SHAPE(40));      /* bias gradient */
    check_reduce(&rng, TENSOR_SHAPE(16, 64, 40), TENSOR_SHAPE(16, 64, 1)); /* per-row */
    check_reduce(&rng, TENSOR_SHAPE(16, 64, 40), TENSOR_SHAPE(1, 64, 1));
    check_reduce(&rng, TENSOR_SHAPE(16, 64, 40), TENSOR_SHAPE(16, 1, 40));
    check_reduce(&rng, TENSOR_SHAPE(40000), 0, NULL);
    check_reduce(&rng, TENSOR_SHAPE(100, 1000), TENSOR_SHAPE(1000));
}

Test(broadcast, reduce_same_for_any_thread_count) {
    /* Bit-identical results with 1 and 2 threads: work is split over outputs only. */
    Rng rng;
    tensor_rng_seed(&rng, 15, 0);
    const int64_t gs[] = {32, 48, 50};
    const int64_t xs[][3] = {{1, 1, 50}, {32, 48, 1}, {1, 48, 1}, {32, 1, 50}};
    float *g = random_floats(&rng, 32 * 48 * 50, -1, 1);
    for (int k = 0; k < 4; k++) {
        int64_t nx = tensor_shape_size(3, xs[k]);
        float *r1 = calloc((size_t)nx, sizeof *r1), *r2 = calloc((size_t)nx, sizeof *r2);
        tensor_set_num_threads(1);
        tensor_reduce_to_shape_add(g, 3, gs, r1, 3, xs[k], 1.0f);
        tensor_set_num_threads(2);
        tensor_reduce_to_shape_add(g, 3, gs, r2, 3, xs[k], 1.0f);
        cr_assert(memcmp(r1, r2, (size_t)nx * sizeof *r1) == 0, "shape %d differs across threads", k);
        free(r1);
        free(r2);
    }
    free(g);
}

Test(broadcast, reduce_incompatible_aborts, .signal = SIGABRT) {
    float g[6] = {0}, gx[4] = {0};
    tensor_reduce_to_shape_add(g, TENSOR_SHAPE(2, 3), gx, TENSOR_SHAPE(4), 1.0f);
}
