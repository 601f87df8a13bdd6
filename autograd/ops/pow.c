/* pow: y = x^p for a constant float p, computed with powf; dy/dx = p * x^(p-1).
 * Values follow powf: x < 0 with a non-integer p gives NaN (the caller must keep
 * x > 0 then; values are not checked). At x = 0: y = 0 for p > 0, 1 for p = 0, inf
 * for p < 0; the gradient is 0 for p > 1 and for p = 0, 1 for p = 1, and infinite
 * (inf, or NaN where the upstream gradient is 0) for p < 1, p != 0. */
#include "autograd/ops.h"

#include <math.h>

static void pow_backward(Node *n) {
    const float *x = n->inputs[0]->data, *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    float p = n->fargs[0];
    /* p = 0: y is the constant 1. Skipping avoids 0 * powf(0, -1) = 0 * inf = NaN. */
    if (p == 0.0f) return;
    float pm1 = p - 1.0f;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += gy[i] * p * powf(x[i], pm1);
}

static const OpDef POW_OP = {"pow", pow_backward};

Tensor *ag_pow(Tape *tape, Tensor *x, float p) {
    ag_expect_f32("pow", x);
    TENSOR_CHECK(isfinite(p), "pow: the exponent must be finite, got %g", (double)p);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = x->data;
    float *yv = y->data;
    int64_t size = x->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) yv[i] = powf(xv[i], p);
    Node *n = ag_record(tape, &POW_OP, y, 1, &x);
    if (n) n->fargs[0] = p;
    return y;
}
