/* SGD (momentum, Nesterov) and Adam over flat parameter buffers, plus global-norm
 * gradient clipping. Adam follows Kingma & Ba's Algorithm 1 with bias-corrected
 * moments (PyTorch's form), Keras's defaults for lr, betas and epsilon, and two
 * options that make it Keras's Adam: epsilon added before the bias correction, and
 * the per-lookup second moment of embedding tables (optim.h). */
#include "nn/model/optim.h"
#include "nn/layers/config.h"

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
    NnAdamRows embedding_rows;
    bool epsilon_hat;   /* eps added before the bias correction (Keras) */
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
    if (opts->embedding_rows != NN_ADAM_ROWS_SUMMED && opts->embedding_rows != NN_ADAM_ROWS_PER_LOOKUP)
        return tensor_set_error("Adam: embedding_rows %d is neither summed nor per-lookup", (int)opts->embedding_rows),
               NULL;
    Optimizer *opt = optimizer_alloc(OPT_ADAM, lr);
    opt->embedding_rows = opts->embedding_rows;
    opt->epsilon_hat = opts->epsilon_hat;
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

/* Adam over [i0, i1) of the buffers, sq (indexed from i0) or NULL for g^2. The update
 * is elementwise, so splitting the buffers into ranges changes no bit. */
static void adam_range(Optimizer *opt, int64_t i0, int64_t i1, float *params, const float *grads,
                       const float *sq, float lr, float c1, float c2, float eps) {
    if (i1 <= i0) return;
    tensor_adam_update_squares(i1 - i0, params + i0, grads + i0, sq, opt->state[0] + i0, opt->state[1] + i0,
                               opt->beta1, opt->beta2, lr, c1, c2, eps);
}

void nn_optimizer_step(Optimizer *opt, int64_t n, float *params, const float *grads) {
    nn_optimizer_step_lookups(opt, n, params, grads, 0, NULL);
}

