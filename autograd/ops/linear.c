/* linear: y = x kernel + bias, the fully connected layer as one op. x is (..., D),
 * kernel (D, U), bias (U) or NULL; y is (..., U), x's leading dims folded into the
 * rows of one GEMM. Against the composed ag_matmul + ag_add it saves, on wide outputs
 * such as a 8000-word softmax layer, two passes over y: the bias goes into each tile of
 * the GEMM's output while it is in cache (tensor_sgemm_bias), and backward reads y's
 * gradient directly instead of first copying it through the add. Backward:
 *   dx += dy kernel^T,  dkernel += x^T dy,  dbias += column sums of dy. */
#include "autograd/ops.h"
#include "tensor/broadcast.h"
#include "tensor/gemm.h"

#include <string.h>

/* dkernel and dbias from one GEMM, [x | 1]^T dy = [dkernel; dbias], when dy is so much
 * bigger than x and the kernel that a pass of its own over dy for the bias (the column
 * sums) would cost more than copying x with a column of ones and adding the result
 * in. The extra row usually fills a GEMM tile that was padding anyway. */
static bool bias_rides_on_kernel_gemm(int64_t rows, int64_t D, int64_t U) {
    return (double)rows * (double)U > 4.0 * ((double)rows * (double)(D + 1) + 2.0 * (double)(D + 1) * (double)U);
}

static void kernel_and_bias_grads(Node *n, const float *gy, float *gk, float *gb) {
    const int64_t rows = n->iargs[0], D = n->iargs[1], U = n->iargs[2], D1 = D + 1;
    const float *x = n->inputs[0]->data;
    Arena *arena = ag_tape_arena(n->tape);
    float *x1 = tensor_arena_alloc(arena, (size_t)(rows * D1) * sizeof(float));
    float *kb = tensor_arena_alloc(arena, (size_t)(D1 * U) * sizeof(float));
    for (int64_t r = 0; r < rows; r++) {
        memcpy(x1 + r * D1, x + r * D, (size_t)D * sizeof(float));
        x1[r * D1 + D] = 1.0f;
    }
    tensor_sgemm(true, false, D1, U, rows, 1.0f, x1, D1, gy, U, 0.0f, kb, U);
    for (int64_t i = 0; i < D * U; i++) gk[i] += kb[i];
    for (int64_t j = 0; j < U; j++) gb[j] += kb[D * U + j];
}

static void linear_backward(Node *n) {
    const Tensor *x = n->inputs[0], *kernel = n->inputs[1];
    const int64_t rows = n->iargs[0], D = n->iargs[1], U = n->iargs[2];
    const float *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0), *gk = ag_input_grad(n, 1);
    float *gb = n->n_inputs > 2 ? ag_input_grad(n, 2) : NULL;
    if (gx) tensor_sgemm(false, true, rows, D, U, 1.0f, gy, U, kernel->data, U, 1.0f, gx, D);
    if (gk && gb && bias_rides_on_kernel_gemm(rows, D, U)) {
        kernel_and_bias_grads(n, gy, gk, gb);
        return;
    }
    if (gk) tensor_sgemm(true, false, D, U, rows, 1.0f, x->data, D, gy, U, 1.0f, gk, U);
    /* Summed in an order fixed by the shapes, so the thread count does not matter. */
    if (gb) tensor_reduce_to_shape_add(gy, 2, (int64_t[]){rows, U}, gb, 1, (int64_t[]){U}, 1.0f);
}

static const OpDef LINEAR_OP = {"linear", linear_backward};

Tensor *ag_linear(Tape *tape, Tensor *x, Tensor *kernel, Tensor *bias) {
    ag_expect_f32("linear", x);
    ag_expect_f32("linear", kernel);
    if (bias) ag_expect_f32("linear", bias);
    if (x->ndim < 1 || kernel->ndim != 2 || x->shape[x->ndim - 1] != kernel->shape[0])
        AG_SHAPE_ERROR("linear", "x must be (..., D) and kernel (D, units)", x, kernel);
    const int64_t D = kernel->shape[0], U = kernel->shape[1];
    if (bias && (bias->ndim != 1 || bias->shape[0] != U))
        AG_SHAPE_ERROR("linear", "bias must be (units), the kernel's last dim", kernel, bias);
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim - 1; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = U;
    Tensor *y = ag_output(tape, x->ndim, shape);
    const int64_t rows = tensor_dims_product(x, 0, x->ndim - 1);
    if (bias)
        tensor_sgemm_bias(false, false, rows, U, D, x->data, D, kernel->data, U, bias->data,
                          y->data, U);
    else
        tensor_sgemm(false, false, rows, U, D, 1.0f, x->data, D, kernel->data, U, 0.0f, y->data, U);
    Node *n = bias ? ag_record(tape, &LINEAR_OP, y, 3, (Tensor *[]){x, kernel, bias})
                   : ag_record(tape, &LINEAR_OP, y, 2, (Tensor *[]){x, kernel});
    if (n) {
        n->iargs[0] = rows;
        n->iargs[1] = D;
        n->iargs[2] = U;
    }
    return y;
}
