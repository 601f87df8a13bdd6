/* Models: Keras's Sequential (add, compile, fit, evaluate, predict, summary) and a
 * custom model for forwards that are not a stack (call layers yourself, return a
 * loss). A model owns its layers and keeps all their parameters, gradients and
 * optimizer state in flat buffers, so an optimizer step, clipping and save/load are
 * single loops. Fallible calls return 0 / a pointer, or -1 / NULL with
 * tensor_last_error() saying what was wrong. */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include <lamina/nn/layers/layers.h>
#include <lamina/nn/model/optim.h>

#include <stdio.h>

typedef enum {
    NN_LOSS_NONE = 0,
    NN_SPARSE_CATEGORICAL_CROSSENTROPY, /* int32 class targets, fused with softmax */
    NN_CATEGORICAL_CROSSENTROPY,        /* float one-hot / probability targets */
    NN_BINARY_CROSSENTROPY,             /* float targets in [0, 1], fused with sigmoid */
    NN_MSE,                             /* float targets, mean squared error */
    NN_LOSS_COUNT,                      /* how many there are (not a loss) */
} NnLoss;

typedef struct Model Model;

/* ---- building ---- */

/* An empty Sequential model (never NULL). Free with nn_model_free. */
Model *nn_sequential(void);

/* Appends a layer (the model takes ownership, also on failure). A NULL layer (a
 * constructor that failed) is remembered and reported by nn_build / nn_compile.
 * Returns 0, or -1 with tensor_last_error() set (NULL layer, custom or built model). */
int nn_add(Model *m, Layer *layer);

/* Seeds the model's generator, which draws the initial weights (set it before
 * building) and dropout masks. The default seed is 0. */
void nn_model_seed(Model *m, uint64_t seed);

/* Keras's model.reset_states(): stateful RNNs forget their carried state, so the next
 * call starts from zeros and may use any batch size (a model trained at batch 128
 * then generates at batch 1). */
void nn_model_reset_states(Model *m);

/* Builds every layer for a per-sample input shape, inferring each output shape; a
 * layer that does not fit the previous one is reported naming both layers. */
int nn_build(Model *m, NnShape input);

typedef struct NnBuildOpts {
    /* Give parameters their shapes now and their random initial values on first use
     * (fit, evaluate, predict, a save, nn_model_params, nn_model_layer), unless a
     * load replaces them all first: a model built only to print its summary or to
     * load weights into never draws them (an LSTM(1000)'s orthogonal kernel takes a
     * second). The values drawn are exactly nn_build's. A Layer pointer kept from
     * before nn_add reads zeros until then: fetch layers with nn_model_layer. */
    bool defer_init;
    /* > 0: refuse to build when the parameters would take more floats than this (a
     * model described by a file holds no more floats than the file has bytes / 4),
     * before any of that memory is asked for. */
    int64_t max_floats;
} NnBuildOpts;
/* nn_build with options. */
int nn_build_opts(Model *m, NnShape input, const NnBuildOpts *opts);

/* Whether the model is built and every parameter holds its value (drawn or loaded). */
bool nn_model_initialised(const Model *m);

typedef struct NnCompileOpts {
    NnLoss loss;          /* required */
    Optimizer *optimizer; /* the model takes ownership; default Adam with Keras defaults */
    float clipnorm;       /* > 0: clip the global gradient norm to this before each step */
    bool accuracy;        /* also report accuracy (classification losses) */
} NnCompileOpts;
/* Sets loss and optimizer; the model must be built (or built later by fit from the
 * data's shape). Checks the loss fits the last layer. */
int nn_compile_opts(Model *m, const NnCompileOpts *opts);
/* Keras's name of a loss: "sparse_categorical_crossentropy", ..., "mse"; "none"
 * for NN_LOSS_NONE or a value out of range. */
const char *nn_loss_name(NnLoss loss);
#define nn_compile(m, ...) nn_compile_opts(m, &(NnCompileOpts){__VA_ARGS__})

/* ---- training ---- */

typedef struct NnHistory NnHistory; /* below */

/* What each epoch reports to callbacks (NaN for metrics not measured). */
typedef struct NnEpochLogs {
    int epoch;   /* 1-based */
    int epochs;
    double loss, val_loss;
    double accuracy, val_accuracy;
    double samples_per_s;
    int64_t steps; /* optimizer steps so far */
    double lr;     /* the optimizer's learning rate (nn_optimizer_lr) when the epoch ended */
} NnEpochLogs;

