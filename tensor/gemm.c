/* Built-in SGEMM driver, GotoBLAS/BLIS style: K is cut into kc-deep slices; per slice an
 * mc x kc block of op(A) and kc x nc blocks of op(B) are packed into micro-panels (the
 * packing absorbs both transposes), and a micro-kernel chosen at run time
 * (gemm_avx512.c, gemm_avx2.c or the portable one here) computes MR x NR tiles of C.
 * tensor_sgemm splits C's columns (or rows) among OpenMP threads. */
#include "tensor/gemm.h"

#include "tensor/error.h"

#ifdef LAMINA_BLAS
/* Optional backend: everything goes to the system CBLAS. */
#include <cblas.h>

static int64_t at_least_1(int64_t x) { return x < 1 ? 1 : x; }

void tensor_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc) {
    TENSOR_CHECK(M >= 0 && N >= 0 && K >= 0, "sgemm: negative size");
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, alpha, A,
                (int)at_least_1(lda), B, (int)at_least_1(ldb), beta, C, (int)ldc);
}

void tensor_sgemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         float *C, int64_t ldc) {
    tensor_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void tensor_sgemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                       const float *A, int64_t lda, const float *B, int64_t ldb,
                       const float *bias, float *C, int64_t ldc) {
    TENSOR_CHECK(M >= 0 && N >= 0 && K >= 0, "sgemm: negative size");
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) C[i * ldc + j] = bias[j];
    tensor_sgemm(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, C, ldc);
}

const char *tensor_sgemm_kernel_name(void) { return "blas"; }

#else /* built-in */

#include "tensor/gemm_kernels_internal.h"
#include "tensor/thread_exit_internal.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

/* Below this many flops (2*M*N*K) a fork/join costs more than a second thread saves. */
#define GEMM_PARALLEL_FLOPS 1e6

/* ---- portable micro-kernel: 4 x 8, written with GCC vector types (which any GCC
 * target lowers to its own SIMD, or to scalars) because plain loops get vectorised
 * along k with shuffles; other compilers get the plain loops. */

enum { GEN_MR = 4, GEN_NR = 8 };

static void generic_kernel(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a,
                           const float *b, float *c, int64_t ldc, int m, int n, float alpha,
                           float beta) {
    float acc[GEN_MR][GEN_NR];
#ifdef __GNUC__
    typedef float v4 __attribute__((vector_size(16)));
    v4 t[GEN_MR][2] = {{{0}}};
    for (int64_t k = 0; k < kc; k++) {
        v4 b0, b1;
        memcpy(&b0, b + k * GEN_NR, sizeof b0);
        memcpy(&b1, b + k * GEN_NR + 4, sizeof b1);
        for (int r = 0; r < GEN_MR; r++) {
            const float av = a[r * rs_a + k * cs_a];
            t[r][0] += av * b0;
            t[r][1] += av * b1;
        }
    }
    memcpy(acc, t, sizeof acc);
#else
    memset(acc, 0, sizeof acc);
    for (int64_t k = 0; k < kc; k++)
        for (int r = 0; r < GEN_MR; r++)
            for (int j = 0; j < GEN_NR; j++)
                acc[r][j] += a[r * rs_a + k * cs_a] * b[k * GEN_NR + j];
#endif
    for (int r = 0; r < m; r++)
        for (int j = 0; j < n; j++) {
            float *cij = c + r * ldc + j;
            *cij = beta == 0.0f ? alpha * acc[r][j] : alpha * acc[r][j] + beta * *cij;
        }
}

static const GemmKernelInfo gemm_kernel_generic = {"generic", GEN_MR, GEN_NR, 256, 512, 256,
                                                   generic_kernel, NULL};

/* ---- run-time kernel selection ---------------------------------------------------- */

static bool cpu_has(const char *name) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (!strcmp(name, "avx512")) return __builtin_cpu_supports("avx512f");
    if (!strcmp(name, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return !strcmp(name, "generic");
}

static const GemmKernelInfo *kernel_by_name(const char *name) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (!strcmp(name, "avx512")) return &tensor__gemm_kernel_avx512;
    if (!strcmp(name, "avx2")) return &tensor__gemm_kernel_avx2;
#endif
    (void)name;
    return &gemm_kernel_generic;
}

