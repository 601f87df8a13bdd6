/* The bf16 GEMM against a double-precision loop over the same bf16-rounded operands:
 * all transposes, padded leading dimensions, alpha/beta (beta = 0 over NaNs), sizes 0,
 * 1 and off the tile and block sizes, the pre-packed B, serial and threaded entry
 * points with 1 and 2 threads. The kernel under test is the one LAMINA_BF16_KERNEL
 * names (the default choice without it); if this CPU cannot run it, every test is
 * skipped and the program exits 77, which ctest reports as skipped, not passed. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/gemm_bf16_internal.h"

/* Skips the calling test when the requested kernel is not the one running. */
static void require_kernel(void) {
    const char *want = getenv("LAMINA_BF16_KERNEL");
    if (want && strcmp(want, tensor_gemm_bf16_kernel_name()) != 0)
        cr_skip_test("this CPU cannot run the %s kernel", want);
}

typedef struct {
    int64_t M, N, K;
} Dims;

static const Dims SHAPES[] = {
    {1, 1, 1},    {0, 5, 3},     {5, 0, 3},     {5, 3, 0},      {7, 29, 13},   {16, 16, 32},
    {32, 32, 32}, {33, 31, 65},  {17, 48, 1},   {64, 27, 17},   {13, 100, 300}, {40, 70, 600},
    {300, 129, 517}, {130, 700, 260}, {1, 300, 1}, {257, 33, 40},
};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

typedef struct {
    float alpha, beta;
} Scalars;

static const Scalars SCALARS[] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {-1.5f, 0.25f}, {0.5f, 0.0f},
                                  {0.0f, 2.0f}};
#define NSCALARS (int)(sizeof SCALARS / sizeof SCALARS[0])

static float uniform(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xFFFFFF) / (float)0x1000000 * 2.0f - 1.0f;
}

/* One call of the entry point `how` (0 threaded, 1 serial, 2 packed, 3 packed serial)
 * checked element by element. Stored A and B have padded leading dimensions. */
static void check(Dims d, bool ta, bool tb, Scalars s, int how, uint64_t seed) {
    const int64_t M = d.M, N = d.N, K = d.K;
    const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
    const int64_t arows = ta ? K : M, brows = tb ? N : K;
    float *A = malloc(sizeof(float) * (size_t)(arows * lda + 1));
    float *B = malloc(sizeof(float) * (size_t)(brows * ldb + 1));
    float *C = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    float *C0 = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    for (int64_t i = 0; i < arows * lda; i++) A[i] = uniform(&seed);
    for (int64_t i = 0; i < brows * ldb; i++) B[i] = uniform(&seed);
    for (int64_t i = 0; i < M * ldc; i++) C0[i] = s.beta == 0.0f ? NAN : uniform(&seed);
    memcpy(C, C0, sizeof(float) * (size_t)(M * ldc));
    void *buf = NULL;
    if (how < 2) {
        (how ? tensor_gemm_bf16_serial : tensor_gemm_bf16)(ta, tb, M, N, K, s.alpha, A, lda, B,
                                                           ldb, s.beta, C, ldc);
    } else {
        TensorBf16PackedB pb;
        buf = tensor_aligned_alloc(tensor_bf16_packed_b_bytes(K, N) + 64);
        tensor_bf16_pack_b(&pb, buf, tb, K, N, B, ldb);
        (how == 2 ? tensor_gemm_bf16_packed : tensor_gemm_bf16_packed_serial)(
            ta, M, s.alpha, A, lda, &pb, s.beta, C, ldc);
    }
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < ldc; j++) {
            const float got = C[i * ldc + j];
            if (j >= N) { /* padding columns of C are never touched */
                cr_assert(memcmp(&got, &C0[i * ldc + j], 4) == 0, "C padding written");
                continue;
            }
            double sum = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) {
                const double a = tensor_bf16_round(ta ? A[k * lda + i] : A[i * lda + k]);
                const double b = tensor_bf16_round(tb ? B[j * ldb + k] : B[k * ldb + j]);
                sum += a * b;
                mag += fabs(a * b);
            }
            const double c0 = s.beta == 0.0f ? 0.0 : C0[i * ldc + j];
            const double want = s.alpha * sum + s.beta * c0;
            /* float32 sums of K exact products: at most about K rounding steps of 2^-24
             * of the running magnitude, plus the alpha/beta step. */
            const double tol = (double)(K + 4) * 0x1p-24 * (fabs(s.alpha) * mag + fabs(s.beta * c0)) + 1e-30;
            cr_assert(fabs(got - want) <= tol,
                      "%s: %lldx%lldx%lld ta=%d tb=%d alpha=%g beta=%g how=%d C[%lld,%lld] = %.9g, want %.9g (tol %.3g)",
                      tensor_gemm_bf16_kernel_name(), (long long)M, (long long)N, (long long)K,
                      ta, tb, s.alpha, s.beta, how, (long long)i, (long long)j, got, want, tol);
        }
    tensor_aligned_free(buf);
    free(A);
    free(B);
    free(C);
    free(C0);
}

