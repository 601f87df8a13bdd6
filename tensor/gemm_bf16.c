/* bf16 GEMM driver: picks a kernel at run time, rounds and packs the float32 operands
 * to bf16 (op(B) into 16-column pair-interleaved panels, K slices of op(A) into
 * row-major blocks), cuts the product into K slices and row blocks for the caches, and
 * splits C's columns (or rows) among the kernel threads. Without AMX or AVX512-BF16 the
 * product is float32 SGEMM of the bf16-rounded operands: same inputs, float32 sums. */
#include "tensor/gemm_bf16_internal.h"

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/gemm_bf16_kernels_internal.h"
#include "tensor/parallel.h"
#include "tensor/thread_exit_internal.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Below this many flops (2*M*N*K) a fork/join costs more than a second thread saves. */
#define BF16_PARALLEL_FLOPS 1e6

/* Column (or row) unit of the thread split: both kernels sweep C in 32-wide strips. */
enum { SPLIT_UNIT = 32 };

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* ---- run-time kernel selection ---------------------------------------------------- */

static bool avx512bf16_available(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
}

bool tensor_gemm_bf16_kernel_available(const char *name) {
    if (!strcmp(name, "float32")) return true;
    if (!strcmp(name, "avx512bf16"))
        return tensor__bf16_kernel_avx512bf16.block && avx512bf16_available();
    if (!strcmp(name, "amx")) return tensor__bf16_kernel_amx.block && tensor__amx_enable();
    return false;
}

/* NULL stands for the float32 path. Racing first calls store the same value. */
static const Bf16KernelInfo *select_kernel(void) {
    static atomic_int chosen; /* 0 not chosen yet, 1 amx, 2 avx512bf16, 3 float32 */
    int c = atomic_load_explicit(&chosen, memory_order_acquire);
    if (c == 0) {
        const char *want = getenv("LAMINA_BF16_KERNEL");
        if (want && tensor_gemm_bf16_kernel_available(want))
            c = !strcmp(want, "amx") ? 1 : !strcmp(want, "avx512bf16") ? 2 : 3;
        else if (tensor_gemm_bf16_kernel_available("amx")) c = 1;
        else if (tensor_gemm_bf16_kernel_available("avx512bf16")) c = 2;
        else c = 3;
        atomic_store_explicit(&chosen, c, memory_order_release);
    }
    return c == 1 ? &tensor__bf16_kernel_amx : c == 2 ? &tensor__bf16_kernel_avx512bf16 : NULL;
}

const char *tensor_gemm_bf16_kernel_name(void) {
    const Bf16KernelInfo *ki = select_kernel();
    return ki ? ki->name : "float32";
}

/* ---- per-thread scratch ------------------------------------------------------------ */

/* Slots: 0 packed A, 1 packed B, 2-3 the float32 path's rounded operands. Separate from
 * tensor_thread_scratch, whose buffers a caller may hold across this call. */
enum { SLOTS = 4 };
static _Thread_local void *scratch[SLOTS];
static _Thread_local size_t scratch_cap[SLOTS];

static void release_scratch(void) {
    for (int i = 0; i < SLOTS; i++) {
        tensor_aligned_free(scratch[i]);
        scratch[i] = NULL;
        scratch_cap[i] = 0;
    }
}

static void *scratch_get(int slot, size_t bytes) {
    if (bytes > scratch_cap[slot]) {
        tensor__release_at_thread_exit(release_scratch);
        tensor_aligned_free(scratch[slot]);
        scratch[slot] = tensor_aligned_alloc(bytes);
        scratch_cap[slot] = bytes;
    }
    return scratch[slot];
}

/* ---- packing ------------------------------------------------------------------------ */

/* Pair row q of one panel from two rows of op(B) (r1 NULL past K): d[2j], d[2j+1] =
 * bf16(r0[j]), bf16(r1[j]) for j < cols, zeros up to 16 columns. */
