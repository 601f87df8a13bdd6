/* Regression tests for the defects the libFuzzer harnesses (tests/fuzz) found in the
 * readers of hostile files: each rebuilds the failing input from a file the library
 * wrote (checksums repaired, as a careful attacker or an unlucky disk would) and
 * checks it is refused with a message instead of crashing or allocating without
 * bound. */
#include "helpers.h"

#include "nn/io/bytes_internal.h"

#include "nn/nn.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static char *temp_path(void) {
    char *path = strdup("/tmp/lamina-fuzzreg-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    return path;
}

static unsigned char *slurp(const char *path, size_t *len) {
    int64_t n;
    char *s = nn_read_file(path, &n);
    cr_assert_not_null(s, "%s", tensor_last_error());
    *len = (size_t)n;
    return (unsigned char *)s;
}

/* A weights file's trailing CRC-32, recomputed after a patch. */
static void fix_crc(unsigned char *f, size_t n) {
    uint32_t crc = nn__crc32(0, f, n - 4);
    memcpy(f + n - 4, &crc, 4);
}

/* The fuzz harness's model: Embedding(5, 3), LSTM(4), Dense(5, softmax), Adam. */
static Model *fixed_model(void) {
    Model *m = nn_sequential();
    nn_model_seed(m, 7);
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_lstm(.units = 4));
    nn_add(m, nn_dense(.units = 5, .activation = NN_SOFTMAX));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 3)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .accuracy = true), 0);
    return m;
}

static void fixed_data(Tensor **x, Tensor **y) {
    *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(4, 3));
    *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(4));
    for (int i = 0; i < 12; i++) tensor_i32(*x)[i] = (i * 3) % 5;
    for (int i = 0; i < 4; i++) tensor_i32(*y)[i] = i % 5;
}

static bool params_equal(Model *a, const float *snapshot) {
    int n;
    Tensor *const *p = nn_model_params(a, &n);
    for (int i = 0, at = 0; i < n; at += (int)p[i]->size, i++)
        if (memcmp(p[i]->data, snapshot + at, (size_t)p[i]->size * sizeof(float)) != 0) return false;
    return true;
}

static float *snapshot(Model *m) {
    int n;
    Tensor *const *p = nn_model_params(m, &n);
    float *s = malloc((size_t)nn_model_param_count(m) * sizeof(float));
    for (int i = 0, at = 0; i < n; at += (int)p[i]->size, i++)
        memcpy(s + at, p[i]->data, (size_t)p[i]->size * sizeof(float));
    return s;
}

/* ---- weights: a hostile tensor count ---- */

/* Found by fuzz_weights: the loader allocated one offset per tensor the *file*
 * claimed (up to 2^32 - 1, 32 GiB) before reading any of them, so a 1 KB file with a
 * repaired checksum aborted the process in tensor_xcalloc. */
Test(fuzz_regressions, weights_huge_tensor_count_is_refused_without_allocating) {
    Model *m = fixed_model();
    char *path = temp_path();
    cr_assert_eq(nn_save_weights(m, path, false), 0, "%s", tensor_last_error());
    size_t n;
    unsigned char *f = slurp(path, &n);
    uint32_t count = 0xFFFFFFB8u; /* the fuzzer's value */
    memcpy(f + 16, &count, 4);   /* after magic (8), version (4), flags (4) */
    fix_crc(f, n);
    test_write_bytes(path, f, n);
    float *before = snapshot(m);
    cr_assert_eq(nn_load_weights(m, path), -1);
    cr_assert(strstr(tensor_last_error(), "4294967224 tensors") != NULL, "%s", tensor_last_error());
    cr_assert(params_equal(m, before));
    free(before);
    free(f);
    unlink(path);
    free(path);
    nn_model_free(m);
}

/* ---- checkpoints: training state fit would index with ---- */

/* A checkpoint written mid-epoch (step 1 of 2) by a real fit, and where its training
 * state starts: 96 bytes (no finished epoch, so no history), then version 2's learning
 * rate (8) and callback-state count (4, no callbacks), then the CRC. */
