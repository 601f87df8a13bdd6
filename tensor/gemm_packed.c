/* SGEMM against a pre-packed right-hand matrix (see gemm_packed.h): op(B) is packed
 * once into the NR-wide k-major panels the run-time micro-kernel reads (gemm_avx512.c,
 * gemm_avx2.c), sliced along K exactly as gemm.c slices it, so a product here gives the
 * same bits as tensor_sgemm. Each call packs only its A rows. Per-thread scratch
 * buffers live here too. */
#include "tensor/gemm_packed_internal.h"

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/gemm_kernels_internal.h"
#include "tensor/thread_exit_internal.h"

#include <string.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

#define MAX_SLOTS 4

static _Thread_local float *scratch[MAX_SLOTS + 1];
static _Thread_local size_t scratch_cap[MAX_SLOTS + 1];

static void release_scratch(void) {
    for (int i = 0; i <= MAX_SLOTS; i++) {
        tensor_aligned_free(scratch[i]);
        scratch[i] = NULL;
        scratch_cap[i] = 0;
    }
}

/* Slot MAX_SLOTS is this file's own A-packing space. */
static float *scratch_get(int slot, size_t floats) {
    if (floats > scratch_cap[slot]) {
        tensor__release_at_thread_exit(release_scratch);
        tensor_aligned_free(scratch[slot]);
        /* Some headroom, so a slowly growing caller does not reallocate every call. */
        size_t cap = floats + floats / 8 + 1024;
        scratch[slot] = tensor_aligned_alloc(cap * sizeof(float));
        scratch_cap[slot] = cap;
    }
    return scratch[slot];
}

float *tensor_thread_scratch(int slot, size_t floats) {
    TENSOR_CHECK(slot >= 0 && slot < MAX_SLOTS, "thread scratch: slot %d is not in 0..%d", slot,
                 MAX_SLOTS - 1);
    return scratch_get(slot, floats);
}

/* The packed micro-kernel for this CPU, or NULL (portable kernel or BLAS backend: then
 * products go through tensor_sgemm_serial on the unpacked matrix). */
