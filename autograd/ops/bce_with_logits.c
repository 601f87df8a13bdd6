/* Binary cross-entropy of sigmoid(logits) against targets, same shape, as a mean:
 * max(x, 0) - x*t + log1p(exp(-|x|)), which never overflows. Gradients:
 * (sigmoid(x) - t) / N to the logits and -x / N to the targets. */
#include "autograd/ops.h"

#include <math.h>

#define BCE "bce_with_logits"
#define BCE_CHUNK 4096 /* fixed chunk size, so the sum's order ignores the thread count */

static void bce_backward(Node *n) {
    float *gl = ag_input_grad(n, 0), *gt = ag_input_grad(n, 1);
    const float *x = n->inputs[0]->data, *t = n->inputs[1]->data;
    float g = n->out->grad[0] * n->fargs[0]; /* fargs[0] = 1/N */
    int64_t size = n->inputs[0]->size;
    TENSOR_PARALLEL_FOR(size)
    for (int64_t i = 0; i < size; i++) {
        float xi = x[i];
        if (gl) {
            /* sigmoid without overflow: exp of a non-positive number only. */
            float e = expf(-fabsf(xi));
            float s = xi >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
            gl[i] += g * (s - t[i]);
        }
        if (gt) gt[i] -= g * xi;
    }
}

static const OpDef BCE_OP = {BCE, bce_backward};

Tensor *ag_bce_with_logits(Tape *tape, Tensor *logits, Tensor *targets) {
    ag_expect_f32(BCE " logits", logits);
    ag_expect_f32(BCE " targets", targets);
    if (!tensor_same_shape(logits, targets))
        AG_SHAPE_ERROR(BCE, "logits and targets must have the same shape", logits, targets);
    int64_t size = logits->size;
    TENSOR_CHECK(size > 0, BCE ": the inputs have no elements");
    const float *x = logits->data, *t = targets->data;

    /* Per-chunk partial sums in parallel, then a serial sum over chunks. */
    int64_t chunks = (size + BCE_CHUNK - 1) / BCE_CHUNK;
    double *part = tensor_arena_alloc(ag_tape_arena(tape), (size_t)chunks * sizeof(double));
    TENSOR_PARALLEL_FOR(size)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * BCE_CHUNK, hi = lo + BCE_CHUNK < size ? lo + BCE_CHUNK : size;
        double s = 0;
        for (int64_t i = lo; i < hi; i++) {
            float xi = x[i];
            s += (double)(fmaxf(xi, 0.0f) - xi * t[i]) + (double)log1pf(expf(-fabsf(xi)));
        }
        part[c] = s;
    }
    double total = 0;
    for (int64_t c = 0; c < chunks; c++) total += part[c];

    Tensor *y = ag_output(tape, 0, NULL);
    ((float *)y->data)[0] = (float)(total / (double)size);
    Node *n = ag_record(tape, &BCE_OP, y, 2, (Tensor *[]){logits, targets});
    if (n) n->fargs[0] = (float)(1.0 / (double)size);
    return y;
}
