/* fit's calls into its callbacks beyond the epoch and batch ends (fit_callbacks.c):
 * the train and epoch beginnings, the end, and the states checkpoints keep. */
#ifndef NN_FIT_INTERNAL_H
#define NN_FIT_INTERNAL_H

#include "nn/model/model_internal.h"

/* on_train_begin of each callback in order; -1 at the first that refuses. */
int nn__callbacks_train_begin(Model *m, const NnFitOpts *o);
/* on_epoch_begin of each; -1 at the first that fails. */
int nn__callbacks_epoch_begin(Model *m, const NnFitOpts *o, int epoch);
/* on_train_end of each (history NULL when fit fails). */
void nn__callbacks_train_end(Model *m, const NnFitOpts *o, const NnHistory *history);
/* Fills st->states with the states of the callbacks that keep one (heap; free with
 * nn__train_state_free). */
void nn__callbacks_save_states(const Model *m, const NnFitOpts *o, NnTrainState *st);
/* Gives each callback the state saved under its name (the k-th of a name to the k-th
 * callback of that name); -1 when one refuses it. */
int nn__callbacks_load_states(Model *m, const NnFitOpts *o, const NnTrainState *st);

#endif
