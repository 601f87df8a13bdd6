/* matmul: (batched) matrix products through tensor_sgemm, transposes as GEMM flags.
 * C = op(A) op(B) per batch entry; a 2-D side is shared by every batch entry (its
 * stride is 0). When A is (..., M, K) untransposed and B is 2-D, the batch folds into
 * the rows: one GEMM of (batch*M, K) x op(B), for forward and for both gradients.
 * Backward writes straight into the gradient buffers with beta = 1:
 *   dop(A) = dC op(B)^T,  dop(B) = op(A)^T dC
 * and a shared side's gradient sums over the batch entries in batch order. */
#include "autograd/ops.h"
#include "tensor/gemm.h"

#include <stdio.h>

/* A GEMM per batch entry; a stride of 0 means that operand is shared. With a shared C
 * (sc == 0, an accumulated gradient) the entries run in order on this thread, each
 * GEMM parallel inside. Otherwise many small independent products run one per
 * thread, and large ones one after another, each on all threads. */
static void gemm_batched(int64_t batch, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                         const float *A, int64_t lda, int64_t sa, const float *B, int64_t ldb,
                         int64_t sb, float beta, float *C, int64_t ldc, int64_t sc) {
    int64_t work = M * N * K;
    if (sc != 0 && batch > 1 && work < (1 << 18) && tensor_get_num_threads() > 1 &&
        !tensor_in_parallel()) {
        TENSOR_PARALLEL_FOR(batch * work)
        for (int64_t i = 0; i < batch; i++)
            tensor_sgemm_serial(ta, tb, M, N, K, 1.0f, A + i * sa, lda, B + i * sb, ldb, beta,
                                C + i * sc, ldc);
        return;
    }
    for (int64_t i = 0; i < batch; i++)
        tensor_sgemm(ta, tb, M, N, K, 1.0f, A + i * sa, lda, B + i * sb, ldb, beta, C + i * sc, ldc);
}

/* Everything backward needs, recomputed from the node. */
typedef struct {
    bool ta, tb, flat;
    int64_t M, N, K, batch;
    int64_t sa, sb; /* batch strides, 0 for a shared 2-D side */
} Dims;

static Dims node_dims(const Node *n) {
    Dims d = {.ta = n->iargs[0], .tb = n->iargs[1], .M = n->iargs[2], .N = n->iargs[3],
              .K = n->iargs[4], .batch = n->iargs[5]};
    d.sa = n->inputs[0]->ndim > 2 ? d.M * d.K : 0;
    d.sb = n->inputs[1]->ndim > 2 ? d.K * d.N : 0;
    d.flat = !d.ta && d.sb == 0;
    return d;
}

static void matmul_backward(Node *n) {
    Dims d = node_dims(n);
    const float *A = n->inputs[0]->data, *B = n->inputs[1]->data, *G = n->out->grad;
    float *gA = ag_input_grad(n, 0), *gB = ag_input_grad(n, 1);
    const int64_t M = d.M, N = d.N, K = d.K, sc = M * N;
    /* Folded batch: one product with batch*M rows (A, dC and dA are contiguous). */
    const int64_t nb = d.flat ? 1 : d.batch, m = d.flat ? d.batch * M : M;
    if (gA) {
        if (!d.ta && !d.tb) /* dA (M,K) = dC (M,N) B^T, B is (K,N) */
            gemm_batched(nb, false, true, m, K, N, G, N, sc, B, N, d.sb, 1.0f, gA, K, d.sa);
        else if (!d.ta && d.tb) /* dA (M,K) = dC (M,N) B, B is (N,K) */
            gemm_batched(nb, false, false, m, K, N, G, N, sc, B, K, d.sb, 1.0f, gA, K, d.sa);
        else if (d.ta && !d.tb) /* dA (K,M) = B (K,N) dC^T */
            gemm_batched(nb, false, true, K, M, N, B, N, d.sb, G, N, sc, 1.0f, gA, M, d.sa);
        else /* dA (K,M) = B^T dC^T, B is (N,K) */
            gemm_batched(nb, true, true, K, M, N, B, K, d.sb, G, N, sc, 1.0f, gA, M, d.sa);
    }
    if (gB) {
        if (!d.ta && !d.tb) /* dB (K,N) = A^T dC, A is (M,K) */
            gemm_batched(nb, true, false, K, N, m, A, K, d.sa, G, N, sc, 1.0f, gB, N, d.sb);
        else if (!d.ta && d.tb) /* dB (N,K) = dC^T A */
            gemm_batched(nb, true, false, N, K, m, G, N, sc, A, K, d.sa, 1.0f, gB, K, d.sb);
        else if (d.ta && !d.tb) /* dB (K,N) = A dC, A is (K,M) */
            gemm_batched(nb, false, false, K, N, M, A, M, d.sa, G, N, sc, 1.0f, gB, N, d.sb);
        else /* dB (N,K) = dC^T A^T, A is (K,M) */
            gemm_batched(nb, true, true, N, K, M, G, N, sc, A, M, d.sa, 1.0f, gB, K, d.sb);
    }
}

