/* Training through the Sequential API: models that learn, validation, callbacks,
 * determinism, and errors reported instead of crashes. */
#include "helpers.h"

#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>

/* Windows of a short repeated text, 27-symbol encoded. */
static void repeated_text_windows(Tensor **x, Tensor **y, int64_t window) {
    const char *text = "the quick brown fox jumps over the lazy dog ";
    char buf[2000] = "";
    for (int i = 0; i < 20; i++) strcat(buf, text);
    int64_t n;
    int32_t *ids = nn_char27_encode(buf, (int64_t)strlen(buf), &n);
    cr_assert_eq(nn_windows_shifted(ids, n, window, 3, x, y), 0, "%s", tensor_last_error());
    free(ids);
}

static Model *char_model(int64_t units) {
    Model *m = nn_sequential();
    nn_model_seed(m, 42);
    nn_add(m, nn_embedding(.vocab = 27, .dim = 16));
    nn_add(m, nn_lstm(.units = units, .return_sequences = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
    return m;
}

Test(model_fit, char_model_drives_the_loss_near_zero) {
    Tensor *x, *y;
    repeated_text_windows(&x, &y, 20);
    Model *m = char_model(64);
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = 0.01f),
                            .accuracy = true), 0, "%s", tensor_last_error());
    NnHistory *h = nn_fit(m, x, y, .batch_size = 32, .epochs = 30, .seed = 1, .quiet = true);
    cr_assert_not_null(h, "%s", tensor_last_error());
    cr_assert_eq(h->epochs, 30);
    cr_log_info("char model: loss %.4f -> %.4f, accuracy %.4f", h->loss[0], h->loss[29], h->accuracy[29]);
    /* The first symbol of each window has one character of context, and in this text
     * 'o' may be followed by w, x, v or g: that floor is ~0.03 nats per symbol. */
    cr_assert_lt(h->loss[29], 0.08, "final loss %.4f", h->loss[29]);
    cr_assert_lt(h->loss[29], h->loss[0] / 30, "the loss fell from %.3f to %.4f", h->loss[0], h->loss[29]);
    cr_assert_gt(h->accuracy[29], 0.97);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

Test(model_fit, same_seed_same_losses_bit_for_bit) {
    Tensor *x, *y;
    repeated_text_windows(&x, &y, 10);
    double losses[2][3];
    float first_weight[2];
    for (int run = 0; run < 2; run++) {
        Model *m = char_model(16);
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY);
        NnHistory *h = nn_fit(m, x, y, .batch_size = 16, .epochs = 3, .seed = 7, .quiet = true,
                              .validation_split = 0.2f);
        cr_assert_not_null(h);
        for (int e = 0; e < 3; e++) losses[run][e] = h->loss[e];
        first_weight[run] = tensor_f32(nn_model_params(m, NULL)[1])[5];
        nn_history_free(h);
        nn_model_free(m);
    }
    for (int e = 0; e < 3; e++) cr_assert_eq(losses[0][e], losses[1][e], "epoch %d", e);
    cr_assert_eq(first_weight[0], first_weight[1]);
    tensor_free(x);
    tensor_free(y);
}

