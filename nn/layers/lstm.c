/* The LSTM layer (Keras layout: kernel (D, 4H) Glorot, recurrent_kernel (H, 4H)
 * orthogonal, bias (4H) zeros with the forget quarter at 1; gates i, f, c, o). Its
 * recurrence is the fused ag_lstm op (ag_lstm_lookup on an Embedding's output), or the
 * composed ag_lstm_reference when opts.unfused; everything else is the shared RNN
 * machinery in rnn.c. */
#include "nn/layers/config.h"
#include "nn/layers/rnn_internal.h"

#include "autograd/ops/lstm_internal.h"

static int lstm_build_params(RnnLayer *r, int64_t D, Rng *rng) {
    const int64_t H = r->opts.units;
    nn_layer_param(&r->base, "kernel", 2, (int64_t[]){D, 4 * H}, NN_INIT_GLOROT_UNIFORM, rng);
    nn_layer_param(&r->base, "recurrent_kernel", 2, (int64_t[]){H, 4 * H}, NN_INIT_ORTHOGONAL, rng);
    nn_layer_param(&r->base, "bias", 1, (int64_t[]){4 * H}, NN_INIT_LSTM_BIAS, rng);
    return 0;
}

/* Whether x is the output of an embedding lookup (an Embedding layer's call, or any
 * ag_gather_rows), which layers hand on untouched: every lookup output points at a node
 * naming its table and ids, recorded or not. Not when nothing was recorded and x wants
 * a gradient of its own, which the fold would send to the table instead. */
static bool lookup_source(const Tensor *x, Tensor **table, Tensor **ids) {
    const Node *g = x->node;
    if (!g || g->op != &ag__gather_rows_op || g->out != x || g->n_inputs != 2) return false;
    if (g->iargs[0] == 1 && x->requires_grad) return false;
    *table = g->inputs[0];
    *ids = g->inputs[1];
    return true;
}

static RnnRun lstm_run(RnnLayer *r, Tape *tape, Tensor *x, Tensor *h0, Tensor *c0, const Tensor *mask,
                       bool want_seq) {
    (void)want_seq; /* both ops produce the sequence anyway */
    /* Read the parameters through params: a model may have moved their storage. */
    Tensor **p = r->base.params;
    const bool back = r->opts.go_backwards;
    Tensor *table, *ids;
    AgLstmResult res;
    if (r->opts.unfused) res = ag_lstm_reference_masked(tape, x, p[0], p[1], p[2], h0, c0, mask, back);
    else if (lookup_source(x, &table, &ids))
        res = ag_lstm_lookup_masked(tape, x, table, ids, p[0], p[1], p[2], h0, c0, mask, back);
    else res = ag_lstm_masked(tape, x, p[0], p[1], p[2], h0, c0, mask, back);
    return (RnnRun){.seq = res.seq, .h = res.h, .c = res.c};
}

static const RnnKind LSTM_KIND = {
    .type = "LSTM",
    .base_name = "lstm",
    .has_cell = true,
    .build_params = lstm_build_params,
    .run = lstm_run,
};

static Layer *lstm_from_config(const NnConfig *config, Layer **children, int n_children) {
    if (nn_config_no_children("LSTM", children, n_children) != 0) return NULL;
    NnRnnOpts opts;
    return nn__rnn_opts_from_config(config, "LSTM", &opts) ? NULL : nn_lstm_new(&opts);
}

const LayerVTable nn__lstm_vt = NN__RNN_VTABLE("LSTM", lstm_from_config);

Layer *nn_lstm_new(const NnRnnOpts *opts) { return nn__rnn_new(&LSTM_KIND, &nn__lstm_vt, opts); }
