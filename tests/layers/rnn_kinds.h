/* What the RNN layer tests share: KINDS, one row per recurrent layer (LSTM, GRU,
 * SimpleRNN) with its constructor, Keras parameter layout and counts, initial values
 * and hand-computed steps; the Criterion parameters that run a test once per row; and
 * helpers to build layers and compare outputs. */
#ifndef TESTS_LAYERS_RNN_KINDS_H
#define TESTS_LAYERS_RNN_KINDS_H

#include "helpers.h"
#include "nn/layers/layers.h"

#include <criterion/parameterized.h>
#include <string.h>

/* Two steps from x = ((0.5, -1), (-0.4, 0.8)) and h0 = (0.3, -0.2) with units = 2, the
 * expected values from the Keras formulas evaluated by hand (in Python) in double
 * precision. Each parameter takes the first param->size floats of its array. */
typedef struct {
    float K[16], U[16], bias[12];
    float c0[2];     /* the initial cell state (LSTM) */
    float want[4];   /* h after each step */
    float want_c[2]; /* the final cell state (LSTM) */
} HandSteps;

typedef struct {
    const char *type, *name; /* Keras class name, default layer name */
    Layer *(*make)(const NnRnnOpts *opts);
    bool has_cell;               /* carries c besides h */
    int gates;                   /* kernel (D, gates * units), recurrent_kernel (units, gates * units) */
    int bias_rows;               /* bias (gates * units), or GRU reset_after's (2, 3 * units) */
    int64_t params_64, params_256; /* Keras' counts for 64 and 256 units on 64-d input */
    void (*check_init)(const Layer *l); /* the kind's initial values (units 64) */
    HandSteps hand;
} Kind;

/* Forget-gate quarter of the bias is 1, the rest 0 (gates i, f, c, o). */
static inline void lstm_forget_bias_is_one(const Layer *l) {
    const float *bias = l->params[2]->data;
    for (int i = 0; i < 256; i++) cr_assert_eq(bias[i], (i >= 64 && i < 128) ? 1.0f : 0.0f, "bias[%d]", i);
}

static inline void bias_is_zero(const Layer *l) {
    for (int64_t i = 0; i < l->params[2]->size; i++) cr_assert_eq(tensor_f32(l->params[2])[i], 0.0f);
}

/* The recurrent kernel is orthogonal: U^T U = I. */
static inline void recurrent_kernel_is_orthogonal(const Layer *l) {
    const float *u = l->params[1]->data;
    for (int i = 0; i < 64; i += 9)
        for (int j = 0; j < 64; j += 7) {
            double dot = 0;
            for (int k = 0; k < 64; k++) dot += (double)u[k * 64 + i] * u[k * 64 + j];
            cr_assert(fabs(dot - (i == j)) < 1e-4, "U^T U [%d][%d] = %g", i, j, dot);
        }
}