static inline void pack_pair_row(const float *r0, const float *r1, int cols, tensor_bf16 *d) {
    for (int j = 0; j < cols; j++) {
        d[2 * j] = tensor_bf16_from_float(r0[j]);
        d[2 * j + 1] = r1 ? tensor_bf16_from_float(r1[j]) : 0;
    }
    for (int j = cols; j < 16; j++) d[2 * j] = d[2 * j + 1] = 0;
}

/* op(B) = B (K x N): pairs of B's rows, read along the rows. */
TENSOR_MULTIVERSION static void pack_b_rows(const float *B, int64_t ldb, int64_t K, int64_t N,
                                            int64_t Kp, tensor_bf16 *dst) {
    const int64_t panels = (N + 15) / 16;
    for (int64_t q = 0; q < Kp / 2; q++) {
        const float *r0 = 2 * q < K ? B + 2 * q * ldb : NULL;
        const float *r1 = 2 * q + 1 < K ? r0 + ldb : NULL;
        for (int64_t p = 0; p < panels; p++) {
            tensor_bf16 *d = dst + p * Kp * 16 + q * 32;
            if (!r0) memset(d, 0, 32 * sizeof *d);
            else pack_pair_row(r0 + 16 * p, r1 ? r1 + 16 * p : NULL, (int)min64(16, N - 16 * p), d);
        }
    }
}

/* op(B) = B^T (B is N x K): column j of op(B) is row j of B, read along it. */
TENSOR_MULTIVERSION static void pack_b_cols(const float *B, int64_t ldb, int64_t K, int64_t N,
                                            int64_t Kp, tensor_bf16 *dst) {
    const int64_t panels = (N + 15) / 16;
    for (int64_t j = 0; j < panels * 16; j++) {
        tensor_bf16 *d = dst + j / 16 * Kp * 16 + 2 * (j % 16);
        const float *src = B + j * ldb;
        int64_t k = 0;
        if (j < N)
            for (; k < K; k++) d[k / 2 * 32 + k % 2] = tensor_bf16_from_float(src[k]);
        for (; k < Kp; k++) d[k / 2 * 32 + k % 2] = 0;
    }
}

size_t tensor_bf16_packed_b_bytes(int64_t K, int64_t N) {
    TENSOR_CHECK(K >= 0 && N >= 0, "bf16_packed_b_bytes: negative size");
    return (size_t)round_up(K, 32) * (size_t)round_up(N, 16) * sizeof(tensor_bf16);
}

void tensor_bf16_pack_b(TensorBf16PackedB *pb, void *buf, bool trans_b, int64_t K, int64_t N,
                        const float *B, int64_t ldb) {
    TENSOR_CHECK(K >= 0 && N >= 0, "bf16_pack_b: negative size");
    TENSOR_CHECK(N == 0 || K == 0 || ldb >= (trans_b ? K : N), "bf16_pack_b: ldb %lld too small",
                 (long long)ldb);
    TENSOR_CHECK(((uintptr_t)buf & 63) == 0 || K == 0 || N == 0, "bf16_pack_b: buf not 64-byte aligned");
    const int64_t Kp = round_up(K, 32);
    *pb = (TensorBf16PackedB){K, N, Kp, buf};
    if (K == 0 || N == 0) return;
    if (trans_b) pack_b_cols(B, ldb, K, N, Kp, buf);
    else pack_b_rows(B, ldb, K, N, Kp, buf);
}

/* Rows i0..i0+mc of op(A), columns k0..k0+kc, as bf16 rows of kcp (kc rounded up to 32)
 * zero-padded, plus zero rows up to a multiple of BF16_A_ROW_PAD. */