static unsigned char *mid_epoch_checkpoint(const char *path, size_t *n, size_t *state) {
    Model *m = fixed_model();
    Tensor *x, *y;
    fixed_data(&x, &y);
    NnHistory *h = nn_fit(m, x, y, .batch_size = 2, .epochs = 2, .seed = 3, .quiet = true, .max_steps = 1,
                          .checkpoint_path = path);
    cr_assert_not_null(h, "%s", tensor_last_error());
    nn_history_free(h);
    tensor_free(x);
    tensor_free(y);
    nn_model_free(m);
    unsigned char *f = slurp(path, n);
    *state = *n - 4 - 12 - 96;
    int32_t epoch;
    int64_t step, n_train, batch;
    memcpy(&epoch, f + *state, 4);
    memcpy(&step, f + *state + 4, 8);
    memcpy(&n_train, f + *state + 12, 8);
    memcpy(&batch, f + *state + 20, 8);
    cr_assert(epoch == 1 && step == 1 && n_train == 4 && batch == 2, "layout changed: %d %lld %lld %lld", epoch,
              (long long)step, (long long)n_train, (long long)batch);
    return f;
}

static NnHistory *resume_from(const char *path, Model **m) {
    *m = fixed_model();
    Tensor *x, *y;
    fixed_data(&x, &y);
    NnHistory *h = nn_fit(*m, x, y, .batch_size = 2, .epochs = 2, .seed = 3, .quiet = true, .resume_path = path);
    tensor_free(x);
    tensor_free(y);
    return h;
}

/* Found by fuzz_weights (resume mode): a checkpoint whose step_in_epoch was negative
 * passed the loader, and fit then gathered its batch from before the start of the
 * sample order (ASan: SEGV in gather_batch). Every field fit uses as an index or a
 * count is now checked against what fit could have written. */
Test(fuzz_regressions, checkpoint_with_impossible_training_state_is_refused) {
    struct {
        size_t offset; /* within the training state */
        int size;
        int64_t value;
        const char *what;
    } cases[] = {
        {4, 8, -216172782113783807LL, "the fuzzer's step"}, /* crash-4e6791cd...: UBSan in fit.c:327 */
        {4, 8, -1000, "negative step"},  {4, 8, 3, "step past the epoch"},
        {0, 4, 0, "epoch 0"},            {0, 4, -5, "epoch above INT_MAX"},
        {12, 8, 0, "no samples"},        {20, 8, 0, "batch 0"},
        {20, 8, -2, "negative batch"},   {68, 8, -1, "negative seen"},
        {76, 8, -1, "negative correct"}, {84, 8, -1, "negative predictions"},
        {68, 8, 5, "more samples seen than the data has"},
        {76, 8, 1000000000, "more correct than predictions"},
        {84, 8, INT64_MAX, "predictions that would overflow"},
        {92, 4, 2, "more finished epochs than the epoch"},
    };
    char *path = temp_path();
    size_t n, state;
    unsigned char *good = mid_epoch_checkpoint(path, &n, &state);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        unsigned char *f = malloc(n);
        memcpy(f, good, n);
        if (cases[k].size == 8) memcpy(f + state + cases[k].offset, &cases[k].value, 8);
        else {
            int32_t v = (int32_t)cases[k].value;
            memcpy(f + state + cases[k].offset, &v, 4);
        }
        if (cases[k].offset == 92) { /* history entries must then exist: append them */
            f = realloc(f, n + 2 * 32);
            memmove(f + n - 4 + 64, f + n - 4, 4);
            memset(f + n - 4, 0, 64);
            fix_crc(f, n + 64);
            test_write_bytes(path, f, n + 64);
        } else {
            fix_crc(f, n);
            test_write_bytes(path, f, n);
        }
        Model *m;
        NnHistory *h = resume_from(path, &m);
        cr_expect_null(h, "%s: resumed", cases[k].what);
        cr_expect(strstr(tensor_last_error(), "training state is invalid") != NULL, "%s: %s", cases[k].what,
                  tensor_last_error());
        nn_history_free(h);
        nn_model_free(m);
        free(f);
    }
    /* The untouched checkpoint still resumes. */
    test_write_bytes(path, good, n);
    Model *m;
    NnHistory *h = resume_from(path, &m);
    cr_assert_not_null(h, "%s", tensor_last_error());
    nn_history_free(h);
    nn_model_free(m);
    free(good);
    unlink(path);
    free(path);
}

