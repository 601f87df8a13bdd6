/* stack: n same-shaped tensors joined along a new axis (0..ndim). Around the new
 * axis each input is (outer, 1, inner) and the output (outer, n, inner): input i
 * fills, in every outer row, the run of inner floats at offset i * inner. */
#include "autograd/ops.h"
#include "tensor/permute.h"

#include <stdio.h>

static void stack_backward(Node *n) {
    int axis = (int)n->iargs[0];
    const Tensor *y = n->out;
    int64_t outer = tensor_dims_product(y, 0, axis), inner = tensor_dims_product(y, axis + 1, y->ndim);
    for (int i = 0; i < n->n_inputs; i++) {
        float *gx = ag_input_grad(n, i);
        if (gx) tensor_copy_rows(y->grad + i * inner, n->n_inputs * inner, gx, inner, outer, inner, true);
    }
}

static const OpDef STACK_OP = {"stack", stack_backward};

Tensor *ag_stack(Tape *tape, int n, Tensor *const *xs, int axis) {
    TENSOR_CHECK(n >= 1, "stack: needs at least one input, got %d", n);
    const Tensor *x0 = xs[0];
    int nd = x0->ndim;
    int a = axis < 0 ? axis + nd + 1 : axis;
    TENSOR_CHECK(a >= 0 && a <= nd, "stack: axis %d is out of range for stacking %d-d tensors", axis,
                 nd);
    TENSOR_CHECK(nd < TENSOR_MAX_DIMS, "stack: %d-d inputs would give more than %d dims", nd,
                 TENSOR_MAX_DIMS);
    for (int i = 0; i < n; i++) {
        ag_expect_f32("stack", xs[i]);
        if (!tensor_same_shape(xs[i], x0)) {
            char what[64];
            snprintf(what, sizeof what, "input %d has a different shape from input 0", i);
            AG_SHAPE_ERROR("stack", what, xs[i], x0);
        }
    }
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0, k = 0; d <= nd; d++) shape[d] = d == a ? n : x0->shape[k++];
    Tensor *y = ag_output(tape, nd + 1, shape);
    int64_t outer = tensor_dims_product(x0, 0, a), inner = tensor_dims_product(x0, a, nd);
    for (int i = 0; i < n; i++)
        tensor_copy_rows(xs[i]->data, inner, (float *)y->data + i * inner, n * inner, outer, inner,
                         false);
    Node *node = ag_record(tape, &STACK_OP, y, n, xs);
    if (node) node->iargs[0] = a;
    return y;
}
