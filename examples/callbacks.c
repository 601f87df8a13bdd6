/* Example: Keras's training callbacks. The circle task of sequential.c, trained with a
 * learning rate on the high side: ReduceLROnPlateau halves it when val_loss stalls,
 * EarlyStopping ends the run once val_loss has not improved by 1e-4 for 6 epochs and
 * puts back the best epoch's weights, and CSVLogger writes one row per epoch to
 * training.csv. Exits 1 unless the accuracy on unseen points reaches 95% and the CSV
 * holds a row for every epoch run. */
#include <lamina/nn/nn.h>

#include <stdio.h>
#include <string.h>

static void circle_data(int64_t n, uint64_t seed, Tensor **x, Tensor **y) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    *x = tensor_zeros(NULL, TENSOR_SHAPE(n, 2));
    *y = tensor_zeros(NULL, TENSOR_SHAPE(n, 1));
    float *p = tensor_f32(*x), *label = tensor_f32(*y);
    for (int64_t i = 0; i < n; i++) {
        float a = 2 * tensor_rng_uniform(&rng) - 1, b = 2 * tensor_rng_uniform(&rng) - 1;
        p[2 * i] = a;
        p[2 * i + 1] = b;
        label[i] = a * a + b * b < 2 / 3.14159265f;
    }
}

static int csv_rows(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int lines = 0;
    for (int c; (c = fgetc(f)) != EOF;) lines += c == '\n';
    fclose(f);
    return lines - 1; /* the header */
}

int main(void) {
    Tensor *x, *y, *x_test, *y_test;
    circle_data(2000, 1, &x, &y);
    circle_data(1000, 2, &x_test, &y_test);
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 32, .activation = NN_RELU));
    nn_add(m, nn_dense(.units = 32, .activation = NN_RELU));
    nn_add(m, nn_dense(.units = 1, .activation = NN_SIGMOID));
    if (nn_build(m, NN_SHAPE(TENSOR_F32, 2)) != 0 ||
        nn_compile(m, .loss = NN_BINARY_CROSSENTROPY, .optimizer = nn_adam(.lr = 0.05f), .accuracy = true) != 0) {
        fprintf(stderr, "callbacks: %s\n", tensor_last_error());
        return 1;
    }

    NnReduceLrOnPlateau plateau = {.factor = 0.5, .patience = 2, .min_lr = 1e-4};
    NnEarlyStopping early = {.patience = 6, .min_delta = 1e-4, .restore_best_weights = true};
    NnCsvLogger csv = {.path = "training.csv"};
    NnCallback callbacks[] = {nn_reduce_lr_on_plateau_callback(&plateau), nn_early_stopping_callback(&early),
                              nn_csv_logger_callback(&csv)};
    NnHistory *h = nn_fit(m, x, y, .batch_size = 32, .epochs = 100, .validation_split = 0.1f, .quiet = true,
                          .callbacks = callbacks, .n_callbacks = 3);
    double loss, accuracy;
    if (!h || nn_evaluate(m, x_test, y_test, 256, &loss, &accuracy) != 0) {
        fprintf(stderr, "callbacks: %s\n", tensor_last_error());
        return 1;
    }
    for (int e = 0; e < h->epochs; e++)
        printf("epoch %2d  lr %-8g  loss %.4f  val_loss %.4f\n", e + 1, h->lr[e], h->loss[e], h->val_loss[e]);
    printf("%s after epoch %d; the weights are epoch %d's; test loss %.4f, test accuracy %.3f\n",
           early.stopped_epoch ? "stopped early" : "ran every epoch", h->epochs, early.best_epoch, loss, accuracy);

    int status = 0;
    if (accuracy < 0.95) status = 1, fprintf(stderr, "callbacks: accuracy %.3f is below 0.95\n", accuracy);
    if (csv_rows("training.csv") != h->epochs)
        status = 1, fprintf(stderr, "callbacks: training.csv has %d rows for %d epochs\n", csv_rows("training.csv"),
                            h->epochs);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
    tensor_free(x_test);
    tensor_free(y_test);
    return status;
}
