/* Sequential building and summary: the exact Keras parameter counts of the sonnets
 * notebook's two models, output shapes, names, and layers that do not fit. */
#include "helpers.h"

#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>

Test(model_summary, char_many_to_one_counts) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 27, .dim = 64));
    nn_add(m, nn_lstm(.units = 64));
    nn_add(m, nn_dense(.units = 27, .activation = NN_SOFTMAX));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 40)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_layer_param_count(nn_model_layer(m, 0)), 1728);
    cr_assert_eq(nn_layer_param_count(nn_model_layer(m, 1)), 33024);
    cr_assert_eq(nn_layer_param_count(nn_model_layer(m, 2)), 1755);
    cr_assert_eq(nn_model_param_count(m), 36507);
    char *s = test_summary_text(m);
    cr_assert(strstr(s, "embedding (Embedding)") != NULL, "%s", s);
    cr_assert(strstr(s, "(None, 40, 64)") != NULL, "%s", s);
    cr_assert(strstr(s, "lstm (LSTM)") != NULL, "%s", s);
    cr_assert(strstr(s, "(None, 64)") != NULL, "%s", s);
    cr_assert(strstr(s, "33024") != NULL, "%s", s);
    cr_assert(strstr(s, "Total params: 36,507") != NULL, "%s", s);
    cr_assert(strstr(s, "Trainable params: 36,507") != NULL, "%s", s);
    cr_assert(strstr(s, "Non-trainable params: 0") != NULL, "%s", s);
    free(s);
    nn_model_free(m);
}

Test(model_summary, char_many_to_many_counts) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 27, .dim = 64));
    nn_add(m, nn_lstm(.units = 256, .return_sequences = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 40)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_layer_param_count(nn_model_layer(m, 0)), 1728);
    cr_assert_eq(nn_layer_param_count(nn_model_layer(m, 1)), 328704);
    cr_assert_eq(nn_layer_param_count(nn_model_layer(m, 2)), 6939);
    cr_assert_eq(nn_model_param_count(m), 337371);
    char *s = test_summary_text(m);
    cr_assert(strstr(s, "time_distributed (TimeDistributed)") != NULL, "%s", s);
    cr_assert(strstr(s, "(None, 40, 27)") != NULL, "%s", s);
    cr_assert(strstr(s, "Total params: 337,371") != NULL, "%s", s);
    free(s);
    nn_model_free(m);
}

Test(model_summary, names_are_made_unique_like_keras) {
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 4));
    nn_add(m, nn_dense(.units = 4));
    nn_add(m, nn_dense(.units = 2));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_F32, 3)), 0);
    cr_assert_str_eq(nn_model_layer(m, 0)->name, "dense");
    cr_assert_str_eq(nn_model_layer(m, 1)->name, "dense_1");
    cr_assert_str_eq(nn_model_layer(m, 2)->name, "dense_2");
    int count = 0;
    Tensor *const *params = nn_model_params(m, &count);
    cr_assert_eq(count, 6);
    cr_assert_str_eq(params[2]->name, "dense_1/kernel", "got %s", params[2]->name);
    nn_model_free(m);
}

Test(model_summary, layers_that_do_not_fit_name_both_layers) {
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 8));
    nn_add(m, nn_lstm(.units = 4)); /* an LSTM needs (T, D) per sample, gets (8,) */
    cr_assert_neq(nn_build(m, NN_SHAPE(TENSOR_F32, 3)), 0);
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "lstm") != NULL && strstr(e, "dense") != NULL, "message: %s", e);
    cr_assert_neq(nn_compile(m, .loss = NN_MSE), 0, "the error sticks until compile");
    nn_model_free(m);
}

Test(model_summary, embedding_needs_int_ids) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 10, .dim = 4));
    cr_assert_neq(nn_build(m, NN_SHAPE(TENSOR_F32, 5)), 0);
    cr_assert(strstr(tensor_last_error(), "embedding") != NULL, "%s", tensor_last_error());
    nn_model_free(m);
}

Test(model_summary, a_failed_constructor_is_reported_at_compile) {
    Model *m = nn_sequential();
    cr_assert_neq(nn_add(m, nn_dense(.units = -3)), 0);
    cr_assert_neq(nn_compile(m, .loss = NN_MSE), 0);
    cr_assert(strstr(tensor_last_error(), "layer 1") != NULL, "%s", tensor_last_error());
    nn_model_free(m);
}

Test(model_summary, sparse_crossentropy_rejects_a_relu_output) {
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 5, .activation = NN_RELU));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_F32, 3)), 0);
    cr_assert_neq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY), 0);
    cr_assert(strstr(tensor_last_error(), "softmax") != NULL, "%s", tensor_last_error());
    nn_model_free(m);
}

Test(model_summary, wrapped_layers_get_unique_names_too) {
    Model *m = nn_sequential();
    nn_add(m, nn_bidirectional(nn_lstm(.units = 4, .return_sequences = true)));
    nn_add(m, nn_bidirectional(nn_lstm(.units = 4)));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_F32, 5, 3)), 0, "%s", tensor_last_error());
    int n;
    Tensor *const *p = nn_model_params(m, &n);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) cr_assert_str_neq(p[i]->name, p[j]->name, "duplicate name %s", p[i]->name);
    /* predict needs a built model, not a compiled one (as in Keras) */
    Tensor *x = tensor_zeros(NULL, TENSOR_SHAPE(2, 5, 3));
    Tensor *y = nn_predict(m, x, 2);
    cr_assert_not_null(y, "%s", tensor_last_error());
    cr_assert_eq(y->shape[1], 8);
    tensor_free(x);
    tensor_free(y);
    nn_model_free(m);
}

Test(model_summary, a_model_too_large_for_memory_is_refused_before_allocating) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 1000000000, .dim = 1000)); /* 4 TB of weights */
    nn_add(m, nn_lstm(.units = 8));
    cr_assert_neq(nn_build(m, NN_SHAPE(TENSOR_I32, 5)), 0);
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "embedding/embeddings") && strstr(e, "GiB") && strstr(e, "memory"), "%s", e);
    nn_model_free(m);
    Model *r = nn_sequential();
    nn_add(r, nn_lstm(.units = 4000000)); /* a recurrent kernel of 6.4e13 floats */
    cr_assert_neq(nn_build(r, NN_SHAPE(TENSOR_F32, 5, 3)), 0);
    cr_assert(strstr(tensor_last_error(), "lstm/") != NULL, "%s", tensor_last_error());
    nn_model_free(r);
}
