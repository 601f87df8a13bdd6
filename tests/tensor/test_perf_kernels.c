/* Kernels behind the fast paths, against the plain code they replace: SGEMM with a
 * pre-packed right-hand side (bitwise equal to tensor_sgemm, column groups, both
 * layouts, beta 0 and 1), the fused Adam pass (bitwise equal to the scalar formula),
 * thread-team barriers, and the LSTM cell's vectorised sigmoid and tanh against double
 * precision. */
#include "helpers.h"

#include "tensor/gemm.h"
#include "tensor/gemm_packed_internal.h"
#include "tensor/lstm_internal.h"
#include "tensor/optim_kernels_internal.h"
#include "tensor/team_internal.h"

#include <stdlib.h>
#include <string.h>

static float *rand_array(Rng *rng, int64_t n) {
    float *a = malloc((size_t)(n ? n : 1) * sizeof(float));
    tensor_fill_uniform(a, n, rng, -1, 1);
    return a;
}

/* C (M x ldc) through tensor_sgemm_packed on column groups vs one tensor_sgemm per group. */
static void check_packed(uint64_t seed, int64_t M, int64_t K, int64_t width, int groups, bool trans_b, float beta) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 3);
    int64_t col0[TENSOR_PACKED_MAX_GROUPS], N = 0;
    for (int g = 0; g < groups; g++) {
        col0[g] = N + (g % 2); /* gaps between groups, and unaligned starts */
        N = col0[g] + width;
    }
    const int64_t lda = K + 3, ldb = (trans_b ? K : N) + 2, ldc = N + 5;
    float *A = rand_array(&rng, M * lda), *B = rand_array(&rng, (trans_b ? N : K) * ldb);
    float *C1 = rand_array(&rng, M * ldc), *C2 = malloc((size_t)(M * ldc) * sizeof(float));
    memcpy(C2, C1, (size_t)(M * ldc) * sizeof(float));
    float *buf = tensor_aligned_alloc(tensor_packed_b_floats(K, width, groups) * sizeof(float));
    TensorPackedB pb;
    tensor_pack_b(&pb, buf, trans_b, K, groups, col0, width, B, ldb);
    tensor_sgemm_packed(M, 0.75f, A, lda, &pb, beta, C1, ldc);
    for (int g = 0; g < groups; g++)
        tensor_sgemm_serial(false, trans_b, M, width, K, 0.75f, A, lda, trans_b ? B + col0[g] * ldb : B + col0[g], ldb,
                            beta, C2 + col0[g], ldc);
    cr_assert(memcmp(C1, C2, (size_t)(M * ldc) * sizeof(float)) == 0,
              "packed product differs: M %lld K %lld width %lld groups %d trans_b %d beta %g", (long long)M, (long long)K,
              (long long)width, groups, trans_b, beta);
    tensor_aligned_free(buf);
    free(A);
    free(B);
    free(C1);
    free(C2);
}

Test(perf_kernels, packed_gemm_matches_sgemm) {
    int64_t shapes[][3] = {{1, 1, 1}, {5, 7, 3}, {13, 29, 33}, {128, 256, 128}, {64, 1000, 104}, {150, 400, 70}, {7, 1024, 31}};
    uint64_t seed = 1;
    for (int s = 0; s < 7; s++)
        for (int groups = 1; groups <= 4; groups += 3)
            for (int tb = 0; tb < 2; tb++)
                for (int beta = 0; beta < 2; beta++)
                    check_packed(seed++, shapes[s][0], shapes[s][1], shapes[s][2], groups, tb, (float)beta);
}

Test(perf_kernels, packed_gemm_empty_and_zero_k) {
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 1, 1, 1}, C[4] = {5, 5, 5, 5};
    float buf[64];
    TensorPackedB pb;
    tensor_pack_b(&pb, buf, false, 0, 1, (int64_t[]){0}, 2, B, 2);
    tensor_sgemm_packed(2, 1.0f, A, 2, &pb, 0.5f, C, 2); /* K = 0: C = beta C */
    for (int i = 0; i < 4; i++) cr_assert_eq(C[i], 2.5f);
    tensor_sgemm_packed(0, 1.0f, A, 2, &pb, 0.0f, C, 2); /* M = 0: nothing */
    cr_assert_eq(C[0], 2.5f);
}

