/* The recurrent layers (LSTM, GRU, SimpleRNN), each test run once per row of KINDS
 * (rnn_kinds.h) in its own process, --verbose naming the row: Keras parameter counts,
 * names, shapes and initial values; two steps against numbers computed by hand from
 * fixed weights; return_sequences; the errors (bad options, bad inputs and states). The
 * LSTM's fused op against its composed reference has a test of its own. Behaviour over
 * time (carried state, go_backwards, stateful, gradients) is in test_layer_rnn_state.c. */
#include "rnn_kinds.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

ParameterizedTestParameters(layer_rnn, keras_param_counts_names_and_shapes) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, layer_rnn, keras_param_counts_names_and_shapes) {
    const Kind *k = kind_row(row);
    const int64_t G = k->gates * 64;
    char buf[64];
    Layer *l = built(k, (NnRnnOpts){.units = 64}, NN_SHAPE(TENSOR_F32, -1, 64), 1);
    cr_assert_eq(nn_layer_param_count(l), k->params_64);
    cr_assert_str_eq(l->vt->type, k->type);
    cr_assert_str_eq(l->name, k->name);
    cr_assert(nn_layer_is_rnn(l));
    cr_assert_eq(l->n_params, 3);
    const char *suffix[3] = {"kernel", "recurrent_kernel", "bias"};
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "%s/%s", k->name, suffix[i]);
        cr_assert_str_eq(l->params[i]->name, buf);
    }
    cr_assert(l->params[0]->shape[0] == 64 && l->params[0]->shape[1] == G);
    cr_assert(l->params[1]->shape[0] == 64 && l->params[1]->shape[1] == G);
    if (k->bias_rows == 1)
        cr_assert(l->params[2]->ndim == 1 && l->params[2]->shape[0] == G);
    else
        cr_assert(l->params[2]->ndim == 2 && l->params[2]->shape[0] == k->bias_rows &&
                  l->params[2]->shape[1] == G);
    k->check_init(l);
    cr_assert_str_eq(nn_shape_str(&l->out_shape, buf, sizeof buf), "(None, 64)");
    nn_layer_free(l);

    Layer *big = built(k, (NnRnnOpts){.units = 256, .return_sequences = true, .name = "enc"},
                       NN_SHAPE(TENSOR_F32, 40, 64), 2);
    cr_assert_eq(nn_layer_param_count(big), k->params_256);
    cr_assert_str_eq(big->name, "enc");
    cr_assert_str_eq(big->params[0]->name, "enc/kernel");
    cr_assert_str_eq(nn_shape_str(&big->out_shape, buf, sizeof buf), "(None, 40, 256)");
    nn_layer_free(big);
    Layer *s = built(k, (NnRnnOpts){.units = 8, .return_sequences = true}, NN_SHAPE(TENSOR_F32, 12, 3), 1);
    cr_assert_str_eq(nn_shape_str(&s->out_shape, buf, sizeof buf), "(None, 12, 8)");
    nn_layer_free(s);
}

ParameterizedTestParameters(layer_rnn, hand_computed_steps) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, layer_rnn, hand_computed_steps) {
    const Kind *k = kind_row(row);
    const HandSteps *hs = &k->hand;
    Layer *l = built(k, (NnRnnOpts){.units = 2, .return_sequences = true}, NN_SHAPE(TENSOR_F32, 2, 2), 1);
    const float *values[3] = {hs->K, hs->U, hs->bias};
    const size_t room[3] = {sizeof hs->K, sizeof hs->U, sizeof hs->bias};
    for (int i = 0; i < 3; i++) {
        cr_assert_leq((size_t)l->params[i]->size * sizeof(float), room[i]);
        memcpy(l->params[i]->data, values[i], (size_t)l->params[i]->size * sizeof(float));
    }
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_from_array(NULL, 3, (int64_t[]){1, 2, 2}, (float[]){0.5f, -1.0f, -0.4f, 0.8f});
    Tensor *h0 = tensor_from_array(NULL, 2, (int64_t[]){1, 2}, (float[]){0.3f, -0.2f});
    Tensor *c0 = k->has_cell ? tensor_from_array(NULL, 2, (int64_t[]){1, 2}, hs->c0) : NULL;
    NnRnnState fin;
    Tensor *y = nn_rnn_call(l, tape, x, &(NnRnnState){.h = h0, .c = c0}, &fin, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), hs->want, 4, 1e-5, 1e-6);
    ASSERT_CLOSE_ARRAY(tensor_f32(fin.h), hs->want + 2, 2, 1e-5, 1e-6);
    if (k->has_cell)
        ASSERT_CLOSE_ARRAY(tensor_f32(fin.c), hs->want_c, 2, 1e-5, 1e-6);
    else
        cr_assert_null(fin.c);
    nn_layer_free(l);
    tensor_free(x);
    tensor_free(h0);
    tensor_free(c0);
    ag_tape_free(tape);
}

