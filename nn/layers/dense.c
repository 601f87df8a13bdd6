/* Dense (Keras's fully connected layer): y = activation(x kernel + bias) on the last
 * axis, with kernel (in, units) Glorot-uniform and bias (units) zeros. The smallest
 * complete Layer implementation, and the model for writing your own. */
#include "nn/layers/config.h"
#include "nn/layers/layer_internal.h"
#include "nn/layers/layers.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct Dense {
    Layer base; /* first member: a Dense * is a Layer * */
    int64_t units;
    bool use_bias; /* the activation lives in base.activation, where a model reads it */
} Dense;

static int dense_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    Dense *d = (Dense *)self;
    char s[160];
    if (in->dtype != TENSOR_F32)
        return tensor_set_error("Dense \"%s\": input must be float32, got int32 %s (put an "
                                "Embedding first for token ids)",
                                self->name, nn_shape_str(in, s, sizeof s));
    if (in->ndim < 1 || in->dim[in->ndim - 1] <= 0)
        return tensor_set_error("Dense \"%s\": the last input dim must be known, got %s",
                                self->name, nn_shape_str(in, s, sizeof s));
    int64_t fan_in = in->dim[in->ndim - 1];
    nn_layer_param(self, "kernel", 2, (int64_t[]){fan_in, d->units}, NN_INIT_GLOROT_UNIFORM, rng);
    if (d->use_bias) nn_layer_param(self, "bias", 1, (int64_t[]){d->units}, NN_INIT_ZEROS, rng);
    *out = *in;
    out->dim[in->ndim - 1] = d->units;
    return 0;
}

static Tensor *dense_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    Dense *d = (Dense *)self;
    /* Read the parameters through self->params: a model may swap their storage. */
    Tensor *kernel = self->params[0], *bias = d->use_bias ? self->params[1] : NULL;
    /* x is (B, ..., in): linear folds the leading dims into the rows of one GEMM
     * against the 2-D kernel, with the bias added inside it. */
    Tensor *y = ag_linear(tape, x, kernel, bias);
    /* With logits requested, leave softmax/sigmoid to the fused loss. */
    NnActivation act = self->activation;
    if (ctx->logits && (act == NN_SOFTMAX || act == NN_SIGMOID)) return y;
    return nn_activate(tape, y, act);
}

static void dense_get_config(const Layer *self, NnConfig *c) {
    const Dense *d = (const Dense *)self;
    nn_config_set_int(c, "units", d->units);
    nn_config_set_str(c, "activation", nn_activation_name(self->activation));
    nn_config_set_bool(c, "use_bias", d->use_bias);
}

static Layer *dense_from_config(const NnConfig *c, Layer **children, int n_children) {
    if (nn_config_no_children("Dense", children, n_children) != 0) return NULL;
    static const char *const known[] = {"units", "activation", "use_bias", NULL};
    NnDenseOpts o = {0};
    const char *act = "linear";
    bool use_bias = true;
    if (nn_config_only(c, "Dense", known) || nn_config_int(c, "Dense", "units", &o.units) < 0 ||
        nn_config_str(c, "Dense", "activation", &act) < 0 || nn_activation_parse(act, "Dense", &o.activation) ||
        nn_config_bool(c, "Dense", "use_bias", &use_bias) < 0)
        return NULL;
    o.no_bias = !use_bias;
    return nn_dense_new(&o);
}

const LayerVTable nn__dense_vt = {
    .type = "Dense",
    .build = dense_build,
    .call = dense_call,
    .get_config = dense_get_config,
    .from_config = dense_from_config,
    .compute_mask = nn_mask_keep,
};


Layer *nn_dense_new(const NnDenseOpts *opts) {
    if (!opts) {
        tensor_set_error("Dense: options are NULL");
        return NULL;
    }
    if (opts->units <= 0) {
        tensor_set_error("Dense: units must be > 0, got %lld", (long long)opts->units);
        return NULL;
    }
    if ((unsigned)opts->activation >= NN_ACTIVATION_COUNT) {
        tensor_set_error("Dense: unknown activation %d", (int)opts->activation);
        return NULL;
    }
    Dense *d = tensor_xcalloc(1, sizeof *d);
    nn_layer_init(&d->base, &nn__dense_vt, "dense");
    if (nn__layer_set_name(&d->base, "Dense", opts->name) != 0) {
        free(d);
        return NULL;
    }
    d->units = opts->units;
    d->base.activation = opts->activation;
    d->use_bias = !opts->no_bias;
    return &d->base;
}
