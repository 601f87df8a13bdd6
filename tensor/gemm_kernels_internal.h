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
extern const GemmKernelInfo tensor__gemm_kernel_avx512;
extern const GemmKernelInfo tensor__gemm_kernel_avx2;

/* The row tiles of an mc-row block (mc <= GEMM_MAX_ROW_TILES * mr): mr rows each,
 * except that a short last tile (under 2/3 of mr, which the narrower kernels run at a
 * fraction of the speed) shares rows with the one before it: 64 rows as 4 x 12 + 8 + 8
 * rather than 5 x 12 + 4 (4% faster for an LSTM's 64-row steps). Tile t starts at row
 * r0[t] and has h[t] rows; returns the number of tiles. A row's result does not depend
 * on the tile it falls in. */
enum { GEMM_MAX_ROW_TILES = 64 };

static inline int64_t gemm_row_tiles(int64_t mc, int mr, int64_t *r0, int *h) {
    const int64_t tiles = (mc + mr - 1) / mr, rem = mc % mr;
    for (int64_t t = 0; t < tiles; t++) {
        r0[t] = t * mr;
        h[t] = (int)(mc - t * mr < mr ? mc - t * mr : mr);
    }
    if (tiles >= 2 && rem > 0 && 3 * rem < 2 * mr) {
        const int64_t pair = mr + rem, first = (pair + 1) / 2;
        h[tiles - 2] = (int)first;
        r0[tiles - 1] = r0[tiles - 2] + first;
        h[tiles - 1] = (int)(pair - first);
    }
    return tiles;
}

#endif
