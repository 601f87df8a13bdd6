/* PCG32 and the initialisers built on it (see rng.h for the references). */
#include "tensor/rng.h"

#include "tensor/error.h"

#include <math.h>
#include <stdlib.h>

void tensor_rng_seed(Rng *rng, uint64_t seed, uint64_t stream) {
    rng->state = 0;
    rng->inc = (stream << 1u) | 1u;
    tensor_rng_u32(rng);
    rng->state += seed;
    tensor_rng_u32(rng);
}

uint32_t tensor_rng_u32(Rng *rng) {
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ULL + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

/* Brown, "Random number generation with arbitrary strides" (1994): delta LCG steps
 * compose into one affine map, built by squaring. */
void tensor_rng_advance(Rng *rng, uint64_t delta) {
    uint64_t mult = 6364136223846793005ULL, plus = rng->inc, acc_mult = 1, acc_plus = 0;
    for (; delta > 0; delta >>= 1) {
        if (delta & 1u) {
            acc_mult *= mult;
            acc_plus = acc_plus * mult + plus;
        }
        plus = (mult + 1) * plus;
        mult *= mult;
    }
    rng->state = acc_mult * rng->state + acc_plus;
}

uint32_t tensor_rng_below(Rng *rng, uint32_t bound) {
    TENSOR_CHECK(bound > 0, "tensor_rng_below: bound must be positive");
    /* Reject the low values that would make the modulo uneven. */
    uint32_t threshold = (0u - bound) % bound;
    for (;;) {
        uint32_t r = tensor_rng_u32(rng);
        if (r >= threshold) return r % bound;
    }
}

float tensor_rng_uniform(Rng *rng) { return (float)(tensor_rng_u32(rng) >> 8) * (1.0f / 16777216.0f); }

float tensor_rng_normal(Rng *rng) {
    double u1 = ((double)tensor_rng_u32(rng) + 1.0) / 4294967297.0; /* (0, 1): log is finite */
    double u2 = (double)tensor_rng_u32(rng) / 4294967296.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2));
}

void tensor_fill_uniform(float *x, int64_t n, Rng *rng, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * tensor_rng_uniform(rng);
}

void tensor_fill_normal(float *x, int64_t n, Rng *rng, float mean, float std) {
    for (int64_t i = 0; i < n; i++) x[i] = mean + std * tensor_rng_normal(rng);
}

void tensor_fill_glorot_uniform(float *x, int64_t fan_in, int64_t fan_out, Rng *rng) {
    TENSOR_CHECK(fan_in + fan_out > 0, "glorot_uniform: fan_in + fan_out must be positive");
    float limit = (float)sqrt(6.0 / (double)(fan_in + fan_out));
    tensor_fill_uniform(x, fan_in * fan_out, rng, -limit, limit);
}

void tensor_fill_orthogonal(float *x, int64_t rows, int64_t cols, Rng *rng, float gain) {
    TENSOR_CHECK(rows > 0 && cols > 0, "orthogonal: shape (%lld, %lld) must be positive",
                 (long long)rows, (long long)cols);
    /* Work on a tall matrix m x k (m >= k) whose k columns we orthonormalise, then
     * write it out transposed if the requested matrix is wide. */
    int transpose = rows < cols;
    int64_t m = transpose ? cols : rows, k = transpose ? rows : cols;
    double *a = tensor_xmalloc((size_t)(m * k) * sizeof(double)); /* column-major: a[j*m + i] */
    if (transpose) {
        /* Keras draws the rows x cols normal matrix row by row and transposes it. */
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) a[r * m + c] = tensor_rng_normal(rng);
    } else {
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) a[c * m + r] = tensor_rng_normal(rng);
    }
    /* Modified Gram-Schmidt, run twice per column for stability. It yields Q with a
     * positive diag(R), which is exactly the sign convention Keras applies. */
    for (int64_t j = 0; j < k; j++) {
        double *v = a + j * m;
        for (int pass = 0; pass < 2; pass++) {
            for (int64_t p = 0; p < j; p++) {
                const double *q = a + p * m;
                double dot = 0;
                for (int64_t i = 0; i < m; i++) dot += q[i] * v[i];
                for (int64_t i = 0; i < m; i++) v[i] -= dot * q[i];
            }
        }
        double norm = 0;
        for (int64_t i = 0; i < m; i++) norm += v[i] * v[i];
        norm = sqrt(norm);
        if (norm < 1e-12) { /* degenerate draw (probability ~0): fall back to a unit vector */
            for (int64_t i = 0; i < m; i++) v[i] = (i == j) ? 1.0 : 0.0;
            norm = 1.0;
        }
        for (int64_t i = 0; i < m; i++) v[i] /= norm;
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            double q = transpose ? a[r * m + c] : a[c * m + r];
            x[r * cols + c] = (float)(gain * q);
        }
    free(a);
}
