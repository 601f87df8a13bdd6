/* Reductions and the softmax family along one axis, as raw float32 kernels (no
 * gradients, no tape). Every kernel sees a contiguous tensor as an (outer, n, inner)
 * view around the axis: element (o, k, i) sits at x[(o * n + k) * inner + i], and a
 * "row" is the n elements (o, 0..n-1, i). inner == 1 (the last axis) is a fast path.
 * Sums run in double, each row on one thread in an order fixed by the code (SIMD lanes,
 * then k), and work is split over independent rows: results are identical for any
 * thread count (on a given CPU; AVX-512, AVX2 and baseline builds of the loops may
 * differ in the last bits). Pointers must not be NULL unless the count is 0. */
#ifndef TENSOR_REDUCE_H
#define TENSOR_REDUCE_H

#include <stdint.h>

/* Outer/n/inner split of a shape around axis (0 <= axis < ndim, not checked here):
 * outer = prod(shape[0..axis)), n = shape[axis], inner = prod(shape[axis+1..ndim)). */
void tensor_axis_split(int ndim, const int64_t *shape, int axis, int64_t *outer, int64_t *n,
                       int64_t *inner);

/* y[o, i] = scale * sum_k x[o, k, i]: y has outer*inner floats and is overwritten;
 * it must not overlap x. n == 0 writes zeros. */
void tensor_sum_axis(const float *x, float *y, int64_t outer, int64_t n, int64_t inner,
                     float scale);

/* The adjoint of tensor_sum_axis: gx[o, k, i] += scale * g[o, i] for every k. gx has
 * outer*n*inner floats and is added into (not overwritten). */
void tensor_axis_broadcast_add(const float *g, float *gx, int64_t outer, int64_t n, int64_t inner,
                               float scale);

/* Row-wise softmax: y = exp(x - max) / sum(exp(x - max)). Max-subtracted, so finite
 * logits of any size (e.g. +-1e4) give finite outputs. y may equal x (in place). */
void tensor_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner);

/* Row-wise log-softmax: y = x - max - log(sum(exp(x - max))). Stable as above; y may
 * equal x. */
void tensor_log_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner);

/* Row-wise log-sum-exp: lse[o, i] = max + log(sum_k exp(x[o, k, i] - max)), kept in
 * double (outer*inner of them) so x - lse stays accurate even for logits near 1e4.
 * Rows with n == 0 get -INFINITY. */
void tensor_logsumexp(const float *x, double *lse, int64_t outer, int64_t n, int64_t inner);

/* Softmax backward from the saved output y and the upstream gradient g:
 * gx += y * (g - sum_k(g * y)) row-wise. gx is added into. */
void tensor_softmax_backward(const float *y, const float *g, float *gx, int64_t outer, int64_t n,
                             int64_t inner);

/* Log-softmax backward from the saved output y (log-probabilities) and g:
 * gx += g - exp(y) * sum_k(g) row-wise. gx is added into. */
void tensor_log_softmax_backward(const float *y, const float *g, float *gx, int64_t outer,
                                 int64_t n, int64_t inner);

/* out[k] += scale * exp(x[k] - shift) for k < n, with x[k] - shift taken in double and
 * expected <= 0 (shift a row's max or log-sum-exp), on the calling thread: a row
 * building block for fused losses such as softmax cross-entropy's backward. */
void tensor_exp_shift_add(const float *x, double shift, float scale, float *out, int64_t n);

#endif
