/* The orthogonal initialiser for large matrices: Q of a normal matrix by CholeskyQR2
 * in double (Gram matrix, Cholesky, triangular solve, twice), threaded, with every sum
 * in a fixed order (no contraction), so the floats do not depend on threads or CPU and
 * match tensor_fill_orthogonal's Gram-Schmidt (the same Q with a positive diag(R)). A
 * Cholesky breakdown (a nearly singular draw) falls back to that reference. */
#include "tensor/orthogonal_internal.h"

#include "tensor/error.h"
#include "tensor/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LANES 4 /* partial sums per dot product: the summation order is fixed by this */

/* sum_i x[i] y[i] with LANES interleaved partial sums combined pairwise. */
static inline double dot(const double *x, const double *y, int64_t n) {
    double s[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) s[l] += x[i + l] * y[i + l];
    for (int l = 0; i < n; i++, l++) s[l] += x[i] * y[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Adds rows [r0, r1) of b (row-major m x k: b + r*k is row r of A) to rows
 * [i, i + n) of G, n <= 4, from column i on: g_ij += b_ri b_rj. Each entry's sum runs
 * over r in order. The few entries left of the diagonal it also fills are the lower
 * triangle, which cholesky() overwrites before reading. */
static TENSOR_MULTIVERSION void gram_update(const double *b, int64_t k, double *g, int64_t i, int64_t n,
                                            int64_t r0, int64_t r1) {
    double *g0 = g + i * k, *g1 = g0 + k, *g2 = g1 + k, *g3 = g2 + k;
    for (int64_t r = r0; r < r1; r++) {
        const double *br = b + r * k;
        if (n == 4) {
            double c0 = br[i], c1 = br[i + 1], c2 = br[i + 2], c3 = br[i + 3];
            for (int64_t j = i; j < k; j++) {
                double v = br[j];
                g0[j] += c0 * v;
                g1[j] += c1 * v;
                g2[j] += c2 * v;
                g3[j] += c3 * v;
            }
        } else {
            for (int64_t t = 0; t < n; t++) {
                double c = br[i + t], *gt = g0 + t * k;
                for (int64_t j = i; j < k; j++) gt[j] += c * br[j];
            }
        }
    }
}

#define GRAM_ROWS 32 /* rows of A per sweep: 32 x k doubles stay in L2 */

/* G = A^T A (upper triangle) from the row-major copy b. Each entry belongs to one
 * thread (groups of four rows i, cyclic), so the result does not depend on the
 * thread count. */
static void gram(const double *b, int64_t m, int64_t k, double *g) {
    int64_t groups = (k + 3) / 4;
#pragma omp parallel if (m * k * k >= 4 * TENSOR_PARALLEL_THRESHOLD)
    for (int64_t r0 = 0; r0 < m; r0 += GRAM_ROWS) {
        int64_t r1 = r0 + GRAM_ROWS < m ? r0 + GRAM_ROWS : m;
#pragma omp for schedule(static, 1)
        for (int64_t q = 0; q < groups; q++)
            gram_update(b, k, g, 4 * q, k - 4 * q < 4 ? k - 4 * q : 4, r0, r1);
    }
}

/* L = R^T, lower triangular with L L^T = G, into G's lower triangle and diagonal
 * (row i of L at g + i*k, so every sum runs along two contiguous rows); G's strict
 * upper triangle is only read. Returns -1 when a pivot is not safely positive. */
static TENSOR_MULTIVERSION int cholesky(double *g, int64_t k) {
    for (int64_t i = 0; i < k; i++) {
        double *li = g + i * k;
        for (int64_t j = 0; j < i; j++) li[j] = (g[j * k + i] - dot(li, g + j * k, j)) / g[j * k + j];
        double d = li[i] - dot(li, li, i);
        if (!(d > 1e-14 * li[i])) return -1;
        li[i] = sqrt(d);
    }
    return 0;
}

/* Rows [r0, r1) of every column: q_j = (a_j - sum_{p<j} l_jp q_p) / l_jj, in place
 * (Q = A L^-T = A R^-1). Four columns j share each read of q_p; every element still
 * takes its subtractions in the order p = 0, 1, ... and then the division. */
static TENSOR_MULTIVERSION void solve_rows(double *a, int64_t m, int64_t k, const double *l, int64_t r0,
                                           int64_t r1) {
    int64_t j0 = 0;
    for (; j0 + 4 <= k; j0 += 4) {
        double *q0 = a + j0 * m, *q1 = q0 + m, *q2 = q1 + m, *q3 = q2 + m;
        const double *l0 = l + j0 * k, *l1 = l0 + k, *l2 = l1 + k, *l3 = l2 + k;
        for (int64_t p = 0; p < j0; p++) {
            const double *qp = a + p * m;
            double c0 = l0[p], c1 = l1[p], c2 = l2[p], c3 = l3[p];
            for (int64_t i = r0; i < r1; i++) {
                double v = qp[i];
                q0[i] -= c0 * v;
                q1[i] -= c1 * v;
                q2[i] -= c2 * v;
                q3[i] -= c3 * v;
            }
        }
        for (int64_t j = j0; j < j0 + 4; j++) { /* the triangle inside the block */
            double *qj = a + j * m;
            const double *lj = l + j * k;
            for (int64_t p = j0; p < j; p++) {
                const double *qp = a + p * m;
                for (int64_t i = r0; i < r1; i++) qj[i] -= lj[p] * qp[i];
            }
            for (int64_t i = r0; i < r1; i++) qj[i] /= lj[j];
        }
    }
    for (int64_t j = j0; j < k; j++) {
        double *qj = a + j * m;
        const double *lj = l + j * k;
        for (int64_t p = 0; p < j; p++) {
            const double *qp = a + p * m;
            for (int64_t i = r0; i < r1; i++) qj[i] -= lj[p] * qp[i];
        }
        for (int64_t i = r0; i < r1; i++) qj[i] /= lj[j];
    }
}

#define ROWS 64 /* rows per task of the solve: 64 x k doubles stay in L2 */

static void solve(double *a, int64_t m, int64_t k, const double *l) {
    int64_t chunks = (m + ROWS - 1) / ROWS;
#pragma omp parallel for schedule(static) if (m * k * k >= 4 * TENSOR_PARALLEL_THRESHOLD)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t r0 = c * ROWS, r1 = r0 + ROWS < m ? r0 + ROWS : m;
        solve_rows(a, m, k, l, r0, r1);
    }
}

/* tensor_fill_orthogonal's draws into a (column-major m x k): normal e (row-major
 * index r * cols + c of the rows x cols matrix) takes u32 draws 2e and 2e + 1, so each
 * thread jumps its own copy of the generator to its first element; the values are the
 * serial ones, and rng ends where the serial loop leaves it. */
static void draw_normals(double *a, int64_t rows, int64_t cols, int64_t m, int transpose, Rng *rng) {
    int64_t n = rows * cols;
    int chunks = 16;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < chunks; t++) {
        int64_t e0 = n * t / chunks, e1 = n * (t + 1) / chunks;
        Rng r = *rng;
        tensor_rng_advance(&r, 2 * (uint64_t)e0);
        for (int64_t e = e0; e < e1; e++) {
            int64_t row = e / cols, col = e % cols;
            a[transpose ? row * m + col : col * m + row] = tensor_rng_normal(&r);
        }
    }
    tensor_rng_advance(rng, 2 * (uint64_t)n);
}

