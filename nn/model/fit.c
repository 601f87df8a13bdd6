/* The training loop of a Sequential model: fit (shuffled mini-batches, validation,
 * progress, callbacks, checkpoints, resume, stop signals, history). Batches, steps and
 * evaluation come from batch.c; the built-in callbacks are in callbacks.c. */
#include "nn/model/fit_internal.h"
#include "nn/model/progress.h"
#include "tensor/system.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void nn_history_free(NnHistory *h) {
    if (!h) return;
    free(h->loss);
    free(h->val_loss);
    free(h->accuracy);
    free(h->val_accuracy);
    free(h->lr);
    free(h);
}

static NnHistory *history_new(int epochs) {
    NnHistory *h = tensor_xcalloc(1, sizeof *h);
    size_t n = (size_t)(epochs > 0 ? epochs : 1);
    h->loss = tensor_xmalloc(n * sizeof(double));
    h->val_loss = tensor_xmalloc(n * sizeof(double));
    h->accuracy = tensor_xmalloc(n * sizeof(double));
    h->val_accuracy = tensor_xmalloc(n * sizeof(double));
    h->lr = tensor_xmalloc(n * sizeof(double));
    return h;
}

/* Set by the signal handler fit installs; read between steps. */
static volatile sig_atomic_t pending_signal;

static void on_signal(int signo) { pending_signal = signo; }

typedef struct SignalGuard {
    bool active;
    struct sigaction old_int, old_term;
} SignalGuard;

static void signals_install(SignalGuard *g, bool enabled) {
    g->active = enabled;
    pending_signal = 0;
    if (!enabled) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = (int)SA_RESETHAND; /* a second Ctrl-C kills at once (glibc: 0x80000000u) */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &g->old_int);
    sigaction(SIGTERM, &sa, &g->old_term);
}

/* Puts the previous handlers back; a signal caught but not acted on (it came after
 * the last step) is raised again, so it has the effect it would have had without fit. */
static void signals_restore(SignalGuard *g, bool acted_on) {
    if (!g->active) return;
    sigaction(SIGINT, &g->old_int, NULL);
    sigaction(SIGTERM, &g->old_term, NULL);
    int late = acted_on ? 0 : pending_signal;
    pending_signal = 0;
    if (late) raise(late);
}

/* Fisher-Yates over the identity, so an epoch's order depends only on the shuffling
 * Rng's state at its start (what a checkpoint stores). */
static void epoch_order(int64_t *order, int64_t n, bool shuffle, Rng *rng) {
    for (int64_t i = 0; i < n; i++) order[i] = i;
    if (!shuffle) return;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)tensor_rng_below(rng, (uint32_t)(i + 1));
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void history_put(NnHistory *h, double loss, double val_loss, double acc, double val_acc, double lr) {
    h->lr[h->epochs] = lr;
    h->loss[h->epochs] = loss;
    h->val_loss[h->epochs] = val_loss;
    h->accuracy[h->epochs] = acc;
    h->val_accuracy[h->epochs] = val_acc;
    h->epochs++;
}

/* An epoch's running sums: what the progress line, the logs and a checkpoint report. */
typedef struct EpochSums {
    double loss_sum;
    int64_t seen, correct, predictions;
} EpochSums;

/* One nn_fit_opts call: its settings and data, and where the run stands. */
typedef struct Fit {
    Model *m;
    const NnFitOpts *o;
    Tensor *x, *y;
    Tensor *vx, *vy;          /* validation data: val_x, val_y, or x, y with validation_split */
    int64_t batch, n_train, n_val, steps_per_epoch;
    int epochs;
    NnHistory *h;
    Rng shuffle_rng;
    int first_epoch;          /* 1, or the epoch a checkpoint resumes */
    int64_t resume_step;      /* steps of first_epoch the checkpoint had taken */
    EpochSums resume_sums;    /* and its sums then */
    int64_t start_steps;      /* the model's step count when the original run began */
    const char *kept_path;    /* the file holding the last good state, and its step */
    int64_t kept_step;
    const char *signal_path;  /* where a checkpoint goes when a signal stops the run */
    int64_t *order;           /* the epoch's sample order */
    bool stop;                /* a callback, max_steps or a mid-epoch checkpoint ends the run */
    int rc;                   /* -1 once a step or a checkpoint write failed */
} Fit;

