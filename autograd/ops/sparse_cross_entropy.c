/* Softmax cross-entropy from logits (..., C) and int32 class targets (...), fused:
 * each row's log-sum-exp (kept in double, the only thing backward needs besides the
 * inputs) gives loss = lse - logit[target]; no one-hot and no log-softmax tensor.
 * Mean over rows whose target is not ignore_index; backward adds
 * g * (softmax - onehot) / count to counted rows. */
#include "autograd/ops.h"

#include "tensor/reduce.h"

#include <math.h>
#include <string.h>

#define SCE "sparse_cross_entropy"

/* AG_NO_IGNORE_INDEX ignores nothing, not even a target equal to INT32_MIN. */
static inline bool is_ignored(int32_t target, int32_t ignore_index) {
    return ignore_index != AG_NO_IGNORE_INDEX && target == ignore_index;
}

/* iargs: [0] rows, [1] C, [2] counted rows, [3] ignore_index; saved: rows doubles (lse). */
static void sce_backward(Node *n) {
    Tensor *logits = n->inputs[0];
    int64_t rows = n->iargs[0], C = n->iargs[1], count = n->iargs[2];
    if (!logits->requires_grad) return;
    if (count == 0) { /* every row ignored: the gradient is zero (and exists) */
        ag_input_grad(n, 0);
        return;
    }
    /* A gradient buffer nobody has written yet is taken uninitialised from the arena
     * and each row zeroed just before it is filled, while it is in cache: the usual
     * zero-filled buffer would cost one more pass over memory (at 5000 x 8000 logits,
     * 160 MB). */
    const bool fresh = logits->grad == NULL && logits->arena != NULL;
    if (fresh) logits->grad = tensor_arena_alloc(logits->arena, (size_t)(rows * C) * sizeof(float));
    float *gx = fresh ? logits->grad : ag_input_grad(n, 0);
    int32_t ignore = (int32_t)n->iargs[3];
    const float *x = logits->data;
    const int32_t *t = n->inputs[1]->data;
    const double *lse = n->saved;
    float g = n->out->grad[0] / (float)count;
    TENSOR_PARALLEL_FOR(rows * C)
    for (int64_t r = 0; r < rows; r++) {
        if (fresh) memset(gx + r * C, 0, (size_t)C * sizeof(float));
        if (is_ignored(t[r], ignore)) continue;
        /* softmax = exp(x - lse), with x - lse in double: accurate even for huge logits */
        tensor_exp_shift_add(x + r * C, lse[r], g, gx + r * C, C);
        gx[r * C + t[r]] -= g;
    }
}

static const OpDef SCE_OP = {SCE, sce_backward};

/* Stops unless targets has exactly logits' shape without its last dim. */
static void check_shapes(const Tensor *logits, const Tensor *targets) {
    char s[128];
    TENSOR_CHECK(logits->ndim >= 1, SCE ": logits must have a class dim, got shape %s",
                 tensor_shape_str(logits->ndim, logits->shape, s, sizeof s));
    TENSOR_CHECK(logits->shape[logits->ndim - 1] > 0, SCE ": logits %s have no classes",
                 tensor_shape_str(logits->ndim, logits->shape, s, sizeof s));
    bool ok = targets->ndim == logits->ndim - 1;
    for (int d = 0; ok && d < targets->ndim; d++) ok = targets->shape[d] == logits->shape[d];
    if (!ok)
        AG_SHAPE_ERROR(SCE, "logits (..., C) need targets (...) of the same leading shape", logits,
                       targets);
}

Tensor *ag_sparse_cross_entropy(Tape *tape, Tensor *logits, Tensor *targets, int32_t ignore_index) {
    ag_expect_f32(SCE " logits", logits);
    ag_expect_i32(SCE " targets", targets);
    check_shapes(logits, targets);
    int64_t C = logits->shape[logits->ndim - 1];
    int64_t rows = tensor_dims_product(logits, 0, logits->ndim - 1);
    const float *x = logits->data;
    const int32_t *t = targets->data;

    int64_t count = 0;
    for (int64_t r = 0; r < rows; r++) {
        if (is_ignored(t[r], ignore_index)) continue;
        TENSOR_CHECK(t[r] >= 0 && t[r] < C,
                     SCE ": target %d at row %lld is outside [0, %lld) (C = %lld classes)",
                     (int)t[r], (long long)r, (long long)C, (long long)C);
        count++;
    }

    /* Record first, so the per-row lse can go straight into the node's saved scratch. */
    Tensor *y = ag_output(tape, 0, NULL);
    Node *n = ag_record(tape, &SCE_OP, y, 2, (Tensor *[]){logits, targets});
    size_t lse_bytes = (size_t)rows * sizeof(double);
    double *lse = n ? ag_save(n, lse_bytes) : tensor_arena_alloc(ag_tape_arena(tape), lse_bytes);
    tensor_logsumexp(x, lse, rows, C, 1); /* the costly part, parallel over rows */
    double total = 0; /* serial, in row order: the same sum for any thread count */
    for (int64_t r = 0; r < rows; r++)
        if (!is_ignored(t[r], ignore_index)) total += lse[r] - (double)x[r * C + t[r]];
    ((float *)y->data)[0] = count > 0 ? (float)(total / (double)count) : 0.0f;
    if (n) {
        n->iargs[0] = rows;
        n->iargs[1] = C;
        n->iargs[2] = count;
        n->iargs[3] = ignore_index;
        n->saved = lse;
    }
    return y;
}
