/* Weights files: save -> load -> predict is bit-identical; truncated, corrupted,
 * foreign and missing files are refused with a reason and leave the model as it was;
 * a save replaces the previous file atomically. */
#include "helpers.h"

#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static Model *small_model(uint64_t seed, int64_t units) {
    Model *m = nn_sequential();
    nn_model_seed(m, seed);
    nn_add(m, nn_embedding(.vocab = 27, .dim = 8));
    nn_add(m, nn_lstm(.units = units, .return_sequences = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 12)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY), 0);
    return m;
}

static Tensor *some_ids(void) {
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(3, 12));
    for (int i = 0; i < 36; i++) tensor_i32(x)[i] = (i * 7) % 27;
    return x;
}

static char *read_bytes(const char *path, int64_t *len) {
    char *b = nn_read_file(path, len);
    cr_assert_not_null(b, "%s", tensor_last_error());
    return b;
}

Test(weights, save_load_predict_is_bit_identical) {
    char *path = test_temp_path("a.weights");
    Model *a = small_model(1, 16), *b = small_model(2, 16);
    Tensor *x = some_ids();
    Tensor *pa = nn_predict(a, x, 8);
    cr_assert_eq(nn_save_weights(a, path, false), 0, "%s", tensor_last_error());
    Tensor *before = nn_predict(b, x, 8);
    cr_assert_neq(memcmp(pa->data, before->data, (size_t)pa->size * 4), 0, "different seeds differ");
    cr_assert_eq(nn_load_weights(b, path), 0, "%s", tensor_last_error());
    Tensor *pb = nn_predict(b, x, 8);
    cr_assert_eq(memcmp(pa->data, pb->data, (size_t)pa->size * sizeof(float)), 0);
    tensor_free(pa);
    tensor_free(pb);
    tensor_free(before);
    tensor_free(x);
    nn_model_free(a);
    nn_model_free(b);
    free(path);
}

Test(weights, optimizer_state_round_trips) {
    char *path = test_temp_path("opt.weights");
    Model *a = small_model(1, 8), *b = small_model(1, 8);
    Tensor *x = some_ids();
    double loss;
    for (int i = 0; i < 3; i++) cr_assert_eq(nn_train_on_batch(a, x, x, &loss), 0);
    cr_assert_eq(nn_save_weights(a, path, true), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_load_weights(b, path), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_model_steps(b), 3);
    /* One more identical step on both gives identical weights. */
    cr_assert_eq(nn_train_on_batch(a, x, x, &loss), 0);
    cr_assert_eq(nn_train_on_batch(b, x, x, &loss), 0);
    int n;
    Tensor *const *pa = nn_model_params(a, &n);
    Tensor *const *pb = nn_model_params(b, NULL);
    for (int i = 0; i < n; i++)
        cr_assert_eq(memcmp(pa[i]->data, pb[i]->data, (size_t)pa[i]->size * 4), 0, "param %s", pa[i]->name);
    tensor_free(x);
    nn_model_free(a);
    nn_model_free(b);
    free(path);
}

/* Loading must fail with a message containing `expect` and leave the weights unchanged. */
static void assert_refused(Model *m, const char *path, const char *expect) {
    int n;
    Tensor *const *p = nn_model_params(m, &n);
    float probe = tensor_f32(p[1])[0];
    cr_assert_neq(nn_load_weights(m, path), 0);
    cr_assert(strstr(tensor_last_error(), expect) != NULL, "expected '%s' in: %s", expect, tensor_last_error());
    cr_assert_eq(tensor_f32(p[1])[0], probe, "nothing was half-loaded");
}

Test(weights, truncated_files_are_refused) {
    char *path = test_temp_path("t.weights"), *cut = test_temp_path("cut.weights");
    Model *a = small_model(1, 8), *b = small_model(2, 8);
    cr_assert_eq(nn_save_weights(a, path, false), 0);
    int64_t len;
    char *bytes = read_bytes(path, &len);
    int64_t cuts[] = {0, 3, 8, 20, len / 2, len - 5, len - 1};
    for (int i = 0; i < 7; i++) {
        test_write_bytes(cut, bytes, (size_t)cuts[i]);
        assert_refused(b, cut, cuts[i] < 8 ? "magic" : "");
    }
    free(bytes);
    nn_model_free(a);
    nn_model_free(b);
    free(path);
    free(cut);
}

