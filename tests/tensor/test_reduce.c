/* The raw kernels of tensor/reduce.h against naive double-precision references, over
 * (outer, n, inner) views that cover the contiguous fast path, partial and full
 * strided blocks, empty dims, in-place use, and the parallel path (bitwise the same
 * for one thread and two). */
#include "helpers.h"

#include "tensor/reduce.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AT(o, k, i) (((o)*n + (k)) * inner + (i))

static float *random_floats(Rng *rng, int64_t count, float lo, float hi) {
    float *x = malloc((size_t)(count ? count : 1) * sizeof(float));
    tensor_fill_uniform(x, count, rng, lo, hi);
    return x;
}

/* (outer, n, inner) triples: fast path, inner below/at/above the 16-row block, zeros. */
static const int64_t VIEWS[][3] = {{1, 1, 1},  {3, 5, 1}, {2, 4, 3}, {2, 7, 16}, {1, 3, 17},
                                   {4, 1, 33}, {5, 6, 2}, {1, 9, 1}, {0, 3, 4},  {2, 3, 0}};
#define N_VIEWS (int)(sizeof VIEWS / sizeof VIEWS[0])

Test(reduce, axis_split) {
    int64_t shape[] = {2, 3, 4, 5}, o, n, i;
    tensor_axis_split(4, shape, 0, &o, &n, &i);
    cr_assert(o == 1 && n == 2 && i == 60);
    tensor_axis_split(4, shape, 2, &o, &n, &i);
    cr_assert(o == 6 && n == 4 && i == 5);
    tensor_axis_split(4, shape, 3, &o, &n, &i);
    cr_assert(o == 24 && n == 5 && i == 1);
}

Test(reduce, sum_axis_matches_naive) {
    Rng rng;
    tensor_rng_seed(&rng, 10, 0);
    for (int v = 0; v < N_VIEWS; v++) {
        int64_t outer = VIEWS[v][0], n = VIEWS[v][1], inner = VIEWS[v][2];
        float *x = random_floats(&rng, outer * n * inner, -2, 2);
        float *y = malloc((size_t)(outer * inner + 1) * sizeof(float));
        tensor_sum_axis(x, y, outer, n, inner, 0.5f);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double s = 0;
                for (int64_t k = 0; k < n; k++) s += x[AT(o, k, i)];
                cr_assert_float_eq(y[o * inner + i], 0.5 * s, 1e-6, "view %d (%lld,%lld)", v,
                                   (long long)o, (long long)i);
            }
        free(x);
        free(y);
    }
}

Test(reduce, sum_axis_empty_axis_gives_zeros) {
    float y[3] = {7, 7, 7};
    tensor_sum_axis(NULL, y, 1, 0, 3, 1.0f);
    for (int i = 0; i < 3; i++) cr_assert_eq(y[i], 0.0f);
}

Test(reduce, broadcast_add_accumulates) {
    int64_t outer = 2, n = 3, inner = 2;
    float g[] = {1, 2, 3, 4};
    float gx[12];
    for (int i = 0; i < 12; i++) gx[i] = 1;
    tensor_axis_broadcast_add(g, gx, outer, n, inner, 2.0f);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < n; k++)
            for (int64_t i = 0; i < inner; i++)
                cr_assert_eq(gx[AT(o, k, i)], 1 + 2 * g[o * inner + i]);
}

/* Reference softmax/log-softmax/lse of row (o, ., i) in double. */
static void ref_row(const float *x, int64_t o, int64_t i, int64_t n, int64_t inner, double *sm,
                    double *lsm, double *lse) {
    double m = -INFINITY, s = 0;
    for (int64_t k = 0; k < n; k++) m = fmax(m, x[AT(o, k, i)]);
    for (int64_t k = 0; k < n; k++) s += exp(x[AT(o, k, i)] - m);
    *lse = m + log(s);
    for (int64_t k = 0; k < n; k++) {
        sm[k] = exp(x[AT(o, k, i)] - m) / s;
        lsm[k] = x[AT(o, k, i)] - *lse;
    }
}

