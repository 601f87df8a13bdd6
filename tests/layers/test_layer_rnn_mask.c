/* The RNN layers under a mask, each kind (the LSTM fused and composed): the last-state
 * output and the final states equal those of each row's unpadded sequence run alone
 * (post and pre padding, lengths 1 and T among them); with return_sequences padded
 * steps output the previous output (zeros before the first real one, also from a given
 * initial state) or, with zero_output_for_mask, zeros; x at padded steps gets no
 * gradient; a mask of ones changes nothing; and Bidirectional of each kind matches each
 * row run alone (post and pre padding), its backward half starting at the row's last
 * real step. */
#include "rnn_kinds.h"

#include <signal.h>

#define B 5
#define T 7
#define D 3
#define H 4

/* Rows of lengths 1, T and in between; x random everywhere, padding included. */
static const int64_t LENS[B] = {1, T, 3, 5, 2};

static Tensor *padded_mask(bool post) {
    Tensor *m = tensor_zeros(NULL, TENSOR_SHAPE(B, T));
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < LENS[b]; t++) tensor_f32(m)[b * T + (post ? t : T - 1 - t)] = 1.0f;
    return m;
}

/* Row b's real steps as a (1, len, D) batch. */
static Tensor *row_alone(const Tensor *x, int64_t b, bool post) {
    Tensor *r = tensor_zeros(NULL, TENSOR_SHAPE(1, LENS[b], D));
    const int64_t t0 = post ? 0 : T - LENS[b];
    memcpy(r->data, tensor_f32(x) + (b * T + t0) * D, (size_t)(LENS[b] * D) * sizeof(float));
    return r;
}

static Layer *make(const Kind *k, NnRnnOpts o, bool unfused) {
    o.units = H;
    o.unfused = unfused;
    Layer *l = built(k, o, NN_SHAPE(TENSOR_F32, -1, D), 11);
    randomise_bias(l, 5);
    return l;
}

/* Last-state output and final states against each row run alone. */
static void check_last_state(const Kind *k, bool unfused) {
    for (int post = 0; post < 2; post++) {
        Tensor *x = test_random_sequence(21 + post, B, T, D), *mask = padded_mask(post);
        Layer *l = make(k, (NnRnnOpts){0}, unfused);
        Tape *tape = ag_tape_new();
        NnRnnState fin;
        Tensor *y = nn_rnn_call(l, tape, x, NULL, &fin, &(NnCallCtx){.mask = mask});
        cr_assert(y->ndim == 2 && y->shape[0] == B && y->shape[1] == H);
        for (int64_t b = 0; b < B; b++) {
            Tensor *xb = row_alone(x, b, post);
            NnRnnState alone;
            Tensor *yb = nn_rnn_call(l, tape, xb, NULL, &alone, NULL);
            ASSERT_CLOSE_ARRAY(tensor_f32(y) + b * H, tensor_f32(yb), H, 1e-5, 1e-6);
            ASSERT_CLOSE_ARRAY(tensor_f32(fin.h) + b * H, tensor_f32(alone.h), H, 1e-5, 1e-6);
            if (k->has_cell) ASSERT_CLOSE_ARRAY(tensor_f32(fin.c) + b * H, tensor_f32(alone.c), H, 1e-5, 1e-6);
            tensor_free(xb);
        }
        ag_tape_free(tape);
        nn_layer_free(l);
        tensor_free(x), tensor_free(mask);
    }
}

ParameterizedTestParameters(rnn_mask, last_state_is_last_real_step) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, rnn_mask, last_state_is_last_real_step) {
    const Kind *k = kind_row(row);
    check_last_state(k, false);
    if (k->has_cell) check_last_state(k, true);
}

/* return_sequences from a given h0, pre padding: the carry rule outputs zeros on the
 * leading padding (not h0), then each real step's state, carried over later padding;
 * the zero rule outputs zeros at every padded step; x at padded steps gets no gradient. */
