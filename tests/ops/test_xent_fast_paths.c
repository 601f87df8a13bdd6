/* Sparse cross-entropy's fast paths against the plain gradient (softmax - onehot) /
 * count computed in double: the gradient precomputed by the forward and handed over
 * (to the logits, or through reshape views to the tensor they view), an upstream
 * gradient other than 1, a second backward on the same tape, ignored rows, logits
 * that also feed another op, and leaf logits. */
#include "helpers.h"

#include <stdlib.h>

enum { ROWS = 6, T = 4, C = 37 };

/* Expected d loss / d logits for upstream `up`, in double. */
static void expected_grad(const float *x, const int32_t *t, int64_t rows, int32_t ignore, double up, double *g) {
    int64_t count = 0;
    for (int64_t r = 0; r < rows; r++) count += t[r] != ignore;
    for (int64_t r = 0; r < rows; r++) {
        double m = -INFINITY, s = 0;
        for (int k = 0; k < C; k++) m = fmax(m, x[r * C + k]);
        for (int k = 0; k < C; k++) s += exp(x[r * C + k] - m);
        for (int k = 0; k < C; k++) {
            double p = exp(x[r * C + k] - m) / s - (k == t[r]);
            g[r * C + k] = t[r] == ignore ? 0.0 : up * p / (double)count;
        }
    }
}

static void assert_grad(const float *got, const double *want, int64_t n, const char *what) {
    for (int64_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= 1e-6 + 1e-5 * fabs(want[i]), "%s[%lld]: %.9g, expected %.9g", what,
                  (long long)i, got[i], want[i]);
}

typedef struct Setup {
    Tensor *x, *targets;
    int32_t ignore;
} Setup;

static Setup setup(uint64_t seed, bool with_ignored) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 5);
    Setup s = {test_random(&rng, -4, 4, TENSOR_SHAPE(ROWS * T, C)), tensor_i32_zeros(NULL, TENSOR_SHAPE(ROWS, T)),
               with_ignored ? 3 : AG_NO_IGNORE_INDEX};
    int32_t *tv = s.targets->data;
    for (int i = 0; i < ROWS * T; i++) tv[i] = (int32_t)tensor_rng_below(&rng, C);
    if (with_ignored) tv[2] = tv[9] = 3;
    return s;
}

static void teardown(Setup *s) {
    tensor_free(s->x);
    tensor_free(s->targets);
}

/* logits = reshape(x * 1, (ROWS, T, C)): arena tensors, the shape TimeDistributed makes. */
static Tensor *logits_of(Tape *tape, Tensor *x) {
    return ag_reshape(tape, ag_scale(tape, x, 1.0f), 3, (int64_t[]){ROWS, T, C});
}

Test(xent_fast_paths, handed_over_through_reshape) {
    for (int ign = 0; ign < 2; ign++) {
        Setup s = setup(1 + ign, ign);
        Tape *tape = ag_tape_new();
        Tensor *logits = logits_of(tape, s.x);
        ag_backward(tape, ag_sparse_cross_entropy(tape, logits, s.targets, s.ignore));
        double *want = malloc(ROWS * T * C * sizeof(double));
        expected_grad(s.x->data, s.targets->data, ROWS * T, s.ignore, 1.0, want);
        assert_grad(s.x->grad, want, ROWS * T * C, "dx");
        cr_assert_null(logits->grad, "the reshape's copy of the gradient is skipped");
        /* A second backward on the same tape: the same gradient added again. */
        ag_backward(tape, ag_sparse_cross_entropy(tape, logits, s.targets, s.ignore));
        for (int i = 0; i < ROWS * T * C; i++) want[i] *= 2;
        assert_grad(s.x->grad, want, ROWS * T * C, "dx after two backwards");
        free(want);
        ag_tape_free(tape);
        teardown(&s);
    }
}

Test(xent_fast_paths, backward_twice_on_one_loss) {
    Setup s = setup(3, false);
    Tape *tape = ag_tape_new();
    Tensor *loss = ag_sparse_cross_entropy(tape, logits_of(tape, s.x), s.targets, s.ignore);
    ag_backward(tape, loss);
    ag_backward(tape, loss); /* the handed-over buffer was zeroed: recomputed from lse */
    double *want = malloc(ROWS * T * C * sizeof(double));
    expected_grad(s.x->data, s.targets->data, ROWS * T, s.ignore, 2.0, want);
    assert_grad(s.x->grad, want, ROWS * T * C, "dx");
    free(want);
    ag_tape_free(tape);
    teardown(&s);
}

Test(xent_fast_paths, upstream_other_than_one) {
    Setup s = setup(4, true);
    Tape *tape = ag_tape_new();
    Tensor *loss = ag_sparse_cross_entropy(tape, logits_of(tape, s.x), s.targets, s.ignore);
    const float up = -2.5f;
    ag_backward_with(tape, loss, &up);
    double *want = malloc(ROWS * T * C * sizeof(double));
    expected_grad(s.x->data, s.targets->data, ROWS * T, s.ignore, up, want);
    assert_grad(s.x->grad, want, ROWS * T * C, "dx");
    free(want);
    ag_tape_free(tape);
    teardown(&s);
}

Test(xent_fast_paths, logits_feeding_another_op) {
    /* loss = CE(logits) + sum(logits): d/dx gets the CE gradient plus one. */
    Setup s = setup(5, false);
    Tape *tape = ag_tape_new();
    Tensor *logits = logits_of(tape, s.x);
    Tensor *ce = ag_sparse_cross_entropy(tape, logits, s.targets, s.ignore);
    ag_backward(tape, ag_add(tape, ce, ag_sum(tape, logits)));
    double *want = malloc(ROWS * T * C * sizeof(double));
    expected_grad(s.x->data, s.targets->data, ROWS * T, s.ignore, 1.0, want);
    for (int i = 0; i < ROWS * T * C; i++) want[i] += 1.0;
    assert_grad(s.x->grad, want, ROWS * T * C, "dx");
    free(want);
    ag_tape_free(tape);
    teardown(&s);
}

Test(xent_fast_paths, leaf_logits) {
    /* A heap tensor cannot take an arena buffer as its gradient: added into its own. */
    Setup s = setup(6, true);
    Tape *tape = ag_tape_new();
    ag_backward(tape, ag_sparse_cross_entropy(tape, s.x, ag_reshape(tape, s.targets, 1, (int64_t[]){ROWS * T}),
                                              s.ignore));
    double *want = malloc(ROWS * T * C * sizeof(double));
    expected_grad(s.x->data, s.targets->data, ROWS * T, s.ignore, 1.0, want);
    assert_grad(s.x->grad, want, ROWS * T * C, "dx");
    free(want);
    ag_tape_free(tape);
    teardown(&s);
}

Test(xent_fast_paths, no_grad_forward_matches) {
    Setup s = setup(7, true);
    Tape *tape = ag_tape_new();
    Tensor *a = ag_sparse_cross_entropy(tape, logits_of(tape, s.x), s.targets, s.ignore);
    ag_set_grad_enabled(tape, false);
    Tensor *b = ag_sparse_cross_entropy(tape, logits_of(tape, s.x), s.targets, s.ignore);
    cr_assert(fabsf(((float *)a->data)[0] - ((float *)b->data)[0]) <= 1e-6f * fabsf(((float *)b->data)[0]));
    ag_tape_free(tape);
    teardown(&s);
}
