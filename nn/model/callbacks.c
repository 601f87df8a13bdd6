/* The built-in callbacks of fit: a checkpoint written at each epoch's end (optionally
 * only when the monitored loss improves) and Keras 3's EarlyStopping, with
 * restore_best_weights and its state kept in fit's checkpoints; the monitors they and
 * ReduceLROnPlateau share. */
#include "nn/model/callbacks_internal.h"
#include "nn/model/model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int nn__monitor_parse(const char *name, const char *who) {
    static const char *const NAMES[] = {"loss", "val_loss", "accuracy", "val_accuracy"};
    if (!name) return NN_MONITOR_AUTO;
    for (int i = 0; i < 4; i++)
        if (strcmp(name, NAMES[i]) == 0) return NN_MONITOR_LOSS + i;
    return tensor_set_error("%s: unknown monitor '%s' (loss, val_loss, accuracy or val_accuracy)", who, name);
}

double nn__monitor_value(NnMonitor monitor, const NnEpochLogs *logs) {
    switch (monitor) {
    case NN_MONITOR_LOSS: return logs->loss;
    case NN_MONITOR_VAL_LOSS: return logs->val_loss;
    case NN_MONITOR_ACCURACY: return logs->accuracy;
    case NN_MONITOR_VAL_ACCURACY: return logs->val_accuracy;
    default: return !isnan(logs->val_loss) ? logs->val_loss : logs->loss;
    }
}

static int checkpoint_on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    NnCheckpoint *c = user;
    double value = nn__monitor_value(NN_MONITOR_AUTO, logs);
    if (c->save_best_only && !(value < c->best)) return 0;
    if (value < c->best) c->best = value;
    if (nn_save_weights(m, c->path, c->with_optimizer) != 0)
        fprintf(stderr, "checkpoint: could not save %s: %s\n", c->path, tensor_last_error());
    return 0;
}

NnCallback nn_checkpoint_callback(NnCheckpoint *state) {
    state->best = INFINITY;
    return (NnCallback){.on_epoch_end = checkpoint_on_epoch_end, .user = state};
}

/* ---- EarlyStopping ---- */

static NnMonitor es_monitor(const NnEarlyStopping *e) {
    if (e->monitor) return (NnMonitor)nn__monitor_parse(e->monitor, "EarlyStopping");
    return e->monitor_loss ? NN_MONITOR_LOSS : NN_MONITOR_AUTO;
}

static void es_reset(NnEarlyStopping *e) {
    e->wait = 0;
    e->best_epoch = e->stopped_epoch = 0;
    e->best = nn__monitor_maximise(es_monitor(e)) ? -INFINITY : INFINITY;
    free(e->best_weights);
    e->best_weights = NULL;
    e->n_best_weights = 0;
}

static int es_on_train_begin(Model *m, void *user) {
    (void)m;
    NnEarlyStopping *e = user;
    if (e->monitor && nn__monitor_parse(e->monitor, "EarlyStopping") < 0) return -1;
    if (e->patience < 0) return tensor_set_error("EarlyStopping: patience %d must be >= 0", e->patience);
    if (!(fabs(e->min_delta) < INFINITY))
        return tensor_set_error("EarlyStopping: min_delta %g must be finite", e->min_delta);
    es_reset(e);
    return 0;
}

static void es_keep_weights(Model *m, NnEarlyStopping *e) {
    nn__model_draw_init(m);
    if (!e->best_weights) {
        e->best_weights = tensor_xmalloc((size_t)(m->n_floats ? m->n_floats : 1) * sizeof(float));
        e->n_best_weights = m->n_floats;
    }
    if (m->n_floats) memcpy(e->best_weights, m->param_buf, (size_t)m->n_floats * sizeof(float));
}

/* Keras 3's on_epoch_end, with its comparison: value - (-min_delta) < best. */
static int es_on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    NnEarlyStopping *e = user;
    NnMonitor monitor = es_monitor(e);
    double value = nn__monitor_value(monitor, logs), delta = fabs(e->min_delta);
    if (isnan(value) && monitor != NN_MONITOR_AUTO) return 0; /* not measured: Keras warns and waits */
    if (e->restore_best_weights && !e->best_weights) { /* until one improves, the first is the best */
        es_keep_weights(m, e);
        e->best_epoch = logs->epoch;
    }
    e->wait++;
    bool better = nn__monitor_maximise(monitor) ? value - delta > e->best : value + delta < e->best;
    if (better) {
        e->best = value;
        e->best_epoch = logs->epoch;
        if (e->restore_best_weights) es_keep_weights(m, e);
        e->wait = 0;
        return 0;
    }
    if (e->wait >= e->patience && logs->epoch > 1) {
        e->stopped_epoch = logs->epoch;
        return 1;
    }
    return 0;
}

static void es_on_train_end(Model *m, const NnHistory *history, void *user) {
    NnEarlyStopping *e = user;
    if (history && e->restore_best_weights && e->best_weights && e->n_best_weights == m->n_floats && m->n_floats)
        memcpy(m->param_buf, e->best_weights, (size_t)m->n_floats * sizeof(float));
    free(e->best_weights);
    e->best_weights = NULL;
    e->n_best_weights = 0;
}

static size_t es_save_state(const Model *m, void *user, unsigned char *buf) {
    (void)m;
    NnEarlyStopping *e = user;
    NnStateOut o = {buf, 0};
    nn__state_i64(&o, e->wait);
    nn__state_f64(&o, e->best);
    nn__state_i64(&o, e->best_epoch);
    nn__state_i64(&o, e->best_weights ? e->n_best_weights : -1);
    if (e->best_weights) nn__state_bytes(&o, e->best_weights, (size_t)e->n_best_weights * sizeof(float));
    return o.len;
}

static int es_load_state(Model *m, void *user, const unsigned char *buf, size_t len) {
    NnEarlyStopping *e = user;
    NnCursor c = {buf, len, 0, false};
    int64_t wait = nn__cursor_i64(&c);
    double best = nn__cursor_f64(&c);
    int64_t best_epoch = nn__cursor_i64(&c), n = nn__cursor_i64(&c);
    bool weights_fit = n == -1 || (n == m->n_floats && len - c.pos == (size_t)n * sizeof(float));
    if (c.truncated || !weights_fit || wait < 0 || wait > INT32_MAX || best_epoch < 0 || best_epoch > INT32_MAX)
        return tensor_set_error("EarlyStopping: the checkpoint's state does not fit this model");
    es_reset(e);
    e->wait = (int)wait;
    e->best = best;
    e->best_epoch = (int)best_epoch;
    if (n >= 0 && e->restore_best_weights) {
        e->best_weights = tensor_xmalloc((size_t)(n ? n : 1) * sizeof(float));
        e->n_best_weights = n;
        memcpy(e->best_weights, buf + c.pos, (size_t)n * sizeof(float));
    }
    return 0;
}

NnCallback nn_early_stopping_callback(NnEarlyStopping *state) {
    state->best_weights = NULL; /* a fresh state may hold garbage: never freed here */
    state->n_best_weights = 0;
    state->wait = state->best_epoch = state->stopped_epoch = 0;
    state->best = INFINITY;
    return (NnCallback){.on_epoch_end = es_on_epoch_end, .user = state, .on_train_begin = es_on_train_begin,
                        .on_train_end = es_on_train_end, .name = "EarlyStopping",
                        .save_state = es_save_state, .load_state = es_load_state};
}
