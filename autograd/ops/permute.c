/* permute and transpose: a new contiguous tensor with the axes reordered (output axis
 * i is input axis perm[i]). Backward applies the inverse permutation to the output
 * gradient and adds it into the input's. Both use tensor_permute (tensor/permute.h). */
#include "autograd/ops.h"
#include "tensor/permute.h"

#include <stdio.h>

static void permute_backward(Node *n) {
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    const Tensor *y = n->out;
    int inv[TENSOR_MAX_DIMS];
    for (int i = 0; i < y->ndim; i++) inv[n->iargs[i]] = i;
    tensor_permute(y->grad, gx, y->ndim, y->shape, inv, true);
}

static const OpDef PERMUTE_OP = {"permute", permute_backward};
static const OpDef TRANSPOSE_OP = {"transpose", permute_backward};

/* Validates perm (negative entries count from the end) and records with op. */
static Tensor *permute_impl(Tape *tape, Tensor *x, const int *perm, const OpDef *op) {
    ag_expect_f32(op->name, x);
    int nd = x->ndim, p[TENSOR_MAX_DIMS];
    bool seen[TENSOR_MAX_DIMS] = {false};
    for (int i = 0; i < nd; i++) {
        int a = perm[i] < 0 ? perm[i] + nd : perm[i];
        if (a < 0 || a >= nd || seen[a]) {
            char list[96] = "", s[128];
            size_t used = 0;
            for (int k = 0; k < nd && used < sizeof list; k++)
                used += (size_t)snprintf(list + used, sizeof list - used, k ? ", %d" : "%d", perm[k]);
            tensor_fatal(__FILE__, __LINE__,
                         "%s: (%s) is not a permutation of the axes of a %d-d tensor of shape %s",
                         op->name, list, nd, tensor_shape_str(nd, x->shape, s, sizeof s));
        }
        seen[a] = true;
        p[i] = a;
    }
    int64_t shape[TENSOR_MAX_DIMS];
    for (int i = 0; i < nd; i++) shape[i] = x->shape[p[i]];
    Tensor *y = ag_output(tape, nd, shape);
    tensor_permute(x->data, y->data, nd, x->shape, p, false);
    Node *n = ag_record(tape, op, y, 1, &x);
    if (n)
        for (int i = 0; i < nd; i++) n->iargs[i] = p[i];
    return y;
}

Tensor *ag_permute(Tape *tape, Tensor *x, const int *perm) {
    return permute_impl(tape, x, perm, &PERMUTE_OP);
}

Tensor *ag_transpose(Tape *tape, Tensor *x, int axis0, int axis1) {
    int a0 = tensor_axis("transpose", axis0, x->ndim), a1 = tensor_axis("transpose", axis1, x->ndim);
    int perm[TENSOR_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[a0] = a1;
    perm[a1] = a0;
    return permute_impl(tape, x, perm, &TRANSPOSE_OP);
}
