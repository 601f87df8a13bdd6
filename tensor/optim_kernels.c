/* Fused optimizer passes (see optim_kernels.h). The SIMD paths are compiled with target
 * attributes and picked after a CPU check, as the SGEMM kernels are; they use no FMA,
 * so they round exactly like the portable loop (libm's sqrtf, which sets errno, keeps
 * GCC from vectorising that loop itself). */
#include "tensor/optim_kernels_internal.h"

#include "tensor/parallel.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

typedef struct {
    float b1, b2, lr, c1, c2, eps;
} AdamK;

/* sq, when not NULL, replaces g^2 in the second moment (Adam's per-lookup rule). */
static void adam_scalar(int64_t i0, int64_t i1, float *p, const float *g, const float *sq, float *m,
                        float *v, const AdamK *k) {
    for (int64_t i = i0; i < i1; i++) {
        const float gi = g[i];
        const float mi = k->b1 * m[i] + (1 - k->b1) * gi;
        const float vi = k->b2 * v[i] + (sq ? (1 - k->b2) * sq[i] : (1 - k->b2) * gi * gi);
        m[i] = mi;
        v[i] = vi;
        p[i] -= k->lr * (mi * k->c1) / (sqrtf(vi) * k->c2 + k->eps);
    }
}

#ifdef HAVE_X86
__attribute__((target("avx512f"))) static void adam_avx512(int64_t i0, int64_t i1, float *p,
                                                           const float *g, const float *sq, float *m, float *v,
                                                           const AdamK *k) {
    const __m512 b1 = _mm512_set1_ps(k->b1), b2 = _mm512_set1_ps(k->b2);
    const __m512 a1 = _mm512_set1_ps(1 - k->b1), a2 = _mm512_set1_ps(1 - k->b2);
    const __m512 lr = _mm512_set1_ps(k->lr), c1 = _mm512_set1_ps(k->c1);
    const __m512 c2 = _mm512_set1_ps(k->c2), eps = _mm512_set1_ps(k->eps);
    int64_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        const __m512 gi = _mm512_loadu_ps(g + i);
        const __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(a1, gi));
        const __m512 g2 = sq ? _mm512_mul_ps(a2, _mm512_loadu_ps(sq + i)) : _mm512_mul_ps(_mm512_mul_ps(a2, gi), gi);
        const __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)), g2);
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        const __m512 num = _mm512_mul_ps(lr, _mm512_mul_ps(mi, c1));
        const __m512 den = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vi), c2), eps);
        _mm512_storeu_ps(p + i, _mm512_sub_ps(_mm512_loadu_ps(p + i), _mm512_div_ps(num, den)));
    }
    adam_scalar(i, i1, p, g, sq, m, v, k);
}

__attribute__((target("avx2"))) static void adam_avx2(int64_t i0, int64_t i1, float *p,
                                                      const float *g, const float *sq, float *m, float *v,
                                                      const AdamK *k) {
    const __m256 b1 = _mm256_set1_ps(k->b1), b2 = _mm256_set1_ps(k->b2);
    const __m256 a1 = _mm256_set1_ps(1 - k->b1), a2 = _mm256_set1_ps(1 - k->b2);
    const __m256 lr = _mm256_set1_ps(k->lr), c1 = _mm256_set1_ps(k->c1);
    const __m256 c2 = _mm256_set1_ps(k->c2), eps = _mm256_set1_ps(k->eps);
    int64_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        const __m256 gi = _mm256_loadu_ps(g + i);
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(a1, gi));
        const __m256 g2 = sq ? _mm256_mul_ps(a2, _mm256_loadu_ps(sq + i)) : _mm256_mul_ps(_mm256_mul_ps(a2, gi), gi);
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), g2);
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 num = _mm256_mul_ps(lr, _mm256_mul_ps(mi, c1));
        const __m256 den = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), c2), eps);
        _mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_loadu_ps(p + i), _mm256_div_ps(num, den)));
    }
    adam_scalar(i, i1, p, g, sq, m, v, k);
}
#endif

typedef void (*AdamFn)(int64_t, int64_t, float *, const float *, const float *, float *, float *,
                       const AdamK *);

static AdamFn adam_fn(void) {
#ifdef HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return adam_avx512;
    if (__builtin_cpu_supports("avx2")) return adam_avx2;
#endif
    return adam_scalar;
}

#define BLOCK 16384 /* elements per work item: whole cache lines, a few per thread */

/* These passes are bound by memory bandwidth and cheap per element: below 256K
 * elements one thread finishes sooner than a fork/join (a futex wake when threads wait
 * passively) would. */
#define PASS_MIN (1 << 18)
#define PASS_PARALLEL_FOR(n) TENSOR_PRAGMA_(omp parallel for schedule(static) if ((n) >= PASS_MIN))

void tensor_adam_update_squares(int64_t n, float *p, const float *g, const float *sq, float *m,
                                float *v, float b1, float b2, float lr, float c1, float c2, float eps) {
    const AdamK k = {b1, b2, lr, c1, c2, eps};
    const AdamFn fn = adam_fn();
    const int64_t blocks = (n + BLOCK - 1) / BLOCK;
    PASS_PARALLEL_FOR(n)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t i0 = b * BLOCK, i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
        fn(i0, i1, p, g, sq, m, v, &k);
    }
}

void tensor_adam_update(int64_t n, float *p, const float *g, float *m, float *v, float b1,
                        float b2, float lr, float c1, float c2, float eps) {
    tensor_adam_update_squares(n, p, g, NULL, m, v, b1, b2, lr, c1, c2, eps);
}

/* Whether x[0..n) holds a NaN or infinity: exponent bits all ones, tested on the bit
 * patterns so the loop vectorises (an early exit would not). */
TENSOR_MULTIVERSION
static int any_nonfinite(const float *x, int64_t n) {
    uint32_t any = 0;
#pragma omp simd reduction(| : any)
    for (int64_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, x + i, sizeof b);
        any |= (uint32_t)((b & 0x7f800000u) == 0x7f800000u);
    }
    return any != 0;
}

int64_t tensor_first_nonfinite(const float *x, int64_t n) {
    const int64_t blocks = (n + BLOCK - 1) / BLOCK;
    int64_t first = INT64_MAX;
#pragma omp parallel for schedule(static) reduction(min : first) if (n >= PASS_MIN)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t i0 = b * BLOCK, i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
        if (i0 >= first || !any_nonfinite(x + i0, i1 - i0)) continue;
        for (int64_t i = i0; i < i1; i++)
            if (!isfinite(x[i])) {
                if (i < first) first = i;
                break;
            }
    }
    return first == INT64_MAX ? -1 : first;
}

void tensor_zero_floats(float *x, int64_t n) {
    const int64_t blocks = (n + BLOCK - 1) / BLOCK;
    PASS_PARALLEL_FOR(n)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t i0 = b * BLOCK, i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
        memset(x + i0, 0, (size_t)(i1 - i0) * sizeof(float));
    }
}