/* The best kernel the CPU runs. The environment variable LAMINA_GEMM_KERNEL (avx512,
 * avx2, generic) can ask for a lesser one, so tests can cover every kernel on one
 * machine; a kernel the CPU lacks is ignored. Racing first calls store the same value. */
static const GemmKernelInfo *select_kernel(void) {
    static _Atomic(const GemmKernelInfo *) chosen = NULL;
    const GemmKernelInfo *ki = atomic_load_explicit(&chosen, memory_order_acquire);
    if (ki) return ki;
    const char *want = getenv("LAMINA_GEMM_KERNEL");
    if (want && cpu_has(want)) ki = kernel_by_name(want);
    else if (cpu_has("avx512")) ki = kernel_by_name("avx512");
    else if (cpu_has("avx2")) ki = kernel_by_name("avx2");
    else ki = &gemm_kernel_generic;
    atomic_store_explicit(&chosen, ki, memory_order_release);
    return ki;
}

const char *tensor_sgemm_kernel_name(void) { return select_kernel()->name; }

/* ---- packing ------------------------------------------------------------------------ */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* Rows (of the source) ahead of the current one that packing prefetches: operands often
 * come straight from DRAM, and a few rows in flight let the reads stream. */
enum { AHEAD = 4 };

/* dst[k*dld + r] = src[r*ld + k] for r < rows, k < len: the transposing copy behind
 * packing A as stored and B transposed. Whole groups of 4 rows go through SSE 4 x 4
 * transposes (SSE is part of x86-64). */
static void copy_transposed(const float *src, int64_t ld, int64_t rows, int64_t len,
                            float *dst, int64_t dld) {
    int64_t r = 0;
#ifdef __SSE__
    for (; r + 4 <= rows; r += 4) {
        const float *s0 = src + r * ld, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
        float *d = dst + r;
        if (r + 4 + AHEAD <= rows)
            for (int64_t k = 0; k < len; k += 16)
                for (int i = 0; i < 4; i++) __builtin_prefetch(s0 + (AHEAD + i) * ld + k);
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

/* Zeroes columns from..width-1 of a rows x width row-major panel. The padding only feeds
 * tile rows and columns that are never stored, but stale bytes there could be denormals
 * (slow) or NaNs. */
static void zero_columns(float *dst, int64_t rows, int width, int from) {
    if (from < width)
        for (int64_t k = 0; k < rows; k++)
            memset(dst + k * width + from, 0, (size_t)(width - from) * sizeof(float));
}

/* One mr-row panel of op(A), rows i0..i0+m, k0..k0+kc, stored k-major (dst[k*mr + r])
 * and zero-padded to mr rows. */
static void pack_a_panel(bool trans_a, const float *A, int64_t lda, int64_t i0, int m,
                         int64_t k0, int64_t kc, int mr, float *dst) {
    if (!trans_a) {
        copy_transposed(A + i0 * lda + k0, lda, m, kc, dst, mr);
    } else {
        for (int64_t k = 0; k < kc; k++)
            memcpy(dst + k * mr, A + (k0 + k) * lda + i0, (size_t)m * sizeof(float));
    }
    zero_columns(dst, kc, mr, m);
}

/* Rows of B copied into nr-wide panels; inlined with constant nr so each memcpy becomes a
 * few vector moves. */
static inline __attribute__((always_inline)) void pack_b_rows(const float *B, int64_t ldb,
                                                               int64_t kc, int64_t nc, int nr,
                                                               float *dst) {
    const int64_t full = nc - nc % nr;
    for (int64_t k = 0; k < kc; k++) {
        const float *src = B + k * ldb;
        if (k + AHEAD < kc)
            for (int64_t j = 0; j < nc; j += 16) __builtin_prefetch(src + AHEAD * ldb + j);
        float *d = dst + k * nr;
        for (int64_t j = 0; j < full; j += nr, d += nr * kc)
            memcpy(d, src + j, (size_t)nr * sizeof(float));
        if (full < nc) memcpy(d, src + full, (size_t)(nc - full) * sizeof(float));
    }
}

/* A kc x nc block of op(B) (rows k0.., columns j0..) as nr-column panels, each stored
 * row by row (panel p at dst + p*nr*kc, element (k, j) at [k*nr + j]) and zero-padded
 * to nr columns. The loops run along B's contiguous rows. */
static void pack_b_block(bool trans_b, const float *B, int64_t ldb, int64_t k0, int64_t kc,
                         int64_t j0, int64_t nc, int nr, float *dst) {
    const int64_t tail = nc % nr, full = nc - tail;
    if (!trans_b) {
        B += k0 * ldb + j0;
        if (nr == 32) pack_b_rows(B, ldb, kc, nc, 32, dst);
        else if (nr == 16) pack_b_rows(B, ldb, kc, nc, 16, dst);
        else pack_b_rows(B, ldb, kc, nc, nr, dst);
    } else {
        /* op(B)(k, j) = B[j*ldb + k]: each column of op(B) is a contiguous row of B. */
        for (int64_t j = 0; j < nc; j += nr)
            copy_transposed(B + (j0 + j) * ldb + k0, ldb, min64(nr, nc - j), kc,
                            dst + j * kc, nr);
    }
    if (tail) zero_columns(dst + full * kc, kc, nr, (int)tail);
}

/* Packing space, per thread and reused across calls (grown on demand, freed when the
 * thread ends). */
static _Thread_local float *pack_buf;
static _Thread_local size_t pack_cap;

static void release_pack_space(void) {
    tensor_aligned_free(pack_buf);
    pack_buf = NULL;
    pack_cap = 0;
}

static float *pack_space(size_t floats) {
    if (floats > pack_cap) {
        tensor__release_at_thread_exit(release_pack_space);
        tensor_aligned_free(pack_buf);
        pack_buf = tensor_aligned_alloc(floats * sizeof(float));
        pack_cap = floats;
    }
    return pack_buf;
}

/* ---- driver ------------------------------------------------------------------------- */

/* Block size <= max_block (a multiple of align) that cuts total into equal-ish parts, so
 * that, say, K = 400 runs as 208 + 192 rather than 384 + 16. */
static int64_t even_block(int64_t total, int64_t max_block, int64_t align) {
    int64_t parts = (total + max_block - 1) / max_block;
    return min64(max_block, round_up((total + parts - 1) / parts, align));
}

/* C = beta * C, the whole job when K == 0 or alpha == 0. */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float *c = C + i * ldc + j;
            *c = beta == 0.0f ? 0.0f : beta * *c; /* beta == 0 must not keep NaNs */
        }
}

