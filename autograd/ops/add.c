/* add: y = a + b with NumPy broadcasting. Backward sums the upstream gradient over
 * the dims each input was stretched along: ga += g, gb += g (reduced to their shapes). */
#include "autograd/ops.h"
#include "tensor/broadcast.h"

static void add_backward(Node *n) {
    const Tensor *y = n->out;
    for (int i = 0; i < 2; i++) {
        float *gx = ag_input_grad(n, i); /* a and b may be one tensor: then both add in */
        if (!gx) continue;
        const Tensor *x = n->inputs[i];
        tensor_reduce_to_shape_add(y->grad, y->ndim, y->shape, gx, x->ndim, x->shape, 1.0f);
    }
}

static const OpDef ADD_OP = {"add", add_backward};

Tensor *ag_add(Tape *tape, Tensor *a, Tensor *b) {
    ag_expect_f32("add", a);
    ag_expect_f32("add", b);
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (tensor_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &nd, shape) != 0)
        AG_SHAPE_ERROR("add", "shapes cannot broadcast", a, b);
    Tensor *y = ag_output(tape, nd, shape);
    tensor_binary_broadcast(TENSOR_BINARY_ADD, a->data, a->ndim, a->shape, b->data, b->ndim,
                            b->shape, y->data, false);
    ag_record(tape, &ADD_OP, y, 2, (Tensor *[]){a, b});
    return y;
}
