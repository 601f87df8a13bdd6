/* Whole-model files: a model saved with nn_save_model and loaded with nn_load_model
 * (which builds it from the file alone) has the same summary, parameters,
 * predictions and compile settings, and trains on exactly as the original; files it
 * cannot describe or read are refused with messages naming what is wrong. */
#include "helpers.h"
#include "nn/model/model_internal.h"
#include "nn/nn.h"

#include <unistd.h>

static char *tmp_path(const char *stem) {
    static int k;
    char *p = malloc(128);
    snprintf(p, 128, "/tmp/lamina-model-%s-%d-%d", stem, (int)getpid(), k++);
    return p;
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
    char *s1 = test_summary_text(m), *s2 = test_summary_text(back);
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

/* A file whose weights belong to `m` but whose architecture is `text`. */
static void expect_text_refused(Model *m, const char *text, const char *said) {
    char *path = tmp_path("text");
    cr_assert_eq(nn__save_with_architecture(m, path, false, text), 0, "%s", tensor_last_error());
    Model *back = nn_load_model(path);
    cr_expect_null(back, "loaded: %s", text);
    cr_expect(strstr(tensor_last_error(), said), "for\n%s\nexpected \"%s\" in: %s", text, said, tensor_last_error());
    nn_model_free(back);
    unlink(path);
    free(path);
}

Test(model_file, bad_architectures_are_refused_by_name) {
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 2));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_F32, 3)), 0);
    const char *head = "lamina-model 1\ninput dtype=float32 shape=3\n";
    struct {
        const char *body, *said;
    } cases[] = {
        {"layer Dense name=dense units=2 activation=linear use_bias=true\n", NULL}, /* the good one */
        {"layer Dens name=dense units=2\n", "type \"Dens\", which is neither built in nor registered"},
        {"layer Dense name=dense units=2 colour=red\n", "unknown option colour=\"red\""},
        {"layer Dense name=dense units=two\n", "units must be an integer, got \"two\""},
        {"layer Dense name=dense units=2 units=3\n", "line 3: a key given twice"},
        {"layer Dense name=dense units=2 activation=gelu\n", "unknown activation \"gelu\""},
        {"  layer Dense name=dense units=2\n", "line 3: a wrapped layer without its wrapper"},
        {"layer Dense units=2\n", "line 3: a layer without name="},
        {"layer Dense name=dense units=2", "must end with a newline"},
        {"layer Dense name=dense units=2\nlayer Dense name=d2 units=100000000\n", "larger than the parameters can be"},
        {"layer Dense name=dense units=2\ncompile loss=mse clipnorm=0 accuracy=false\n", "compile without an optimizer"},
        {"layer Dense name=dense units=2\ncompile loss=hinge clipnorm=0 accuracy=false\noptimizer Adam lr=0.1\n",
         "unknown loss \"hinge\""},
        {"layer Dense name=dense units=2\ncompile loss=mse clipnorm=0 accuracy=false\noptimizer Adam lr=1e39\n",
         "lr=1e+39 is outside its range"},
        {"layer Dense name=dense units=2\ncompile loss=mse clipnorm=0 accuracy=false\noptimizer Adam lr=0\n",
         "lr=0 is outside its range"},
        {"layer TimeDistributed name=td\n", "wraps one layer, got 0 options and 0 layers"},
        {"layer Dense name=dense units=2\n  layer GRU name=g units=2\n  layer GRU name=h units=2\n",
         "Dense: wraps no layer, but 2 are indented under it"},
        {"layer Embedding name=e input_dim=3 output_dim=x\n  layer GRU name=g units=2\n",
         "Embedding: wraps no layer, but 1 is indented under it"},
        {"layer Dense name=dense%2 units=2\n", "line 3: a bad layer name"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", head, cases[k].body);
        if (!cases[k].said) {
            char *path = tmp_path("good");
            cr_assert_eq(nn__save_with_architecture(m, path, false, text), 0);
            Model *back = nn_load_model(path);
            cr_expect_not_null(back, "%s", tensor_last_error());
            nn_model_free(back);
            unlink(path);
            free(path);
        } else {
            expect_text_refused(m, text, cases[k].said);
        }
    }
    expect_text_refused(m, "lamina-model 2\ninput dtype=float32 shape=3\n", "not \"lamina-model 1\"");
    nn_model_free(m);
}