/* What each optimizer step reports to callbacks. */
typedef struct NnBatchLogs {
    int epoch;           /* 1-based */
    int epochs;
    int64_t step;        /* 1-based step within the epoch */
    int64_t epoch_steps; /* steps this epoch takes (fewer than a full pass when max_steps ends it) */
    int64_t steps;       /* optimizer steps so far (the model's count) */
    int64_t samples;     /* samples in this batch */
    double loss;         /* this batch's loss */
    double mean_loss;    /* the epoch's mean loss so far (including steps before a resume) */
} NnBatchLogs;

typedef struct NnCallback {
    /* Called after every epoch; return non-zero to stop training (early stopping). */
    int (*on_epoch_end)(Model *m, const NnEpochLogs *logs, void *user);
    /* Called after every optimizer step (and after a checkpoint that step wrote);
     * return non-zero to stop training after it, as max_steps would. May evaluate the
     * model (nn_evaluate) but must not train it. */
    int (*on_batch_end)(Model *m, const NnBatchLogs *logs, void *user);
    void *user;
    /* Called once before training (before a resume reads its checkpoint); return -1
     * with tensor_last_error() set to refuse the fit (options that do not fit). */
    int (*on_train_begin)(Model *m, void *user);
    /* Called before the first step of every epoch (1-based) that starts in this fit
     * call: not for the epoch a resumed checkpoint was taken in the middle of. Return
     * -1 with tensor_last_error() set to fail the fit. */
    int (*on_epoch_begin)(Model *m, int epoch, void *user);
    /* Called once when fit ends, with the history it returns, or NULL when it fails. */
    void (*on_train_end)(Model *m, const NnHistory *history, void *user);
    /* State that a checkpoint keeps and a resume gives back, under `name` (callbacks
     * with the same name are matched in order): save_state writes it to buf and
     * returns its length (with buf NULL, only the length); load_state takes it back,
     * after on_train_begin, or returns -1 with tensor_last_error() set to refuse the
     * checkpoint. The bytes are yours: write them little-endian to move files across
     * machines. A checkpoint without a callback's state leaves it as it was. */
    const char *name;
    size_t (*save_state)(const Model *m, void *user, unsigned char *buf);
    int (*load_state)(Model *m, void *user, const unsigned char *buf, size_t len);
} NnCallback;

/* Per-epoch metrics returned by fit (heap arrays of `epochs` entries). */
struct NnHistory {
    int epochs;
    double *loss, *val_loss, *accuracy, *val_accuracy;
    double *lr; /* the learning rate at each epoch's end (NnEpochLogs.lr) */
    int signal; /* SIGINT or SIGTERM when handle_signals stopped training, else 0 */
};
/* Frees a history returned by nn_fit and its arrays. Accepts NULL. */
void nn_history_free(NnHistory *history);

typedef struct NnFitOpts {
    int64_t batch_size;      /* default 32 */
    int epochs;              /* default 1 */
    bool no_shuffle;         /* default: shuffle every epoch from seed */
    uint64_t seed;
    float validation_split;  /* hold out this fraction from the end of x, y */
    Tensor *val_x, *val_y;   /* or explicit validation data */
    bool quiet;              /* no progress display */
    int64_t max_steps;       /* stop after this many optimizer steps in total, counted from the
                              * start of the original run when resuming (0: no limit) */
    const NnCallback *callbacks;
    int n_callbacks;
    /* Checkpoints: weights, optimizer state and where training stands, written
     * atomically (temporary file, fsync, rename) to checkpoint_path every
     * checkpoint_every steps (0: at the end of every epoch), at the end, and when a
     * signal stops training. A failed write leaves the previous file in place and
     * fails the fit. */
    const char *checkpoint_path;
    int64_t checkpoint_every;
    /* Continue from a checkpoint written by fit with the same data, batch size,
     * options and callbacks: the run ends with exactly the weights of an
     * uninterrupted one (same thread count). The checkpoint also gives back the
     * learning rate and the callbacks' states (NnCallback.save_state). Epochs count
     * from the start of the original run. A checkpoint that does not fit this run is
     * refused before the model changes. */
    const char *resume_path;
    /* While fitting, SIGINT and SIGTERM finish the current step, write the
     * checkpoint (to checkpoint_path, else signal_checkpoint_path, if set) and return
     * the history with `signal` set. The handlers reset on delivery, so a second
     * signal takes its default effect at once (Ctrl-C twice kills); a signal that
     * arrives after the last step is delivered again once fit has restored the
     * previous handlers. */
    bool handle_signals;
    const char *signal_checkpoint_path;
} NnFitOpts;
/* Trains on x (N, ...) and y (N, ...) and returns the history (NULL on error, such as
 * a NaN loss, with the step named in tensor_last_error(), and, when a checkpoint had
 * been written or resumed from, which file keeps the last good state: a failing step
 * never writes one). Progress goes to stderr:
 * "Epoch 3/10", a bar, loss, val_loss, samples/s and ETA; plain lines when stderr is
 * not a terminal. */
