/* sum and mean of all elements into a 0-d scalar (summed in double, so the result
 * does not depend on the thread count or lose small terms). */
#include "autograd/ops.h"

static void sum_backward(Node *n) {
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    float g = n->out->grad[0] * n->fargs[0]; /* fargs[0] = 1 for sum, 1/size for mean */
    int64_t size = n->inputs[0]->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) gx[i] += g;
}

static const OpDef SUM_OP = {"sum", sum_backward};

static Tensor *reduce_all(Tape *tape, Tensor *x, float scale, const char *name) {
    ag_expect_f32(name, x);
    Tensor *y = ag_output(tape, 0, NULL);
    const float *xv = x->data;
    double s = 0;
    for (int64_t i = 0; i < x->size; i++) s += xv[i];
    ((float *)y->data)[0] = (float)(s * scale);
    Node *n = ag_record(tape, &SUM_OP, y, 1, &x);
    if (n) n->fargs[0] = scale;
    return y;
}

Tensor *ag_sum(Tape *tape, Tensor *x) { return reduce_all(tape, x, 1.0f, "sum"); }

Tensor *ag_mean(Tape *tape, Tensor *x) {
    TENSOR_CHECK(x->size > 0, "mean: the input has no elements");
    return reduce_all(tape, x, 1.0f / (float)x->size, "mean");
}
