/* Picking the next token from a model's output distribution, for generation: argmax,
 * and sampling with temperature, top-k and top-p (nucleus). Beam search is in beam.h. */
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

typedef struct NnSampleOpts {
    float temperature; /* > 0 and finite; 0 (default) means 1 */
    int64_t top_k;     /* only the k most likely can be drawn; 0 (default): all */
    /* Nucleus sampling (Holtzman et al. 2019; Hugging Face's top_p): only the smallest
     * set of most likely entries whose probability, after temperature and top_k and
     * renormalised, reaches top_p can be drawn (ties at the cut: the lower index).
     * In (0, 1]; 0 (default) or 1: off. As top_p -> 0 only the argmax is left. */
    float top_p;
} NnSampleOpts;

/* nn_sample with options: temperature, then top_k, then top_p, as Hugging Face's
 * generate applies them. The same rules for undrawable entries and the same two
 * 32-bit draws per call; without top_p it draws exactly what nn_sample draws. Stops
 * with a message if n < 1, rng or opts is NULL, temperature is negative or not finite,
 * top_k < 0 or top_p is outside [0, 1].
 *   nn_sample_with(p, n, &rng, .temperature = 0.8f, .top_p = 0.9f) */
int64_t nn_sample_opts(const float *p, int64_t n, const NnSampleOpts *opts, Rng *rng);
#define nn_sample_with(p, n, rng, ...) nn_sample_opts((p), (n), &(NnSampleOpts){__VA_ARGS__}, (rng))

#endif
