/* The Layer interface every nn layer implements, and what layers share: per-sample
 * shapes, parameter creation with Keras's initialisers, and the context a call gets.
 * A user writes a new layer by embedding `Layer` as the first member of a struct and
 * filling a LayerVTable (see docs/ and nn/layers/dense.c for the smallest example). */
#ifndef NN_LAYER_H
#define NN_LAYER_H

#include <lamina/autograd/autograd.h>
#include <lamina/autograd/ops.h>

/* The shape of one sample (no batch dim). A dim of -1 is unknown ("None" in the
 * summary), e.g. the time axis of a sequence model built without a fixed length. */
typedef struct NnShape {
    TensorDType dtype;
    int ndim;
    int64_t dim[TENSOR_MAX_DIMS];
} NnShape;

/* Shape literal: NN_SHAPE(TENSOR_I32, 40) or NN_SHAPE(TENSOR_F32, -1, 64). */
#define NN_SHAPE(dtype_, ...)                                                          \
    ((NnShape){.dtype = (dtype_),                                                      \
               .ndim = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),      \
               .dim = {__VA_ARGS__}})

typedef enum {
    NN_LINEAR = 0,
    NN_RELU,
    NN_TANH,
    NN_SIGMOID,
    NN_SOFTMAX,
    NN_ACTIVATION_COUNT, /* how many there are (not an activation) */
} NnActivation;

/* How a parameter starts out (Keras defaults per layer). */
typedef enum {
    NN_INIT_ZEROS = 0,
    NN_INIT_ONES,
    NN_INIT_GLOROT_UNIFORM, /* fan_in = dim[0], fan_out = dim[1] for 2-D */
    NN_INIT_ORTHOGONAL,     /* 2-D: rows dim[0], cols dim[1] */
    NN_INIT_UNIFORM_005,    /* U(-0.05, 0.05): Keras's Embedding default */
    NN_INIT_LSTM_BIAS,      /* zeros, with the forget-gate quarter set to 1 */
} NnInit;

/* What one call of a layer may depend on. */
typedef struct NnCallCtx {
    bool training; /* dropout active (stateful RNNs carry state in either mode) */
    bool logits;   /* the caller wants pre-softmax outputs (fused cross-entropy) */
    Rng *rng;      /* for dropout; may be NULL when not training */
    /* Keras's mask of x's time steps: float32 (B, T), 1 at a real step and 0 at
     * padding, or NULL for none. The RNNs honour it (see layers.h); a Sequential
     * model sets it from the layer before (LayerVTable.compute_mask). */
    const Tensor *mask;
} NnCallCtx;

typedef struct Layer Layer;
typedef struct NnConfig NnConfig; /* a layer's options as named values (config.h) */

typedef struct LayerVTable {
    const char *type; /* the Keras class name shown by summary, e.g. "LSTM" */
    /* Creates the parameters for a per-sample input shape and sets *out to the output
     * shape. Returns 0, or -1 with tensor_set_error() naming the layer and the shapes. */
    int (*build)(Layer *self, const NnShape *in, NnShape *out, Rng *rng);
    /* Runs the layer on a batch x (B, in...) and returns (B, out...), recording ops on
     * the tape. Shapes were validated by build. */
    Tensor *(*call)(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx);
    /* Forgets carried state (stateful RNNs); NULL if the layer has none. */
    void (*reset_state)(Layer *self);
    /* Frees what the layer allocated beyond the Layer base (params are freed by
     * nn_layer_free). NULL if nothing. */
    void (*destroy)(Layer *self);
    /* Keras get_config: writes the options that rebuild this layer (not its name,
     * children or weights: a model file keeps those). NULL: the layer cannot be
     * saved as part of a model file (nn_save_weights still works). */
    void (*get_config)(const Layer *self, NnConfig *config);
    /* Keras from_config: a new, unbuilt layer of this type from config and its
     * children, rebuilt first. It owns the children whatever happens: a wrapper
     * takes them, and frees them on failure; a layer that wraps nothing refuses any
     * (nn_config_no_children). NULL with tensor_last_error() naming the bad value. */
    Layer *(*from_config)(const NnConfig *config, Layer **children, int n_children);
    /* Keras compute_mask: the (B, T) mask of this layer's output, given its input x and
     * x's mask (NULL: none), in the tape's arena or mask itself; NULL for none.
     * Embedding(mask_zero) and Masking make one, RNNs with return_sequences, Dense,
     * Dropout, TimeDistributed and Bidirectional pass theirs on (nn_mask_keep). A NULL
     * hook means the output has no mask. */
    const Tensor *(*compute_mask)(Layer *self, Tape *tape, Tensor *x, const Tensor *mask);
} LayerVTable;

struct Layer {
    const LayerVTable *vt;
    char name[64];        /* unique within a model: "lstm", "lstm_1", ... */
    NnShape in_shape, out_shape;
    bool built;
    bool trainable;
    Tensor **params;      /* heap headers; their storage may live in a model's flat buffer */
    int n_params;
    Layer **children;     /* wrapped layers (TimeDistributed, Bidirectional), not owned twice */
    int n_children;
    /* The activation the layer ends with (Dense; a wrapper copies its inner layer's),
     * so a model can fuse a final softmax or sigmoid into its loss. */
    NnActivation activation;
};

/* Initialises the base of a layer struct: vtable, a name derived from the type
 * ("dense", "lstm", ... made unique when the layer joins a model), trainable. */
void nn_layer_init(Layer *layer, const LayerVTable *vt, const char *base_name);

/* Inside build: creates a parameter `<layer>/<name>` of the given shape, initialised
 * with init from rng, requiring a gradient; the layer owns it. Returns it. */
Tensor *nn_layer_param(Layer *layer, const char *name, int ndim, const int64_t *shape, NnInit init,
                       Rng *rng);

/* Builds a layer on its own (the lower-level path; a model does this for you).
 * Returns 0, or -1 with tensor_last_error() set. Building twice is an error. */
int nn_layer_build(Layer *layer, NnShape in, Rng *rng);

/* Calls a built layer on a batch: nn_layer_call(l, tape, x, &(NnCallCtx){.training = 1}).
 * Stops with a message naming the layer if x's per-sample shape differs from the one
 * it was built for (unknown dims accept any size). */
Tensor *nn_layer_call(Layer *layer, Tape *tape, Tensor *x, const NnCallCtx *ctx);

/* The mask of layer's output for input x with mask `mask` (see compute_mask): NULL
 * when the layer has no hook. The output mask of a Sequential stack is this, layer by
 * layer; losses and accuracy then count only the real steps. */
const Tensor *nn_layer_compute_mask(Layer *layer, Tape *tape, Tensor *x, const Tensor *mask);

/* A compute_mask hook that hands the input mask on unchanged (a layer that keeps the
 * time axis and treats steps alike). Drops it when x has no time axis: rank < 3
 * ((B, T, ...)). */
const Tensor *nn_mask_keep(Layer *self, Tape *tape, Tensor *x, const Tensor *mask);

/* Number of scalar parameters (recursively through children). */
int64_t nn_layer_param_count(const Layer *layer);

/* Forgets carried state, recursively. */
void nn_layer_reset_state(Layer *layer);

/* Frees the layer, its children and its parameters. Accepts NULL. */
void nn_layer_free(Layer *layer);

/* Applies an activation as tape ops (softmax over the last axis). */
Tensor *nn_activate(Tape *tape, Tensor *x, NnActivation activation);

/* Writes "(None, 40, 64)" for a per-sample shape with the batch dim shown as None. */
char *nn_shape_str(const NnShape *shape, char *buf, size_t len);

#endif