Test(model_fit, validation_split_and_evaluate_agree) {
    Tensor *x, *y;
    repeated_text_windows(&x, &y, 10);
    Model *m = char_model(16);
    nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    NnHistory *h = nn_fit(m, x, y, .batch_size = 16, .epochs = 1, .quiet = true, .validation_split = 0.25f);
    cr_assert_not_null(h);
    cr_assert(!isnan(h->val_loss[0]));
    /* Evaluating the held-out tail by hand gives the same number. */
    int64_t n = x->shape[0], n_val = n - (int64_t)((double)n * 0.75);
    Tensor *vx = tensor_reshape_view(NULL, x, TENSOR_SHAPE(n, 10));
    vx->data = (int32_t *)x->data + (n - n_val) * 10;
    vx->shape[0] = n_val;
    vx->size = n_val * 10;
    Tensor *vy = tensor_reshape_view(NULL, y, TENSOR_SHAPE(n, 10));
    vy->data = (int32_t *)y->data + (n - n_val) * 10;
    vy->shape[0] = n_val;
    vy->size = n_val * 10;
    double loss;
    cr_assert_eq(nn_evaluate(m, vx, vy, 16, &loss, NULL), 0);
    cr_assert_float_eq(loss, h->val_loss[0], 1e-6);
    tensor_free(vx);
    tensor_free(vy);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

static int count_epochs(Model *m, const NnEpochLogs *logs, void *user) {
    (void)m;
    int *n = user;
    (*n)++;
    return logs->epoch == 2; /* stop after the second epoch */
}

Test(model_fit, callbacks_run_each_epoch_and_can_stop_training) {
    Tensor *x, *y;
    repeated_text_windows(&x, &y, 10);
    Model *m = char_model(8);
    nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    int calls = 0;
    NnCallback cb = {.on_epoch_end = count_epochs, .user = &calls};
    NnHistory *h = nn_fit(m, x, y, .epochs = 10, .quiet = true, .callbacks = &cb, .n_callbacks = 1);
    cr_assert_not_null(h);
    cr_assert_eq(calls, 2);
    cr_assert_eq(h->epochs, 2);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

Test(model_fit, early_stopping_stops_when_loss_stalls) {
    Tensor *x, *y;
    repeated_text_windows(&x, &y, 10);
    Model *m = char_model(8);
    /* A learning rate so small the loss cannot improve by min_delta. */
    nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_sgd(.lr = 1e-9f));
    NnEarlyStopping es = {.patience = 2, .min_delta = 0.1, .monitor_loss = true};
    NnCallback cb = nn_early_stopping_callback(&es);
    NnHistory *h = nn_fit(m, x, y, .epochs = 20, .quiet = true, .callbacks = &cb, .n_callbacks = 1);
    cr_assert_not_null(h);
    cr_assert_eq(h->epochs, 3, "1 epoch sets the best, 2 more without improvement stop it (got %d)", h->epochs);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

Test(model_fit, max_steps_stops_early) {
    Tensor *x, *y;
    repeated_text_windows(&x, &y, 10);
    Model *m = char_model(8);
    nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    NnHistory *h = nn_fit(m, x, y, .epochs = 5, .batch_size = 8, .max_steps = 7, .quiet = true);
    cr_assert_not_null(h);
    cr_assert_eq(nn_model_steps(m), 7);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

Test(model_fit, mismatched_data_is_an_error_not_a_crash) {
    Model *m = char_model(8);
    nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(10, 5));
    Tensor *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(9, 5));
    cr_assert_null(nn_fit(m, x, y, .quiet = true));
    cr_assert(strstr(tensor_last_error(), "10 samples") != NULL, "%s", tensor_last_error());
    Tensor *yf = tensor_zeros(NULL, TENSOR_SHAPE(10, 5));
    cr_assert_null(nn_fit(m, x, yf, .quiet = true));
    cr_assert(strstr(tensor_last_error(), "int32") != NULL, "%s", tensor_last_error());
    tensor_free(x);
    tensor_free(y);
    tensor_free(yf);
    nn_model_free(m);
}

Test(model_fit, fit_before_compile_is_an_error) {
    Model *m = char_model(8);
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(4, 5));
    cr_assert_null(nn_fit(m, x, x, .quiet = true));
    cr_assert(strstr(tensor_last_error(), "compile") != NULL);
    tensor_free(x);
    nn_model_free(m);
}

Test(model_fit, a_regression_with_mse_and_sgd_converges) {
    /* y = 2 x0 - x1 + 0.5 learned by one Dense unit. */
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(256, 2)), *y = tensor_zeros(NULL, TENSOR_SHAPE(256, 1));
    tensor_fill_uniform(x->data, x->size, &rng, -1, 1);
    for (int i = 0; i < 256; i++) tensor_f32(y)[i] = 2 * tensor_f32(x)[2 * i] - tensor_f32(x)[2 * i + 1] + 0.5f;
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 1));
    nn_compile(m, .loss = NN_MSE, .optimizer = nn_sgd(.lr = 0.1f, .momentum = 0.9f, .nesterov = true));
    NnHistory *h = nn_fit(m, x, y, .batch_size = 32, .epochs = 40, .quiet = true);
    cr_assert_not_null(h);
    cr_assert_lt(h->loss[39], 1e-6);
    Tensor *const *p = nn_model_params(m, NULL);
    cr_assert_float_eq(tensor_f32(p[0])[0], 2.0f, 1e-3);
    cr_assert_float_eq(tensor_f32(p[0])[1], -1.0f, 1e-3);
    cr_assert_float_eq(tensor_f32(p[1])[0], 0.5f, 1e-3);
    Tensor *pred = nn_predict(m, x, 100);
    cr_assert_eq(pred->shape[0], 256);
    cr_assert_float_eq(tensor_f32(pred)[7], tensor_f32(y)[7], 1e-2);
    tensor_free(pred);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

Test(model_fit, predict_returns_probabilities) {
    Tensor *x, *y;
    repeated_text_windows(&x, &y, 10);
    Model *m = char_model(8);
    nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    Tensor *p = nn_predict(m, x, 64);
    cr_assert_not_null(p, "%s", tensor_last_error());
    cr_assert_eq(p->ndim, 3);
    cr_assert_eq(p->shape[2], 27);
    double s = 0;
    for (int c = 0; c < 27; c++) s += tensor_f32(p)[c];
    cr_assert_float_eq(s, 1.0, 1e-5);
    tensor_free(p);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}
