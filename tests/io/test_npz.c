/* NumPy .npz weights: a save/load round trip is bit-identical (models and bare named
 * tensors, float32 and int32, 0-d to 3-d); mismatched names, dtypes and shapes are
 * all reported by name and leave the destination unchanged; hostile files (every
 * truncation, every single-byte corruption) are refused with a reason and never
 * half-load or crash. Forged headers and zip records: test_npz_forged.c. */
#include "helpers.h"

#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static Model *small_model(uint64_t seed, int64_t units, const char *lstm_name) {
    Model *m = nn_sequential();
    nn_model_seed(m, seed);
    nn_add(m, nn_embedding(.vocab = 27, .dim = 8));
    nn_add(m, nn_lstm(.units = units, .return_sequences = true, .name = lstm_name));
    nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 12)), 0, "%s", tensor_last_error());
    return m;
}

static unsigned char *read_bytes(const char *path, int64_t *len) {
    char *b = nn_read_file(path, len);
    cr_assert_not_null(b, "%s", tensor_last_error());
    return (unsigned char *)b;
}

/* Copies every parameter value of m into one heap array (to prove nothing changed). */
static float *snapshot(const Model *m, int64_t *n) {
    int count;
    Tensor *const *ps = nn_model_params(m, &count);
    *n = nn_model_param_count(m);
    float *s = malloc((size_t)*n * sizeof *s), *w = s;
    for (int i = 0; i < count; i++) {
        memcpy(w, ps[i]->data, (size_t)ps[i]->size * sizeof *w);
        w += ps[i]->size;
    }
    return s;
}

static void assert_unchanged(const Model *m, const float *before, int64_t n) {
    int64_t n2;
    float *now = snapshot(m, &n2);
    cr_assert_eq(n, n2);
    cr_assert_eq(memcmp(now, before, (size_t)n * sizeof *now), 0, "the model changed after a refused load");
    free(now);
}

Test(npz, model_round_trip_is_bit_identical) {
    char *path = test_temp_path("model.npz");
    Model *a = small_model(1, 16, NULL), *b = small_model(2, 16, NULL);
    cr_assert_eq(nn_save_npz(a, path), 0, "%s", tensor_last_error());
    int64_t na, nb;
    float *pa = snapshot(a, &na), *pb = snapshot(b, &nb);
    cr_assert_neq(memcmp(pa, pb, (size_t)na * 4), 0, "different seeds give different weights");
    cr_assert_eq(nn_load_npz(b, path), 0, "%s", tensor_last_error());
    free(pb);
    pb = snapshot(b, &nb);
    cr_assert_eq(memcmp(pa, pb, (size_t)na * 4), 0);
    /* The archive lists the parameters by their Keras names, in model order. */
    NnNpz *z = nn_npz_open(path);
    cr_assert_not_null(z, "%s", tensor_last_error());
    const char *names[] = {"embedding/embeddings", "lstm/kernel", "lstm/recurrent_kernel", "lstm/bias",
                           "dense/kernel", "dense/bias"};
    cr_assert_eq(nn_npz_count(z), 6);
    for (int i = 0; i < 6; i++) cr_assert_str_eq(nn_npz_name(z, i), names[i]);
    Tensor *k = nn_npz_get(z, "lstm/kernel", NULL);
    cr_assert(k->ndim == 2 && k->shape[0] == 8 && k->shape[1] == 64, "kernel is (D, 4H)");
    cr_assert_null(nn_npz_get(z, "nope", NULL));
    cr_assert(strstr(tensor_last_error(), "'nope'") != NULL, "%s", tensor_last_error());
    cr_assert_eq(nn_npz_find(z, "dense/bias"), 5);
    tensor_free(k);
    nn_npz_close(z);
    /* The same bytes every time: a save is reproducible. */
    char *again = test_temp_path("model2.npz");
    cr_assert_eq(nn_save_npz(a, again), 0);
    int64_t l1, l2;
    unsigned char *f1 = read_bytes(path, &l1), *f2 = read_bytes(again, &l2);
    cr_assert(l1 == l2 && memcmp(f1, f2, (size_t)l1) == 0);
    cr_assert(memcmp(f1, "PK\x03\x04", 4) == 0);
    free(f1);
    free(f2);
    free(pa);
    free(pb);
    nn_model_free(a);
    nn_model_free(b);
    free(path);
    free(again);
}

