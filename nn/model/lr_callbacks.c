/* The callbacks that set the learning rate, as Keras 3's: LearningRateScheduler (at
 * each epoch's start) and ReduceLROnPlateau (at each epoch's end). The learning rate
 * itself is in fit's checkpoints; ReduceLROnPlateau's counters and best value are its
 * callback state. */
#include "nn/model/callbacks_internal.h"
#include "nn/model/model_internal.h"

#include <math.h>

/* The optimizer whose learning rate a callback sets: there, and not on a schedule. */
static int settable_optimizer(const Model *m, const char *who) {
    if (!m->optimizer) return tensor_set_error("%s: the model has no optimizer (compile it first)", who);
    const NnLrSchedule *s = nn_optimizer_schedule(m->optimizer);
    if (s)
        return tensor_set_error("%s: the optimizer's learning rate follows a %s schedule; give the schedule or "
                                "the callback, not both", who, nn_lr_schedule_name(s->kind));
    return 0;
}

/* ---- LearningRateScheduler ---- */

static int scheduler_on_train_begin(Model *m, void *user) {
    NnLrScheduler *s = user;
    if (!s->fn == !s->schedule)
        return tensor_set_error("LearningRateScheduler: give either a schedule function or a built-in schedule");
    if (s->schedule && nn_lr_schedule_check(s->schedule) != 0) return -1;
    return settable_optimizer(m, "LearningRateScheduler");
}

static int scheduler_on_epoch_begin(Model *m, int epoch, void *user) {
    NnLrScheduler *s = user;
    double lr = nn_optimizer_lr(m->optimizer);
    lr = s->fn ? s->fn(epoch - 1, lr, s->user) : nn_lr_schedule_at(s->schedule, epoch - 1);
    float value = (float)lr;
    if (!(value > 0 && isfinite(value)))
        return tensor_set_error("LearningRateScheduler: the schedule gave learning rate %g for epoch %d (index "
                                "%d); it must be positive and finite", lr, epoch, epoch - 1);
    nn_optimizer_set_lr(m->optimizer, value);
    return 0;
}

NnCallback nn_lr_scheduler_callback(NnLrScheduler *state) {
    return (NnCallback){.user = state, .on_train_begin = scheduler_on_train_begin,
                        .on_epoch_begin = scheduler_on_epoch_begin};
}

/* ---- ReduceLROnPlateau ---- */

static NnMonitor plateau_monitor(const NnReduceLrOnPlateau *p) {
    return (NnMonitor)nn__monitor_parse(p->monitor, "ReduceLROnPlateau");
}
static double plateau_factor(const NnReduceLrOnPlateau *p) { return p->factor != 0 ? p->factor : 0.1; }
static int plateau_patience(const NnReduceLrOnPlateau *p) { return p->patience != 0 ? p->patience : 10; }
static double plateau_min_delta(const NnReduceLrOnPlateau *p) {
    return p->no_min_delta ? 0 : p->min_delta != 0 ? p->min_delta : 1e-4;
}

static void plateau_reset(NnReduceLrOnPlateau *p) {
    p->best = nn__monitor_maximise(plateau_monitor(p)) ? -INFINITY : INFINITY;
    p->wait = p->cooldown_counter = 0;
}

static int plateau_on_train_begin(Model *m, void *user) {
    NnReduceLrOnPlateau *p = user;
    const char *who = "ReduceLROnPlateau";
    if (nn__monitor_parse(p->monitor, who) < 0) return -1;
    double factor = plateau_factor(p);
    if (!(factor > 0 && factor < 1)) return tensor_set_error("%s: factor %g must be in (0, 1)", who, factor);
    if (p->patience < 0) return tensor_set_error("%s: patience %d must be >= 0", who, p->patience);
    if (p->cooldown < 0) return tensor_set_error("%s: cooldown %d must be >= 0", who, p->cooldown);
    if (!isfinite(plateau_min_delta(p))) return tensor_set_error("%s: min_delta %g must be finite", who, p->min_delta);
    if (!(p->min_lr >= 0 && isfinite(p->min_lr)))
        return tensor_set_error("%s: min_lr %g must be finite and >= 0", who, p->min_lr);
    if (settable_optimizer(m, who) != 0) return -1;
    plateau_reset(p);
    return 0;
}

/* Keras 3's on_epoch_end, step for step (its float32 learning rate included). */
static int plateau_on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    NnReduceLrOnPlateau *p = user;
    NnMonitor monitor = plateau_monitor(p);
    double value = nn__monitor_value(monitor, logs), delta = plateau_min_delta(p);
    if (isnan(value) && monitor != NN_MONITOR_AUTO) return 0; /* not measured: Keras warns and waits */
    if (p->cooldown_counter > 0) {
        p->cooldown_counter--;
        p->wait = 0;
    }
    bool better = nn__monitor_maximise(monitor) ? value > p->best + delta : value < p->best - delta;
    if (better) {
        p->best = value;
        p->wait = 0;
    } else if (p->cooldown_counter <= 0) {
        p->wait++;
        if (p->wait >= plateau_patience(p)) {
            double old_lr = nn_optimizer_lr(m->optimizer);
            if (old_lr > (double)(float)p->min_lr) {
                double new_lr = fmax(old_lr * plateau_factor(p), p->min_lr);
                if ((float)new_lr > 0) nn_optimizer_set_lr(m->optimizer, (float)new_lr);
                p->cooldown_counter = p->cooldown;
                p->wait = 0;
            }
        }
    }
    return 0;
}

static size_t plateau_save_state(const Model *m, void *user, unsigned char *buf) {
    (void)m;
    NnReduceLrOnPlateau *p = user;
    NnStateOut o = {buf, 0};
    nn__state_f64(&o, p->best);
    nn__state_i64(&o, p->wait);
    nn__state_i64(&o, p->cooldown_counter);
    return o.len;
}

static int plateau_load_state(Model *m, void *user, const unsigned char *buf, size_t len) {
    (void)m;
    NnReduceLrOnPlateau *p = user;
    NnCursor c = {buf, len, 0, false};
    double best = nn__cursor_f64(&c);
    int64_t wait = nn__cursor_i64(&c), cooldown = nn__cursor_i64(&c);
    if (c.truncated || c.pos != len || wait < 0 || wait > INT32_MAX || cooldown < 0 || cooldown > INT32_MAX)
        return tensor_set_error("ReduceLROnPlateau: the checkpoint's state is invalid");
    p->best = best;
    p->wait = (int)wait;
    p->cooldown_counter = (int)cooldown;
    return 0;
}

NnCallback nn_reduce_lr_on_plateau_callback(NnReduceLrOnPlateau *state) {
    state->wait = state->cooldown_counter = 0;
    state->best = INFINITY;
    return (NnCallback){.on_epoch_end = plateau_on_epoch_end, .user = state,
                        .on_train_begin = plateau_on_train_begin, .name = "ReduceLROnPlateau",
                        .save_state = plateau_save_state, .load_state = plateau_load_state};
}
