/* square: y = x^2; dy/dx = 2x (reads the input, which the tape keeps alive). */
#include "autograd/ops.h"

static void square_backward(Node *n) {
    const float *x = n->inputs[0]->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += 2.0f * x[i] * gy[i];
}

static const OpDef SQUARE_OP = {"square", square_backward};

Tensor *ag_square(Tape *tape, Tensor *x) {
    ag_expect_f32("square", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = xv[i] * xv[i];
    ag_record(tape, &SQUARE_OP, y, 1, &x);
    return y;
}
