/* Broadcasting kernels: the broadcast shape of two shapes, y = a op b over broadcast
 * inputs, and its adjoint (sum a gradient back to an input's shape). Both kernels first
 * drop dims of size 1 and merge neighbouring dims that step the same way, so most
 * shapes end up as one flat run (same shape, scalar) or rows (bias add, per-row
 * scale); only what is left goes through the general strided walk. */
#include "tensor/broadcast.h"

#include "tensor/error.h"
#include "tensor/parallel.h"
#include "tensor/tensor.h"

#include <stddef.h>

/* CPU-specific copies of the inner workers (AVX-512, AVX2, baseline), picked once at
 * load time as in reduce.c; the OpenMP bodies calling them are not cloned. */
#if defined(__has_attribute) && defined(__x86_64__) && !defined(LAMINA_NO_TARGET_CLONES)
#if __has_attribute(target_clones)
#define BCAST_WORKER static TENSOR_MULTIVERSION
#endif
#endif
#ifndef BCAST_WORKER
#define BCAST_WORKER static
#endif

int tensor_broadcast_shape(int a_ndim, const int64_t *a_shape, int b_ndim, const int64_t *b_shape,
                           int *out_ndim, int64_t *out_shape) {
    TENSOR_CHECK(a_ndim >= 0 && a_ndim <= TENSOR_MAX_DIMS && b_ndim >= 0 &&
                     b_ndim <= TENSOR_MAX_DIMS,
                 "broadcast: ranks must be in 0..%d, got %d and %d", TENSOR_MAX_DIMS, a_ndim,
                 b_ndim);
    int nd = a_ndim > b_ndim ? a_ndim : b_ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        int da = d - (nd - a_ndim), db = d - (nd - b_ndim);
        int64_t ea = da >= 0 ? a_shape[da] : 1, eb = db >= 0 ? b_shape[db] : 1;
        if (ea == eb || eb == 1) shape[d] = ea;
        else if (ea == 1) shape[d] = eb;
        else return -1;
    }
    *out_ndim = nd;
    for (int d = 0; d < nd; d++) out_shape[d] = shape[d];
    return 0;
}

bool tensor_broadcasts_to(int x_ndim, const int64_t *x_shape, int y_ndim, const int64_t *y_shape) {
    if (x_ndim < 0 || x_ndim > y_ndim) return false;
    for (int d = 0; d < x_ndim; d++) {
        int64_t ex = x_shape[d], ey = y_shape[d + y_ndim - x_ndim];
        if (ex != ey && ex != 1) return false;
    }
    return true;
}

/* ---- forward ---- */

/* `rows` runs of n outputs each, run r at y + r * n, reading a + r * ra and
 * b + r * rb; within a run ia / ib are 1 when a / b advance with y and 0 when they
 * stay on one element. The op and the stride pattern are chosen once, outside the
 * loops, so each inner loop is a plain vectorisable one and short runs (a bias of a
 * few elements) cost no call or dispatch per run. */
#define BIN_LOOP(XA, XB, EXPR)                                   \
    do {                                                         \
        if (acc)                                                 \
            for (int64_t i = 0; i < n; i++) {                    \
                const float x = (XA), z = (XB);                  \
                yr[i] += (EXPR);                                 \
            }                                                    \
        else                                                     \
            for (int64_t i = 0; i < n; i++) {                    \
                const float x = (XA), z = (XB);                  \
                yr[i] = (EXPR);                                  \
            }                                                    \
    } while (0)

#define BIN_ROWS(EXPR)                                                   \
    do {                                                                 \
        for (int64_t r = 0; r < rows; r++) {                             \
            const float *ar = a + r * ra, *br = b + r * rb;              \
            float *yr = y + r * n;                                       \
            if (ia && ib) {                                              \
                BIN_LOOP(ar[i], br[i], EXPR);                            \
            } else if (ia) {                                             \
                const float bs = br[0];                                  \
                BIN_LOOP(ar[i], bs, EXPR);                               \
            } else if (ib) {                                             \
                const float as = ar[0];                                  \
                BIN_LOOP(as, br[i], EXPR);                               \
            } else {                                                     \
                const float as = ar[0], bs = br[0];                      \
                BIN_LOOP(as, bs, EXPR);                                  \
            }                                                            \
        }                                                                \
    } while (0)

