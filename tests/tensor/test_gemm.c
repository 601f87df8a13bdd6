/* SGEMM against a double-precision triple loop: all transpose combinations, padded
 * leading dimensions, alpha/beta cases (beta = 0 over NaNs), edge and block-crossing
 * sizes, serial and threaded entry points with 1 and 2 threads, every micro-kernel the
 * CPU has, and run-to-run reproducibility. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/gemm_packed_internal.h"

typedef struct {
    int64_t M, K, N;
} Dims;

/* M x K x N: empty and edge sizes, exact tiles, N <= 2 panels (A read in place), few
 * rows and wide B (B read in place: 25 x 400 x 70 across a kc block, 130 x 260 x 700
 * with partial strips), and sizes crossing the kc, mc and nc blocks of every kernel. */
static const Dims SHAPES[] = {
    {1, 1, 1},      {7, 13, 29},     {0, 5, 3},      {5, 0, 3},    {5, 3, 0},
    {2, 3, 1},      {13, 1, 17},     {1, 300, 1},    {12, 32, 32}, {33, 65, 31},
    {64, 17, 27},   {37, 20, 33},    {6, 16, 16},    {25, 400, 70}, {5, 7, 200},
    {300, 517, 129}, {130, 260, 700}, {1600, 9, 40}, {1550, 5, 70},
};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

typedef struct {
    float alpha, beta;
    bool nan_c; /* fill C with NaN first (only with beta == 0) */
} Scalars;

static const Scalars SCALARS[] = {
    {1.0f, 0.0f, true}, {1.0f, 1.0f, false}, {-1.5f, 0.25f, false}, {0.5f, 0.0f, true},
    {0.0f, 2.0f, false}, {0.0f, 0.0f, true},
};
#define NSCALARS (int)(sizeof SCALARS / sizeof SCALARS[0])

static float uniform(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xFFFFFF) / (float)0x1000000 * 2.0f - 1.0f;
}

/* Logical op(A) (M x K), op(B) (K x N), a starting C, and in double the product P and
 * the magnitude sum_k |a||b| that scales the rounding error. */
typedef struct {
    Dims d;
    float *opa, *opb, *c0;
    double *prod, *mag;
} Problem;

static Problem make_problem(Dims d, uint64_t seed) {
    Problem p = {d, malloc(sizeof(float) * (size_t)(d.M * d.K + 1)),
                 malloc(sizeof(float) * (size_t)(d.K * d.N + 1)),
                 malloc(sizeof(float) * (size_t)(d.M * d.N + 1)),
                 malloc(sizeof(double) * (size_t)(d.M * d.N + 1)),
                 malloc(sizeof(double) * (size_t)(d.M * d.N + 1))};
    for (int64_t i = 0; i < d.M * d.K; i++) p.opa[i] = uniform(&seed);
    for (int64_t i = 0; i < d.K * d.N; i++) p.opb[i] = uniform(&seed);
    for (int64_t i = 0; i < d.M * d.N; i++) p.c0[i] = uniform(&seed);
    for (int64_t i = 0; i < d.M; i++)
        for (int64_t j = 0; j < d.N; j++) {
            double s = 0, m = 0;
            for (int64_t k = 0; k < d.K; k++) {
                double t = (double)p.opa[i * d.K + k] * p.opb[k * d.N + j];
                s += t;
                m += fabs(t);
            }
            p.prod[i * d.N + j] = s;
            p.mag[i * d.N + j] = m;
        }
    return p;
}

static void free_problem(Problem *p) {
    free(p->opa);
    free(p->opb);
    free(p->c0);
    free(p->prod);
    free(p->mag);
}

typedef void (*SgemmFn)(bool, bool, int64_t, int64_t, int64_t, float, const float *, int64_t,
                        const float *, int64_t, float, float *, int64_t);

/* Runs one configuration with leading dimensions padded by `pad` and checks every element
 * of C, and that the padding columns of C are untouched. */