Test(perf_kernels, adam_matches_scalar_formula) {
    Rng rng;
    tensor_rng_seed(&rng, 7, 0);
    const int64_t n = 300007; /* several blocks, a ragged end, the parallel path */
    float *p = rand_array(&rng, n), *g = rand_array(&rng, n), *m = rand_array(&rng, n), *v = rand_array(&rng, n);
    for (int64_t i = 0; i < n; i++) v[i] = fabsf(v[i]);
    float *p2 = malloc(n * sizeof(float)), *m2 = malloc(n * sizeof(float)), *v2 = malloc(n * sizeof(float));
    memcpy(p2, p, n * sizeof(float));
    memcpy(m2, m, n * sizeof(float));
    memcpy(v2, v, n * sizeof(float));
    const float b1 = 0.9f, b2 = 0.999f, lr = 1e-3f, c1 = 1.7f, c2 = 1.3f, eps = 1e-7f;
    tensor_adam_update(n, p, g, m, v, b1, b2, lr, c1, c2, eps);
    for (int64_t i = 0; i < n; i++) {
        volatile float mi = b1 * m2[i] + (1 - b1) * g[i]; /* volatile: no contraction */
        volatile float vi = b2 * v2[i] + (1 - b2) * g[i] * g[i];
        volatile float step = lr * (mi * c1) / (sqrtf(vi) * c2 + eps);
        float pi = p2[i] - step;
        cr_assert(m[i] == mi && v[i] == vi && p[i] == pi, "element %lld: p %.9g vs %.9g", (long long)i, p[i], pi);
    }
    free(p), free(g), free(m), free(v), free(p2), free(m2), free(v2);
}

typedef struct {
    int slots[8];
    int seen[8][8];
    int rounds, nt;
} TeamCheck;

static void team_fn(void *arg, int t, int nt) {
    TeamCheck *c = arg;
    if (t == 0) c->nt = nt;
    for (int r = 0; r < c->rounds; r++) {
        c->slots[t] = r * 10 + t;
        tensor_team_barrier();
        for (int u = 0; u < nt; u++)
            if (c->slots[u] == r * 10 + u) c->seen[t][u]++;
        tensor_team_barrier();
    }
}

Test(perf_kernels, team_barrier_orders_phases) {
    for (int th = 1; th <= 2; th++) {
        cr_assert_eq(tensor_set_num_threads(th), 0);
        TeamCheck c = {.rounds = 50};
        tensor_team_run(th, team_fn, &c);
        cr_assert(c.nt >= 1 && c.nt <= th);
        /* Every thread saw every other thread's write of each round. */
        for (int t = 0; t < c.nt; t++)
            for (int u = 0; u < c.nt; u++)
                cr_assert_eq(c.seen[t][u], c.rounds, "thread %d saw %d of %d rounds of thread %d", t, c.seen[t][u],
                             c.rounds, u);
    }
}

Test(perf_kernels, first_nonfinite_finds_the_smallest_index) {
    const int64_t n = 300007; /* past the size where it goes parallel */
    float *x = malloc(n * sizeof(float));
    for (int th = 1; th <= 2; th++) {
        cr_assert_eq(tensor_set_num_threads(th), 0);
        for (int64_t i = 0; i < n; i++) x[i] = (float)(i % 97) - 48.0f;
        x[17] = 3.4e38f; /* large but finite */
        cr_assert_eq(tensor_first_nonfinite(x, n), -1);
        cr_assert_eq(tensor_first_nonfinite(x, 0), -1);
        x[n - 1] = NAN;
        cr_assert_eq(tensor_first_nonfinite(x, n), n - 1);
        x[290000] = NAN;
        x[170000] = INFINITY;
        cr_assert_eq(tensor_first_nonfinite(x, n), 170000);
        x[5] = -INFINITY;
        cr_assert_eq(tensor_first_nonfinite(x, n), 5);
        cr_assert_eq(tensor_first_nonfinite(x, 5), -1);
        tensor_zero_floats(x, n);
        for (int64_t i = 0; i < n; i++) cr_assert_eq(x[i], 0.0f);
    }
    free(x);
}

