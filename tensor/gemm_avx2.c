/* AVX2+FMA SGEMM micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators (rows of A
 * broadcast, two 8-wide vectors of a packed B row per k). Compiled with a target
 * attribute rather than a global -m flag; gemm.c calls it only after
 * __builtin_cpu_supports("avx2") and ("fma"). */
#include "tensor/gemm_kernels_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define MR 6
#define NR 16
#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/* rs_a / cs_a are constants once inlined into the wrappers below. B row k is at
 * b + k * rs_b: a packed panel (rs_b = NR, aligned, zero past n), or B read in place
 * (b_in_place: unaligned rows, lanes past n never read). */
INLINE TARGET void tile_any_b(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                              const float *b, int64_t rs_b, const bool b_in_place, float *c,
                              int64_t ldc, int m, int n, float alpha, float beta) {
    /* Lane masks for n < NR: maskload/maskstore leave masked-off lanes untouched. */
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
    const __m256i k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();

#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + k * rs_b;
        const __m256 b0 = b_in_place ? _mm256_maskload_ps(bk, k0) : _mm256_load_ps(bk);
        const __m256 b1 = b_in_place ? _mm256_maskload_ps(bk + 8, k1) : _mm256_load_ps(bk + 8);
        const float *ak = a + k * cs_a;
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            const __m256 av = _mm256_broadcast_ss(ak + r * rs_a);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
    }

    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        if (r >= m) break;
        float *cr = c + r * ldc;
        __m256 o0 = _mm256_mul_ps(va, acc[r][0]), o1 = _mm256_mul_ps(va, acc[r][1]);
        if (n == NR) {
            if (beta != 0.0f) {
                o0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), o0);
                o1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), o1);
            }
            _mm256_storeu_ps(cr, o0);
            _mm256_storeu_ps(cr + 8, o1);
        } else {
            if (beta != 0.0f) {
                o0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, k0), o0);
                o1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, k1), o1);
            }
            _mm256_maskstore_ps(cr, k0, o0);
            _mm256_maskstore_ps(cr + 8, k1, o1);
        }
    }
}

INLINE TARGET void tile(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                        const float *b, float *c, int64_t ldc, int m, int n, float alpha,
                        float beta) {
    tile_any_b(kc, a, rs_a, cs_a, b, NR, false, c, ldc, m, n, alpha, beta);
}

/* B read in place (rows ldb apart), A packed. */
static TARGET void kernel_b_in_place(int64_t kc, const float *a, const float *b, int64_t ldb,
                                     float *c, int64_t ldc, int m, int n, float alpha,
                                     float beta) {
    tile_any_b(kc, a, 1, MR, b, ldb, true, c, ldc, m, n, alpha, beta);
}

static TARGET void packed(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                          int m, int n, float alpha, float beta) {
    tile(kc, a, 1, MR, b, c, ldc, m, n, alpha, beta);
}

static TARGET void kernel(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                          const float *b, float *c, int64_t ldc, int m, int n, float alpha,
                          float beta) {
    if (rs_a == 1 && cs_a == MR) packed(kc, a, b, c, ldc, m, n, alpha, beta);
    else if (cs_a == 1) tile(kc, a, rs_a, 1, b, c, ldc, m, n, alpha, beta);
    else tile(kc, a, 1, cs_a, b, c, ldc, m, n, alpha, beta);
}

/* kc x nc = 256 x 192 floats of B (192 KB) fit even a 256 KB L2; see gemm_avx512.c. */
const GemmKernelInfo tensor__gemm_kernel_avx2 = {"avx2", MR, NR, 256, 1536, 192, kernel,
                                          kernel_b_in_place};

#else
typedef int gemm_avx2_unused;
#endif