BCAST_WORKER void rows_apply(TensorBinaryOp op, const float *a, int64_t ra, int ia, const float *b,
                       int64_t rb, int ib, float *y, int64_t rows, int64_t n, bool acc) {
    switch (op) {
    case TENSOR_BINARY_ADD: BIN_ROWS(x + z); break;
    case TENSOR_BINARY_SUB: BIN_ROWS(x - z); break;
    case TENSOR_BINARY_MUL: BIN_ROWS(x * z); break;
    case TENSOR_BINARY_DIV: BIN_ROWS(x / z); break;
    case TENSOR_BINARY_COUNT: break; /* refused by the caller */
    }
}

/* The output shape with size-1 dims dropped and mergeable neighbours merged; sa / sb
 * are a's and b's element strides per merged dim (0 where that side is stretched). */
typedef struct {
    int nd;
    int64_t len[TENSOR_MAX_DIMS], sa[TENSOR_MAX_DIMS], sb[TENSOR_MAX_DIMS];
} BinPlan;

static void bin_plan(BinPlan *p, int a_ndim, const int64_t *a_shape, int b_ndim,
                     const int64_t *b_shape, int y_ndim, const int64_t *y_shape) {
    int64_t len[TENSOR_MAX_DIMS], sa[TENSOR_MAX_DIMS], sb[TENSOR_MAX_DIMS];
    int n = 0;
    int64_t ca = 1, cb = 1; /* contiguous strides of a and b at dim d */
    for (int d = y_ndim - 1; d >= 0; d--) { /* innermost first */
        int da = d - (y_ndim - a_ndim), db = d - (y_ndim - b_ndim);
        int64_t ea = da >= 0 ? a_shape[da] : 1, eb = db >= 0 ? b_shape[db] : 1;
        int64_t stra = ea == 1 ? 0 : ca, strb = eb == 1 ? 0 : cb;
        ca *= ea;
        cb *= eb;
        if (y_shape[d] == 1) continue;
        /* Merge into the inner neighbour when stepping this dim is the same as
         * running off the end of the inner one, for both operands. */
        if (n > 0 && sa[n - 1] * len[n - 1] == stra && sb[n - 1] * len[n - 1] == strb) {
            len[n - 1] *= y_shape[d];
        } else {
            len[n] = y_shape[d];
            sa[n] = stra;
            sb[n] = strb;
            n++;
        }
    }
    p->nd = n;
    for (int k = 0; k < n; k++) { /* outermost first */
        p->len[k] = len[n - 1 - k];
        p->sa[k] = sa[n - 1 - k];
        p->sb[k] = sb[n - 1 - k];
    }
}

#define FLAT_CHUNK 16384   /* elements per parallel work item on a flat run */
#define ROWS_CHUNK_ELEMS 4096 /* about this many elements per parallel work item on row paths */

