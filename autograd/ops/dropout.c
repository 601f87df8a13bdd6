/* dropout: inverted dropout. When training, each element is kept with probability
 * 1 - rate (one tensor_rng_uniform draw per element, in element order, serially, so
 * the mask depends only on the Rng state, never on the thread count) and kept
 * elements are scaled by 1/(1-rate); dy/dx = mask / (1-rate). In eval mode, or with
 * rate 0, x itself is returned: no copy, no node, no draws. */
#include "autograd/ops.h"

#include <stdint.h>

static void dropout_backward(Node *n) {
    const uint8_t *keep = n->saved;
    const float *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    float scale = n->fargs[0];
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++)
        if (keep[i]) gx[i] += gy[i] * scale;
}

static const OpDef DROPOUT_OP = {"dropout", dropout_backward};

Tensor *ag_dropout(Tape *tape, Tensor *x, float rate, bool training, Rng *rng) {
    ag_expect_f32("dropout", x);
    /* Written so that a NaN rate fails too. */
    TENSOR_CHECK(rate >= 0.0f && rate < 1.0f, "dropout: rate must be in [0, 1), got %g",
                 (double)rate);
    if (!training || rate == 0.0f) return x;
    TENSOR_CHECK(rng != NULL, "dropout: training needs an Rng, got NULL");
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    /* Record first so the mask can be written straight into the node's scratch. */
    Node *n = ag_record(tape, &DROPOUT_OP, y, 1, &x);
    uint8_t *keep = NULL;
    float scale = 1.0f / (1.0f - rate);
    if (n) {
        keep = ag_save(n, (size_t)(x->size > 0 ? x->size : 1));
        n->saved = keep;
        n->fargs[0] = scale;
    }
    const float *xv = x->data;
    float *yv = y->data;
    /* Serial on purpose: the draws must come in element order. The same number of
     * draws is taken whether or not a node was recorded. */
    for (int64_t i = 0; i < x->size; i++) {
        uint8_t k = tensor_rng_uniform(rng) >= rate;
        if (keep) keep[i] = k;
        yv[i] = k ? xv[i] * scale : 0.0f;
    }
    return y;
}
