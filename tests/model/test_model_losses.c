/* The four compiled losses through a Sequential model, the checkpoint callback,
 * gradient clipping in the model, and the custom-model (lower-level) training path. */
#include "helpers.h"

#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Three Gaussian blobs in 2-D, labelled 0, 1, 2. */
static void blobs(int64_t n, Tensor **x, Tensor **labels, Tensor **onehot) {
    Rng rng;
    tensor_rng_seed(&rng, 11, 0);
    *x = tensor_zeros(NULL, TENSOR_SHAPE(n, 2));
    *labels = tensor_i32_zeros(NULL, TENSOR_SHAPE(n));
    *onehot = tensor_zeros(NULL, TENSOR_SHAPE(n, 3));
    const float cx[] = {-2, 2, 0}, cy[] = {-1, -1, 2};
    for (int64_t i = 0; i < n; i++) {
        int c = (int)(i % 3);
        tensor_f32(*x)[2 * i] = cx[c] + 0.5f * tensor_rng_normal(&rng);
        tensor_f32(*x)[2 * i + 1] = cy[c] + 0.5f * tensor_rng_normal(&rng);
        tensor_i32(*labels)[i] = c;
        tensor_f32(*onehot)[3 * i + c] = 1;
    }
}

static Model *classifier(NnActivation out_activation, int64_t out_units) {
    Model *m = nn_sequential();
    nn_model_seed(m, 3);
    nn_add(m, nn_dense(.units = 16, .activation = NN_TANH));
    nn_add(m, nn_dense(.units = out_units, .activation = out_activation));
    return m;
}

Test(model_losses, sparse_and_categorical_crossentropy_agree_and_learn) {
    Tensor *x, *labels, *onehot;
    blobs(300, &x, &labels, &onehot);
    Model *a = classifier(NN_SOFTMAX, 3), *b = classifier(NN_SOFTMAX, 3);
    cr_assert_eq(nn_compile(a, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .accuracy = true), 0);
    cr_assert_eq(nn_compile(b, .loss = NN_CATEGORICAL_CROSSENTROPY, .accuracy = true), 0);
    double la, lb, acc;
    cr_assert_eq(nn_evaluate(a, x, labels, 64, &la, NULL), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_evaluate(b, x, onehot, 64, &lb, NULL), 0, "%s", tensor_last_error());
    cr_assert_float_eq(la, lb, 1e-5, "same weights, same loss: %g vs %g", la, lb);
    NnHistory *h = nn_fit(a, x, labels, .batch_size = 32, .epochs = 30, .quiet = true);
    cr_assert_not_null(h);
    nn_evaluate(a, x, labels, 64, &la, &acc);
    cr_log_info("sparse CE: loss %.4f accuracy %.3f", la, acc);
    cr_assert_lt(la, 0.1);
    cr_assert_gt(acc, 0.97);
    nn_history_free(h);
    h = nn_fit(b, x, onehot, .batch_size = 32, .epochs = 30, .quiet = true);
    cr_assert_not_null(h);
    nn_evaluate(b, x, onehot, 64, &lb, &acc);
    cr_assert_lt(lb, 0.1);
    nn_history_free(h);
    nn_model_free(a);
    nn_model_free(b);
    tensor_free(x);
    tensor_free(labels);
    tensor_free(onehot);
}

Test(model_losses, binary_crossentropy_matches_its_formula_and_learns) {
    Tensor *x, *labels, *onehot;
    blobs(300, &x, &labels, &onehot);
    Tensor *y = tensor_zeros(NULL, TENSOR_SHAPE(300, 1)); /* class 2 vs the rest */
    for (int i = 0; i < 300; i++) tensor_f32(y)[i] = tensor_i32(labels)[i] == 2;
    Model *m = classifier(NN_SIGMOID, 1);
    cr_assert_eq(nn_compile(m, .loss = NN_BINARY_CROSSENTROPY, .accuracy = true), 0);
    double loss;
    cr_assert_eq(nn_evaluate(m, x, y, 300, &loss, NULL), 0);
    Tensor *p = nn_predict(m, x, 300);
    double expect = 0;
    for (int i = 0; i < 300; i++) {
        double q = tensor_f32(p)[i], t = tensor_f32(y)[i];
        expect -= t * log(q) + (1 - t) * log(1 - q);
    }
    cr_assert_float_eq(loss, expect / 300, 1e-4, "%g vs %g", loss, expect / 300);
    NnHistory *h = nn_fit(m, x, y, .batch_size = 32, .epochs = 30, .quiet = true);
    double acc;
    nn_evaluate(m, x, y, 300, &loss, &acc);
    cr_assert_gt(acc, 0.97, "accuracy %.3f", acc);
    nn_history_free(h);
    tensor_free(p);
    tensor_free(y);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(labels);
    tensor_free(onehot);
}

