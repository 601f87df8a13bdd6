/* Sampling: argmax ties and NaNs; empirical frequencies against p and against the
 * temperature-sharpened p^(1/T); tiny T and top_k = 1 give the argmax; top_k renormalises
 * over the k most likely; zero/negative entries are never drawn; same seed, same draws;
 * top-p: p -> 0 is the argmax, p = 1 is plain sampling (same draws, chi-square), the
 * smallest nucleus is kept, after temperature and top-k. */
#include "helpers.h"
#include "nn/model/sample.h"

#include <math.h>
#include <signal.h>

#define DRAWS 200000

/* Draws DRAWS samples and checks each frequency within tol of want. */
static void check_freq(const float *p, int64_t n, float t, int64_t k, const double *want, double tol,
                       uint64_t seed) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    int64_t counts[16] = {0};
    for (int d = 0; d < DRAWS; d++) {
        int64_t i = nn_sample(p, n, t, k, &rng);
        cr_assert(i >= 0 && i < n, "index %lld out of range", (long long)i);
        counts[i]++;
    }
    for (int64_t i = 0; i < n; i++) {
        double f = (double)counts[i] / DRAWS;
        cr_assert(fabs(f - want[i]) <= tol, "T=%g k=%lld entry %lld: frequency %.4f, expected %.4f",
                  (double)t, (long long)k, (long long)i, f, want[i]);
    }
}

Test(sample, argmax_first_on_ties_and_skips_nan) {
    cr_assert_eq(nn_sample_argmax((float[]){0.1f, 0.7f, 0.2f}, 3), 1);
    cr_assert_eq(nn_sample_argmax((float[]){0.4f, 0.2f, 0.4f}, 3), 0);
    cr_assert_eq(nn_sample_argmax((float[]){-5.0f, -1.0f, -3.0f}, 3), 1, "works on logits");
    cr_assert_eq(nn_sample_argmax((float[]){NAN, 0.2f, 0.3f}, 3), 2);
    cr_assert_eq(nn_sample_argmax((float[]){NAN, NAN}, 2), 0);
    cr_assert_eq(nn_sample_argmax((float[]){0.5f}, 1), 0);
}

Test(sample, frequencies_match_p_at_temperature_one) {
    float p[] = {0.1f, 0.2f, 0.3f, 0.4f};
    double want[] = {0.1, 0.2, 0.3, 0.4};
    check_freq(p, 4, 1.0f, 0, want, 0.01, 1);
    /* p need not sum to 1: it is renormalised. */
    float q[] = {1.0f, 2.0f, 3.0f, 4.0f};
    check_freq(q, 4, 1.0f, 0, want, 0.01, 2);
}

Test(sample, temperature_sharpens_and_flattens) {
    float p[] = {0.2f, 0.3f, 0.5f};
    double sharp[3], flat[3], ss = 0, sf = 0;
    for (int i = 0; i < 3; i++) {
        sharp[i] = pow(p[i], 1 / 0.5), ss += sharp[i];
        flat[i] = pow(p[i], 1 / 2.0), sf += flat[i];
    }
    for (int i = 0; i < 3; i++) sharp[i] /= ss, flat[i] /= sf;
    check_freq(p, 3, 0.5f, 0, sharp, 0.01, 3); /* {0.105, 0.237, 0.658} */
    check_freq(p, 3, 2.0f, 0, flat, 0.01, 4);
}

Test(sample, tiny_temperature_is_argmax) {
    float p[] = {0.2f, 0.45f, 0.35f};
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    int hits = 0;
    for (int d = 0; d < 10000; d++) hits += nn_sample(p, 3, 0.01f, 0, &rng) == 1;
    cr_assert_geq(hits, 9990, "T=0.01 picked the argmax %d times out of 10000", hits);
    /* Far below what p^(1/T) could represent directly: still finite, still the argmax. */
    float q[] = {1e-30f, 0.3f, 0.7f, 1e-38f};
    for (int d = 0; d < 1000; d++) cr_assert_eq(nn_sample(q, 4, 1e-30f, 0, &rng), 2);
}

