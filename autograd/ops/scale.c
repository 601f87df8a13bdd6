/* scale: y = s * x for a constant float s; dy/dx = s (kept in fargs[0]). */
#include "autograd/ops.h"

static void scale_backward(Node *n) {
    const float *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    float s = n->fargs[0];
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += s * gy[i];
}

static const OpDef SCALE_OP = {"scale", scale_backward};

Tensor *ag_scale(Tape *tape, Tensor *x, float s) {
    ag_expect_f32("scale", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = s * xv[i];
    Node *n = ag_record(tape, &SCALE_OP, y, 1, &x);
    if (n) n->fargs[0] = s;
    return y;
}
