/* relu: y = max(x, 0); dy/dx = 1 where x > 0, else 0 (0 at the kink x = 0).
 * The backward reads the saved output: y > 0 exactly where x > 0. */
#include "autograd/ops.h"

static void relu_backward(Node *n) {
    const float *y = n->out->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++)
        if (y[i] > 0.0f) gx[i] += gy[i];
}

static const OpDef RELU_OP = {"relu", relu_backward};

Tensor *ag_relu(Tape *tape, Tensor *x) {
    ag_expect_f32("relu", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = xv[i] < 0.0f ? 0.0f : xv[i]; /* NaN propagates */
    ag_record(tape, &RELU_OP, y, 1, &x);
    return y;
}
