/* Optimizers over a flat parameter buffer: a step is one loop over all parameters,
 * with per-parameter state (momentum, Adam moments) kept in flat buffers too; and the
 * learning-rate schedules they can follow. */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Optimizer Optimizer;

/* ---- learning-rate schedules (Keras's keras.optimizers.schedules) ----
 * The learning rate as a function of a 0-based count t. Handed to an optimizer
 * (nn_optimizer_set_schedule), t is the number of optimizer steps taken before the
 * update, as in Keras's `Adam(learning_rate=CosineDecay(...))`; under the
 * LearningRateScheduler callback (callbacks.h) t is the 0-based epoch index. Values are
 * computed in double and used rounded to float. */

typedef enum NnLrScheduleKind {
    NN_LR_CONSTANT = 0, /* initial_lr at every t */
    /* initial_lr * decay_rate^floor(t / decay_steps): the classic step decay (Keras's
     * ExponentialDecay with staircase=True) */
    NN_LR_STEP,
    /* Keras's ExponentialDecay: initial_lr * decay_rate^(t / decay_steps), the
     * exponent floored with staircase */
    NN_LR_EXPONENTIAL,
    /* Keras's CosineDecay: with warmup_target > 0, a linear warmup from initial_lr to
     * warmup_target over warmup_steps; then from the peak p (warmup_target, else
     * initial_lr) p * ((1 - alpha) * 0.5 * (1 + cos(pi * u / decay_steps)) + alpha),
     * u the steps since the warmup, held at decay_steps (so the lr stays alpha * p) */
    NN_LR_COSINE,
    NN_LR_KIND_COUNT, /* how many there are (not a kind) */
} NnLrScheduleKind;

typedef struct NnLrSchedule {
    NnLrScheduleKind kind;
    double initial_lr;     /* the lr at t = 0; > 0 (cosine with a warmup: >= 0) */
    int64_t decay_steps;   /* step, exponential, cosine: > 0 */
    double decay_rate;     /* step, exponential: the factor per decay_steps, > 0 */
    bool staircase;        /* exponential: floor the exponent */
    double alpha;          /* cosine: the final lr as a fraction of the peak, in [0, 1] */
    int64_t warmup_steps;  /* cosine: steps of linear warmup, >= 0 */
    double warmup_target;  /* cosine: the lr the warmup ends at (0: no warmup, Keras's None) */
} NnLrSchedule;

/* Checks a schedule's fields. Returns 0, or -1 with tensor_last_error() naming the
 * field and the range it must be in. */
int nn_lr_schedule_check(const NnLrSchedule *s);

/* The learning rate at t >= 0. Stops with a message for a schedule that
 * nn_lr_schedule_check refuses or a negative t. */
double nn_lr_schedule_at(const NnLrSchedule *s, int64_t t);

/* "constant", "step", "exponential" or "cosine". */
const char *nn_lr_schedule_name(NnLrScheduleKind kind);

typedef struct NnSgdOpts {
    float lr;       /* default 0.01 (Keras) */
    float momentum; /* default 0 */
    bool nesterov;
} NnSgdOpts;
/* SGD (Keras semantics, optional momentum and Nesterov). The caller owns it until it
 * is handed to nn_compile; free with nn_optimizer_free. NULL on invalid options. */
Optimizer *nn_sgd_new(const NnSgdOpts *opts);
#define nn_sgd(...) nn_sgd_new(&(NnSgdOpts){__VA_ARGS__})

/* How Adam's second moment treats an embedding table's rows when a batch looks a row
 * up several times. Textbook Adam (PyTorch's, and lamina's default) squares the row's
 * gradient, the sum over its lookups. Keras 3 on TensorFlow hands Adam the gradient as
 * one row per lookup (an IndexedSlices), squares each row, then sums: a row's v grows
 * by the sum of its lookups' squares, its m by their plain sum, as in the summed rule;
 * rows not looked up decay and move as in both. On the sonnets character model
 * (docs/interop.md) the per-lookup rule trains faster per update. */
typedef enum NnAdamRows {
    NN_ADAM_ROWS_SUMMED = 0, /* v += (1 - beta2) (sum of the lookups' rows)^2 */
    NN_ADAM_ROWS_PER_LOOKUP, /* v += (1 - beta2) sum of (each lookup's row)^2: Keras */
} NnAdamRows;

