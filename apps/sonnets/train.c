/* sonnets' training: the windows of the symbol stream (every position of the first
 * 90%, non-overlapping windows of the held-out 10%), the nn_fit run with its
 * callbacks, which draw the progress bar and record the per-step loss history for
 * --plot. */
#include "sonnets/sonnets_internal.h"

#include "common/status.h"

#include <math.h>
#include <stdlib.h>

/* Refuses a window longer than the data (exit status, or 0): the first 90% and the
 * held-out 10% must each hold one window and the symbol after it. */
int check_length(const Options *o, const Corpus *c) {
    int64_t n_train = (int64_t)((double)c->n * 0.9), n_val = c->n - n_train;
    if (n_train - 1 >= o->window && n_val - 1 >= o->window) return 0;
    fprintf(stderr, APP ": --seq-len %lld is too long for %s: its held-out 10%% has %lld %s and must hold a window "
                    "and the %s after it\n",
            (long long)o->window, o->common.data_file, (long long)n_val, o->kind == WORD ? "words" : "characters",
            o->kind == WORD ? "word" : "character");
    return APP_EXIT_USAGE;
}

/* Windows of the symbol stream: training at every position of the first 90%,
 * validation on non-overlapping windows of the last 10% (as the PyTorch peer). */
int make_data(const Options *o, const Corpus *c, Data *d) {
    int64_t n_train = (int64_t)((double)c->n * 0.9);
    int (*windows)(const int32_t *, int64_t, int64_t, int64_t, Tensor **, Tensor **) =
        o->kind == CHAR_MANY_TO_ONE ? nn_windows_next : nn_windows_shifted;
    if (windows(c->ids, n_train, o->window, 1, &d->x, &d->y) != 0 ||
        windows(c->ids + n_train, c->n - n_train, o->window, o->window, &d->vx, &d->vy) != 0) {
        fprintf(stderr, APP ": %s is too short for windows of %lld %s (%lld in all)\n", o->common.data_file,
                (long long)o->window, o->kind == WORD ? "words" : "characters", (long long)c->n);
        return APP_EXIT_USAGE;
    }
    return 0;
}

void data_free(Data *d) {
    tensor_free(d->x);
    tensor_free(d->y);
    tensor_free(d->vx);
    tensor_free(d->vy);
}

static void step_push(StepHistory *h, double loss, double val) {
    if ((h->steps & (h->steps - 1)) == 0) { /* 0, 1, 2, 4, ...: full */
        size_t cap = (size_t)(h->steps ? 2 * h->steps : 1);
        h->loss = realloc(h->loss, cap * sizeof(double));
        h->val = realloc(h->val, cap * sizeof(double));
        if (!h->loss || !h->val) {
            fprintf(stderr, APP ": out of memory recording the loss history\n");
            exit(APP_EXIT_FAILURE);
        }
    }
    h->loss[h->steps] = loss;
    h->val[h->steps++] = val;
}

static int on_batch_end(Model *m, const NnBatchLogs *logs, void *user) {
    Trainer *t = user;
    int64_t row = t->d->x->size / t->d->x->shape[0];
    if (logs->epoch != t->epoch) { /* the first step of an epoch in this process */
        t->epoch = logs->epoch;
        t->epoch_tokens = 0;
        nn_progbar_start(&t->progress, &(NnProgbarOpts){.epoch = logs->epoch, .epochs = t->run_epochs,
                                                        .total = logs->epoch_steps, .first_step = logs->step - 1,
                                                        .unit = "tokens", .quiet = t->o->common.quiet,
                                                        .start = t->epoch_clock});
    }
    t->epoch_tokens += logs->samples * row;
    t->tokens += logs->samples * row;
    while (t->steps.steps < logs->steps - 1) step_push(&t->steps, NAN, NAN); /* before a --resume */
    step_push(&t->steps, logs->loss, NAN);
    if (t->val_every && logs->steps % t->val_every == 0 && logs->step < logs->epoch_steps)
        nn_evaluate(m, t->d->vx, t->d->vy, t->o->common.batch_size, &t->steps.val[t->steps.steps - 1], NULL);
    nn_progbar_update(&t->progress, logs->step, t->epoch_tokens, 1, &(NnMetric){"loss", logs->mean_loss, false});
    return 0;
}

static int on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    Trainer *t = user;
    if (t->epoch != logs->epoch) return 0; /* no step of it ran here */
    if (t->val_every && t->steps.steps > 0) t->steps.val[t->steps.steps - 1] = logs->val_loss;
    t->train_seconds += tensor_seconds() - t->progress.o.start;
    const NnMetric shown[] = {{"loss", logs->loss, false}, {"val_loss", logs->val_loss, false}};
    nn_progbar_finish(&t->progress, 2, shown);
    if (logs->steps < t->planned) {
        char heading[48];
        snprintf(heading, sizeof heading, "sample after epoch %d", logs->epoch);
        sample_now(m, t->sampler, heading);
    }
    t->epoch_clock = tensor_seconds();
    return 0;
}

NnHistory *train(Model *m, const Options *o, const Data *d, Trainer *t) {
    int64_t n = d->x->shape[0], per_epoch = (n + o->common.batch_size - 1) / o->common.batch_size;
    t->planned = (int64_t)o->common.epochs * per_epoch;
    if (o->common.max_steps && o->common.max_steps < t->planned) t->planned = o->common.max_steps;
    t->run_epochs = (int)((t->planned + per_epoch - 1) / per_epoch);
    /* A one-epoch run plots per step, with val_loss measured about 25 times. */
    t->val_every = o->common.plot && t->run_epochs == 1 ? (t->planned + 24) / 25 : 0;
    NnCallback callbacks[2] = {{.on_epoch_end = on_epoch_end, .on_batch_end = on_batch_end, .user = t}};
    int n_callbacks = 1;
    AppReduceLr reduce_lr = o->common.reduce_lr; /* its state lives through the fit */
    if (app_fit_lr(&o->common.lr_schedule, &reduce_lr, o->common.lr, m, per_epoch, callbacks, &n_callbacks) != 0)
        return NULL;
    NnFitOpts fit = {.batch_size = o->common.batch_size, .epochs = o->common.epochs, .seed = o->common.seed,
                     .val_x = d->vx, .val_y = d->vy, .quiet = true, .max_steps = o->common.max_steps,
                     .callbacks = callbacks, .n_callbacks = n_callbacks};
    app_fit_checkpoints(&o->common, per_epoch, &fit);
    t->started = t->epoch_clock = tensor_seconds();
    return nn_fit_opts(m, d->x, d->y, &fit);
}

int write_plot(const Options *o, const NnHistory *epochs, const StepHistory *steps) {
    const char *names[] = {"loss", "val_loss"};
    bool per_epoch = epochs->epochs > 1;
    const double *ys[] = {per_epoch ? epochs->loss : steps->loss, per_epoch ? epochs->val_loss : steps->val};
    int64_t lens[] = {per_epoch ? epochs->epochs : steps->steps, per_epoch ? epochs->epochs : steps->steps};
    char title[128];
    snprintf(title, sizeof title, "sonnets --model %s on %s", kind_names[o->kind], o->common.data_file);
    if (nn_plot_curves_svg(o->common.plot, title, per_epoch ? "epoch" : "step",
                           o->kind == WORD ? "cross-entropy per word (nats)" : "cross-entropy per character (nats)",
                           2, names, ys, lens) != 0) {
        fprintf(stderr, APP ": cannot write the plot: %s\n", tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    if (!o->common.quiet) fprintf(stderr, "plot written to %s\n", o->common.plot);
    return 0;
}