void tensor_binary_broadcast(TensorBinaryOp op, const float *a, int a_ndim, const int64_t *a_shape,
                             const float *b, int b_ndim, const int64_t *b_shape, float *y,
                             bool accumulate) {
    int y_ndim;
    int64_t y_shape[TENSOR_MAX_DIMS];
    if (tensor_broadcast_shape(a_ndim, a_shape, b_ndim, b_shape, &y_ndim, y_shape) != 0) {
        char sa[128], sb[128];
        tensor_fatal(__FILE__, __LINE__, "binary_broadcast: shapes cannot broadcast: got %s and %s",
                     tensor_shape_str(a_ndim, a_shape, sa, sizeof sa),
                     tensor_shape_str(b_ndim, b_shape, sb, sizeof sb));
    }
    TENSOR_CHECK((unsigned)op < TENSOR_BINARY_COUNT, "binary_broadcast: unknown op %d", (int)op);
    int64_t size = tensor_shape_size(y_ndim, y_shape);
    if (size == 0) return;
    BinPlan p;
    bin_plan(&p, a_ndim, a_shape, b_ndim, b_shape, y_ndim, y_shape);
    const bool acc = accumulate;

    if (p.nd == 0) { /* every dim is 1: one element */
        rows_apply(op, a, 0, 0, b, 0, 0, y, 1, 1, acc);
        return;
    }
    const int64_t n = p.len[p.nd - 1];
    const int ia = p.sa[p.nd - 1] != 0, ib = p.sb[p.nd - 1] != 0; /* inner strides are 0 or 1 */

    if (p.nd == 1) {
        /* Fast path: same shape, or one side a single element. */
        int64_t chunks = (n + FLAT_CHUNK - 1) / FLAT_CHUNK;
        TENSOR_PARALLEL_FOR(size)
        for (int64_t c = 0; c < chunks; c++) {
            int64_t off = c * FLAT_CHUNK, len = n - off < FLAT_CHUNK ? n - off : FLAT_CHUNK;
            rows_apply(op, a + off * ia, 0, ia, b + off * ib, 0, ib, y + off, 1, len, acc);
        }
        return;
    }

    if (p.nd == 2) {
        /* Fast path: rows. Covers (B, T, H) + (H) (b's row repeated), its mirror,
         * (R, n) * (R, 1) (one b value per row) and outer products (R, 1) op (n).
         * Work items are blocks of whole rows. */
        const int64_t rows = p.len[0], ra = p.sa[0], rb = p.sb[0];
        int64_t per = ROWS_CHUNK_ELEMS / n;
        if (per < 1) per = 1;
        const int64_t chunks = (rows + per - 1) / per;
        TENSOR_PARALLEL_FOR(size)
        for (int64_t c = 0; c < chunks; c++) {
            int64_t r0 = c * per, cnt = rows - r0 < per ? rows - r0 : per;
            rows_apply(op, a + r0 * ra, ra, ia, b + r0 * rb, rb, ib, y + r0 * n, cnt, n, acc);
        }
        return;
    }

    /* General path: the innermost two merged dims form "planes" of rows with fixed
     * row strides, handed to rows_apply whole; planes are walked in chunks, each of
     * which decodes its first plane's position once, then steps an odometer. */
    const int outer = p.nd - 2; /* dims above the planes */
    const int64_t prow = p.len[p.nd - 2], ra = p.sa[p.nd - 2], rb = p.sb[p.nd - 2];
    const int64_t plane = prow * n, planes = size / plane;
    int64_t per = ROWS_CHUNK_ELEMS / plane;
    if (per < 1) per = 1;
    const int64_t chunks = (planes + per - 1) / per;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t q0 = c * per, q1 = q0 + per < planes ? q0 + per : planes;
        int64_t idx[TENSOR_MAX_DIMS], oa = 0, ob = 0, rem = q0;
        for (int k = outer - 1; k >= 0; k--) {
            idx[k] = rem % p.len[k];
            rem /= p.len[k];
            oa += idx[k] * p.sa[k];
            ob += idx[k] * p.sb[k];
        }
        for (int64_t q = q0; q < q1; q++) {
            rows_apply(op, a + oa, ra, ia, b + ob, rb, ib, y + q * plane, prow, n, acc);
            for (int k = outer - 1; k >= 0; k--) {
                oa += p.sa[k];
                ob += p.sb[k];
                if (++idx[k] < p.len[k]) break;
                oa -= p.len[k] * p.sa[k];
                ob -= p.len[k] * p.sb[k];
                idx[k] = 0;
            }
        }
    }
}

/* ---- reduce to shape ---- */

/* A list of dims (outermost first) with their strides in g, for odometer walks. */
typedef struct {
    int n;
    int64_t len[TENSOR_MAX_DIMS], str[TENSOR_MAX_DIMS];
} DimList;

/* Offset in g of the flat (row-major) index `flat` over the dims of d. */
static inline int64_t dims_offset(const DimList *d, int64_t flat) {
    int64_t off = 0;
    for (int k = d->n - 1; k >= 0; k--) {
        off += (flat % d->len[k]) * d->str[k];
        flat /= d->len[k];
    }
    return off;
}

/* Sets the odometer idx to the flat index `flat` over d; returns its offset in g. */
static inline int64_t dims_start(const DimList *d, int64_t flat, int64_t *idx) {
    int64_t off = 0;
    for (int k = d->n - 1; k >= 0; k--) {
        idx[k] = flat % d->len[k];
        flat /= d->len[k];
        off += idx[k] * d->str[k];
    }
    return off;
}