/* The epoch in progress. */
typedef struct Epoch {
    int epoch;
    Rng start_rng;            /* the shuffling Rng at its start (what a checkpoint stores) */
    int64_t s, steps;         /* steps taken, and planned (max_steps may cut it short) */
    bool resumed;             /* it continues the checkpoint's epoch */
    EpochSums sums;
    NnProgbar progress;
} Epoch;

/* Writes a checkpoint saying the run stands at step `step` of epoch `epoch`, whose
 * shuffle started from rng, with those sums. */
static int write_checkpoint(const Fit *f, const char *path, int epoch, int64_t step, const Rng *rng,
                            const EpochSums *sums) {
    const Model *m = f->m;
    const NnHistory *h = f->h;
    NnTrainState st = {.epoch = epoch, .step_in_epoch = step, .n_train = f->n_train, .batch_size = f->batch,
                       .model_rng = {m->rng.state, m->rng.inc}, .shuffle_rng = {rng->state, rng->inc},
                       .loss_sum = sums->loss_sum, .seen = sums->seen, .correct = sums->correct,
                       .predictions = sums->predictions, .n_history = h->epochs,
                       .lr = nn_optimizer_lr(m->optimizer), .lr_history = h->lr};
    nn__callbacks_save_states(m, f->o, &st);
    st.history = tensor_xmalloc((size_t)(h->epochs ? h->epochs : 1) * 4 * sizeof(double));
    for (int e = 0; e < h->epochs; e++) {
        st.history[4 * e] = h->loss[e];
        st.history[4 * e + 1] = h->val_loss[e];
        st.history[4 * e + 2] = h->accuracy[e];
        st.history[4 * e + 3] = h->val_accuracy[e];
    }
    int rc = nn__save_checkpoint(m, path, &st);
    st.lr_history = NULL; /* the history's own */
    nn__train_state_free(&st);
    return rc;
}

/* What a checkpoint must agree on to continue this run. */
typedef struct ResumeCheck {
    const char *path;
    int64_t n_train, batch;
    int epochs;
    Model *m;               /* whose callbacks take their states back */
    const NnFitOpts *o;
} ResumeCheck;

static int resume_fits(const NnTrainState *st, void *user) {
    const ResumeCheck *c = user;
    if (st->n_train == c->n_train && st->batch_size == c->batch && st->epoch >= 1 && st->epoch <= c->epochs &&
        st->n_history <= c->epochs)
        return nn__callbacks_load_states(c->m, c->o, st);
    return tensor_set_error("fit: %s was written for %lld training samples in batches of %lld (epoch %d); this run "
                            "has %lld in batches of %lld over %d epochs",
                            c->path, (long long)st->n_train, (long long)st->batch_size, st->epoch,
                            (long long)c->n_train, (long long)c->batch, c->epochs);
}

/* Adds to the error of a failed step which file still holds the last good state. */
static void name_kept_checkpoint(const char *path, int64_t step) {
    if (!path) return;
    char reason[1024];
    snprintf(reason, sizeof reason, "%s", tensor_last_error());
    tensor_set_error("%s; %s keeps the last good checkpoint (step %lld)", reason, path, (long long)step);
}

/* Checks the data and options and fills in the defaults, the validation rows and the
 * schedule; the history is allocated last, so a refusal leaves nothing to free. */
static int fit_setup(Fit *f, Model *m, Tensor *x, Tensor *y, const NnFitOpts *o) {
    if (nn__model_prepare(m, x, y, "fit") != 0) return -1;
    *f = (Fit){.m = m, .o = o, .x = x, .y = y, .batch = o->batch_size ? o->batch_size : 32,
               .epochs = o->epochs ? o->epochs : 1, .first_epoch = 1, .start_steps = m->steps};
    if (f->batch < 0 || f->epochs < 0 || o->max_steps < 0 || o->checkpoint_every < 0)
        return tensor_set_error("fit: batch_size, epochs, max_steps and checkpoint_every must be positive");
    if (!(o->validation_split >= 0 && o->validation_split < 1))
        return tensor_set_error("fit: validation_split %g must be in [0, 1)", o->validation_split);
    f->vx = o->val_x, f->vy = o->val_y;
    if ((f->vx == NULL) != (f->vy == NULL)) return tensor_set_error("fit: give both val_x and val_y");
    if (f->vx && nn__model_prepare(m, f->vx, f->vy, "fit (validation data)") != 0) return -1;
    int64_t n = x->shape[0];
    if (!f->vx && o->validation_split > 0) {
        /* Keras holds out the last fraction of the samples, before shuffling. */
        f->n_val = n - (int64_t)((double)n * (1.0 - o->validation_split));
        f->vx = x;
        f->vy = y;
    }
    f->n_train = n - f->n_val;
    if (f->n_train <= 0)
        return tensor_set_error("fit: no training samples (%lld given, %lld held out)", (long long)n,
                                (long long)f->n_val);
    f->steps_per_epoch = (f->n_train + f->batch - 1) / f->batch;
    f->h = history_new(f->epochs);
    tensor_rng_seed(&f->shuffle_rng, o->seed, 0x73687566);
    return 0;
}

