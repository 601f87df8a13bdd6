/* Axis reductions and the softmax family over an (outer, n, inner) view.
 * The public kernels split rows across threads (TENSOR_PARALLEL_FOR, static schedule)
 * and hand each row, or block of rows, to a worker below. inner == 1 rows are
 * contiguous: SIMD loops with a vectorisable exp (vecmath_internal.h) and lane-wise
 * double sums. Otherwise a row is strided by inner, so a worker takes up to RB
 * neighbouring rows (same o, consecutive i) and walks k in the outer loop: every load is
 * a short contiguous run instead of a stride-inner gather. Workers are compiled for
 * AVX-512, AVX2 and baseline x86-64 and picked once for the CPU at load time (GCC
 * target_clones). Each row's sums run in a fixed order on one thread, so no result
 * depends on the thread count. */
#include "tensor/reduce.h"
#include "tensor/vecmath_internal.h"
#include "tensor/xent_internal.h"

#include "tensor/parallel.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define RB 16 /* rows per worker call when inner > 1 */

/* CPU-specific copies of the workers (the OpenMP bodies calling them are not cloned,
 * which is why the workers are separate, non-inlined functions). */
#if defined(__has_attribute) && defined(__x86_64__) && !defined(LAMINA_NO_TARGET_CLONES)
#if __has_attribute(target_clones)
#define REDUCE_WORKER static TENSOR_MULTIVERSION
#endif
#endif
#ifndef REDUCE_WORKER
#define REDUCE_WORKER static
#endif

void tensor_axis_split(int ndim, const int64_t *shape, int axis, int64_t *outer, int64_t *n,
                       int64_t *inner) {
    int64_t o = 1, i = 1;
    for (int d = 0; d < axis; d++) o *= shape[d];
    for (int d = axis + 1; d < ndim; d++) i *= shape[d];
    *outer = o;
    *n = shape[axis];
    *inner = i;
}

/* exp(x) for x <= 88 (libm's expf is a call per element): tensor__exp_poly
 * (vecmath_internal.h), with x < -87 (where expf would be subnormal or 0) giving exactly
 * 0 through a mask, not a branch. No upper clamp, which would make GCC branch instead of
 * vectorise: every caller passes x - max or a log-probability, so x <= 0 up to
 * rounding. */
static inline float exp_le0(float x) {
    float y = tensor__exp_poly(x);
    uint32_t yb;
    memcpy(&yb, &y, sizeof yb);
    yb &= -(uint32_t) !(x < -87.0f);
    memcpy(&y, &yb, sizeof y);
    return y;
}

/* ---- contiguous rows (inner == 1) ---- */

static inline float row_max(const float *x, int64_t n) {
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t k = 0; k < n; k++) m = x[k] > m ? x[k] : m;
    return m;
}

static inline double row_expsum(const float *x, int64_t n, float m) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < n; k++) s += exp_le0(x[k] - m);
    return s;
}

REDUCE_WORKER double row_sum(const float *x, int64_t n) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < n; k++) s += x[k];
    return s;
}

REDUCE_WORKER double row_logsumexp(const float *x, int64_t n) {
    if (n == 0) return -INFINITY;
    float m = row_max(x, n);
    return (double)m + log(row_expsum(x, n, m));
}

REDUCE_WORKER void row_softmax(const float *x, float *y, int64_t n) {
    float m = row_max(x, n);
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < n; k++) {
        float e = exp_le0(x[k] - m);
        y[k] = e;
        s += e;
    }
    float inv = (float)(1.0 / s); /* s >= 1: the max term contributes exp(0) */
    for (int64_t k = 0; k < n; k++) y[k] *= inv;
}

REDUCE_WORKER void row_log_softmax(const float *x, float *y, int64_t n) {
    float m = row_max(x, n);
    float ls = (float)log(row_expsum(x, n, m));
    /* (x - m) - log(s): the exact shift first keeps small log-probs accurate. */
    for (int64_t k = 0; k < n; k++) y[k] = (x[k] - m) - ls;
}

