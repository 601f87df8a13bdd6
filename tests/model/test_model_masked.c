/* Masked Sequential models: Embedding(mask_zero) -> LSTM or GRU (return_sequences) ->
 * TimeDistributed(Dense) on post- and pre-padded batches, and Masking -> LSTM ->
 * TimeDistributed(Dense) with MSE: evaluate's loss and accuracy equal those of the
 * unpadded sequences (each row alone, weighted by its real steps), and the loss of a
 * training step too; a last-state model (the mask dropped by the LSTM) scores each row
 * as its unpadded sequence does; a batch with no real step has loss 0; masked models
 * saved as whole-model files come back with their masking options. */
#include "helpers.h"

#include "nn/io/model_file.h"
#include "nn/nn.h"

#include <unistd.h>

#define V 9
#define N 6
#define T 8

static const int64_t LENS[N] = {1, T, 3, 6, 2, 5};

/* Ids 1..V-1 at real steps and 0 at padding; targets random, padding's junk. */
static void padded_batch(bool post, Tensor **x, Tensor **y) {
    Rng rng;
    tensor_rng_seed(&rng, 5 + post, 0);
    *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(N, T));
    *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(N, T));
    for (int64_t i = 0; i < N; i++)
        for (int64_t t = 0; t < T; t++) {
            const bool real = post ? t < LENS[i] : t >= T - LENS[i];
            tensor_i32(*x)[i * T + t] = real ? 1 + (int32_t)tensor_rng_below(&rng, V - 1) : 0;
            tensor_i32(*y)[i * T + t] = (int32_t)tensor_rng_below(&rng, V);
        }
}

/* Row i's real steps of a (N, T, ...) tensor as a (1, len, ...) heap tensor. */
static Tensor *row_alone(const Tensor *a, int64_t i, bool post) {
    int64_t shape[TENSOR_MAX_DIMS] = {1, LENS[i]}, width = a->size / (N * T);
    for (int d = 2; d < a->ndim; d++) shape[d] = a->shape[d];
    Tensor *r = a->dtype == TENSOR_I32 ? tensor_i32_zeros(NULL, a->ndim, shape) : tensor_zeros(NULL, a->ndim, shape);
    const int64_t t0 = post ? 0 : T - LENS[i];
    memcpy(r->data, (const char *)a->data + (size_t)((i * T + t0) * width) * 4, (size_t)(LENS[i] * width) * 4);
    return r;
}

/* The loss and accuracy of the rows alone, each weighted by its real steps. */
static void unpadded(Model *m, Tensor *x, Tensor *y, bool post, double per_step, double *loss, double *acc) {
    double total = 0, hits = 0, steps = 0;
    for (int64_t i = 0; i < N; i++) {
        Tensor *xi = row_alone(x, i, post), *yi = row_alone(y, i, post);
        double l, a;
        cr_assert_eq(nn_evaluate(m, xi, yi, 1, &l, &a), 0, "%s", tensor_last_error());
        const double w = per_step ? (double)LENS[i] : 1.0;
        total += l * w, hits += a * w, steps += w;
        tensor_free(xi), tensor_free(yi);
    }
    *loss = total / steps;
    *acc = hits / steps;
}

static Model *tagger(bool gru, bool seq) {
    Model *m = nn_sequential();
    nn_model_seed(m, 7);
    nn_add(m, nn_embedding(.vocab = V, .dim = 5, .mask_zero = true));
    if (gru) nn_add(m, nn_gru(.units = 6, .return_sequences = seq));
    else nn_add(m, nn_lstm(.units = 6, .return_sequences = seq));
    nn_add(m, seq ? nn_time_distributed(nn_dense(.units = V, .activation = NN_SOFTMAX))
                  : nn_dense(.units = V, .activation = NN_SOFTMAX));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, -1)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .accuracy = true), 0, "%s",
                 tensor_last_error());
    return m;
}

Test(model_masked, loss_and_accuracy_skip_padding) {
    for (int gru = 0; gru < 2; gru++)
        for (int post = 0; post < 2; post++) {
            Tensor *x, *y;
            padded_batch(post, &x, &y);
            Model *m = tagger(gru, true);
            double loss, acc, want_loss, want_acc;
            cr_assert_eq(nn_evaluate(m, x, y, N, &loss, &acc), 0, "%s", tensor_last_error());
            unpadded(m, x, y, post, true, &want_loss, &want_acc);
            cr_assert(fabs(loss - want_loss) <= 1e-6 * fabs(want_loss), "%s %s: loss %.9g, unpadded %.9g",
                      gru ? "GRU" : "LSTM", post ? "post" : "pre", loss, want_loss);
            cr_assert(fabs(acc - want_acc) <= 1e-12, "accuracy %.9g, unpadded %.9g", acc, want_acc);
            /* The step trains on the same loss. */
            double step_loss;
            cr_assert_eq(nn_train_on_batch(m, x, y, &step_loss), 0, "%s", tensor_last_error());
            cr_assert(fabs(step_loss - want_loss) <= 1e-6 * fabs(want_loss));
            nn_model_free(m);
            tensor_free(x), tensor_free(y);
        }
}

/* Without return_sequences the mask stops at the LSTM: one target per row, and each
 * row's prediction is its unpadded sequence's. */
