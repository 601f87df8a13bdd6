/* sqrt: y = sqrt(x); dy/dx = 0.5 / y (uses the saved output, not x).
 * x < 0 gives NaN; at x = 0 the gradient is infinite (NaN where the upstream
 * gradient is 0), as in PyTorch: keep inputs positive when training through it. */
#include "autograd/ops.h"

#include <math.h>

static void sqrt_backward(Node *n) {
    const float *y = n->out->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += gy[i] * (0.5f / y[i]);
}

static const OpDef SQRT_OP = {"sqrt", sqrt_backward};

Tensor *ag_sqrt(Tape *tape, Tensor *x) {
    ag_expect_f32("sqrt", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = sqrtf(xv[i]);
    ag_record(tape, &SQRT_OP, y, 1, &x);
    return y;
}
