/* Internal to the SGEMM implementation (not part of the public API): the interface
 * between the blocking/packing driver in gemm.c and the register-blocked
 * micro-kernels in gemm_avx512.c and gemm_avx2.c (the portable one is in gemm.c). */
#ifndef TENSOR_GEMM_KERNELS_H
#define TENSOR_GEMM_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/* Computes one MR x NR tile: c(i, j) = alpha * sum_k a(i, k) * b(k, j) + beta * c(i, j)
 * for i < m, j < n (m <= MR, n <= NR); beta == 0 does not read c.
 *   a(i, k) = a[i * rs_a + k * cs_a]. Packed A panels have rs_a = 1, cs_a = MR, with
 *     rows m..MR-1 zero; any other strides mean A is read in place (then m == MR).
 *   b is a packed kc x NR panel (row k at b + k * NR, 64-byte aligned), zero past n.
 * kc >= 1. */
typedef void (*GemmMicroKernel)(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                                const float *b, float *c, int64_t ldc, int m, int n,
                                float alpha, float beta);

/* The same tile with A packed (rs_a = 1, cs_a = MR) and B read where it is: row k of
 * op(B) at b + k * ldb, any alignment, nothing read past column n. */
typedef void (*GemmBInPlaceKernel)(int64_t kc, const float *a, const float *b, int64_t ldb,
                                   float *c, int64_t ldc, int m, int n, float alpha,
                                   float beta);

typedef struct {
    const char *name; /* "avx512", "avx2" or "generic" */
    int mr, nr;       /* register tile of C */
    int kc, mc, nc;   /* largest cache blocks: A block mc x kc, B block kc x nc */
    GemmMicroKernel kernel;
    GemmBInPlaceKernel kernel_b_in_place; /* NULL: B is always packed */
} GemmKernelInfo;

/* Descriptions of the ISA kernels; the caller checks the CPU supports them first. */
extern const GemmKernelInfo gemm_kernel_avx512;
extern const GemmKernelInfo gemm_kernel_avx2;

#endif