NnHistory *nn_fit_opts(Model *m, Tensor *x, Tensor *y, const NnFitOpts *opts);
#define nn_fit(m, x, y, ...) nn_fit_opts(m, x, y, &(NnFitOpts){__VA_ARGS__})

/* Mean loss (and accuracy, if accuracy is not NULL) over x, y in batches, without
 * training. Returns 0, or -1 with tensor_last_error() set (model not compiled, x or y
 * not fitting the model or each other). */
int nn_evaluate(Model *m, Tensor *x, Tensor *y, int64_t batch_size, double *loss, double *accuracy);

/* Outputs for x in batches, as a heap tensor (free with tensor_free); softmax/sigmoid
 * outputs are probabilities. NULL on error. */
Tensor *nn_predict(Model *m, Tensor *x, int64_t batch_size);

/* One optimizer step on one batch; writes the batch loss. Returns 0, or -1 with
 * tensor_last_error() set (as nn_evaluate, or a NaN/infinite loss: nothing updated). */
int nn_train_on_batch(Model *m, Tensor *x, Tensor *y, double *loss);

/* Debug mode for numerical faults: checks every op's output and every gradient for
 * NaN and infinities, so a failing step names the first op where one appeared (not
 * only the step and the parameter, which are always named). Slower; off by default. */
void nn_model_check_numerics(Model *m, bool enabled);

/* ---- custom models (the lower-level path) ---- */

/* Computes a scalar loss for one batch by calling the model's layers on the tape. */
typedef Tensor *(*NnLossFn)(Model *m, Tape *tape, void *batch, void *user);

/* A model whose forward is user code: track its layers, compile (loss NN_LOSS_NONE is
 * fine), then train with nn_custom_step. */
Model *nn_custom_model(void);

/* Adds a layer the custom model owns and trains; build it first with
 * nn_layer_build. Returns the layer, or NULL on error. */
Layer *nn_track(Model *m, Layer *layer);

/* Zero grads, forward via fn, backward, clip, optimizer step, tape reset. Writes the
 * loss; fails (naming the step) if it is NaN or infinite. */
int nn_custom_step(Model *m, NnLossFn fn, void *batch, void *user, double *loss);

/* The model's tape (for inference calls on the lower-level path; reset it yourself). */
Tape *nn_model_tape(Model *m);

/* ---- inspection, weights ---- */

/* Prints Keras's summary table (Layer (type), Output Shape, Param #, totals). */
void nn_summary(const Model *m, FILE *out);

/* Number of scalar parameters of all layers (the summary's "Total params"). */
int64_t nn_model_param_count(const Model *m);
/* Number of layers added (Sequential) or tracked (custom). */
int nn_model_layer_count(const Model *m);
/* Layer i (0-based, in the order added), owned by the model; stops with a message if
 * i is out of range. */
Layer *nn_model_layer(const Model *m, int i);

/* All parameter tensors in order (views into the flat buffer) and their count. */
Tensor *const *nn_model_params(const Model *m, int *count);

/* Optimizer steps taken so far. */
int64_t nn_model_steps(const Model *m);

/* The optimizer nn_compile gave the model (owned by it), for callbacks and programs
 * that read or set its learning rate; NULL before nn_compile. */
Optimizer *nn_model_optimizer(const Model *m);

/* Saves every parameter (and optionally optimizer state) to path: written to a
 * temporary file, flushed, then renamed over path, so a crash never destroys the
 * previous file. See docs/weights-format.md. */
int nn_save_weights(const Model *m, const char *path, bool with_optimizer);

/* Loads weights saved for the same architecture. A truncated, corrupted or
 * different-architecture file is refused with a message naming what differs, and the
 * model is left unchanged (never half-loaded). */
int nn_load_weights(Model *m, const char *path);

/* Frees the model, its layers, optimizer and buffers. Accepts NULL. */
void nn_model_free(Model *m);

#endif
