/* nn/model/metrics: top-k ranks (ties, NaNs), the k best indices, hits and accuracy
 * over a predictions tensor and their refusals, and nn_evaluate_topk against
 * nn_evaluate and nn_predict. */
#include "helpers.h"
#include "nn/nn.h"

#include <math.h>
#include <signal.h>
#include <string.h>

Test(metrics, topk_rank_and_ties) {
    const float s[] = {0.1f, 0.4f, 0.2f, 0.4f, NAN};
    cr_assert_eq(nn_topk_rank(s, 5, 1), 0);
    cr_assert_eq(nn_topk_rank(s, 5, 3), 1); /* equal to entry 1, which comes first */
    cr_assert_eq(nn_topk_rank(s, 5, 2), 2);
    cr_assert_eq(nn_topk_rank(s, 5, 0), 3);
    cr_assert_eq(nn_topk_rank(s, 5, 4), 5); /* NaN never ranks */
}

Test(metrics, topk_indices) {
    const float s[] = {0.1f, NAN, 0.4f, 0.2f, 0.4f, -1.0f};
    int64_t out[6];
    cr_assert_eq(nn_topk_indices(s, 6, 3, out), 3);
    cr_assert_eq(out[0], 2);
    cr_assert_eq(out[1], 4);
    cr_assert_eq(out[2], 3);
    cr_assert_eq(nn_topk_indices(s, 6, 10, out), 6);
    const int64_t all[] = {2, 4, 3, 0, 5, 1};
    for (int i = 0; i < 6; i++) cr_assert_eq(out[i], all[i], "position %d: %lld", i, (long long)out[i]);
    cr_assert_eq(nn_topk_indices(s, 6, 0, NULL), 0);
}

/* Random scores: the selection agrees with ranks computed independently. */
Test(metrics, topk_indices_agree_with_rank) {
    Rng rng;
    tensor_rng_seed(&rng, 7, 1);
    float s[200];
    for (int i = 0; i < 200; i++) s[i] = (float)tensor_rng_below(&rng, 50); /* many ties */
    int64_t out[17];
    nn_topk_indices(s, 200, 17, out);
    for (int64_t j = 0; j < 17; j++) cr_assert_eq(nn_topk_rank(s, 200, out[j]), j);
}

Test(metrics, topk_accuracy) {
    const float p[] = {0.1f, 0.6f, 0.3f,   /* target 1: top-1 */
                       0.5f, 0.2f, 0.3f,   /* target 2: rank 1 */
                       0.2f, 0.3f, 0.5f,   /* target 0: rank 2 */
                       0.4f, 0.4f, 0.2f};  /* target 1: tie, rank 1 */
    const int32_t t[] = {1, 2, 0, 1};
    Tensor *scores = tensor_from_array(NULL, TENSOR_SHAPE(4, 3), p);
    Tensor *targets = tensor_i32_from_array(NULL, TENSOR_SHAPE(4), t);
    cr_assert_eq(nn_topk_hits(scores, targets, 1), 1);
    cr_assert_eq(nn_topk_hits(scores, targets, 2), 3);
    cr_assert_eq(nn_topk_hits(scores, targets, 3), 4);
    cr_assert_float_eq(nn_topk_accuracy(scores, targets, 2), 0.75, 1e-12);
    Tensor *none = tensor_zeros(NULL, TENSOR_SHAPE(0, 3));
    Tensor *none_t = tensor_i32_zeros(NULL, TENSOR_SHAPE(0));
    cr_assert(isnan(nn_topk_accuracy(none, none_t, 1)));
    tensor_free(none);
    tensor_free(none_t);
    tensor_free(scores);
    tensor_free(targets);
}

Test(metrics, topk_target_out_of_range, .signal = SIGABRT) {
    Tensor *scores = tensor_zeros(NULL, TENSOR_SHAPE(1, 3));
    Tensor *targets = tensor_i32_from_array(NULL, TENSOR_SHAPE(1), (int32_t[]){3});
    nn_topk_hits(scores, targets, 1);
}

Test(metrics, topk_shape_mismatch, .signal = SIGABRT) {
    Tensor *scores = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *targets = tensor_i32_zeros(NULL, TENSOR_SHAPE(3));
    nn_topk_hits(scores, targets, 1);
}

