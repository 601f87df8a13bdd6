/* ReduceLROnPlateau against Keras 3's sequence, worked out by hand from its
 * on_epoch_end: the cooldown counted down before the comparison, the count of bad
 * epochs taken before it is compared with patience, min_lr as a float32 bound. */
#include "callback_fixture.h"

#include <math.h>

/* Feeds val_loss values to the callback's epoch ends, as fit would. */
static void feed(Model *m, NnCallback *cb, const double *values, int n, float *lr, int *wait, int *cooldown,
                 NnReduceLrOnPlateau *p) {
    cr_assert_eq(cb->on_train_begin(m, cb->user), 0, "%s", tensor_last_error());
    for (int e = 0; e < n; e++) {
        NnEpochLogs logs = {.epoch = e + 1, .loss = 5, .val_loss = values[e], .accuracy = NAN, .val_accuracy = NAN,
                            .lr = nn_optimizer_lr(nn_model_optimizer(m))};
        cb->on_epoch_end(m, &logs, cb->user);
        lr[e] = nn_optimizer_lr(nn_model_optimizer(m));
        wait[e] = p->wait;
        cooldown[e] = p->cooldown_counter;
    }
}

Test(reduce_lr, follows_kerass_sequence_with_cooldown_and_min_lr) {
    Model *m = fixture_model(nn_sgd(.lr = 1.0f));
    NnReduceLrOnPlateau p = {.factor = 0.5, .patience = 2, .min_delta = 0.01, .cooldown = 1, .min_lr = 0.1};
    NnCallback cb = nn_reduce_lr_on_plateau_callback(&p);
    const double values[] = {1.0, 0.995, 0.99, 0.98, 0.98, 0.98, 0.98, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    float lr[15];
    int wait[15], cooldown[15];
    feed(m, &cb, values, 15, lr, wait, cooldown, &p);
    /* Epoch 2: 0.995 is not below 1.0 - 0.01; epoch 3: 0.99 is not either (strictly),
     * the second bad epoch: halve, cooldown 1. Epoch 4 ends the cooldown, 0.98 is the
     * best. Epochs 5, 6 bad: halve. Epoch 7 ends the cooldown and, no longer in it,
     * counts as bad at once. Epoch 8 improves; 9, 10 halve; 11 (cooldown ends) and 12
     * halve to max(0.0625, 0.1) = 0.1; 0.1 is not above float32(0.1): it stays. */
    const float want_lr[] = {1, 1, 0.5f, 0.5f, 0.5f, 0.25f, 0.25f, 0.25f, 0.25f, 0.125f, 0.125f, 0.1f, 0.1f, 0.1f,
                             0.1f};
    const int want_wait[] = {0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3};
    const int want_cooldown[] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0};
    for (int e = 0; e < 15; e++) {
        cr_assert_eq(lr[e], want_lr[e], "epoch %d: lr %g", e + 1, (double)lr[e]);
        cr_assert_eq(wait[e], want_wait[e], "epoch %d: wait %d", e + 1, wait[e]);
        cr_assert_eq(cooldown[e], want_cooldown[e], "epoch %d: cooldown %d", e + 1, cooldown[e]);
    }
    nn_model_free(m);
}

Test(reduce_lr, kerass_defaults_and_maximised_monitors) {
    Model *m = fixture_model(nn_sgd(.lr = 1.0f));
    NnReduceLrOnPlateau p = {0}; /* factor 0.1, patience 10, min_delta 1e-4 */
    NnCallback cb = nn_reduce_lr_on_plateau_callback(&p);
    double values[12];
    for (int e = 0; e < 12; e++) values[e] = e ? 0.99991 : 1.0; /* better by less than min_delta */
    float lr[12];
    int wait[12], cooldown[12];
    feed(m, &cb, values, 12, lr, wait, cooldown, &p);
    for (int e = 0; e < 10; e++) cr_assert_eq(lr[e], 1.0f, "epoch %d", e + 1);
    cr_assert_eq(lr[10], 0.1f, "the 10th bad epoch (epoch 11) reduces");
    nn_model_free(m);

    /* accuracy goes up: a drop is no improvement. */
    m = fixture_model(nn_sgd(.lr = 1.0f));
    NnReduceLrOnPlateau acc = {.monitor = "val_accuracy", .patience = 1, .factor = 0.5};
    cb = nn_reduce_lr_on_plateau_callback(&acc);
    cr_assert_eq(cb.on_train_begin(m, cb.user), 0);
    const double accs[] = {0.5, 0.6, 0.55, 0.7};
    const float want[] = {1, 1, 0.5f, 0.5f};
    for (int e = 0; e < 4; e++) {
        NnEpochLogs logs = {.epoch = e + 1, .loss = 1, .val_loss = 1, .accuracy = NAN, .val_accuracy = accs[e]};
        cb.on_epoch_end(m, &logs, cb.user);
        cr_assert_eq(nn_optimizer_lr(nn_model_optimizer(m)), want[e], "epoch %d", e + 1);
    }
    nn_model_free(m);
}

Test(reduce_lr, fit_reduces_when_validation_stalls_and_refuses_bad_options) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    Model *m = fixture_model(nn_sgd(.lr = 0.5f));
    /* No epoch can improve by 100: the first sets the best, every later one halves. */
    NnReduceLrOnPlateau p = {.factor = 0.5, .patience = 1, .min_delta = 100};
    Seen seen = {0};
    NnCallback cbs[] = {nn_reduce_lr_on_plateau_callback(&p), SEEN_CALLBACK(&seen)};
    NnHistory *h = nn_fit(m, x, y, .batch_size = 16, .epochs = 4, .quiet = true, .validation_split = 0.2f,
                          .callbacks = cbs, .n_callbacks = 2);
    cr_assert_not_null(h, "%s", tensor_last_error());
    const float want_begin[] = {0.5f, 0.5f, 0.25f, 0.125f};
    for (int e = 0; e < 4; e++) {
        cr_assert_eq(seen.begin_lr[e], want_begin[e], "epoch %d trained at %g", e + 1, (double)seen.begin_lr[e]);
        /* logged before this epoch's own reduction, as Keras's logs["learning_rate"] */
        cr_assert_eq(h->lr[e], (double)want_begin[e]);
    }
    cr_assert_eq(nn_optimizer_lr(nn_model_optimizer(m)), 0.0625f);
    nn_history_free(h);

    NnReduceLrOnPlateau bad = {.factor = 1.5};
    NnCallback cb = nn_reduce_lr_on_plateau_callback(&bad);
    int64_t steps = nn_model_steps(m);
    cr_assert_null(nn_fit(m, x, y, .batch_size = 16, .quiet = true, .callbacks = &cb, .n_callbacks = 1));
    cr_assert(strstr(tensor_last_error(), "ReduceLROnPlateau: factor 1.5 must be in (0, 1)"), "%s",
              tensor_last_error());
    NnReduceLrOnPlateau typo = {.monitor = "val_los"};
    cb = nn_reduce_lr_on_plateau_callback(&typo);
    cr_assert_null(nn_fit(m, x, y, .batch_size = 16, .quiet = true, .callbacks = &cb, .n_callbacks = 1));
    cr_assert(strstr(tensor_last_error(), "unknown monitor 'val_los'"), "%s", tensor_last_error());
    cr_assert_eq(nn_model_steps(m), steps, "a refused fit trains nothing");
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}
