/* The LSTM layer (Keras layout: kernel (D, 4H) Glorot, recurrent_kernel (H, 4H)
 * orthogonal, bias (4H) zeros with the forget quarter at 1; gates i, f, c, o). Its
 * recurrence is the fused ag_lstm op, or the composed ag_lstm_reference when
 * opts.unfused; everything else is the shared RNN machinery in rnn.c. */
#include "nn/layers/rnn_internal.h"

static int lstm_build_params(RnnLayer *r, int64_t D, Rng *rng) {
    const int64_t H = r->opts.units;
    nn_layer_param(&r->base, "kernel", 2, (int64_t[]){D, 4 * H}, NN_INIT_GLOROT_UNIFORM, rng);
    nn_layer_param(&r->base, "recurrent_kernel", 2, (int64_t[]){H, 4 * H}, NN_INIT_ORTHOGONAL, rng);
    nn_layer_param(&r->base, "bias", 1, (int64_t[]){4 * H}, NN_INIT_LSTM_BIAS, rng);
    return 0;
}

static RnnRun lstm_run(RnnLayer *r, Tape *tape, Tensor *x, Tensor *h0, Tensor *c0, bool want_seq) {
    (void)want_seq; /* both ops produce the sequence anyway */
    /* Read the parameters through params: a model may have moved their storage. */
    Tensor **p = r->base.params;
    AgLstmResult res = r->opts.unfused
                           ? ag_lstm_reference(tape, x, p[0], p[1], p[2], h0, c0, r->opts.go_backwards)
                           : ag_lstm(tape, x, p[0], p[1], p[2], h0, c0, r->opts.go_backwards);
    return (RnnRun){.seq = res.seq, .h = res.h, .c = res.c};
}

static const RnnKind LSTM_KIND = {
    .type = "LSTM",
    .base_name = "lstm",
    .has_cell = true,
    .build_params = lstm_build_params,
    .run = lstm_run,
};

static const LayerVTable LSTM_VT = NN__RNN_VTABLE("LSTM");

Layer *nn_lstm_new(const NnRnnOpts *opts) { return nn__rnn_new(&LSTM_KIND, &LSTM_VT, opts); }
