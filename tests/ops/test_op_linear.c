/* linear: values against a naive double reference and against the composed
 * matmul + add it replaces (forward and every gradient), the finite-difference
 * checker with and without bias and for 1-D to 4-D x, tensor_sgemm_bias against
 * tensor_sgemm plus a bias on every micro-kernel and on shapes with partial tiles and
 * several K slices, and bad shapes stopping. */
#include "helpers.h"

#include "tensor/gemm.h"

#include <omp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static Tensor *linear_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_linear(tape, in[0], in[1], in[2]);
}

static Tensor *linear_no_bias_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_linear(tape, in[0], in[1], NULL);
}

Test(op_linear, values_by_hand) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    Tensor *k = tensor_from_array(NULL, TENSOR_SHAPE(3, 2), (float[]){7, 8, 9, 10, 11, 12});
    Tensor *b = tensor_from_array(NULL, TENSOR_SHAPE(2), (float[]){0.5f, -1});
    Tensor *y = ag_linear(tape, x, k, b);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 2);
    float e[] = {58.5f, 63, 139.5f, 153};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(tensor_f32(y)[i], e[i], 1e-4);
    Tensor *y0 = ag_linear(tape, x, k, NULL);
    float e0[] = {58, 64, 139, 154};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(tensor_f32(y0)[i], e0[i], 1e-4);
    tensor_free(x);
    tensor_free(k);
    tensor_free(b);
    ag_tape_free(tape);
}

/* x shapes from 1-D to 4-D; D and U sized so GEMM tiles are partial. */
static const int64_t X_SHAPES[][4] = {{3}, {4, 3}, {2, 5, 3}, {2, 2, 3, 3}};
static const int X_NDIM[] = {1, 2, 3, 4};

Test(op_linear, gradcheck_with_and_without_bias) {
    Rng rng;
    tensor_rng_seed(&rng, 91, 0);
    for (int s = 0; s < 4; s++) {
        const int nd = X_NDIM[s];
        Tensor *in[3];
        in[0] = test_random(&rng, -1, 1, nd, X_SHAPES[s]);
        in[1] = test_random(&rng, -1, 1, TENSOR_SHAPE(3, 5));
        in[2] = test_random(&rng, -1, 1, TENSOR_SHAPE(5));
        ASSERT_GRADCHECK(linear_fn, 3, in, NULL);
        ASSERT_GRADCHECK(linear_no_bias_fn, 2, in, NULL);
        in[0]->requires_grad = false; /* parameters only, as after an Embedding */
        ASSERT_GRADCHECK(linear_fn, 3, in, NULL);
        for (int i = 0; i < 3; i++) tensor_free(in[i]);
    }
}

/* The op against ag_add(ag_matmul(x, kernel), bias): outputs and all three gradients,
 * accumulated over two backward passes. */
static void check_against_composed(int64_t B, int64_t T, int64_t D, int64_t U) {
    Rng rng;
    tensor_rng_seed(&rng, 92, 0);
    omp_set_num_threads(2);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(B, T, D));
    Tensor *k = test_random(&rng, -1, 1, TENSOR_SHAPE(D, U));
    Tensor *b = test_random(&rng, -1, 1, TENSOR_SHAPE(U));
    float *G = malloc(sizeof(float) * (size_t)(B * T * U));
    tensor_fill_uniform(G, B * T * U, &rng, -1, 1);
    float *grads[2][3];
    float *outs[2];
    for (int path = 0; path < 2; path++) {
        Tape *tape = ag_tape_new();
        Tensor *y = path == 0 ? ag_linear(tape, x, k, b) : ag_add(tape, ag_matmul(tape, x, k), b);
        cr_assert_eq(y->ndim, 3);
        cr_assert_eq(y->shape[2], U);
        outs[path] = malloc(sizeof(float) * (size_t)y->size);
        memcpy(outs[path], y->data, sizeof(float) * (size_t)y->size);
        ag_backward_with(tape, y, G);
        ag_backward_with(tape, y, G);
        Tensor *ts[3] = {x, k, b};
        for (int i = 0; i < 3; i++) {
            grads[path][i] = malloc(sizeof(float) * (size_t)ts[i]->size);
            memcpy(grads[path][i], ts[i]->grad, sizeof(float) * (size_t)ts[i]->size);
            tensor_zero_grad(ts[i]);
        }
        ag_tape_free(tape);
    }
    ASSERT_CLOSE_ARRAY(outs[0], outs[1], B * T * U, 1e-5, 1e-5);
    /* dx is the same GEMM call; the kernel and bias gradients are sums over B*T rows
     * whose order (and, for the bias, precision) may differ between the paths. */
    ASSERT_CLOSE_ARRAY(grads[0][0], grads[1][0], x->size, 1e-6, 1e-6);
    ASSERT_CLOSE_ARRAY(grads[0][1], grads[1][1], k->size, 1e-4, 1e-4);
    ASSERT_CLOSE_ARRAY(grads[0][2], grads[1][2], b->size, 1e-4, 1e-4);
    /* And the gradients are not trivially zero. */
    double norm = 0;
    for (int64_t i = 0; i < U; i++) norm += fabs(grads[0][2][i]);
    cr_assert_gt(norm, 1.0);
    for (int p = 0; p < 2; p++) {
        free(outs[p]);
        for (int i = 0; i < 3; i++) free(grads[p][i]);
    }
    free(G);
    tensor_free(x);
    tensor_free(k);
    tensor_free(b);
}

