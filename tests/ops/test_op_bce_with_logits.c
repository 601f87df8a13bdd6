/* bce_with_logits: values computed in double, both gradients by hand, stability with
 * +-1e4 logits, gradient checks for logits and targets, bad shapes/dtypes, and the
 * parallel path against a serial reference. */
#include "helpers.h"

#include <math.h>
#include <signal.h>
#include <string.h>

static Tensor *bce_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_bce_with_logits(tape, in[0], in[1]);
}

/* -t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)), the textbook form, in double. */
static double bce_ref(double x, double t) {
    double s = 1 / (1 + exp(-x));
    return -t * log(s) - (1 - t) * log(1 - s);
}

Test(op_bce_with_logits, values_and_gradients) {
    Tape *tape = ag_tape_new();
    float xv[] = {-2, -0.5f, 0, 0.5f, 1, 3};
    float tv[] = {0, 1, 0.5f, 0.25f, 1, 0};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 3), xv), true);
    Tensor *t = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 3), tv), true);
    Tensor *loss = ag_bce_with_logits(tape, x, t);
    cr_assert_eq(loss->ndim, 0, "the loss is a 0-d scalar");
    double expect = 0, gx[6], gt[6];
    for (int i = 0; i < 6; i++) {
        expect += bce_ref(xv[i], tv[i]) / 6;
        gx[i] = (1 / (1 + exp(-(double)xv[i])) - tv[i]) / 6;
        gt[i] = -xv[i] / 6.0;
    }
    cr_assert_float_eq(((float *)loss->data)[0], expect, 1e-6);
    cr_assert_float_eq(bce_ref(0, 0.5), log(2.0), 1e-12); /* x = 0: log 2 whatever t is */
    ag_backward(tape, loss);
    ASSERT_CLOSE_ARRAY(x->grad, gx, 6, 1e-5, 1e-7);
    ASSERT_CLOSE_ARRAY(t->grad, gt, 6, 1e-6, 1e-7);
    tensor_free(x);
    tensor_free(t);
    ag_tape_free(tape);
}

Test(op_bce_with_logits, gradient_to_one_side_only) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2), (float[]){1, -1}), true);
    Tensor *t = tensor_from_array(NULL, TENSOR_SHAPE(2), (float[]){1, 0});
    ag_backward(tape, ag_bce_with_logits(tape, x, t));
    cr_assert_null(t->grad, "targets that need no gradient get none");
    cr_assert_float_eq(x->grad[0], (1 / (1 + exp(-1.0)) - 1) / 2, 1e-7);
    Tensor *y = ag_bce_with_logits(tape, t, t); /* nothing requires a gradient: no node */
    cr_assert_null(y->node);
    tensor_free(x);
    tensor_free(t);
    ag_tape_free(tape);
}

Test(op_bce_with_logits, stable_for_huge_logits) {
    Tape *tape = ag_tape_new();
    float xv[] = {1e4f, -1e4f, 1e4f, -1e4f};
    float tv[] = {1, 0, 0, 1};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(4), xv), true);
    Tensor *t = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(4), tv), true);
    Tensor *loss = ag_bce_with_logits(tape, x, t);
    ag_backward(tape, loss);
    float l = ((float *)loss->data)[0];
    cr_assert(isfinite(l));
    cr_assert_float_eq(l, (0 + 0 + 1e4 + 1e4) / 4, 1e-2); /* confident and right: 0; wrong: |x| */
    ASSERT_CLOSE_ARRAY(x->grad, ((float[]){0, 0, 0.25f, -0.25f}), 4, 0, 1e-7);
    ASSERT_CLOSE_ARRAY(t->grad, ((float[]){-2500, 2500, -2500, 2500}), 4, 1e-7, 0);
    tensor_free(x);
    tensor_free(t);
    ag_tape_free(tape);
}

Test(op_bce_with_logits, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 30, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    for (int s = 0; s < 3; s++) {
        Tensor *in[2] = {test_random(&rng, -3, 3, 3, shapes[s]),
                         test_random(&rng, 0, 1, 3, shapes[s])};
        ASSERT_GRADCHECK(bce_fn, 2, in, NULL, .seed = (uint64_t)s);
        tensor_free(in[0]);
        tensor_free(in[1]);
    }
    Tensor *in[2] = {test_random(&rng, -3, 3, 0, NULL), test_random(&rng, 0, 1, 0, NULL)};
    ASSERT_GRADCHECK(bce_fn, 2, in, NULL);
    tensor_free(in[0]);
    tensor_free(in[1]);
}

Test(op_bce_with_logits, shape_mismatch_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *t = tensor_zeros(NULL, TENSOR_SHAPE(3, 2));
    ag_bce_with_logits(tape, x, t);
}

Test(op_bce_with_logits, broadcast_is_not_accepted, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *t = tensor_zeros(NULL, TENSOR_SHAPE(1, 3));
    ag_bce_with_logits(tape, x, t);
}

Test(op_bce_with_logits, int_targets_abort, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *t = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, 3));
    ag_bce_with_logits(tape, x, t);
}

Test(op_bce_with_logits, empty_input_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(0, 3));
    ag_bce_with_logits(tape, x, x);
}

Test(op_bce_with_logits, large_parallel_matches_serial) {
    Rng rng;
    tensor_rng_seed(&rng, 31, 0);
    const int64_t N = 100003; /* not a multiple of the chunk size */
    Tensor *x = test_random(&rng, -6, 6, TENSOR_SHAPE(N));
    Tensor *t = test_random(&rng, 0, 1, TENSOR_SHAPE(N));
    const float *xv = x->data, *tv = t->data;
    double ref = 0;
    for (int64_t i = 0; i < N; i++) ref += bce_ref(xv[i], tv[i]);
    ref /= (double)N;
    float bits[2];
    for (int threads = 1; threads <= 2; threads++) {
        tensor_set_num_threads(threads);
        Tape *tape = ag_tape_new();
        ag_zero_grad(2, (Tensor *[]){x, t});
        Tensor *loss = ag_bce_with_logits(tape, x, t);
        ag_backward(tape, loss);
        bits[threads - 1] = ((float *)loss->data)[0];
        cr_assert_float_eq(bits[threads - 1], ref, 1e-6);
        for (int64_t i = 0; i < N; i++) {
            double s = 1 / (1 + exp(-(double)xv[i]));
            cr_assert_float_eq(x->grad[i], (s - tv[i]) / (double)N, 1e-11, "element %lld",
                               (long long)i);
            cr_assert_float_eq(t->grad[i], -xv[i] / (double)N, 1e-11, "element %lld", (long long)i);
        }
        ag_tape_free(tape);
    }
    cr_assert(memcmp(&bits[0], &bits[1], sizeof(float)) == 0, "loss differs by thread count");
    tensor_free(x);
    tensor_free(t);
}