/* One CholeskyQR pass on a (column-major m x k), in place; b is scratch for its
 * row-major copy. Returns -1 on breakdown. */
static int cholesky_qr(double *a, int64_t m, int64_t k, double *g, double *b) {
    memset(g, 0, (size_t)(k * k) * sizeof *g);
    for (int64_t j = 0; j < k; j++)
        for (int64_t r = 0; r < m; r++) b[r * k + j] = a[j * m + r];
    gram(b, m, k, g);
    if (cholesky(g, k) != 0) return -1;
    solve(a, m, k, g);
    return 0;
}

void tensor__fill_orthogonal_fast(float *x, int64_t rows, int64_t cols, Rng *rng, float gain) {
    TENSOR_CHECK(rows > 0 && cols > 0, "orthogonal: shape (%lld, %lld) must be positive",
                 (long long)rows, (long long)cols);
    int transpose = rows < cols;
    int64_t m = transpose ? cols : rows, k = transpose ? rows : cols;
    if ((double)m * (double)k * (double)k < 1e8) { /* the serial reference is as fast */
        tensor_fill_orthogonal(x, rows, cols, rng, gain);
        return;
    }
    Rng start = *rng; /* for the fallback, which draws the same numbers */
    double *a = tensor_xmalloc((size_t)(m * k) * sizeof(double)); /* column-major: a[j*m + i] */
    double *g = tensor_xmalloc((size_t)(k * k) * sizeof(double));
    double *b = tensor_xmalloc((size_t)(m * k) * sizeof(double));
    draw_normals(a, rows, cols, m, transpose, rng);
    int ok = cholesky_qr(a, m, k, g, b) == 0 && cholesky_qr(a, m, k, g, b) == 0;
    if (ok) {
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) {
                double q = transpose ? a[r * m + c] : a[c * m + r];
                x[r * cols + c] = (float)(gain * q);
            }
    } else {
        *rng = start;
        tensor_fill_orthogonal(x, rows, cols, rng, gain);
    }
    free(b);
    free(g);
    free(a);
}
