/* clip: y = min(max(x, lo), hi) with lo <= hi (checked); dy/dx = 1 strictly
 * inside (lo, hi) and 0 elsewhere, bounds included (as Keras/TF clip_by_value's
 * gradient to the clipped side; the bounds are constants, not inputs). */
#include "autograd/ops.h"

static void clip_backward(Node *n) {
    const float *x = n->inputs[0]->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    float lo = n->fargs[0], hi = n->fargs[1];
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++)
        if (x[i] > lo && x[i] < hi) gx[i] += gy[i];
}

static const OpDef CLIP_OP = {"clip", clip_backward};

Tensor *ag_clip(Tape *tape, Tensor *x, float lo, float hi) {
    ag_expect_f32("clip", x);
    /* Written so that a NaN bound fails too. */
    TENSOR_CHECK(lo <= hi, "clip: need lo <= hi, got lo=%g hi=%g", (double)lo, (double)hi);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) {
        float v = xv[i];
        yv[i] = v < lo ? lo : (v > hi ? hi : v);
    }
    Node *n = ag_record(tape, &CLIP_OP, y, 1, &x);
    if (n) {
        n->fargs[0] = lo;
        n->fargs[1] = hi;
    }
    return y;
}