/* Negative optimizer iteration or step counts (Adam's bias correction would turn
 * them into NaN weights on the next step) are refused like any other damage, and so
 * are counts of INT64_MAX, which the next step overflowed (UBSan: signed overflow in
 * optim.c and model.c when a resumed fit went on). */
Test(fuzz_regressions, checkpoint_with_impossible_optimizer_counts_is_refused) {
    char *path = temp_path();
    size_t n, state;
    unsigned char *good = mid_epoch_checkpoint(path, &n, &state);
    /* The optimizer block: name, iterations (i64), model steps (i64), ...; its name
     * is the only "\4\0\0\0Adam" in the file. */
    unsigned char *at = NULL;
    for (size_t i = 0; i + 8 <= n && !at; i++)
        if (memcmp(good + i, "\4\0\0\0Adam", 8) == 0) at = good + i;
    cr_assert_not_null(at, "no Adam state in the checkpoint");
    for (int k = 0; k < 4; k++) {
        int field = k % 2;
        unsigned char *f = malloc(n);
        memcpy(f, good, n);
        int64_t v = k < 2 ? -7 : INT64_MAX;
        memcpy(f + (at - good) + 8 + 8 * field, &v, 8);
        fix_crc(f, n);
        test_write_bytes(path, f, n);
        Model *m = fixed_model();
        float *before = snapshot(m);
        cr_expect_eq(nn_load_weights(m, path), -1, "field %d = %lld accepted", field, (long long)v);
        cr_expect(strstr(tensor_last_error(), "optimizer state") != NULL, "%s", tensor_last_error());
        cr_expect(params_equal(m, before));
        free(before);
        nn_model_free(m);
        free(f);
    }
    free(good);
    unlink(path);
    free(path);
}

/* ---- NUL bytes in text inputs (found while writing the harnesses' properties) ---- */

static char *write_temp(const void *p, size_t n) {
    char *path = temp_path();
    test_write_bytes(path, p, n);
    return path;
}

/* "a\0junk" used to be read as the word "a" (words are C strings), so the real "a"
 * on the next line became a duplicate and was dropped: "a" silently got junk's vector. */
Test(fuzz_regressions, vector_file_word_with_nul_is_refused) {
    static const char text[] = "2 1\na\0junk 5\na 1\n";
    char *path = write_temp(text, sizeof text - 1);
    NnWordVectors *wv = nn_vectors_read(path, NN_VECTORS_TEXT);
    cr_expect_null(wv);
    cr_expect(strstr(tensor_last_error(), "line 2: a NUL byte") != NULL, "%s", tensor_last_error());
    nn_word_vectors_free(wv);
    /* Binary: the word before the space holds the NUL. */
    static const char bin[] = "1 1\na\0b \0\0\x80\x3f\n";
    test_write_bytes(path, bin, sizeof bin - 1);
    wv = nn_vectors_read(path, NN_VECTORS_BINARY);
    cr_expect_null(wv);
    cr_expect(strstr(tensor_last_error(), "NUL") != NULL, "%s", tensor_last_error());
    nn_word_vectors_free(wv);
    unlink(path);
    free(path);
}

/* strtof stopped at a NUL inside "1\0x" and the value was taken as 1. */
Test(fuzz_regressions, vector_file_number_with_nul_is_refused) {
    static const char text[] = "1 2\nword 1\0x 2\n";
    char *path = write_temp(text, sizeof text - 1);
    NnWordVectors *wv = nn_vectors_read(path, NN_VECTORS_TEXT);
    cr_expect_null(wv);
    cr_expect(strstr(tensor_last_error(), "line 2") != NULL, "%s", tensor_last_error());
    nn_word_vectors_free(wv);
    unlink(path);
    free(path);
}