Test(reduce, softmax_family_matches_naive) {
    Rng rng;
    tensor_rng_seed(&rng, 11, 0);
    for (int v = 0; v < N_VIEWS; v++) {
        int64_t outer = VIEWS[v][0], n = VIEWS[v][1], inner = VIEWS[v][2], size = outer * n * inner;
        float *x = random_floats(&rng, size, -5, 5);
        float *sm = malloc((size_t)(size + 1) * sizeof(float));
        float *lsm = malloc((size_t)(size + 1) * sizeof(float));
        double *lse = malloc((size_t)(outer * inner + 1) * sizeof(double));
        tensor_softmax(x, sm, outer, n, inner);
        tensor_log_softmax(x, lsm, outer, n, inner);
        tensor_logsumexp(x, lse, outer, n, inner);
        double rs[16], rl[16], rlse;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                ref_row(x, o, i, n, inner, rs, rl, &rlse);
                cr_assert_float_eq(lse[o * inner + i], rlse, 1e-5);
                for (int64_t k = 0; k < n; k++) {
                    cr_assert_float_eq(sm[AT(o, k, i)], rs[k], 1e-6, "view %d", v);
                    cr_assert_float_eq(lsm[AT(o, k, i)], rl[k], 2e-6, "view %d", v);
                }
            }
        free(x);
        free(sm);
        free(lsm);
        free(lse);
    }
}

Test(reduce, softmax_in_place) {
    float x[] = {1, 2, 3, -1, 0, 1}, y[6];
    tensor_softmax(x, y, 2, 3, 1);
    tensor_softmax(x, x, 2, 3, 1);
    for (int i = 0; i < 6; i++) cr_assert_eq(x[i], y[i]);
    float a[] = {1, 2, 3, -1, 0, 1}, b[6];
    tensor_log_softmax(a, b, 1, 3, 2);
    tensor_log_softmax(a, a, 1, 3, 2);
    for (int i = 0; i < 6; i++) cr_assert_eq(a[i], b[i]);
}

Test(reduce, backward_kernels_match_formula) {
    Rng rng;
    tensor_rng_seed(&rng, 12, 0);
    for (int v = 0; v < N_VIEWS; v++) {
        int64_t outer = VIEWS[v][0], n = VIEWS[v][1], inner = VIEWS[v][2], size = outer * n * inner;
        float *x = random_floats(&rng, size, -3, 3), *g = random_floats(&rng, size, -1, 1);
        float *y = malloc((size_t)(size + 1) * sizeof(float)),
              *ly = malloc((size_t)(size + 1) * sizeof(float));
        float *gs = calloc((size_t)(size + 1), sizeof(float)),
              *gl = calloc((size_t)(size + 1), sizeof(float));
        for (int64_t j = 0; j < size; j++) gs[j] = gl[j] = 0.25f; /* checks += */
        tensor_softmax(x, y, outer, n, inner);
        tensor_log_softmax(x, ly, outer, n, inner);
        tensor_softmax_backward(y, g, gs, outer, n, inner);
        tensor_log_softmax_backward(ly, g, gl, outer, n, inner);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double dot = 0, sg = 0;
                for (int64_t k = 0; k < n; k++) {
                    dot += (double)g[AT(o, k, i)] * y[AT(o, k, i)];
                    sg += g[AT(o, k, i)];
                }
                for (int64_t k = 0; k < n; k++) {
                    int64_t e = AT(o, k, i);
                    cr_assert_float_eq(gs[e], 0.25 + y[e] * (g[e] - dot), 1e-5, "view %d", v);
                    cr_assert_float_eq(gl[e], 0.25 + g[e] - exp(ly[e]) * sg, 1e-5, "view %d", v);
                }
            }
        free(x);
        free(g);
        free(y);
        free(ly);
        free(gs);
        free(gl);
    }
}

