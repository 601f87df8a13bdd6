/* Whole-model files: a model saved with nn_save_model and loaded with nn_load_model
 * (which builds it from the file alone) has the same summary, parameters,
 * predictions and compile settings, and trains on exactly as the original; files it
 * cannot describe or read are refused with messages naming what is wrong. */
#include "helpers.h"
#include "nn/nn.h"

#include <unistd.h>

static char *tmp_path(const char *stem) {
    static int k;
    char *p = malloc(128);
    snprintf(p, 128, "/tmp/lamina-model-%s-%d-%d", stem, (int)getpid(), k++);
    return p;
}

static char *summary_of(const Model *m) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    nn_summary(m, f);
    fclose(f);
    return buf;
}

static Model *compiled(Model *m, NnShape in, NnLoss loss, Optimizer *opt, float clipnorm) {
    cr_assert_eq(nn_build(m, in), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = loss, .optimizer = opt, .clipnorm = clipnorm, .accuracy = true), 0, "%s",
                 tensor_last_error());
    return m;
}

static Model *char_model(void) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 11, .dim = 6));
    nn_add(m, nn_lstm(.units = 9, .return_sequences = true, .name = "encoder"));
    nn_add(m, nn_dropout(.rate = 0.25f));
    nn_add(m, nn_time_distributed(nn_dense(.units = 11, .activation = NN_SOFTMAX)));
    return compiled(m, NN_SHAPE(TENSOR_I32, 7), NN_SPARSE_CATEGORICAL_CROSSENTROPY,
                    nn_adam(.lr = 0.02f, .beta1 = 0.8f), 1.5f);
}

static Model *bidirectional_model(void) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 11, .dim = 5));
    nn_add(m, nn_bidirectional(nn_gru(.units = 4)));
    nn_add(m, nn_dense(.units = 11, .activation = NN_SOFTMAX, .no_bias = true));
    Optimizer *sgd = nn_sgd(.lr = 0.1f, .momentum = 0.5f, .nesterov = true);
    cr_assert_eq(nn_optimizer_set_schedule(sgd, &(NnLrSchedule){.kind = NN_LR_COSINE, .initial_lr = 0.1,
                                                                 .decay_steps = 10, .alpha = 0.1}),
                 0);
    return compiled(m, NN_SHAPE(TENSOR_I32, 7), NN_SPARSE_CATEGORICAL_CROSSENTROPY, sgd, 0);
}

/* Token ids (B, 7) below 11 and next-token or last-token targets. */
static void batch(uint64_t seed, bool per_step, Tensor **x, Tensor **y) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 3);
    *x = tensor_i32_zeros(NULL, 2, (int64_t[]){6, 7});
    *y = per_step ? tensor_i32_zeros(NULL, 2, (int64_t[]){6, 7}) : tensor_i32_zeros(NULL, 1, (int64_t[]){6});
    for (int64_t i = 0; i < (*x)->size; i++) tensor_i32(*x)[i] = (int32_t)tensor_rng_below(&rng, 11);
    for (int64_t i = 0; i < (*y)->size; i++) tensor_i32(*y)[i] = (int32_t)tensor_rng_below(&rng, 11);
}

static void expect_same_params(const Model *a, const Model *b) {
    int na, nb;
    Tensor *const *pa = nn_model_params(a, &na), *const *pb = nn_model_params(b, &nb);
    cr_assert_eq(na, nb);
    for (int i = 0; i < na; i++) {
        cr_assert_str_eq(pa[i]->name, pb[i]->name);
        cr_assert_eq(memcmp(pa[i]->data, pb[i]->data, (size_t)pa[i]->size * sizeof(float)), 0, "%s differs",
                     pa[i]->name);
    }
}

