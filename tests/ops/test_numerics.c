/* Numerical faults stop training with a message naming the step and the first
 * parameter or op where they appeared, and never reach the weights or the last good checkpoint. */
#include "helpers.h"

#include "nn/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Batch {
    Tensor *x;
} Batch;

/* loss = mean(log(x kernel)): x kernel goes negative, so log gives NaN. */
static Tensor *log_of_negative(Model *m, Tape *tape, void *batch, void *user) {
    (void)user;
    Tensor *y = nn_layer_call(nn_model_layer(m, 0), tape, ((Batch *)batch)->x, NULL);
    return ag_mean(tape, ag_log(tape, y));
}

/* loss = sum(sqrt(x kernel)) with a zero kernel: finite loss, infinite gradient. */
static Tensor *sqrt_at_zero(Model *m, Tape *tape, void *batch, void *user) {
    (void)user;
    Tensor *y = nn_layer_call(nn_model_layer(m, 0), tape, ((Batch *)batch)->x, NULL);
    return ag_sum(tape, ag_sqrt(tape, y));
}

static Model *one_dense(float kernel_value) {
    Model *m = nn_custom_model();
    Layer *d = nn_dense(.units = 2, .no_bias = true, .name = "probe");
    nn_layer_build(d, NN_SHAPE(TENSOR_F32, 2), NULL);
    for (int i = 0; i < 4; i++) tensor_f32(d->params[0])[i] = kernel_value;
    nn_track(m, d);
    nn_compile(m, .optimizer = nn_sgd(.lr = 0.1f));
    return m;
}

Test(numerics, nan_loss_names_the_op_in_debug_mode) {
    Model *m = one_dense(-1.0f);
    nn_model_check_numerics(m, true);
    float v[] = {1, 2, 3, 4};
    Batch b = {tensor_from_array(NULL, TENSOR_SHAPE(2, 2), v)};
    double loss;
    cr_assert_neq(nn_custom_step(m, log_of_negative, &b, NULL, &loss), 0);
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "NaN") && strstr(e, "step 1") && strstr(e, "op 'log'"), "message: %s", e);
    cr_assert_eq(tensor_f32(nn_model_params(m, NULL)[0])[0], -1.0f, "weights untouched");
    tensor_free(b.x);
    nn_model_free(m);
}

Test(numerics, infinite_gradient_names_the_parameter) {
    Model *m = one_dense(0.0f);
    float v[] = {1, 2, 3, 4};
    Batch b = {tensor_from_array(NULL, TENSOR_SHAPE(2, 2), v)};
    double loss;
    cr_assert_neq(nn_custom_step(m, sqrt_at_zero, &b, NULL, &loss), 0);
    cr_assert(isfinite(loss), "the loss itself was finite");
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "gradient of 'probe/kernel'") && strstr(e, "step 1"), "message: %s", e);
    for (int i = 0; i < 4; i++) cr_assert_eq(tensor_f32(nn_model_params(m, NULL)[0])[i], 0.0f);
    tensor_free(b.x);
    nn_model_free(m);
}

Test(numerics, fit_stops_on_a_nan_loss_and_says_where) {
    /* Targets with a NaN make the MSE NaN at the first step. */
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 1));
    nn_compile(m, .loss = NN_MSE);
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(4, 3)), *y = tensor_zeros(NULL, TENSOR_SHAPE(4, 1));
    tensor_f32(y)[2] = NAN;
    nn_model_check_numerics(m, true);
    cr_assert_null(nn_fit(m, x, y, .batch_size = 4, .quiet = true, .no_shuffle = true));
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "loss is NaN at step 1") && strstr(e, "op 'sub'"), "message: %s", e);
    tensor_free(x);
    tensor_free(y);
    nn_model_free(m);
}

Test(numerics, debug_mode_finds_nothing_on_a_healthy_step) {
    Model *m = one_dense(0.5f);
    nn_model_check_numerics(m, true);
    float v[] = {1, 2, 3, 4};
    Batch b = {tensor_from_array(NULL, TENSOR_SHAPE(2, 2), v)};
    double loss;
    cr_assert_eq(nn_custom_step(m, log_of_negative, &b, NULL, &loss), 0, "%s", tensor_last_error());
    cr_assert_null(ag_tape_nonfinite(nn_model_tape(m)));
    tensor_free(b.x);
    nn_model_free(m);
}

/* Reads a whole file (NULL if missing). */
static char *slurp(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)*len + 1);
    cr_assert_eq(fread(buf, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return buf;
}

typedef struct Snapshot {
    const char *path;
    char *bytes;
    long len;
} Snapshot;

/* Keeps a copy of the checkpoint file as it is after each step. */
static int copy_checkpoint(Model *m, const NnBatchLogs *logs, void *user) {
    (void)m, (void)logs;
    Snapshot *s = user;
    free(s->bytes);
    s->bytes = slurp(s->path, &s->len);
    return 0;
}

Test(numerics, an_infinite_loss_keeps_the_last_good_checkpoint_byte_for_byte) {
    /* MSE on one target of 1e30: its square overflows float, so the loss of the
     * batch holding it (the third, without shuffling) is infinite. */
    Model *m = nn_sequential();
    nn_model_seed(m, 3);
    nn_add(m, nn_dense(.units = 1));
    cr_assert_eq(nn_compile(m, .loss = NN_MSE, .optimizer = nn_sgd(.lr = 0.01f)), 0);
    Tensor *x = tensor_ones(NULL, TENSOR_SHAPE(8, 3)), *y = tensor_zeros(NULL, TENSOR_SHAPE(8, 1));
    tensor_f32(y)[5] = 1e30f;
    char path[] = "/tmp/lamina-numerics-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    Snapshot snap = {.path = path};
    NnCallback cb = {.on_batch_end = copy_checkpoint, .user = &snap};
    cr_assert_null(nn_fit(m, x, y, .batch_size = 2, .epochs = 2, .no_shuffle = true, .quiet = true,
                          .checkpoint_path = path, .checkpoint_every = 1, .callbacks = &cb, .n_callbacks = 1));
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "loss is infinite at step 3"), "message: %s", e);
    cr_assert(strstr(e, path) && strstr(e, "last good checkpoint (step 2)"), "message: %s", e);
    cr_assert_eq(nn_model_steps(m), 2, "the failing step was not taken");
    cr_assert_not_null(snap.bytes, "step 2 wrote a checkpoint");
    long len;
    char *after = slurp(path, &len);
    cr_assert_not_null(after);
    cr_assert_eq(len, snap.len);
    cr_assert_eq(memcmp(after, snap.bytes, (size_t)len), 0, "the checkpoint of step 2 is unchanged");
    /* It still loads: the good weights, all finite. */
    Model *reloaded = nn_sequential();
    nn_add(reloaded, nn_dense(.units = 1));
    cr_assert_eq(nn_build(reloaded, NN_SHAPE(TENSOR_F32, 3)), 0);
    cr_assert_eq(nn_load_weights(reloaded, path), 0, "%s", tensor_last_error());
    int n;
    Tensor *const *p = nn_model_params(reloaded, &n);
    for (int i = 0; i < n; i++)
        for (int64_t k = 0; k < p[i]->size; k++) cr_assert(isfinite(tensor_f32(p[i])[k]));
    unlink(path);
    free(after);
    free(snap.bytes);
    tensor_free(x);
    tensor_free(y);
    nn_model_free(m);
    nn_model_free(reloaded);
}
