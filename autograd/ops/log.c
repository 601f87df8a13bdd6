/* log: y = ln(x); dy/dx = 1 / x (reads the input). x = 0 gives -inf and an
 * infinite gradient, x < 0 gives NaN, as logf does: keep inputs positive (for
 * example log(p + eps)). */
#include "autograd/ops.h"

#include <math.h>

static void log_backward(Node *n) {
    const float *x = n->inputs[0]->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += gy[i] / x[i];
}

static const OpDef LOG_OP = {"log", log_backward};

Tensor *ag_log(Tape *tape, Tensor *x) {
    ag_expect_f32("log", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = logf(xv[i]);
    ag_record(tape, &LOG_OP, y, 1, &x);
    return y;
}
