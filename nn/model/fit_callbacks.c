/* fit's callbacks beyond the epoch and batch ends (see fit_internal.h). */
#include "nn/model/fit_internal.h"

#include <stdlib.h>
#include <string.h>

int nn__callbacks_train_begin(Model *m, const NnFitOpts *o) {
    for (int c = 0; c < o->n_callbacks; c++)
        if (o->callbacks[c].on_train_begin && o->callbacks[c].on_train_begin(m, o->callbacks[c].user) != 0) {
            char reason[1024];
            snprintf(reason, sizeof reason, "%s", tensor_last_error());
            return tensor_set_error("fit: %s", reason);
        }
    return 0;
}

int nn__callbacks_epoch_begin(Model *m, const NnFitOpts *o, int epoch) {
    for (int c = 0; c < o->n_callbacks; c++)
        if (o->callbacks[c].on_epoch_begin && o->callbacks[c].on_epoch_begin(m, epoch, o->callbacks[c].user) != 0)
            return -1;
    return 0;
}

void nn__callbacks_train_end(Model *m, const NnFitOpts *o, const NnHistory *history) {
    for (int c = 0; c < o->n_callbacks; c++)
        if (o->callbacks[c].on_train_end) o->callbacks[c].on_train_end(m, history, o->callbacks[c].user);
}

static bool keeps_state(const NnCallback *cb) {
    return cb->save_state && cb->name && strlen(cb->name) < NN_STATE_NAME_MAX;
}

void nn__callbacks_save_states(const Model *m, const NnFitOpts *o, NnTrainState *st) {
    st->n_states = 0;
    st->states = tensor_xcalloc((size_t)(o->n_callbacks ? o->n_callbacks : 1), sizeof *st->states);
    for (int c = 0; c < o->n_callbacks; c++) {
        const NnCallback *cb = &o->callbacks[c];
        if (!keeps_state(cb)) continue;
        NnCallbackState *s = &st->states[st->n_states++];
        snprintf(s->name, sizeof s->name, "%s", cb->name);
        s->len = cb->save_state(m, cb->user, NULL);
        s->data = tensor_xmalloc(s->len ? s->len : 1);
        cb->save_state(m, cb->user, s->data);
    }
}

/* The k-th saved state named `name`, or NULL. */
static const NnCallbackState *saved_state(const NnTrainState *st, const char *name, int k) {
    for (int i = 0; i < st->n_states; i++)
        if (strcmp(st->states[i].name, name) == 0 && k-- == 0) return &st->states[i];
    return NULL;
}

int nn__callbacks_load_states(Model *m, const NnFitOpts *o, const NnTrainState *st) {
    for (int c = 0; c < o->n_callbacks; c++) {
        const NnCallback *cb = &o->callbacks[c];
        if (!keeps_state(cb) || !cb->load_state) continue;
        int k = 0; /* how many callbacks before this one share its name */
        for (int b = 0; b < c; b++)
            if (keeps_state(&o->callbacks[b]) && strcmp(o->callbacks[b].name, cb->name) == 0) k++;
        const NnCallbackState *s = saved_state(st, cb->name, k);
        if (s && cb->load_state(m, cb->user, s->data, s->len) != 0) return -1;
    }
    return 0;
}
