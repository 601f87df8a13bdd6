/* AVX512-BF16 GEMM kernel: a 12 x 32 tile of C in 24 zmm accumulators; per pair of k,
 * two zmm of packed B (16 columns x 2 k each) and, per row, a broadcast of the row's
 * two A values feed VDPBF16PS (16 float32 lanes += a0*b0 + a1*b1). On Zen 4 that is
 * twice the float32 FMA rate; on Sapphire Rapids about the same, so there AMX is
 * preferred. Compiled with target attributes; gemm_bf16.c checks the CPU first. */
#include "tensor/gemm_bf16_kernels_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <string.h>

#define MR 12
#define TARGET __attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl")))
#define INLINE static inline __attribute__((always_inline))

/* rows (4, 8 or 12: A is zero-padded that far) and nv (1 or 2 vectors of 16 columns)
 * are constants once inlined, so the accumulators live in registers. */
INLINE TARGET void tile(const int rows, const int nv, int64_t kc, const tensor_bf16 *a,
                        int64_t lda, const tensor_bf16 *b0, const tensor_bf16 *b1, float *c,
                        int64_t ldc, int m, int64_t n, float alpha, float beta) {
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; k += 2) {
        const __m512bh v0 = (__m512bh)_mm512_load_si512(b0 + k * 16);
        const __m512bh v1 = nv > 1 ? (__m512bh)_mm512_load_si512(b1 + k * 16) : v0;
#pragma GCC unroll 12
        for (int r = 0; r < rows; r++) {
            uint32_t pair;
            memcpy(&pair, a + r * lda + k, sizeof pair);
            const __m512bh av = (__m512bh)_mm512_set1_epi32((int)pair);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, v0);
            if (nv > 1) acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, v1);
        }
    }
    const __mmask16 k0 = (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
    const __mmask16 k1 = (__mmask16)(n >= 32 ? 0xFFFFu : n > 16 ? (1u << (n - 16)) - 1u : 0u);
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

#define CASE(rows, nv) tile(rows, nv, kc, ai, lda, b0, b1, cij, ldc, mm, nn, alpha, beta)

/* Column strips of 32 outside, so the strip of B (kc x 32) stays in L1 while the
 * packed A block streams past it. */
TARGET static void avx512bf16_block(int64_t kc, const tensor_bf16 *a, int64_t lda, int m,
                                    const tensor_bf16 *b, int64_t panel_stride, int64_t n,
                                    float *c, int64_t ldc, float alpha, float beta) {
    for (int64_t jr = 0; jr < n; jr += 32) {
        const tensor_bf16 *b0 = b + jr / 16 * panel_stride, *b1 = b0 + panel_stride;
        const int64_t nn = n - jr < 32 ? n - jr : 32;
        for (int ir = 0; ir < m; ir += MR) {
            const int mm = m - ir < MR ? m - ir : MR;
            const tensor_bf16 *ai = a + ir * lda;
            float *cij = c + ir * ldc + jr;
            if (nn > 16) {
                if (mm > 8) CASE(12, 2);
                else if (mm > 4) CASE(8, 2);
                else CASE(4, 2);
            } else {
                if (mm > 8) CASE(12, 1);
                else if (mm > 4) CASE(8, 1);
                else CASE(4, 1);
            }
        }
    }
}

const Bf16KernelInfo tensor__bf16_kernel_avx512bf16 = {"avx512bf16", 256, 256, avx512bf16_block};

#else

const Bf16KernelInfo tensor__bf16_kernel_avx512bf16 = {"avx512bf16", 256, 256, NULL};

#endif
