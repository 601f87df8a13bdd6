/* Bidirectional (Keras, merge_mode="concat"): a wrapped RNN reads the sequence
 * forwards and a twin with the same options but go_backwards toggled reads it
 * backwards; their outputs are joined on the last axis. With return_sequences the
 * twin's outputs (in its processing order) are reversed back to the input's time
 * order first. Both RNNs are children: built together, counted, freed with it. Each
 * half gets x itself, so after an Embedding both LSTMs fold the lookup (lstm.c).
 * Under a mask both halves get it and, returning sequences, output zeros at padded
 * steps (Keras's Bidirectional sets zero_output_for_mask on them). The backward half
 * reads from T-1 down, so with post-padding it carries its zero state through the
 * padding and starts at each sequence's last real step; reversing its whole sequence
 * then puts every state at its own step: no per-row reversal by lengths is needed, as
 * PyTorch's packed sequences need one. */
#include "nn/layers/config.h"
#include "nn/layers/layer_internal.h"
#include "nn/layers/rnn_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* Builds child on the wrapper's input, or checks that an already built one fits it. */
static int build_child(Layer *self, Layer *child, const NnShape *in, Rng *rng) {
    char s[160], t[160];
    if (!child->built) return nn_layer_build(child, *in, rng);
    bool same = child->in_shape.dtype == in->dtype && child->in_shape.ndim == in->ndim;
    for (int i = 0; same && i < in->ndim; i++) same = child->in_shape.dim[i] == in->dim[i];
    if (!same)
        return tensor_set_error("Bidirectional \"%s\": wrapped layer \"%s\" was built for %s, "
                                "but the input is %s",
                                self->name, child->name, nn_shape_str(&child->in_shape, s, sizeof s),
                                nn_shape_str(in, t, sizeof t));
    return 0;
}

static int bidirectional_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    for (int i = 0; i < 2; i++)
        if (build_child(self, self->children[i], in, rng) != 0) return -1;
    *out = self->children[0]->out_shape;
    out->dim[out->ndim - 1] *= 2;
    return 0;
}

/* y (B, T, H) with its time axis reversed, as differentiable ops: the steps become
 * rows of a (T, B*H) table that a gather with ids T-1..0 reads in reverse. A fixed
 * handful of ops whatever T is, rather than T slices. */
static Tensor *reverse_time(Tape *tape, Tensor *y) {
    const int64_t B = y->shape[0], T = y->shape[1], H = y->shape[2];
    Tensor *rows = ag_reshape(tape, ag_permute(tape, y, (int[]){1, 0, 2}), 2, (int64_t[]){T, B * H});
    Tensor *ids = tensor_i32_zeros(ag_tape_arena(tape), 1, (int64_t[]){T});
    int32_t *id = tensor_i32(ids);
    for (int64_t t = 0; t < T; t++) id[t] = (int32_t)(T - 1 - t);
    Tensor *rev = ag_reshape(tape, ag_gather_rows(tape, rows, ids), 3, (int64_t[]){T, B, H});
    return ag_permute(tape, rev, (int[]){1, 0, 2});
}

static Tensor *bidirectional_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    Layer *fwd = self->children[0], *bwd = self->children[1];
    Tensor *yf = nn_layer_call(fwd, tape, x, ctx);
    Tensor *yb = nn_layer_call(bwd, tape, x, ctx);
    /* Keras's backward layer returns its sequence in processing order. */
    if (((RnnLayer *)bwd)->opts.return_sequences) yb = reverse_time(tape, yb);
    return ag_concat(tape, 2, (Tensor *[]){yf, yb}, yf->ndim - 1);
}

/* The halves' mask: the input's with return_sequences, else none. */
static const Tensor *bidirectional_compute_mask(Layer *self, Tape *tape, Tensor *x, const Tensor *mask) {
    return nn_layer_compute_mask(self->children[0], tape, x, mask);
}

/* No options of its own (merge_mode is always concat); the children are the two
 * halves, of which the forward one is all it needs: the twin is made again. */
static void bidirectional_get_config(const Layer *self, NnConfig *c) { (void)self, (void)c; }

static Layer *bidirectional_from_config(const NnConfig *c, Layer **children, int n_children) {
    if (c->n || n_children != 2 || children[0]->vt != children[1]->vt) {
        for (int i = 0; i < n_children; i++) nn_layer_free(children[i]);
        tensor_set_error("Bidirectional: takes no options and holds two RNNs of one type, got %d options and %d "
                         "layers", c->n, n_children);
        return NULL;
    }
    nn_layer_free(children[1]);
    return nn_bidirectional(children[0]);
}

const LayerVTable nn__bidirectional_vt = {
    .type = "Bidirectional",
    .build = bidirectional_build,
    .call = bidirectional_call,
    .get_config = bidirectional_get_config,
    .from_config = bidirectional_from_config,
    .compute_mask = bidirectional_compute_mask,
};

Layer *nn_bidirectional(Layer *rnn) {
    if (!rnn) {
        /* Keep the failed constructor's reason: it is what the user needs to see. */
        char previous[200];
        snprintf(previous, sizeof previous, "%s", tensor_last_error());
        if (previous[0])
            tensor_set_error("Bidirectional: the wrapped layer is NULL (last error: %s)", previous);
        else
            tensor_set_error("Bidirectional: the wrapped layer is NULL");
        return NULL;
    }
    if (!nn_layer_is_rnn(rnn)) {
        tensor_set_error("Bidirectional: layer \"%s\" (%s) is not an RNN; wrap an LSTM, GRU or "
                         "SimpleRNN",
                         rnn->name, rnn->vt ? rnn->vt->type : "?");
        nn_layer_free(rnn); /* ownership was taken, also on failure (like nn_add) */
        return NULL;
    }
    RnnLayer *r = (RnnLayer *)rnn;
    r->opts.zero_output_for_mask = r->opts.return_sequences; /* as Keras forces it */
    NnRnnOpts twin_opts = r->opts;
    twin_opts.go_backwards = !twin_opts.go_backwards;
    Layer *twin = nn__rnn_new(r->kind, rnn->vt, &twin_opts);
    TENSOR_CHECK(twin != NULL, "Bidirectional: could not copy \"%s\": %s", rnn->name,
                 tensor_last_error());
    /* Keras names the halves forward_<name> and backward_<name>. Parameters of a layer
     * built before wrapping keep the names they were created with. */
    char base[64];
    snprintf(base, sizeof base, "%s", rnn->name);
    snprintf(rnn->name, sizeof rnn->name, "forward_%.54s", base);
    snprintf(twin->name, sizeof twin->name, "backward_%.54s", base);

    Layer *self = tensor_xcalloc(1, sizeof *self);
    nn_layer_init(self, &nn__bidirectional_vt, "bidirectional");
    self->children = tensor_xmalloc(2 * sizeof *self->children);
    self->children[0] = rnn;
    self->children[1] = twin;
    self->n_children = 2;
    return self;
}