/* A user's own layer type becomes loadable once registered. */
typedef struct Scale {
    Layer base;
    double factor;
} Scale;

static int scale_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    (void)self, (void)rng;
    *out = *in;
    return 0;
}

static Tensor *scale_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    (void)ctx;
    return ag_scale(tape, x, (float)((Scale *)self)->factor);
}

static void scale_get_config(const Layer *self, NnConfig *c) { nn_config_set_float(c, "factor", ((const Scale *)self)->factor); }
static Layer *scale_from_config(const NnConfig *c, Layer **children, int n_children);

static const LayerVTable SCALE_VT = {.type = "Scale", .build = scale_build, .call = scale_call,
                                     .get_config = scale_get_config, .from_config = scale_from_config};

static Layer *scale_new(double factor) {
    Scale *s = calloc(1, sizeof *s);
    nn_layer_init(&s->base, &SCALE_VT, "scale");
    s->factor = factor;
    return &s->base;
}

static Layer *scale_from_config(const NnConfig *c, Layer **children, int n_children) {
    if (nn_config_no_children("Scale", children, n_children) != 0) return NULL;
    double factor = 1;
    return nn_config_float(c, "Scale", "factor", &factor) < 0 ? NULL : scale_new(factor);
}

Test(model_file, registered_user_layer_round_trip) {
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 3));
    nn_add(m, scale_new(-2.5));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_F32, 4)), 0);
    char *path = tmp_path("user");
    cr_assert_eq(nn_save_model(m, path, false), 0, "%s", tensor_last_error());
    cr_assert_null(nn_load_model(path));
    cr_expect(strstr(tensor_last_error(), "type \"Scale\""), "%s", tensor_last_error());
    cr_assert_eq(nn_register_layer_type(&SCALE_VT), 0, "%s", tensor_last_error());
    cr_expect_eq(nn_register_layer_type(&SCALE_VT), 0, "registering again is a no-op");
    Model *back = nn_load_model(path);
    cr_assert_not_null(back, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, 1, 1);
    Tensor *x = test_random(&rng, -1, 1, 2, (int64_t[]){5, 4});
    Tensor *p1 = nn_predict(m, x, 5), *p2 = nn_predict(back, x, 5);
    cr_assert_eq(memcmp(p1->data, p2->data, (size_t)p1->size * sizeof(float)), 0);
    tensor_free(p1), tensor_free(p2), tensor_free(x);
    unlink(path);
    free(path);
    nn_model_free(back), nn_model_free(m);
}

/* fit's checkpoints are whole-model files: a program that never built the model
 * loads one and resumes to the weights of the run never stopped. */
Test(model_file, a_checkpoint_loads_and_resumes_without_the_code) {
    Tensor *x, *y;
    batch(5, false, &x, &y);
    Model *full = bidirectional_model();
    NnHistory *hf = nn_fit(full, x, y, .batch_size = 2, .epochs = 2, .seed = 4, .quiet = true);
    cr_assert_not_null(hf, "%s", tensor_last_error());
    char *ckpt = tmp_path("ckpt");
    Model *cut = bidirectional_model();
    NnHistory *h1 = nn_fit(cut, x, y, .batch_size = 2, .epochs = 2, .seed = 4, .quiet = true, .max_steps = 4,
                           .checkpoint_path = ckpt);
    cr_assert_not_null(h1, "%s", tensor_last_error());
    Model *loaded = nn_load_model(ckpt);
    cr_assert_not_null(loaded, "%s", tensor_last_error());
    NnHistory *h2 = nn_fit(loaded, x, y, .batch_size = 2, .epochs = 2, .seed = 4, .quiet = true,
                           .resume_path = ckpt);
    cr_assert_not_null(h2, "%s", tensor_last_error());
    expect_same_params(full, loaded);
    unlink(ckpt);
    free(ckpt);
    nn_history_free(hf), nn_history_free(h1), nn_history_free(h2);
    nn_model_free(full), nn_model_free(cut), nn_model_free(loaded);
    tensor_free(x), tensor_free(y);
}
