/* mul: y = a * b with NumPy broadcasting. Backward: ga += g * b, gb += g * a. When an
 * input has the output's shape the product is added straight into its gradient;
 * otherwise the full-shape product goes to a tape-arena scratch buffer and is summed
 * over the stretched dims. */
#include "autograd/ops.h"
#include "tensor/broadcast.h"

/* gx_i += reduce(g * other), other = the input that is not i. */
static void mul_grad(Node *n, int i) {
    float *gx = ag_input_grad(n, i);
    if (!gx) return;
    const Tensor *y = n->out, *x = n->inputs[i], *o = n->inputs[1 - i];
    if (x->size == y->size) { /* x broadcasts to y with no stretching: same layout */
        tensor_binary_broadcast(TENSOR_BINARY_MUL, y->grad, y->ndim, y->shape, o->data, o->ndim,
                                o->shape, gx, true);
        return;
    }
    float *t = tensor_arena_alloc(ag_tape_arena(n->tape), (size_t)y->size * sizeof *t);
    tensor_binary_broadcast(TENSOR_BINARY_MUL, y->grad, y->ndim, y->shape, o->data, o->ndim,
                            o->shape, t, false);
    tensor_reduce_to_shape_add(t, y->ndim, y->shape, gx, x->ndim, x->shape, 1.0f);
}

/* ag_mul(t, x, x) passes one tensor twice: both calls add into x's gradient, giving
 * 2 * g * x, read from the inputs' values (never from the gradient being written). */
static void mul_backward(Node *n) {
    mul_grad(n, 0);
    mul_grad(n, 1);
}

static const OpDef MUL_OP = {"mul", mul_backward};

Tensor *ag_mul(Tape *tape, Tensor *a, Tensor *b) {
    ag_expect_f32("mul", a);
    ag_expect_f32("mul", b);
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (tensor_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &nd, shape) != 0)
        AG_SHAPE_ERROR("mul", "shapes cannot broadcast", a, b);
    Tensor *y = ag_output(tape, nd, shape);
    tensor_binary_broadcast(TENSOR_BINARY_MUL, a->data, a->ndim, a->shape, b->data, b->ndim,
                            b->shape, y->data, false);
    ag_record(tape, &MUL_OP, y, 2, (Tensor *[]){a, b});
    return y;
}