/* C's m x n tile = bias, for the first K slice to accumulate onto (beta = 1). */
static void fill_tile_with_bias(float *c, int64_t ldc, int m, int n, const float *bias) {
    for (int r = 0; r < m; r++) /* a loop, not memcpy: rows of <= NR floats, many calls */
        for (int j = 0; j < n; j++) c[r * ldc + j] = bias[j];
}

/* Up to this many rows of A, B is read in place. Measured on 2 threads, B in DRAM:
 * 64 x 1000 x 8643 5% faster than packing, 64 x 1000 x 4000 2%; at 128 rows packing
 * wins by 10%, and from 192 they are even. */
enum { B_IN_PLACE_MAX_ROWS = 64 };
_Static_assert((int)B_IN_PLACE_MAX_ROWS <= (int)GEMM_MAX_ROW_TILES, "row tiles of a B-in-place block");

/* gemm_blocked for few rows of A (B not transposed): each element of B then serves only
 * a few row tiles, and packing B would read and write all of it once more than the
 * product itself reads it. B is read where it is instead, one kc x NR strip at a time,
 * swept by every row tile of the packed A block while the strip sits in L1. */
static void gemm_b_in_place(const GemmKernelInfo *ki, bool trans_a, int64_t M, int64_t N,
                            int64_t K, float alpha, const float *A, int64_t lda,
                            const float *B, int64_t ldb, float beta, const float *bias,
                            float *C, int64_t ldc, int64_t kc_blk, int64_t mc_blk,
                            float *a_pack) {
    const int mr = ki->mr, nr = ki->nr;
    for (int64_t pc = 0; pc < K; pc += kc_blk) {
        const int64_t kc = min64(kc_blk, K - pc);
        const bool add_bias = bias && pc == 0;
        const float beta_k = pc == 0 && !bias ? beta : 1.0f; /* later slices accumulate */
        for (int64_t ic = 0; ic < M; ic += mc_blk) {
            const int64_t mc = min64(mc_blk, M - ic);
            int64_t r0[GEMM_MAX_ROW_TILES];
            int h[GEMM_MAX_ROW_TILES];
            const int64_t tiles = gemm_row_tiles(mc, mr, r0, h);
            for (int64_t t = 0; t < tiles; t++)
                pack_a_panel(trans_a, A, lda, ic + r0[t], h[t], pc, kc, mr, a_pack + t * mr * kc);
            for (int64_t jr = 0; jr < N; jr += nr) {
                const int n = (int)min64(nr, N - jr);
                const float *b = B + pc * ldb + jr;
                for (int64_t t = 0; t < tiles; t++) {
                    float *c = C + (ic + r0[t]) * ldc + jr;
                    if (add_bias) fill_tile_with_bias(c, ldc, h[t], n, bias + jr);
                    ki->kernel_b_in_place(kc, a_pack + t * mr * kc, b, ldb, c, ldc, h[t], n,
                                          alpha, beta_k);
                }
            }
        }
    }
}