/* A small classifier: Embedding(10, 4) on 2 ids -> LSTM(5) -> Dense(7, softmax). */
static Model *small_classifier(NnLoss loss) {
    Model *m = nn_sequential();
    nn_model_seed(m, 3);
    nn_add(m, nn_embedding(.vocab = 10, .dim = 4));
    nn_add(m, nn_lstm(.units = 5));
    nn_add(m, nn_dense(.units = 7, .activation = NN_SOFTMAX));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 2)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = loss), 0, "%s", tensor_last_error());
    return m;
}

/* One pass with logits agrees with nn_evaluate's loss and with ranking nn_predict's
 * probabilities, across a batch size that leaves a remainder. */
Test(metrics, evaluate_topk_agrees_with_evaluate_and_predict) {
    Model *m = small_classifier(NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    Rng rng;
    tensor_rng_seed(&rng, 11, 2);
    int32_t xs[46], ys[23];
    for (int i = 0; i < 46; i++) xs[i] = (int32_t)tensor_rng_below(&rng, 10);
    for (int i = 0; i < 23; i++) ys[i] = (int32_t)tensor_rng_below(&rng, 7);
    Tensor *x = tensor_i32_from_array(NULL, TENSOR_SHAPE(23, 2), xs);
    Tensor *y = tensor_i32_from_array(NULL, TENSOR_SHAPE(23), ys);
    for (int step = 0; step < 20; step++) nn_train_on_batch(m, x, y, NULL); /* not just the initial weights */
    double loss, acc[3], want_loss;
    cr_assert_eq(nn_evaluate_topk(m, x, y, 5, 3, (const int64_t[]){1, 2, 7}, &loss, acc), 0, "%s",
                 tensor_last_error());
    cr_assert_eq(nn_evaluate(m, x, y, 5, &want_loss, NULL), 0);
    cr_assert_float_eq(loss, want_loss, 1e-6, "loss %g, nn_evaluate %g", loss, want_loss);
    Tensor *p = nn_predict(m, x, 5);
    cr_assert_float_eq(acc[0], nn_topk_accuracy(p, y, 1), 1e-12);
    cr_assert_float_eq(acc[1], nn_topk_accuracy(p, y, 2), 1e-12);
    cr_assert_float_eq(acc[2], 1.0, 1e-12); /* every class is in the top 7 */
    cr_assert(acc[1] > acc[0] || acc[0] == 1.0);
    tensor_free(p);
    tensor_free(x);
    tensor_free(y);
    nn_model_free(m);
}

Test(metrics, evaluate_topk_refusals) {
    Model *m = small_classifier(NN_MSE);
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(3, 2));
    Tensor *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(3));
    double loss, acc;
    cr_assert_eq(nn_evaluate_topk(m, x, y, 0, 1, (const int64_t[]){1}, &loss, &acc), -1);
    cr_assert(strstr(tensor_last_error(), "sparse_categorical"), "%s", tensor_last_error());
    nn_model_free(m);
    m = small_classifier(NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    Tensor *x3 = tensor_i32_zeros(NULL, TENSOR_SHAPE(3, 3));
    cr_assert_eq(nn_evaluate_topk(m, x3, y, 0, 1, (const int64_t[]){1}, &loss, &acc), -1);
    cr_assert(strstr(tensor_last_error(), "input dim"), "%s", tensor_last_error());
    Tensor *y2 = tensor_i32_zeros(NULL, TENSOR_SHAPE(2));
    cr_assert_eq(nn_evaluate_topk(m, x, y2, 0, 1, (const int64_t[]){1}, &loss, &acc), -1);
    cr_assert_eq(nn_evaluate_topk(m, x, y, 0, 1, (const int64_t[]){0}, &loss, &acc), -1);
    cr_assert_eq(nn_evaluate_topk(m, x, y, 0, 1, (const int64_t[]){1}, &loss, &acc), 0);
    cr_assert(acc == 0.0 || acc == 1.0); /* equal rows: target 0 is in the top 1 for all or none */
    tensor_free(x);
    tensor_free(x3);
    tensor_free(y);
    tensor_free(y2);
    nn_model_free(m);
}
