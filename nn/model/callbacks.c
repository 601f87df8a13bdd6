/* The built-in callbacks of fit: a checkpoint written at each epoch's end (optionally
 * only when the monitored loss improves) and Keras's early stopping. */
#include "nn/model/model.h"

#include <math.h>
#include <stdio.h>

static double monitored(const NnEpochLogs *logs, bool monitor_loss) {
    return (!monitor_loss && !isnan(logs->val_loss)) ? logs->val_loss : logs->loss;
}

static int checkpoint_on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    NnCheckpoint *c = user;
    double value = monitored(logs, false);
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

static int early_stopping_on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    (void)m;
    NnEarlyStopping *e = user;
    double value = monitored(logs, e->monitor_loss);
    if (value < e->best - e->min_delta) {
        e->best = value;
        e->wait = 0;
        return 0;
    }
    e->wait++;
    return e->wait >= (e->patience > 0 ? e->patience : 1); /* Keras: stop once wait reaches patience */
}

NnCallback nn_early_stopping_callback(NnEarlyStopping *state) {
    state->best = INFINITY;
    state->wait = 0;
    return (NnCallback){.on_epoch_end = early_stopping_on_epoch_end, .user = state};
}
