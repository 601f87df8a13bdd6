/* Example: a Sequential model on a toy task, written the way a Keras user would.
 * Points of the square [-1, 1]^2 are labelled 1 inside the circle that covers half of
 * it and 0 outside; two hidden Dense layers learn the round boundary. Exits 1 unless
 * the accuracy on points it never saw reaches 95%. */
#include <lamina/nn/nn.h>

#include <stdio.h>

/* n random points x (n, 2) and their labels y (n, 1): 1 inside the circle. */
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
        label[i] = a * a + b * b < 2 / 3.14159265f; /* radius^2 = area 2 / pi */
    }
}

int main(void) {
    Tensor *x, *y, *x_test, *y_test;
    circle_data(2000, 1, &x, &y);
    circle_data(1000, 2, &x_test, &y_test);

    /* readme:begin sequential */
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 32, .activation = NN_RELU));
    nn_add(m, nn_dense(.units = 32, .activation = NN_RELU));
    nn_add(m, nn_dense(.units = 1, .activation = NN_SIGMOID));
    if (nn_build(m, NN_SHAPE(TENSOR_F32, 2)) != 0 ||           /* one sample: a point (a, b) */
        nn_compile(m, .loss = NN_BINARY_CROSSENTROPY, .optimizer = nn_adam(.lr = 0.01f),
                   .accuracy = true) != 0) {
        fprintf(stderr, "sequential: %s\n", tensor_last_error());
        return 1;
    }
    nn_summary(m, stdout);

    NnHistory *h = nn_fit(m, x, y, .batch_size = 32, .epochs = 30, .validation_split = 0.1f);
    double loss, accuracy;
    if (!h || nn_evaluate(m, x_test, y_test, 256, &loss, &accuracy) != 0) {
        fprintf(stderr, "sequential: %s\n", tensor_last_error());
        return 1;
    }
    printf("test loss %.4f, test accuracy %.3f\n", loss, accuracy);
    /* readme:end */

    int status = accuracy >= 0.95 ? 0 : 1;
    if (status) fprintf(stderr, "sequential: accuracy %.3f is below 0.95\n", accuracy);
    nn_history_free(h);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
    tensor_free(x_test);
    tensor_free(y_test);
    return status;
}
