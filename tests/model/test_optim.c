/* Optimizers: hand-computed first steps, the known optimum of a convex problem, and
 * invalid options refused with a message. */
#include "helpers.h"

#include "nn/model/optim.h"

#include <string.h>

Test(optim, sgd_plain_step) {
    Optimizer *opt = nn_sgd(.lr = 0.1f);
    float p[] = {1.0f, -2.0f}, g[] = {0.5f, -1.0f};
    nn_optimizer_step(opt, 2, p, g);
    cr_assert_float_eq(p[0], 0.95f, 1e-7);
    cr_assert_float_eq(p[1], -1.9f, 1e-7);
    cr_assert_eq(nn_optimizer_state_count(opt), 0);
    nn_optimizer_free(opt);
}

Test(optim, sgd_momentum_and_nesterov_match_keras_formulas) {
    Optimizer *mom = nn_sgd(.lr = 0.1f, .momentum = 0.9f);
    Optimizer *nes = nn_sgd(.lr = 0.1f, .momentum = 0.9f, .nesterov = true);
    float p1 = 1, p2 = 1, g = 1, v1 = 0, v2 = 0, e1 = 1, e2 = 1;
    for (int step = 0; step < 3; step++) {
        nn_optimizer_step(mom, 1, &p1, &g);
        nn_optimizer_step(nes, 1, &p2, &g);
        v1 = 0.9f * v1 - 0.1f * g;
        e1 += v1;
        v2 = 0.9f * v2 - 0.1f * g;
        e2 += 0.9f * v2 - 0.1f * g;
        cr_assert_float_eq(p1, e1, 1e-6);
        cr_assert_float_eq(p2, e2, 1e-6);
    }
    nn_optimizer_free(mom);
    nn_optimizer_free(nes);
}

Test(optim, adam_keras_defaults_and_first_steps) {
    Optimizer *opt = nn_adam();
    cr_assert_float_eq(nn_optimizer_lr(opt), 1e-3f, 1e-12);
    cr_assert_str_eq(nn_optimizer_name(opt), "Adam");
    /* Textbook Adam, computed in double. */
    double m = 0, v = 0, x = 0.5;
    float p = 0.5f;
    float grads[] = {0.2f, -0.1f, 0.4f};
    for (int t = 1; t <= 3; t++) {
        float g = grads[t - 1];
        nn_optimizer_step(opt, 1, &p, &g);
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        double mh = m / (1 - pow(0.9, t)), vh = v / (1 - pow(0.999, t));
        x -= 1e-3 * mh / (sqrt(vh) + 1e-7);
        cr_assert_float_eq(p, x, 1e-7, "step %d: %.9g vs %.9g", t, p, x);
    }
    cr_assert_eq(nn_optimizer_iterations(opt), 3);
    nn_optimizer_free(opt);
}

/* f(w) = 0.5 * sum_i a_i (w_i - c_i)^2 has its optimum at w = c. */
static void minimise(Optimizer *opt, int steps, float *w) {
    const float a[] = {1.0f, 4.0f, 0.5f}, c[] = {3.0f, -1.0f, 0.25f};
    for (int s = 0; s < steps; s++) {
        float g[3];
        for (int i = 0; i < 3; i++) g[i] = a[i] * (w[i] - c[i]);
        nn_optimizer_step(opt, 3, w, g);
    }
}

Test(optim, sgd_reaches_the_optimum) {
    Optimizer *opt = nn_sgd(.lr = 0.1f, .momentum = 0.5f);
    float w[3] = {0, 0, 0};
    minimise(opt, 500, w);
    cr_assert_float_eq(w[0], 3.0f, 1e-4);
    cr_assert_float_eq(w[1], -1.0f, 1e-4);
    cr_assert_float_eq(w[2], 0.25f, 1e-4);
    nn_optimizer_free(opt);
}

Test(optim, adam_reaches_the_optimum) {
    Optimizer *opt = nn_adam(.lr = 0.05f);
    float w[3] = {0, 0, 0};
    minimise(opt, 3000, w);
    cr_assert_float_eq(w[0], 3.0f, 1e-3);
    cr_assert_float_eq(w[1], -1.0f, 1e-3);
    cr_assert_float_eq(w[2], 0.25f, 1e-3);
    nn_optimizer_free(opt);
}

Test(optim, invalid_options_are_refused_with_a_reason) {
    cr_assert_null(nn_adam(.lr = -1));
    cr_assert(strstr(tensor_last_error(), "learning rate") != NULL, "%s", tensor_last_error());
    cr_assert_null(nn_adam(.beta1 = 1.5f));
    cr_assert(strstr(tensor_last_error(), "beta1") != NULL);
    cr_assert_null(nn_sgd(.momentum = 1.0f));
    cr_assert(strstr(tensor_last_error(), "momentum") != NULL);
    cr_assert_null(nn_sgd(.nesterov = true));
}

Test(optim, global_norm_clipping) {
    float g[] = {3, 4, 0, 0};
    float norm = nn_clip_global_norm(4, g, 1.0f);
    cr_assert_float_eq(norm, 5.0f, 1e-6);
    cr_assert_float_eq(g[0], 0.6f, 1e-6);
    cr_assert_float_eq(g[1], 0.8f, 1e-6);
    float h[] = {0.3f, 0.4f};
    nn_clip_global_norm(2, h, 1.0f);
    cr_assert_float_eq(h[0], 0.3f, 1e-7, "below the bound nothing changes");
}

Test(optim, clipping_large_buffers_is_thread_count_independent) {
    int64_t n = 1000003;
    float *a = malloc((size_t)n * sizeof(float)), *b = malloc((size_t)n * sizeof(float));
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    tensor_fill_uniform(a, n, &rng, -1, 1);
    memcpy(b, a, (size_t)n * sizeof(float));
    tensor_set_num_threads(1);
    float n1 = nn_clip_global_norm(n, a, 10);
    tensor_set_num_threads(2);
    float n2 = nn_clip_global_norm(n, b, 10);
    cr_assert_eq(n1, n2);
    cr_assert_eq(memcmp(a, b, (size_t)n * sizeof(float)), 0);
    free(a);
    free(b);
}
