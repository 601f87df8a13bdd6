/* Example: a user-defined op with its backward. softplus(x; beta) is written with the
 * public op API the library's own ops use (autograd/ops/): compute the output at once,
 * record a node whose backward adds into the input's gradient. ag_gradcheck compares
 * that backward with central differences and is shown to catch a wrong one. Exits 1
 * if a value, the check, or the wrong-backward detection is off. */
#include <lamina/nn/nn.h>

#include <math.h>
#include <stdio.h>

/* readme:begin op */
/* d/dx softplus(x; beta) = sigmoid(beta x). Backward always adds into gradients. */
static void softplus_backward(Node *n) {
    const float *x = tensor_f32(n->inputs[0]), *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0); /* NULL when x needs no gradient */
    if (!gx) return;
    float beta = n->fargs[0];
    for (int64_t i = 0; i < n->out->size; i++) gx[i] += gy[i] / (1.0f + expf(-beta * x[i]));
}

static const OpDef SOFTPLUS = {"softplus", softplus_backward};

/* softplus(x; beta) = log(1 + e^(beta x)) / beta, element-wise, beta > 0. */
static Tensor *softplus(Tape *tape, Tensor *x, float beta) {
    ag_expect_f32("softplus", x); /* a programmer error stops with file:line */
    TENSOR_CHECK(beta > 0, "softplus: beta must be > 0, got %g", beta);
    Tensor *y = ag_output(tape, x->ndim, x->shape); /* lives in the tape's arena */
    const float *xv = tensor_f32(x);
    float *yv = tensor_f32(y);
    for (int64_t i = 0; i < x->size; i++) { /* stable for any x: max(z, 0) + log1p(e^-|z|) */
        float z = beta * xv[i];
        yv[i] = (fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z)))) / beta;
    }
    Node *n = ag_record(tape, &SOFTPLUS, y, 1, &x); /* NULL if nothing needs a gradient */
    if (n) n->fargs[0] = beta;                      /* what backward needs besides x */
    return y;
}
/* readme:end */

/* readme:begin gradcheck */
/* What ag_gradcheck differentiates: a function of the inputs on a tape. */
static Tensor *softplus_fn(Tape *tape, Tensor *const *inputs, void *beta) {
    return softplus(tape, inputs[0], *(float *)beta);
}
/* readme:end */

/* The same forward with a backward that forgets beta: the check must reject it. */
static void wrong_backward(Node *n) {
    const float *x = tensor_f32(n->inputs[0]), *gy = n->out->grad;
    float *gx = ag_input_grad(n, 0);
    if (gx)
        for (int64_t i = 0; i < n->out->size; i++) gx[i] += gy[i] / (1.0f + expf(-x[i]));
}
static const OpDef SOFTPLUS_WRONG = {"softplus_wrong", wrong_backward};

static Tensor *wrong_fn(Tape *tape, Tensor *const *inputs, void *beta) {
    Tensor *y = softplus(tape, inputs[0], *(float *)beta);
    if (y->node) y->node->op = &SOFTPLUS_WRONG;
    return y;
}

int main(void) {
    int status = 0;

    /* Values against the formula in double precision, far into both tails. */
    Tape *tape = ag_tape_new();
    const float v[] = {-40.0f, -2.0f, 0.0f, 0.5f, 3.0f, 40.0f};
    Tensor *points = tensor_from_array(NULL, TENSOR_SHAPE(6), v);
    Tensor *sp = softplus(tape, points, 2.0f);
    for (int i = 0; i < 6; i++) {
        double expected = log1p(exp(2.0 * v[i])) / 2.0;
        if (fabs(tensor_f32(sp)[i] - expected) > 1e-6 * fmax(1.0, fabs(expected))) {
            fprintf(stderr, "custom_op: softplus(%g) = %.9g, expected %.9g\n", v[i], tensor_f32(sp)[i], expected);
            status = 1;
        }
    }
    tensor_free(points);
    ag_tape_free(tape);

    Rng rng;
    tensor_rng_seed(&rng, 7, 0);
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(4, 5));
    tensor_fill_uniform(tensor_f32(x), x->size, &rng, -3, 3);
    /* readme:begin gradcheck_call */
    float beta = 2.0f;
    ag_requires_grad(x, true); /* the inputs to check */
    AgGradcheckResult r = ag_gradcheck(softplus_fn, 1, &x, &beta, (AgGradcheckOpts){0});
    printf("gradient check: %s, %lld elements, max error %.2g\n", r.ok ? "ok" : r.message,
           (long long)r.checked, r.max_abs_error);
    /* readme:end */
    if (!r.ok || r.checked != x->size) status = 1;

    AgGradcheckResult bad = ag_gradcheck(wrong_fn, 1, &x, &beta, (AgGradcheckOpts){0});
    printf("a backward that forgets beta: %s\n", bad.ok ? "passed (wrong!)" : bad.message);
    if (bad.ok) status = 1;

    tensor_free(x);
    return status;
}