TENSOR_MULTIVERSION static void pack_a_block(bool trans_a, const float *A, int64_t lda,
                                             int64_t i0, int64_t mc, int64_t k0, int64_t kc,
                                             int64_t kcp, tensor_bf16 *dst) {
    if (!trans_a) {
        for (int64_t i = 0; i < mc; i++) {
            tensor_bf16 *d = dst + i * kcp;
            const float *src = A + (i0 + i) * lda + k0;
            for (int64_t k = 0; k < kc; k++) d[k] = tensor_bf16_from_float(src[k]);
            memset(d + kc, 0, (size_t)(kcp - kc) * sizeof *d);
        }
    } else { /* op(A)(i, k) = A[k * lda + i]: rows of A are columns of the block */
        for (int64_t i = 0; i < mc; i++) memset(dst + i * kcp + kc, 0, (size_t)(kcp - kc) * sizeof *dst);
        for (int64_t k = 0; k < kc; k++) {
            const float *src = A + (k0 + k) * lda + i0;
            for (int64_t i = 0; i < mc; i++) dst[i * kcp + k] = tensor_bf16_from_float(src[i]);
        }
    }
    const int64_t rows = round_up(mc, BF16_A_ROW_PAD);
    memset(dst + mc * kcp, 0, (size_t)((rows - mc) * kcp) * sizeof *dst);
}

/* ---- drivers ------------------------------------------------------------------------ */

/* Block size <= max_block (a multiple of align) cutting total into equal-ish parts. */
static int64_t even_block(int64_t total, int64_t max_block, int64_t align) {
    const int64_t parts = (total + max_block - 1) / max_block;
    return min64(max_block, round_up((total + parts - 1) / parts, align));
}

static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float *c = C + i * ldc + j;
            *c = beta == 0.0f ? 0.0f : beta * *c; /* beta == 0 must not keep NaNs */
        }
}

/* C (M x N) from packed B on one thread with an ISA kernel. M, N, K >= 1. */
static void bf16_blocked(const Bf16KernelInfo *ki, bool trans_a, int64_t M, float alpha,
                         const float *A, int64_t lda, const TensorBf16PackedB *pb, float beta,
                         float *C, int64_t ldc) {
    const int64_t K = pb->K, N = pb->N;
    const int64_t kc_blk = even_block(K, ki->kc, 32), mc_blk = even_block(M, ki->mc, 32);
    tensor_bf16 *a_pack = scratch_get(0, (size_t)(mc_blk * kc_blk) * sizeof(tensor_bf16));
    for (int64_t pc = 0; pc < K; pc += kc_blk) {
        const int64_t kc = min64(kc_blk, K - pc), kcp = round_up(kc, 32);
        const float beta_k = pc == 0 ? beta : 1.0f; /* later slices accumulate */
        for (int64_t ic = 0; ic < M; ic += mc_blk) {
            const int64_t mc = min64(mc_blk, M - ic);
            pack_a_block(trans_a, A, lda, ic, mc, pc, kc, kcp, a_pack);
            ki->block(kcp, a_pack, kcp, (int)mc, pb->data + pc * 16, pb->Kp * 16, N,
                      C + ic * ldc, ldc, alpha, beta_k);
        }
    }
}

/* The float32 path: op(A) rounded to bf16 (as float32) against op(B) as float32, by
 * SGEMM (threaded or not). rb is op(B), K x N, already rounded. */
static void float32_path(bool threaded, bool trans_a, int64_t M, int64_t N, int64_t K,
                         float alpha, const float *A, int64_t lda, const float *rb, float beta,
                         float *C, int64_t ldc) {
    float *ra = scratch_get(2, (size_t)(M * K) * sizeof(float));
    for (int64_t i = 0; i < M; i++)
        for (int64_t k = 0; k < K; k++)
            ra[i * K + k] = tensor_bf16_round(trans_a ? A[k * lda + i] : A[i * lda + k]);
    (threaded ? tensor_sgemm : tensor_sgemm_serial)(false, false, M, N, K, alpha, ra, K, rb, N,
                                                    beta, C, ldc);
}

/* op(B) of the packed matrix back to float32 (the values are already bf16). */
static float *unpack_b(const TensorBf16PackedB *pb) {
    float *rb = scratch_get(3, (size_t)(pb->K * pb->N) * sizeof(float));
    for (int64_t k = 0; k < pb->K; k++)
        for (int64_t j = 0; j < pb->N; j++)
            rb[k * pb->N + j] =
                tensor_bf16_to_float(pb->data[j / 16 * pb->Kp * 16 + k / 2 * 32 + 2 * (j % 16) + k % 2]);
    return rb;
}