/* Takes up the run saved in o->resume_path: its history, generators, position and
 * sums. Returns 0, 1 when that run had already finished (nothing left to do), or -1
 * when the file is refused (the model unchanged). */
static int fit_resume(Fit *f) {
    Model *m = f->m;
    const NnFitOpts *o = f->o;
    NnTrainState st;
    ResumeCheck check = {.path = o->resume_path, .n_train = f->n_train, .batch = f->batch, .epochs = f->epochs,
                         .m = m, .o = o};
    if (nn__load_checkpoint_if(m, o->resume_path, &st, resume_fits, &check) != 0) return -1;
    for (int e = 0; e < st.n_history && e < f->epochs; e++)
        history_put(f->h, st.history[4 * e], st.history[4 * e + 1], st.history[4 * e + 2], st.history[4 * e + 3],
                    st.lr_history ? st.lr_history[e] : NAN);
    /* The learning rate callbacks set (a schedule's follows the restored step count). */
    if (st.lr > 0 && !nn_optimizer_schedule(m->optimizer)) nn_optimizer_set_lr(m->optimizer, (float)st.lr);
    nn__train_state_free(&st);
    if (st.n_history >= st.epoch) return 1;
    m->rng.state = st.model_rng[0];
    m->rng.inc = st.model_rng[1];
    f->shuffle_rng.state = st.shuffle_rng[0];
    f->shuffle_rng.inc = st.shuffle_rng[1];
    f->first_epoch = st.epoch;
    f->resume_step = st.step_in_epoch;
    f->resume_sums = (EpochSums){st.loss_sum, st.seen, st.correct, st.predictions};
    /* Every epoch before the checkpoint's was a full one (a shorter one ends a run). */
    int64_t steps_before = (int64_t)(st.epoch - 1) * f->steps_per_epoch + st.step_in_epoch;
    f->start_steps = m->steps - steps_before;
    f->kept_path = o->resume_path;
    f->kept_step = m->steps;
    return 0;
}

/* Starts an epoch: its sample order, its planned steps and, for the resumed one, the
 * checkpoint's position and sums. */
static void epoch_begin(Fit *f, Epoch *e, int epoch) {
    const NnFitOpts *o = f->o;
    const int64_t taken = f->m->steps - f->start_steps; /* steps of the whole run so far */
    *e = (Epoch){.epoch = epoch, .start_rng = f->shuffle_rng};
    epoch_order(f->order, f->n_train, !o->no_shuffle, &f->shuffle_rng);
    e->s = epoch == f->first_epoch ? f->resume_step : 0;
    e->steps = f->steps_per_epoch;
    if (o->max_steps && e->s + o->max_steps - taken < e->steps) e->steps = e->s + o->max_steps - taken;
    e->resumed = epoch == f->first_epoch && o->resume_path;
    nn_progbar_start(&e->progress, &(NnProgbarOpts){.epoch = epoch, .epochs = f->epochs, .total = e->steps,
                                                    .first_step = e->s, .unit = "samples", .quiet = o->quiet});
    if (e->resumed) e->sums = f->resume_sums;
}

/* One step of the epoch: the batch, the periodic checkpoint, the batch callbacks, and
 * a signal's checkpoint. Returns false when the epoch ends here: a failure (f->rc),
 * a signal (h->signal) or a callback's stop (f->stop). */
