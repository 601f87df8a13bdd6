/* neg: y = -x; dy/dx = -1. */
#include "autograd/ops.h"

static void neg_backward(Node *n) {
    const float *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] -= gy[i];
}

static const OpDef NEG_OP = {"neg", neg_backward};

Tensor *ag_neg(Tape *tape, Tensor *x) {
    ag_expect_f32("neg", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = -xv[i];
    ag_record(tape, &NEG_OP, y, 1, &x);
    return y;
}
