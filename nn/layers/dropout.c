/* Dropout (Keras): inverted dropout while training, drawn from the call's Rng
 * (ctx->rng), and the identity at inference. No parameters; the output shape is the
 * input's. */
#include "nn/layers/config.h"
#include "nn/layers/layer_internal.h"
#include "nn/layers/layers.h"

#include <stdlib.h>

typedef struct Dropout {
    Layer base; /* first member */
    float rate;
} Dropout;


static int dropout_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    (void)rng;
    char s[160];
    if (in->dtype != TENSOR_F32)
        return tensor_set_error("Dropout \"%s\": input must be float32, got int32 %s", self->name,
                                nn_shape_str(in, s, sizeof s));
    *out = *in;
    return 0;
}

static Tensor *dropout_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    Dropout *d = (Dropout *)self;
    if (ctx->training && d->rate > 0.0f)
        TENSOR_CHECK(ctx->rng != NULL, "Dropout \"%s\": training needs ctx->rng, got NULL",
                     self->name);
    return ag_dropout(tape, x, d->rate, ctx->training, ctx->rng);
}

static void dropout_get_config(const Layer *self, NnConfig *c) {
    nn_config_set_float32(c, "rate", ((const Dropout *)self)->rate);
}

static Layer *dropout_from_config(const NnConfig *c, Layer **children, int n_children) {
    if (nn_config_no_children("Dropout", children, n_children) != 0) return NULL;
    static const char *const known[] = {"rate", NULL};
    double rate = 0;
    if (nn_config_only(c, "Dropout", known) || nn_config_float(c, "Dropout", "rate", &rate) < 0) return NULL;
    return nn_dropout_new(&(NnDropoutOpts){.rate = (float)rate});
}

const LayerVTable nn__dropout_vt = {
    .type = "Dropout",
    .build = dropout_build,
    .call = dropout_call,
    .get_config = dropout_get_config,
    .from_config = dropout_from_config,
    .compute_mask = nn_mask_keep,
};

Layer *nn_dropout_new(const NnDropoutOpts *opts) {
    if (!opts) {
        tensor_set_error("Dropout: options are NULL");
        return NULL;
    }
    /* Written so that NaN fails too. */
    if (!(opts->rate >= 0.0f && opts->rate < 1.0f)) {
        tensor_set_error("Dropout: rate must be in [0, 1), got %g", (double)opts->rate);
        return NULL;
    }
    Dropout *d = tensor_xcalloc(1, sizeof *d);
    nn_layer_init(&d->base, &nn__dropout_vt, "dropout");
    if (nn__layer_set_name(&d->base, "Dropout", opts->name) != 0) {
        free(d);
        return NULL;
    }
    d->rate = opts->rate;
    return &d->base;
}