static bool fit_step(Fit *f, Epoch *e) {
    Model *m = f->m;
    const NnFitOpts *o = f->o;
    EpochSums *sums = &e->sums;
    int64_t first = e->s * f->batch, count = f->n_train - first < f->batch ? f->n_train - first : f->batch;
    ag_tape_reset(m->tape);
    Tensor *xb = nn__model_gather(m->tape, f->x, f->order + first, count);
    Tensor *yb = nn__model_gather(m->tape, f->y, f->order + first, count);
    double loss;
    if (nn__model_train_step(m, xb, yb, &loss, m->accuracy ? &sums->correct : NULL, &sums->predictions) != 0) {
        nn_progbar_break(&e->progress);
        name_kept_checkpoint(f->kept_path, f->kept_step);
        f->rc = -1;
        return false;
    }
    e->s++;
    sums->loss_sum += loss * (double)count;
    sums->seen += count;
    NnMetric loss_now = {"loss", sums->loss_sum / (double)sums->seen, false};
    nn_progbar_update(&e->progress, e->s, sums->seen - (e->resumed ? f->resume_sums.seen : 0), 1, &loss_now);
    /* The end of the epoch writes its own checkpoint (fit_epoch_end). */
    bool periodic = o->checkpoint_path && o->checkpoint_every &&
                    (m->steps - f->start_steps) % o->checkpoint_every == 0 && e->s < e->steps;
    if (periodic) {
        if (write_checkpoint(f, o->checkpoint_path, e->epoch, e->s, &e->start_rng, sums) != 0) {
            f->rc = -1;
            return false;
        }
        f->kept_path = o->checkpoint_path;
        f->kept_step = m->steps;
    }
    NnBatchLogs blogs = {.epoch = e->epoch, .epochs = f->epochs, .step = e->s, .epoch_steps = e->steps,
                         .steps = m->steps, .samples = count, .loss = loss,
                         .mean_loss = sums->loss_sum / (double)sums->seen};
    for (int c = 0; c < o->n_callbacks; c++)
        if (o->callbacks[c].on_batch_end && o->callbacks[c].on_batch_end(m, &blogs, o->callbacks[c].user))
            f->stop = true;
    /* Checked after the callbacks, so a signal during one stops at this step. */
    bool interrupted = pending_signal != 0;
    if (interrupted && f->signal_path && !(periodic && f->signal_path == o->checkpoint_path) &&
        write_checkpoint(f, f->signal_path, e->epoch, e->s, &e->start_rng, sums) != 0) {
        f->rc = -1;
        return false;
    }
    if (interrupted) {
        f->h->signal = pending_signal;
        return false;
    }
    return !f->stop;
}

/* The validation loss (and accuracy) of an epoch. */
static void fit_validate(Fit *f, NnEpochLogs *logs) {
    Model *m = f->m;
    double *acc = m->accuracy ? &logs->val_accuracy : NULL;
    if (f->n_val > 0) {
        /* Held-out rows are the last n_val of x, y: evaluate that range. */
        Tensor *tx = nn__model_rows(ag_tape_arena(m->tape), f->vx, f->n_train, f->n_val);
        Tensor *ty = nn__model_rows(ag_tape_arena(m->tape), f->vy, f->n_train, f->n_val);
        Tensor hx = *tx, hy = *ty; /* copy the headers out of the arena before it resets */
        nn__model_evaluate_rows(m, &hx, &hy, f->n_val, f->batch, &logs->val_loss, acc);
    } else {
        nn__model_evaluate_rows(m, f->vx, f->vy, f->vx->shape[0], f->batch, &logs->val_loss, acc);
    }
}

/* The end of an epoch (finished, or cut short by max_steps or a stop): its logs and
 * validation, the checkpoint, the history, the epoch callbacks, and whether the run
 * goes on (f->stop; f->rc on a failed write). */