Test(reduce, exp_is_accurate_on_its_domain) {
    /* The kernels' exp, seen through tensor_exp_shift_add: relative error < 2e-7 on
     * [-87, 0.5], exactly 0 below -87, NaN kept, and shift taken in double. */
    enum { N = 200001 };
    float *x = malloc(N * sizeof(float)), *y = calloc(N, sizeof(float));
    for (int i = 0; i < N; i++) x[i] = -87.0f + 87.5f * (float)i / (N - 1);
    tensor_exp_shift_add(x, 0.0, 1.0f, y, N);
    double worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(y[i] / exp((double)x[i]) - 1));
    cr_assert_lt(worst, 2e-7, "max relative error %.3g", worst);
    float odd[] = {-87.5f, -1e4f, -INFINITY, NAN, 1e4f + 1, 0}, out[6] = {0};
    tensor_exp_shift_add(odd, 0.0, 1.0f, out, 4);
    cr_assert(out[0] == 0 && out[1] == 0 && out[2] == 0 && isnan(out[3]));
    tensor_exp_shift_add(odd + 4, 1e4, 2.0f, out + 4, 1); /* (1e4 + 1) - 1e4 = 1 */
    cr_assert_float_eq(out[4], 2 * exp(1.0), 1e-6);
    free(x);
    free(y);
}

Test(reduce, stable_for_huge_logits) {
    float x[] = {1e4f, -1e4f, 0, 1e4f, -1e4f, -1e4f};
    float y[6], ly[6];
    double lse[2];
    tensor_softmax(x, y, 2, 3, 1);
    tensor_log_softmax(x, ly, 2, 3, 1);
    tensor_logsumexp(x, lse, 2, 3, 1);
    for (int i = 0; i < 6; i++) cr_assert(isfinite(y[i]) && isfinite(ly[i]));
    cr_assert_float_eq(y[0], 1.0f, 1e-7);
    cr_assert_float_eq(y[3], 1.0f, 1e-7);
    cr_assert_float_eq(ly[1], -2e4f, 1e-2);
    cr_assert_float_eq(lse[0], 1e4, 1e-6);
    cr_assert_float_eq(lse[1], 1e4, 1e-6);
}

/* Large views (> threshold) with one and two threads: same bits, and equal to the
 * serial reference. */
static void run_all(const float *x, const float *g, int64_t outer, int64_t n, int64_t inner,
                    float *out) {
    int64_t size = outer * n * inner, rows = outer * inner;
    tensor_sum_axis(x, out, outer, n, inner, 1.0f);
    tensor_softmax(x, out + rows, outer, n, inner);
    tensor_log_softmax(x, out + rows + size, outer, n, inner);
    memset(out + rows + 2 * size, 0, 2 * (size_t)size * sizeof(float));
    tensor_softmax_backward(out + rows, g, out + rows + 2 * size, outer, n, inner);
    tensor_log_softmax_backward(out + rows + size, g, out + rows + 3 * size, outer, n, inner);
}

Test(reduce, parallel_path_is_thread_count_independent) {
    Rng rng;
    tensor_rng_seed(&rng, 13, 0);
    const int64_t views[][3] = {{400, 100, 1}, {20, 50, 40}};
    for (int v = 0; v < 2; v++) {
        int64_t outer = views[v][0], n = views[v][1], inner = views[v][2];
        int64_t size = outer * n * inner, total = outer * inner + 4 * size;
        cr_assert_gt(size, TENSOR_PARALLEL_THRESHOLD);
        float *x = random_floats(&rng, size, -4, 4), *g = random_floats(&rng, size, -1, 1);
        float *a = malloc((size_t)total * sizeof(float)),
              *b = malloc((size_t)total * sizeof(float));
        int threads = tensor_get_num_threads();
        tensor_set_num_threads(1);
        run_all(x, g, outer, n, inner, a);
        tensor_set_num_threads(2);
        run_all(x, g, outer, n, inner, b);
        tensor_set_num_threads(threads);
        cr_assert(memcmp(a, b, (size_t)total * sizeof(float)) == 0,
                  "view %d differs by thread count", v);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double s = 0, m = -INFINITY, es = 0;
                for (int64_t k = 0; k < n; k++) s += x[AT(o, k, i)], m = fmax(m, x[AT(o, k, i)]);
                for (int64_t k = 0; k < n; k++) es += exp(x[AT(o, k, i)] - m);
                cr_assert_float_eq(b[o * inner + i], s, 1e-4);
                for (int64_t k = 0; k < n; k += 7)
                    cr_assert_float_eq(b[outer * inner + AT(o, k, i)], exp(x[AT(o, k, i)] - m) / es,
                                       1e-6);
            }
        free(x);
        free(g);
        free(a);
        free(b);
    }
}