ParameterizedTestParameters(layer_rnn, return_sequences_shapes) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, layer_rnn, return_sequences_shapes) {
    const Kind *k = kind_row(row);
    Tape *tape = ag_tape_new();
    Tensor *x = test_random_sequence(3, 2, 5, 3);
    Layer *seq = built(k, (NnRnnOpts){.units = 4, .return_sequences = true}, NN_SHAPE(TENSOR_F32, -1, 3), 1);
    Layer *last = built(k, (NnRnnOpts){.units = 4}, NN_SHAPE(TENSOR_F32, -1, 3), 1);
    Tensor *ys = nn_layer_call(seq, tape, x, NULL);
    cr_assert(ys->ndim == 3 && ys->shape[0] == 2 && ys->shape[1] == 5 && ys->shape[2] == 4);
    Tensor *yl = nn_layer_call(last, tape, x, NULL);
    cr_assert(yl->ndim == 2 && yl->shape[0] == 2 && yl->shape[1] == 4);
    /* The last step of the sequence is the final output (same seed, same weights). */
    for (int b = 0; b < 2; b++)
        ASSERT_CLOSE_ARRAY(tensor_f32(ys) + (b * 5 + 4) * 4, tensor_f32(yl) + b * 4, 4, 0, 0);
    /* A different length works on a layer built with an unknown T. */
    Tensor *x7 = test_random_sequence(4, 2, 7, 3);
    Tensor *y7 = nn_layer_call(seq, tape, x7, NULL);
    cr_assert_eq(y7->shape[1], 7);
    nn_layer_free(seq);
    nn_layer_free(last);
    tensor_free(x);
    tensor_free(x7);
    ag_tape_free(tape);
}

ParameterizedTestParameters(layer_rnn, invalid_options_and_inputs) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, layer_rnn, invalid_options_and_inputs) {
    const Kind *k = kind_row(row);
    tensor_clear_error();
    cr_assert_null(k->make(&(NnRnnOpts){.units = 0}));
    cr_assert(strstr(tensor_last_error(), k->type) && strstr(tensor_last_error(), "units"), "%s",
              tensor_last_error());
    cr_assert_null(k->make(&(NnRnnOpts){.units = -3}));
    cr_assert_null(k->make(&(NnRnnOpts){.units = 4, .name = ""}));

    char who[64]; /* TYPE "name", as messages name the layer */
    snprintf(who, sizeof who, "%s \"%s\"", k->type, k->name);
    Layer *l = k->make(&(NnRnnOpts){.units = 4});
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_I32, 10), NULL), -1);
    cr_assert(strstr(tensor_last_error(), who), "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_I32, 5, 2), NULL), -1);
    cr_assert(strstr(tensor_last_error(), who), "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 64), NULL), -1); /* no time axis */
    cr_assert(strstr(tensor_last_error(), "(batch, time, features)"), "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 10, -1), NULL), -1);
    cr_assert_eq(l->n_params, 0);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 10, 8), NULL), 0);
    nn_layer_free(l);
}

ParameterizedTestParameters(layer_rnn, wrong_initial_state_shape_aborts) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, layer_rnn, wrong_initial_state_shape_aborts, .signal = SIGABRT) {
    const Kind *k = kind_row(row);
    Tape *tape = ag_tape_new();
    Layer *l = built(k, (NnRnnOpts){.units = 3}, NN_SHAPE(TENSOR_F32, -1, 2), 1);
    Tensor *x = test_random_sequence(1, 2, 3, 2);
    NnRnnState bad = {.h = tensor_zeros(NULL, 2, (int64_t[]){2, 4})};
    nn_rnn_call(l, tape, x, &bad, NULL, NULL);
}