Test(model_masked, last_state_model) {
    for (int post = 0; post < 2; post++) {
        Tensor *x, *yseq;
        padded_batch(post, &x, &yseq);
        Tensor *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(N));
        for (int64_t i = 0; i < N; i++) tensor_i32(y)[i] = tensor_i32(yseq)[i * T];
        Model *m = tagger(false, false);
        double loss, acc, total = 0;
        cr_assert_eq(nn_evaluate(m, x, y, N, &loss, &acc), 0, "%s", tensor_last_error());
        for (int64_t i = 0; i < N; i++) {
            Tensor *xi = row_alone(x, i, post), *yi = tensor_i32_zeros(NULL, TENSOR_SHAPE(1));
            tensor_i32(yi)[0] = tensor_i32(y)[i];
            double l;
            cr_assert_eq(nn_evaluate(m, xi, yi, 1, &l, NULL), 0, "%s", tensor_last_error());
            total += l;
            tensor_free(xi), tensor_free(yi);
        }
        cr_assert(fabs(loss - total / N) <= 1e-6 * fabs(loss), "loss %.9g, rows alone %.9g", loss, total / N);
        nn_model_free(m);
        tensor_free(x), tensor_free(yseq), tensor_free(y);
    }
}

/* Masking on float steps, MSE per step (Keras's mean over features, then over the real
 * steps). Padded steps hold the mask value in x and junk in y. */
Test(model_masked, masking_layer_with_mse) {
    Rng rng;
    tensor_rng_seed(&rng, 9, 0);
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(N, T, 3)), *y = tensor_zeros(NULL, TENSOR_SHAPE(N, T, 2));
    tensor_fill_uniform(x->data, x->size, &rng, -1, 1);
    tensor_fill_uniform(y->data, y->size, &rng, -1, 1);
    for (int64_t i = 0; i < N; i++)
        for (int64_t t = LENS[i]; t < T; t++)
            for (int d = 0; d < 3; d++) tensor_f32(x)[(i * T + t) * 3 + d] = -2.0f;
    Model *m = nn_sequential();
    nn_model_seed(m, 2);
    nn_add(m, nn_masking(.mask_value = -2.0f));
    nn_add(m, nn_lstm(.units = 4, .return_sequences = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = 2)));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_F32, -1, 3)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = NN_MSE), 0, "%s", tensor_last_error());
    double loss, want, acc;
    cr_assert_eq(nn_evaluate(m, x, y, N, &loss, NULL), 0, "%s", tensor_last_error());
    unpadded(m, x, y, true, true, &want, &acc);
    cr_assert(fabs(loss - want) <= 1e-6 * fabs(want), "loss %.9g, unpadded %.9g", loss, want);
    nn_model_free(m);
    tensor_free(x), tensor_free(y);
}

Test(model_masked, all_padding_scores_zero) {
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, T)), *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(2, T));
    Model *m = tagger(false, true);
    double loss, acc;
    cr_assert_eq(nn_evaluate(m, x, y, 2, &loss, &acc), 0, "%s", tensor_last_error());
    cr_assert_eq(loss, 0.0);
    cr_assert(isnan(acc)); /* no prediction was counted */
    nn_model_free(m);
    tensor_free(x), tensor_free(y);
}

/* Embedding(mask_zero) -> Bidirectional(LSTM) (zero_output_for_mask on its halves) ->
 * TimeDistributed(Dense), and Masking -> GRU -> TimeDistributed(Dense): saved and
 * loaded as whole-model files, they score a padded batch to the same bits. */
Test(model_masked, masking_options_survive_model_files) {
    Tensor *x, *y;
    padded_batch(true, &x, &y);
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = V, .dim = 5, .mask_zero = true));
    nn_add(m, nn_bidirectional(nn_lstm(.units = 4, .return_sequences = true)));
    nn_add(m, nn_time_distributed(nn_dense(.units = V, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, -1)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY), 0, "%s", tensor_last_error());
    char *text = nn_model_to_text(m);
    cr_assert_not_null(text, "%s", tensor_last_error());
    cr_assert(strstr(text, "mask_zero") && strstr(text, "zero_output_for_mask"), "%s", text);
    free(text);

    Tensor *f = tensor_zeros(NULL, TENSOR_SHAPE(N, T, 2)), *fy = tensor_zeros(NULL, TENSOR_SHAPE(N, T, 1));
    for (int64_t i = 0; i < f->size; i++) tensor_f32(f)[i] = (i / 2) % 3 == 0 ? -1.0f : (float)(i % 5) * 0.3f;
    for (int64_t i = 0; i < fy->size; i++) tensor_f32(fy)[i] = (float)(i % 7) * 0.1f; /* every 3rd step padding */
    Model *g = nn_sequential();
    nn_add(g, nn_masking(.mask_value = -1.0f));
    nn_add(g, nn_gru(.units = 3, .return_sequences = true));
    nn_add(g, nn_time_distributed(nn_dense(.units = 1)));
    cr_assert_eq(nn_build(g, NN_SHAPE(TENSOR_F32, -1, 2)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(g, .loss = NN_MSE), 0, "%s", tensor_last_error());

    Model *models[2] = {m, g};
    Tensor *xs[2] = {x, f}, *ys[2] = {y, fy};
    char path[] = "/tmp/lamina-masked-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(nn_save_model(models[k], path, false), 0, "%s", tensor_last_error());
        Model *back = nn_load_model(path);
        cr_assert_not_null(back, "%s", tensor_last_error());
        double a, b;
        cr_assert_eq(nn_evaluate(models[k], xs[k], ys[k], N, &a, NULL), 0, "%s", tensor_last_error());
        cr_assert_eq(nn_evaluate(back, xs[k], ys[k], N, &b, NULL), 0, "%s", tensor_last_error());
        cr_assert_eq(a, b, "model %d: loss %.9g, loaded %.9g", k, a, b);
        nn_model_free(back);
    }
    unlink(path);
    nn_model_free(m), nn_model_free(g);
    tensor_free(x), tensor_free(y), tensor_free(f), tensor_free(fy);
}