/* A NUL byte used to end an analogy line early ("a b c d\0e" was a question) or cut
 * a similarity score short ("8\0junk" read as 8): such lines are malformed now. */
Test(fuzz_regressions, eval_set_lines_with_nul_are_malformed) {
    static const char analogy[] = ": s\na b c d\0e\nw x y z\n";
    char *path = write_temp(analogy, sizeof analogy - 1);
    NnAnalogySet *an = nn_analogy_read(path);
    cr_assert_not_null(an, "%s", tensor_last_error());
    cr_expect_eq(an->n_questions, 1);
    cr_expect_eq(an->malformed, 1);
    cr_expect_str_eq(an->questions[0].w[0], "w");
    nn_analogy_set_free(an);
    static const char sim[] = "# comment\0 with a NUL\nking\tqueen\t8\0junk\nman\twoman\t7\n";
    test_write_bytes(path, sim, sizeof sim - 1);
    NnSimilaritySet *set = nn_similarity_read(path);
    cr_assert_not_null(set, "%s", tensor_last_error());
    cr_expect_eq(set->n_pairs, 1);
    cr_expect_eq(set->malformed, 1);
    cr_expect_str_eq(set->pairs[0].w1, "man");
    nn_similarity_set_free(set);
    unlink(path);
    free(path);
}

/* ---- what fuzzing cannot feed: paths that are not readable files ---- */

/* Every reader the harnesses cover refuses a directory, a missing file and (when not
 * running as root) an unreadable one with a message naming the path, and an empty
 * file with a message (the evaluation sets too: a set without a line is an error). */
Test(fuzz_regressions, every_reader_refuses_what_is_not_a_readable_file) {
    char dir[] = "/tmp/lamina-fuzzreg-dir-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char missing[64], unreadable[64], empty[64];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    snprintf(unreadable, sizeof unreadable, "%s/unreadable", dir);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    test_write_bytes(unreadable, "x", 1);
    chmod(unreadable, 0);
    test_write_bytes(empty, "", 0);
    const char *bad[] = {dir, missing, unreadable, empty};
    int n_bad = geteuid() == 0 ? 2 : 3; /* root reads anything */
    Model *m = fixed_model();
    for (int i = 0; i < 4; i++) {
        if (i == 2 && i >= n_bad) continue;
        const char *p = bad[i];
        bool is_empty = i == 3;
        int64_t len;
        char *text = nn_read_file(p, &len);
        if (is_empty) {
            cr_expect(text && len == 0, "%s: %s", p, tensor_last_error());
        } else {
            cr_expect_null(text, "%s was read", p);
            cr_expect(strstr(tensor_last_error(), p) != NULL, "%s", tensor_last_error());
        }
        free(text);
        cr_expect_eq(nn_load_weights(m, p), -1, "%s", p);
        cr_expect(strstr(tensor_last_error(), p) != NULL, "weights: %s", tensor_last_error());
        cr_expect_eq(nn_load_npz(m, p), -1, "%s", p);
        cr_expect(strstr(tensor_last_error(), p) != NULL, "npz: %s", tensor_last_error());
        NnWordVectors *wv = nn_vectors_read(p, NN_VECTORS_AUTO);
        cr_expect_null(wv, "%s", p);
        cr_expect(strstr(tensor_last_error(), p) != NULL, "vectors: %s", tensor_last_error());
        NnAnalogySet *an = nn_analogy_read(p);
        NnSimilaritySet *sim = nn_similarity_read(p);
        if (is_empty) { /* no usable line: an error naming the file, as for a missing one */
            cr_expect(!an && !sim, "%s", p);
            cr_expect(strstr(tensor_last_error(), "no word pair") != NULL, "similarity: %s", tensor_last_error());
        } else {
            cr_expect(!an && !sim, "%s", p);
            cr_expect(strstr(tensor_last_error(), p) != NULL, "similarity: %s", tensor_last_error());
        }
        nn_analogy_set_free(an);
        nn_similarity_set_free(sim);
    }
    nn_model_free(m);
    unlink(unreadable);
    unlink(empty);
    rmdir(dir);
}
