/* Deferred initialisation (nn_build_opts .defer_init): the values drawn on first use
 * are nn_build's bit for bit, the generator ends where eager building leaves it, a
 * load replaces them without their ever being drawn, and a summary needs none. */
#include "helpers.h"

#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>

/* Every kind of parameter and initialiser: uniform (Embedding), Glorot, orthogonal
 * (small, and large enough for the threaded QR), the LSTM bias, and a Dropout that
 * draws from the model's generator after building. */
static Model *make_model(int units, bool defer) {
    Model *m = nn_sequential();
    nn_model_seed(m, 42);
    nn_add(m, nn_embedding(.vocab = 50, .dim = 16));
    nn_add(m, nn_bidirectional(nn_gru(.units = 8, .return_sequences = true)));
    nn_add(m, nn_lstm(.units = units, .return_sequences = true));
    nn_add(m, nn_dropout(.rate = 0.5f));
    nn_add(m, nn_simple_rnn(.units = 12));
    nn_add(m, nn_dense(.units = 50, .activation = NN_SOFTMAX));
    cr_assert_eq(nn_build_opts(m, NN_SHAPE(TENSOR_I32, 6), &(NnBuildOpts){.defer_init = defer}), 0, "%s",
                 tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY), 0, "%s", tensor_last_error());
    return m;
}

static void assert_same_params(Model *a, Model *b) {
    int na, nb;
    Tensor *const *pa = nn_model_params(a, &na), *const *pb = nn_model_params(b, &nb);
    cr_assert_eq(na, nb);
    for (int i = 0; i < na; i++)
        cr_assert_eq(memcmp(pa[i]->data, pb[i]->data, (size_t)pa[i]->size * sizeof(float)), 0,
                     "%s differs", pa[i]->name);
}

static void data(Tensor **x, Tensor **y) {
    *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(16, 6));
    *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(16));
    int32_t *xi = (*x)->data, *yi = (*y)->data;
    for (int i = 0; i < 96; i++) xi[i] = (i * 7 + 3) % 50;
    for (int i = 0; i < 16; i++) yi[i] = (i * 11) % 50;
}

static void drawn_values_are_eager_ones(int units) {
    Model *eager = make_model(units, false), *lazy = make_model(units, true);
    cr_assert(nn_model_initialised(eager));
    cr_assert_not(nn_model_initialised(lazy), "nothing read the values yet");
    assert_same_params(eager, lazy);
    cr_assert(nn_model_initialised(lazy));
    nn_model_free(eager);
    nn_model_free(lazy);
}

Test(deferred_init, draws_the_eager_values) { drawn_values_are_eager_ones(20); }

/* LSTM(500): its (500, 2000) recurrent kernel takes the threaded orthogonal path. */
Test(deferred_init, draws_the_eager_values_of_a_large_orthogonal_kernel) { drawn_values_are_eager_ones(500); }

/* Training draws the values first, then dropout masks from where building left the
 * generator: the weights after two steps match only if both are right. */
Test(deferred_init, training_from_a_deferred_build_is_bit_identical) {
    Tensor *x, *y;
    data(&x, &y);
    Model *eager = make_model(20, false), *lazy = make_model(20, true);
    for (int k = 0; k < 2; k++) {
        NnHistory *h = nn_fit(eager, x, y, .batch_size = 8, .quiet = true, .seed = 1);
        NnHistory *g = nn_fit(lazy, x, y, .batch_size = 8, .quiet = true, .seed = 1);
        cr_assert(h && g, "%s", tensor_last_error());
        cr_assert_eq(h->loss[0], g->loss[0]);
        nn_history_free(h);
        nn_history_free(g);
    }
    assert_same_params(eager, lazy);
    nn_model_free(eager);
    nn_model_free(lazy);
    tensor_free(x);
    tensor_free(y);
}

/* A load replaces every value: they are never drawn, and reading them afterwards
 * gives the loaded ones, not the initial ones. */
Test(deferred_init, a_load_replaces_the_values_without_drawing_them) {
    Tensor *x, *y;
    data(&x, &y);
    Model *trained = make_model(20, false);
    NnHistory *h = nn_fit(trained, x, y, .batch_size = 8, .quiet = true);
    cr_assert_not_null(h, "%s", tensor_last_error());
    nn_history_free(h);
    char *path = test_temp_path("deferred.weights"), *npz = test_temp_path("deferred.npz");
    cr_assert_eq(nn_save_weights(trained, path, false), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_save_npz(trained, npz), 0, "%s", tensor_last_error());
    const char *paths[] = {path, npz};
    for (int k = 0; k < 2; k++) {
        Model *lazy = make_model(20, true);
        int rc = k == 0 ? nn_load_weights(lazy, paths[k]) : nn_load_npz(lazy, paths[k]);
        cr_assert_eq(rc, 0, "%s", tensor_last_error());
        cr_assert(nn_model_initialised(lazy), "the load gave every parameter its value");
        assert_same_params(trained, lazy);
        nn_model_free(lazy);
    }
    /* A failed load leaves the values to be drawn. */
    Model *lazy = make_model(20, true), *eager = make_model(20, false);
    cr_assert_neq(nn_load_weights(lazy, "/nonexistent/deferred.weights"), 0);
    cr_assert_not(nn_model_initialised(lazy));
    assert_same_params(eager, lazy);
    nn_model_free(lazy);
    nn_model_free(eager);
    nn_model_free(trained);
    free(path);
    free(npz);
    tensor_free(x);
    tensor_free(y);
}

Test(deferred_init, summary_and_counts_need_no_values) {
    Model *lazy = make_model(20, true);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    nn_summary(lazy, out);
    fclose(out);
    cr_assert(strstr(buf, "Total params:") != NULL, "%s", buf);
    cr_assert_gt(nn_model_param_count(lazy), 0);
    cr_assert_not(nn_model_initialised(lazy), "a summary draws nothing");
    free(buf);
    nn_model_free(lazy);
}
