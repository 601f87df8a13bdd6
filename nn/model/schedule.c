/* Learning-rate schedules (declared in optim.h): Keras's ExponentialDecay and CosineDecay
 * (with its linear warmup), and the step decay that is ExponentialDecay's staircase. */
#include "nn/model/optim.h"

#include "tensor/error.h"

#include <math.h>

#define PI 3.14159265358979323846 /* math.h's M_PI is not C11 */

static const char *const NAMES[NN_LR_KIND_COUNT] = {"constant", "step", "exponential", "cosine"};

const char *nn_lr_schedule_name(NnLrScheduleKind kind) {
    return kind >= 0 && kind < NN_LR_KIND_COUNT ? NAMES[kind] : "unknown";
}

static bool positive(double v) { return v > 0 && isfinite(v); }

int nn_lr_schedule_check(const NnLrSchedule *s) {
    if (!(s->kind >= 0 && s->kind < NN_LR_KIND_COUNT))
        return tensor_set_error("learning-rate schedule: unknown kind %d", (int)s->kind);
    const char *name = NAMES[s->kind];
    bool warmup = s->kind == NN_LR_COSINE && s->warmup_target != 0;
    if (warmup ? !(s->initial_lr >= 0 && isfinite(s->initial_lr)) : !positive(s->initial_lr))
        return tensor_set_error("%s schedule: initial_lr %g must be %s", name, s->initial_lr,
                                warmup ? "finite and >= 0" : "positive");
    if (s->kind == NN_LR_CONSTANT) return 0;
    if (s->decay_steps <= 0)
        return tensor_set_error("%s schedule: decay_steps %lld must be positive", name, (long long)s->decay_steps);
    if (s->kind != NN_LR_COSINE) {
        if (!positive(s->decay_rate))
            return tensor_set_error("%s schedule: decay_rate %g must be positive", name, s->decay_rate);
        return 0;
    }
    if (!(s->alpha >= 0 && s->alpha <= 1))
        return tensor_set_error("cosine schedule: alpha %g must be in [0, 1]", s->alpha);
    if (s->warmup_steps < 0)
        return tensor_set_error("cosine schedule: warmup_steps %lld must be >= 0", (long long)s->warmup_steps);
    if (s->warmup_target != 0 && !positive(s->warmup_target))
        return tensor_set_error("cosine schedule: warmup_target %g must be positive (or 0: no warmup)",
                                s->warmup_target);
    if (s->warmup_steps > 0 && s->warmup_target == 0)
        return tensor_set_error("cosine schedule: %lld warmup steps need a warmup_target to warm up to",
                                (long long)s->warmup_steps);
    return 0;
}

/* Keras's _decay_function: from `peak`, u steps into decay_steps. */
static double cosine_decay(const NnLrSchedule *s, double u, double peak) {
    double completed = u / (double)s->decay_steps;
    double cosine = 0.5 * (1.0 + cos(PI * completed));
    return peak * ((1.0 - s->alpha) * cosine + s->alpha);
}

static double cosine_at(const NnLrSchedule *s, int64_t t) {
    double step = (double)t, decay = (double)s->decay_steps;
    if (s->warmup_target == 0) return cosine_decay(s, fmin(step, decay), s->initial_lr);
    double warmup = (double)s->warmup_steps;
    step = fmin(step, decay + warmup);
    if (step < warmup) /* Keras's _warmup_function */
        return (s->warmup_target - s->initial_lr) * (step / warmup) + s->initial_lr;
    return cosine_decay(s, step - warmup, s->warmup_target);
}

double nn_lr_schedule_at(const NnLrSchedule *s, int64_t t) {
    if (nn_lr_schedule_check(s) != 0) tensor_fatal(__FILE__, __LINE__, "%s", tensor_last_error());
    TENSOR_CHECK(t >= 0, "learning-rate schedule: t %lld must be >= 0", (long long)t);
    if (s->kind == NN_LR_CONSTANT) return s->initial_lr;
    if (s->kind == NN_LR_COSINE) return cosine_at(s, t);
    double p = (double)t / (double)s->decay_steps;
    bool floored = s->kind == NN_LR_STEP || s->staircase;
    return s->initial_lr * pow(s->decay_rate, floored ? floor(p) : p);
}
