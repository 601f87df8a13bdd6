/* exp: y = e^x; dy/dx = y (uses the saved output). Overflows to inf above
 * x ~ 88.7, as expf does. */
#include "autograd/ops.h"

#include <math.h>

static void exp_backward(Node *n) {
    const float *y = n->out->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += gy[i] * y[i];
}

static const OpDef EXP_OP = {"exp", exp_backward};

Tensor *ag_exp(Tape *tape, Tensor *x) {
    ag_expect_f32("exp", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = expf(xv[i]);
    ag_record(tape, &EXP_OP, y, 1, &x);
    return y;
}
