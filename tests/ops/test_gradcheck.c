/* The gradient checker itself must catch a wrong backward, not just pass right ones. */
#include "helpers.h"

/* An op whose backward is deliberately off by a factor of 2. */
static void wrong_backward(Node *n) {
    float *gx = ag_input_grad(n, 0);
    const float *x = n->inputs[0]->data, *gy = n->out->grad;
    if (gx)
        for (int64_t i = 0; i < n->out->size; i++) gx[i] += 4.0f * x[i] * gy[i]; /* should be 2x */
}
static const OpDef WRONG_SQUARE = {"wrong_square", wrong_backward};

static Tensor *wrong_square(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    Tensor *x = in[0], *y = ag_output(tape, x->ndim, x->shape);
    for (int64_t i = 0; i < x->size; i++) tensor_f32(y)[i] = tensor_f32(x)[i] * tensor_f32(x)[i];
    ag_record(tape, &WRONG_SQUARE, y, 1, &x);
    return y;
}

static Tensor *tanh_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_tanh(tape, in[0]);
}

Test(gradcheck, catches_a_wrong_backward) {
    Rng rng;
    tensor_rng_seed(&rng, 9, 0);
    Tensor *x = test_random(&rng, 0.5f, 1.5f, TENSOR_SHAPE(3, 2));
    AgGradcheckResult r = ag_gradcheck(wrong_square, 1, &x, NULL, (AgGradcheckOpts){0});
    cr_assert(!r.ok);
    cr_assert_eq(r.failed_input, 0);
    cr_assert_float_eq(r.analytic, 2.0 * r.numeric, 1e-2 * fabs(r.numeric));
    tensor_free(x);
}

Test(gradcheck, passes_a_right_backward_and_restores_inputs) {
    Rng rng;
    tensor_rng_seed(&rng, 10, 0);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(4, 5));
    Tensor *before = tensor_copy(NULL, x);
    AgGradcheckResult r = ag_gradcheck(tanh_fn, 1, &x, NULL, (AgGradcheckOpts){.rtol = 1e-3f});
    cr_assert(r.ok, "%s", r.message);
    cr_assert_eq(r.checked, 20);
    cr_assert_lt(r.max_abs_error, 1e-3);
    for (int i = 0; i < 20; i++) cr_assert_eq(tensor_f32(x)[i], tensor_f32(before)[i]);
    tensor_free(x);
    tensor_free(before);
}

Test(gradcheck, max_elements_samples_large_inputs) {
    Rng rng;
    tensor_rng_seed(&rng, 11, 0);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(100, 10));
    AgGradcheckResult r = ag_gradcheck(tanh_fn, 1, &x, NULL, (AgGradcheckOpts){.max_elements = 50});
    cr_assert(r.ok, "%s", r.message);
    cr_assert_leq(r.checked, 50);
    cr_assert_geq(r.checked, 40);
    tensor_free(x);
}

Test(gradcheck, skips_inputs_without_requires_grad) {
    Rng rng;
    tensor_rng_seed(&rng, 12, 0);
    Tensor *x = test_random(&rng, -1, 1, TENSOR_SHAPE(3));
    x->requires_grad = false;
    AgGradcheckResult r = ag_gradcheck(tanh_fn, 1, &x, NULL, (AgGradcheckOpts){0});
    cr_assert(r.ok);
    cr_assert_eq(r.checked, 0);
    tensor_free(x);
}