/* Steps the odometer idx over d by one position, keeping *off in sync. */
static inline void dims_next(const DimList *d, int64_t *idx, int64_t *off) {
    for (int k = d->n - 1; k >= 0; k--) {
        *off += d->str[k];
        if (++idx[k] < d->len[k]) return;
        *off -= d->len[k] * d->str[k];
        idx[k] = 0;
    }
}

/* Sum of n contiguous floats in double, in a fixed order (four interleaved partial
 * sums, so the loop is not one long dependency chain). */
static inline double sum_run(const float *p, int64_t n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        s0 += p[j];
        s1 += p[j + 1];
        s2 += p[j + 2];
        s3 += p[j + 3];
    }
    for (; j < n; j++) s0 += p[j];
    return (s0 + s1) + (s2 + s3);
}

#define RED_BLOCK 2048 /* most columns one work item sums at once (16 KB of accumulators) */

/* gx[i] += scale * g[i] for i < n. */
BCAST_WORKER void scaled_add(const float *g, float *gx, int64_t n, float scale) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) gx[i] += scale * g[i];
}

/* acc[j] += p[r * ld + j] for r < rows, j < cn, rows in order (double accumulators). */
BCAST_WORKER void rows_sum_f64(const float *p, int64_t rows, int64_t ld, int64_t cn, double *acc) {
    int64_t r = 0;
    /* Four rows per sweep: each accumulator is loaded and stored once per four adds,
     * which are still made one row after another. */
    for (; r + 4 <= rows; r += 4) {
        const float *q0 = p + r * ld, *q1 = q0 + ld, *q2 = q1 + ld, *q3 = q2 + ld;
#pragma omp simd
        for (int64_t j = 0; j < cn; j++) {
            double a = acc[j];
            a += q0[j];
            a += q1[j];
            a += q2[j];
            a += q3[j];
            acc[j] = a;
        }
    }
    for (; r < rows; r++) {
        const float *q = p + r * ld;
#pragma omp simd
        for (int64_t j = 0; j < cn; j++) acc[j] += q[j];
    }
}