Test(model_losses, checkpoint_callback_writes_loadable_weights) {
    Tensor *x, *labels, *onehot;
    blobs(90, &x, &labels, &onehot);
    char path[] = "/tmp/lamina-ckpt-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    Model *m = classifier(NN_SOFTMAX, 3);
    nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    NnCheckpoint ck = {.path = path, .save_best_only = true};
    NnCallback cb = nn_checkpoint_callback(&ck);
    NnHistory *h = nn_fit(m, x, labels, .epochs = 3, .quiet = true, .callbacks = &cb, .n_callbacks = 1);
    cr_assert_not_null(h);
    cr_assert(access(path, R_OK) == 0, "the checkpoint exists");
    Model *other = classifier(NN_SOFTMAX, 3);
    nn_compile(other, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    nn_build(other, NN_SHAPE(TENSOR_F32, 2));
    cr_assert_eq(nn_load_weights(other, path), 0, "%s", tensor_last_error());
    double l1, l2;
    nn_evaluate(m, x, labels, 90, &l1, NULL);
    nn_evaluate(other, x, labels, 90, &l2, NULL);
    cr_assert_eq(l1, l2, "the best (last, as loss falls) epoch was saved");
    unlink(path);
    nn_history_free(h);
    nn_model_free(m);
    nn_model_free(other);
    tensor_free(x);
    tensor_free(labels);
    tensor_free(onehot);
}

Test(model_losses, clipnorm_bounds_the_update) {
    /* With SGD lr 1 and clipnorm 0.01, no parameter moves more than 0.01 per step. */
    Tensor *x, *labels, *onehot;
    blobs(30, &x, &labels, &onehot);
    Model *m = classifier(NN_SOFTMAX, 3);
    nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_sgd(.lr = 1.0f), .clipnorm = 0.01f);
    nn_build(m, NN_SHAPE(TENSOR_F32, 2));
    int n;
    Tensor *const *params = nn_model_params(m, &n);
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += params[i]->size;
    float *before = malloc((size_t)total * sizeof(float));
    int64_t k = 0;
    for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < params[i]->size; j++) before[k++] = tensor_f32(params[i])[j];
    double loss;
    cr_assert_eq(nn_train_on_batch(m, x, labels, &loss), 0);
    double moved = 0;
    k = 0;
    for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < params[i]->size; j++, k++) {
            double d = tensor_f32(params[i])[j] - before[k];
            moved += d * d;
        }
    cr_assert_leq(sqrt(moved), 0.01 + 1e-6, "global step norm %g", sqrt(moved));
    cr_assert_gt(sqrt(moved), 0.009, "the clipped step still has the full allowed length");
    free(before);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(labels);
    tensor_free(onehot);
}

/* ---- the custom-model path ---- */

typedef struct Batch {
    Tensor *x, *y;
} Batch;

static Tensor *two_layer_loss(Model *m, Tape *tape, void *batch, void *user) {
    (void)user;
    Batch *b = batch;
    NnCallCtx ctx = {.training = true, .logits = true};
    Tensor *h = nn_layer_call(nn_model_layer(m, 0), tape, b->x, &ctx);
    Tensor *logits = nn_layer_call(nn_model_layer(m, 1), tape, h, &ctx);
    return ag_sparse_cross_entropy(tape, logits, b->y, AG_NO_IGNORE_INDEX);
}

Test(model_losses, custom_model_trains_tracked_layers) {
    Tensor *x, *labels, *onehot;
    blobs(300, &x, &labels, &onehot);
    Model *m = nn_custom_model();
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    Layer *hidden = nn_dense(.units = 16, .activation = NN_TANH);
    Layer *out = nn_dense(.units = 3, .activation = NN_SOFTMAX);
    cr_assert_eq(nn_layer_build(hidden, NN_SHAPE(TENSOR_F32, 2), &rng), 0);
    cr_assert_eq(nn_layer_build(out, NN_SHAPE(TENSOR_F32, 16), &rng), 0);
    cr_assert_not_null(nn_track(m, hidden));
    cr_assert_not_null(nn_track(m, out));
    cr_assert_eq(nn_compile(m, .optimizer = nn_adam(.lr = 0.05f)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_model_param_count(m), 2 * 16 + 16 + 16 * 3 + 3);
    Batch b = {x, labels};
    double first = 0, loss = 0;
    for (int step = 0; step < 200; step++) {
        cr_assert_eq(nn_custom_step(m, two_layer_loss, &b, NULL, &loss), 0, "%s", tensor_last_error());
        if (step == 0) first = loss;
    }
    cr_log_info("custom model: loss %.3f -> %.4f", first, loss);
    cr_assert_lt(loss, 0.1);
    cr_assert_lt(loss, first / 5);
    cr_assert_eq(nn_model_steps(m), 200);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(labels);
    tensor_free(onehot);
}

static Tensor *nan_loss(Model *m, Tape *tape, void *batch, void *user) {
    (void)m, (void)batch, (void)user;
    Tensor *t = tensor_full(ag_tape_arena(tape), 0, NULL, NAN);
    return t;
}

Test(model_losses, a_nan_loss_stops_without_updating) {
    Model *m = nn_custom_model();
    Layer *d = nn_dense(.units = 2);
    nn_layer_build(d, NN_SHAPE(TENSOR_F32, 2), NULL);
    nn_track(m, d);
    nn_compile(m);
    float before = tensor_f32(d->params[0])[0];
    double loss;
    cr_assert_neq(nn_custom_step(m, nan_loss, NULL, NULL, &loss), 0);
    cr_assert(strstr(tensor_last_error(), "NaN") != NULL, "%s", tensor_last_error());
    cr_assert(strstr(tensor_last_error(), "step 1") != NULL, "%s", tensor_last_error());
    cr_assert_eq(tensor_f32(d->params[0])[0], before);
    nn_model_free(m);
}
