/* sigmoid: y = 1 / (1 + e^-x); dy/dx = y (1 - y) (uses the saved output).
 * expf is only ever called on -|x|, so large |x| cannot overflow: y saturates to
 * exactly 0 or 1 with no inf or NaN on the way. */
#include "autograd/ops.h"

#include <math.h>

static void sigmoid_backward(Node *n) {
    const float *y = n->out->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += gy[i] * y[i] * (1.0f - y[i]);
}

static const OpDef SIGMOID_OP = {"sigmoid", sigmoid_backward};

Tensor *ag_sigmoid(Tape *tape, Tensor *x) {
    ag_expect_f32("sigmoid", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) {
        float v = xv[i];
        if (v >= 0.0f) {
            yv[i] = 1.0f / (1.0f + expf(-v));
        } else {
            float e = expf(v); /* in (0, 1): e / (1 + e) keeps precision for very negative x */
            yv[i] = e / (1.0f + e);
        }
    }
    ag_record(tape, &SIGMOID_OP, y, 1, &x);
    return y;
}