/* Named heap tensors of several ranks and both dtypes. */
static void make_tensors(Tensor *ts[4], float shift) {
    ts[0] = tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 4));
    for (int i = 0; i < 24; i++) tensor_f32(ts[0])[i] = (float)i * 0.37f - 3 + shift;
    ts[0]->name = "a/cube";
    ts[1] = tensor_i32_zeros(NULL, TENSOR_SHAPE(5));
    for (int i = 0; i < 5; i++) tensor_i32(ts[1])[i] = -7 * i + (int)shift;
    ts[1]->name = "ids";
    ts[2] = tensor_full(NULL, 0, NULL, 2.5f + shift); /* 0-d */
    ts[2]->name = "scalar";
    ts[3] = tensor_zeros(NULL, TENSOR_SHAPE(0, 3)); /* empty */
    ts[3]->name = "empty";
}

static void free_tensors(Tensor *ts[4]) {
    for (int i = 0; i < 4; i++) tensor_free(ts[i]);
}

Test(npz, named_tensors_round_trip_every_rank_and_dtype) {
    char *path = test_temp_path("tensors.npz");
    Tensor *a[4], *b[4];
    make_tensors(a, 0);
    make_tensors(b, 1);
    cr_assert_eq(nn_npz_save_tensors(path, 4, a), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_npz_load_tensors(path, 4, b), 0, "%s", tensor_last_error());
    for (int i = 0; i < 4; i++) cr_assert_eq(memcmp(a[i]->data, b[i]->data, (size_t)a[i]->size * 4), 0, "%d", i);
    /* A subset with allow_extra, or the whole set in any order. */
    NnNpz *z = nn_npz_open(path);
    cr_assert_not_null(z, "%s", tensor_last_error());
    Tensor *sub[2] = {b[2], b[0]};
    cr_assert_eq(nn_npz_read_into(z, 2, sub, true), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_npz_read_into(z, 2, sub, false), -1);
    cr_assert(strstr(tensor_last_error(), "the file has 'ids', which the model does not"), "%s", tensor_last_error());
    Tensor *got = nn_npz_get(z, "scalar", NULL);
    cr_assert(got->ndim == 0 && tensor_f32(got)[0] == 2.5f);
    tensor_free(got);
    nn_npz_close(z);
    free_tensors(a);
    free_tensors(b);
    free(path);
}

Test(npz, mismatches_are_all_named_and_nothing_is_loaded) {
    char *path = test_temp_path("mismatch.npz");
    Model *a = small_model(1, 16, NULL);
    cr_assert_eq(nn_save_npz(a, path), 0, "%s", tensor_last_error());

    /* Different units: three LSTM shapes and the dense kernel differ. */
    Model *b = small_model(2, 8, NULL);
    int64_t n;
    float *before = snapshot(b, &n);
    cr_assert_eq(nn_load_npz(b, path), -1);
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "4 differences"), "%s", e);
    cr_assert(strstr(e, "'lstm/kernel' has shape (8, 64) in the file but (8, 32) in the model"), "%s", e);
    const char *all = nn_npz_mismatches();
    cr_assert(strstr(all, "'lstm/recurrent_kernel' has shape (16, 64) in the file but (8, 32)"), "%s", all);
    cr_assert(strstr(all, "'lstm/bias'") && strstr(all, "'dense/kernel'"), "%s", all);
    assert_unchanged(b, before, n);
    free(before);

    /* A renamed layer: its three tensors are missing, the file's three are extra. */
    Model *c = small_model(2, 16, "enc");
    before = snapshot(c, &n);
    cr_assert_eq(nn_load_npz(c, path), -1);
    e = tensor_last_error();
    cr_assert(strstr(e, "6 differences"), "%s", e);
    cr_assert(strstr(e, "'enc/kernel' is missing from the file"), "%s", e);
    cr_assert(strstr(nn_npz_mismatches(), "the file has 'lstm/bias', which the model does not"), "%s",
              nn_npz_mismatches());
    assert_unchanged(c, before, n);
    free(before);

    /* A dtype difference is named too. */
    Tensor *t = tensor_i32_zeros(NULL, TENSOR_SHAPE(4));
    t->name = "w";
    Tensor *f = tensor_zeros(NULL, TENSOR_SHAPE(4));
    f->name = "w";
    cr_assert_eq(nn_npz_save_tensors(path, 1, &t), 0);
    cr_assert_eq(nn_npz_load_tensors(path, 1, &f), -1);
    cr_assert(strstr(tensor_last_error(), "'w' is int32 in the file but float32 in the model"), "%s",
              tensor_last_error());
    tensor_free(t);
    tensor_free(f);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
    free(path);
}

