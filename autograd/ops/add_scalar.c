/* add_scalar: y = x + c for a constant float c; dy/dx = 1 (the gradient passes
 * through unchanged). */
#include "autograd/ops.h"

static void add_scalar_backward(Node *n) {
    const float *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += gy[i];
}

static const OpDef ADD_SCALAR_OP = {"add_scalar", add_scalar_backward};

Tensor *ag_add_scalar(Tape *tape, Tensor *x, float c) {
    ag_expect_f32("add_scalar", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = xv[i] + c;
    ag_record(tape, &ADD_SCALAR_OP, y, 1, &x);
    return y;
}
