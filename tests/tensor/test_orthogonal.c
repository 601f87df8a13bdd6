/* The orthogonal initialiser's threaded CholeskyQR2 path against the serial
 * Gram-Schmidt reference: the same generator use, the same floats, orthonormal to 1e-5
 * and distributed as the Q of a normal matrix (entries of mean 0, variance 1/len). */
#include "helpers.h"
#include "tensor/orthogonal_internal.h"

#include <math.h>
#include <stdlib.h>

/* max |Q^T Q - I| over the k orthonormal rows (wide) or columns (tall). */
static double orthogonality_error(const float *q, int64_t rows, int64_t cols) {
    int wide = rows < cols;
    int64_t k = wide ? rows : cols, len = wide ? cols : rows;
    double worst = 0;
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = a; b < k; b++) {
            double dot = 0;
            for (int64_t i = 0; i < len; i++)
                dot += (double)(wide ? q[a * cols + i] : q[i * cols + a]) *
                       (double)(wide ? q[b * cols + i] : q[i * cols + b]);
            double e = fabs(dot - (a == b ? 1.0 : 0.0));
            if (e > worst) worst = e;
        }
    return worst;
}

static void compare_with_reference(int64_t rows, int64_t cols, uint64_t seed) {
    int64_t n = rows * cols;
    float *fast = malloc((size_t)n * sizeof *fast), *ref = malloc((size_t)n * sizeof *ref);
    Rng a, b;
    tensor_rng_seed(&a, seed, 0);
    tensor_rng_seed(&b, seed, 0);
    tensor__fill_orthogonal_fast(fast, rows, cols, &a, 1.0f);
    tensor_fill_orthogonal(ref, rows, cols, &b, 1.0f);
    cr_assert(a.state == b.state && a.inc == b.inc, "both take the same draws");
    int64_t differ = 0;
    double worst = 0, mean = 0, var = 0;
    for (int64_t i = 0; i < n; i++) {
        differ += fast[i] != ref[i];
        double d = fabs((double)fast[i] - (double)ref[i]);
        if (d > worst) worst = d;
        mean += fast[i];
    }
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++) var += (fast[i] - mean) * (fast[i] - mean);
    var /= (double)n;
    /* Both are Q to double rounding: the floats agree but for a rare last-bit tie. */
    cr_assert(worst < 1e-7, "%lld x %lld: largest difference %g", (long long)rows, (long long)cols, worst);
    cr_assert(differ <= n / 10000, "%lld of %lld floats differ", (long long)differ, (long long)n);
    double err = orthogonality_error(fast, rows, cols);
    cr_assert(err < 1e-5, "max |Q^T Q - I| = %g", err);
    /* Unit rows (or columns) of length len: entries of variance 1/len, mean ~0. */
    double len = (double)(rows < cols ? cols : rows);
    cr_assert(fabs(var * len - 1.0) < 0.05, "variance %g, expected %g", var, 1.0 / len);
    cr_assert(fabs(mean) < 5.0 / sqrt((double)n * len), "mean %g", mean);
    free(fast);
    free(ref);
}

Test(orthogonal, wide_lstm_kernel_matches_reference) { compare_with_reference(300, 1200, 3); }

Test(orthogonal, tall_matches_reference) { compare_with_reference(1500, 300, 4); }

Test(orthogonal, square_matches_reference) { compare_with_reference(480, 480, 5); }

Test(orthogonal, small_takes_the_reference_path) { compare_with_reference(64, 256, 6); }

Test(orthogonal, gain_scales) {
    Rng a, b;
    tensor_rng_seed(&a, 9, 0);
    tensor_rng_seed(&b, 9, 0);
    float *x = malloc(300 * 1200 * sizeof *x), *y = malloc(300 * 1200 * sizeof *y);
    tensor__fill_orthogonal_fast(x, 300, 1200, &a, 1.0f);
    tensor__fill_orthogonal_fast(y, 300, 1200, &b, 2.0f);
    for (int i = 0; i < 300 * 1200; i++) cr_assert(fabsf(y[i] - 2.0f * x[i]) <= 1e-6f * fabsf(y[i]) + 1e-12f);
    free(x);
    free(y);
}
