/* AVX-512F SGEMM micro-kernel: a 12 x 32 tile of C in 24 zmm accumulators (rows of A
 * broadcast, two 16-wide vectors of a packed B row per k). Compiled with a target
 * attribute rather than a global -m flag, so the library runs on any x86-64; gemm.c
 * calls it only after __builtin_cpu_supports("avx512f"). */
#include "tensor/gemm_kernels_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define MR 12
#define NR 32
#define TARGET __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

/* Rows and column vectors actually computed: constants once inlined into the wrappers
 * below, so the accumulator array lives in registers. Computing only ceil(m/4)*4 rows
 * and 1 or 2 vectors keeps edge tiles (M = 64 with MR = 12, N = 27) cheap. B row k is
 * at b + k * rs_b: a packed panel (rs_b = NR, aligned, zero past n), or B read in
 * place (b_in_place: unaligned rows, and lanes past n are never read). */
INLINE TARGET void tile_any_b(const int rows, const int nv, int64_t kc, const float *a,
                              int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                              const bool b_in_place, float *c, int64_t ldc, int m, int n,
                              float alpha, float beta) {
    /* Masked stores (and in-place loads) cover n < NR. */
    const __mmask16 k0 = (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
    const __mmask16 k1 = (__mmask16)(n >= 32 ? 0xFFFFu : n > 16 ? (1u << (n - 16)) - 1u : 0u);
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++) {
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
    }

#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + k * rs_b;
        /* In place, every row of the strip is a separate stream no prefetcher follows:
         * ask for the same row of the next strip (up to 3 lines when unaligned). */
        if (b_in_place) {
            _mm_prefetch((const char *)(bk + NR), _MM_HINT_T0);
            _mm_prefetch((const char *)(bk + NR + 16), _MM_HINT_T0);
            _mm_prefetch((const char *)(bk + 2 * NR - 1), _MM_HINT_T0);
        }
        const __m512 b0 = b_in_place ? _mm512_maskz_loadu_ps(k0, bk) : _mm512_load_ps(bk);
        const __m512 b1 = nv < 2 ? b0
                          : b_in_place ? _mm512_maskz_loadu_ps(k1, bk + 16)
                                       : _mm512_load_ps(bk + 16);
        const float *ak = a + k * cs_a;
#pragma GCC unroll 12
        for (int r = 0; r < rows; r++) {
            const __m512 av = _mm512_set1_ps(ak[r * rs_a]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            if (nv > 1) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }

    /* Masked-off lanes of C are neither read nor written. */
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++) {
        if (r >= m) break;
        float *cr = c + r * ldc;
        for (int v = 0; v < nv; v++) {
            const __mmask16 mk = v ? k1 : k0;
            __m512 out = _mm512_mul_ps(va, acc[r][v]);
            if (beta != 0.0f)
                out = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk, cr + 16 * v), out);
            _mm512_mask_storeu_ps(cr + 16 * v, mk, out);
        }
    }
}

INLINE TARGET void tile(const int rows, const int nv, int64_t kc, const float *a,
                        int64_t rs_a, int64_t cs_a, const float *b, float *c, int64_t ldc,
                        int m, int n, float alpha, float beta) {
    tile_any_b(rows, nv, kc, a, rs_a, cs_a, b, NR, false, c, ldc, m, n, alpha, beta);
}

#define PACKED(rows, nv)                                                                  \
    static TARGET void packed_##rows##_##nv(int64_t kc, const float *a, const float *b,    \
                                            float *c, int64_t ldc, int m, int n,          \
                                            float alpha, float beta) {                    \
        tile(rows, nv, kc, a, 1, MR, b, c, ldc, m, n, alpha, beta);                        \
    }
PACKED(4, 1)
PACKED(4, 2)
PACKED(8, 1)
PACKED(8, 2)
PACKED(12, 1)
PACKED(12, 2)

/* B read in place (rows ldb apart), A packed. */
#define B_IN_PLACE(rows, nv)                                                              \
    static TARGET void b_in_place_##rows##_##nv(int64_t kc, const float *a, const float *b, \
                                                int64_t ldb, float *c, int64_t ldc, int m, \
                                                int n, float alpha, float beta) {          \
        tile_any_b(rows, nv, kc, a, 1, MR, b, ldb, true, c, ldc, m, n, alpha, beta);      \
    }
B_IN_PLACE(4, 1)
B_IN_PLACE(4, 2)
B_IN_PLACE(8, 1)
B_IN_PLACE(8, 2)
B_IN_PLACE(12, 1)
B_IN_PLACE(12, 2)

static TARGET void kernel_b_in_place(int64_t kc, const float *a, const float *b, int64_t ldb,
                                     float *c, int64_t ldc, int m, int n, float alpha,
                                     float beta) {
    const int two = n > 16;
    if (m > 8) (two ? b_in_place_12_2 : b_in_place_12_1)(kc, a, b, ldb, c, ldc, m, n, alpha, beta);
    else if (m > 4) (two ? b_in_place_8_2 : b_in_place_8_1)(kc, a, b, ldb, c, ldc, m, n, alpha, beta);
    else (two ? b_in_place_4_2 : b_in_place_4_1)(kc, a, b, ldb, c, ldc, m, n, alpha, beta);
}

/* A read in place (full tiles only): one variant per layout so the strides that are 1
 * stay constants. */
static TARGET void rows_in_place(int64_t kc, const float *a, int64_t rs_a, const float *b,
                                 float *c, int64_t ldc, int n, float alpha, float beta) {
    if (n > 16) tile(MR, 2, kc, a, rs_a, 1, b, c, ldc, MR, n, alpha, beta);
    else tile(MR, 1, kc, a, rs_a, 1, b, c, ldc, MR, n, alpha, beta);
}

static TARGET void cols_in_place(int64_t kc, const float *a, int64_t cs_a, const float *b,
                                 float *c, int64_t ldc, int n, float alpha, float beta) {
    if (n > 16) tile(MR, 2, kc, a, 1, cs_a, b, c, ldc, MR, n, alpha, beta);
    else tile(MR, 1, kc, a, 1, cs_a, b, c, ldc, MR, n, alpha, beta);
}

static TARGET void kernel(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                          const float *b, float *c, int64_t ldc, int m, int n, float alpha,
                          float beta) {
    if (rs_a == 1 && cs_a == MR) {
        const int two = n > 16;
        if (m > 8) (two ? packed_12_2 : packed_12_1)(kc, a, b, c, ldc, m, n, alpha, beta);
        else if (m > 4) (two ? packed_8_2 : packed_8_1)(kc, a, b, c, ldc, m, n, alpha, beta);
        else (two ? packed_4_2 : packed_4_1)(kc, a, b, c, ldc, m, n, alpha, beta);
    } else if (cs_a == 1) {
        rows_in_place(kc, a, rs_a, b, c, ldc, n, alpha, beta);
    } else {
        cols_in_place(kc, a, cs_a, b, c, ldc, n, alpha, beta);
    }
}

/* kc x nc = 384 x 320 floats of B (480 KB) stay in the 1 MB L2 while 12-row panels of
 * A (18 KB) are swept over them; the A block only needs to sit in L3. */
const GemmKernelInfo tensor__gemm_kernel_avx512 = {"avx512", MR, NR, 384, 1536, 320, kernel,
                                            kernel_b_in_place};

#else
typedef int gemm_avx512_unused;
#endif
