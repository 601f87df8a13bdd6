/* Data-movement kernels for contiguous float32 tensors (no gradients, no tape): an
 * axis permutation (transpose) and a strided row copy, the building block of slice,
 * concat, stack and split. Both can overwrite or add into the destination, so the
 * same kernel serves an op's forward (y = ...) and its backward (gx += ...). Work is
 * split over independent destination elements, so results never depend on the
 * thread count; both go parallel above TENSOR_PARALLEL_THRESHOLD elements. */
#ifndef TENSOR_PERMUTE_H
#define TENSOR_PERMUTE_H

#include <stdbool.h>
#include <stdint.h>

/* y = x with its axes permuted (y[i0, .., in-1] = x at input index j where
 * j[perm[k]] = i[k]), so y's shape is shape[perm[0]], .., shape[perm[ndim-1]].
 * x has shape (ndim dims, 0..8) and perm must be a permutation of 0..ndim-1 (not
 * checked here: callers validate). y is overwritten, or added into when accumulate.
 * x and y must not overlap. Size-1 and adjacent kept-together axes are merged first,
 * so an identity permutation is a flat copy and a batched transpose runs as tiled
 * 2-D transposes. */
void tensor_permute(const float *x, float *y, int ndim, const int64_t *shape, const int *perm,
                    bool accumulate);

/* For r in 0..rows: dst[r * dst_stride + 0..len) = (or +=, when accumulate)
 * src[r * src_stride + 0..len). Strides are in floats and may be smaller than len
 * only when rows <= 1. src and dst must not overlap. */
void tensor_copy_rows(const float *src, int64_t src_stride, float *dst, int64_t dst_stride,
                      int64_t rows, int64_t len, bool accumulate);

#endif