/* Big enough for the threaded GEMM, several K slices and partial tiles. */
Test(op_linear, matches_composed_matmul_add) { check_against_composed(7, 13, 300, 83); }

/* Many rows into a wide output from a narrow input (a softmax layer over a large
 * vocabulary): the bias gradient then comes out of the kernel gradient's GEMM. */
Test(op_linear, matches_composed_when_the_bias_grad_rides_on_the_gemm) {
    check_against_composed(20, 21, 5, 300);
}

/* tensor_sgemm_bias == tensor_sgemm onto rows of bias, over transposes and shapes with
 * partial tiles (M, N not multiples of any MR or NR), K = 0, one K slice and several,
 * threaded (split by columns and by rows) and not. */
static void sweep_bias(void) {
    static const int64_t shapes[][3] = {{1, 1, 1},   {5, 7, 3},     {13, 33, 17},
                                        {64, 27, 256}, {300, 40, 700}, {37, 530, 129},
                                        {9, 17, 0}};
    Rng rng;
    tensor_rng_seed(&rng, 93, 0);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int f = 0; f < 4; f++) {
            const bool ta = f & 1, tb = f >> 1;
            const int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            const int64_t lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
            float *A = malloc(sizeof(float) * (size_t)((ta ? K : M) * lda + 1));
            float *B = malloc(sizeof(float) * (size_t)((tb ? N : K) * ldb + 1));
            float *bias = malloc(sizeof(float) * (size_t)N);
            float *C1 = malloc(sizeof(float) * (size_t)(M * ldc));
            float *C2 = malloc(sizeof(float) * (size_t)(M * ldc));
            tensor_fill_uniform(A, (ta ? K : M) * lda + 1, &rng, -1, 1);
            tensor_fill_uniform(B, (tb ? N : K) * ldb + 1, &rng, -1, 1);
            tensor_fill_uniform(bias, N, &rng, -1, 1);
            /* NaNs where C has no elements (ldc padding) must stay untouched, and
             * NaNs in C itself must not leak: beta is 0. */
            for (int64_t i = 0; i < M * ldc; i++) C1[i] = C2[i] = NAN;
            for (int64_t i = 0; i < M; i++)
                memcpy(C2 + i * ldc, bias, sizeof(float) * (size_t)N);
            tensor_sgemm_bias(ta, tb, M, N, K, A, lda, B, ldb, bias, C1, ldc);
            tensor_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, C2, ldc);
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < ldc; j++) {
                    const float a = C1[i * ldc + j], e = C2[i * ldc + j];
                    if (j >= N) {
                        cr_assert(isnan(a), "padding at (%lld, %lld) was written", (long long)i,
                                  (long long)j);
                        continue;
                    }
                    cr_assert(fabsf(a - e) <= 1e-5f + 1e-5f * fabsf(e),
                              "%lldx%lldx%lld ta=%d tb=%d at (%lld, %lld): %g vs %g",
                              (long long)M, (long long)N, (long long)K, ta, tb, (long long)i,
                              (long long)j, a, e);
                }
            free(A);
            free(B);
            free(bias);
            free(C1);
            free(C2);
        }
}

static void sweep_kernel(const char *name) {
    setenv("LAMINA_GEMM_KERNEL", name, 1);
    if (strcmp(tensor_sgemm_kernel_name(), name) != 0)
        cr_skip_test("kernel %s not available here (got %s)", name, tensor_sgemm_kernel_name());
    omp_set_num_threads(2);
    sweep_bias();
    omp_set_num_threads(1);
    sweep_bias();
}

Test(op_linear, sgemm_bias_avx512) { sweep_kernel("avx512"); }
Test(op_linear, sgemm_bias_avx2) { sweep_kernel("avx2"); }
Test(op_linear, sgemm_bias_generic) { sweep_kernel("generic"); }

Test(op_linear, inner_mismatch_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *k = tensor_zeros(NULL, TENSOR_SHAPE(4, 5));
    ag_linear(tape, x, k, NULL);
}

Test(op_linear, bias_of_wrong_length_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *k = tensor_zeros(NULL, TENSOR_SHAPE(3, 5));
    Tensor *b = tensor_zeros(NULL, TENSOR_SHAPE(4));
    ag_linear(tape, x, k, b);
}

Test(op_linear, kernel_not_2d_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *k = tensor_zeros(NULL, TENSOR_SHAPE(1, 3, 5));
    ag_linear(tape, x, k, NULL);
}