REDUCE_WORKER void row_softmax_backward(const float *y, const float *g, float *gx, int64_t n) {
    double dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t k = 0; k < n; k++) dot += (double)g[k] * y[k];
    float d = (float)dot;
    for (int64_t k = 0; k < n; k++) gx[k] += y[k] * (g[k] - d);
}

REDUCE_WORKER void row_log_softmax_backward(const float *y, const float *g, float *gx, int64_t n) {
    double sg = 0;
#pragma omp simd reduction(+ : sg)
    for (int64_t k = 0; k < n; k++) sg += g[k];
    float s = (float)sg;
    for (int64_t k = 0; k < n; k++) gx[k] += g[k] - exp_le0(y[k]) * s;
}

/* ---- blocks of w <= RB strided rows (inner > 1) ----
 * A block is rows (o, ., i0 .. i0+w-1): every pointer below is at element (o, 0, i0),
 * row j's element k is at p[k * inner + j], and per-row outputs are out[j]. */

static inline void block_max(const float *x, int64_t n, int64_t inner, int64_t w, float *m) {
    for (int64_t j = 0; j < w; j++) m[j] = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
        const float *r = x + k * inner;
        for (int64_t j = 0; j < w; j++) m[j] = r[j] > m[j] ? r[j] : m[j];
    }
}

static inline void block_expsum(const float *x, int64_t n, int64_t inner, int64_t w, const float *m,
                                double *s) {
    for (int64_t j = 0; j < w; j++) s[j] = 0;
    for (int64_t k = 0; k < n; k++) {
        const float *r = x + k * inner;
        for (int64_t j = 0; j < w; j++) s[j] += exp_le0(r[j] - m[j]);
    }
}

/* Sums of each column of a block: s[j] = sum_k p[k * inner + j], in double. */
static inline void block_sum(const float *p, int64_t n, int64_t inner, int64_t w, double *s) {
    for (int64_t j = 0; j < w; j++) s[j] = 0;
    for (int64_t k = 0; k < n; k++) {
        const float *r = p + k * inner;
        for (int64_t j = 0; j < w; j++) s[j] += r[j];
    }
}

REDUCE_WORKER void block_sum_scaled(const float *x, float *out, int64_t n, int64_t inner, int64_t w,
                                    float scale) {
    double s[RB];
    block_sum(x, n, inner, w, s);
    for (int64_t j = 0; j < w; j++) out[j] = (float)(s[j] * scale);
}

REDUCE_WORKER void block_logsumexp(const float *x, double *out, int64_t n, int64_t inner,
                                   int64_t w) {
    float m[RB];
    double s[RB];
    block_max(x, n, inner, w, m);
    block_expsum(x, n, inner, w, m, s);
    for (int64_t j = 0; j < w; j++) out[j] = n > 0 ? (double)m[j] + log(s[j]) : -INFINITY;
}

REDUCE_WORKER void block_softmax(const float *x, float *y, int64_t n, int64_t inner, int64_t w) {
    float m[RB], inv[RB];
    double s[RB];
    block_max(x, n, inner, w, m);
    for (int64_t j = 0; j < w; j++) s[j] = 0;
    for (int64_t k = 0; k < n; k++) {
        const float *xr = x + k * inner;
        float *yr = y + k * inner;
        for (int64_t j = 0; j < w; j++) {
            float e = exp_le0(xr[j] - m[j]);
            yr[j] = e;
            s[j] += e;
        }
    }
    for (int64_t j = 0; j < w; j++) inv[j] = (float)(1.0 / s[j]);
    for (int64_t k = 0; k < n; k++) {
        float *yr = y + k * inner;
        for (int64_t j = 0; j < w; j++) yr[j] *= inv[j];
    }
}

REDUCE_WORKER void block_log_softmax(const float *x, float *y, int64_t n, int64_t inner,
                                     int64_t w) {
    float m[RB], ls[RB];
    double s[RB];
    block_max(x, n, inner, w, m);
    block_expsum(x, n, inner, w, m, s);
    for (int64_t j = 0; j < w; j++) ls[j] = (float)log(s[j]);
    for (int64_t k = 0; k < n; k++) {
        const float *xr = x + k * inner;
        float *yr = y + k * inner;
        for (int64_t j = 0; j < w; j++) yr[j] = (xr[j] - m[j]) - ls[j];
    }
}

