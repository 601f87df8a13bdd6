/* div: y = a / b with NumPy broadcasting. Backward: ga += g / b and
 * gb -= g * a / b^2, computed as g * y / b from the saved output (no b^2, which could
 * overflow or underflow where a / b is fine). Stretched inputs get a full-shape
 * scratch product from the tape arena, summed back over the stretched dims. */
#include "autograd/ops.h"
#include "tensor/broadcast.h"

static void div_backward(Node *n) {
    const Tensor *y = n->out, *a = n->inputs[0], *b = n->inputs[1];
    const float *g = y->grad;
    Arena *arena = ag_tape_arena(n->tape);

    float *ga = ag_input_grad(n, 0);
    if (ga) {
        if (a->size == y->size) {
            tensor_binary_broadcast(TENSOR_BINARY_DIV, g, y->ndim, y->shape, b->data, b->ndim,
                                    b->shape, ga, true);
        } else {
            float *t = tensor_arena_alloc(arena, (size_t)y->size * sizeof *t);
            tensor_binary_broadcast(TENSOR_BINARY_DIV, g, y->ndim, y->shape, b->data, b->ndim,
                                    b->shape, t, false);
            tensor_reduce_to_shape_add(t, y->ndim, y->shape, ga, a->ndim, a->shape, 1.0f);
        }
    }

    /* When a and b are one tensor this adds -g/x after the +g/x above: 0, as x/x is. */
    float *gb = ag_input_grad(n, 1);
    if (gb) {
        const float *yv = y->data, *bv = b->data;
        int64_t size = y->size;
        if (b->size == size) {
            TENSOR_PARALLEL_FOR(size)
            for (int64_t i = 0; i < size; i++) gb[i] -= g[i] * yv[i] / bv[i];
        } else {
            float *t = tensor_arena_alloc(arena, (size_t)size * sizeof *t);
            tensor_binary_broadcast(TENSOR_BINARY_MUL, g, y->ndim, y->shape, yv, y->ndim, y->shape,
                                    t, false);
            tensor_binary_broadcast(TENSOR_BINARY_DIV, t, y->ndim, y->shape, bv, b->ndim, b->shape,
                                    t, false); /* in place: t has the full shape */
            tensor_reduce_to_shape_add(t, y->ndim, y->shape, gb, b->ndim, b->shape, -1.0f);
        }
    }
}

static const OpDef DIV_OP = {"div", div_backward};

Tensor *ag_div(Tape *tape, Tensor *a, Tensor *b) {
    ag_expect_f32("div", a);
    ag_expect_f32("div", b);
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (tensor_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &nd, shape) != 0)
        AG_SHAPE_ERROR("div", "shapes cannot broadcast", a, b);
    Tensor *y = ag_output(tape, nd, shape);
    tensor_binary_broadcast(TENSOR_BINARY_DIV, a->data, a->ndim, a->shape, b->data, b->ndim,
                            b->shape, y->data, false);
    ag_record(tape, &DIV_OP, y, 2, (Tensor *[]){a, b});
    return y;
}