void tensor_reduce_to_shape_add(const float *g, int g_ndim, const int64_t *g_shape, float *gx,
                                int x_ndim, const int64_t *x_shape, float scale) {
    if (!tensor_broadcasts_to(x_ndim, x_shape, g_ndim, g_shape)) {
        char sx[128], sg[128];
        tensor_fatal(__FILE__, __LINE__,
                     "reduce_to_shape: %s does not broadcast to the gradient's shape %s",
                     tensor_shape_str(x_ndim, x_shape, sx, sizeof sx),
                     tensor_shape_str(g_ndim, g_shape, sg, sizeof sg));
    }
    const int64_t gsize = tensor_shape_size(g_ndim, g_shape);
    const int64_t xsize = tensor_shape_size(x_ndim, x_shape);
    if (gsize == 0 || xsize == 0) return; /* nothing to add (an empty sum is 0) */

    if (xsize == gsize) { /* fast path: nothing stretched, same layout */
        const int64_t chunks = (gsize + FLAT_CHUNK - 1) / FLAT_CHUNK;
        TENSOR_PARALLEL_FOR(gsize)
        for (int64_t c = 0; c < chunks; c++) {
            const int64_t off = c * FLAT_CHUNK;
            scaled_add(g + off, gx + off, gsize - off < FLAT_CHUNK ? gsize - off : FLAT_CHUNK, scale);
        }
        return;
    }

    /* g's dims (size-1 dims dropped) merged into alternating kept / summed groups. */
    int nd = 0;
    int64_t len[TENSOR_MAX_DIMS], str[TENSOR_MAX_DIMS];
    bool red[TENSOR_MAX_DIMS];
    for (int d = 0; d < g_ndim; d++) {
        if (g_shape[d] == 1) continue;
        int dx = d - (g_ndim - x_ndim);
        bool r = (dx >= 0 ? x_shape[dx] : 1) == 1;
        if (nd > 0 && red[nd - 1] == r) {
            len[nd - 1] *= g_shape[d];
        } else {
            len[nd] = g_shape[d];
            red[nd] = r;
            nd++;
        }
    }
    str[nd - 1] = 1;
    for (int k = nd - 2; k >= 0; k--) str[k] = str[k + 1] * len[k + 1];
    const int64_t per_out = gsize / xsize; /* terms summed into each element of gx */

    if (red[nd - 1]) {
        /* The innermost group is summed: each element of gx sums runs of R contiguous
         * floats, one run per position of the outer summed dims. E.g. (B, T, H) to
         * (B, T, 1). */
        const int64_t R = len[nd - 1];
        DimList kept = {0}, outer_red = {0};
        for (int k = 0; k < nd - 1; k++) {
            DimList *dl = red[k] ? &outer_red : &kept;
            dl->len[dl->n] = len[k];
            dl->str[dl->n] = str[k];
            dl->n++;
        }
        if (outer_red.n == 0) { /* one run per output, at o * R (e.g. row sums) */
            TENSOR_PARALLEL_FOR(gsize)
            for (int64_t o = 0; o < xsize; o++) gx[o] += (float)(scale * sum_run(g + o * R, R));
            return;
        }
        const int64_t runs = per_out / R;
        int64_t per = ROWS_CHUNK_ELEMS / per_out;
        if (per < 1) per = 1;
        const int64_t chunks = (xsize + per - 1) / per;
        TENSOR_PARALLEL_FOR(gsize)
        for (int64_t c = 0; c < chunks; c++) {
            int64_t o0 = c * per, o1 = o0 + per < xsize ? o0 + per : xsize;
            int64_t kidx[TENSOR_MAX_DIMS], koff = dims_start(&kept, o0, kidx);
            for (int64_t o = o0; o < o1; o++) {
                int64_t idx[TENSOR_MAX_DIMS] = {0}, off = 0;
                double s = 0;
                for (int64_t t = 0; t < runs; t++) {
                    s += sum_run(g + koff + off, R);
                    dims_next(&outer_red, idx, &off);
                }
                gx[o] += (float)(scale * s);
                dims_next(&kept, kidx, &koff);
            }
        }
        return;
    }

    /* The innermost group is kept, K contiguous columns (e.g. (B, T, H) to (H) for a
     * bias). A work item owns a block of columns of one outer output position and
     * walks every summed position, adding short contiguous runs into double
     * accumulators. The block width only splits the work; each column's terms are
     * added in the same order whatever it is, so it may depend on the thread count. */
    const int64_t K = len[nd - 1];
    DimList outer_kept = {0}, reduced = {0};
    for (int k = 0; k < nd - 1; k++) {
        DimList *dl = red[k] ? &reduced : &outer_kept;
        dl->len[dl->n] = len[k];
        dl->str[dl->n] = str[k];
        dl->n++;
    }
    const int64_t P = xsize / K;
    int64_t blk = RED_BLOCK;
    int threads = tensor_get_num_threads();
    if (gsize >= TENSOR_PARALLEL_THRESHOLD && threads > 1) {
        /* Enough work items for every thread even when P is small. */
        int64_t want = 4 * (int64_t)threads, per = (want + P - 1) / P;
        blk = (K + per - 1) / per;
        blk = (blk + 15) / 16 * 16;
        if (blk < 16) blk = 16;
        if (blk > RED_BLOCK) blk = RED_BLOCK;
    }
    const int64_t nblk = (K + blk - 1) / blk;
    TENSOR_PARALLEL_FOR(gsize)
    for (int64_t w = 0; w < P * nblk; w++) {
        const int64_t po = w / nblk, c0 = (w % nblk) * blk;
        const int64_t cn = K - c0 < blk ? K - c0 : blk;
        const float *base = g + dims_offset(&outer_kept, po) + c0;
        double accs[RED_BLOCK];
        for (int64_t j = 0; j < cn; j++) accs[j] = 0;
        if (reduced.n == 1) { /* one summed dim (a bias): plain strided rows */
            rows_sum_f64(base, per_out, reduced.str[0], cn, accs);
        } else {
            int64_t idx[TENSOR_MAX_DIMS] = {0}, off = 0;
            for (int64_t t = 0; t < per_out; t++) {
                rows_sum_f64(base + off, 1, 0, cn, accs);
                dims_next(&reduced, idx, &off);
            }
        }
        float *out = gx + po * K + c0;
        for (int64_t j = 0; j < cn; j++) out[j] += (float)(scale * accs[j]);
    }
}
