/* log_softmax along one axis (negative counts from the end), computed as
 * (x - max) - log(sum(exp(x - max))) so large logits stay finite. Backward uses the
 * saved output: gx += g - exp(y) * sum(g). */
#include "autograd/ops.h"

#include "tensor/reduce.h"

/* iargs: [0] outer, [1] n (the softmax axis), [2] inner. */
static void log_softmax_backward(Node *n) {
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    tensor_log_softmax_backward(n->out->data, n->out->grad, gx, n->iargs[0], n->iargs[1],
                                n->iargs[2]);
}

static const OpDef LOG_SOFTMAX_OP = {"log_softmax", log_softmax_backward};

Tensor *ag_log_softmax(Tape *tape, Tensor *x, int axis) {
    ag_expect_f32("log_softmax", x);
    char s[128];
    TENSOR_CHECK(axis >= -x->ndim && axis < x->ndim,
                 "log_softmax: axis %d is out of range for shape %s", axis,
                 tensor_shape_str(x->ndim, x->shape, s, sizeof s));
    int a = tensor_axis("log_softmax", axis, x->ndim);
    int64_t outer, len, inner;
    tensor_axis_split(x->ndim, x->shape, a, &outer, &len, &inner);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    tensor_log_softmax(x->data, y->data, outer, len, inner);
    Node *n = ag_record(tape, &LOG_SOFTMAX_OP, y, 1, &x);
    if (n) {
        n->iargs[0] = outer;
        n->iargs[1] = len;
        n->iargs[2] = inner;
    }
    return y;
}
