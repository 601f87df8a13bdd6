/* The Model struct, shared by the files that implement models (model.c: building,
 * summary, compile, custom models; fit.c: training loops; metrics.c: top-k
 * evaluation; nn/io: save/load). Not part of the public API. */
#ifndef NN_MODEL_INTERNAL_H
#define NN_MODEL_INTERNAL_H

#include "nn/layers/layer_internal.h"
#include "nn/model/model.h"

struct Model {
    bool custom;           /* a custom model: layers are tracked, forward is user code */
    Layer **layers;
    int n_layers;
    bool built;
    NnShape input;         /* per-sample input shape (Sequential) */
    bool failed;           /* a construction error happened (sticky) */
    char error[512];

    Tensor **params;       /* every parameter, in layer order (views into param_buf) */
    int n_params;
    float *param_buf;      /* all parameter values, contiguous */
    float *grad_buf;       /* all gradients, same layout */
    int64_t n_floats;
    /* Initial values not drawn yet (nn_build_opts with defer_init): drawn by the first
     * use that reads the parameters, forgotten by a load that replaces them all. */
    NnPendingInits pending;

    bool compiled;
    NnLoss loss;
    Optimizer *optimizer;
    float clipnorm;
    bool accuracy;

    /* Adam's per-lookup rule (lookup_squares.c): the Embedding tables, the sums of
     * their lookups' squared gradient rows (one buffer, tables in turn) and the spans
     * of the flat buffers they cover, sorted by offset; none under the summed rule. */
    const Tensor **lookup_tables;
    int n_lookup_tables;
    float *square_buf;
    int64_t n_square_floats;
    NnLookupSquares *lookups;

    Tape *tape;
    Rng rng;               /* dropout masks during training */
    int64_t steps;         /* optimizer steps taken */
};

/* Draws the initial values nn_build_opts deferred, if any: every function that reads
 * or updates parameter values calls this first. */
void nn__model_draw_init(Model *m);
/* After a load has written every parameter: the deferred values are never needed. */
void nn__model_loaded(Model *m);

/* Moves every layer parameter into the flat buffers (once, after building). */
int nn__model_pack(Model *m);

/* Runs the Sequential stack on x; with logits, the last layer skips a final
 * softmax/sigmoid (fused into the loss). Each layer gets the mask of the one before
 * (compute_mask); the output's mask, or NULL, goes to *mask when mask is not NULL. */
Tensor *nn__model_forward(Model *m, Tape *tape, Tensor *x, bool training, bool logits,
                          const Tensor **mask);

/* Whether the loss takes logits from the last layer (softmax/sigmoid/linear end). */
bool nn__model_loss_uses_logits(const Model *m);

/* The compiled loss of a batch from the model's outputs (logits when
 * nn__model_loss_uses_logits). Writes the count of correct predictions to *correct
 * and the number of predictions to *total when they are not NULL. With the outputs'
 * mask (NULL: none) of their (B, T) steps, only the real steps count (a batch with
 * none has loss 0). */
Tensor *nn__model_loss(Model *m, Tape *tape, Tensor *out, Tensor *y, const Tensor *mask, int64_t *correct,
                       int64_t *total);

/* A view of rows [start, start + count) of src (no copy), its header in arena (NULL:
 * the heap, free with tensor_free). */
Tensor *nn__model_rows(Arena *arena, const Tensor *src, int64_t start, int64_t count);

/* Checks x (N, ...) against the model's built input: dtype, rank, every fixed dim.
 * Returns 0, or -1 with an error starting with what. */
int nn__model_check_input(const Model *m, const Tensor *x, const char *what);

/* Builds the model from the data if needed and checks x, y (y may be NULL) against it.
 * Returns 0, or -1 with an error starting with what. */
int nn__model_prepare(Model *m, const Tensor *x, const Tensor *y, const char *what);

/* A batch made of rows idx[0..count) of src, copied into the tape's arena. */
Tensor *nn__model_gather(Tape *tape, const Tensor *src, const int64_t *idx, int64_t count);

