/* The SimpleRNN layer (Keras, tanh): h' = tanh(x kernel + h recurrent_kernel + bias),
 * kernel (D, H) Glorot, recurrent_kernel (H, H) orthogonal, bias (H) zeros. Composed
 * from ordinary tape ops: one input projection over all steps, then per step one
 * recurrent matmul, an add and a tanh. */
#include "nn/layers/config.h"
#include "nn/layers/rnn_internal.h"

#include <stdlib.h>

static int simple_rnn_build_params(RnnLayer *r, int64_t D, Rng *rng) {
    const int64_t H = r->opts.units;
    nn_layer_param(&r->base, "kernel", 2, (int64_t[]){D, H}, NN_INIT_GLOROT_UNIFORM, rng);
    nn_layer_param(&r->base, "recurrent_kernel", 2, (int64_t[]){H, H}, NN_INIT_ORTHOGONAL, rng);
    nn_layer_param(&r->base, "bias", 1, (int64_t[]){H}, NN_INIT_ZEROS, rng);
    return 0;
}

static RnnRun simple_rnn_run(RnnLayer *r, Tape *tape, Tensor *x, Tensor *h0, Tensor *c0,
                             const Tensor *mask, bool want_seq) {
    (void)c0;
    Tensor **p = r->base.params; /* through params: a model may have moved their storage */
    const int64_t B = x->shape[0], T = x->shape[1], H = r->opts.units;
    const bool back = r->opts.go_backwards;
    /* The input side of every step at once, bias included: (B, T, H). */
    Tensor *xp = ag_add(tape, ag_matmul(tape, x, p[0]), p[2]);
    Tensor *h = h0 ? h0 : ag_output_zeros(tape, 2, (int64_t[]){B, H});
    Tensor **hs = want_seq ? tensor_xmalloc((size_t)T * sizeof *hs) : NULL;
    for (int64_t s = 0; s < T; s++) {
        const int64_t t = back ? T - 1 - s : s;
        Tensor *xt = ag_reshape(tape, ag_slice(tape, xp, 1, t, t + 1), 2, (int64_t[]){B, H});
        Tensor *h_new = ag_tanh(tape, ag_add(tape, xt, ag_matmul(tape, h, p[1])));
        h = nn__rnn_keep_state(tape, mask, t, h_new, h); /* padded rows keep h */
        if (hs) hs[s] = h;
    }
    RnnRun run = {.h = h};
    if (hs) {
        run.seq = ag_stack(tape, (int)T, hs, 1);
        free(hs);
    }
    return run;
}

static const RnnKind SIMPLE_RNN_KIND = {
    .type = "SimpleRNN",
    .base_name = "simple_rnn",
    .has_cell = false,
    .build_params = simple_rnn_build_params,
    .run = simple_rnn_run,
};

static Layer *simple_rnn_from_config(const NnConfig *config, Layer **children, int n_children) {
    if (nn_config_no_children("SimpleRNN", children, n_children) != 0) return NULL;
    NnRnnOpts opts;
    return nn__rnn_opts_from_config(config, "SimpleRNN", &opts) ? NULL : nn_simple_rnn_new(&opts);
}

const LayerVTable nn__simple_rnn_vt = NN__RNN_VTABLE("SimpleRNN", simple_rnn_from_config);

Layer *nn_simple_rnn_new(const NnRnnOpts *opts) {
    return nn__rnn_new(&SIMPLE_RNN_KIND, &nn__simple_rnn_vt, opts);
}
