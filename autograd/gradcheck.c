/* Central-difference gradient checking against the tape's analytic gradients. */
#include "autograd/gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* sum(out * w) in double, the scalar whose gradient is being checked. */
static double projected(const Tensor *out, const float *w) {
    const float *y = tensor_f32(out);
    double s = 0;
    for (int64_t i = 0; i < out->size; i++) s += (double)y[i] * (double)w[i];
    return s;
}

static double forward_value(AgForwardFn fn, Tape *tape, Tensor *const *inputs, void *ctx,
                            const float *w, int64_t expect_size) {
    ag_tape_reset(tape);
    bool previous = ag_set_grad_enabled(tape, false);
    Tensor *out = fn(tape, inputs, ctx);
    ag_set_grad_enabled(tape, previous);
    TENSOR_CHECK(out->size == expect_size, "gradcheck: the output changed size between calls");
    return projected(out, w);
}

AgGradcheckResult ag_gradcheck(AgForwardFn fn, int n_inputs, Tensor *const *inputs, void *ctx,
                               AgGradcheckOpts opts) {
    AgGradcheckResult r = {.ok = true, .failed_input = -1, .failed_index = -1};
    double eps = opts.eps > 0 ? opts.eps : 5e-3;
    double rtol = opts.rtol > 0 ? opts.rtol : 1e-2;
    double atol = opts.atol > 0 ? opts.atol : 1e-3;
    Tape *tape = ag_tape_new();
    Rng rng;
    tensor_rng_seed(&rng, opts.seed, 0x9c4ec4);

    /* Analytic gradients of sum(out * w). */
    for (int k = 0; k < n_inputs; k++) tensor_zero_grad(inputs[k]);
    Tensor *out = fn(tape, inputs, ctx);
    ag_expect_f32("gradcheck", out);
    int64_t out_size = out->size;
    float *w = tensor_xmalloc((size_t)(out_size ? out_size : 1) * sizeof(float));
    tensor_fill_uniform(w, out_size, &rng, -1.0f, 1.0f);
    ag_backward_with(tape, out, w);
    float **analytic = tensor_xcalloc((size_t)n_inputs, sizeof(float *));
    for (int k = 0; k < n_inputs; k++) {
        Tensor *x = inputs[k];
        if (x->dtype != TENSOR_F32 || !x->requires_grad) continue;
        analytic[k] = tensor_xcalloc((size_t)(x->size ? x->size : 1), sizeof(float));
        if (x->grad) memcpy(analytic[k], x->grad, (size_t)x->size * sizeof(float));
    }

    for (int k = 0; k < n_inputs && r.ok; k++) {
        Tensor *x = inputs[k];
        if (!analytic[k]) continue;
        float *v = tensor_f32(x);
        int64_t stride = 1;
        if (opts.max_elements > 0 && x->size > opts.max_elements)
            stride = (x->size + opts.max_elements - 1) / opts.max_elements;
        for (int64_t i = 0; i < x->size; i += stride) {
            float saved = v[i];
            v[i] = (float)(saved + eps);
            double plus = forward_value(fn, tape, inputs, ctx, w, out_size);
            v[i] = (float)(saved - eps);
            double minus = forward_value(fn, tape, inputs, ctx, w, out_size);
            v[i] = saved;
            /* The step actually taken, after float rounding of x +- eps. */
            double step = (double)(float)(saved + eps) - (double)(float)(saved - eps);
            double numeric = (plus - minus) / step;
            double a = analytic[k][i];
            double err = fabs(a - numeric);
            r.checked++;
            if (err > r.max_abs_error) r.max_abs_error = err;
            if (!(err <= atol + rtol * fmax(fabs(a), fabs(numeric)))) {
                r.ok = false;
                r.failed_input = k;
                r.failed_index = i;
                r.analytic = a;
                r.numeric = numeric;
                snprintf(r.message, sizeof r.message,
                         "input %d%s%s element %lld: analytic %.6g vs numeric %.6g (|diff| %.3g)", k,
                         x->name ? " " : "", x->name ? x->name : "", (long long)i, a, numeric, err);
                break;
            }
        }
    }
    for (int k = 0; k < n_inputs; k++) {
        free(analytic[k]);
        tensor_zero_grad(inputs[k]);
    }
    free(analytic);
    free(w);
    ag_tape_free(tape);
    return r;
}
