/* A small, documented, seeded random number generator and the weight initialisers
 * built on it. The generator is PCG32 (O'Neill, "PCG: A Family of Simple Fast
 * Space-Efficient Statistically Good Algorithms for Random Number Generation",
 * 2014: XSH-RR output on a 64-bit LCG), so a seed and a stream id give the same
 * sequence on every machine. */
#ifndef TENSOR_RNG_H
#define TENSOR_RNG_H

#include <lamina/tensor/tensor.h>

#include <stdint.h>

typedef struct Rng {
    uint64_t state;
    uint64_t inc; /* stream selector, always odd */
} Rng;

/* Seeds the generator; different streams with the same seed are independent. */
void tensor_rng_seed(Rng *rng, uint64_t seed, uint64_t stream);

/* Next 32 random bits. */
uint32_t tensor_rng_u32(Rng *rng);

/* Moves the generator delta draws ahead in O(log delta): the state after delta calls
 * of tensor_rng_u32. tensor_rng_uniform takes one draw, tensor_rng_normal two. */
void tensor_rng_advance(Rng *rng, uint64_t delta);

/* Uniform integer in [0, bound) without modulo bias; bound must be > 0. */
uint32_t tensor_rng_below(Rng *rng, uint32_t bound);

/* Uniform float in [0, 1) with 24 random bits. */
float tensor_rng_uniform(Rng *rng);

/* Standard normal (Box-Muller, double precision internally). */
float tensor_rng_normal(Rng *rng);

/* ---- initialisers: fill n floats (or a whole float32 tensor) ---- */

/* Uniform in [lo, hi). */
void tensor_fill_uniform(float *x, int64_t n, Rng *rng, float lo, float hi);
/* Normal with the given mean and standard deviation. */
void tensor_fill_normal(float *x, int64_t n, Rng *rng, float mean, float std);
/* Glorot (Xavier) uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), as Keras,
 * over a (fan_in, fan_out) matrix: fan_in * fan_out values. For other shapes (where the
 * fans include a receptive field) draw tensor_fill_uniform over the tensor's own size. */
void tensor_fill_glorot_uniform(float *x, int64_t fan_in, int64_t fan_out, Rng *rng);
/* Orthogonal rows x cols matrix as Keras's Orthogonal(gain): the Q of a QR
 * factorisation of a normal matrix (of its transpose when rows < cols), with the
 * signs fixed by diag(R) so the result is unique; orthonormal rows or columns,
 * whichever is fewer, scaled by gain. */
void tensor_fill_orthogonal(float *x, int64_t rows, int64_t cols, Rng *rng, float gain);

#endif
