/* Bidirectional: Keras parameter counts, names and shapes; the output against the two
 * children run by hand (and against a plain forward RNN with the backward weights on
 * the reversed input); the time alignment of return_sequences, probed by perturbing
 * one step; gradient checks through the re-alignment; wrapping a built layer; the
 * stateful reset reaching both halves; and refusing what is not an RNN. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <string.h>

static Layer *built_bi(Layer *rnn, NnShape in, uint64_t seed) {
    Layer *bi = nn_bidirectional(rnn);
    cr_assert_not_null(bi, "%s", tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, seed, 0);
    cr_assert_eq(nn_layer_build(bi, in, &rng), 0, "%s", tensor_last_error());
    return bi;
}

Test(layer_bidirectional, keras_param_counts_names_and_shapes) {
    Layer *bi = built_bi(nn_lstm(.units = 64), NN_SHAPE(TENSOR_F32, -1, 64), 1);
    cr_assert_eq(nn_layer_param_count(bi), 66048);
    cr_assert_str_eq(bi->vt->type, "Bidirectional");
    cr_assert_str_eq(bi->name, "bidirectional");
    cr_assert(!nn_layer_is_rnn(bi));
    cr_assert_eq(bi->n_children, 2);
    cr_assert_str_eq(bi->children[0]->name, "forward_lstm");
    cr_assert_str_eq(bi->children[1]->name, "backward_lstm");
    cr_assert_str_eq(bi->children[1]->vt->type, "LSTM");
    cr_assert_str_eq(bi->children[1]->params[0]->name, "backward_lstm/kernel");
    /* The halves start from different weights. */
    cr_assert(memcmp(bi->children[0]->params[0]->data, bi->children[1]->params[0]->data,
                     64 * 256 * sizeof(float)) != 0);
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&bi->out_shape, buf, sizeof buf), "(None, 128)");
    nn_layer_free(bi);

    Layer *seq = built_bi(nn_gru(.units = 8, .return_sequences = true), NN_SHAPE(TENSOR_F32, 10, 4), 1);
    cr_assert_eq(nn_layer_param_count(seq), 2 * 3 * (4 * 8 + 8 * 8 + 2 * 8));
    cr_assert_str_eq(nn_shape_str(&seq->out_shape, buf, sizeof buf), "(None, 10, 16)");
    cr_assert_str_eq(seq->children[1]->name, "backward_gru");
    nn_layer_free(seq);
}

/* out = concat(fwd(x), align(bwd(x))) from the children, and the backward half also
 * equals a plain forward RNN with the backward weights run on the reversed input. */
static void check_against_children(Layer *(*make)(const NnRnnOpts *), bool rs) {
    const int64_t B = 2, T = 5, D = 3, H = 4;
    Tape *tape = ag_tape_new();
    Tensor *x = test_random_sequence(21, B, T, D), *xr = test_time_reversed(x);
    Layer *bi = built_bi(make(&(NnRnnOpts){.units = H, .return_sequences = rs}),
                         NN_SHAPE(TENSOR_F32, T, D), 3);
    Layer *plain = make(&(NnRnnOpts){.units = H, .return_sequences = rs});
    cr_assert_eq(nn_layer_build(plain, NN_SHAPE(TENSOR_F32, T, D), NULL), 0);
    for (int i = 0; i < plain->n_params; i++)
        memcpy(plain->params[i]->data, bi->children[1]->params[i]->data,
               (size_t)plain->params[i]->size * sizeof(float));

    Tensor *y = nn_layer_call(bi, tape, x, NULL);
    Tensor *yf = nn_layer_call(bi->children[0], tape, x, NULL);
    Tensor *yb = nn_layer_call(bi->children[1], tape, x, NULL);
    Tensor *yp = nn_layer_call(plain, tape, xr, NULL);
    int64_t steps = rs ? T : 1;
    cr_assert_eq(y->ndim, rs ? 3 : 2);
    cr_assert_eq(y->shape[y->ndim - 1], 2 * H);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < steps; t++) {
            const float *out = tensor_f32(y) + (b * steps + t) * 2 * H;
            /* The backward child's sequence is in processing order: step t of the input
             * is its entry T-1-t. */
            int64_t tb = rs ? steps - 1 - t : 0;
            ASSERT_CLOSE_ARRAY(out, tensor_f32(yf) + (b * steps + t) * H, H, 0, 0);
            ASSERT_CLOSE_ARRAY(out + H, tensor_f32(yb) + (b * steps + tb) * H, H, 0, 0);
            ASSERT_CLOSE_ARRAY(out + H, tensor_f32(yp) + (b * steps + tb) * H, H, 1e-5, 1e-6);
        }
    nn_layer_free(bi);
    nn_layer_free(plain);
    tensor_free(x);
    tensor_free(xr);
    ag_tape_free(tape);
}