static void expect_round_trip(Model *m, bool per_step) {
    Tensor *x, *y;
    batch(1, per_step, &x, &y);
    double loss;
    for (int s = 0; s < 3; s++) cr_assert_eq(nn_train_on_batch(m, x, y, &loss), 0, "%s", tensor_last_error());
    char *path = tmp_path("rt");
    cr_assert_eq(nn_save_model(m, path, true), 0, "%s", tensor_last_error());
    Model *back = nn_load_model(path);
    cr_assert_not_null(back, "%s", tensor_last_error());
    char *s1 = summary_of(m), *s2 = summary_of(back);
    cr_expect_str_eq(s1, s2);
    expect_same_params(m, back);
    cr_expect_eq(nn_model_steps(back), nn_model_steps(m));
    Tensor *p1 = nn_predict(m, x, 4), *p2 = nn_predict(back, x, 4);
    cr_assert_eq(memcmp(p1->data, p2->data, (size_t)p1->size * sizeof(float)), 0, "predictions differ");
    /* The optimizer, its state and schedule came along: training goes on identically
     * (with the same dropout masks, which the file does not keep). */
    nn_model_seed(m, 9);
    nn_model_seed(back, 9);
    for (int s = 0; s < 2; s++) {
        double l1, l2;
        cr_assert_eq(nn_train_on_batch(m, x, y, &l1), 0);
        cr_assert_eq(nn_train_on_batch(back, x, y, &l2), 0, "%s", tensor_last_error());
        cr_expect_eq(l1, l2, "step %d: loss %.9g against %.9g", s, l1, l2);
    }
    expect_same_params(m, back);
    tensor_free(p1), tensor_free(p2), tensor_free(x), tensor_free(y);
    free(s1), free(s2);
    unlink(path);
    free(path);
    nn_model_free(back);
    nn_model_free(m);
}

Test(model_file, char_model_round_trip) { expect_round_trip(char_model(), true); }

Test(model_file, bidirectional_gru_with_schedule_round_trip) { expect_round_trip(bidirectional_model(), false); }

Test(model_file, uncompiled_float_model_predicts) {
    Model *m = nn_sequential();
    nn_add(m, nn_simple_rnn(.units = 3, .go_backwards = true));
    nn_add(m, nn_dense(.units = 2, .activation = NN_TANH));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_F32, -1, 4)), 0);
    char *path = tmp_path("uncompiled");
    cr_assert_eq(nn_save_model(m, path, true), 0, "%s", tensor_last_error());
    Model *back = nn_load_model(path);
    cr_assert_not_null(back, "%s", tensor_last_error());
    Tensor *x = test_random_sequence(4, 2, 5, 4);
    Tensor *p1 = nn_predict(m, x, 2), *p2 = nn_predict(back, x, 2);
    cr_assert_eq(memcmp(p1->data, p2->data, (size_t)p1->size * sizeof(float)), 0);
    char *text = nn_model_to_text(back);
    cr_expect(strstr(text, "input dtype=float32 shape=-1,4\n") && !strstr(text, "compile"), "%s", text);
    free(text);
    tensor_free(p1), tensor_free(p2), tensor_free(x);
    unlink(path);
    free(path);
    nn_model_free(back);
    nn_model_free(m);
}

Test(model_file, plain_weights_and_custom_models_are_refused) {
    Model *m = char_model();
    char *path = tmp_path("weights");
    cr_assert_eq(nn_save_weights(m, path, false), 0);
    cr_assert_null(nn_load_model(path));
    cr_expect(strstr(tensor_last_error(), "no architecture"), "%s", tensor_last_error());
    /* A model file is also a weights file for a model built in code. */
    cr_assert_eq(nn_save_model(m, path, false), 0);
    Model *same = char_model();
    cr_expect_eq(nn_load_weights(same, path), 0, "%s", tensor_last_error());
    Model *custom = nn_custom_model();
    cr_expect_neq(nn_save_model(custom, path, false), 0);
    cr_expect(strstr(tensor_last_error(), "custom model"), "%s", tensor_last_error());
    cr_assert_null(nn_load_model("/nonexistent/model.lamina"));
    unlink(path);
    free(path);
    nn_model_free(custom), nn_model_free(same), nn_model_free(m);
}