Test(npz, save_refuses_what_npz_cannot_hold) {
    char *path = test_temp_path("bad-save.npz");
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2)), *b = tensor_zeros(NULL, TENSOR_SHAPE(3));
    a->name = b->name = "same";
    cr_assert_eq(nn_npz_save_tensors(path, 2, (Tensor *[]){a, b}), -1);
    cr_assert(strstr(tensor_last_error(), "two tensors are named 'same'"), "%s", tensor_last_error());
    b->name = NULL;
    cr_assert_eq(nn_npz_save_tensors(path, 2, (Tensor *[]){a, b}), -1);
    cr_assert(strstr(tensor_last_error(), "has no name"), "%s", tensor_last_error());
    cr_assert_eq(access(path, F_OK), -1, "a refused save writes nothing");
    cr_assert_eq(nn_npz_save_tensors("/nonexistent-dir/x.npz", 1, &a), -1);
    cr_assert(strstr(tensor_last_error(), "/nonexistent-dir/x.npz"), "%s", tensor_last_error());
    /* An unbuilt model has nothing to save or load. */
    Model *m = nn_sequential();
    nn_add(m, nn_dense(.units = 2));
    cr_assert_eq(nn_save_npz(m, path), -1);
    cr_assert_eq(nn_load_npz(m, path), -1);
    cr_assert(strstr(tensor_last_error(), "build the model"), "%s", tensor_last_error());
    nn_model_free(m);
    /* Two Bidirectional LSTMs with default inner names get unique names from the model,
     * so they save and load back. */
    Model *bi = nn_sequential();
    nn_add(bi, nn_bidirectional(nn_lstm(.units = 3, .return_sequences = true)));
    nn_add(bi, nn_bidirectional(nn_lstm(.units = 3)));
    cr_assert_eq(nn_build(bi, NN_SHAPE(TENSOR_F32, 5, 2)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_save_npz(bi, path), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_load_npz(bi, path), 0, "%s", tensor_last_error());
    unlink(path);
    nn_model_free(bi);
    tensor_free(a);
    tensor_free(b);
    free(path);
}

Test(npz, missing_empty_and_garbage_files) {
    Tensor *t = tensor_zeros(NULL, TENSOR_SHAPE(2));
    t->name = "t";
    char *path = test_temp_path("garbage.npz");
    cr_assert_null(nn_npz_open("/nonexistent/w.npz"));
    cr_assert(strstr(tensor_last_error(), "/nonexistent/w.npz"), "%s", tensor_last_error());
    test_write_bytes(path, "", 0);
    cr_assert_eq(nn_npz_load_tensors(path, 1, &t), -1);
    cr_assert(strstr(tensor_last_error(), "too short"), "%s", tensor_last_error());
    unsigned char junk[4096];
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(tensor_rng_u32(&rng) & 0xFF);
        /* An end record in the right place, so the directory checks are exercised. */
        if (round % 2) memcpy(junk + sizeof junk - 22, "PK\x05\x06\0\0\0\0\x03\0\x03\0", 12), junk[4094] = junk[4095] = 0;
        test_write_bytes(path, junk, sizeof junk);
        cr_assert_null(nn_npz_open(path));
        cr_assert(strstr(tensor_last_error(), "not a readable .npz"), "%s", tensor_last_error());
    }
    cr_assert_eq(tensor_f32(t)[0], 0.0f);
    tensor_free(t);
    free(path);
}

/* Writes a small two-array archive and returns its bytes. */
static unsigned char *sample_archive(const char *path, int64_t *len) {
    Tensor *ts[4];
    make_tensors(ts, 0);
    cr_assert_eq(nn_npz_save_tensors(path, 2, ts), 0, "%s", tensor_last_error());
    free_tensors(ts);
    return read_bytes(path, len);
}