static const GemmKernelInfo *packed_kernel(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    const char *name = tensor_sgemm_kernel_name();
    if (!strcmp(name, "avx512")) return &tensor__gemm_kernel_avx512;
    if (!strcmp(name, "avx2")) return &tensor__gemm_kernel_avx2;
#endif
    return NULL;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* gemm.c's K slicing: equal-ish slices of at most max_block, multiples of align. */
static int64_t even_block(int64_t total, int64_t max_block, int64_t align) {
    int64_t parts = (total + max_block - 1) / max_block;
    return min64(max_block, round_up((total + parts - 1) / parts, align));
}

/* dst[k*dld + r] = src[r*ld + k] for r < rows, k < len (4 x 4 SSE transposes). */
static void copy_transposed(const float *src, int64_t ld, int64_t rows, int64_t len, float *dst,
                            int64_t dld) {
    int64_t r = 0;
#ifdef __SSE__
    for (; r + 4 <= rows; r += 4) {
        const float *s0 = src + r * ld, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
        float *d = dst + r;
        int64_t k = 0;
        for (; k + 4 <= len; k += 4) {
            __m128 x0 = _mm_loadu_ps(s0 + k), x1 = _mm_loadu_ps(s1 + k);
            __m128 x2 = _mm_loadu_ps(s2 + k), x3 = _mm_loadu_ps(s3 + k);
            _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
            _mm_storeu_ps(d + k * dld, x0);
            _mm_storeu_ps(d + (k + 1) * dld, x1);
            _mm_storeu_ps(d + (k + 2) * dld, x2);
            _mm_storeu_ps(d + (k + 3) * dld, x3);
        }
        for (; k < len; k++) {
            d[k * dld] = s0[k];
            d[k * dld + 1] = s1[k];
            d[k * dld + 2] = s2[k];
            d[k * dld + 3] = s3[k];
        }
    }
#endif
    for (; r < rows; r++)
        for (int64_t k = 0; k < len; k++) dst[k * dld + r] = src[r * ld + k];
}

/* dst[k*nr + j] = src[k*ld + j] for k < kc, j < n, zero for n <= j < nr: one panel,
 * written in order (panel by panel measured faster than row by row across panels).
 * Full panels copy a constant nr floats per row, a few vector moves (a call to memcpy
 * per 128-byte row would cost more than the copy). */
static inline __attribute__((always_inline)) void copy_rows_nr(const float *src, int64_t ld,
                                                                int64_t kc, const int nr,
                                                                float *dst) {
    for (int64_t k = 0; k < kc; k++) memcpy(dst + k * nr, src + k * ld, (size_t)nr * sizeof(float));
}

static void copy_rows(const float *src, int64_t ld, int64_t kc, int64_t n, int nr, float *dst) {
    if (n == nr && nr == 32) copy_rows_nr(src, ld, kc, 32, dst);
    else if (n == nr && nr == 16) copy_rows_nr(src, ld, kc, 16, dst);
    else
        for (int64_t k = 0; k < kc; k++) {
            memcpy(dst + k * nr, src + k * ld, (size_t)n * sizeof(float));
            memset(dst + k * nr + n, 0, (size_t)(nr - n) * sizeof(float));
        }
}

size_t tensor_packed_b_floats(int64_t K, int64_t width, int groups) {
    const int64_t nr = 32; /* the widest NR: enough for any kernel */
    return (size_t)(K > 0 ? K : 1) * (size_t)groups * (size_t)round_up(width > 0 ? width : 1, nr);
}

/* *pb for products that read op(B) in place (kernel NULL) or, with ki, from buf. */
static void describe(TensorPackedB *pb, const GemmKernelInfo *ki, float *buf, bool trans_b,
                     int64_t K, int groups, const int64_t *col0, int64_t width, const float *B,
                     int64_t ldb) {
    TENSOR_CHECK(groups >= 1 && groups <= TENSOR_PACKED_MAX_GROUPS && K >= 0 && width >= 0,
                 "pack_b: %d groups of width %lld, K = %lld", groups, (long long)width,
                 (long long)K);
    *pb = (TensorPackedB){.K = K, .width = width, .groups = groups, .kernel = ki, .data = buf,
                          .trans_b = trans_b, .B = B, .ldb = ldb};
    for (int g = 0; g < groups; g++) pb->col0[g] = col0[g];
}

void tensor_refer_b(TensorPackedB *pb, bool trans_b, int64_t K, int groups, const int64_t *col0,
                    int64_t width, const float *B, int64_t ldb) {
    describe(pb, NULL, NULL, trans_b, K, groups, col0, width, B, ldb);
}

void tensor_pack_b(TensorPackedB *pb, float *buf, bool trans_b, int64_t K, int groups,
                   const int64_t *col0, int64_t width, const float *B, int64_t ldb) {
    const GemmKernelInfo *ki = packed_kernel();
    describe(pb, ki, buf, trans_b, K, groups, col0, width, B, ldb);
    if (!ki || K == 0 || width == 0) return;
    const int nr = ki->nr;
    pb->kc = even_block(K, ki->kc, 16);
    pb->panels = (width + nr - 1) / nr;
    for (int64_t pc = 0; pc < K; pc += pb->kc) {
        const int64_t kc = min64(pb->kc, K - pc);
        float *slice = buf + pc * groups * pb->panels * nr;
        for (int g = 0; g < groups; g++) {
            float *dst = slice + g * pb->panels * kc * nr;
            for (int64_t p = 0; p < pb->panels; p++, dst += kc * nr) {
                const int64_t j = col0[g] + p * nr, n = min64(nr, width - p * nr);
                if (!trans_b) {
                    copy_rows(B + pc * ldb + j, ldb, kc, n, nr, dst);
                    continue;
                }
                /* op(B) = B^T: each panel column is a row of B, transposed in 4 x 4 blocks. */
                copy_transposed(B + j * ldb + pc, ldb, n, kc, dst, nr);
                if (n < nr)
                    for (int64_t k = 0; k < kc; k++)
                        memset(dst + k * nr + n, 0, (size_t)(nr - n) * sizeof(float));
            }
        }
    }
}

/* Rows of A, at most MC at a time, are packed per K slice; MC x kc stays in L2. */
enum { MC = 144 };
_Static_assert((int)MC <= (int)GEMM_MAX_ROW_TILES * 4, "row tiles of a packed block (mr >= 4)");

void tensor_sgemm_packed(int64_t M, float alpha, const float *A, int64_t lda,
                         const TensorPackedB *pb, float beta, float *C, int64_t ldc) {
    const int64_t K = pb->K, width = pb->width;
    TENSOR_CHECK(M >= 0 && (M == 0 || K == 0 || lda >= K), "sgemm_packed: M = %lld, lda = %lld",
                 (long long)M, (long long)lda);
    if (M == 0 || width == 0) return;
    if (K == 0 || alpha == 0.0f) {
        for (int g = 0; g < pb->groups; g++)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < width; j++) {
                    float *c = C + i * ldc + pb->col0[g] + j;
                    *c = beta == 0.0f ? 0.0f : beta * *c;
                }
        return;
    }
    const GemmKernelInfo *ki = pb->kernel;
    if (!ki) {
        for (int g = 0; g < pb->groups; g++) {
            const int64_t j = pb->col0[g];
            tensor_sgemm_serial(false, pb->trans_b, M, width, K, alpha, A, lda,
                                pb->trans_b ? pb->B + j * pb->ldb : pb->B + j, pb->ldb, beta,
                                C + j, ldc);
        }
        return;
    }
    const int mr = ki->mr, nr = ki->nr;
    const int64_t mc_blk = even_block(M, MC, mr), panels = pb->panels;
    float *a_pack = scratch_get(MAX_SLOTS, (size_t)(round_up(mc_blk, mr) * pb->kc));
    /* Whether one K slice of the packed B fits comfortably in a 1 MB L2. */
    const bool b_in_l2 = (size_t)pb->kc * (size_t)(pb->groups * panels * nr) * sizeof(float) <= (512u << 10);
    for (int64_t pc = 0; pc < K; pc += pb->kc) {
        const int64_t kc = min64(pb->kc, K - pc);
        const float beta_k = pc == 0 ? beta : 1.0f; /* later slices accumulate */
        const float *slice = pb->data + pc * pb->groups * panels * nr;
        for (int64_t ic = 0; ic < M; ic += mc_blk) {
            const int64_t mc = min64(mc_blk, M - ic);
            int64_t tile_r0[GEMM_MAX_ROW_TILES];
            int tile_h[GEMM_MAX_ROW_TILES];
            const int64_t tiles = gemm_row_tiles(mc, mr, tile_r0, tile_h);
            /* Tile t's panel at a_pack + t * mr * kc, zero-padded to mr rows. */
            for (int64_t t = 0; t < tiles; t++) {
                const int64_t r0 = tile_r0[t];
                const int m = tile_h[t];
                float *dst = a_pack + t * mr * kc;
                copy_transposed(A + (ic + r0) * lda + pc, lda, m, kc, dst, mr);
                if (m < mr)
                    for (int64_t k = 0; k < kc; k++)
                        memset(dst + k * mr + m, 0, (size_t)(mr - m) * sizeof(float));
            }
            if (b_in_l2) {
                /* An A panel stays in L1 while the B panels stream past it from L2. */
                for (int64_t t = 0; t < tiles; t++) {
                    const int m = tile_h[t];
                    const float *a = a_pack + t * mr * kc;
                    float *crow = C + (ic + tile_r0[t]) * ldc;
                    for (int g = 0; g < pb->groups; g++)
                        for (int64_t p = 0; p < panels; p++)
                            ki->kernel(kc, a, 1, mr, slice + (g * panels + p) * kc * nr,
                                       crow + pb->col0[g] + p * nr, ldc, m,
                                       (int)min64(nr, width - p * nr), alpha, beta_k);
                }
            } else {
                /* B too big for L2: each B panel is read from memory once and all the A
                 * panels (in L2) sweep it. */
                for (int g = 0; g < pb->groups; g++)
                    for (int64_t p = 0; p < panels; p++) {
                        const float *b = slice + (g * panels + p) * kc * nr;
                        const int n = (int)min64(nr, width - p * nr);
                        for (int64_t t = 0; t < tiles; t++)
                            ki->kernel(kc, a_pack + t * mr * kc, 1, mr, b,
                                       C + (ic + tile_r0[t]) * ldc + pb->col0[g] + p * nr, ldc,
                                       tile_h[t], n, alpha, beta_k);
                    }
            }
        }
    }
}
