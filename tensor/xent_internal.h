/* Row kernels for fused softmax losses, alongside tensor/reduce.h's (implemented in
 * reduce.c with the same vectorised exp). */
#ifndef TENSOR_XENT_H
#define TENSOR_XENT_H

#include <stdint.h>

/* One contiguous row of n >= 1 logits: y[k] = scale * softmax(x)[k], and returns the
 * row's log-sum-exp (max + log of a double sum, as tensor_logsumexp computes it). y may
 * equal x. On the calling thread. */
double tensor_softmax_lse_row(const float *x, float *y, int64_t n, float scale);

#endif
