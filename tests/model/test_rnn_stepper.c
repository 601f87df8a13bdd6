/* The RNN stepper: stepping one token at a time with carried state gives what
 * nn_predict gives on the whole sequence, for several rows at once and after rows are
 * reordered (repeated, dropped); it refuses models it cannot step, and bad calls fail
 * with a reason. */
#include "helpers.h"

#include "nn/model/beam.h"
#include "nn/nn.h"

#include <math.h>

/* Embedding(7, 4) -> LSTM(5, sequences) -> GRU(6, sequences) -> TimeDistributed(Dense(7, softmax)). */
static Model *stacked(void) {
    Model *m = nn_sequential();
    nn_model_seed(m, 5);
    nn_add(m, nn_embedding(.vocab = 7, .dim = 4));
    nn_add(m, nn_lstm(.units = 5, .return_sequences = true));
    nn_add(m, nn_gru(.units = 6, .return_sequences = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = 7, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, -1)), 0, "%s", tensor_last_error());
    return m;
}

/* log of nn_predict's distribution after the whole of seq (len tokens). */
static void reference(Model *m, const int32_t *seq, int64_t len, float *out) {
    Tensor *x = tensor_i32_from_array(NULL, 2, (int64_t[]){1, len}, seq);
    Tensor *p = nn_predict(m, x, 1);
    cr_assert_not_null(p, "%s", tensor_last_error());
    for (int v = 0; v < 7; v++) out[v] = logf(tensor_f32(p)[p->size - 7 + v]);
    tensor_free(x);
    tensor_free(p);
}

Test(rnn_stepper, carried_state_equals_the_whole_sequence) {
    Model *m = stacked();
    NnRnnStepper *s = nn_rnn_stepper_new(m);
    cr_assert_not_null(s, "%s", tensor_last_error());
    cr_assert_eq(nn_rnn_stepper_vocab(s), 7);
    /* Two rows primed with 3 tokens each, then one token at a time. */
    int32_t seq[2][16] = {{1, 2, 3}, {6, 0, 5}};
    float got[2 * 7], want[7];
    cr_assert_eq(nn_rnn_stepper_step(s, (const int32_t[]){1, 2, 3, 6, 0, 5}, 2, 3, got), 0, "%s", tensor_last_error());
    int64_t len = 3;
    for (int k = 0; k < 6; k++) {
        for (int b = 0; b < 2; b++) {
            reference(m, seq[b], len, want);
            ASSERT_CLOSE_ARRAY(got + b * 7, want, 7, 1e-5, 1e-5);
        }
        int32_t next[2] = {(int32_t)(k % 7), (int32_t)((3 * k + 1) % 7)};
        seq[0][len] = next[0], seq[1][len] = next[1], len++;
        cr_assert_eq(nn_rnn_stepper_step(s, next, 2, 1, got), 0, "%s", tensor_last_error());
    }
    /* Reorder: three rows, the second twice, the first dropped. */
    cr_assert_eq(nn_rnn_stepper_reorder(s, (const int64_t[]){1, 1, 0}, 3), 0, "%s", tensor_last_error());
    int32_t rows[3][16];
    memcpy(rows[0], seq[1], sizeof rows[0]);
    memcpy(rows[1], seq[1], sizeof rows[1]);
    memcpy(rows[2], seq[0], sizeof rows[2]);
    const int32_t next[3] = {4, 2, 0};
    float got3[3 * 7];
    cr_assert_eq(nn_rnn_stepper_step(s, next, 3, 1, got3), 0, "%s", tensor_last_error());
    for (int b = 0; b < 3; b++) {
        rows[b][len] = next[b];
        reference(m, rows[b], len + 1, want);
        ASSERT_CLOSE_ARRAY(got3 + b * 7, want, 7, 1e-5, 1e-5);
    }
    /* Reset: a fresh start with any number of rows. */
    nn_rnn_stepper_reset(s);
    cr_assert_eq(nn_rnn_stepper_step(s, (const int32_t[]){1, 2, 3}, 1, 3, got), 0);
    reference(m, (const int32_t[]){1, 2, 3}, 3, want);
    ASSERT_CLOSE_ARRAY(got, want, 7, 1e-5, 1e-5);
    nn_rnn_stepper_free(s);
    nn_model_free(m);
}

