/* SGD (momentum, Nesterov) and Adam over flat parameter buffers, plus global-norm
 * gradient clipping. Adam follows Kingma & Ba's Algorithm 1 with bias-corrected
 * moments (PyTorch's form); Keras's defaults for lr, betas and epsilon. */
#include "nn/model/optim.h"

#include "tensor/error.h"
#include "tensor/optim_kernels_internal.h"
#include "tensor/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OPT_SGD, OPT_ADAM } OptKind;

struct Optimizer {
    OptKind kind;
    float lr, beta1, beta2, epsilon, momentum;
    bool nesterov;
    int64_t n;          /* parameter count the state was sized for (0 before the first step) */
    int64_t iterations; /* steps taken */
    bool scheduled;     /* lr follows `schedule` of iterations */
    NnLrSchedule schedule;
    float *state[2];    /* Adam: m, v; SGD with momentum: velocity */
};

static Optimizer *optimizer_alloc(OptKind kind, float lr) {
    Optimizer *opt = tensor_xcalloc(1, sizeof *opt);
    opt->kind = kind;
    opt->lr = lr;
    return opt;
}

Optimizer *nn_sgd_new(const NnSgdOpts *opts) {
    float lr = opts->lr != 0 ? opts->lr : 0.01f;
    if (!(lr > 0 && isfinite(lr))) return tensor_set_error("SGD: learning rate %g must be positive", lr), NULL;
    if (!(opts->momentum >= 0 && opts->momentum < 1))
        return tensor_set_error("SGD: momentum %g must be in [0, 1)", opts->momentum), NULL;
    if (opts->nesterov && opts->momentum == 0)
        return tensor_set_error("SGD: Nesterov momentum needs momentum > 0"), NULL;
    Optimizer *opt = optimizer_alloc(OPT_SGD, lr);
    opt->momentum = opts->momentum;
    opt->nesterov = opts->nesterov;
    return opt;
}

Optimizer *nn_adam_new(const NnAdamOpts *opts) {
    float lr = opts->lr != 0 ? opts->lr : 1e-3f;
    float beta1 = opts->beta1 != 0 ? opts->beta1 : 0.9f;
    float beta2 = opts->beta2 != 0 ? opts->beta2 : 0.999f;
    float epsilon = opts->epsilon != 0 ? opts->epsilon : 1e-7f;
    if (!(lr > 0 && isfinite(lr))) return tensor_set_error("Adam: learning rate %g must be positive", lr), NULL;
    if (!(beta1 >= 0 && beta1 < 1)) return tensor_set_error("Adam: beta1 %g must be in [0, 1)", beta1), NULL;
    if (!(beta2 >= 0 && beta2 < 1)) return tensor_set_error("Adam: beta2 %g must be in [0, 1)", beta2), NULL;
    if (!(epsilon > 0 && isfinite(epsilon))) return tensor_set_error("Adam: epsilon %g must be positive", epsilon), NULL;
    Optimizer *opt = optimizer_alloc(OPT_ADAM, lr);
    opt->beta1 = beta1;
    opt->beta2 = beta2;
    opt->epsilon = epsilon;
    return opt;
}

int nn_optimizer_state_count(const Optimizer *opt) {
    if (opt->kind == OPT_ADAM) return 2;
    return opt->momentum > 0 ? 1 : 0;
}

float *nn_optimizer_state_buffer(Optimizer *opt, int k, int64_t n) {
    TENSOR_CHECK(k >= 0 && k < nn_optimizer_state_count(opt), "%s has no state buffer %d",
                 nn_optimizer_name(opt), k);
    TENSOR_CHECK(opt->n == 0 || opt->n == n, "%s: state sized for %lld parameters, asked for %lld",
                 nn_optimizer_name(opt), (long long)opt->n, (long long)n);
    if (opt->n == 0) {
        for (int i = 0; i < nn_optimizer_state_count(opt); i++)
            opt->state[i] = tensor_xcalloc((size_t)(n ? n : 1), sizeof(float));
        opt->n = n;
    }
    return opt->state[k];
}