Test(perf_kernels, lstm_cell_functions_match_double) {
    enum { N = 20011 };
    float *x = malloc(N * sizeof(float)), *s = malloc(N * sizeof(float)), *t = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) x[i] = -40.0f + 80.0f * (float)i / (N - 1);
    x[0] = -100.0f, x[1] = 100.0f, x[2] = 0.0f, x[3] = -0.0f, x[4] = 1e-30f, x[5] = 0.4999f, x[6] = 0.5f;
    tensor__lstm_sigmoid_array(x, s, N);
    tensor__lstm_tanh_array(x, t, N);
    for (int i = 0; i < N; i++) {
        double es = 1.0 / (1.0 + exp(-(double)x[i])), et = tanh((double)x[i]);
        cr_assert(fabs(s[i] - es) <= 4e-7 * es + 1e-30, "sigmoid(%.9g) = %.9g, expected %.9g", x[i], s[i], es);
        cr_assert(fabs(t[i] - et) <= 4e-7 * fabs(et) + 1e-7, "tanh(%.9g) = %.9g, expected %.9g", x[i], t[i], et);
    }
    cr_assert(signbit(t[3]), "tanh(-0) keeps the sign");
    x[0] = NAN;
    tensor__lstm_sigmoid_array(x, s, 1);
    tensor__lstm_tanh_array(x, t, 1);
    cr_assert(isnan(s[0]) && isnan(t[0]), "NaN propagates");
    free(x);
    free(s);
    free(t);
}

Test(perf_kernels, lstm_plan_shares_and_splits) {
    /* The team's shares cover every hidden unit and batch row once, in order, the unit
     * cuts on multiples of 16 once H >= 32 per thread; the split follows the shape, or
     * the one forced. */
    const int64_t sizes[] = {1, 7, 40, 72, 1000};
    for (int nt = 1; nt <= 4; nt++)
        for (int i = 0; i < 5; i++) {
            int64_t next_u = 0, next_b = 0;
            for (int t = 0; t < nt; t++) {
                int64_t u0, u1, b0, b1;
                tensor__lstm_unit_range(sizes[i], t, nt, &u0, &u1);
                tensor__lstm_row_range(sizes[i], t, nt, &b0, &b1);
                cr_assert(u0 == next_u && u1 >= u0 && b0 == next_b && b1 >= b0);
                if (sizes[i] >= 32 * nt && t > 0) cr_assert_eq(u0 % 16, 0);
                next_u = u1, next_b = b1;
            }
            cr_assert(next_u == sizes[i] && next_b == sizes[i]);
        }
    cr_assert_eq(tensor_set_num_threads(2), 0);
    TensorLstmPlan p = tensor__lstm_plan(128, 64); /* 64 rows a thread, 64 KB packed */
    cr_assert(p.split == TENSOR_LSTM_SPLIT_ROWS && p.nt == 2);
    p = tensor__lstm_plan(4, 1000); /* 16 MB packed: by units, a 32 MFLOP step */
    cr_assert(p.split == TENSOR_LSTM_SPLIT_UNITS && p.nt == 2);
    p = tensor__lstm_plan(4, 16); /* a tiny step: one thread */
    cr_assert(p.split == TENSOR_LSTM_SPLIT_UNITS && p.nt == 1);
    cr_assert_eq(tensor__lstm_force_split(TENSOR_LSTM_SPLIT_ROWS), TENSOR_LSTM_SPLIT_AUTO);
    p = tensor__lstm_plan(1, 64); /* forced: as many threads as there are rows */
    cr_assert(p.split == TENSOR_LSTM_SPLIT_ROWS && p.nt == 1);
    cr_assert_eq(tensor__lstm_force_split(TENSOR_LSTM_SPLIT_AUTO), TENSOR_LSTM_SPLIT_ROWS);
}
