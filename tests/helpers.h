/* Shared helpers for the Criterion tests: random tensors and sequences, time slices of
 * a sequence, and a gradient-check assertion that prints the first failing element. */
#ifndef TESTS_HELPERS_H
#define TESTS_HELPERS_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/autograd.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/nn.h"

/* A heap float32 tensor with values uniform in [lo, hi), requiring a gradient. */
static inline Tensor *test_random(Rng *rng, float lo, float hi, int ndim, const int64_t *shape) {
    Tensor *t = tensor_zeros(NULL, ndim, shape);
    tensor_fill_uniform(t->data, t->size, rng, lo, hi);
    t->requires_grad = true;
    return t;
}

/* A (B, T, D) sequence uniform in [-1, 1) from stream 1 of seed, requiring a gradient. */
static inline Tensor *test_random_sequence(uint64_t seed, int64_t B, int64_t T, int64_t D) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 1);
    return test_random(&rng, -1.0f, 1.0f, 3, (int64_t[]){B, T, D});
}

/* x[:, t0:t1, :] of a (B, T, D) x, as a heap tensor. */
static inline Tensor *test_time_slice(const Tensor *x, int64_t t0, int64_t t1) {
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    Tensor *y = tensor_zeros(NULL, 3, (int64_t[]){B, t1 - t0, D});
    for (int64_t b = 0; b < B; b++)
        memcpy(tensor_f32(y) + b * (t1 - t0) * D, tensor_f32(x) + (b * T + t0) * D,
               (size_t)((t1 - t0) * D) * sizeof(float));
    return y;
}

/* A (B, T, D) x with its time axis reversed, as a heap tensor. */
static inline Tensor *test_time_reversed(const Tensor *x) {
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    Tensor *y = tensor_zeros(NULL, 3, x->shape);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            memcpy(tensor_f32(y) + (b * T + t) * D, tensor_f32(x) + (b * T + T - 1 - t) * D,
                   (size_t)D * sizeof(float));
    return y;
}

/* A malloc'd path "DIR/name" in a scratch directory made once per test process under
 * /tmp (the caller frees it). */
static inline char *test_temp_path(const char *name) {
    static char dir[64];
    if (!dir[0]) {
        strcpy(dir, "/tmp/lamina-test-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
    }
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Writes len bytes to path, replacing it. */
static inline void test_write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* A finished table of n words of dim floats each (v: n * dim values, row-major). */
static inline NnWordVectors *test_word_vectors(int n, int dim, const char *const *words, const float *v) {
    NnWordVectors *wv = nn_word_vectors_new(n, dim);
    cr_assert_not_null(wv);
    for (int i = 0; i < n; i++) wv->words[i] = strdup(words[i]);
    memcpy(wv->vectors, v, (size_t)(n * dim) * sizeof *v);
    cr_assert_eq(nn_word_vectors_finish(wv), 0, "%s", tensor_last_error());
    return wv;
}

/* What nn_summary prints for m, as a malloc'd string. */
static inline char *test_summary_text(const Model *m) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    nn_summary(m, out);
    fclose(out);
    return buf;
}

/* The whole file at path as a malloc'd NUL-terminated string (the caller frees it). */
static inline char *test_read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    cr_assert_eq(fseek(f, 0, SEEK_SET), 0);
    char *s = malloc((size_t)n + 1);
    cr_assert_not_null(s);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* A malloc'd copy of n floats (the caller frees it). */
static inline float *test_copy(const float *src, int64_t n) {
    float *dst = malloc((size_t)(n ? n : 1) * sizeof(float));
    cr_assert_not_null(dst);
    if (n) memcpy(dst, src, (size_t)n * sizeof(float));
    return dst;
}

/* ag_backward_with on each of n outputs in turn, with upstream gradients uniform in
 * [-1, 1) from a generator seeded with seed: every output's gradient path is used. */
static inline void test_backward_random(Tape *tape, Tensor *const *outs, int n, uint64_t seed) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    for (int k = 0; k < n; k++) {
        float *up = malloc((size_t)outs[k]->size * sizeof(float));
        tensor_fill_uniform(up, outs[k]->size, &rng, -1, 1);
        ag_backward_with(tape, outs[k], up);
        free(up);
    }
}

/* Runs ag_gradcheck and fails the test with the checker's message if it does not pass. */
#define ASSERT_GRADCHECK(fn, n, inputs, ctx, ...)                                              \
    do {                                                                                       \
        AgGradcheckResult gc_ = ag_gradcheck(fn, n, inputs, ctx, (AgGradcheckOpts){__VA_ARGS__}); \
        cr_assert(gc_.ok, "gradient check failed: %s", gc_.message);                           \
        cr_assert(gc_.checked > 0, "gradient check compared no elements");                     \
    } while (0)

/* Asserts two float arrays agree within atol + rtol * |expected|. The arguments are
 * evaluated once per element: pass plain pointers, not calls with side effects. */
#define ASSERT_CLOSE_ARRAY(actual, expected, count, rtol, atol)                                   \
    do {                                                                                          \
        for (int64_t i_ = 0; i_ < (int64_t)(count); i_++) {                                        \
            double a_ = (actual)[i_], e_ = (expected)[i_];                                        \
            cr_assert(fabs(a_ - e_) <= (atol) + (rtol) * fabs(e_),                                \
                      "element %lld: got %.8g, expected %.8g", (long long)i_, a_, e_);             \
        }                                                                                         \
    } while (0)

#endif