void nn_optimizer_step(Optimizer *opt, int64_t n, float *params, const float *grads) {
    for (int k = 0; k < nn_optimizer_state_count(opt); k++) nn_optimizer_state_buffer(opt, k, n);
    float lr = nn_optimizer_lr(opt); /* Keras: the schedule at the steps taken before this one */
    opt->iterations++;
    if (opt->kind == OPT_ADAM) {
        float b1 = opt->beta1, b2 = opt->beta2, eps = opt->epsilon;
        double t = (double)opt->iterations;
        float c1 = (float)(1.0 / (1.0 - pow(b1, t)));       /* bias corrections */
        float c2 = (float)(1.0 / sqrt(1.0 - pow(b2, t)));
        /* One fused SIMD pass: at millions of parameters this is memory-bound. */
        tensor_adam_update(n, params, grads, opt->state[0], opt->state[1], b1, b2, lr, c1, c2, eps);
    } else if (opt->momentum > 0) {
        float mu = opt->momentum, *vel = opt->state[0];
        bool nesterov = opt->nesterov;
        /* Keras's form: v = mu v - lr g; p += v (or mu v - lr g with Nesterov). */
        TENSOR_PARALLEL_FOR(n)
        for (int64_t i = 0; i < n; i++) {
            vel[i] = mu * vel[i] - lr * grads[i];
            params[i] += nesterov ? mu * vel[i] - lr * grads[i] : vel[i];
        }
    } else {
        TENSOR_PARALLEL_FOR(n)
        for (int64_t i = 0; i < n; i++) params[i] -= lr * grads[i];
    }
}

float nn_optimizer_lr(const Optimizer *opt) {
    return opt->scheduled ? (float)nn_lr_schedule_at(&opt->schedule, opt->iterations) : opt->lr;
}

void nn_optimizer_set_lr(Optimizer *opt, float lr) {
    TENSOR_CHECK(lr > 0 && isfinite(lr), "%s: learning rate %g must be positive", nn_optimizer_name(opt), lr);
    TENSOR_CHECK(!opt->scheduled, "%s: the learning rate follows a %s schedule and cannot be set",
                 nn_optimizer_name(opt), nn_lr_schedule_name(opt->schedule.kind));
    opt->lr = lr;
}

int nn_optimizer_set_schedule(Optimizer *opt, const NnLrSchedule *schedule) {
    if (!schedule) {
        opt->scheduled = false;
        return 0;
    }
    if (nn_lr_schedule_check(schedule) != 0) return -1;
    opt->schedule = *schedule;
    opt->scheduled = true;
    return 0;
}

const NnLrSchedule *nn_optimizer_schedule(const Optimizer *opt) { return opt->scheduled ? &opt->schedule : NULL; }

const char *nn_optimizer_name(const Optimizer *opt) { return opt->kind == OPT_ADAM ? "Adam" : "SGD"; }

int64_t nn_optimizer_iterations(const Optimizer *opt) { return opt->iterations; }

void nn_optimizer_set_iterations(Optimizer *opt, int64_t iterations) { opt->iterations = iterations; }

void nn_optimizer_free(Optimizer *opt) {
    if (!opt) return;
    free(opt->state[0]);
    free(opt->state[1]);
    free(opt);
}

float nn_clip_global_norm(int64_t n, float *grads, float max_norm) {
    /* A fixed number of chunks summed in order: the norm does not depend on the
     * thread count, so clipping stays bit-reproducible. */
    enum { CHUNKS = 64 };
    double partial[CHUNKS];
    int64_t chunk = (n + CHUNKS - 1) / CHUNKS;
    TENSOR_PARALLEL_FOR(n)
    for (int c = 0; c < CHUNKS; c++) {
        double s = 0;
        int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
        for (int64_t i = c * chunk; i < end; i++) s += (double)grads[i] * grads[i];
        partial[c] = s;
    }
    double total = 0;
    for (int c = 0; c < CHUNKS; c++) total += partial[c];
    float norm = (float)sqrt(total);
    if (max_norm > 0 && norm > max_norm) {
        float scale = max_norm / norm;
        TENSOR_PARALLEL_FOR(n)
        for (int64_t i = 0; i < n; i++) grads[i] *= scale;
    }
    return norm;
}
