/* NumPy broadcasting for element-wise binary float32 kernels (no gradients, no tape).
 * Shapes are aligned from the right; a missing dim counts as 1 and a dim of 1
 * stretches to match the other side (so (2, 1, 4) and (3, 1) give (2, 3, 4), and a
 * 0-d scalar goes with anything). A dim of 0 pairs only with 0 or 1. Up to
 * TENSOR_MAX_DIMS dims. All arrays are contiguous, row-major. */
#ifndef TENSOR_BROADCAST_H
#define TENSOR_BROADCAST_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TENSOR_BINARY_ADD = 0, /* a + b */
    TENSOR_BINARY_SUB = 1, /* a - b */
    TENSOR_BINARY_MUL = 2, /* a * b */
    TENSOR_BINARY_DIV = 3, /* a / b */
    TENSOR_BINARY_COUNT,   /* how many there are (not an op) */
} TensorBinaryOp;

/* Broadcast shape of a and b: returns 0 and writes the rank to *out_ndim and the dims
 * to out_shape (room for TENSOR_MAX_DIMS), or returns -1 (out untouched) when some
 * aligned pair of dims differs and neither is 1. Ranks must be in 0..TENSOR_MAX_DIMS. */
int tensor_broadcast_shape(int a_ndim, const int64_t *a_shape, int b_ndim, const int64_t *b_shape,
                           int *out_ndim, int64_t *out_shape);

/* Whether x broadcasts to exactly the shape y (x_ndim <= y_ndim and every aligned dim
 * of x equals y's or is 1), i.e. whether y is the broadcast shape of x and y. */
bool tensor_broadcasts_to(int x_ndim, const int64_t *x_shape, int y_ndim, const int64_t *y_shape);

/* y = a op b element-wise over the broadcast shape of a and b (y holds that many
 * floats); with accumulate, y += a op b instead. Fast paths: same shape, one side a
 * single element, one side stretched along leading dims (bias add) or trailing dims;
 * anything else takes a general strided path. Parallel above
 * TENSOR_PARALLEL_THRESHOLD output elements; each output is written by one thread.
 * y may be the same array as a (or b) when that operand has the broadcast shape;
 * otherwise y must not overlap a or b. Stops with a message if the shapes cannot
 * broadcast. */
void tensor_binary_broadcast(TensorBinaryOp op, const float *a, int a_ndim, const int64_t *a_shape,
                             const float *b, int b_ndim, const int64_t *b_shape, float *y,
                             bool accumulate);

/* The adjoint of broadcasting x's shape to g's: gx += scale * (g summed over every dim
 * where x, aligned from the right, is 1 or missing and g is not). gx has x's shape and
 * is added into, never overwritten; it must not overlap g. Sums run in double in a
 * fixed order and work is split over elements of gx (never over the summed index), so
 * the result does not depend on the thread count. Stops with a message unless x
 * broadcasts to g's shape (tensor_broadcasts_to). */
void tensor_reduce_to_shape_add(const float *g, int g_ndim, const int64_t *g_shape, float *gx,
                                int x_ndim, const int64_t *x_shape, float scale);

#endif