/* The single-threaded algorithm on one block of C. M, N, K >= 1. A bias (alpha = 1,
 * beta = 0 then) is written into each C tile just before its first K slice. */
static void gemm_blocked(const GemmKernelInfo *ki, bool trans_a, bool trans_b, int64_t M,
                         int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                         const float *B, int64_t ldb, float beta, const float *bias, float *C,
                         int64_t ldc) {
    const int mr = ki->mr, nr = ki->nr;
    const int64_t kc_blk = even_block(K, ki->kc, 16);
    const int64_t mc_blk = even_block(M, ki->mc, mr);
    const int64_t nc_blk = even_block(N, ki->nc, nr);
    /* With one or two column panels each A element is used once or twice, so packing A
     * would cost more than it saves: full row panels are read in place. */
    const bool a_in_place = N <= 2 * nr;
    /* A in place still packs a last partial panel: room for one panel then. */
    const int64_t a_room = a_in_place ? mr : mc_blk;
    float *a_pack = pack_space((size_t)(a_room + nc_blk) * (size_t)kc_blk);
    float *b_pack = a_pack + a_room * kc_blk; /* 64-byte aligned: kc_blk % 16 == 0 */
    if (!a_in_place && !trans_b && ki->kernel_b_in_place && M <= B_IN_PLACE_MAX_ROWS) {
        gemm_b_in_place(ki, trans_a, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc,
                        kc_blk, mc_blk, a_pack);
        return;
    }

    for (int64_t pc = 0; pc < K; pc += kc_blk) {
        const int64_t kc = min64(kc_blk, K - pc);
        const bool add_bias = bias && pc == 0;
        const float beta_k = pc == 0 && !bias ? beta : 1.0f; /* later slices accumulate */
        for (int64_t ic = 0; ic < M; ic += mc_blk) {
            const int64_t mc = min64(mc_blk, M - ic);
            for (int64_t ir = 0; ir < mc && !a_in_place; ir += mr)
                pack_a_panel(trans_a, A, lda, ic + ir, (int)min64(mr, mc - ir), pc, kc, mr,
                             a_pack + ir * kc);
            for (int64_t jc = 0; jc < N; jc += nc_blk) {
                const int64_t nc = min64(nc_blk, N - jc);
                pack_b_block(trans_b, B, ldb, pc, kc, jc, nc, nr, b_pack);
                for (int64_t ir = 0; ir < mc; ir += mr) {
                    const int m = (int)min64(mr, mc - ir);
                    const float *a = a_pack + ir * kc;
                    int64_t rs_a = 1, cs_a = mr;
                    if (a_in_place && m == mr) {
                        a = trans_a ? A + pc * lda + ic + ir : A + (ic + ir) * lda + pc;
                        rs_a = trans_a ? 1 : lda;
                        cs_a = trans_a ? lda : 1;
                    } else if (a_in_place) {
                        a = a_pack;
                        pack_a_panel(trans_a, A, lda, ic + ir, m, pc, kc, mr, a_pack);
                    }
                    for (int64_t jr = 0; jr < nc; jr += nr) {
                        float *c = C + (ic + ir) * ldc + jc + jr;
                        const int n = (int)min64(nr, nc - jr);
                        if (add_bias) fill_tile_with_bias(c, ldc, m, n, bias + jc + jr);
                        ki->kernel(kc, a, rs_a, cs_a, b_pack + jr * kc, c, ldc, m, n, alpha,
                                   beta_k);
                    }
                }
            }
        }
    }
}

