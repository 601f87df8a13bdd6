/* Embedding: Keras parameter count and shapes, looked-up values, the U(-0.05, 0.05)
 * table, gradients that touch only the looked-up rows, out-of-range ids aborting,
 * and invalid options / inputs. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <signal.h>
#include <string.h>

static Layer *built_embedding(int64_t vocab, int64_t dim, NnShape in) {
    Layer *l = nn_embedding(.vocab = vocab, .dim = dim);
    cr_assert_not_null(l, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, 17, 0);
    cr_assert_eq(nn_layer_build(l, in, &rng), 0, "%s", tensor_last_error());
    return l;
}

Test(layer_embedding, keras_param_count_names_and_shapes) {
    Layer *l = built_embedding(27, 64, NN_SHAPE(TENSOR_I32, 40));
    cr_assert_eq(nn_layer_param_count(l), 1728);
    cr_assert_str_eq(l->name, "embedding");
    cr_assert_str_eq(l->vt->type, "Embedding");
    cr_assert_str_eq(l->params[0]->name, "embedding/embeddings");
    cr_assert_eq(l->params[0]->shape[0], 27);
    cr_assert_eq(l->params[0]->shape[1], 64);
    cr_assert_eq(l->out_shape.dtype, TENSOR_F32);
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, 40, 64)");
    nn_layer_free(l);

    Layer *seq = built_embedding(5, 3, NN_SHAPE(TENSOR_I32, -1));
    cr_assert_str_eq(nn_shape_str(&seq->out_shape, buf, sizeof buf), "(None, None, 3)");
    nn_layer_free(seq);
}

Test(layer_embedding, table_is_uniform_005) {
    Layer *l = built_embedding(200, 64, NN_SHAPE(TENSOR_I32, 4));
    const float *t = l->params[0]->data;
    double mean = 0, lo = 1, hi = -1;
    for (int64_t i = 0; i < l->params[0]->size; i++) {
        cr_assert(t[i] >= -0.05f && t[i] < 0.05f, "table[%lld] = %g", (long long)i, (double)t[i]);
        mean += t[i];
        lo = fmin(lo, t[i]);
        hi = fmax(hi, t[i]);
    }
    mean /= (double)l->params[0]->size;
    cr_assert(fabs(mean) < 0.002, "mean %g", mean);
    cr_assert(lo < -0.049 && hi > 0.049, "range [%g, %g]", lo, hi);
    nn_layer_free(l);
}

Test(layer_embedding, values_are_table_rows) {
    Layer *l = built_embedding(6, 3, NN_SHAPE(TENSOR_I32, 4));
    float *t = l->params[0]->data;
    for (int i = 0; i < 18; i++) t[i] = (float)(i / 3) + 0.1f * (float)(i % 3); /* row r: r, r.1, r.2 */
    Tape *tape = ag_tape_new();
    int32_t ids[] = {0, 5, 2, 2, 1, 3, 4, 0};
    Tensor *x = tensor_i32_from_array(ag_tape_arena(tape), TENSOR_SHAPE(2, 4), ids);
    Tensor *y = nn_layer_call(l, tape, x, &(NnCallCtx){.training = true});
    cr_assert_eq(y->ndim, 3);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 4);
    cr_assert_eq(y->shape[2], 3);
    const float *yv = y->data;
    for (int i = 0; i < 8; i++)
        for (int c = 0; c < 3; c++)
            cr_assert_float_eq(yv[i * 3 + c], (float)ids[i] + 0.1f * (float)c, 1e-6f, "id %d col %d",
                               ids[i], c);
    ag_tape_free(tape);
    nn_layer_free(l);
}

