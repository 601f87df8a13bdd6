/* What every layer shares: the Layer base (init, build, call with its shape check,
 * parameter counting, reset, free), parameter creation with Keras's initialisers,
 * activations as tape ops, and the "(None, 40, 64)" shape strings of the summary.
 * The built-in layers live next door (dense.c, embedding.c, dropout.c, ...). */
#include "nn/layers/layer.h"
#include "nn/layers/layer_internal.h"
#include "tensor/system.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void nn_layer_init(Layer *layer, const LayerVTable *vt, const char *base_name) {
    TENSOR_CHECK(layer != NULL && vt != NULL, "nn_layer_init: layer and vtable must not be NULL");
    memset(layer, 0, sizeof *layer);
    layer->vt = vt;
    layer->trainable = true;
    snprintf(layer->name, sizeof layer->name, "%s", base_name ? base_name : "layer");
}

/* ---- parameters ---- */

/* A heap float32 tensor whose name string lives in the same allocation as its header,
 * so tensor_free() releases everything and the name can never dangle or leak. */
static Tensor *param_tensor(const char *layer_name, const char *name, int ndim,
                            const int64_t *shape) {
    int64_t size = tensor_shape_size(ndim, shape); /* checks rank, signs, overflow */
    size_t len = strlen(layer_name) + 1 + strlen(name) + 1;
    Tensor *t = tensor_xcalloc(1, sizeof *t + len);
    char *label = (char *)(t + 1);
    snprintf(label, len, "%s/%s", layer_name, name);
    t->dtype = TENSOR_F32;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->size = size;
    size_t bytes;
    if (tensor_mul_size((size_t)size, sizeof(float), &bytes) != 0)
        tensor_fatal(__FILE__, __LINE__, "parameter %s: %s", label, tensor_last_error());
    t->data = tensor_aligned_alloc(bytes);
    memset(t->data, 0, bytes);
    t->flags = TENSOR_OWNS_STRUCT | TENSOR_OWNS_DATA;
    t->name = label;
    t->requires_grad = true;
    return t;
}

/* Set by nn_layer_param when a parameter is refused (too large for this machine), and
 * turned into nn_layer_build's error, so layers need not check every call. */
static _Thread_local char param_refusal[320];
/* The floats parameters may still take while a budget is set (nn__param_budget). */
static _Thread_local int64_t budget_left = -1;

void nn__param_budget(int64_t max_floats) { budget_left = max_floats; }

Tensor *nn_layer_param(Layer *layer, const char *name, int ndim, const int64_t *shape, NnInit init,
                       Rng *rng) {
    TENSOR_CHECK(layer != NULL && name != NULL && (ndim == 0 || shape != NULL),
                 "nn_layer_param: layer, name and shape must not be NULL");
    if (param_refusal[0]) return NULL;
    /* Training keeps four floats per parameter (value, gradient, two Adam moments):
     * refuse up front what could never fit, before any allocation is attempted. */
    uint64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && count > UINT64_MAX / 16 / (uint64_t)shape[i])) {
            count = UINT64_MAX / 16;
            break;
        }
        count *= (uint64_t)shape[i];
    }
    uint64_t memory = tensor_physical_memory();
    if (memory && count * 16 > memory) {
        char dims[128];
        snprintf(param_refusal, sizeof param_refusal,
                 "parameter %s/%s of shape %s needs %.1f GiB to train (value, gradient, optimizer state), "
                 "more than this machine's %.1f GiB of memory",
                 layer->name, name, tensor_shape_str(ndim, shape, dims, sizeof dims),
                 (double)count * 16 / (1u << 30), (double)memory / (1u << 30));
        return NULL;
    }
    if (budget_left >= 0 && count > (uint64_t)budget_left) {
        char dims[128];
        snprintf(param_refusal, sizeof param_refusal,
                 "parameter %s/%s of shape %s is larger than the parameters can be (%lld more floats at most)",
                 layer->name, name, tensor_shape_str(ndim, shape, dims, sizeof dims), (long long)budget_left);
        return NULL;
    }
    if (budget_left >= 0) budget_left -= (int64_t)count;
    Tensor *t = param_tensor(layer->name, name, ndim, shape);
    nn__init_param(t, init, rng);
    layer->params = tensor_xrealloc(layer->params, (size_t)(layer->n_params + 1) * sizeof(Tensor *));
    layer->params[layer->n_params++] = t;
    return t;
}

/* ---- build and call ---- */

/* "(None, 40, 64) float32" for messages. */
static char *shape_desc(const NnShape *s, char *buf, size_t len) {
    char tmp[160];
    snprintf(buf, len, "%s %s", nn_shape_str(s, tmp, sizeof tmp),
             s->dtype == TENSOR_I32 ? "int32" : "float32");
    return buf;
}

/* Drops the parameters a failed build left behind, so the layer stays unbuilt. */
static void free_params(Layer *layer) {
    for (int i = 0; i < layer->n_params; i++) tensor_free(layer->params[i]);
    free(layer->params);
    layer->params = NULL;
    layer->n_params = 0;
}