static void check_args(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                       int64_t lda, int64_t ldb, int64_t ldc) {
    TENSOR_CHECK(M >= 0 && N >= 0 && K >= 0, "sgemm: negative size %lldx%lldx%lld",
                 (long long)M, (long long)N, (long long)K);
    TENSOR_CHECK(M == 0 || K == 0 || lda >= (trans_a ? M : K), "sgemm: lda %lld too small",
                 (long long)lda);
    TENSOR_CHECK(N == 0 || K == 0 || ldb >= (trans_b ? K : N), "sgemm: ldb %lld too small",
                 (long long)ldb);
    TENSOR_CHECK(M == 0 || ldc >= N, "sgemm: ldc %lld too small", (long long)ldc);
}

/* C = beta * C, or every row = bias: the whole job when K == 0 or alpha == 0. */
static void degenerate(int64_t M, int64_t N, float beta, const float *bias, float *C,
                       int64_t ldc) {
    if (!bias) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    for (int64_t i = 0; i < M; i++) memcpy(C + i * ldc, bias, (size_t)N * sizeof(float));
}

static void sgemm_on_this_thread(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                                 float alpha, const float *A, int64_t lda, const float *B,
                                 int64_t ldb, float beta, const float *bias, float *C,
                                 int64_t ldc) {
    check_args(trans_a, trans_b, M, N, K, lda, ldb, ldc);
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == 0.0f) {
        degenerate(M, N, beta, bias, C, ldc);
        return;
    }
    gemm_blocked(select_kernel(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias,
                 C, ldc);
}

static void sgemm_threaded(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                           float alpha, const float *A, int64_t lda, const float *B, int64_t ldb,
                           float beta, const float *bias, float *C, int64_t ldc) {
    int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads <= 1 || 2.0 * (double)M * (double)N * (double)K < GEMM_PARALLEL_FLOPS ||
        alpha == 0.0f) {
        sgemm_on_this_thread(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, C,
                             ldc);
        return;
    }
    check_args(trans_a, trans_b, M, N, K, lda, ldb, ldc);
    const GemmKernelInfo *ki = select_kernel();
    /* Split the columns when there are enough NR-wide panels to share, else the rows. */
    const int64_t n_units = (N + ki->nr - 1) / ki->nr, m_units = (M + ki->mr - 1) / ki->mr;
    const bool split_n = n_units >= 2 * threads || n_units >= m_units;
    const int64_t units = split_n ? n_units : m_units;
    if (units < threads) threads = (int)units;

    /* Static partition in whole tiles: thread t owns units [t*units/T, (t+1)*units/T) of
     * C and computes them start to finish, so no two threads touch the same output and
     * the result depends only on the thread count. */
#pragma omp parallel num_threads(threads)
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t u0 = t * units / nt, u1 = (t + 1) * units / nt;
        if (split_n) {
            const int64_t j0 = u0 * ki->nr, j1 = min64(N, u1 * ki->nr);
            if (j1 > j0)
                gemm_blocked(ki, trans_a, trans_b, M, j1 - j0, K, alpha, A, lda,
                             trans_b ? B + j0 * ldb : B + j0, ldb, beta, bias ? bias + j0 : NULL,
                             C + j0, ldc);
        } else {
            const int64_t i0 = u0 * ki->mr, i1 = min64(M, u1 * ki->mr);
            if (i1 > i0)
                gemm_blocked(ki, trans_a, trans_b, i1 - i0, N, K, alpha,
                             trans_a ? A + i0 : A + i0 * lda, lda, B, ldb, beta, bias,
                             C + i0 * ldc, ldc);
        }
    }
}

void tensor_sgemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         float *C, int64_t ldc) {
    sgemm_on_this_thread(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C, ldc);
}

void tensor_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc) {
    sgemm_threaded(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C, ldc);
}

void tensor_sgemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                       const float *A, int64_t lda, const float *B, int64_t ldb,
                       const float *bias, float *C, int64_t ldc) {
    TENSOR_CHECK(bias || M == 0 || N == 0, "sgemm_bias: bias is NULL");
    sgemm_threaded(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, bias, C, ldc);
}

#endif /* LAMINA_BLAS */