static void fit_epoch_end(Fit *f, Epoch *e) {
    Model *m = f->m;
    const NnFitOpts *o = f->o;
    const EpochSums *sums = &e->sums;
    NnEpochLogs logs = {.epoch = e->epoch, .epochs = f->epochs,
                        .loss = sums->seen ? sums->loss_sum / (double)sums->seen : NAN, .val_loss = NAN,
                        .accuracy = NAN, .val_accuracy = NAN, .steps = m->steps,
                        .lr = nn_optimizer_lr(m->optimizer)};
    double elapsed = tensor_seconds() - e->progress.o.start;
    logs.samples_per_s =
        elapsed > 0 ? (double)(sums->seen - (e->resumed ? f->resume_sums.seen : 0)) / elapsed : 0;
    if (m->accuracy && sums->predictions) logs.accuracy = (double)sums->correct / (double)sums->predictions;
    if (f->vx) fit_validate(f, &logs);
    const NnMetric shown[] = {{"loss", logs.loss, false}, {"accuracy", logs.accuracy, true},
                              {"val_loss", logs.val_loss, false}, {"val_accuracy", logs.val_accuracy, true}};
    nn_progbar_finish(&e->progress, 4, shown);
    bool finished_epoch = e->s >= f->steps_per_epoch;
    /* A checkpoint inside an epoch (max_steps, a callback) resumes that epoch; its
     * history holds only finished epochs, so it is written before this one is added. */
    if (o->checkpoint_path && !finished_epoch) {
        if (write_checkpoint(f, o->checkpoint_path, e->epoch, e->s, &e->start_rng, sums) != 0) {
            f->rc = -1;
            return;
        }
        f->stop = true;
    }
    history_put(f->h, logs.loss, logs.val_loss, logs.accuracy, logs.val_accuracy, logs.lr);
    for (int c = 0; c < o->n_callbacks; c++)
        if (o->callbacks[c].on_epoch_end && o->callbacks[c].on_epoch_end(m, &logs, o->callbacks[c].user))
            f->stop = true;
    if (o->max_steps && m->steps - f->start_steps >= o->max_steps) f->stop = true;
    if (!finished_epoch) f->stop = true;
    /* At an epoch boundary the checkpoint points at the next epoch's start (or,
     * after the last epoch, says the run is complete); with checkpoint_every, only
     * the boundaries it falls on and the last one write. */
    bool last = e->epoch == f->epochs;
    bool due = !o->checkpoint_every || (m->steps - f->start_steps) % o->checkpoint_every == 0 || last || f->stop;
    if (o->checkpoint_path && finished_epoch && due &&
        write_checkpoint(f, o->checkpoint_path, last ? e->epoch : e->epoch + 1, last ? e->s : 0, &f->shuffle_rng,
                         &(EpochSums){0}) != 0)
        f->rc = -1;
}

NnHistory *nn_fit_opts(Model *m, Tensor *x, Tensor *y, const NnFitOpts *o) {
    Fit f;
    if (fit_setup(&f, m, x, y, o) != 0) return NULL;
    if (nn__callbacks_train_begin(m, o) != 0) {
        nn__callbacks_train_end(m, o, NULL);
        nn_history_free(f.h);
        return NULL;
    }
    if (o->resume_path) {
        int resumed = fit_resume(&f);
        if (resumed < 0) {
            nn__callbacks_train_end(m, o, NULL);
            nn_history_free(f.h);
            return NULL;
        }
        if (resumed > 0) { /* that run had already finished */
            nn__callbacks_train_end(m, o, f.h);
            return f.h;
        }
    }
    f.order = tensor_xmalloc((size_t)f.n_train * sizeof *f.order);
    f.signal_path = o->checkpoint_path ? o->checkpoint_path : o->signal_checkpoint_path;
    SignalGuard guard;
    signals_install(&guard, o->handle_signals);
    for (int epoch = f.first_epoch; epoch <= f.epochs && !f.stop; epoch++) {
        /* Not again for the epoch a checkpoint was taken in the middle of. */
        if ((epoch != f.first_epoch || f.resume_step == 0) && nn__callbacks_epoch_begin(m, o, epoch) != 0) {
            f.rc = -1;
            break;
        }
        Epoch e;
        epoch_begin(&f, &e, epoch);
        while (e.s < e.steps && fit_step(&f, &e)) continue;
        if (f.rc != 0 || f.h->signal) {
            nn_progbar_break(&e.progress); /* a failure's message starts a line of its own */
            break;
        }
        fit_epoch_end(&f, &e);
        if (f.rc != 0) break;
    }
    signals_restore(&guard, f.h->signal != 0);
    free(f.order);
    nn__callbacks_train_end(m, o, f.rc != 0 ? NULL : f.h);
    if (f.rc != 0) {
        nn_history_free(f.h);
        return NULL;
    }
    return f.h;
}