Test(layer_bidirectional, equals_children_by_hand) {
    for (int rs = 0; rs < 2; rs++) {
        check_against_children(nn_lstm_new, rs);
        check_against_children(nn_gru_new, rs);
        check_against_children(nn_simple_rnn_new, rs);
    }
}

/* With return_sequences, output step t must see x[0..t] in its forward half and
 * x[t..T-1] in its backward half: perturbing the last input step leaves the forward
 * half of earlier steps alone and moves every backward step; perturbing step 0 leaves
 * the backward half of later steps alone. */
Test(layer_bidirectional, return_sequences_time_alignment) {
    const int64_t B = 1, T = 6, D = 2, H = 3;
    Tape *tape = ag_tape_new();
    Layer *bi = built_bi(nn_lstm(.units = H, .return_sequences = true), NN_SHAPE(TENSOR_F32, -1, D), 5);
    Tensor *x = test_random_sequence(2, B, T, D);
    float base[6 * 6], last[6 * 6], first[6 * 6];
    memcpy(base, tensor_f32(nn_layer_call(bi, tape, x, NULL)), sizeof base);
    tensor_f32(x)[(T - 1) * D] += 1.0f;
    memcpy(last, tensor_f32(nn_layer_call(bi, tape, x, NULL)), sizeof last);
    tensor_f32(x)[(T - 1) * D] -= 1.0f;
    tensor_f32(x)[0] += 1.0f;
    memcpy(first, tensor_f32(nn_layer_call(bi, tape, x, NULL)), sizeof first);
    for (int64_t t = 0; t < T; t++) {
        double fwd_last = 0, bwd_last = 0, fwd_first = 0, bwd_first = 0;
        for (int64_t j = 0; j < H; j++) {
            fwd_last += fabs(last[t * 2 * H + j] - base[t * 2 * H + j]);
            bwd_last += fabs(last[t * 2 * H + H + j] - base[t * 2 * H + H + j]);
            fwd_first += fabs(first[t * 2 * H + j] - base[t * 2 * H + j]);
            bwd_first += fabs(first[t * 2 * H + H + j] - base[t * 2 * H + H + j]);
        }
        if (t < T - 1) cr_assert_eq(fwd_last, 0.0, "forward step %lld saw the future", (long long)t);
        else cr_assert_gt(fwd_last, 1e-4);
        cr_assert_gt(bwd_last, 1e-4, "backward step %lld did not see the last input", (long long)t);
        if (t > 0) cr_assert_eq(bwd_first, 0.0, "backward step %lld saw the past", (long long)t);
        else cr_assert_gt(bwd_first, 1e-4);
        cr_assert_gt(fwd_first, 1e-4, "forward step %lld did not see the first input", (long long)t);
    }
    nn_layer_free(bi);
    tensor_free(x);
    ag_tape_free(tape);
}

typedef struct {
    Layer *layer;
    Tensor *x;
} GcCtx;

static Tensor *input_fn(Tape *tape, Tensor *const *in, void *ctx) {
    return nn_layer_call(((GcCtx *)ctx)->layer, tape, in[0], NULL);
}