/* Loads path into fresh tensors; if it succeeds, the values must be the originals. */
static int load_and_verify(const char *path) {
    Tensor *want[4], *got[4];
    make_tensors(want, 0);
    make_tensors(got, 1);
    int rc = nn_npz_load_tensors(path, 2, got);
    for (int i = 0; i < 2; i++)
        if (rc == 0) cr_assert_eq(memcmp(want[i]->data, got[i]->data, (size_t)want[i]->size * 4), 0);
        else cr_assert_neq(memcmp(want[i]->data, got[i]->data, (size_t)want[i]->size * 4), 0, "half-loaded");
    free_tensors(want);
    free_tensors(got);
    return rc;
}

Test(npz, every_truncation_and_every_byte_flip_is_safe) {
    char *path = test_temp_path("orig.npz"), *bad = test_temp_path("bad.npz");
    int64_t len;
    unsigned char *orig = sample_archive(path, &len);
    cr_assert_eq(load_and_verify(path), 0, "%s", tensor_last_error());
    for (int64_t cut = 0; cut < len; cut++) {
        test_write_bytes(bad, orig, (size_t)cut);
        cr_assert_eq(load_and_verify(bad), -1, "a file cut to %lld of %lld bytes loaded", (long long)cut,
                     (long long)len);
    }
    /* A flipped byte is caught (CRC, structure checks) unless it sits in a field that
     * does not affect the values (timestamps, attributes): then the values are right. */
    int refused = 0;
    for (int64_t i = 0; i < len; i++) {
        unsigned char *copy = malloc((size_t)len);
        memcpy(copy, orig, (size_t)len);
        copy[i] ^= 0x5A;
        test_write_bytes(bad, copy, (size_t)len);
        refused += load_and_verify(bad) != 0;
        free(copy);
    }
    cr_assert_gt(refused, len * 3 / 4, "only %d of %lld flips were refused", refused, (long long)len);
    free(orig);
    free(path);
    free(bad);
}

Test(npz, a_long_mismatch_list_ends_with_how_many_more_never_mid_word) {
    char *path = test_temp_path("one.npz");
    Tensor *one = tensor_zeros(NULL, TENSOR_SHAPE(2));
    one->name = "one";
    cr_assert_eq(nn_npz_save_tensors(path, 1, &one), 0, "%s", tensor_last_error());
    /* 400 tensors the file lacks, and the one it has that they do not ask for: far more
     * than nn_npz_mismatches() and the error message hold. */
    enum { N = 400 };
    Tensor *ts[N];
    char names[N][64];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "a_rather_long_tensor_name_number_%03d", i);
        ts[i] = tensor_zeros(NULL, TENSOR_SHAPE(2));
        ts[i]->name = names[i];
    }
    cr_assert_eq(nn_npz_load_tensors(path, N, ts), -1);
    const char *e = tensor_last_error();
    cr_assert(strstr(e, "(401 differences): ") != NULL, "%s", e);
    const char *list = strstr(e, "): ") + 3, *more = strstr(list, "; and ");
    cr_assert_not_null(more, "%s", e);
    int rest = -1, shown = 1;
    cr_assert_eq(sscanf(more, "; and %d more (nn_npz_mismatches() lists all)", &rest), 1, "%s", e);
    cr_assert(strstr(more, "more (nn_npz_mismatches() lists all)") != NULL, "%s", e);
    for (const char *p = list; p < more; p++) shown += strncmp(p, "; ", 2) == 0;
    cr_assert_eq(shown + rest, 401, "%d shown + %d more in: %s", shown, rest, e);
    cr_assert(strncmp(more - 24, "is missing from the file", 24) == 0, "a cut difference in: %s", e);

    /* The full list: whole lines, the last one counting those left out. */
    const char *all = nn_npz_mismatches();
    int lines = 0, omitted = -1;
    for (const char *line = all; *line; lines++) {
        const char *end = strchr(line, '\n');
        cr_assert_not_null(end, "the list ends with a newline: %s", all);
        if (end[1] == '\0') {
            cr_assert_eq(sscanf(line, "and %d more", &omitted), 1, "last line: %.*s", (int)(end - line), line);
        } else {
            cr_assert(strncmp(line, "'a_rather_long_tensor_name_number_", 34) == 0 &&
                          strncmp(end - 24, "is missing from the file", 24) == 0,
                      "a cut line: %.*s", (int)(end - line), line);
        }
        line = end + 1;
    }
    cr_assert_eq(lines - 1 + omitted, 401, "%d lines, %d more", lines, omitted);
    for (int i = 0; i < N; i++) tensor_free(ts[i]);
    tensor_free(one);
    free(path);
}
