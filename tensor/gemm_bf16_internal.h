/* Matrix multiply with bfloat16 operands and float32 accumulation, internal to the
 * library. The operands are float32 (master weights stay float32) and are rounded to
 * bf16 (nearest even) while they are packed, so callers never hold bf16 copies; C is
 * float32. Row-major, the same contract as tensor_sgemm (tensor/gemm.h). A kernel is
 * picked at run time: AMX tiles, AVX512-BF16 dot products, or float32 SGEMM on the
 * bf16-rounded operands when the CPU has neither.
 *
 * Results: each element is alpha * sum_k bf16(a_ik) * bf16(b_kj) + beta * c_ij with the
 * products exact and the sum in float32 (AMX and AVX512-BF16 treat bf16 denormal inputs
 * as zero). The summation order depends on the kernel, never on timing. */
#ifndef TENSOR_GEMM_BF16_INTERNAL_H
#define TENSOR_GEMM_BF16_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/bf16_internal.h"

/* C = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T, operands rounded to bf16.
 *   op(A) is M x K: A is M x K (lda >= K) when !trans_a, else K x M (lda >= M).
 *   op(B) is K x N: B is K x N (ldb >= N) when !trans_b, else N x K (ldb >= K).
 *   C is M x N (ldc >= N). beta == 0 overwrites C without reading it. M, N or K may
 *   be 0. Uses all kernel threads when the problem is large enough and the caller is
 *   not already inside a parallel region. */
void tensor_gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                      float *C, int64_t ldc);

/* Same contract, always on the calling thread: for callers that split work themselves. */
void tensor_gemm_bf16_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                             float alpha, const float *A, int64_t lda, const float *B,
                             int64_t ldb, float beta, float *C, int64_t ldc);

/* op(B) rounded to bf16 and packed once, for a right-hand matrix used many times (an
 * RNN's recurrent matrix at every time step): products then read only the packed
 * copy, half the bytes of float32 and in the layout the kernels load. The layout is
 * the same for every kernel: 16-column panels, K padded with zeros to a multiple of 32,
 * rows k and k+1 interleaved per column (the pairs a bf16 dot product consumes). */
typedef struct {
    int64_t K, N;       /* op(B) is K x N */
    int64_t Kp;         /* K rounded up to a multiple of 32 */
    const tensor_bf16 *data; /* panel p (columns 16p..16p+15) at data + p * Kp * 16 */
} TensorBf16PackedB;

/* Bytes of storage tensor_bf16_pack_b needs for a K x N op(B). */
size_t tensor_bf16_packed_b_bytes(int64_t K, int64_t N);

/* Packs op(B) (K x N; B as in tensor_gemm_bf16) into buf (tensor_bf16_packed_b_bytes
 * bytes, 64-byte aligned) and describes it in *pb. B is not needed afterwards. Runs on
 * the calling thread. */
void tensor_bf16_pack_b(TensorBf16PackedB *pb, void *buf, bool trans_b, int64_t K, int64_t N,
                        const float *B, int64_t ldb);

/* C = alpha * op(A) * B + beta * C with B packed by tensor_bf16_pack_b (K and N from
 * it); A and C as in tensor_gemm_bf16. Threads as in tensor_gemm_bf16. */
void tensor_gemm_bf16_packed(bool trans_a, int64_t M, float alpha, const float *A, int64_t lda,
                             const TensorBf16PackedB *pb, float beta, float *C, int64_t ldc);

/* Same, on the calling thread. */
void tensor_gemm_bf16_packed_serial(bool trans_a, int64_t M, float alpha, const float *A,
                                    int64_t lda, const TensorBf16PackedB *pb, float beta,
                                    float *C, int64_t ldc);

/* The kernel in use: "amx", "avx512bf16" or "float32". The environment variable
 * LAMINA_BF16_KERNEL (amx, avx512bf16, float32) asks for a particular one, so tests can
 * cover each on one machine; a kernel the CPU (or the OS, for AMX) lacks is ignored. */
const char *tensor_gemm_bf16_kernel_name(void);

/* Whether the CPU and OS can run the named kernel ("float32" always can). */
bool tensor_gemm_bf16_kernel_available(const char *name);

#endif