static Tensor *params_fn(Tape *tape, Tensor *const *in, void *ctx) {
    (void)in; /* the backward half's parameters, read by the call */
    GcCtx *c = ctx;
    return nn_layer_call(c->layer, tape, c->x, NULL);
}

Test(layer_bidirectional, gradient_check_through_realignment) {
    Rng rng;
    tensor_rng_seed(&rng, 8, 0);
    Layer *bi = built_bi(nn_gru(.units = 2, .return_sequences = true), NN_SHAPE(TENSOR_F32, 3, 2), 6);
    Tensor *x = test_random(&rng, -1, 1, 3, (int64_t[]){2, 3, 2});
    GcCtx ctx = {bi, x};
    ASSERT_GRADCHECK(input_fn, 1, &x, &ctx, .seed = 1);
    ASSERT_GRADCHECK(params_fn, 3, bi->children[1]->params, &ctx, .seed = 2, .max_elements = 8);
    nn_layer_free(bi);
    tensor_free(x);
}

Test(layer_bidirectional, wraps_a_built_layer) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    Layer *l = nn_simple_rnn(.units = 3);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 4, 2), &rng), 0);
    float k[6];
    memcpy(k, l->params[0]->data, sizeof k);
    Layer *bi = nn_bidirectional(l);
    cr_assert_not_null(bi);
    cr_assert_str_eq(bi->children[0]->name, "forward_simple_rnn");
    cr_assert_eq(nn_layer_build(bi, NN_SHAPE(TENSOR_F32, 5, 2), &rng), -1);
    cr_assert(strstr(tensor_last_error(), "was built for"), "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(bi, NN_SHAPE(TENSOR_F32, 4, 2), &rng), 0, "%s", tensor_last_error());
    cr_assert_eq(memcmp(bi->children[0]->params[0]->data, k, sizeof k), 0, "forward weights changed");
    cr_assert_eq(nn_layer_param_count(bi), 2 * (2 * 3 + 3 * 3 + 3));
    nn_layer_free(bi);
}

Test(layer_bidirectional, stateful_halves_reset_together) {
    Tape *tape = ag_tape_new();
    Layer *bi = built_bi(nn_gru(.units = 3, .stateful = true), NN_SHAPE(TENSOR_F32, -1, 2), 2);
    Tensor *x = test_random_sequence(4, 2, 3, 2);
    float first[12], second[12];
    memcpy(first, tensor_f32(nn_layer_call(bi, tape, x, NULL)), sizeof first);
    ag_tape_reset(tape);
    memcpy(second, tensor_f32(nn_layer_call(bi, tape, x, NULL)), sizeof second);
    /* Both halves carried their state: every output moved. */
    for (int b = 0; b < 2; b++)
        for (int half = 0; half < 2; half++) {
            double d = 0;
            for (int j = 0; j < 3; j++) d += fabs(first[b * 6 + half * 3 + j] - second[b * 6 + half * 3 + j]);
            cr_assert_gt(d, 1e-5, "half %d of sample %d carried no state", half, b);
        }
    nn_layer_reset_state(bi);
    Tensor *y = nn_layer_call(bi, tape, x, NULL);
    ASSERT_CLOSE_ARRAY(tensor_f32(y), first, 12, 0, 0);
    nn_layer_free(bi);
    tensor_free(x);
    ag_tape_free(tape);
}

Test(layer_bidirectional, refuses_what_is_not_an_rnn) {
    tensor_clear_error();
    cr_assert_null(nn_bidirectional(nn_dense(.units = 3))); /* the Dense is freed */
    cr_assert(strstr(tensor_last_error(), "not an RNN"), "%s", tensor_last_error());
    cr_assert_null(nn_bidirectional(nn_lstm(.units = 0)));
    cr_assert(strstr(tensor_last_error(), "Bidirectional") && strstr(tensor_last_error(), "units"),
              "%s", tensor_last_error());
    Layer *inner = nn_time_distributed(nn_dense(.units = 2));
    cr_assert_null(nn_bidirectional(inner));
}
