/* Optimizers over a flat parameter buffer: a step is one loop over all parameters,
 * with per-parameter state (momentum, Adam moments) kept in flat buffers too. */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Optimizer Optimizer;

typedef struct NnSgdOpts {
    float lr;       /* default 0.01 (Keras) */
    float momentum; /* default 0 */
    bool nesterov;
} NnSgdOpts;
/* SGD (Keras semantics, optional momentum and Nesterov). The caller owns it until it
 * is handed to nn_compile; free with nn_optimizer_free. NULL on invalid options. */
Optimizer *nn_sgd_new(const NnSgdOpts *opts);
#define nn_sgd(...) nn_sgd_new(&(NnSgdOpts){__VA_ARGS__})

typedef struct NnAdamOpts {
    float lr;      /* default 1e-3 */
    float beta1;   /* default 0.9 */
    float beta2;   /* default 0.999 */
    float epsilon; /* default 1e-7 (Keras) */
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

/* Learning rate now, and a new one (for schedules and apps' --lr); set_lr stops with a
 * message unless lr is positive and finite. */
float nn_optimizer_lr(const Optimizer *opt);
void nn_optimizer_set_lr(Optimizer *opt, float lr);

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

/* Frees the optimizer and its state. Accepts NULL. */
void nn_optimizer_free(Optimizer *opt);

/* Scales grads so their global L2 norm is at most max_norm; returns the norm before
 * clipping. max_norm <= 0 only measures. */
float nn_clip_global_norm(int64_t n, float *grads, float max_norm);

#endif
