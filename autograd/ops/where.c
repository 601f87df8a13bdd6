/* where: y = cond ? a : b element-wise, cond a float32 selector (nonzero picks a) that
 * broadcasts to a's shape; a and b have the same shape. The selector is a constant, not
 * an input: a masked RNN step keeps its state with it (new where real, old where
 * padded). Backward: ga += g where cond, gb += g elsewhere. The broadcast selector is
 * expanded once to one byte per element and kept for backward. */
#include "autograd/ops.h"
#include "tensor/broadcast.h"

#include <string.h>

/* pick[i] = 1 where cond, broadcast to (ndim, shape), is nonzero at flat index i. */
static void expand_cond(const Tensor *cond, int ndim, const int64_t *shape, uint8_t *pick) {
    int64_t stride[TENSOR_MAX_DIMS], idx[TENSOR_MAX_DIMS] = {0};
    const int lead = ndim - cond->ndim;
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        const int cd = d - lead;
        const bool stretched = cd < 0 || cond->shape[cd] == 1;
        stride[d] = stretched ? 0 : s;
        if (cd >= 0) s *= cond->shape[cd];
    }
    const float *c = cond->data;
    int64_t total = tensor_shape_size(ndim, shape), off = 0;
    for (int64_t i = 0; i < total; i++) {
        pick[i] = c[off] != 0.0f;
        for (int d = ndim - 1; d >= 0; d--) { /* odometer: next index, offset follows */
            off += stride[d];
            if (++idx[d] < shape[d]) break;
            off -= stride[d] * idx[d];
            idx[d] = 0;
        }
    }
}

static void where_backward(Node *n) {
    const uint8_t *pick = n->saved;
    const float *gy = n->out->grad;
    const int64_t size = n->out->size;
    for (int side = 0; side < 2; side++) {
        float *g = ag_input_grad(n, side);
        if (!g) continue;
        const uint8_t want = side == 0;
        TENSOR_PARALLEL_FOR(size)
        for (int64_t i = 0; i < size; i++)
            if (pick[i] == want) g[i] += gy[i];
    }
}

static const OpDef WHERE_OP = {"where", where_backward};

Tensor *ag_where(Tape *tape, Tensor *cond, Tensor *a, Tensor *b) {
    TENSOR_CHECK(cond && a && b, "where: cond, a and b must not be NULL");
    ag_expect_f32("where", cond);
    ag_expect_f32("where", a);
    ag_expect_f32("where", b);
    if (!tensor_same_shape(a, b)) AG_SHAPE_ERROR("where", "a and b must have the same shape", a, b);
    if (!tensor_broadcasts_to(cond->ndim, cond->shape, a->ndim, a->shape))
        AG_SHAPE_ERROR("where", "cond must broadcast to a's shape", cond, a);
    Tensor *y = ag_output(tape, a->ndim, a->shape);
    const int64_t size = a->size;
    uint8_t *pick = tensor_arena_alloc(ag_tape_arena(tape), (size_t)(size ? size : 1));
    expand_cond(cond, a->ndim, a->shape, pick);
    const float *av = a->data, *bv = b->data;
    float *yv = y->data;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = pick[i] ? av[i] : bv[i];
    Node *n = ag_record(tape, &WHERE_OP, y, 2, (Tensor *[]){a, b});
    if (n) n->saved = pick;
    return y;
}