static const Kind KINDS[] = {
    /* 4 * (64*64 + 64*64 + 64); 4 * (64*256 + 256*256 + 256). */
    {"LSTM", "lstm", nn_lstm_new, true, 4, 1, 33024, 328704, lstm_forget_bias_is_one,
     {.K = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, 0.2f,        /* (2, 8): gates i, f, c, o */
            -0.3f, -0.1f, 0.25f, -0.4f, 0.15f, 0.05f, -0.35f, 0.45f},
      .U = {0.2f, 0.1f, -0.4f, 0.3f, 0.5f, -0.2f, -0.3f, 0.6f,
            0.2f, -0.1f, -0.25f, 0.35f, -0.15f, 0.4f, 0.1f, -0.05f},
      .bias = {0.05f, -0.1f, 1.0f, 1.0f, 0.2f, -0.05f, 0.1f, 0.05f},
      .c0 = {-0.1f, 0.4f},
      .want = {-0.054291107f, 0.164425853f, 0.052993922f, 0.085478722f},
      .want_c = {0.135052268f, 0.150619010f}}},
    /* reset_after=True: 3 * (64*64 + 64*64 + 2*64); 3 * (64*256 + 256*256 + 2*256). */
    {"GRU", "gru", nn_gru_new, false, 3, 2, 24960, 247296, bias_is_zero,
     {.K = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, 0.2f, -0.3f, -0.1f, 0.25f, -0.4f},
      .U = {0.2f, 0.1f, -0.4f, 0.3f, 0.5f, -0.2f, -0.3f, 0.6f, 0.2f, -0.1f, -0.25f, 0.35f},
      .bias = {0.05f, -0.1f, 0.15f, 0.0f, 0.2f, -0.05f, 0.1f, 0.05f, -0.2f, 0.1f, -0.15f, 0.3f},
      .want = {-0.035834150f, 0.310234043f, 0.143374018f, 0.021433052f}}},
    /* h' = tanh(x K + h U + b): 64*64 + 64*64 + 64; 64*256 + 256*256 + 256. */
    {"SimpleRNN", "simple_rnn", nn_simple_rnn_new, false, 1, 1, 8256, 82176, recurrent_kernel_is_orthogonal,
     {.K = {0.1f, -0.2f, 0.7f, 0.2f},
      .U = {0.2f, 0.1f, -0.3f, 0.6f},
      .bias = {0.05f, -0.1f},
      .want = {-0.446243610f, -0.454216433f, 0.549047124f, -0.175323947f}}},
};
#define N_KINDS (sizeof KINDS / sizeof KINDS[0])

/* The parameters of a test: indices into KINDS, of every kind (EACH_KIND) or of those
 * with or without a cell state (WITH_CELL, NO_CELL). (Criterion copies parameters into
 * the test's process, where the parent's pointers would not be valid.) */
enum { EACH_KIND = -1, NO_CELL = 0, WITH_CELL = 1 };
static inline struct criterion_test_params kinds_where(int cell) {
    static int rows[3][N_KINDS]; /* one list per filter: each stays valid once handed out */
    int *list = rows[cell + 1];
    size_t n = 0;
    for (size_t i = 0; i < N_KINDS; i++)
        if (cell == EACH_KIND || (int)KINDS[i].has_cell == cell) list[n++] = (int)i;
    return cr_make_param_array(int, list, n);
}

static inline const Kind *kind_row(const int *row) {
    cr_log_info("kind %s", KINDS[*row].type);
    return &KINDS[*row];
}

static inline const Kind *kind_of(const char *type) {
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(KINDS[i].type, type) == 0) return &KINDS[i];
    cr_assert_fail("no kind %s", type);
    return NULL;
}

static inline Layer *built(const Kind *k, NnRnnOpts opts, NnShape in, uint64_t seed) {
    Layer *l = k->make(&opts);
    cr_assert_not_null(l, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    cr_assert_eq(nn_layer_build(l, in, &rng), 0, "%s", tensor_last_error());
    return l;
}

/* Gives dst the same weights as src (both built on the same input). */
static inline void copy_weights(Layer *dst, const Layer *src) {
    cr_assert_eq(dst->n_params, src->n_params);
    for (int i = 0; i < src->n_params; i++) {
        cr_assert_eq(dst->params[i]->size, src->params[i]->size);
        memcpy(dst->params[i]->data, src->params[i]->data, (size_t)src->params[i]->size * sizeof(float));
    }
}

/* Makes a bias non-trivial (GRU and SimpleRNN start at zeros) so tests exercise it. */
static inline void randomise_bias(Layer *l, uint64_t seed) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 3);
    tensor_fill_uniform(l->params[2]->data, l->params[2]->size, &rng, -0.3f, 0.3f);
}

static inline double abs_diff(const Tensor *a, const Tensor *b) {
    double diff = 0;
    for (int64_t i = 0; i < a->size; i++) diff += fabs(tensor_f32(a)[i] - tensor_f32(b)[i]);
    return diff;
}

#endif