int nn_layer_build(Layer *layer, NnShape in, Rng *rng) {
    if (!layer) return tensor_set_error("nn_layer_build: the layer is NULL");
    if (layer->built)
        return tensor_set_error("layer \"%s\" (%s) is already built", layer->name, layer->vt->type);
    char s[192];
    /* The batch axis needs one of the TENSOR_MAX_DIMS dims. */
    if (in.ndim < 0 || in.ndim > TENSOR_MAX_DIMS - 1)
        return tensor_set_error("layer \"%s\" (%s): input rank %d per sample is outside 0..%d",
                                layer->name, layer->vt->type, in.ndim, TENSOR_MAX_DIMS - 1);
    if (in.dtype != TENSOR_F32 && in.dtype != TENSOR_I32)
        return tensor_set_error("layer \"%s\" (%s): unknown input dtype %d", layer->name,
                                layer->vt->type, (int)in.dtype);
    for (int i = 0; i < in.ndim; i++)
        if (in.dim[i] <= 0 && in.dim[i] != -1)
            return tensor_set_error("layer \"%s\" (%s): input shape %s has a bad dim %lld",
                                    layer->name, layer->vt->type, shape_desc(&in, s, sizeof s),
                                    (long long)in.dim[i]);
    /* Building without an Rng still gives reproducible weights. */
    Rng fallback;
    if (!rng) {
        tensor_rng_seed(&fallback, 0, 0);
        rng = &fallback;
    }
    NnShape out = {.dtype = TENSOR_F32};
    param_refusal[0] = '\0';
    int built = layer->vt->build(layer, &in, &out, rng);
    if (param_refusal[0]) {
        free_params(layer);
        tensor_set_error("layer \"%s\" (%s): %s", layer->name, layer->vt->type, param_refusal);
        param_refusal[0] = '\0';
        return -1;
    }
    if (built != 0) {
        free_params(layer);
        return -1;
    }
    if (out.ndim < 0 || out.ndim > TENSOR_MAX_DIMS - 1) {
        free_params(layer);
        return tensor_set_error("layer \"%s\" (%s): output rank %d per sample is outside 0..%d",
                                layer->name, layer->vt->type, out.ndim, TENSOR_MAX_DIMS - 1);
    }
    layer->in_shape = in;
    layer->out_shape = out;
    layer->built = true;
    return 0;
}

Tensor *nn_layer_call(Layer *layer, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    TENSOR_CHECK(layer != NULL && tape != NULL && x != NULL,
                 "nn_layer_call: layer, tape and x must not be NULL");
    TENSOR_CHECK(layer->built, "layer \"%s\" (%s) is called before it was built", layer->name,
                 layer->vt->type);
    const NnShape *in = &layer->in_shape;
    bool ok = x->dtype == in->dtype && x->ndim == in->ndim + 1;
    for (int i = 0; ok && i < in->ndim; i++) ok = in->dim[i] == -1 || in->dim[i] == x->shape[i + 1];
    if (!ok) {
        char want[192], got[160];
        tensor_fatal(__FILE__, __LINE__,
                     "layer \"%s\" (%s) was built for input %s, got a batch %s %s", layer->name,
                     layer->vt->type, shape_desc(in, want, sizeof want),
                     tensor_shape_str(x->ndim, x->shape, got, sizeof got),
                     x->dtype == TENSOR_I32 ? "int32" : "float32");
    }
    static const NnCallCtx inference = {0};
    return layer->vt->call(layer, tape, x, ctx ? ctx : &inference);
}

/* ---- whole-layer bookkeeping ---- */

int64_t nn_layer_param_count(const Layer *layer) {
    if (!layer) return 0;
    int64_t n = 0;
    for (int i = 0; i < layer->n_params; i++) n += layer->params[i]->size;
    for (int i = 0; i < layer->n_children; i++) n += nn_layer_param_count(layer->children[i]);
    return n;
}

void nn_layer_reset_state(Layer *layer) {
    if (!layer) return;
    if (layer->vt->reset_state) layer->vt->reset_state(layer);
    for (int i = 0; i < layer->n_children; i++) nn_layer_reset_state(layer->children[i]);
}

void nn_layer_free(Layer *layer) {
    if (!layer) return;
    if (layer->vt && layer->vt->destroy) layer->vt->destroy(layer);
    for (int i = 0; i < layer->n_children; i++) nn_layer_free(layer->children[i]);
    free(layer->children);
    free_params(layer);
    free(layer);
}

/* ---- helpers ---- */

Tensor *nn_activate(Tape *tape, Tensor *x, NnActivation activation) {
    switch (activation) {
    case NN_LINEAR:
        return x;
    case NN_RELU:
        return ag_relu(tape, x);
    case NN_TANH:
        return ag_tanh(tape, x);
    case NN_SIGMOID:
        return ag_sigmoid(tape, x);
    case NN_SOFTMAX:
        return ag_softmax(tape, x, -1);
    case NN_ACTIVATION_COUNT:
        break;
    }
    tensor_fatal(__FILE__, __LINE__, "nn_activate: unknown activation %d", (int)activation);
}

char *nn_shape_str(const NnShape *shape, char *buf, size_t len) {
    if (!buf || len == 0) return buf;
    size_t used = 0;
    /* Appends while there is room; snprintf keeps buf terminated when it truncates. */
#define APPEND(...)                                                                        \
    do {                                                                                   \
        if (used < len) {                                                                  \
            int n_ = snprintf(buf + used, len - used, __VA_ARGS__);                        \
            used += n_ > 0 ? (size_t)n_ : 0;                                               \
        }                                                                                  \
    } while (0)
    APPEND("(None");
    for (int i = 0; i < shape->ndim; i++) {
        if (shape->dim[i] < 0)
            APPEND(", None");
        else
            APPEND(", %lld", (long long)shape->dim[i]);
    }
    APPEND(shape->ndim == 0 ? ",)" : ")");
#undef APPEND
    return buf;
}

/* See layer_internal.h. */
int nn__layer_set_name(Layer *layer, const char *type, const char *name) {
    if (!name) return 0;
    if (!name[0] || strlen(name) >= sizeof layer->name)
        return tensor_set_error("%s: name \"%s\" must be 1..%zu characters", type, name,
                                sizeof layer->name - 1);
    snprintf(layer->name, sizeof layer->name, "%s", name);
    return 0;
}