Test(sample, top_k) {
    float p[] = {0.1f, 0.4f, 0.2f, 0.3f};
    Rng rng;
    tensor_rng_seed(&rng, 6, 0);
    for (int d = 0; d < 5000; d++)
        cr_assert_eq(nn_sample(p, 4, 5.0f, 1, &rng), 1, "top_k = 1 is the argmax at any T");
    double want[] = {0.0, 0.4 / 0.7, 0.0, 0.3 / 0.7};
    check_freq(p, 4, 1.0f, 2, want, 0.01, 7);
    /* Ties at the cut go to the lower index. */
    float tie[] = {0.25f, 0.25f, 0.25f, 0.25f};
    for (int d = 0; d < 1000; d++) cr_assert_lt(nn_sample(tie, 4, 1.0f, 2, &rng), 2);
}

Test(sample, top_k_at_least_n_means_all) {
    float p[] = {0.1f, 0.4f, 0.2f, 0.3f};
    Rng a, b, c;
    tensor_rng_seed(&a, 8, 0);
    tensor_rng_seed(&b, 8, 0);
    tensor_rng_seed(&c, 8, 0);
    for (int d = 0; d < 2000; d++) {
        int64_t x = nn_sample(p, 4, 0.8f, 0, &a);
        cr_assert_eq(nn_sample(p, 4, 0.8f, 4, &b), x);
        cr_assert_eq(nn_sample(p, 4, 0.8f, 100, &c), x);
    }
}

Test(sample, zero_negative_and_nan_entries_never_drawn) {
    float p[] = {0.0f, 0.5f, -1.0f, 0.5f, NAN, -0.0f};
    double want[] = {0, 0.5, 0, 0.5, 0, 0};
    check_freq(p, 6, 1.0f, 0, want, 0.01, 9);
    check_freq(p, 6, 0.3f, 0, want, 0.01, 10);
    check_freq(p, 6, 1.0f, 5, want, 0.01, 11); /* k larger than the drawable entries */
    /* Underflow at small T must not make a zero-weight entry drawable either. */
    float q[] = {0.0f, 1e-20f, 0.9f};
    Rng rng;
    tensor_rng_seed(&rng, 12, 0);
    for (int d = 0; d < 2000; d++) cr_assert_eq(nn_sample(q, 3, 0.05f, 0, &rng), 2);
}

Test(sample, nothing_drawable_falls_back_to_argmax) {
    Rng rng;
    tensor_rng_seed(&rng, 13, 0);
    cr_assert_eq(nn_sample((float[]){0.0f, 0.0f, 0.0f}, 3, 1.0f, 0, &rng), 0);
    cr_assert_eq(nn_sample((float[]){-3.0f, -1.0f, -2.0f}, 3, 0.5f, 2, &rng), 1);
    cr_assert_eq(nn_sample((float[]){NAN, -1.0f}, 2, 1.0f, 0, &rng), 1);
}

Test(sample, reproducible_with_seed) {
    float p[] = {0.05f, 0.15f, 0.3f, 0.1f, 0.4f};
    Rng a, b, c;
    tensor_rng_seed(&a, 42, 0);
    tensor_rng_seed(&b, 42, 0);
    tensor_rng_seed(&c, 43, 0);
    int differ = 0;
    for (int d = 0; d < 1000; d++) {
        int64_t x = nn_sample(p, 5, 0.7f, 3, &a);
        cr_assert_eq(nn_sample(p, 5, 0.7f, 3, &b), x, "draw %d", d);
        differ += nn_sample(p, 5, 0.7f, 3, &c) != x;
    }
    cr_assert_gt(differ, 100, "another seed gives other draws");
    /* Every call consumes the same amount of randomness, even the argmax fallback. */
    tensor_rng_seed(&a, 1, 0);
    tensor_rng_seed(&b, 1, 0);
    nn_sample((float[]){0.0f, 0.0f}, 2, 1.0f, 0, &a);
    nn_sample(p, 5, 1.0f, 0, &b);
    cr_assert_eq(tensor_rng_u32(&a), tensor_rng_u32(&b));
}

