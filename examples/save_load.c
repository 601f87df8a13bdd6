/* Example: saving a model and loading it back. A small LSTM learns the largest of five
 * digits; its weights and Adam state go to a file (atomic, checksummed:
 * docs/weights-format.md); a fresh model of the same architecture loads them and then
 * predicts and trains exactly like the original, while a model of another shape
 * refuses the file and stays as it was. Exits 1 if any of that does not hold. */
#include <lamina/nn/nn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEIGHTS "save_load_example.weights"

/* readme:begin make_model */
static Model *make_model(int64_t units) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 10, .dim = 8));
    nn_add(m, nn_lstm(.units = units));
    nn_add(m, nn_dense(.units = 10, .activation = NN_SOFTMAX));
    if (nn_build(m, NN_SHAPE(TENSOR_I32, 5)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = 0.01f)) != 0) {
        fprintf(stderr, "save_load: %s\n", tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}
/* readme:end */

/* n rows of five random digits x (n, 5) and the largest of each row y (n). */
static void digits(int64_t n, Tensor **x, Tensor **y) {
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(n, 5));
    *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(n));
    for (int64_t i = 0; i < n; i++) {
        int32_t best = 0;
        for (int t = 0; t < 5; t++) {
            int32_t d = (int32_t)tensor_rng_below(&rng, 10);
            tensor_i32(*x)[i * 5 + t] = d;
            best = d > best ? d : best;
        }
        tensor_i32(*y)[i] = best;
    }
}

static bool same_floats(const Tensor *a, const Tensor *b) {
    return a->size == b->size && memcmp(a->data, b->data, (size_t)a->size * sizeof(float)) == 0;
}

static bool same_params(const Model *a, const Model *b) {
    int na, nb;
    Tensor *const *pa = nn_model_params(a, &na), *const *pb = nn_model_params(b, &nb);
    for (int i = 0; i < na && na == nb; i++)
        if (!same_floats(pa[i], pb[i])) return false;
    return na == nb;
}

/* A copy of every parameter of a model, one float after another (free with free()). */
static float *params_copy(const Model *m) {
    float *copy = malloc((size_t)nn_model_param_count(m) * sizeof(float)), *at = copy;
    int n;
    Tensor *const *p = nn_model_params(m, &n);
    for (int i = 0; i < n; i++) {
        memcpy(at, p[i]->data, (size_t)p[i]->size * sizeof(float));
        at += p[i]->size;
    }
    return copy;
}

static int fail(const char *what) {
    fprintf(stderr, "save_load: %s\n", what);
    return 1;
}

int main(void) {
    Tensor *x, *y;
    digits(1024, &x, &y);
    Model *m = make_model(16), *restored = make_model(16), *other = make_model(32);
    if (!m || !restored || !other) return 1;
    NnHistory *h = nn_fit(m, x, y, .batch_size = 64, .epochs = 5, .quiet = true);
    if (!h) return fail(tensor_last_error());
    nn_history_free(h);
    float *other_before = params_copy(other);

    /* readme:begin save_load */
    if (nn_save_weights(m, WEIGHTS, true) != 0 ||  /* true: with the optimizer state */
        nn_load_weights(restored, WEIGHTS) != 0) { /* same architecture, any instance */
        fprintf(stderr, "save_load: %s\n", tensor_last_error());
        return 1;
    }
    if (nn_load_weights(other, WEIGHTS) != 0) /* LSTM(32) cannot take LSTM(16) weights */
        printf("refused, as it should be: %s\n", tensor_last_error());
    /* readme:end */
    else
        return fail("a model of another shape loaded the file");

    int status = 0;
    Tensor *p1 = nn_predict(m, x, 256), *p2 = nn_predict(restored, x, 256);
    if (!p1 || !p2 || !same_floats(p1, p2)) status = fail("the restored model predicts differently");
    double loss, accuracy, loss2, accuracy2;
    nn_evaluate(m, x, y, 256, &loss, &accuracy);
    nn_evaluate(restored, x, y, 256, &loss2, &accuracy2);
    printf("original: loss %.4f accuracy %.3f; restored: loss %.4f accuracy %.3f\n", loss, accuracy, loss2,
           accuracy2);
    if (loss != loss2) status = fail("the restored model has another loss");

    /* With the Adam moments and step count restored, training goes on identically. */
    NnHistory *h1 = nn_fit(m, x, y, .batch_size = 64, .epochs = 1, .quiet = true);
    NnHistory *h2 = nn_fit(restored, x, y, .batch_size = 64, .epochs = 1, .quiet = true);
    if (!h1 || !h2 || !same_params(m, restored))
        status = fail("one more epoch left the original and the restored model apart");
    else
        printf("one more epoch each: identical weights (loss %.4f)\n", h1->loss[0]);
    if (nn_model_steps(restored) != nn_model_steps(m)) status = fail("step counts differ");

    /* The refused load left the other model exactly as it was. */
    float *other_after = params_copy(other);
    if (memcmp(other_before, other_after, (size_t)nn_model_param_count(other) * sizeof(float)) != 0)
        status = fail("the refused load changed the other model");
    free(other_before);
    free(other_after);

    remove(WEIGHTS);
    nn_history_free(h1);
    nn_history_free(h2);
    tensor_free(p1);
    tensor_free(p2);
    nn_model_free(m);
    nn_model_free(restored);
    nn_model_free(other);
    tensor_free(x);
    tensor_free(y);
    return status;
}
