/* Softmax cross-entropy from logits (..., C) and int32 class targets (...), fused:
 * each row's log-sum-exp (kept in double) gives loss = lse - logit[target]; no one-hot
 * and no log-softmax tensor. Mean over rows whose target is not ignore_index; backward
 * adds g * (softmax - onehot) / count to counted rows. When a gradient will be wanted,
 * the forward computes it for g = 1 in the same pass over each row, and backward hands
 * that buffer over as the gradient (see grad_owner) instead of writing one. */
#include "autograd/ops.h"

#include "tensor/reduce.h"
#include "tensor/xent_internal.h"

#include <math.h>
#include <string.h>

#define SCE "sparse_cross_entropy"

/* AG_NO_IGNORE_INDEX ignores nothing, not even a target equal to INT32_MIN. */
static inline bool is_ignored(int32_t target, int32_t ignore_index) {
    return ignore_index != AG_NO_IGNORE_INDEX && target == ignore_index;
}

/* What backward needs: each row's log-sum-exp and, when the forward could tell a
 * gradient will be wanted, the gradient itself for an upstream gradient of 1,
 * (softmax - onehot) / count, computed while each row was in cache for the lse. */
typedef struct Saved {
    double *lse;
    float *unit_grad; /* NULL when not precomputed */
} Saved;

/* The tensor whose gradient can simply be the precomputed buffer: the logits when they
 * have no gradient yet, or, through reshape views (whose backward is a copy, skipped
 * then), the tensor they view. NULL when none qualifies (the buffer must outlive it in
 * the same arena). */
static Tensor *grad_owner(Tensor *t, const Arena *arena) {
    if (t->grad || t->arena != arena) return NULL;
    for (;;) {
        const Node *v = t->node;
        if (!v || v->n_inputs != 1 || strcmp(v->op->name, "reshape") != 0) return t;
        Tensor *src = v->inputs[0];
        if (src->grad || src->arena != arena || !src->requires_grad || src->data != t->data ||
            src->size != t->size)
            return t;
        t = src;
    }
}

/* iargs: [0] rows, [1] C, [2] counted rows, [3] ignore_index, [4] unit_grad handed over. */
static void sce_backward(Node *n) {
    Tensor *logits = n->inputs[0];
    int64_t rows = n->iargs[0], C = n->iargs[1], count = n->iargs[2];
    if (!logits->requires_grad) return;
    if (count == 0) { /* every row ignored: the gradient is zero (and exists) */
        ag_input_grad(n, 0);
        return;
    }
    const Saved *sv = n->saved;
    const float up = n->out->grad[0];
    if (sv->unit_grad && !n->iargs[4]) {
        /* The usual case, upstream 1 and no gradient yet: the precomputed buffer becomes
         * the gradient, nothing is written. (Once only: a later backward may zero it.) */
        Tensor *owner = up == 1.0f ? grad_owner(logits, ag_tape_arena(n->tape)) : NULL;
        if (owner) {
            owner->grad = sv->unit_grad;
            n->iargs[4] = 1;
            return;
        }
        float *gx = ag_input_grad(n, 0);
        const float *ug = sv->unit_grad;
        TENSOR_PARALLEL_FOR(rows * C)
        for (int64_t i = 0; i < rows * C; i++) gx[i] += up * ug[i];
        return;
    }
    /* A gradient buffer nobody has written yet is taken uninitialised from the arena
     * and each row zeroed just before it is filled, while it is in cache: the usual
     * zero-filled buffer would cost one more pass over memory. */
    const bool fresh = logits->grad == NULL && logits->arena != NULL;
    if (fresh) logits->grad = tensor_arena_alloc(logits->arena, (size_t)(rows * C) * sizeof(float));
    float *gx = fresh ? logits->grad : ag_input_grad(n, 0);
    int32_t ignore = (int32_t)n->iargs[3];
    const float *x = logits->data;
    const int32_t *t = n->inputs[1]->data;
    float g = up / (float)count;
    TENSOR_PARALLEL_FOR(rows * C)
    for (int64_t r = 0; r < rows; r++) {
        if (fresh) memset(gx + r * C, 0, (size_t)C * sizeof(float));
        if (is_ignored(t[r], ignore)) continue;
        /* softmax = exp(x - lse), with x - lse in double: accurate even for huge logits */
        tensor_exp_shift_add(x + r * C, sv->lse[r], g, gx + r * C, C);
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

    /* Whether a node will be recorded (then the gradient is computed here too). */
    const bool recording = ag_grad_enabled(tape) && logits->requires_grad;
    Arena *arena = ag_tape_arena(tape);
    Saved *sv = tensor_arena_alloc(arena, sizeof *sv);
    sv->lse = tensor_arena_alloc(arena, (size_t)rows * sizeof(double));
    sv->unit_grad = NULL;
    if (recording && count > 0) {
        /* softmax / count, minus 1 / count at the target, in the pass that finds each
         * row's lse: backward then has nothing left to compute, and the logits are read
         * from memory once. */
        float *ug = sv->unit_grad = tensor_arena_alloc(arena, (size_t)(rows * C) * sizeof(float));
        const float unit = 1.0f / (float)count;
        TENSOR_PARALLEL_FOR(rows * C)
        for (int64_t r = 0; r < rows; r++) {
            if (is_ignored(t[r], ignore_index)) {
                memset(ug + r * C, 0, (size_t)C * sizeof(float));
                sv->lse[r] = 0; /* never read */
                continue;
            }
            sv->lse[r] = tensor_softmax_lse_row(x + r * C, ug + r * C, C, unit);
            ug[r * C + t[r]] -= unit;
        }
    } else {
        tensor_logsumexp(x, sv->lse, rows, C, 1); /* the costly part, parallel over rows */
    }
    double total = 0; /* serial, in row order: the same sum for any thread count */
    for (int64_t r = 0; r < rows; r++)
        if (!is_ignored(t[r], ignore_index)) total += sv->lse[r] - (double)x[r * C + t[r]];
    Tensor *y = ag_output(tape, 0, NULL);
    ((float *)y->data)[0] = count > 0 ? (float)(total / (double)count) : 0.0f;
    Node *n = ag_record(tape, &SCE_OP, y, 2, (Tensor *[]){logits, targets});
    if (n) {
        n->iargs[0] = rows;
        n->iargs[1] = C;
        n->iargs[2] = count;
        n->iargs[3] = ignore_index;
        n->iargs[4] = 0;
        n->saved = sv;
    }
    return y;
}
