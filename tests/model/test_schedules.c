/* Learning-rate schedules: Keras's formulas at the counts where an off-by-one would
 * show, and an optimizer following one (the update after t steps uses the value at t,
 * as Keras's optimizers evaluate a LearningRateSchedule at their iterations). */
#include "helpers.h"

#include "nn/nn.h"

#include <math.h>
#include <signal.h>
#include <string.h>

static double at(NnLrSchedule s, int64_t t) { return nn_lr_schedule_at(&s, t); }

Test(schedules, step_decays_every_decay_steps_from_t_zero) {
    NnLrSchedule s = {.kind = NN_LR_STEP, .initial_lr = 0.8, .decay_steps = 2, .decay_rate = 0.5};
    const double want[] = {0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.1};
    for (int t = 0; t < 7; t++) cr_assert_eq(at(s, t), want[t], "t = %d: %g", t, at(s, t));
}

Test(schedules, exponential_is_kerass_exponential_decay) {
    NnLrSchedule s = {.kind = NN_LR_EXPONENTIAL, .initial_lr = 0.1, .decay_steps = 4, .decay_rate = 0.5};
    cr_assert_eq(at(s, 0), 0.1);
    cr_assert_float_eq(at(s, 1), 0.1 * pow(0.5, 0.25), 1e-15);
    cr_assert_float_eq(at(s, 4), 0.05, 1e-15);
    cr_assert_float_eq(at(s, 6), 0.1 * pow(0.5, 1.5), 1e-15);
    s.staircase = true;
    cr_assert_eq(at(s, 3), 0.1);
    cr_assert_eq(at(s, 4), 0.05);
    cr_assert_eq(at(s, 7), 0.05);
}

Test(schedules, cosine_with_linear_warmup_as_keras) {
    /* CosineDecay(initial_learning_rate=0, decay_steps=4, alpha=0.1, warmup_target=1, warmup_steps=4) */
    NnLrSchedule s = {.kind = NN_LR_COSINE, .initial_lr = 0, .decay_steps = 4, .alpha = 0.1,
                      .warmup_steps = 4, .warmup_target = 1};
    const double want[] = {0, 0.25, 0.5, 0.75, 1.0};
    for (int t = 0; t < 5; t++) cr_assert_float_eq(at(s, t), want[t], 1e-15, "warmup t = %d: %g", t, at(s, t));
    cr_assert_float_eq(at(s, 6), 0.1 + 0.9 * 0.5, 1e-15);           /* half way down: cos(pi/2) = 0 */
    cr_assert_float_eq(at(s, 5), 0.1 + 0.9 * 0.5 * (1 + cos(acos(-1.0) / 4)), 1e-15);
    cr_assert_float_eq(at(s, 8), 0.1, 1e-15);                        /* the end: alpha * peak */
    cr_assert_float_eq(at(s, 1000), 0.1, 1e-15);                     /* and it stays there */
    /* Without a warmup it decays from initial_lr. */
    NnLrSchedule plain = {.kind = NN_LR_COSINE, .initial_lr = 2, .decay_steps = 10};
    cr_assert_eq(at(plain, 0), 2);
    cr_assert_float_eq(at(plain, 5), 1, 1e-15);
    cr_assert_float_eq(at(plain, 10), 0, 1e-15);
    cr_assert_float_eq(at(plain, 11), 0, 1e-15);
}

Test(schedules, bad_fields_are_named) {
    NnLrSchedule s = {.kind = NN_LR_STEP, .initial_lr = 0.1, .decay_steps = 0, .decay_rate = 0.5};
    cr_assert_eq(nn_lr_schedule_check(&s), -1);
    cr_assert(strstr(tensor_last_error(), "decay_steps 0 must be positive"), "%s", tensor_last_error());
    s = (NnLrSchedule){.kind = NN_LR_COSINE, .initial_lr = 0.1, .decay_steps = 5, .alpha = 2};
    cr_assert_eq(nn_lr_schedule_check(&s), -1);
    cr_assert(strstr(tensor_last_error(), "alpha 2 must be in [0, 1]"), "%s", tensor_last_error());
    s = (NnLrSchedule){.kind = NN_LR_COSINE, .initial_lr = 0.1, .decay_steps = 5, .warmup_steps = 3};
    cr_assert_eq(nn_lr_schedule_check(&s), -1);
    cr_assert(strstr(tensor_last_error(), "need a warmup_target"), "%s", tensor_last_error());
    s = (NnLrSchedule){.kind = NN_LR_EXPONENTIAL, .initial_lr = -1, .decay_steps = 5, .decay_rate = 0.5};
    cr_assert_eq(nn_lr_schedule_check(&s), -1);
    cr_assert(strstr(tensor_last_error(), "initial_lr -1 must be positive"), "%s", tensor_last_error());
}

Test(schedules, the_update_after_t_steps_uses_the_value_at_t) {
    Optimizer *opt = nn_sgd(.lr = 1.0f);
    NnLrSchedule s = {.kind = NN_LR_STEP, .initial_lr = 0.5, .decay_steps = 2, .decay_rate = 0.5};
    cr_assert_eq(nn_optimizer_set_schedule(opt, &s), 0);
    float p = 0, g = 1;
    const float want_step[] = {0.5f, 0.5f, 0.25f, 0.25f, 0.125f}; /* schedule(0), schedule(1), ... */
    for (int t = 0; t < 5; t++) {
        cr_assert_eq(nn_optimizer_lr(opt), want_step[t], "before step %d", t + 1);
        float before = p;
        nn_optimizer_step(opt, 1, &p, &g);
        cr_assert_eq(before - p, want_step[t], "step %d moved by %g", t + 1, (double)(before - p));
    }
    cr_assert_eq(nn_optimizer_set_schedule(opt, NULL), 0);
    cr_assert_eq(nn_optimizer_lr(opt), 1.0f, "the fixed rate is back");
    nn_optimizer_free(opt);
}

Test(schedules, setting_the_lr_of_a_scheduled_optimizer_stops, .signal = SIGABRT) {
    Optimizer *opt = nn_adam();
    NnLrSchedule s = {.kind = NN_LR_CONSTANT, .initial_lr = 0.5};
    nn_optimizer_set_schedule(opt, &s);
    nn_optimizer_set_lr(opt, 0.1f);
}
