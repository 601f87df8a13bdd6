/* tanh: y = tanh(x); dy/dx = 1 - y^2 (uses the saved output, not x). */
#include "autograd/ops.h"

#include <math.h>

static void tanh_backward(Node *n) {
    const float *y = n->out->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += gy[i] * (1.0f - y[i] * y[i]);
}

static const OpDef TANH_OP = {"tanh", tanh_backward};

Tensor *ag_tanh(Tape *tape, Tensor *x) {
    ag_expect_f32("tanh", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = tanhf(xv[i]);
    ag_record(tape, &TANH_OP, y, 1, &x);
    return y;
}