Test(rnn_stepper, bad_calls_fail_with_a_reason) {
    Model *m = stacked();
    NnRnnStepper *s = nn_rnn_stepper_new(m);
    float out[3 * 7];
    cr_assert_eq(nn_rnn_stepper_step(s, (const int32_t[]){7}, 1, 1, out), -1);
    cr_assert(strstr(tensor_last_error(), "token 7 (entry 0) is outside the Embedding's vocabulary [0, 7)"), "%s",
              tensor_last_error());
    cr_assert_eq(nn_rnn_stepper_step(s, (const int32_t[]){1, 2}, 2, 1, out), 0);
    cr_assert_eq(nn_rnn_stepper_step(s, (const int32_t[]){1, 2, 3}, 3, 1, out), -1);
    cr_assert(strstr(tensor_last_error(), "3 rows given, but the state carries 2"), "%s", tensor_last_error());
    cr_assert_eq(nn_rnn_stepper_reorder(s, (const int64_t[]){0, 2}, 2), -1);
    cr_assert(strstr(tensor_last_error(), "parent[1] = 2 is outside the 2 rows carried"), "%s", tensor_last_error());
    nn_rnn_stepper_free(s);
    nn_model_free(m);
}

/* A model of the given layers built for input, or the stepper's refusal of it. */
static void assert_refused(Model *m, NnShape input, const char *why) {
    cr_assert_eq(nn_build(m, input), 0, "%s", tensor_last_error());
    cr_assert_null(nn_rnn_stepper_new(m));
    cr_assert(strstr(tensor_last_error(), why), "expected \"%s\" in: %s", why, tensor_last_error());
    nn_model_free(m);
}

Test(rnn_stepper, refuses_models_it_cannot_step) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_bidirectional(nn_lstm(.units = 4)));
    nn_add(m, nn_dense(.units = 5, .activation = NN_SOFTMAX));
    assert_refused(m, NN_SHAPE(TENSOR_I32, -1), "(Bidirectional): only Embedding, LSTM, GRU");

    m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_lstm(.units = 4));
    nn_add(m, nn_dense(.units = 5, .activation = NN_SOFTMAX));
    assert_refused(m, NN_SHAPE(TENSOR_I32, 10), "built for a fixed length");

    m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_lstm(.units = 4, .stateful = true));
    nn_add(m, nn_dense(.units = 5, .activation = NN_SOFTMAX));
    assert_refused(m, NN_SHAPE(TENSOR_I32, -1), "a stateful RNN carries its own state");

    m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_gru(.units = 4, .go_backwards = true));
    nn_add(m, nn_dense(.units = 5, .activation = NN_SOFTMAX));
    assert_refused(m, NN_SHAPE(TENSOR_I32, -1), "go_backwards");

    m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_dense(.units = 5, .activation = NN_SOFTMAX));
    assert_refused(m, NN_SHAPE(TENSOR_I32, -1), "no RNN layer");

    m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_lstm(.units = 4));
    nn_add(m, nn_dense(.units = 1, .activation = NN_SIGMOID));
    assert_refused(m, NN_SHAPE(TENSOR_I32, -1), "must end in softmax or be linear");

    m = nn_sequential();
    nn_add(m, nn_lstm(.units = 4));
    nn_add(m, nn_dense(.units = 5, .activation = NN_SOFTMAX));
    assert_refused(m, NN_SHAPE(TENSOR_F32, -1, 3), "the first layer must be an Embedding");

    m = nn_sequential();
    cr_assert_null(nn_rnn_stepper_new(m));
    cr_assert(strstr(tensor_last_error(), "must be built"), "%s", tensor_last_error());
    nn_model_free(m);
}
