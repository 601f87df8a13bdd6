/* The LearningRateScheduler callback, as Keras 3's: called at each epoch's start with
 * the 0-based epoch index and the current rate, its value set for that epoch and
 * logged at its end; refusals fail the fit with the reason. */
#include "callback_fixture.h"

static double halve_from_epoch_2(int epoch, double lr, void *user) {
    int *calls = user;
    cr_assert_eq(epoch, *calls, "called with the 0-based epoch index");
    (*calls)++;
    return epoch >= 2 ? lr * 0.5 : lr;
}

Test(schedules, lr_scheduler_sets_the_rate_at_each_epoch_start_from_index_zero) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    Model *m = fixture_model(nn_sgd(.lr = 0.4f));
    int calls = 0;
    NnLrScheduler sched = {.fn = halve_from_epoch_2, .user = &calls};
    Seen seen = {0};
    NnCallback cbs[] = {nn_lr_scheduler_callback(&sched), SEEN_CALLBACK(&seen)};
    NnHistory *h = nn_fit(m, x, y, .batch_size = 16, .epochs = 5, .quiet = true, .callbacks = cbs, .n_callbacks = 2);
    cr_assert_not_null(h, "%s", tensor_last_error());
    cr_assert_eq(calls, 5);
    /* Keras: epoch indices 0 and 1 keep 0.4, index 2 halves it, then each epoch again. */
    const float want[] = {0.4f, 0.4f, 0.2f, 0.1f, 0.05f};
    for (int e = 0; e < 5; e++) {
        cr_assert_eq(seen.begin_epoch[e], e + 1);
        cr_assert_eq(seen.begin_lr[e], want[e], "epoch %d began with %g", e + 1, (double)seen.begin_lr[e]);
        cr_assert_eq(seen.end_lr[e], want[e]);
        cr_assert_eq(h->lr[e], (double)want[e], "history lr of epoch %d", e + 1);
    }
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

Test(schedules, lr_scheduler_with_a_built_in_schedule_of_the_epoch) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    Model *m = fixture_model(nn_sgd(.lr = 0.4f));
    NnLrSchedule step = {.kind = NN_LR_STEP, .initial_lr = 0.1, .decay_steps = 2, .decay_rate = 0.1};
    NnLrScheduler sched = {.schedule = &step};
    NnCallback cb = nn_lr_scheduler_callback(&sched);
    NnHistory *h = nn_fit(m, x, y, .batch_size = 16, .epochs = 5, .quiet = true, .callbacks = &cb, .n_callbacks = 1);
    cr_assert_not_null(h, "%s", tensor_last_error());
    const float want[] = {0.1f, 0.1f, 0.01f, 0.01f, 0.001f};
    for (int e = 0; e < 5; e++) cr_assert_eq(h->lr[e], (double)want[e], "epoch %d: %g", e + 1, h->lr[e]);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

static double negative(int epoch, double lr, void *user) {
    (void)lr, (void)user;
    return epoch == 1 ? -1 : 0.1;
}

Test(schedules, lr_scheduler_refusals_fail_the_fit_with_a_reason) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    Model *m = fixture_model(NULL);
    NnLrScheduler bad = {.fn = negative};
    NnCallback cb = nn_lr_scheduler_callback(&bad);
    cr_assert_null(nn_fit(m, x, y, .batch_size = 16, .epochs = 3, .quiet = true, .callbacks = &cb, .n_callbacks = 1));
    cr_assert(strstr(tensor_last_error(), "learning rate -1 for epoch 2 (index 1)"), "%s", tensor_last_error());
    cr_assert_eq(nn_model_steps(m), 5, "epoch 1 ran, epoch 2 did not start");
    NnLrScheduler neither = {0};
    cb = nn_lr_scheduler_callback(&neither);
    cr_assert_null(nn_fit(m, x, y, .batch_size = 16, .quiet = true, .callbacks = &cb, .n_callbacks = 1));
    cr_assert(strstr(tensor_last_error(), "either a schedule function or a built-in"), "%s", tensor_last_error());
    /* An optimizer on a schedule of its own cannot also be set per epoch. */
    Model *scheduled = fixture_model(nn_adam());
    NnLrSchedule c = {.kind = NN_LR_CONSTANT, .initial_lr = 0.01};
    nn_optimizer_set_schedule(nn_model_optimizer(scheduled), &c);
    NnLrScheduler ok = {.schedule = &c};
    cb = nn_lr_scheduler_callback(&ok);
    cr_assert_null(nn_fit(scheduled, x, y, .batch_size = 16, .quiet = true, .callbacks = &cb, .n_callbacks = 1));
    cr_assert(strstr(tensor_last_error(), "follows a constant schedule"), "%s", tensor_last_error());
    cr_assert_eq(nn_model_steps(scheduled), 0);
    nn_model_free(m);
    nn_model_free(scheduled);
    tensor_free(x);
    tensor_free(y);
}
