/* The tape: when nodes are recorded, backward's reverse walk, accumulation, grad mode,
 * and the arena reset between steps. */
#include "helpers.h"

#include <signal.h>

Test(tape, records_only_when_an_input_needs_a_gradient) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(3));
    Tensor *y = ag_tanh(tape, x);
    cr_assert_eq(ag_tape_size(tape), 0);
    cr_assert(!y->requires_grad);
    ag_requires_grad(x, true);
    Tensor *z = ag_tanh(tape, x);
    cr_assert_eq(ag_tape_size(tape), 1);
    cr_assert(z->requires_grad);
    cr_assert_not_null(z->node);
    cr_assert_str_eq(z->node->op->name, "tanh");
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, no_grad_mode_records_nothing) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_ones(NULL, TENSOR_SHAPE(3)), true);
    cr_assert(ag_grad_enabled(tape));
    bool previous = ag_set_grad_enabled(tape, false);
    cr_assert(previous);
    Tensor *y = ag_tanh(tape, x);
    cr_assert_eq(ag_tape_size(tape), 0);
    cr_assert_null(y->node);
    cr_assert_float_eq(tensor_f32(y)[0], tanhf(1.0f), 1e-7, "values are still computed");
    ag_set_grad_enabled(tape, true);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, chain_rule_through_a_chain) {
    /* d/dx sum(tanh(tanh(x))) = (1 - tanh(t)^2) (1 - t^2), t = tanh(x) */
    Tape *tape = ag_tape_new();
    float v[] = {-1.0f, 0.3f, 2.0f};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(3), v), true);
    Tensor *loss = ag_sum(tape, ag_tanh(tape, ag_tanh(tape, x)));
    ag_backward(tape, loss);
    for (int i = 0; i < 3; i++) {
        float t = tanhf(v[i]), u = tanhf(t);
        cr_assert_float_eq(x->grad[i], (1 - u * u) * (1 - t * t), 1e-6);
    }
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, a_tensor_used_twice_gets_both_contributions) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_full(NULL, TENSOR_SHAPE(2), 0.5f), true);
    Tensor *a = ag_tanh(tape, x);
    Tensor *loss1 = ag_sum(tape, a);
    Tensor *loss2 = ag_sum(tape, ag_tanh(tape, a));
    (void)loss1;
    /* Only loss2's branch is walked: x gets d tanh(tanh(x)) only. */
    ag_backward(tape, loss2);
    float t = tanhf(0.5f), u = tanhf(t);
    cr_assert_float_eq(x->grad[0], (1 - u * u) * (1 - t * t), 1e-6);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, leaf_gradients_accumulate_until_zeroed) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_full(NULL, TENSOR_SHAPE(4), 0.2f), true);
    float g1 = 1 - tanhf(0.2f) * tanhf(0.2f);
    for (int step = 1; step <= 3; step++) {
        ag_backward(tape, ag_sum(tape, ag_tanh(tape, x)));
        cr_assert_float_eq(x->grad[0], step * g1, 1e-6, "step %d", step);
        ag_tape_reset(tape);
    }
    ag_zero_grad(1, &x);
    cr_assert_eq(x->grad[0], 0.0f);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, backward_twice_does_not_double_intermediate_gradients) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_full(NULL, TENSOR_SHAPE(2), 0.7f), true);
    Tensor *loss = ag_sum(tape, ag_tanh(tape, ag_tanh(tape, x)));
    ag_backward(tape, loss);
    float once = x->grad[0];
    ag_backward(tape, loss);
    cr_assert_float_eq(x->grad[0], 2 * once, 1e-6, "leaf accumulates exactly one more copy");
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, backward_with_an_upstream_gradient) {
    Tape *tape = ag_tape_new();
    float v[] = {0.1f, -0.2f, 0.3f};
    Tensor *x = ag_requires_grad(tensor_from_array(NULL, TENSOR_SHAPE(3), v), true);
    Tensor *y = ag_tanh(tape, x);
    float up[] = {1.0f, 2.0f, -3.0f};
    ag_backward_with(tape, y, up);
    for (int i = 0; i < 3; i++) cr_assert_float_eq(x->grad[i], up[i] * (1 - tanhf(v[i]) * tanhf(v[i])), 1e-6);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, backward_of_a_non_scalar_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_ones(NULL, TENSOR_SHAPE(3)), true);
    ag_backward(tape, ag_tanh(tape, x));
}

Test(tape, backward_of_a_constant_does_nothing) {
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(3));
    ag_backward(tape, ag_sum(tape, x));
    cr_assert_null(x->grad);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, steady_state_steps_reuse_the_arena) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_ones(NULL, TENSOR_SHAPE(200, 300)), true);
    for (int step = 0; step < 3; step++) {
        Tensor *h = x;
        for (int k = 0; k < 20; k++) h = ag_tanh(tape, h);
        ag_backward(tape, ag_mean(tape, h));
        ag_tape_reset(tape);
    }
    size_t allocs = tensor_arena_system_allocs(ag_tape_arena(tape));
    for (int step = 0; step < 3; step++) {
        Tensor *h = x;
        for (int k = 0; k < 20; k++) h = ag_tanh(tape, h);
        ag_backward(tape, ag_mean(tape, h));
        cr_assert_eq(ag_tape_size(tape), 21);
        ag_tape_reset(tape);
        cr_assert_eq(ag_tape_size(tape), 0);
    }
    cr_assert_eq(tensor_arena_system_allocs(ag_tape_arena(tape)), allocs);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, deep_chains_do_not_overflow_the_stack) {
    Tape *tape = ag_tape_new();
    Tensor *x = ag_requires_grad(tensor_full(NULL, TENSOR_SHAPE(1), 0.01f), true);
    Tensor *h = x;
    for (int k = 0; k < 200000; k++) h = ag_tanh(tape, h);
    ag_backward(tape, ag_sum(tape, h));
    cr_assert(x->grad[0] > 0.0f && x->grad[0] <= 1.0f);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(tape, free_accepts_null) { ag_tape_free(NULL); }
