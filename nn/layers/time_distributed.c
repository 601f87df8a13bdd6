/* TimeDistributed (Keras): applies a wrapped layer to every time step of (B, T, ...)
 * independently, as one call on the batch reshaped to (B*T, ...) and reshaped back.
 * The wrapped layer is this layer's child: built on the per-step shape, counted in
 * the parameters, freed with it. */
#include "nn/layers/config.h"
#include "nn/layers/layer_internal.h"
#include "nn/layers/layers.h"

#include <stdio.h>
#include <stdlib.h>

static int time_distributed_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    Layer *inner = self->children[0];
    char s[160], t[160], u[160];
    if (in->ndim < 1)
        return tensor_set_error("TimeDistributed \"%s\": input must have a time axis, got %s",
                                self->name, nn_shape_str(in, s, sizeof s));
    NnShape step = {.dtype = in->dtype, .ndim = in->ndim - 1};
    for (int i = 1; i < in->ndim; i++) step.dim[i - 1] = in->dim[i];
    if (inner->built) {
        /* A wrapped layer that was built already must fit the steps as it is. */
        bool same = inner->in_shape.dtype == step.dtype && inner->in_shape.ndim == step.ndim;
        for (int i = 0; same && i < step.ndim; i++) same = inner->in_shape.dim[i] == step.dim[i];
        if (!same)
            return tensor_set_error(
                "TimeDistributed \"%s\": wrapped layer \"%s\" was built for %s, but the steps "
                "of %s are %s",
                self->name, inner->name, nn_shape_str(&inner->in_shape, s, sizeof s),
                nn_shape_str(in, t, sizeof t), nn_shape_str(&step, u, sizeof u));
    } else if (nn_layer_build(inner, step, rng) != 0) {
        return -1; /* the inner layer's message says what did not fit */
    }
    if (inner->out_shape.ndim + 1 > TENSOR_MAX_DIMS - 1)
        return tensor_set_error("TimeDistributed \"%s\": output of \"%s\" has too many dims",
                                self->name, inner->name);
    out->dtype = inner->out_shape.dtype;
    out->ndim = inner->out_shape.ndim + 1;
    out->dim[0] = in->dim[0];
    for (int i = 0; i < inner->out_shape.ndim; i++) out->dim[i + 1] = inner->out_shape.dim[i];
    return 0;
}

static Tensor *time_distributed_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    Layer *inner = self->children[0];
    int64_t B = x->shape[0], T = x->shape[1];
    int64_t shape[TENSOR_MAX_DIMS];
    shape[0] = B * T;
    for (int i = 2; i < x->ndim; i++) shape[i - 1] = x->shape[i];
    Tensor *steps = ag_reshape(tape, x, x->ndim - 1, shape);
    /* The same ctx (logits and training reach the wrapped layer) but no mask: its
     * steps have no time axis. The mask goes past it to the next layer instead. */
    NnCallCtx inner_ctx = *ctx;
    inner_ctx.mask = NULL;
    Tensor *y = nn_layer_call(inner, tape, steps, &inner_ctx);
    shape[0] = B;
    shape[1] = T;
    for (int i = 1; i < y->ndim; i++) shape[i + 1] = y->shape[i];
    return ag_reshape(tape, y, y->ndim + 1, shape);
}

/* No options of its own: the wrapped layer is its one child. */
static void time_distributed_get_config(const Layer *self, NnConfig *c) { (void)self, (void)c; }

static Layer *time_distributed_from_config(const NnConfig *c, Layer **children, int n_children) {
    if (c->n || n_children != 1) {
        for (int i = 0; i < n_children; i++) nn_layer_free(children[i]);
        tensor_set_error("TimeDistributed: takes no options and wraps one layer, got %d options and %d layers",
                         c->n, n_children);
        return NULL;
    }
    return nn_time_distributed(children[0]);
}

const LayerVTable nn__time_distributed_vt = {
    .type = "TimeDistributed",
    .build = time_distributed_build,
    .call = time_distributed_call,
    .get_config = time_distributed_get_config,
    .from_config = time_distributed_from_config,
    .compute_mask = nn_mask_keep,
};

Layer *nn_time_distributed(Layer *inner) {
    if (!inner) {
        /* Keep the failed constructor's reason: it is what the user needs to see. */
        char previous[200];
        snprintf(previous, sizeof previous, "%s", tensor_last_error());
        if (previous[0])
            tensor_set_error("TimeDistributed: the wrapped layer is NULL (last error: %s)",
                             previous);
        else
            tensor_set_error("TimeDistributed: the wrapped layer is NULL");
        return NULL;
    }
    Layer *self = tensor_xcalloc(1, sizeof *self);
    nn_layer_init(self, &nn__time_distributed_vt, "time_distributed");
    self->children = tensor_xmalloc(sizeof *self->children);
    self->children[0] = inner;
    self->n_children = 1;
    /* What the steps end with is what this layer ends with (for loss fusion). */
    self->activation = inner->activation;
    return self;
}
