/* sub: y = a - b with NumPy broadcasting. Backward: ga += g, gb -= g, each summed
 * over the dims that input was stretched along. */
#include "autograd/ops.h"
#include "tensor/broadcast.h"

static void sub_backward(Node *n) {
    const Tensor *y = n->out;
    for (int i = 0; i < 2; i++) {
        float *gx = ag_input_grad(n, i); /* a and b may be one tensor: the terms cancel */
        if (!gx) continue;
        const Tensor *x = n->inputs[i];
        tensor_reduce_to_shape_add(y->grad, y->ndim, y->shape, gx, x->ndim, x->shape,
                                   i == 0 ? 1.0f : -1.0f);
    }
}

static const OpDef SUB_OP = {"sub", sub_backward};

Tensor *ag_sub(Tape *tape, Tensor *a, Tensor *b) {
    ag_expect_f32("sub", a);
    ag_expect_f32("sub", b);
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (tensor_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &nd, shape) != 0)
        AG_SHAPE_ERROR("sub", "shapes cannot broadcast", a, b);
    Tensor *y = ag_output(tape, nd, shape);
    tensor_binary_broadcast(TENSOR_BINARY_SUB, a->data, a->ndim, a->shape, b->data, b->ndim,
                            b->shape, y->data, false);
    ag_record(tape, &SUB_OP, y, 2, (Tensor *[]){a, b});
    return y;
}
