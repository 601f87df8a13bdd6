/* AMX bf16 GEMM kernel: 32 x 32 blocks of C in four 16 x 16 float32 accumulator tiles,
 * fed by two A tiles (16 rows x 32 k) and two B tiles (16 k-pairs x 16 columns) per 32
 * k, so each loaded tile serves two TDPBF16PS. Compiled with target attributes, not a
 * global -m flag: gemm_bf16.c calls it only after tensor__amx_enable() said yes. */
#define _GNU_SOURCE /* syscall() */
#include "tensor/gemm_bf16_kernels_internal.h"

#include <stdatomic.h>

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TARGET __attribute__((target("amx-tile,amx-bf16,avx512f")))
#define INLINE static inline __attribute__((always_inline))

enum { ARCH_GET_XCOMP_PERM = 0x1022, ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };

static bool amx_probe(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (!(d & (1u << 22)) || !(d & (1u << 24))) return false; /* amx-bf16, amx-tile */
    /* Linux hands out the 8 KiB of tile state only on request; without it the first
     * tile instruction faults. */
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return false;
    unsigned long perm = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) != 0) return false;
    return (perm >> XFEATURE_XTILEDATA) & 1u;
}

bool tensor__amx_enable(void) {
    static atomic_int state; /* 0 not asked yet, 1 granted, 2 not available */
    int s = atomic_load(&state);
    if (s == 0) {
        s = amx_probe() ? 1 : 2;
        atomic_store(&state, s);
    }
    return s == 1;
}

/* Palette 1: tiles 0-3 accumulate C (16 rows of 16 floats), 4-5 hold A (16 rows of 32
 * bf16), 6-7 hold B (16 k-pairs of 16 columns). */
typedef struct __attribute__((packed, aligned(64))) {
    uint8_t palette_id, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} TileConfig;

TARGET static void configure_tiles(void) {
    TileConfig cfg = {0};
    cfg.palette_id = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    _tile_loadconfig(&cfg);
}

/* An accumulator tile is loaded from and stored to C directly when it lies wholly
 * inside C and alpha is 1 with beta 0 or 1 (the common calls); otherwise it goes through
 * a scratch tile and a scalar alpha/beta pass. */
INLINE bool direct(int r0, int c0, int m, int64_t n, float alpha, float beta) {
    return r0 + 16 <= m && c0 + 16 <= n && alpha == 1.0f && (beta == 0.0f || beta == 1.0f);
}

TARGET static void finish_tile(const float *t, float *c, int64_t ldc, int rows, int cols,
                               float alpha, float beta) {
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            float *cij = c + i * ldc + j;
            *cij = beta == 0.0f ? alpha * t[i * 16 + j] : alpha * t[i * 16 + j] + beta * *cij;
        }
}

#define INIT(T, r0, c0)                                                                   \
    do {                                                                                  \
        if (direct(r0, c0, m, n, alpha, beta) && beta == 1.0f)                            \
            _tile_loadd(T, c + (r0) * ldc + (c0), ldc * 4);                               \
        else                                                                              \
            _tile_zero(T);                                                                \
    } while (0)

#define FINISH(T, r0, c0)                                                                 \
    do {                                                                                  \
        if (direct(r0, c0, m, n, alpha, beta)) {                                          \
            _tile_stored(T, c + (r0) * ldc + (c0), ldc * 4);                              \
        } else if ((r0) < m && (c0) < n) {                                                \
            _tile_stored(T, scratch, 64);                                                 \
            finish_tile(scratch, c + (r0) * ldc + (c0), ldc, m - (r0) < 16 ? m - (r0) : 16, \
                        n - (c0) < 16 ? (int)(n - (c0)) : 16, alpha, beta);               \
        }                                                                                 \
    } while (0)

/* One block of up to 32 x 32 of C (m, n relative to c); rows2/cols2: whether the second
 * 16 rows / columns exist, constants once inlined. */
INLINE TARGET void tile_block(const bool rows2, const bool cols2, int64_t kc,
                              const tensor_bf16 *a, int64_t lda, int m, const tensor_bf16 *b0,
                              const tensor_bf16 *b1, int64_t n, float *c, int64_t ldc,
                              float alpha, float beta) {
    float scratch[256] __attribute__((aligned(64)));
    INIT(0, 0, 0);
    if (cols2) INIT(1, 0, 16);
    if (rows2) INIT(2, 16, 0);
    if (rows2 && cols2) INIT(3, 16, 16);
    const int64_t sa = lda * (int64_t)sizeof(tensor_bf16);
    for (int64_t k = 0; k < kc; k += 32) {
        _tile_loadd(4, a + k, sa);
        _tile_loadd(6, b0 + k * 16, 64);
        _tile_dpbf16ps(0, 4, 6);
        if (cols2) {
            _tile_loadd(7, b1 + k * 16, 64);
            _tile_dpbf16ps(1, 4, 7);
        }
        if (rows2) {
            _tile_loadd(5, a + 16 * lda + k, sa);
            _tile_dpbf16ps(2, 5, 6);
            if (cols2) _tile_dpbf16ps(3, 5, 7);
        }
    }
    FINISH(0, 0, 0);
    if (cols2) FINISH(1, 0, 16);
    if (rows2) FINISH(2, 16, 0);
    if (rows2 && cols2) FINISH(3, 16, 16);
}

/* Column strips of 32 outside, row blocks inside: the strip of B (kc x 32, 32 KiB at
 * kc = 512) stays in L1 while the packed A block streams from L2. */
TARGET static void amx_block(int64_t kc, const tensor_bf16 *a, int64_t lda, int m,
                             const tensor_bf16 *b, int64_t panel_stride, int64_t n, float *c,
                             int64_t ldc, float alpha, float beta) {
    configure_tiles();
    for (int64_t jr = 0; jr < n; jr += 32) {
        const tensor_bf16 *b0 = b + jr / 16 * panel_stride, *b1 = b0 + panel_stride;
        const int64_t nn = n - jr < 32 ? n - jr : 32;
        for (int ir = 0; ir < m; ir += 32) {
            const int mm = m - ir < 32 ? m - ir : 32;
            const tensor_bf16 *ai = a + ir * lda;
            float *cij = c + ir * ldc + jr;
            if (mm > 16 && nn > 16) tile_block(true, true, kc, ai, lda, mm, b0, b1, nn, cij, ldc, alpha, beta);
            else if (mm > 16) tile_block(true, false, kc, ai, lda, mm, b0, b1, nn, cij, ldc, alpha, beta);
            else if (nn > 16) tile_block(false, true, kc, ai, lda, mm, b0, b1, nn, cij, ldc, alpha, beta);
            else tile_block(false, false, kc, ai, lda, mm, b0, b1, nn, cij, ldc, alpha, beta);
        }
    }
    /* Hands the tile state back, so context switches do not save 8 KiB for it. */
    _tile_release();
}

const Bf16KernelInfo tensor__bf16_kernel_amx = {"amx", 512, 256, amx_block};

#else /* not x86-64 Linux with GCC-compatible intrinsics */

bool tensor__amx_enable(void) { return false; }

const Bf16KernelInfo tensor__bf16_kernel_amx = {"amx", 512, 256, NULL};

#endif