Test(weights, corrupted_bytes_are_caught_by_the_checksum) {
    char *path = test_temp_path("c.weights"), *bad = test_temp_path("bad.weights");
    Model *a = small_model(1, 8), *b = small_model(2, 8);
    cr_assert_eq(nn_save_weights(a, path, false), 0);
    int64_t len;
    char *bytes = read_bytes(path, &len);
    int64_t positions[] = {12, 40, len / 2, len - 10};
    for (int i = 0; i < 4; i++) {
        bytes[positions[i]] ^= 0x10;
        test_write_bytes(bad, bytes, (size_t)len);
        assert_refused(b, bad, "checksum");
        bytes[positions[i]] ^= 0x10;
    }
    free(bytes);
    nn_model_free(a);
    nn_model_free(b);
    free(path);
    free(bad);
}

Test(weights, another_architecture_is_named) {
    char *path = test_temp_path("arch.weights");
    Model *a = small_model(1, 8), *b = small_model(1, 16);
    cr_assert_eq(nn_save_weights(a, path, false), 0);
    assert_refused(b, path, "another architecture");
    cr_assert(strstr(tensor_last_error(), "lstm/kernel") != NULL, "%s", tensor_last_error());
    cr_assert(strstr(tensor_last_error(), "(8, 32)") != NULL, "%s", tensor_last_error());
    nn_model_free(a);
    nn_model_free(b);
    free(path);
}

Test(weights, missing_files_and_directories_are_refused) {
    Model *m = small_model(1, 8);
    assert_refused(m, "/nonexistent/dir/w.weights", "No such file");
    assert_refused(m, "/tmp", "directory");
    char *junk = test_temp_path("junk.weights");
    test_write_bytes(junk, "hello, not weights at all", 25);
    assert_refused(m, junk, "magic");
    nn_model_free(m);
    free(junk);
}

Test(weights, save_replaces_the_previous_file_atomically) {
    char *path = test_temp_path("atomic.weights");
    Model *a = small_model(1, 8);
    cr_assert_eq(nn_save_weights(a, path, false), 0);
    cr_assert_eq(nn_save_weights(a, path, false), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert(st.st_mode & S_IRGRP, "an ordinary readable file, not a 0600 temporary");
    /* A save into a directory that does not exist fails and names the path. */
    cr_assert_neq(nn_save_weights(a, "/nonexistent/dir/w.weights", false), 0);
    cr_assert(strstr(tensor_last_error(), "/nonexistent/dir/w.weights") != NULL);
    /* No temporary files are left beside the target. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s.tmp.* >/dev/null 2>&1", path);
    cr_assert_neq(system(cmd), 0, "no leftover temporary file");
    nn_model_free(a);
    free(path);
}

/* Embedding > LSTM(units) > ten Dense(units): two of them differ in 23 shapes. */
static Model *deep_model(int64_t units) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_lstm(.units = units));
    for (int i = 0; i < 10; i++) nn_add(m, nn_dense(.units = units));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 3)), 0, "%s", tensor_last_error());
    return m;
}

Test(weights, many_differences_end_with_how_many_more_never_mid_word) {
    char *path = test_temp_path("deep.weights");
    Model *a = deep_model(4), *b = deep_model(5);
    cr_assert_eq(nn_save_weights(a, path, false), 0, "%s", tensor_last_error());
    cr_assert_neq(nn_load_weights(b, path), 0);
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "(23 differences): ") != NULL, "%s", e);
    /* Whole differences, then "and N more" counting exactly the rest. */
    const char *list = strstr(e, "): ") + 3, *more = strstr(list, "; and ");
    cr_assert_not_null(more, "%s", e);
    int rest = -1, shown = 1;
    char tail[16] = "";
    cr_assert_eq(sscanf(more, "; and %d %15s", &rest, tail), 2, "%s", e);
    cr_assert_str_eq(tail, "more", "%s", e);
    for (const char *p = list; p < more; p++) shown += strncmp(p, "; ", 2) == 0;
    cr_assert_eq(shown + rest, 23, "%d shown + %d more in: %s", shown, rest, e);
    for (const char *p = list; p < more; p = strstr(p, "; ") + 2) {
        const char *end = strstr(p, "; ");
        cr_assert(end - p > 14 && strncmp(end - 12, "in the model", 12) == 0, "a cut difference in: %s", e);
    }
    nn_model_free(a);
    nn_model_free(b);
    free(path);
}
