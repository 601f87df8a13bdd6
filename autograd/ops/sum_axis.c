/* sum and mean along one axis (negative counts from the end), optionally keeping it as
 * a size-1 dim. Forward is tensor_sum_axis (double accumulation, fixed order); backward
 * broadcasts the gradient back along the reduced axis. */
#include "autograd/ops.h"

#include "tensor/reduce.h"

/* iargs: [0] outer, [1] n (the reduced dim), [2] inner; fargs[0]: 1 or 1/n. */
static void sum_axis_backward(Node *n) {
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    tensor_axis_broadcast_add(n->out->grad, gx, n->iargs[0], n->iargs[1], n->iargs[2], n->fargs[0]);
}

static const OpDef SUM_AXIS_OP = {"sum_axis", sum_axis_backward};
static const OpDef MEAN_AXIS_OP = {"mean_axis", sum_axis_backward};

static Tensor *reduce_axis(Tape *tape, Tensor *x, int axis, bool keepdims, bool mean,
                           const OpDef *op) {
    const char *name = op->name;
    ag_expect_f32(name, x);
    char s[128];
    TENSOR_CHECK(axis >= -x->ndim && axis < x->ndim, "%s: axis %d is out of range for shape %s",
                 name, axis, tensor_shape_str(x->ndim, x->shape, s, sizeof s));
    int a = tensor_axis(name, axis, x->ndim);
    int64_t outer, len, inner;
    tensor_axis_split(x->ndim, x->shape, a, &outer, &len, &inner);
    TENSOR_CHECK(!mean || len > 0, "%s: axis %d of %s has no elements to average", name, axis,
                 tensor_shape_str(x->ndim, x->shape, s, sizeof s));

    int64_t shape[TENSOR_MAX_DIMS];
    int ndim = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d != a)
            shape[ndim++] = x->shape[d];
        else if (keepdims)
            shape[ndim++] = 1;
    }
    float scale = mean ? 1.0f / (float)len : 1.0f;
    Tensor *y = ag_output(tape, ndim, shape);
    tensor_sum_axis(x->data, y->data, outer, len, inner, scale);
    Node *n = ag_record(tape, op, y, 1, &x);
    if (n) {
        n->iargs[0] = outer;
        n->iargs[1] = len;
        n->iargs[2] = inner;
        n->fargs[0] = scale;
    }
    return y;
}

Tensor *ag_sum_axis(Tape *tape, Tensor *x, int axis, bool keepdims) {
    return reduce_axis(tape, x, axis, keepdims, false, &SUM_AXIS_OP);
}

Tensor *ag_mean_axis(Tape *tape, Tensor *x, int axis, bool keepdims) {
    return reduce_axis(tape, x, axis, keepdims, true, &MEAN_AXIS_OP);
}