static void check_args(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                       int64_t lda, int64_t ldb, int64_t ldc) {
    TENSOR_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm_bf16: negative size %lldx%lldx%lld",
                 (long long)M, (long long)N, (long long)K);
    TENSOR_CHECK(M == 0 || K == 0 || lda >= (trans_a ? M : K), "gemm_bf16: lda %lld too small",
                 (long long)lda);
    TENSOR_CHECK(N == 0 || K == 0 || ldb >= (trans_b ? K : N), "gemm_bf16: ldb %lld too small",
                 (long long)ldb);
    TENSOR_CHECK(M == 0 || ldc >= N, "gemm_bf16: ldc %lld too small", (long long)ldc);
}

/* Packed-B product on this thread (or, threaded, the float32 path's SGEMM). */
static void packed_on_this_thread(bool threaded, bool trans_a, int64_t M, float alpha,
                                  const float *A, int64_t lda, const TensorBf16PackedB *pb,
                                  float beta, float *C, int64_t ldc) {
    const int64_t N = pb->N, K = pb->K;
    check_args(trans_a, false, M, N, K, lda, N, ldc);
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    const Bf16KernelInfo *ki = select_kernel();
    if (ki) bf16_blocked(ki, trans_a, M, alpha, A, lda, pb, beta, C, ldc);
    else float32_path(threaded, trans_a, M, N, K, alpha, A, lda, unpack_b(pb), beta, C, ldc);
}

void tensor_gemm_bf16_packed_serial(bool trans_a, int64_t M, float alpha, const float *A,
                                    int64_t lda, const TensorBf16PackedB *pb, float beta,
                                    float *C, int64_t ldc) {
    packed_on_this_thread(false, trans_a, M, alpha, A, lda, pb, beta, C, ldc);
}

/* Unpacked B on this thread: op(B) packed into scratch first (or rounded, float32). */
static void gemm_on_this_thread(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                                float alpha, const float *A, int64_t lda, const float *B,
                                int64_t ldb, float beta, float *C, int64_t ldc) {
    check_args(trans_a, trans_b, M, N, K, lda, ldb, ldc);
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    const Bf16KernelInfo *ki = select_kernel();
    if (!ki) {
        float *rb = scratch_get(3, (size_t)(K * N) * sizeof(float));
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < N; j++)
                rb[k * N + j] = tensor_bf16_round(trans_b ? B[j * ldb + k] : B[k * ldb + j]);
        float32_path(false, trans_a, M, N, K, alpha, A, lda, rb, beta, C, ldc);
        return;
    }
    TensorBf16PackedB pb;
    tensor_bf16_pack_b(&pb, scratch_get(1, tensor_bf16_packed_b_bytes(K, N)), trans_b, K, N, B, ldb);
    bf16_blocked(ki, trans_a, M, alpha, A, lda, &pb, beta, C, ldc);
}