REDUCE_WORKER void block_softmax_backward(const float *y, const float *g, float *gx, int64_t n,
                                          int64_t inner, int64_t w) {
    double dot[RB] = {0};
    float d[RB];
    for (int64_t k = 0; k < n; k++) {
        const float *yr = y + k * inner, *gr = g + k * inner;
        for (int64_t j = 0; j < w; j++) dot[j] += (double)gr[j] * yr[j];
    }
    for (int64_t j = 0; j < w; j++) d[j] = (float)dot[j];
    for (int64_t k = 0; k < n; k++) {
        const float *yr = y + k * inner, *gr = g + k * inner;
        float *out = gx + k * inner;
        for (int64_t j = 0; j < w; j++) out[j] += yr[j] * (gr[j] - d[j]);
    }
}

REDUCE_WORKER void block_log_softmax_backward(const float *y, const float *g, float *gx, int64_t n,
                                              int64_t inner, int64_t w) {
    double sg[RB];
    float s[RB];
    block_sum(g, n, inner, w, sg);
    for (int64_t j = 0; j < w; j++) s[j] = (float)sg[j];
    for (int64_t k = 0; k < n; k++) {
        const float *yr = y + k * inner, *gr = g + k * inner;
        float *out = gx + k * inner;
        for (int64_t j = 0; j < w; j++) out[j] += gr[j] - exp_le0(yr[j]) * s[j];
    }
}

/* ---- public kernels ---- */

/* Work item `it` of a strided path: w rows starting at (o, i0); `at` is the flat index
 * of element (o, 0, i0) and `out` that of (o, i0) in an outer*inner array. */
typedef struct {
    int64_t w, at, out;
} Block;

static inline int64_t block_count(int64_t outer, int64_t inner) {
    return outer * ((inner + RB - 1) / RB);
}

static inline Block block_at(int64_t it, int64_t n, int64_t inner) {
    int64_t nblk = (inner + RB - 1) / RB, o = it / nblk, i0 = (it % nblk) * RB;
    return (Block){inner - i0 < RB ? inner - i0 : RB, o * n * inner + i0, o * inner + i0};
}

void tensor_sum_axis(const float *x, float *y, int64_t outer, int64_t n, int64_t inner,
                     float scale) {
    if (inner == 1) {
        TENSOR_PARALLEL_FOR(outer * n)
        for (int64_t o = 0; o < outer; o++) y[o] = (float)(row_sum(x + o * n, n) * scale);
        return;
    }
    int64_t blocks = block_count(outer, inner);
    TENSOR_PARALLEL_FOR(outer * n * inner)
    for (int64_t it = 0; it < blocks; it++) {
        Block b = block_at(it, n, inner);
        block_sum_scaled(x + b.at, y + b.out, n, inner, b.w, scale);
    }
}

void tensor_axis_broadcast_add(const float *g, float *gx, int64_t outer, int64_t n, int64_t inner,
                               float scale) {
    int64_t rows = outer * n; /* (o, k) pairs, each a contiguous run of inner */
    TENSOR_PARALLEL_FOR(rows * inner)
    for (int64_t r = 0; r < rows; r++) {
        const float *gr = g + (r / n) * inner;
        float *dst = gx + r * inner;
        for (int64_t i = 0; i < inner; i++) dst[i] += scale * gr[i];
    }
}

void tensor_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
    if (inner == 1) {
        TENSOR_PARALLEL_FOR(outer * n)
        for (int64_t o = 0; o < outer; o++) row_softmax(x + o * n, y + o * n, n);
        return;
    }
    int64_t blocks = block_count(outer, inner);
    TENSOR_PARALLEL_FOR(outer * n * inner)
    for (int64_t it = 0; it < blocks; it++) {
        Block b = block_at(it, n, inner);
        block_softmax(x + b.at, y + b.at, n, inner, b.w);
    }
}

