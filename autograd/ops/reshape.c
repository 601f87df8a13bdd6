/* reshape: a free view. The output shares the input's data (tensor_reshape_view in
 * the tape's arena) but has a gradient buffer of its own, which backward adds into
 * the input's gradient element for element (same row-major order). */
#include "autograd/ops.h"

static void reshape_backward(Node *n) {
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    const float *gy = n->out->grad;
    int64_t size = n->out->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += gy[i];
}

static const OpDef RESHAPE_OP = {"reshape", reshape_backward};

Tensor *ag_reshape(Tape *tape, Tensor *x, int ndim, const int64_t *shape) {
    /* Checks the rank, at most one -1, and the element count (naming both shapes). */
    Tensor *y = tensor_reshape_view(ag_tape_arena(tape), x, ndim, shape);
    ag_record(tape, &RESHAPE_OP, y, 1, &x);
    return y;
}