static const OpDef MATMUL_OP = {"matmul", matmul_backward};

/* "inner dimensions differ", with the transpose flags when any is set. */
static TENSOR_NORETURN void matmul_error(const char *what, const Tensor *a, const Tensor *b,
                                         bool ta, bool tb, const char *file, int line) {
    char msg[128];
    if (ta || tb)
        snprintf(msg, sizeof msg, "%s (trans_a = %d, trans_b = %d)", what, (int)ta, (int)tb);
    else
        snprintf(msg, sizeof msg, "%s", what);
    ag_shape_error(file, line, "matmul", msg, a, b);
}

Tensor *ag_matmul_t(Tape *tape, Tensor *a, Tensor *b, bool trans_a, bool trans_b) {
    ag_expect_f32("matmul", a);
    ag_expect_f32("matmul", b);
    if (a->ndim < 2 || b->ndim < 2)
        matmul_error("operands must be at least 2-D (reshape 1-D ones first)", a, b, trans_a,
                     trans_b, __FILE__, __LINE__);
    int na = a->ndim, nbd = b->ndim;
    int64_t M = trans_a ? a->shape[na - 1] : a->shape[na - 2];
    int64_t Ka = trans_a ? a->shape[na - 2] : a->shape[na - 1];
    int64_t Kb = trans_b ? b->shape[nbd - 1] : b->shape[nbd - 2];
    int64_t N = trans_b ? b->shape[nbd - 2] : b->shape[nbd - 1];
    if (Ka != Kb) matmul_error("inner dimensions differ", a, b, trans_a, trans_b, __FILE__, __LINE__);
    int64_t K = Ka;
    if (na > 2 && nbd > 2) {
        bool same = na == nbd;
        for (int i = 0; same && i < na - 2; i++) same = a->shape[i] == b->shape[i];
        if (!same)
            matmul_error("batch dimensions differ (they must be equal, or one side 2-D)", a, b,
                         trans_a, trans_b, __FILE__, __LINE__);
    }
    const Tensor *batched = na > 2 ? a : b; /* whose batch dims the output takes */
    int nd = batched->ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    for (int i = 0; i < nd - 2; i++) shape[i] = batched->shape[i];
    shape[nd - 2] = M;
    shape[nd - 1] = N;
    int64_t batch = tensor_dims_product(batched, 0, nd - 2);
    Tensor *c = ag_output(tape, nd, shape);

    int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
    int64_t sa = na > 2 ? M * K : 0, sb = nbd > 2 ? K * N : 0;
    if (!trans_a && sb == 0) /* fold the batch into the rows of one GEMM */
        tensor_sgemm(false, trans_b, batch * M, N, K, 1.0f, a->data, lda, b->data, ldb, 0.0f,
                     c->data, N);
    else
        gemm_batched(batch, trans_a, trans_b, M, N, K, a->data, lda, sa, b->data, ldb, sb, 0.0f,
                     c->data, N, M * N);

    Node *n = ag_record(tape, &MATMUL_OP, c, 2, (Tensor *[]){a, b});
    if (n) {
        n->iargs[0] = trans_a;
        n->iargs[1] = trans_b;
        n->iargs[2] = M;
        n->iargs[3] = N;
        n->iargs[4] = K;
        n->iargs[5] = batch;
    }
    return c;
}

Tensor *ag_matmul(Tape *tape, Tensor *a, Tensor *b) { return ag_matmul_t(tape, a, b, false, false); }
