/* Axis permutation and strided row copies. The permutation first simplifies itself:
 * size-1 axes are dropped and input axes that stay adjacent and in order are merged
 * (a (2, 3, 4) -> (4, 2, 3) permutation is really a (6, 4) -> (4, 6) transpose). If
 * the innermost axis stays innermost, the result is a set of contiguous row copies;
 * otherwise it is a batch of 2-D transposes done in TILE x TILE blocks, so both the
 * reads and the writes stay within a few cache lines. */
#include "tensor/permute.h"

#include "tensor/parallel.h"

#include <string.h>

#define TILE 32

/* dst[0..len) = or += src[0..len). */
static inline void copy_run(const float *src, float *dst, int64_t len, bool accumulate) {
    if (accumulate) {
        for (int64_t i = 0; i < len; i++) dst[i] += src[i];
    } else if (len > 0) {
        memcpy(dst, src, (size_t)len * sizeof(float));
    }
}

void tensor_copy_rows(const float *src, int64_t src_stride, float *dst, int64_t dst_stride,
                      int64_t rows, int64_t len, bool accumulate) {
    if (rows <= 0 || len <= 0) return;
    int64_t total = rows * len;
    if (rows == 1) {
        /* One long run: split it into chunks so it can still use every thread. */
        int64_t chunk = 8192, chunks = (len + chunk - 1) / chunk;
        TENSOR_PARALLEL_FOR(total)
        for (int64_t c = 0; c < chunks; c++) {
            int64_t lo = c * chunk, n = len - lo < chunk ? len - lo : chunk;
            copy_run(src + lo, dst + lo, n, accumulate);
        }
        return;
    }
    TENSOR_PARALLEL_FOR(total)
    for (int64_t r = 0; r < rows; r++) copy_run(src + r * src_stride, dst + r * dst_stride, len, accumulate);
}

/* Drops size-1 axes and merges input axes that stay adjacent and in order in perm.
 * Writes the simplified input shape and permutation; returns the new rank. */
static int simplify(int ndim, const int64_t *shape, const int *perm, int64_t *s_out, int *p_out) {
    int map[8], kept = 0;
    int64_t s1[8];
    for (int d = 0; d < ndim; d++) {
        map[d] = shape[d] == 1 ? -1 : kept;
        if (shape[d] != 1) s1[kept++] = shape[d];
    }
    int p1[8], n1 = 0;
    for (int k = 0; k < ndim; k++)
        if (map[perm[k]] >= 0) p1[n1++] = map[perm[k]];
    /* Groups of consecutive output axes whose input axes are consecutive too. */
    int first[8], ngroups = 0;
    int64_t gsize[8];
    for (int k = 0; k < n1; k++) {
        if (k > 0 && p1[k] == p1[k - 1] + 1) {
            gsize[ngroups - 1] *= s1[p1[k]];
        } else {
            first[ngroups] = p1[k];
            gsize[ngroups++] = s1[p1[k]];
        }
    }
    /* Each group is a run of input axes; number them in input order. */
    for (int g = 0; g < ngroups; g++) {
        int rank = 0;
        for (int h = 0; h < ngroups; h++) rank += first[h] < first[g];
        p_out[g] = rank;
        s_out[rank] = gsize[g];
    }
    return ngroups;
}

void tensor_permute(const float *x, float *y, int ndim, const int64_t *shape, const int *perm,
                    bool accumulate) {
    int64_t total = 1;
    for (int d = 0; d < ndim; d++) total *= shape[d];
    if (total == 0) return;
    int64_t s[8];
    int p[8];
    int nd = simplify(ndim, shape, perm, s, p);
    if (nd <= 1) { /* the identity after simplification: one flat copy */
        tensor_copy_rows(x, total, y, total, 1, total, accumulate);
        return;
    }
    int64_t istride[8], os[8], ostride[8];
    istride[nd - 1] = 1;
    for (int d = nd - 2; d >= 0; d--) istride[d] = istride[d + 1] * s[d + 1];
    for (int k = 0; k < nd; k++) os[k] = s[p[k]];
    ostride[nd - 1] = 1;
    for (int k = nd - 2; k >= 0; k--) ostride[k] = ostride[k + 1] * os[k + 1];
    const int L = nd - 1;

    if (p[L] == nd - 1) {
        /* The innermost axis stays innermost: contiguous rows of os[L] floats. */
        int64_t len = os[L], rows = total / len;
        TENSOR_PARALLEL_FOR(total)
        for (int64_t r = 0; r < rows; r++) {
            int64_t rem = r, in = 0;
            for (int k = L - 1; k >= 0; k--) {
                in += (rem % os[k]) * istride[p[k]];
                rem /= os[k];
            }
            copy_run(x + in, y + r * len, len, accumulate);
        }
        return;
    }

    /* Batch of 2-D transposes: output axis j reads the input's contiguous axis, the
     * output's last axis L reads input stride istride[p[L]]. One task per tile. */
    int j = 0;
    while (p[j] != nd - 1) j++;
    const int64_t nj = os[j], nl = os[L], sj = ostride[j], sl = istride[p[L]];
    const int64_t tj = (nj + TILE - 1) / TILE, tl = (nl + TILE - 1) / TILE;
    const int64_t outer = total / (nj * nl), tasks = outer * tj * tl;
    TENSOR_PARALLEL_FOR(total)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t bl = t % tl, bj = (t / tl) % tj, o = t / (tl * tj);
        int64_t in = 0, out = 0;
        for (int k = L - 1; k >= 0; k--) {
            if (k == j) continue;
            int64_t idx = o % os[k];
            o /= os[k];
            in += idx * istride[p[k]];
            out += idx * ostride[k];
        }
        int64_t j0 = bj * TILE, j1 = j0 + TILE < nj ? j0 + TILE : nj;
        int64_t l0 = bl * TILE, l1 = l0 + TILE < nl ? l0 + TILE : nl;
        for (int64_t a = j0; a < j1; a++) {
            const float *xs = x + in + a;
            float *yr = y + out + a * sj;
            if (accumulate) {
                for (int64_t b = l0; b < l1; b++) yr[b] += xs[b * sl];
            } else {
                for (int64_t b = l0; b < l1; b++) yr[b] = xs[b * sl];
            }
        }
    }
}