void nn_optimizer_step_lookups(Optimizer *opt, int64_t n, float *params, const float *grads,
                               int n_spans, const NnLookupSquares *spans) {
    for (int k = 0; k < nn_optimizer_state_count(opt); k++) nn_optimizer_state_buffer(opt, k, n);
    float lr = nn_optimizer_lr(opt); /* Keras: the schedule at the steps taken before this one */
    opt->iterations++;
    if (opt->kind == OPT_ADAM) {
        double t = (double)opt->iterations;
        float c1 = (float)(1.0 / (1.0 - pow(opt->beta1, t)));       /* bias corrections */
        float c2 = (float)(1.0 / sqrt(1.0 - pow(opt->beta2, t)));
        /* Keras's (sqrt(v) + eps) c2 is sqrt(v) c2 + eps c2 */
        float eps = opt->epsilon_hat ? opt->epsilon * c2 : opt->epsilon;
        /* Fused SIMD passes: at millions of parameters this is memory-bound. */
        int64_t at = 0;
        for (int k = 0; k < n_spans; k++) {
            const NnLookupSquares *s = &spans[k];
            TENSOR_CHECK(s->offset >= at && s->n >= 0 && s->offset + s->n <= n,
                         "Adam: lookup span %d [%lld, %lld) is out of order or outside the %lld parameters", k,
                         (long long)s->offset, (long long)(s->offset + s->n), (long long)n);
            adam_range(opt, at, s->offset, params, grads, NULL, lr, c1, c2, eps);
            adam_range(opt, s->offset, s->offset + s->n, params, grads, s->sq, lr, c1, c2, eps);
            at = s->offset + s->n;
        }
        adam_range(opt, at, n, params, grads, NULL, lr, c1, c2, eps);
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

NnAdamRows nn_optimizer_embedding_rows(const Optimizer *opt) {
    return opt->kind == OPT_ADAM ? opt->embedding_rows : NN_ADAM_ROWS_SUMMED;
}

bool nn_optimizer_epsilon_hat(const Optimizer *opt) { return opt->kind == OPT_ADAM && opt->epsilon_hat; }

const char *nn_adam_rows_name(NnAdamRows rows) { return rows == NN_ADAM_ROWS_PER_LOOKUP ? "per_lookup" : "summed"; }

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

/* ---- configuration (whole-model files) ---- */

static void schedule_get_config(const NnLrSchedule *s, NnConfig *c) {
    nn_config_set_str(c, "schedule", nn_lr_schedule_name(s->kind));
    nn_config_set_float(c, "schedule_initial_lr", s->initial_lr);
    nn_config_set_int(c, "schedule_decay_steps", s->decay_steps);
    nn_config_set_float(c, "schedule_decay_rate", s->decay_rate);
    nn_config_set_bool(c, "schedule_staircase", s->staircase);
    nn_config_set_float(c, "schedule_alpha", s->alpha);
    nn_config_set_int(c, "schedule_warmup_steps", s->warmup_steps);
    nn_config_set_float(c, "schedule_warmup_target", s->warmup_target);
}

void nn_optimizer_get_config(const Optimizer *opt, NnConfig *c) {
    nn_config_set_float32(c, "lr", opt->lr);
    if (opt->kind == OPT_ADAM) {
        nn_config_set_float32(c, "beta1", opt->beta1);
        nn_config_set_float32(c, "beta2", opt->beta2);
        nn_config_set_float32(c, "epsilon", opt->epsilon);
        /* only when not the default, so the files of summed-rule models stay as they were */
        if (opt->embedding_rows != NN_ADAM_ROWS_SUMMED)
            nn_config_set_str(c, "embedding_rows", nn_adam_rows_name(opt->embedding_rows));
        if (opt->epsilon_hat) nn_config_set_bool(c, "epsilon_hat", true);
    } else {
        nn_config_set_float32(c, "momentum", opt->momentum);
        nn_config_set_bool(c, "nesterov", opt->nesterov);
    }
    if (opt->scheduled) schedule_get_config(&opt->schedule, c);
}

static int schedule_from_config(const NnConfig *c, const char *what, Optimizer *opt) {
    const char *kind;
    if (nn_config_str(c, what, "schedule", &kind) != 0) return 0;
    NnLrSchedule s = {0};
    int k = 0;
    while (k < NN_LR_KIND_COUNT && strcmp(kind, nn_lr_schedule_name((NnLrScheduleKind)k)) != 0) k++;
    if (k == NN_LR_KIND_COUNT) return tensor_set_error("%s: unknown schedule \"%s\"", what, kind);
    s.kind = (NnLrScheduleKind)k;
    if (nn_config_float(c, what, "schedule_initial_lr", &s.initial_lr) < 0 ||
        nn_config_int(c, what, "schedule_decay_steps", &s.decay_steps) < 0 ||
        nn_config_float(c, what, "schedule_decay_rate", &s.decay_rate) < 0 ||
        nn_config_bool(c, what, "schedule_staircase", &s.staircase) < 0 ||
        nn_config_float(c, what, "schedule_alpha", &s.alpha) < 0 ||
        nn_config_int(c, what, "schedule_warmup_steps", &s.warmup_steps) < 0 ||
        nn_config_float(c, what, "schedule_warmup_target", &s.warmup_target) < 0)
        return -1;
    return nn_optimizer_set_schedule(opt, &s);
}

/* A value a float holds (lr 1e39 must not become inf, nor 1e-300 become 0). The
 * constructors read 0 as "the default", so a 0 that is no valid value (lr, epsilon)
 * is refused here rather than replaced. */
static int read_float(const NnConfig *c, const char *what, const char *key, float *out, bool zero_ok) {
    double v = *out;
    if (nn_config_float(c, what, key, &v) < 0) return -1;
    if (!isfinite((float)v) || (v != 0 && (float)v == 0) || (v == 0 && !zero_ok))
        return tensor_set_error("%s: %s=%g is outside its range", what, key, v);
    *out = (float)v;
    return 0;
}

/* Adam's embedding_rows: "summed" (also when absent) or "per_lookup". */
static int read_rows(const NnConfig *c, NnAdamRows *out) {
    const char *rows;
    int rc = nn_config_str(c, "Adam", "embedding_rows", &rows);
    if (rc != 0) return rc > 0 ? 0 : -1;
    if (strcmp(rows, nn_adam_rows_name(NN_ADAM_ROWS_PER_LOOKUP)) == 0) *out = NN_ADAM_ROWS_PER_LOOKUP;
    else if (strcmp(rows, nn_adam_rows_name(NN_ADAM_ROWS_SUMMED)) == 0) *out = NN_ADAM_ROWS_SUMMED;
    else return tensor_set_error("Adam: unknown embedding_rows \"%s\" (summed or per_lookup)", rows);
    return 0;
}

Optimizer *nn_optimizer_from_config(const char *name, const NnConfig *c) {
    static const char *const adam_keys[] = {"lr", "beta1", "beta2", "epsilon", "embedding_rows", "epsilon_hat",
        "schedule", "schedule_initial_lr", "schedule_decay_steps", "schedule_decay_rate", "schedule_staircase",
        "schedule_alpha", "schedule_warmup_steps", "schedule_warmup_target", NULL};
    static const char *const sgd_keys[] = {"lr", "momentum", "nesterov", "schedule", "schedule_initial_lr",
        "schedule_decay_steps", "schedule_decay_rate", "schedule_staircase", "schedule_alpha",
        "schedule_warmup_steps", "schedule_warmup_target", NULL};
    Optimizer *opt = NULL;
    if (strcmp(name, "Adam") == 0) {
        NnAdamOpts o = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-7f};
        if (nn_config_only(c, "Adam", adam_keys) || read_float(c, "Adam", "lr", &o.lr, false) ||
            read_float(c, "Adam", "beta1", &o.beta1, true) || read_float(c, "Adam", "beta2", &o.beta2, true) ||
            read_float(c, "Adam", "epsilon", &o.epsilon, false) || read_rows(c, &o.embedding_rows) ||
            nn_config_bool(c, "Adam", "epsilon_hat", &o.epsilon_hat) < 0)
            return NULL;
        opt = nn_adam_new(&o);
        if (opt) opt->beta1 = o.beta1, opt->beta2 = o.beta2; /* a beta of 0 is valid, not "the default" */
    } else if (strcmp(name, "SGD") == 0) {
        NnSgdOpts o = {.lr = 0.01f};
        if (nn_config_only(c, "SGD", sgd_keys) || read_float(c, "SGD", "lr", &o.lr, false) ||
            read_float(c, "SGD", "momentum", &o.momentum, true) ||
            nn_config_bool(c, "SGD", "nesterov", &o.nesterov) < 0)
            return NULL;
        opt = nn_sgd_new(&o);
    } else {
        return tensor_set_error("unknown optimizer \"%s\" (Adam or SGD)", name), NULL;
    }
    if (opt && schedule_from_config(c, name, opt) != 0) {
        nn_optimizer_free(opt);
        return NULL;
    }
    return opt;
}
