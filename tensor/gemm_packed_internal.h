/* SGEMM with the right-hand matrix packed once and reused: for a caller that multiplies
 * many left-hand matrices by the same op(B), such as an RNN's recurrent matrix at every
 * time step, where re-packing it per call would be a large part of the cost. The packed
 * matrix may be a set of equally wide column groups of op(B) (an LSTM thread's share
 * of the i, f, c and o gate columns); each group's product lands in the same columns
 * of C. Everything here runs on the calling thread: callers split work themselves. */
#ifndef TENSOR_GEMM_PACKED_H
#define TENSOR_GEMM_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TENSOR_PACKED_MAX_GROUPS 4

typedef struct TensorPackedB {
    int64_t K;     /* rows of op(B) */
    int64_t width; /* columns per group */
    int groups;
    int64_t col0[TENSOR_PACKED_MAX_GROUPS]; /* first column of each group, in op(B) and in C */
    /* internal */
    const void *kernel; /* the micro-kernel the panels are laid out for; NULL: none */
    int64_t kc;         /* K slice depth */
    int64_t panels;     /* NR-wide panels per group */
    float *data;
    bool trans_b;       /* the source, read in place when there is no packed kernel */
    const float *B;
    int64_t ldb;
} TensorPackedB;

/* Floats of storage tensor_pack_b needs for K rows and groups x width columns. */
size_t tensor_packed_b_floats(int64_t K, int64_t width, int groups);

/* Packs columns col0[g] .. col0[g] + width - 1 (g < groups) of op(B) — op(B) = B (K x N,
 * ldb >= N) or B^T (B is N x K, ldb >= K) — into buf (tensor_packed_b_floats floats,
 * 64-byte aligned) and describes the result in *pb. B must stay unchanged while pb is
 * in use (without an AVX2 or AVX-512 kernel, or with the BLAS backend, products read it
 * in place). 1 <= groups <= TENSOR_PACKED_MAX_GROUPS. */
void tensor_pack_b(TensorPackedB *pb, float *buf, bool trans_b, int64_t K, int groups,
                   const int64_t *col0, int64_t width, const float *B, int64_t ldb);

/* Describes the same columns for tensor_sgemm_packed without packing them (buf not
 * needed): products then read op(B) in place through tensor_sgemm_serial, which for few
 * rows of A does not pack either. For a matrix used once or twice, where packing it
 * would cost more than it saves. Same results as tensor_pack_b, bit for bit. */
void tensor_refer_b(TensorPackedB *pb, bool trans_b, int64_t K, int groups, const int64_t *col0,
                    int64_t width, const float *B, int64_t ldb);

/* For every group g: C[:, c] = alpha * (A op(B))[:, c] + beta * C[:, c] for the columns
 * c of the group. A is M x K, row-major, not transposed (lda >= K); C has ldc >= the
 * largest column + 1. beta == 0 does not read C. Per element, the sum runs over k in
 * the same order as tensor_sgemm's, whatever M, the groups or the thread. */
void tensor_sgemm_packed(int64_t M, float alpha, const float *A, int64_t lda,
                         const TensorPackedB *pb, float beta, float *C, int64_t ldc);

/* A per-thread scratch buffer of at least `floats` floats, 64-byte aligned, grown on
 * demand and kept for the thread's life (slot < 4 picks one of several independent
 * buffers). For packed matrices that live for one op call. */
float *tensor_thread_scratch(int slot, size_t floats);

#endif
