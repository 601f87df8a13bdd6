/* An op defined outside the library with the public op API (the README's worked
 * example): it passes the gradient checker and a model trains through it. */
#include "helpers.h"

/* softplus(x) = log(1 + e^x), computed stably; d/dx = sigmoid(x). */
static void softplus_backward(Node *n) {
    const float *x = tensor_f32(n->inputs[0]), *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (!gx) return;
    for (int64_t i = 0; i < n->out->size; i++) gx[i] += gy[i] / (1.0f + expf(-x[i]));
}

static const OpDef SOFTPLUS = {"softplus", softplus_backward};

static Tensor *softplus(Tape *tape, Tensor *x) {
    ag_expect_f32("softplus", x);
    Tensor *y = ag_output(tape, x->ndim, x->shape);
    const float *xv = tensor_f32(x);
    float *yv = tensor_f32(y);
    for (int64_t i = 0; i < x->size; i++) yv[i] = fmaxf(xv[i], 0.0f) + log1pf(expf(-fabsf(xv[i])));
    ag_record(tape, &SOFTPLUS, y, 1, &x);
    return y;
}

static Tensor *softplus_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return softplus(tape, in[0]);
}

Test(custom_op, values_and_gradient_check) {
    Tape *tape = ag_tape_new();
    float v[] = {-30.0f, -1.0f, 0.0f, 2.0f, 30.0f};
    Tensor *x = tensor_from_array(NULL, TENSOR_SHAPE(5), v);
    Tensor *y = softplus(tape, x);
    for (int i = 0; i < 5; i++) cr_assert_float_eq(tensor_f32(y)[i], (float)log1p(exp((double)v[i])), 1e-6);
    tensor_free(x);
    ag_tape_free(tape);

    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    Tensor *r = test_random(&rng, -3, 3, TENSOR_SHAPE(4, 3));
    ASSERT_GRADCHECK(softplus_fn, 1, &r, NULL);
    tensor_free(r);
}

Test(custom_op, trains_through_library_ops) {
    /* Fit y = softplus(x w + b) to targets made with w = 1.5, b = -0.5, by gradient
     * descent through matmul, add, the custom op, sub, square and mean. */
    Rng rng;
    tensor_rng_seed(&rng, 6, 0);
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(64, 1)), *t = tensor_zeros(NULL, TENSOR_SHAPE(64, 1));
    tensor_fill_uniform(tensor_f32(x), 64, &rng, -2, 2);
    for (int i = 0; i < 64; i++) {
        float z = 1.5f * tensor_f32(x)[i] - 0.5f;
        tensor_f32(t)[i] = fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z)));
    }
    Tensor *w = ag_requires_grad(tensor_full(NULL, TENSOR_SHAPE(1, 1), 0.1f), true);
    Tensor *b = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(1)), true);
    Tape *tape = ag_tape_new();
    float first = 0, last = 0;
    for (int step = 0; step < 2000; step++) {
        Tensor *pred = softplus(tape, ag_add(tape, ag_matmul(tape, x, w), b));
        Tensor *loss = ag_mean(tape, ag_square(tape, ag_sub(tape, pred, t)));
        last = tensor_f32(loss)[0];
        if (step == 0) first = last;
        ag_zero_grad(2, (Tensor *[]){w, b});
        ag_backward(tape, loss);
        tensor_f32(w)[0] -= 0.5f * w->grad[0];
        tensor_f32(b)[0] -= 0.5f * b->grad[0];
        ag_tape_reset(tape);
    }
    cr_log_info("custom op training: loss %.3g -> %.3g, w %.4f, b %.4f", first, last, tensor_f32(w)[0], tensor_f32(b)[0]);
    cr_assert_lt(last, 1e-6f);
    cr_assert_float_eq(tensor_f32(w)[0], 1.5f, 1e-2);
    cr_assert_float_eq(tensor_f32(b)[0], -0.5f, 1e-2);
    ag_tape_free(tape);
    tensor_free(x);
    tensor_free(t);
    tensor_free(w);
    tensor_free(b);
}