Test(sample, zero_temperature_aborts, .signal = SIGABRT) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    nn_sample((float[]){0.5f, 0.5f}, 2, 0.0f, 0, &rng);
}

Test(sample, negative_top_k_aborts, .signal = SIGABRT) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    nn_sample((float[]){0.5f, 0.5f}, 2, 1.0f, -1, &rng);
}

/* ---- top-p (nucleus) ---- */

/* Draws DRAWS samples with options and checks each frequency within tol of want. */
static void check_freq_opts(const float *p, int64_t n, NnSampleOpts o, const double *want, double tol,
                            uint64_t seed) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    int64_t counts[16] = {0};
    for (int d = 0; d < DRAWS; d++) counts[nn_sample_opts(p, n, &o, &rng)]++;
    for (int64_t i = 0; i < n; i++)
        cr_assert(fabs((double)counts[i] / DRAWS - want[i]) <= tol,
                  "T=%g k=%lld p=%g entry %lld: frequency %.4f, expected %.4f", (double)o.temperature,
                  (long long)o.top_k, (double)o.top_p, (long long)i, (double)counts[i] / DRAWS, want[i]);
}

Test(sample, top_p_to_zero_is_argmax) {
    Rng rng, prng;
    tensor_rng_seed(&rng, 21, 0);
    tensor_rng_seed(&prng, 22, 0);
    float p[8];
    for (int trial = 0; trial < 2000; trial++) {
        float sum = 0;
        for (int i = 0; i < 8; i++) sum += p[i] = (float)tensor_rng_below(&prng, 1000) + 1; /* ties happen */
        for (int i = 0; i < 8; i++) p[i] /= sum;
        int64_t want = nn_sample_argmax(p, 8);
        cr_assert_eq(nn_sample_with(p, 8, &rng, .top_p = 1e-6f), want, "trial %d", trial);
        cr_assert_eq(nn_sample_with(p, 8, &rng, .top_p = 1e-30f, .temperature = 3.0f), want);
    }
}

/* Pearson's chi-square of counts against probabilities want. */
static double chi_square(const int64_t *counts, const double *want, int n, int draws) {
    double x2 = 0;
    for (int i = 0; i < n; i++) {
        double e = want[i] * draws;
        x2 += (counts[i] - e) * (counts[i] - e) / e;
    }
    return x2;
}

Test(sample, top_p_one_is_plain_sampling) {
    const float p[] = {0.05f, 0.15f, 0.3f, 0.1f, 0.4f};
    const double want[] = {0.05, 0.15, 0.3, 0.1, 0.4};
    Rng a, b, c;
    tensor_rng_seed(&a, 31, 0);
    tensor_rng_seed(&b, 31, 0);
    tensor_rng_seed(&c, 31, 0);
    int64_t counts[5] = {0};
    for (int d = 0; d < DRAWS; d++) {
        int64_t x = nn_sample(p, 5, 1.0f, 0, &a);
        cr_assert_eq(nn_sample_with(p, 5, &b, .top_p = 1.0f), x, "draw %d: the same draw as nn_sample", d);
        cr_assert_eq(nn_sample_with(p, 5, &c, .top_k = 0), x, "defaults: T = 1, no top-k, no top-p");
        counts[x]++;
    }
    /* In distribution: below chi-square's 0.999 quantile with 4 degrees of freedom. */
    double x2 = chi_square(counts, want, 5, DRAWS);
    cr_assert_lt(x2, 18.47, "chi-square %.2f against p", x2);
    /* With temperature and top-k too, top_p = 1 changes nothing. */
    tensor_rng_seed(&a, 32, 0);
    tensor_rng_seed(&b, 32, 0);
    for (int d = 0; d < 20000; d++)
        cr_assert_eq(nn_sample_with(p, 5, &b, .temperature = 0.7f, .top_k = 3, .top_p = 1.0f),
                     nn_sample(p, 5, 0.7f, 3, &a));
}