static void check_case(const Problem *p, SgemmFn fn, bool ta, bool tb, int64_t pad,
                       Scalars s) {
    const int64_t M = p->d.M, K = p->d.K, N = p->d.N;
    const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    float *A = malloc(sizeof(float) * (size_t)((ta ? K : M) * lda + 1));
    float *B = malloc(sizeof(float) * (size_t)((tb ? N : K) * ldb + 1));
    float *C = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    for (int64_t i = 0; i < M; i++)
        for (int64_t k = 0; k < K; k++)
            A[ta ? k * lda + i : i * lda + k] = p->opa[i * K + k];
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++)
            B[tb ? j * ldb + k : k * ldb + j] = p->opb[k * N + j];
    for (int64_t i = 0; i < M * ldc; i++) C[i] = -7.0f; /* padding sentinel */
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) C[i * ldc + j] = s.nan_c ? NAN : p->c0[i * N + j];

    fn(ta, tb, M, N, K, s.alpha, A, lda, B, ldb, s.beta, C, ldc);

    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            double c0 = s.beta == 0.0f ? 0.0 : p->c0[i * N + j];
            double want = s.alpha * p->prod[i * N + j] + s.beta * c0;
            double tol = 2e-7 * (double)(K + 2) *
                             (fabs(s.alpha) * p->mag[i * N + j] + fabs(s.beta * c0)) + 1e-30;
            double got = C[i * ldc + j];
            cr_assert(fabs(got - want) <= tol,
                      "%lldx%lldx%lld %c%c pad %lld alpha %g beta %g: C[%lld,%lld] = %.9g, "
                      "expected %.9g",
                      (long long)M, (long long)K, (long long)N, ta ? 'T' : 'N', tb ? 'T' : 'N',
                      (long long)pad, s.alpha, s.beta, (long long)i, (long long)j, got, want);
        }
        for (int64_t j = N; j < ldc; j++)
            cr_assert_eq(C[i * ldc + j], -7.0f, "padding of C row %lld written", (long long)i);
    }
    free(A);
    free(B);
    free(C);
}

/* Every shape x transpose combination x padding; the scalar cases rotate across them
 * (all six are covered on each shape by the dedicated test below). */
static void sweep(SgemmFn fn) {
    for (int si = 0; si < NSHAPES; si++) {
        Problem p = make_problem(SHAPES[si], 1234 + (uint64_t)si);
        for (int t = 0; t < 4; t++)
            for (int64_t pad = 0; pad <= 3; pad += 3)
                check_case(&p, fn, t & 1, t & 2, pad, SCALARS[(si + t + pad) % NSCALARS]);
        free_problem(&p);
    }
}

Test(gemm, threaded_one_thread) {
    omp_set_num_threads(1);
    sweep(tensor_sgemm);
}

Test(gemm, threaded_two_threads) {
    omp_set_num_threads(2);
    sweep(tensor_sgemm);
}

Test(gemm, serial_one_and_two_threads) {
    omp_set_num_threads(1);
    sweep(tensor_sgemm_serial);
    omp_set_num_threads(2);
    sweep(tensor_sgemm_serial);
}

Test(gemm, all_alpha_beta_cases) {
    omp_set_num_threads(2);
    const Dims dims[] = {{7, 13, 29}, {130, 260, 700}};
    for (int di = 0; di < 2; di++) {
        Problem p = make_problem(dims[di], 99);
        for (int s = 0; s < NSCALARS; s++)
            for (int t = 0; t < 4; t++) {
                check_case(&p, tensor_sgemm, t & 1, t & 2, 1, SCALARS[s]);
                check_case(&p, tensor_sgemm_serial, t & 1, t & 2, 0, SCALARS[s]);
            }
        free_problem(&p);
    }
}

Test(gemm, zero_sized) {
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 2, 3, 4}, C[4] = {5, 5, 5, 5};
    tensor_sgemm(false, false, 0, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    tensor_sgemm(false, false, 2, 0, 2, 1.0f, A, 2, B, 0, 0.0f, C, 2);
    for (int i = 0; i < 4; i++) cr_assert_eq(C[i], 5.0f);
    /* K = 0: C = beta * C, and beta = 0 clears NaNs. */
    tensor_sgemm(false, false, 2, 2, 0, 1.0f, A, 0, B, 2, 3.0f, C, 2);
    for (int i = 0; i < 4; i++) cr_assert_eq(C[i], 15.0f);
    C[1] = NAN;
    tensor_sgemm_serial(true, true, 2, 2, 0, 1.0f, A, 2, B, 0, 0.0f, C, 2);
    for (int i = 0; i < 4; i++) cr_assert_eq(C[i], 0.0f);
}

