/* Picking the next token from a model's output distribution, for generation. */
#ifndef NN_SAMPLE_H
#define NN_SAMPLE_H

#include <lamina/tensor/rng.h>

#include <stdint.h>

/* Index of the largest of n probabilities (or logits); the first on ties. */
int64_t nn_sample_argmax(const float *p, int64_t n);

/* Draws from probabilities p (n entries, summing to ~1) sharpened by temperature:
 * p_i^(1/T), renormalised. T -> 0 approaches argmax; T = 1 samples p as is. When
 * top_k > 0, only the k most likely entries can be drawn. Returns the index drawn;
 * stops with a message if n < 1, rng is NULL, T is not positive and finite, or
 * top_k < 0. */
int64_t nn_sample(const float *p, int64_t n, float temperature, int64_t top_k, Rng *rng);

#endif