Test(sample, top_p_keeps_the_smallest_nucleus) {
    const float p[] = {0.1f, 0.4f, 0.2f, 0.3f}; /* sorted: 0.4, 0.3, 0.2, 0.1 */
    check_freq_opts(p, 4, (NnSampleOpts){.top_p = 0.5f}, (double[]){0, 0.4 / 0.7, 0, 0.3 / 0.7}, 0.01, 41);
    check_freq_opts(p, 4, (NnSampleOpts){.top_p = 0.75f}, (double[]){0, 0.4 / 0.9, 0.2 / 0.9, 0.3 / 0.9}, 0.01, 42);
    check_freq_opts(p, 4, (NnSampleOpts){.top_p = 0.35f}, (double[]){0, 1, 0, 0}, 0, 43);
    check_freq_opts(p, 4, (NnSampleOpts){.top_p = 0.95f}, (double[]){0.1, 0.4, 0.2, 0.3}, 0.01, 44);
    /* Ties at the cut: the lower index. */
    const float tie[] = {0.25f, 0.25f, 0.25f, 0.25f};
    check_freq_opts(tie, 4, (NnSampleOpts){.top_p = 0.3f}, (double[]){0.5, 0.5, 0, 0}, 0.01, 45);
}

Test(sample, top_p_applies_after_temperature_and_top_k) {
    /* T = 0.5 sharpens {0.2, 0.3, 0.5} to {0.105, 0.237, 0.658}: top_p 0.6 then keeps the
     * argmax alone, where on p itself it would keep two. */
    const float p[] = {0.2f, 0.3f, 0.5f};
    check_freq_opts(p, 3, (NnSampleOpts){.top_p = 0.6f}, (double[]){0, 0.375, 0.625}, 0.01, 51);
    check_freq_opts(p, 3, (NnSampleOpts){.temperature = 0.5f, .top_p = 0.6f}, (double[]){0, 0, 1}, 0, 52);
    /* top_k 3 renormalises {0.4, 0.3, 0.2} to {0.444, 0.333, 0.222}: top_p 0.75 keeps two
     * (on all four it would keep three). */
    const float q[] = {0.1f, 0.4f, 0.2f, 0.3f};
    check_freq_opts(q, 4, (NnSampleOpts){.top_k = 3, .top_p = 0.75f}, (double[]){0, 0.4 / 0.7, 0, 0.3 / 0.7}, 0.01,
                    53);
    /* Undrawable entries stay undrawable. */
    const float z[] = {0.0f, 0.5f, NAN, 0.5f, -1.0f};
    check_freq_opts(z, 5, (NnSampleOpts){.top_p = 0.9f}, (double[]){0, 0.5, 0, 0.5, 0}, 0.01, 54);
}

Test(sample, top_p_above_one_aborts, .signal = SIGABRT) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    nn_sample_with(((float[]){0.5f, 0.5f}), 2, &rng, .top_p = 1.5f);
}

Test(sample, negative_top_p_aborts, .signal = SIGABRT) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    nn_sample_with(((float[]){0.5f, 0.5f}), 2, &rng, .top_p = -0.1f);
}

Test(sample, nan_top_p_aborts, .signal = SIGABRT) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    nn_sample_with(((float[]){0.5f, 0.5f}), 2, &rng, .top_p = NAN);
}

Test(sample, negative_temperature_in_opts_aborts, .signal = SIGABRT) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    nn_sample_with(((float[]){0.5f, 0.5f}), 2, &rng, .temperature = -1.0f);
}