void tensor_log_softmax(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
    if (inner == 1) {
        TENSOR_PARALLEL_FOR(outer * n)
        for (int64_t o = 0; o < outer; o++) row_log_softmax(x + o * n, y + o * n, n);
        return;
    }
    int64_t blocks = block_count(outer, inner);
    TENSOR_PARALLEL_FOR(outer * n * inner)
    for (int64_t it = 0; it < blocks; it++) {
        Block b = block_at(it, n, inner);
        block_log_softmax(x + b.at, y + b.at, n, inner, b.w);
    }
}

void tensor_logsumexp(const float *x, double *lse, int64_t outer, int64_t n, int64_t inner) {
    if (inner == 1) {
        TENSOR_PARALLEL_FOR(outer * n)
        for (int64_t o = 0; o < outer; o++) lse[o] = row_logsumexp(x + o * n, n);
        return;
    }
    int64_t blocks = block_count(outer, inner);
    TENSOR_PARALLEL_FOR(outer * n * inner)
    for (int64_t it = 0; it < blocks; it++) {
        Block b = block_at(it, n, inner);
        block_logsumexp(x + b.at, lse + b.out, n, inner, b.w);
    }
}

void tensor_softmax_backward(const float *y, const float *g, float *gx, int64_t outer, int64_t n,
                             int64_t inner) {
    if (inner == 1) {
        TENSOR_PARALLEL_FOR(outer * n)
        for (int64_t o = 0; o < outer; o++)
            row_softmax_backward(y + o * n, g + o * n, gx + o * n, n);
        return;
    }
    int64_t blocks = block_count(outer, inner);
    TENSOR_PARALLEL_FOR(outer * n * inner)
    for (int64_t it = 0; it < blocks; it++) {
        Block b = block_at(it, n, inner);
        block_softmax_backward(y + b.at, g + b.at, gx + b.at, n, inner, b.w);
    }
}

void tensor_log_softmax_backward(const float *y, const float *g, float *gx, int64_t outer,
                                 int64_t n, int64_t inner) {
    if (inner == 1) {
        TENSOR_PARALLEL_FOR(outer * n)
        for (int64_t o = 0; o < outer; o++)
            row_log_softmax_backward(y + o * n, g + o * n, gx + o * n, n);
        return;
    }
    int64_t blocks = block_count(outer, inner);
    TENSOR_PARALLEL_FOR(outer * n * inner)
    for (int64_t it = 0; it < blocks; it++) {
        Block b = block_at(it, n, inner);
        block_log_softmax_backward(y + b.at, g + b.at, gx + b.at, n, inner, b.w);
    }
}

REDUCE_WORKER void exp_shift_add(const float *x, double shift, float scale, float *out, int64_t n) {
    /* x - shift in float arithmetic without losing what double gave: shift = hi + lo
     * with hi the nearest float, and x - hi is exact wherever exp() is not negligible
     * (x within a factor of 2 of hi, Sterbenz), so (x - hi) - lo is as accurate as the
     * double difference rounded to float. No conversions in the loop, so it is twice
     * as wide. */
    const float hi = (float)shift, lo = (float)(shift - (double)hi);
#pragma omp simd
    for (int64_t k = 0; k < n; k++) out[k] += scale * exp_le0((x[k] - hi) - lo);
}

void tensor_exp_shift_add(const float *x, double shift, float scale, float *out, int64_t n) {
    exp_shift_add(x, shift, scale, out, n);
}

REDUCE_WORKER double softmax_lse_row(const float *x, float *y, int64_t n, float scale) {
    float m = row_max(x, n);
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < n; k++) {
        float e = exp_le0(x[k] - m);
        y[k] = e;
        s += e;
    }
    const float f = (float)((double)scale / s); /* s >= 1: the max term is exp(0) */
#pragma omp simd
    for (int64_t k = 0; k < n; k++) y[k] *= f;
    return (double)m + log(s);
}

double tensor_softmax_lse_row(const float *x, float *y, int64_t n, float scale) {
    return softmax_lse_row(x, y, n, scale);
}
