/* Internal to the bf16 GEMM: the interface between the driver in gemm_bf16.c (packing,
 * blocking, threads) and the ISA kernels in gemm_amx.c and gemm_avx512bf16.c. */
#ifndef TENSOR_GEMM_BF16_KERNELS_INTERNAL_H
#define TENSOR_GEMM_BF16_KERNELS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor/bf16_internal.h"

/* Row blocks of packed A are zero-padded to a multiple of this many rows, so a kernel
 * may read whole tiles past m. */
enum { BF16_A_ROW_PAD = 32 };

/* One block of C: c(i, j) = alpha * sum_k a(i, k) * b(k, j) + beta * c(i, j) for
 * i < m, j < n; beta == 0 does not read c.
 *   a: packed A, row i at a + i * lda (bf16), kc columns (kc % 32 == 0, zero past K),
 *      rows m .. round_up(m, BF16_A_ROW_PAD) - 1 zero; lda % 32 == 0, 64-byte aligned.
 *   b: packed B at the block's first k: panel p (columns 16p..) at b + p * panel_stride,
 *      pair q (k = 2q, 2q+1) of column j at b[p * panel_stride + q * 32 + 2 * j + k % 2],
 *      columns past n zero up to the next multiple of 16.
 * kc >= 32, m >= 1, n >= 1. */
typedef void (*Bf16BlockKernel)(int64_t kc, const tensor_bf16 *a, int64_t lda, int m,
                                const tensor_bf16 *b, int64_t panel_stride, int64_t n, float *c,
                                int64_t ldc, float alpha, float beta);

typedef struct {
    const char *name; /* "amx" or "avx512bf16" */
    int kc, mc;       /* largest K slice (multiple of 32) and row block (multiple of 32) */
    Bf16BlockKernel block;
} Bf16KernelInfo;

/* The ISA kernels; the caller checks the CPU (and for AMX the OS) supports them first. */
extern const Bf16KernelInfo tensor__bf16_kernel_amx;
extern const Bf16KernelInfo tensor__bf16_kernel_avx512bf16;

/* Asks Linux for permission to use AMX tile data (once per process); false if the CPU
 * lacks AMX-BF16 or the OS refuses. */
bool tensor__amx_enable(void);

#endif
