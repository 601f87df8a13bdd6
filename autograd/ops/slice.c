/* slice: elements start <= i < stop along one axis, as a new contiguous tensor.
 * Around the axis the input is (outer, dim, inner): the slice is outer rows of
 * (stop - start) * inner floats, copied out in forward and added back in backward. */
#include "autograd/ops.h"
#include "tensor/permute.h"

static void slice_backward(Node *n) {
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    const Tensor *x = n->inputs[0];
    int axis = (int)n->iargs[0];
    int64_t start = n->iargs[1], len = n->out->shape[axis];
    int64_t outer = tensor_dims_product(x, 0, axis), inner = tensor_dims_product(x, axis + 1, x->ndim);
    tensor_copy_rows(n->out->grad, len * inner, gx + start * inner, x->shape[axis] * inner, outer,
                     len * inner, true);
}

static const OpDef SLICE_OP = {"slice", slice_backward};

Tensor *ag_slice(Tape *tape, Tensor *x, int axis, int64_t start, int64_t stop) {
    ag_expect_f32("slice", x);
    int a = tensor_axis("slice", axis, x->ndim);
    int64_t dim = x->shape[a];
    if (!(0 <= start && start <= stop && stop <= dim)) {
        char s[128];
        tensor_fatal(__FILE__, __LINE__,
                     "slice: [%lld, %lld) is out of range for axis %d (size %lld) of shape %s",
                     (long long)start, (long long)stop, axis, (long long)dim,
                     tensor_shape_str(x->ndim, x->shape, s, sizeof s));
    }
    int64_t shape[TENSOR_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[a] = stop - start;
    Tensor *y = ag_output(tape, x->ndim, shape);
    int64_t outer = tensor_dims_product(x, 0, a), inner = tensor_dims_product(x, a + 1, x->ndim);
    int64_t len = (stop - start) * inner;
    tensor_copy_rows((const float *)x->data + start * inner, dim * inner, y->data, len, outer, len,
                     false);
    Node *n = ag_record(tape, &SLICE_OP, y, 1, &x);
    if (n) {
        n->iargs[0] = a;
        n->iargs[1] = start;
    }
    return y;
}