ParameterizedTestParameters(layer_rnn, wrong_input_width_aborts) { return kinds_where(EACH_KIND); }
ParameterizedTest(const int *row, layer_rnn, wrong_input_width_aborts, .signal = SIGABRT) {
    const Kind *k = kind_row(row);
    Tape *tape = ag_tape_new();
    Layer *l = built(k, (NnRnnOpts){.units = 3}, NN_SHAPE(TENSOR_F32, -1, 2), 1);
    nn_rnn_call(l, tape, test_random_sequence(1, 2, 3, 5), NULL, NULL, NULL);
}

ParameterizedTestParameters(layer_rnn, cell_state_for_a_kind_without_one_aborts) {
    return kinds_where(NO_CELL);
}
ParameterizedTest(const int *row, layer_rnn, cell_state_for_a_kind_without_one_aborts, .signal = SIGABRT) {
    const Kind *k = kind_row(row);
    Tape *tape = ag_tape_new();
    Layer *l = built(k, (NnRnnOpts){.units = 3}, NN_SHAPE(TENSOR_F32, -1, 2), 1);
    Tensor *c = tensor_zeros(NULL, 2, (int64_t[]){2, 3});
    nn_rnn_call(l, tape, test_random_sequence(1, 2, 3, 2), &(NnRnnState){.c = c}, NULL, NULL);
}

Test(layer_rnn, rnn_call_on_a_dense_aborts, .signal = SIGABRT) {
    Tape *tape = ag_tape_new();
    Layer *d = nn_dense(.units = 3);
    cr_assert(!nn_layer_is_rnn(d));
    nn_layer_build(d, NN_SHAPE(TENSOR_F32, 4, 2), NULL);
    nn_rnn_call(d, tape, test_random_sequence(1, 2, 4, 2), NULL, NULL, NULL);
}

/* LSTM only: the fused op against the composed reference (opts.unfused), outputs, final
 * c and parameter gradients, in all four return_sequences x go_backwards modes. */
Test(layer_rnn, lstm_fused_equals_unfused) {
    const Kind *lstm = kind_of("LSTM");
    Tape *tape = ag_tape_new();
    Tensor *x = test_random_sequence(5, 3, 6, 4);
    for (int back = 0; back < 2; back++)
        for (int rs = 0; rs < 2; rs++) {
            NnRnnOpts o = {.units = 5, .return_sequences = rs, .go_backwards = back};
            Layer *fused = built(lstm, o, NN_SHAPE(TENSOR_F32, 6, 4), 7);
            o.unfused = true;
            Layer *unfused = built(lstm, o, NN_SHAPE(TENSOR_F32, 6, 4), 8);
            copy_weights(unfused, fused);
            NnRnnState fs, us;
            Tensor *yf = nn_rnn_call(fused, tape, x, NULL, &fs, NULL);
            Tensor *yu = nn_rnn_call(unfused, tape, x, NULL, &us, NULL);
            cr_assert(tensor_same_shape(yf, yu));
            ASSERT_CLOSE_ARRAY(tensor_f32(yf), tensor_f32(yu), yf->size, 1e-5, 1e-6);
            ASSERT_CLOSE_ARRAY(tensor_f32(fs.c), tensor_f32(us.c), fs.c->size, 1e-5, 1e-6);
            /* Gradients of the parameters agree too. */
            ag_backward(tape, ag_sum(tape, ag_square(tape, yf)));
            ag_backward(tape, ag_sum(tape, ag_square(tape, yu)));
            for (int i = 0; i < 3; i++)
                ASSERT_CLOSE_ARRAY(fused->params[i]->grad, unfused->params[i]->grad,
                                   fused->params[i]->size, 1e-4, 1e-5);
            nn_layer_free(fused);
            nn_layer_free(unfused);
            ag_tape_reset(tape);
        }
    tensor_free(x);
    ag_tape_free(tape);
}
