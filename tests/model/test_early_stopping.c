/* EarlyStopping as Keras 3's: the epoch it stops at (the count of epochs without
 * improvement taken first, never after the first epoch), min_delta, and
 * restore_best_weights putting back exactly the best epoch's weights at the end of
 * training, whether it stopped early or not. */
#include "callback_fixture.h"

#include <math.h>

/* Feeds losses to the epoch ends with the weights set to the epoch's number; returns
 * the 1-based epoch it stopped at (0: none), after on_train_end. */
static int feed(Model *m, NnCallback *cb, const double *values, int n) {
    if (!nn_model_initialised(m)) cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 8)), 0);
    cr_assert_gt(m->n_floats, 0);
    cr_assert_eq(cb->on_train_begin(m, cb->user), 0, "%s", tensor_last_error());
    nn__model_draw_init(m);
    int stopped = 0;
    for (int e = 0; e < n && !stopped; e++) {
        for (int64_t i = 0; i < m->n_floats; i++) m->param_buf[i] = (float)(e + 1);
        NnEpochLogs logs = {.epoch = e + 1, .loss = values[e], .val_loss = NAN, .accuracy = NAN,
                            .val_accuracy = NAN};
        if (cb->on_epoch_end(m, &logs, cb->user)) stopped = e + 1;
    }
    NnHistory h = {0};
    cb->on_train_end(m, &h, cb->user);
    return stopped;
}

static void assert_weights_of_epoch(Model *m, int epoch) {
    for (int64_t i = 0; i < m->n_floats; i++)
        cr_assert_eq(m->param_buf[i], (float)epoch, "weights are epoch %g's, not %d's", (double)m->param_buf[i], epoch);
}

Test(early_stopping, stops_after_patience_epochs_without_improvement) {
    Model *m = fixture_model(NULL);
    const double values[] = {1.0, 0.5, 0.6, 0.45, 0.7, 0.8, 0.9};
    /* min_delta 0.1: 0.45 is no improvement on 0.5; epochs 3 and 4 count: stop at 4. */
    NnEarlyStopping es = {.patience = 2, .min_delta = 0.1};
    NnCallback cb = nn_early_stopping_callback(&es);
    cr_assert_eq(feed(m, &cb, values, 7), 4);
    cr_assert_eq(es.best_epoch, 2);
    cr_assert_eq(es.stopped_epoch, 4);
    /* min_delta 0: 0.45 improves; 0.7, 0.8, 0.9 count: stop at 7 with patience 3. */
    es = (NnEarlyStopping){.patience = 3};
    cb = nn_early_stopping_callback(&es);
    cr_assert_eq(feed(m, &cb, values, 7), 7);
    cr_assert_eq(es.best_epoch, 4);
    /* patience 0 never stops after the first epoch, even when it is not an improvement. */
    const double nan_first[] = {NAN, 1.0, 2.0};
    es = (NnEarlyStopping){.patience = 0, .monitor = "loss"};
    cb = nn_early_stopping_callback(&es);
    cr_assert_eq(feed(m, &cb, nan_first, 3), 3, "epoch 2 improves on the NaN-less best, epoch 3 does not");
    nn_model_free(m);
}

Test(early_stopping, restore_best_weights_when_stopped_and_when_not) {
    Model *m = fixture_model(NULL);
    const double values[] = {1.0, 0.5, 0.6, 0.45, 0.7, 0.8, 0.9};
    NnEarlyStopping es = {.patience = 2, .min_delta = 0.1, .restore_best_weights = true};
    NnCallback cb = nn_early_stopping_callback(&es);
    cr_assert_eq(feed(m, &cb, values, 7), 4);
    assert_weights_of_epoch(m, 2);
    cr_assert_null(es.best_weights, "freed at the end");
    /* Keras 3 restores at the end of training even when it did not stop. */
    es = (NnEarlyStopping){.patience = 5, .restore_best_weights = true};
    cb = nn_early_stopping_callback(&es);
    cr_assert_eq(feed(m, &cb, values, 6), 0);
    assert_weights_of_epoch(m, 4);
    /* No epoch improving on the first: the first's weights. */
    const double rising[] = {1.0, 2.0, 3.0};
    es = (NnEarlyStopping){.patience = 5, .restore_best_weights = true};
    cb = nn_early_stopping_callback(&es);
    cr_assert_eq(feed(m, &cb, rising, 3), 0);
    assert_weights_of_epoch(m, 1);
    nn_model_free(m);
}

typedef struct Recorder {
    float *weights[16];
    double val_loss[16];
    int epochs;
} Recorder;

static int record(Model *m, const NnEpochLogs *logs, void *user) {
    Recorder *r = user;
    r->val_loss[r->epochs] = logs->val_loss;
    r->weights[r->epochs++] = fixture_weights(m);
    return 0;
}

Test(early_stopping, fit_ends_with_the_best_epochs_weights) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    Model *m = fixture_model(nn_adam(.lr = 0.1f)); /* too fast: val_loss turns back up */
    Recorder r = {0};
    NnEarlyStopping es = {.patience = 3, .restore_best_weights = true};
    NnCallback cbs[] = {{.on_epoch_end = record, .user = &r}, nn_early_stopping_callback(&es)};
    NnHistory *h = nn_fit(m, x, y, .batch_size = 8, .epochs = 12, .seed = 2, .quiet = true,
                          .validation_split = 0.3f, .callbacks = cbs, .n_callbacks = 2);
    cr_assert_not_null(h, "%s", tensor_last_error());
    int best = 0;
    for (int e = 1; e < r.epochs; e++)
        if (r.val_loss[e] < r.val_loss[best]) best = e;
    cr_assert_lt(best + 1, h->epochs, "the test needs a best epoch before the last (best %d of %d)", best + 1,
                 h->epochs);
    cr_assert_eq(es.best_epoch, best + 1);
    cr_assert_eq(memcmp(m->param_buf, r.weights[best], (size_t)m->n_floats * sizeof(float)), 0,
                 "the weights are epoch %d's", best + 1);
    cr_assert_neq(memcmp(m->param_buf, r.weights[r.epochs - 1], (size_t)m->n_floats * sizeof(float)), 0);
    for (int e = 0; e < r.epochs; e++) free(r.weights[e]);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}