ParameterizedTestParameters(rnn_mask, sequence_outputs_follow_keras) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, rnn_mask, sequence_outputs_follow_keras) {
    const Kind *k = kind_row(row);
    Tensor *x = test_random_sequence(31, B, T, D), *mask = padded_mask(false);
    tensor_f32(mask)[3 * T + T - 1] = 0.0f; /* a gap after real steps too: row 3 ends in padding */
    Rng rng;
    tensor_rng_seed(&rng, 32, 0);
    Tensor *h0 = test_random(&rng, -1, 1, TENSOR_SHAPE(B, H));
    for (int zero = 0; zero < 2; zero++) {
        Layer *l = make(k, (NnRnnOpts){.return_sequences = true, .zero_output_for_mask = zero}, false);
        Tape *tape = ag_tape_new();
        NnRnnState init = {.h = h0};
        Tensor *y = nn_rnn_call(l, tape, x, &init, NULL, &(NnCallCtx){.mask = mask});
        ag_backward(tape, ag_sum(tape, y));
        const float *yv = y->data, *m = mask->data;
        for (int64_t b = 0; b < B; b++) {
            const float *last = NULL; /* the output of the last real step so far */
            for (int64_t t = 0; t < T; t++) {
                const float *yt = yv + (b * T + t) * H;
                if (m[b * T + t] != 0.0f) {
                    last = yt;
                    continue;
                }
                for (int64_t j = 0; j < H; j++)
                    cr_assert_eq(yt[j], zero || !last ? 0.0f : last[j], "row %lld step %lld unit %lld",
                                 (long long)b, (long long)t, (long long)j);
                for (int64_t d = 0; d < D; d++) cr_assert_eq(tensor_grad(x)[(b * T + t) * D + d], 0.0f);
            }
        }
        tensor_zero_grad(x);
        ag_tape_free(tape);
        nn_layer_free(l);
    }
    tensor_free(x), tensor_free(mask), tensor_free(h0);
}

/* A mask of ones gives the unmasked bits. */
ParameterizedTestParameters(rnn_mask, ones_change_nothing) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, rnn_mask, ones_change_nothing) {
    const Kind *k = kind_row(row);
    Tensor *x = test_random_sequence(41, B, T, D), *ones = tensor_zeros(NULL, TENSOR_SHAPE(B, T));
    for (int64_t i = 0; i < ones->size; i++) tensor_f32(ones)[i] = 1.0f;
    Layer *l = make(k, (NnRnnOpts){.return_sequences = true}, false);
    Tape *tape = ag_tape_new();
    Tensor *a = nn_layer_call(l, tape, x, &(NnCallCtx){.mask = ones}), *b = nn_layer_call(l, tape, x, NULL);
    cr_assert(memcmp(a->data, b->data, (size_t)a->size * sizeof(float)) == 0);
    ag_tape_free(tape);
    nn_layer_free(l);
    tensor_free(x), tensor_free(ones);
}

ParameterizedTestParameters(rnn_mask, bad_mask_aborts) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, rnn_mask, bad_mask_aborts, .signal = SIGABRT) {
    const Kind *k = kind_row(row);
    Tensor *x = test_random_sequence(51, B, T, D), *mask = tensor_zeros(NULL, TENSOR_SHAPE(B, T + 1));
    Layer *l = make(k, (NnRnnOpts){0}, false);
    nn_layer_call(l, ag_tape_new(), x, &(NnCallCtx){.mask = mask});
}

/* Bidirectional of each kind, on post and pre padding: at real steps each row's
 * outputs (and, without return_sequences, its output) equal the wrapper run on that
 * row alone, so the backward half starts at the row's last real step; padded steps
 * output zeros; the mask passes on only with return_sequences. */
ParameterizedTestParameters(rnn_mask, bidirectional_matches_rows_alone) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, rnn_mask, bidirectional_matches_rows_alone) {
    const Kind *k = kind_row(row);
    for (int cfg = 0; cfg < 4; cfg++) {
        const bool seq = cfg & 1, post = cfg & 2;
        Tensor *x = test_random_sequence(61 + cfg, B, T, D), *mask = padded_mask(post);
        Layer *l = nn_bidirectional(k->make(&(NnRnnOpts){.units = H, .return_sequences = seq}));
        cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, -1, D), NULL), 0, "%s", tensor_last_error());
        Tape *tape = ag_tape_new();
        Tensor *y = nn_layer_call(l, tape, x, &(NnCallCtx){.mask = mask});
        cr_assert((nn_layer_compute_mask(l, tape, x, mask) == mask) == seq);
        const float *yv = y->data;
        for (int64_t b = 0; b < B; b++) {
            Tensor *xb = row_alone(x, b, post);
            Tensor *yb = nn_layer_call(l, tape, xb, NULL);
            if (!seq) {
                ASSERT_CLOSE_ARRAY(yv + b * 2 * H, tensor_f32(yb), 2 * H, 1e-5, 1e-6);
            } else {
                const int64_t t0 = post ? 0 : T - LENS[b];
                const float *yr = yv + b * T * 2 * H;
                ASSERT_CLOSE_ARRAY(yr + t0 * 2 * H, tensor_f32(yb), LENS[b] * 2 * H, 1e-5, 1e-6);
                for (int64_t t = 0; t < T; t++)
                    if (t < t0 || t >= t0 + LENS[b])
                        for (int64_t j = 0; j < 2 * H; j++) cr_assert_eq(yr[t * 2 * H + j], 0.0f);
            }
            tensor_free(xb);
        }
        ag_tape_free(tape);
        nn_layer_free(l);
        tensor_free(x), tensor_free(mask);
    }
}
