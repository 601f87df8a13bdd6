/* Choosing the next token from a distribution: argmax, and temperature / top-k /
 * top-p sampling. Weights p_i^(1/T) are computed in log space relative to the largest
 * probability, so tiny temperatures approach argmax instead of overflowing. */
#include "nn/model/sample.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

int64_t nn_sample_argmax(const float *p, int64_t n) {
    TENSOR_CHECK(p != NULL && n > 0, "nn_sample_argmax: need at least one entry (n = %lld)",
                 (long long)n);
    /* NaNs never win (a diverged model should not always yield token 0 silently unless
     * every entry is NaN). */
    int64_t best = -1;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(p[i]) && (best < 0 || p[i] > p[best])) best = i;
    return best < 0 ? 0 : best;
}

static int drawable(float v) { return v > 0.0f && isfinite(v); }

/* Orders indexes by probability, highest first, lower index first on ties. */
static _Thread_local const float *rank_p;
static int by_p_desc(const void *a, const void *b) {
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    if (rank_p[i] != rank_p[j]) return rank_p[i] > rank_p[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/* The unnormalised weight of a drawable p_i: (p_i / p_max)^(1/T), via logs so that
 * a tiny T underflows to 0 instead of overflowing; T = 1 uses p_i itself. */
static double weight(float pi, double log_max, double inv_t, int plain) {
    return plain ? (double)pi : exp((log((double)pi) - log_max) * inv_t);
}

/* A uniform double in [0, 1) with 53 random bits (two 32-bit draws). */
static double uniform53(Rng *rng) {
    uint64_t a = tensor_rng_u32(rng) >> 5, b = tensor_rng_u32(rng) >> 6;
    return (double)(a * 67108864u + b) * (1.0 / 9007199254740992.0);
}

/* How many of the sorted candidates top_p keeps: the shortest prefix whose weight
 * reaches top_p of the whole (at least one). */
static int64_t nucleus(const float *p, const int64_t *cand, int64_t ncand, double log_max, double inv_t,
                       int plain, double top_p) {
    double total = 0.0;
    for (int64_t c = 0; c < ncand; c++) total += weight(p[cand[c]], log_max, inv_t, plain);
    double cum = 0.0;
    for (int64_t c = 0; c < ncand; c++) {
        cum += weight(p[cand[c]], log_max, inv_t, plain);
        if (cum >= top_p * total) return c + 1;
    }
    return ncand;
}

/* Entries that are zero, negative, NaN or infinite are never drawn; if no entry is
 * drawable the result is nn_sample_argmax(p, n). Every call consumes exactly two
 * 32-bit draws from rng, so a generation run stays reproducible whatever happens.
 * top_p >= 1 is off and then the draw is the same as before top_p existed. */
static int64_t draw(const float *p, int64_t n, float temperature, int64_t top_k, double top_p, Rng *rng) {
    double u = uniform53(rng);

    int64_t ndraw = 0, best = -1;
    for (int64_t i = 0; i < n; i++) {
        if (!drawable(p[i])) continue;
        ndraw++;
        if (best < 0 || p[i] > p[best]) best = i;
    }
    if (ndraw == 0) return nn_sample_argmax(p, n);

    const double inv_t = 1.0 / (double)temperature, log_max = log((double)p[best]);
    const int plain = temperature == 1.0f;
    /* The candidates: every drawable entry, or the most likely of them, best first. */
    int64_t *cand = NULL, ncand = ndraw;
    const bool cut_k = top_k > 0 && top_k < ndraw;
    if (cut_k || top_p < 1.0) {
        cand = tensor_xmalloc((size_t)ndraw * sizeof *cand);
        for (int64_t i = 0, c = 0; i < n; i++)
            if (drawable(p[i])) cand[c++] = i;
        rank_p = p; /* qsort takes no context argument */
        qsort(cand, (size_t)ndraw, sizeof *cand, by_p_desc);
        if (cut_k) ncand = top_k;
        if (top_p < 1.0) ncand = nucleus(p, cand, ncand, log_max, inv_t, plain, top_p);
    }

    double total = 0.0;
    const int64_t m = cand ? ncand : n; /* without cand, scan all n and skip the rest */
    for (int64_t c = 0; c < m; c++) {
        int64_t i = cand ? cand[c] : c;
        if (!cand && !drawable(p[i])) continue;
        total += weight(p[i], log_max, inv_t, plain);
    }
    /* Walk the same sum again and stop where it passes u * total; entries of weight 0
     * (underflow at tiny T) never move the sum, so they can never be chosen. */
    const double target = u * total;
    double cum = 0.0;
    int64_t pick = best;
    for (int64_t c = 0; c < m; c++) {
        int64_t i = cand ? cand[c] : c;
        if (!cand && !drawable(p[i])) continue;
        cum += weight(p[i], log_max, inv_t, plain);
        if (cum > target) {
            pick = i;
            break;
        }
    }
    free(cand);
    return pick;
}

int64_t nn_sample(const float *p, int64_t n, float temperature, int64_t top_k, Rng *rng) {
    TENSOR_CHECK(p != NULL && n > 0, "nn_sample: need at least one entry (n = %lld)", (long long)n);
    TENSOR_CHECK(rng != NULL, "nn_sample: rng is NULL");
    TENSOR_CHECK(temperature > 0.0f && isfinite(temperature),
                 "nn_sample: temperature must be positive and finite (got %g)", (double)temperature);
    TENSOR_CHECK(top_k >= 0, "nn_sample: top_k must be >= 0 (got %lld)", (long long)top_k);
    return draw(p, n, temperature, top_k, 1.0, rng);
}

int64_t nn_sample_opts(const float *p, int64_t n, const NnSampleOpts *opts, Rng *rng) {
    TENSOR_CHECK(p != NULL && n > 0, "nn_sample_opts: need at least one entry (n = %lld)", (long long)n);
    TENSOR_CHECK(rng != NULL && opts != NULL, "nn_sample_opts: rng and opts must not be NULL");
    const float t = opts->temperature, top_p = opts->top_p;
    TENSOR_CHECK(t >= 0.0f && isfinite(t), "nn_sample_opts: temperature must be positive and finite, or 0 for "
                 "the default 1 (got %g)", (double)t);
    TENSOR_CHECK(opts->top_k >= 0, "nn_sample_opts: top_k must be >= 0 (got %lld)", (long long)opts->top_k);
    TENSOR_CHECK(top_p >= 0.0f && top_p <= 1.0f, "nn_sample_opts: top_p must be in (0, 1], or 0 for off (got %g)",
                 (double)top_p);
    return draw(p, n, t == 0.0f ? 1.0f : t, opts->top_k, top_p == 0.0f ? 1.0 : (double)top_p, rng);
}