typedef struct NnAdamOpts {
    float lr;      /* default 1e-3 */
    float beta1;   /* default 0.9 */
    float beta2;   /* default 0.999 */
    float epsilon; /* default 1e-7 (Keras) */
    /* the rule for the tables of Embedding layers (the model tracks their lookups);
     * every other parameter is textbook Adam under both */
    NnAdamRows embedding_rows;
    /* Where epsilon goes. false (default, PyTorch's and Kingma & Ba's Algorithm 1):
     * p -= lr m^ / (sqrt(v^) + eps), on the bias-corrected moments. true (Keras's and
     * TensorFlow's, the paper's "epsilon hat"): p -= lr m^ / (sqrt(v^) + eps / sqrt(1 -
     * beta2^t)), eps added to sqrt(v) before the correction: 31x larger at the first
     * step, which damps the first updates of parameters with gradients near eps. */
    bool epsilon_hat;
} NnAdamOpts;
/* Adam with bias-corrected moments (Kingma & Ba). Ownership as nn_sgd_new. NULL on
 * invalid options. */
Optimizer *nn_adam_new(const NnAdamOpts *opts);
#define nn_adam(...) nn_adam_new(&(NnAdamOpts){__VA_ARGS__})

/* Returns NULL with tensor_last_error() set for invalid options (lr <= 0, betas
 * outside [0, 1), ...). */

/* Updates n parameters in place from their gradients (allocating state on the first
 * step, sized n). The same optimizer must always see the same n. */
void nn_optimizer_step(Optimizer *opt, int64_t n, float *params, const float *grads);

/* A range of the flat buffers, [offset, offset + n), holding a table whose lookups
 * summed their gradient rows' squares into sq (n floats; ag_tape_track_lookup_squares). */
typedef struct NnLookupSquares {
    int64_t offset, n;
    const float *sq;
} NnLookupSquares;
/* nn_optimizer_step, with Adam's second moment over each span taking sq in place of the
 * squared gradient (the per-lookup rule); spans sorted by offset, not overlapping. SGD
 * ignores them. */
void nn_optimizer_step_lookups(Optimizer *opt, int64_t n, float *params, const float *grads,
                               int n_spans, const NnLookupSquares *spans);

/* The rule Adam applies to embedding tables (NN_ADAM_ROWS_SUMMED for SGD), and its
 * name: "summed" or "per_lookup" (the value of the whole-model files' key). */
NnAdamRows nn_optimizer_embedding_rows(const Optimizer *opt);
/* Whether Adam adds epsilon as Keras does (NnAdamOpts.epsilon_hat; false for SGD). */
bool nn_optimizer_epsilon_hat(const Optimizer *opt);
const char *nn_adam_rows_name(NnAdamRows rows);

/* The learning rate the next step uses, and a new one (for callbacks and apps' --lr);
 * set_lr stops with a message unless lr is positive and finite, or when the optimizer
 * follows a schedule (Keras refuses to set it then too). */
float nn_optimizer_lr(const Optimizer *opt);
void nn_optimizer_set_lr(Optimizer *opt, float lr);

/* Makes the learning rate follow a schedule of the optimizer's step count, as Keras's
 * optimizers given a LearningRateSchedule: the update after t steps (t from 0) uses
 * nn_lr_schedule_at(schedule, t), so the schedule's state is the step count a
 * checkpoint already keeps. The schedule is copied. NULL goes back to the fixed rate
 * the optimizer had. Returns 0, or -1 with tensor_last_error() set (as
 * nn_lr_schedule_check). */
int nn_optimizer_set_schedule(Optimizer *opt, const NnLrSchedule *schedule);
/* The schedule the optimizer follows (owned by it), or NULL. */
const NnLrSchedule *nn_optimizer_schedule(const Optimizer *opt);

/* "Adam" or "SGD". */
const char *nn_optimizer_name(const Optimizer *opt);

/* Optimizer state, for checkpoints: the number of steps taken, and its flat state
 * buffers (Adam: m and v; SGD with momentum: the velocity; plain SGD: none), each of
 * n floats, allocated zero-filled on first request and owned by the optimizer.
 * state_buffer stops with a message if k >= state_count or n differs from the size
 * the optimizer already has. */
int64_t nn_optimizer_iterations(const Optimizer *opt);
void nn_optimizer_set_iterations(Optimizer *opt, int64_t iterations);
int nn_optimizer_state_count(const Optimizer *opt);
float *nn_optimizer_state_buffer(Optimizer *opt, int k, int64_t n);

/* Keras get_config/from_config for optimizers: the options (and schedule) as named
 * values, and a new optimizer of type name ("Adam" or "SGD") from them; NULL with
 * tensor_last_error() naming an unknown or invalid value. */
typedef struct NnConfig NnConfig;
void nn_optimizer_get_config(const Optimizer *opt, NnConfig *config);
Optimizer *nn_optimizer_from_config(const char *name, const NnConfig *config);

/* Frees the optimizer and its state. Accepts NULL. */
void nn_optimizer_free(Optimizer *opt);

/* Scales grads so their global L2 norm is at most max_norm; returns the norm before
 * clipping. max_norm <= 0 only measures. */
float nn_clip_global_norm(int64_t n, float *grads, float max_norm);

#endif
