/* concat: n tensors joined along an existing axis. Around the axis each input is
 * (outer, d_i, inner) and the output (outer, sum d_i, inner): input i fills, in
 * every outer row, the run of d_i * inner floats that starts at offset_i * inner.
 * Backward copies (adds) the same runs of the output gradient back. */
#include "autograd/ops.h"
#include "tensor/permute.h"

#include <stdio.h>

static void concat_backward(Node *n) {
    int axis = (int)n->iargs[0];
    const Tensor *y = n->out;
    int64_t outer = tensor_dims_product(y, 0, axis), inner = tensor_dims_product(y, axis + 1, y->ndim);
    int64_t row = y->shape[axis] * inner, offset = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        int64_t len = n->inputs[i]->shape[axis] * inner;
        float *gx = ag_input_grad(n, i);
        if (gx) tensor_copy_rows(y->grad + offset, row, gx, len, outer, len, true);
        offset += len;
    }
}

static const OpDef CONCAT_OP = {"concat", concat_backward};

Tensor *ag_concat(Tape *tape, int n, Tensor *const *xs, int axis) {
    TENSOR_CHECK(n >= 1, "concat: needs at least one input, got %d", n);
    const Tensor *x0 = xs[0];
    int a = tensor_axis("concat", axis, x0->ndim);
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < x0->ndim; d++) shape[d] = x0->shape[d];
    shape[a] = 0;
    for (int i = 0; i < n; i++) {
        ag_expect_f32("concat", xs[i]);
        bool ok = xs[i]->ndim == x0->ndim;
        for (int d = 0; ok && d < x0->ndim; d++) ok = d == a || xs[i]->shape[d] == x0->shape[d];
        if (!ok) {
            char what[96];
            snprintf(what, sizeof what, "input %d does not match input 0 outside axis %d", i, axis);
            AG_SHAPE_ERROR("concat", what, xs[i], x0);
        }
        shape[a] += xs[i]->shape[a];
    }
    Tensor *y = ag_output(tape, x0->ndim, shape);
    int64_t outer = tensor_dims_product(y, 0, a), inner = tensor_dims_product(y, a + 1, y->ndim);
    int64_t row = shape[a] * inner, offset = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = xs[i]->shape[a] * inner;
        tensor_copy_rows(xs[i]->data, len, (float *)y->data + offset, row, outer, len, false);
        offset += len;
    }
    Node *node = ag_record(tape, &CONCAT_OP, y, n, xs);
    if (node) node->iargs[0] = a;
    return y;
}
