/* dropout: drop rate and scaling on a large tensor, determinism for a seed (and
 * across thread counts), eval mode and rate 0 returning x itself, a hand-checked
 * gradient, finite-difference checks with a re-seeded Rng, and rate checks. */
#include "helpers.h"

#include <math.h>
#include <signal.h>

typedef struct {
    float rate;
    uint64_t seed;
} DropCtx;

/* Re-seeds on every call so each forward of the gradient checker draws the same mask. */
static Tensor *dropout_fn(Tape *tape, Tensor *const *in, void *ctx) {
    const DropCtx *c = ctx;
    Rng rng;
    tensor_rng_seed(&rng, c->seed, 7);
    return ag_dropout(tape, in[0], c->rate, true, &rng);
}

Test(op_dropout, rate_and_scale_on_large_tensor) {
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    Tape *tape = ag_tape_new();
    float rates[] = {0.1f, 0.5f, 0.8f};
    Tensor *x = test_random(&rng, 0.5f, 2, TENSOR_SHAPE(100000)); /* no zeros in x */
    x->requires_grad = false;
    for (int r = 0; r < 3; r++) {
        Tensor *y = ag_dropout(tape, x, rates[r], true, &rng);
        cr_assert_neq(y, x);
        cr_assert_eq(y->size, x->size);
        const float *xv = x->data, *yv = y->data;
        float scale = 1.0f / (1.0f - rates[r]);
        int64_t zeros = 0;
        for (int64_t i = 0; i < x->size; i++) {
            if (yv[i] == 0.0f)
                zeros++;
            else
                cr_assert_float_eq(yv[i], xv[i] * scale, 1e-6f * yv[i]);
        }
        double frac = (double)zeros / (double)x->size;
        cr_assert(fabs(frac - rates[r]) < 0.01, "rate %g: dropped fraction %g", (double)rates[r],
                  frac);
    }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_dropout, same_seed_same_mask_any_thread_count) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(200, 300));
    int threads = tensor_get_num_threads();
    Rng a, b, c;
    tensor_rng_seed(&a, 42, 1);
    tensor_rng_seed(&b, 42, 1);
    tensor_rng_seed(&c, 43, 1);
    Tensor *ya = ag_dropout(tape, x, 0.3f, true, &a);
    tensor_set_num_threads(1);
    Tensor *yb = ag_dropout(tape, x, 0.3f, true, &b);
    tensor_set_num_threads(threads);
    Tensor *yc = ag_dropout(tape, x, 0.3f, true, &c);
    const float *va = ya->data, *vb = yb->data, *vc = yc->data;
    int64_t differ = 0;
    for (int64_t i = 0; i < x->size; i++) {
        cr_assert_eq(va[i], vb[i], "element %lld", (long long)i);
        differ += va[i] != vc[i];
    }
    cr_assert(differ > 0, "a different seed should give a different mask");
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_dropout, eval_and_zero_rate_return_x) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_ones(NULL, TENSOR_SHAPE(4, 5)), true);
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    Rng before = rng;
    cr_assert_eq(ag_dropout(tape, x, 0.5f, false, &rng), x);
    cr_assert_eq(ag_dropout(tape, x, 0.0f, true, &rng), x);
    cr_assert_eq(ag_dropout(tape, x, 0.5f, false, NULL), x);
    cr_assert_eq(ag_tape_size(tape), 0, "nothing recorded");
    cr_assert(rng.state == before.state, "no random numbers drawn");
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_dropout, gradient_by_hand) {
    Tape *tape = ag_tape_new();
    float v[] = {1, 2, 3, 4, 5, 6, 7, 8};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(2, 4), v), true);
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    Tensor *y = ag_dropout(tape, x, 0.5f, true, &rng);
    cr_assert_not_null(y->node);
    float g[] = {1, 2, 3, 4, 5, 6, 7, 8};
    ag_backward_with(tape, y, g);
    const float *yv = y->data;
    int kept = 0;
    for (int i = 0; i < 8; i++) {
        bool keep = yv[i] != 0.0f; /* x has no zeros */
        kept += keep;
        cr_assert_eq(yv[i], keep ? 2.0f * v[i] : 0.0f);
        cr_assert_eq(x->grad[i], keep ? 2.0f * g[i] : 0.0f);
    }
    cr_assert(kept > 0 && kept < 8, "seed 5 should keep some and drop some (kept %d)", kept);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_dropout, gradient) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 5}, {2, 4, 3}};
    DropCtx ctxs[] = {{0.5f, 11}, {0.3f, 12}, {0.7f, 13}};
    for (int s = 0; s < 3; s++) {
        Tensor *x = test_random(&rng, -2, 2, 3, shapes[s]);
        ASSERT_GRADCHECK(dropout_fn, 1, &x, &ctxs[s]);
        tensor_free(x);
    }
}

Test(op_dropout, large_backward_matches_serial) {
    /* The backward loop runs on all threads above the threshold. */
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_ones(NULL, TENSOR_SHAPE(300, 200)), true);
    Rng rng;
    tensor_rng_seed(&rng, 9, 0);
    Tensor *y = ag_dropout(tape, x, 0.25f, true, &rng);
    ag_backward(tape, ag_sum(tape, y));
    const float *yv = y->data;
    for (int64_t i = 0; i < x->size; i++) cr_assert_eq(x->grad[i], yv[i]); /* x = 1, g = 1 */
    tensor_free(x);
    ag_tape_free(tape);
}

Test(op_dropout, rejects_rate_one, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(2, 2));
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    ag_dropout(tape, x, 1.0f, true, &rng);
}

Test(op_dropout, rejects_negative_rate, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(2, 2));
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    ag_dropout(tape, x, -0.1f, true, &rng);
}

Test(op_dropout, rejects_bad_rate_in_eval_mode, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(2, 2));
    ag_dropout(tape, x, 1.5f, false, NULL);
}

Test(op_dropout, rejects_null_rng_when_training, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(2, 2));
    ag_dropout(tape, x, 0.5f, true, NULL);
}