/* One optimizer step on a batch already in the tape's arena: the loss goes to *loss,
 * and correct / total (may be NULL) count accurate predictions. Returns 0 or -1. */
int nn__model_train_step(Model *m, Tensor *xb, Tensor *yb, double *loss, int64_t *correct, int64_t *total);

/* Mean loss (and accuracy, if acc) over rows [0, n) of x, y in batches of batch,
 * without recording gradients. */
int nn__model_evaluate_rows(Model *m, Tensor *x, Tensor *y, int64_t n, int64_t batch, double *loss, double *acc);

/* Zero grads (and the lookups' squares). */
void nn__model_zero_grad(Model *m);

/* After compile: has the tape sum the squares of each lookup's gradient rows of every
 * Embedding table when the optimizer follows Adam's per-lookup rule, else forgets any
 * (lookup_squares.c). */
void nn__model_track_lookups(Model *m);
void nn__model_forget_lookups(Model *m);
void nn__model_zero_lookups(Model *m);
/* Checks every gradient is finite (else returns -1 naming the step and the first
 * parameter with a NaN or infinity, leaving the parameters untouched), then clips,
 * steps the optimizer and counts the step. */
int nn__model_apply_gradients(Model *m);
/* The message for a non-finite loss at the coming step, with the first op that
 * produced a non-finite value when numerics checking is on. Returns -1. */
int nn__model_nonfinite_loss(Model *m, double loss);

/* One callback's state in a checkpoint (NnCallback.save_state). */
#define NN_STATE_NAME_MAX 64
typedef struct NnCallbackState {
    char name[NN_STATE_NAME_MAX]; /* NnCallback.name, shorter than NN_STATE_NAME_MAX */
    size_t len;
    unsigned char *data;
} NnCallbackState;

/* Where a fit stands, saved in checkpoints so an interrupted run resumes bit for bit. */
typedef struct NnTrainState {
    int epoch;               /* 1-based epoch in progress */
    int64_t step_in_epoch;   /* steps of it already taken */
    int64_t n_train, batch_size; /* must match on resume */
    uint64_t model_rng[2];   /* the model's Rng (dropout) now */
    uint64_t shuffle_rng[2]; /* the shuffling Rng at the start of the epoch */
    double loss_sum;         /* the epoch's running sums */
    int64_t seen, correct, predictions;
    int n_history;           /* finished epochs; history holds 4 doubles each: */
    double *history;         /* loss, val_loss, accuracy, val_accuracy (heap) */
    /* Format version 2 (NaN / NULL / 0 when read from a version-1 file): */
    double lr;               /* the optimizer's learning rate */
    double *lr_history;      /* n_history learning rates, one per finished epoch (heap) */
    int n_states;            /* the callbacks' states (heap, each with heap data) */
    NnCallbackState *states;
} NnTrainState;

/* Frees what a loaded training state holds on the heap (not st itself). */
void nn__train_state_free(NnTrainState *st);

/* Weights + optimizer state + training state, written atomically. */
int nn__save_checkpoint(const Model *m, const char *path, const NnTrainState *st);
/* The weights file with the architecture text of a whole-model file (model_file.c),
 * and that text back (malloc'd, NUL-terminated; NULL with a message for a file
 * without one, or one that is not a valid weights file) with the file's length. */
int nn__save_with_architecture(const Model *m, const char *path, bool with_optimizer, const char *architecture);
char *nn__read_architecture(const char *path, int64_t *file_len);
/* Loads all three (validated before anything changes); st->history is heap memory. */
int nn__load_checkpoint(Model *m, const char *path, NnTrainState *st);
/* The same, and once the file is known good, accept sees its training state and may
 * refuse it by returning -1 with the error set, leaving the model untouched. */
typedef int (*NnAcceptTrainState)(const NnTrainState *st, void *user);
int nn__load_checkpoint_if(Model *m, const char *path, NnTrainState *st, NnAcceptTrainState accept, void *user);

#endif