/* The same call twice with 2 threads gives the same bits. */
Test(gemm, reproducible_for_a_thread_count) {
    omp_set_num_threads(2);
    const int64_t M = 211, K = 300, N = 517;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    uint64_t seed = 5;
    for (int64_t i = 0; i < M * K; i++) A[i] = uniform(&seed);
    for (int64_t i = 0; i < K * N; i++) B[i] = uniform(&seed);
    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = t & 2;
        tensor_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C1, N);
        tensor_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C2, N);
        cr_assert(memcmp(C1, C2, sizeof(float) * M * N) == 0, "runs differ (%d)", t);
    }
    free(A);
    free(B);
    free(C1);
    free(C2);
}

/* Called from inside a parallel region, tensor_sgemm runs serially on each caller. */
Test(gemm, inside_parallel_region) {
    omp_set_num_threads(2);
    Problem p = make_problem((Dims){130, 260, 700}, 7);
    int failures = 0;
#pragma omp parallel reduction(+ : failures)
    {
        float *C = malloc(sizeof(float) * 130 * 700);
        tensor_sgemm(false, false, 130, 700, 260, 1.0f, p.opa, 260, p.opb, 700, 0.0f, C, 700);
        for (int64_t i = 0; i < 130 * 700; i++)
            failures += fabs(C[i] - p.prod[i]) > 2e-7 * 262 * p.mag[i];
        free(C);
    }
    cr_assert_eq(failures, 0);
    free_problem(&p);
}

/* The less capable kernels, forced through LAMINA_GEMM_KERNEL (each Criterion test runs
 * in a fresh process, before the kernel choice is cached). */
static void sweep_kernel(const char *name) {
    setenv("LAMINA_GEMM_KERNEL", name, 1);
    if (strcmp(tensor_sgemm_kernel_name(), name) != 0)
        cr_skip_test("kernel %s not available here (got %s)", name, tensor_sgemm_kernel_name());
    omp_set_num_threads(2);
    sweep(tensor_sgemm);
    sweep(tensor_sgemm_serial);
}

Test(gemm, kernel_avx2) { sweep_kernel("avx2"); }
Test(gemm, kernel_generic) { sweep_kernel("generic"); }
Test(gemm, kernel_avx512) { sweep_kernel("avx512"); }

/* tensor_refer_b (op(B) read in place: the B-in-place kernel for few rows, packing per
 * call for more) gives the same bits as tensor_pack_b, so an LSTM may pick either by
 * shape without its results depending on the choice: four gate-column groups of a
 * (H, 4H) matrix, H = 300 (K spans several slices, the width is not a panel multiple),
 * for 5, 37, 64 and 100 rows. */
Test(gemm, refer_b_gives_the_same_bits_as_pack_b) {
    const int64_t H = 300, G = 4 * H, u0 = 13, width = 137;
    const int64_t col0[4] = {u0, H + u0, 2 * H + u0, 3 * H + u0};
    const int64_t rows[] = {5, 37, 64, 100};
    uint64_t seed = 99;
    float *B = malloc(sizeof(float) * (size_t)(H * G));
    for (int64_t i = 0; i < H * G; i++) B[i] = uniform(&seed);
    float *buf = tensor_aligned_alloc(tensor_packed_b_floats(H, width, 4) * sizeof(float));
    TensorPackedB packed, referred;
    tensor_pack_b(&packed, buf, false, H, 4, col0, width, B, G);
    tensor_refer_b(&referred, false, H, 4, col0, width, B, G);
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const int64_t M = rows[r], lda = H + 3;
        float *A = malloc(sizeof(float) * (size_t)(M * lda));
        float *C1 = malloc(sizeof(float) * (size_t)(M * G)), *C2 = malloc(sizeof(float) * (size_t)(M * G));
        for (int64_t i = 0; i < M * lda; i++) A[i] = uniform(&seed);
        for (int64_t i = 0; i < M * G; i++) C1[i] = C2[i] = uniform(&seed);
        tensor_sgemm_packed(M, 1.0f, A, lda, &packed, 1.0f, C1, G);
        tensor_sgemm_packed(M, 1.0f, A, lda, &referred, 1.0f, C2, G);
        cr_assert(memcmp(C1, C2, sizeof(float) * (size_t)(M * G)) == 0,
                  "%lld rows: referred and packed products differ", (long long)M);
        free(A), free(C1), free(C2);
    }
    tensor_aligned_free(buf);
    free(B);
}
