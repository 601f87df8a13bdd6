/* The GRU layer, Keras reset_after=True (the cuDNN/PyTorch form): kernel (D, 3H),
 * recurrent_kernel (H, 3H), bias (2, 3H) = [input bias; recurrent bias], gates z, r, h:
 *   z = sigmoid(x Wz + h Uz + bz),  r = sigmoid(x Wr + h Ur + br),
 *   hh = tanh(x Wh + bh_in + r * (h Uh + bh_rec)),  h' = z * h + (1 - z) * hh.
 * Composed from ordinary tape ops: one input projection over all steps, then per step
 * one recurrent matmul, splits and element-wise ops. */
#include "nn/layers/config.h"
#include "nn/layers/rnn_internal.h"

#include <stdlib.h>

static int gru_build_params(RnnLayer *r, int64_t D, Rng *rng) {
    const int64_t H = r->opts.units;
    nn_layer_param(&r->base, "kernel", 2, (int64_t[]){D, 3 * H}, NN_INIT_GLOROT_UNIFORM, rng);
    nn_layer_param(&r->base, "recurrent_kernel", 2, (int64_t[]){H, 3 * H}, NN_INIT_ORTHOGONAL, rng);
    nn_layer_param(&r->base, "bias", 2, (int64_t[]){2, 3 * H}, NN_INIT_ZEROS, rng);
    return 0;
}

static RnnRun gru_run(RnnLayer *r, Tape *tape, Tensor *x, Tensor *h0, Tensor *c0, const Tensor *mask,
                      bool want_seq) {
    (void)c0;
    Tensor **p = r->base.params; /* through params: a model may have moved their storage */
    const int64_t B = x->shape[0], T = x->shape[1], H = r->opts.units;
    const bool back = r->opts.go_backwards;
    Tensor *b_in = ag_slice(tape, p[2], 0, 0, 1);  /* (1, 3H), broadcasts over rows */
    Tensor *b_rec = ag_slice(tape, p[2], 0, 1, 2); /* (1, 3H) */
    /* The input side of every step at once: (B, T, 3H). */
    Tensor *xp = ag_add(tape, ag_matmul(tape, x, p[0]), b_in);
    Tensor *h = h0 ? h0 : ag_output_zeros(tape, 2, (int64_t[]){B, H});
    Tensor **hs = want_seq ? tensor_xmalloc((size_t)T * sizeof *hs) : NULL;
    for (int64_t s = 0; s < T; s++) {
        const int64_t t = back ? T - 1 - s : s;
        Tensor *xt = ag_reshape(tape, ag_slice(tape, xp, 1, t, t + 1), 2, (int64_t[]){B, 3 * H});
        Tensor *hr = ag_add(tape, ag_matmul(tape, h, p[1]), b_rec); /* (B, 3H) */
        Tensor *xg[3], *hg[3];
        ag_split(tape, xt, 1, 3, NULL, xg);
        ag_split(tape, hr, 1, 3, NULL, hg);
        Tensor *z = ag_sigmoid(tape, ag_add(tape, xg[0], hg[0]));
        Tensor *rg = ag_sigmoid(tape, ag_add(tape, xg[1], hg[1]));
        /* reset_after: r gates the recurrent projection including its bias. */
        Tensor *hh = ag_tanh(tape, ag_add(tape, xg[2], ag_mul(tape, rg, hg[2])));
        /* z * h + (1 - z) * hh, written as hh + z * (h - hh); padded rows keep h. */
        Tensor *h_new = ag_add(tape, hh, ag_mul(tape, z, ag_sub(tape, h, hh)));
        h = nn__rnn_keep_state(tape, mask, t, h_new, h);
        if (hs) hs[s] = h;
    }
    RnnRun run = {.h = h};
    if (hs) {
        run.seq = ag_stack(tape, (int)T, hs, 1);
        free(hs);
    }
    return run;
}

static const RnnKind GRU_KIND = {
    .type = "GRU",
    .base_name = "gru",
    .has_cell = false,
    .build_params = gru_build_params,
    .run = gru_run,
};

static Layer *gru_from_config(const NnConfig *config, Layer **children, int n_children) {
    if (nn_config_no_children("GRU", children, n_children) != 0) return NULL;
    NnRnnOpts opts;
    return nn__rnn_opts_from_config(config, "GRU", &opts) ? NULL : nn_gru_new(&opts);
}

const LayerVTable nn__gru_vt = NN__RNN_VTABLE("GRU", gru_from_config);

Layer *nn_gru_new(const NnRnnOpts *opts) { return nn__rnn_new(&GRU_KIND, &nn__gru_vt, opts); }
