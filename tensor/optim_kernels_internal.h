/* Optimizer updates over flat float arrays as single fused passes: with millions of
 * parameters they are bound by memory bandwidth, so each element is read and written
 * once, with SIMD code chosen for the CPU at run time. */
#ifndef TENSOR_OPTIM_KERNELS_H
#define TENSOR_OPTIM_KERNELS_H

#include <stdint.h>

/* Adam with bias corrections c1 = 1 / (1 - b1^t) and c2 = 1 / sqrt(1 - b2^t), for
 * i < n:  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *         p -= lr (m c1) / (sqrt(v) c2 + eps)
 * rounded exactly as that scalar C (no fused multiply-adds), so every CPU path gives
 * the same bits. Parallel over static blocks of elements. */
void tensor_adam_update(int64_t n, float *p, const float *g, float *m, float *v, float b1,
                        float b2, float lr, float c1, float c2, float eps);
/* The same with sq[i] in place of g^2:  v = b2 v + (1 - b2) sq. For embedding tables
 * under Adam's per-lookup rule, sq holds the per-row sums of the squared gradient rows
 * of each lookup; sq NULL is tensor_adam_update. */
void tensor_adam_update_squares(int64_t n, float *p, const float *g, const float *sq, float *m,
                                float *v, float b1, float b2, float lr, float c1, float c2, float eps);

/* The smallest i < n with x[i] NaN or infinite, or -1 when all are finite. One
 * parallel, vectorised read (the check before an optimizer step, over every gradient). */
int64_t tensor_first_nonfinite(const float *x, int64_t n);

/* x[i] = 0 for i < n, split over the kernel threads (zeroing millions of gradients). */
void tensor_zero_floats(float *x, int64_t n);

#endif