Test(layer_embedding, gradient_touches_only_looked_up_rows) {
    Layer *l = built_embedding(6, 2, NN_SHAPE(TENSOR_I32, 3));
    Tape *tape = ag_tape_new();
    int32_t ids[] = {1, 4, 1, 1, 0, 4};
    Tensor *x = tensor_i32_from_array(ag_tape_arena(tape), TENSOR_SHAPE(2, 3), ids);
    ag_backward(tape, ag_sum(tape, nn_layer_call(l, tape, x, NULL)));
    const float *g = l->params[0]->grad;
    cr_assert_not_null(g);
    float counts[6] = {1, 3, 0, 0, 2, 0};
    for (int r = 0; r < 6; r++)
        for (int c = 0; c < 2; c++) cr_assert_float_eq(g[r * 2 + c], counts[r], 1e-6f, "row %d", r);
    ag_tape_free(tape);
    nn_layer_free(l);
}

typedef struct {
    Layer *layer;
    Tensor *ids;
} EmbCtx;

/* A nonlinear function of the looked-up rows, so the checker sees varied gradients. */
static Tensor *embedding_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)in;
    EmbCtx *c = ctx;
    return ag_tanh(tape, nn_layer_call(c->layer, tape, c->ids, NULL));
}

Test(layer_embedding, gradcheck_table) {
    Layer *l = built_embedding(7, 4, NN_SHAPE(TENSOR_I32, 5));
    /* a table with larger values than the default so tanh is visibly curved */
    Rng rng;
    tensor_rng_seed(&rng, 2, 0);
    tensor_fill_uniform(l->params[0]->data, 28, &rng, -1, 1);
    int32_t ids[] = {3, 0, 6, 3, 3, 1, 2, 6, 0, 5};
    Tensor *x = tensor_i32_from_array(NULL, TENSOR_SHAPE(2, 5), ids);
    EmbCtx c = {l, x};
    Tensor *inputs[] = {l->params[0]};
    ASSERT_GRADCHECK(embedding_fn, 1, inputs, &c, .seed = 3);
    tensor_free(x);
    nn_layer_free(l);
}

Test(layer_embedding, id_equal_to_vocab_aborts, .signal = SIGABRT) {
    Layer *l = built_embedding(27, 4, NN_SHAPE(TENSOR_I32, 3));
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_from_array(ag_tape_arena(tape), TENSOR_SHAPE(1, 3), (int32_t[]){0, 27, 1});
    nn_layer_call(l, tape, x, NULL);
}

Test(layer_embedding, negative_id_aborts, .signal = SIGABRT) {
    Layer *l = built_embedding(27, 4, NN_SHAPE(TENSOR_I32, 3));
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_from_array(ag_tape_arena(tape), TENSOR_SHAPE(1, 3), (int32_t[]){0, 1, -1});
    nn_layer_call(l, tape, x, NULL);
}

Test(layer_embedding, float_batch_aborts, .signal = SIGABRT) {
    Layer *l = built_embedding(27, 4, NN_SHAPE(TENSOR_I32, 3));
    Tape *tape = ag_tape_new();
    nn_layer_call(l, tape, tensor_zeros(ag_tape_arena(tape), TENSOR_SHAPE(1, 3)), NULL);
}

Test(layer_embedding, build_refuses_float_input) {
    Layer *l = nn_embedding(.vocab = 10, .dim = 4);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 8), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "Embedding") && strstr(tensor_last_error(), "int32"),
              "got: %s", tensor_last_error());
    cr_assert_not(l->built);
    cr_assert_eq(l->n_params, 0);
    nn_layer_free(l);
}

Test(layer_embedding, invalid_options_return_null_with_message) {
    tensor_clear_error();
    cr_assert_null(nn_embedding(.vocab = 0, .dim = 4));
    cr_assert(strstr(tensor_last_error(), "Embedding") && strstr(tensor_last_error(), "vocab") &&
                  strstr(tensor_last_error(), "0"),
              "got: %s", tensor_last_error());
    cr_assert_null(nn_embedding(.vocab = 10, .dim = -2));
    cr_assert(strstr(tensor_last_error(), "dim") && strstr(tensor_last_error(), "-2"), "got: %s",
              tensor_last_error());
    cr_assert_null(nn_embedding(.vocab = 10));
    cr_assert(strstr(tensor_last_error(), "dim"), "got: %s", tensor_last_error());
    cr_assert_null(nn_embedding_new(NULL));
}
