/* Single-precision matrix multiply, the kernel most of the run time goes to.
 * Row-major throughout (numpy order). The built-in implementation packs panels of
 * A and B and runs register-blocked micro-kernels chosen at run time for the CPU
 * (AVX-512, AVX2+FMA, or portable C); an optional BLAS backend (CMake option
 * LAMINA_BLAS) can replace it, but the built-in one is the default and the one the
 * tests exercise. */
#ifndef TENSOR_GEMM_H
#define TENSOR_GEMM_H

#include <stdbool.h>
#include <stdint.h>

/* C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T.
 *   op(A) is M x K: A is M x K (lda >= K) when !trans_a, else K x M (lda >= M).
 *   op(B) is K x N: B is K x N (ldb >= N) when !trans_b, else N x K (ldb >= K).
 *   C is M x N (ldc >= N). beta == 0 overwrites C without reading it (NaNs in C are
 *   not propagated). M, N or K may be 0. Uses all kernel threads when the problem is
 *   large enough and the caller is not already inside a parallel region. */
void tensor_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc);

/* Same contract, always on the calling thread: for callers that split work across
 * threads themselves (for example one block of gate columns per thread). */
void tensor_sgemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         float *C, int64_t ldc);

/* C = op(A) * op(B) + bias, bias (N floats) added to every row of C: a fully
 * connected layer's forward in one pass over C. The bias goes into each tile of C
 * right before the first K slice accumulates onto it, while the tile is in cache,
 * so it costs no pass of its own. Threads as in tensor_sgemm. */
void tensor_sgemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                       const float *A, int64_t lda, const float *B, int64_t ldb,
                       const float *bias, float *C, int64_t ldc);

/* Name of the micro-kernel selected for this CPU: "avx512", "avx2", "generic" or "blas". */
const char *tensor_sgemm_kernel_name(void);

#endif