void tensor_gemm_bf16_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                             float alpha, const float *A, int64_t lda, const float *B,
                             int64_t ldb, float beta, float *C, int64_t ldc) {
    gemm_on_this_thread(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* How a threaded call splits C: columns in SPLIT_UNIT strips when there are enough to
 * share, else rows. Returns the thread count (1: run serially). */
static int plan_split(int64_t M, int64_t N, int64_t K, float alpha, bool *split_n,
                      int64_t *units) {
    int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads <= 1 || 2.0 * (double)M * (double)N * (double)K < BF16_PARALLEL_FLOPS ||
        alpha == 0.0f || !select_kernel())
        return 1;
    const int64_t n_units = (N + SPLIT_UNIT - 1) / SPLIT_UNIT;
    const int64_t m_units = (M + SPLIT_UNIT - 1) / SPLIT_UNIT;
    *split_n = n_units >= 2 * threads || n_units >= m_units;
    *units = *split_n ? n_units : m_units;
    return *units < threads ? (int)*units : threads;
}

/* Static partition in whole units: thread t owns units [t*units/T, (t+1)*units/T) of
 * C, so the result depends only on the thread count. Each thread packs its own
 * columns of op(B) (all of them when the rows are split). */
void tensor_gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                      float *C, int64_t ldc) {
    bool split_n = false;
    int64_t units = 0;
    const int threads = plan_split(M, N, K, alpha, &split_n, &units);
    if (threads <= 1) {
        if (!select_kernel() && !omp_in_parallel()) { /* float32: SGEMM threads itself */
            check_args(trans_a, trans_b, M, N, K, lda, ldb, ldc);
            if (M == 0 || N == 0) return;
            if (K == 0 || alpha == 0.0f) {
                scale_c(M, N, beta, C, ldc);
                return;
            }
            float *rb = scratch_get(3, (size_t)(K * N) * sizeof(float));
            for (int64_t k = 0; k < K; k++)
                for (int64_t j = 0; j < N; j++)
                    rb[k * N + j] = tensor_bf16_round(trans_b ? B[j * ldb + k] : B[k * ldb + j]);
            float32_path(true, trans_a, M, N, K, alpha, A, lda, rb, beta, C, ldc);
        } else {
            gemm_on_this_thread(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        }
        return;
    }
    check_args(trans_a, trans_b, M, N, K, lda, ldb, ldc);
#pragma omp parallel num_threads(threads)
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t u0 = t * units / nt, u1 = (t + 1) * units / nt;
        if (split_n) {
            const int64_t j0 = u0 * SPLIT_UNIT, j1 = min64(N, u1 * SPLIT_UNIT);
            if (j1 > j0)
                gemm_on_this_thread(trans_a, trans_b, M, j1 - j0, K, alpha, A, lda,
                                    trans_b ? B + j0 * ldb : B + j0, ldb, beta, C + j0, ldc);
        } else {
            const int64_t i0 = u0 * SPLIT_UNIT, i1 = min64(M, u1 * SPLIT_UNIT);
            if (i1 > i0)
                gemm_on_this_thread(trans_a, trans_b, i1 - i0, N, K, alpha,
                                    trans_a ? A + i0 : A + i0 * lda, lda, B, ldb, beta,
                                    C + i0 * ldc, ldc);
        }
    }
}

void tensor_gemm_bf16_packed(bool trans_a, int64_t M, float alpha, const float *A, int64_t lda,
                             const TensorBf16PackedB *pb, float beta, float *C, int64_t ldc) {
    bool split_n = false;
    int64_t units = 0;
    const int threads = plan_split(M, pb->N, pb->K, alpha, &split_n, &units);
    if (threads <= 1) {
        packed_on_this_thread(!omp_in_parallel(), trans_a, M, alpha, A, lda, pb, beta, C, ldc);
        return;
    }
    check_args(trans_a, false, M, pb->N, pb->K, lda, pb->N, ldc);
#pragma omp parallel num_threads(threads)
    {
        const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t u0 = t * units / nt, u1 = (t + 1) * units / nt;
        TensorBf16PackedB part = *pb;
        if (split_n) {
            /* A column range of a packed matrix is whole panels from the range's start. */
            const int64_t j0 = u0 * SPLIT_UNIT, j1 = min64(pb->N, u1 * SPLIT_UNIT);
            part.N = j1 - j0;
            part.data = pb->data + j0 / 16 * pb->Kp * 16;
            if (j1 > j0) packed_on_this_thread(false, trans_a, M, alpha, A, lda, &part, beta, C + j0, ldc);
        } else {
            const int64_t i0 = u0 * SPLIT_UNIT, i1 = min64(M, u1 * SPLIT_UNIT);
            if (i1 > i0)
                packed_on_this_thread(false, trans_a, i1 - i0, alpha, trans_a ? A + i0 : A + i0 * lda,
                                      lda, pb, beta, C + i0 * ldc, ldc);
        }
    }
}
