/* PCG32 reproducibility and the initialisers' statistics and shapes. */
#include "helpers.h"

#include <math.h>
#include <stdlib.h>

Test(rng, pcg32_reference_sequence) {
    /* First outputs of the reference pcg32 demo (seed 42, stream 54). */
    Rng r;
    tensor_rng_seed(&r, 42u, 54u);
    uint32_t expected[] = {0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e};
    for (int i = 0; i < 6; i++) cr_assert_eq(tensor_rng_u32(&r), expected[i], "output %d", i);
}

Test(rng, same_seed_same_numbers_other_seed_other_numbers) {
    Rng a, b, c;
    tensor_rng_seed(&a, 7, 0);
    tensor_rng_seed(&b, 7, 0);
    tensor_rng_seed(&c, 8, 0);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = tensor_rng_u32(&a);
        cr_assert_eq(x, tensor_rng_u32(&b));
        differ += x != tensor_rng_u32(&c);
    }
    cr_assert_gt(differ, 90);
}

Test(rng, advance_equals_that_many_draws) {
    const uint64_t deltas[] = {0, 1, 2, 3, 63, 64, 1000, 123457};
    for (size_t k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
        Rng stepped, jumped;
        tensor_rng_seed(&stepped, 9, 3);
        jumped = stepped;
        for (uint64_t i = 0; i < deltas[k]; i++) tensor_rng_u32(&stepped);
        tensor_rng_advance(&jumped, deltas[k]);
        cr_assert_eq(jumped.state, stepped.state, "advance by %llu", (unsigned long long)deltas[k]);
        cr_assert_eq(tensor_rng_u32(&jumped), tensor_rng_u32(&stepped));
    }
}

Test(rng, uniform_and_below_ranges) {
    Rng r;
    tensor_rng_seed(&r, 1, 1);
    int counts[7] = {0};
    double sum = 0;
    for (int i = 0; i < 70000; i++) {
        float u = tensor_rng_uniform(&r);
        cr_assert(u >= 0.0f && u < 1.0f);
        sum += u;
        uint32_t k = tensor_rng_below(&r, 7);
        cr_assert_lt(k, 7u);
        counts[k]++;
    }
    cr_assert_float_eq(sum / 70000, 0.5, 0.01);
    for (int k = 0; k < 7; k++) cr_assert(abs(counts[k] - 10000) < 500, "bucket %d: %d", k, counts[k]);
}

Test(rng, normal_moments) {
    Rng r;
    tensor_rng_seed(&r, 3, 0);
    float *x = malloc(100000 * sizeof(float));
    tensor_fill_normal(x, 100000, &r, 2.0f, 0.5f);
    double m = 0, v = 0;
    for (int i = 0; i < 100000; i++) m += x[i];
    m /= 100000;
    for (int i = 0; i < 100000; i++) v += (x[i] - m) * (x[i] - m);
    v /= 100000;
    cr_assert_float_eq(m, 2.0, 0.01);
    cr_assert_float_eq(sqrt(v), 0.5, 0.01);
    free(x);
}

Test(rng, glorot_uniform_limits) {
    Rng r;
    tensor_rng_seed(&r, 4, 0);
    float w[64 * 256];
    tensor_fill_glorot_uniform(w, 64, 256, &r);
    float limit = sqrtf(6.0f / (64 + 256)), lo = 1, hi = -1;
    for (int i = 0; i < 64 * 256; i++) {
        cr_assert(fabsf(w[i]) <= limit);
        lo = fminf(lo, w[i]);
        hi = fmaxf(hi, w[i]);
    }
    cr_assert_gt(hi, 0.95f * limit, "the draws cover the interval");
    cr_assert_lt(lo, -0.95f * limit);
}

/* Checks rows x cols has orthonormal rows (wide) or columns (tall). */
static void assert_orthonormal(const float *q, int rows, int cols, float gain) {
    int wide = rows < cols;
    int k = wide ? rows : cols, len = wide ? cols : rows;
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) {
            double dot = 0;
            for (int i = 0; i < len; i++) {
                double x = wide ? q[a * cols + i] : q[i * cols + a];
                double y = wide ? q[b * cols + i] : q[i * cols + b];
                dot += x * y;
            }
            double expect = a == b ? (double)gain * gain : 0.0;
            cr_assert(fabs(dot - expect) < 1e-4, "(%d,%d) dot %g", a, b, dot);
        }
}

Test(rng, orthogonal_square_wide_and_tall) {
    Rng r;
    tensor_rng_seed(&r, 5, 0);
    float *q = malloc(64 * 256 * sizeof(float));
    tensor_fill_orthogonal(q, 64, 256, &r, 1.0f); /* an LSTM recurrent kernel H x 4H */
    assert_orthonormal(q, 64, 256, 1.0f);
    tensor_fill_orthogonal(q, 32, 32, &r, 1.0f);
    assert_orthonormal(q, 32, 32, 1.0f);
    tensor_fill_orthogonal(q, 100, 20, &r, 2.0f);
    assert_orthonormal(q, 100, 20, 2.0f);
    free(q);
}