static void sweep(int how, int threads) {
    require_kernel();
    omp_set_num_threads(threads);
    for (int si = 0; si < NSHAPES; si++)
        for (int t = 0; t < 4; t++)
            for (int c = 0; c < NSCALARS; c++)
                check(SHAPES[si], t & 1, t & 2, SCALARS[c], how, 1000u * si + 10u * t + c);
}

Test(gemm_bf16, threaded_1_thread) { sweep(0, 1); }
Test(gemm_bf16, threaded_2_threads) { sweep(0, 2); }
Test(gemm_bf16, serial) { sweep(1, 2); }
Test(gemm_bf16, packed_2_threads) { sweep(2, 2); }
Test(gemm_bf16, packed_serial) { sweep(3, 1); }

/* Sizes large enough to cross the K slices and row blocks of every kernel, threaded. */
Test(gemm_bf16, blocks) {
    require_kernel();
    omp_set_num_threads(2);
    const Dims big[] = {{530, 100, 1100}, {64, 1000, 530}};
    for (int i = 0; i < 2; i++) {
        check(big[i], false, false, SCALARS[0], 0, 7u + i);
        check(big[i], true, true, SCALARS[2], 2, 9u + i);
    }
}

/* Same inputs, same thread count: the same bits. */
Test(gemm_bf16, reproducible) {
    require_kernel();
    omp_set_num_threads(2);
    enum { M = 100, N = 300, K = 200 };
    static float A[M * K], B[K * N], C1[M * N], C2[M * N];
    uint64_t s = 5;
    for (int i = 0; i < M * K; i++) A[i] = uniform(&s);
    for (int i = 0; i < K * N; i++) B[i] = uniform(&s);
    tensor_gemm_bf16(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N);
    tensor_gemm_bf16(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N);
    cr_assert(memcmp(C1, C2, sizeof C1) == 0);
}

Test(gemm_bf16, kernel_names) {
    const char *name = tensor_gemm_bf16_kernel_name();
    cr_assert(!strcmp(name, "amx") || !strcmp(name, "avx512bf16") || !strcmp(name, "float32"));
    cr_assert(tensor_gemm_bf16_kernel_available(name));
    cr_assert(tensor_gemm_bf16_kernel_available("float32"));
    cr_assert(!tensor_gemm_bf16_kernel_available("nonsense"));
}

/* Exit 77 (ctest's SKIP_RETURN_CODE) when something was skipped and nothing failed:
 * a kernel that did not run is never reported as passed. */
static size_t skipped, failed;

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
    skipped = stats->tests_skipped;
    failed = stats->tests_failed + stats->tests_crashed;
}

int main(int argc, char *argv[]) {
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true)) result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    if (result == 0 && failed == 0 && skipped > 0) return 77;
    return result;
}
