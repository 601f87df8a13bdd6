/* Training and inference loops of a Sequential model: fit (shuffled mini-batches,
 * validation, progress, callbacks, history), evaluate, predict, train_on_batch. */
#include "nn/model/model_internal.h"
#include "nn/model/progress_internal.h"
#include "tensor/system.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Elements of one sample (the product of all dims but the first). */
static int64_t row_size(const Tensor *t) { return t->ndim ? t->size / (t->shape[0] ? t->shape[0] : 1) : 1; }

/* A batch made of rows idx[0..count) of src, in the tape's arena. */
static Tensor *gather_batch(Tape *tape, const Tensor *src, const int64_t *idx, int64_t count) {
    int64_t shape[TENSOR_MAX_DIMS];
    shape[0] = count;
    for (int d = 1; d < src->ndim; d++) shape[d] = src->shape[d];
    Tensor *b = tensor_empty(ag_tape_arena(tape), src->dtype, src->ndim, shape);
    size_t bytes = (size_t)row_size(src) * (src->dtype == TENSOR_I32 ? sizeof(int32_t) : sizeof(float));
    for (int64_t i = 0; i < count; i++)
        memcpy((char *)b->data + (size_t)i * bytes, (const char *)src->data + (size_t)idx[i] * bytes, bytes);
    return b;
}

/* A view of rows [start, start+count) of src, in the tape's arena (no copy). */
static Tensor *row_range(Tape *tape, const Tensor *src, int64_t start, int64_t count) {
    int64_t shape[TENSOR_MAX_DIMS];
    shape[0] = count;
    for (int d = 1; d < src->ndim; d++) shape[d] = src->shape[d];
    size_t elem = src->dtype == TENSOR_I32 ? sizeof(int32_t) : sizeof(float);
    return tensor_view(ag_tape_arena(tape), src->dtype, (char *)src->data + (size_t)(start * row_size(src)) * elem,
                       NULL, src->ndim, shape);
}

/* Builds the model from the data if needed and checks x, y against it. */
static int prepare(Model *m, const Tensor *x, const Tensor *y, const char *what) {
    if (m->failed) return tensor_set_error("%s", m->error);
    if (m->custom) return tensor_set_error("%s: custom models train with nn_custom_step", what);
    if (!m->compiled && y) return tensor_set_error("%s: compile the model first", what);
    if (x->ndim < 1) return tensor_set_error("%s: inputs need a batch dimension", what);
    if (y && (y->ndim < 1 || y->shape[0] != x->shape[0]))
        return tensor_set_error("%s: inputs have %lld samples but targets have %lld", what,
                                (long long)x->shape[0], (long long)(y->ndim ? y->shape[0] : 0));
    if (!m->built) {
        NnShape in = {.dtype = x->dtype, .ndim = x->ndim - 1};
        for (int d = 1; d < x->ndim; d++) in.dim[d - 1] = x->shape[d];
        if (nn_build(m, in) != 0) return -1;
    }
    if (x->dtype != m->input.dtype || x->ndim - 1 != m->input.ndim)
        return tensor_set_error("%s: inputs do not match the model's input", what);
    for (int d = 0; d < m->input.ndim; d++)
        if (m->input.dim[d] >= 0 && m->input.dim[d] != x->shape[d + 1])
            return tensor_set_error("%s: input dim %d is %lld, the model was built for %lld", what, d + 1,
                                    (long long)x->shape[d + 1], (long long)m->input.dim[d]);
    if (y) {
        bool sparse = m->loss == NN_SPARSE_CATEGORICAL_CROSSENTROPY;
        if (sparse && y->dtype != TENSOR_I32)
            return tensor_set_error("%s: sparse_categorical_crossentropy needs int32 class targets", what);
        if (!sparse && y->dtype != TENSOR_F32)
            return tensor_set_error("%s: this loss needs float32 targets", what);
    }
    return 0;
}

/* Mean loss / accuracy over rows [0, n) of x, y without recording gradients. */
static int evaluate_rows(Model *m, Tensor *x, Tensor *y, int64_t n, int64_t batch, double *loss, double *acc) {
    Tape *tape = m->tape;
    bool previous = ag_set_grad_enabled(tape, false);
    double total = 0;
    int64_t correct = 0, predictions = 0;
    for (int64_t start = 0; start < n; start += batch) {
        int64_t count = n - start < batch ? n - start : batch;
        ag_tape_reset(tape);
        Tensor *xb = row_range(tape, x, start, count), *yb = row_range(tape, y, start, count);
        Tensor *out = nn__model_forward(m, tape, xb, false, nn__model_loss_uses_logits(m));
        Tensor *l = nn__model_loss(m, tape, out, yb, &correct, &predictions);
        total += (double)((const float *)l->data)[0] * (double)count;
    }
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, previous);
    *loss = n ? total / (double)n : NAN;
    if (acc) *acc = predictions ? (double)correct / (double)predictions : NAN;
    return 0;
}

int nn_evaluate(Model *m, Tensor *x, Tensor *y, int64_t batch_size, double *loss, double *accuracy) {
    if (prepare(m, x, y, "evaluate") != 0) return -1;
    if (batch_size <= 0) batch_size = 32;
    return evaluate_rows(m, x, y, x->shape[0], batch_size, loss, accuracy);
}

Tensor *nn_predict(Model *m, Tensor *x, int64_t batch_size) {
    if (prepare(m, x, NULL, "predict") != 0) return NULL;
    if (batch_size <= 0) batch_size = 32;
    Tape *tape = m->tape;
    bool previous = ag_set_grad_enabled(tape, false);
    int64_t n = x->shape[0];
    const NnShape *os = &m->layers[m->n_layers - 1]->out_shape;
    Tensor *result = NULL;
    for (int64_t start = 0; start < n; start += batch_size) {
        int64_t count = n - start < batch_size ? n - start : batch_size;
        ag_tape_reset(tape);
        Tensor *out = nn__model_forward(m, tape, row_range(tape, x, start, count), false, false);
        if (!result) {
            int64_t shape[TENSOR_MAX_DIMS];
            shape[0] = n;
            for (int d = 1; d < out->ndim; d++) shape[d] = out->shape[d];
            result = tensor_zeros(NULL, out->ndim, shape);
        }
        memcpy((float *)result->data + start * row_size(result), out->data, (size_t)out->size * sizeof(float));
    }
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, previous);
    if (!result) {
        int64_t shape[TENSOR_MAX_DIMS] = {0};
        for (int d = 0; d < os->ndim; d++) shape[d + 1] = os->dim[d] > 0 ? os->dim[d] : 0;
        result = tensor_zeros(NULL, os->ndim + 1, shape);
    }
    return result;
}

/* One optimizer step on a batch already in the tape's arena. */
static int train_step(Model *m, Tensor *xb, Tensor *yb, double *loss, int64_t *correct, int64_t *total) {
    Tape *tape = m->tape;
    nn__model_zero_grad(m);
    Tensor *out = nn__model_forward(m, tape, xb, true, nn__model_loss_uses_logits(m));
    Tensor *l = nn__model_loss(m, tape, out, yb, correct, total);
    double value = ((const float *)l->data)[0];
    *loss = value;
    if (!isfinite(value)) {
        int rc = nn__model_nonfinite_loss(m, value);
        ag_tape_reset(tape);
        return rc;
    }
    ag_backward(tape, l);
    int rc = nn__model_apply_gradients(m);
    ag_tape_reset(tape);
    return rc;
}

int nn_train_on_batch(Model *m, Tensor *x, Tensor *y, double *loss) {
    if (prepare(m, x, y, "train_on_batch") != 0) return -1;
    double value;
    ag_tape_reset(m->tape);
    Tensor *xb = row_range(m->tape, x, 0, x->shape[0]), *yb = row_range(m->tape, y, 0, y->shape[0]);
    int rc = train_step(m, xb, yb, &value, NULL, NULL);
    if (loss) *loss = value;
    return rc;
}

void nn_history_free(NnHistory *h) {
    if (!h) return;
    free(h->loss);
    free(h->val_loss);
    free(h->accuracy);
    free(h->val_accuracy);
    free(h);
}

static NnHistory *history_new(int epochs) {
    NnHistory *h = tensor_xcalloc(1, sizeof *h);
    size_t n = (size_t)(epochs > 0 ? epochs : 1);
    h->loss = tensor_xmalloc(n * sizeof(double));
    h->val_loss = tensor_xmalloc(n * sizeof(double));
    h->accuracy = tensor_xmalloc(n * sizeof(double));
    h->val_accuracy = tensor_xmalloc(n * sizeof(double));
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

static void history_put(NnHistory *h, double loss, double val_loss, double acc, double val_acc) {
    h->loss[h->epochs] = loss;
    h->val_loss[h->epochs] = val_loss;
    h->accuracy[h->epochs] = acc;
    h->val_accuracy[h->epochs] = val_acc;
    h->epochs++;
}

/* Writes a checkpoint describing the current position. */
static int write_checkpoint(Model *m, const char *path, int epoch, int64_t step_in_epoch, int64_t n_train,
                            int64_t batch, const Rng *epoch_start_rng, double loss_sum, int64_t seen,
                            int64_t correct, int64_t predictions, const NnHistory *h) {
    NnTrainState st = {.epoch = epoch, .step_in_epoch = step_in_epoch, .n_train = n_train, .batch_size = batch,
                       .model_rng = {m->rng.state, m->rng.inc},
                       .shuffle_rng = {epoch_start_rng->state, epoch_start_rng->inc},
                       .loss_sum = loss_sum, .seen = seen, .correct = correct, .predictions = predictions,
                       .n_history = h->epochs};
    st.history = tensor_xmalloc((size_t)(h->epochs ? h->epochs : 1) * 4 * sizeof(double));
    for (int e = 0; e < h->epochs; e++) {
        st.history[4 * e] = h->loss[e];
        st.history[4 * e + 1] = h->val_loss[e];
        st.history[4 * e + 2] = h->accuracy[e];
        st.history[4 * e + 3] = h->val_accuracy[e];
    }
    int rc = nn__save_checkpoint(m, path, &st);
    free(st.history);
    return rc;
}

/* What a checkpoint must agree on to continue this run. */
typedef struct ResumeCheck {
    const char *path;
    int64_t n_train, batch;
    int epochs;
} ResumeCheck;

static int resume_fits(const NnTrainState *st, void *user) {
    const ResumeCheck *c = user;
    if (st->n_train == c->n_train && st->batch_size == c->batch && st->epoch >= 1 && st->epoch <= c->epochs &&
        st->n_history <= c->epochs)
        return 0;
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

NnHistory *nn_fit_opts(Model *m, Tensor *x, Tensor *y, const NnFitOpts *o) {
    if (prepare(m, x, y, "fit") != 0) return NULL;
    int64_t batch = o->batch_size ? o->batch_size : 32;
    int epochs = o->epochs ? o->epochs : 1;
    if (batch < 0 || epochs < 0 || o->max_steps < 0 || o->checkpoint_every < 0)
        return tensor_set_error("fit: batch_size, epochs, max_steps and checkpoint_every must be positive"), NULL;
    if (!(o->validation_split >= 0 && o->validation_split < 1))
        return tensor_set_error("fit: validation_split %g must be in [0, 1)", o->validation_split), NULL;
    Tensor *vx = o->val_x, *vy = o->val_y;
    if ((vx == NULL) != (vy == NULL)) return tensor_set_error("fit: give both val_x and val_y"), NULL;
    if (vx && prepare(m, vx, vy, "fit (validation data)") != 0) return NULL;
    int64_t n = x->shape[0], n_val = 0;
    if (!vx && o->validation_split > 0) {
        /* Keras holds out the last fraction of the samples, before shuffling. */
        n_val = n - (int64_t)((double)n * (1.0 - o->validation_split));
        vx = x;
        vy = y;
    }
    int64_t n_train = n - n_val;
    if (n_train <= 0)
        return tensor_set_error("fit: no training samples (%lld given, %lld held out)", (long long)n, (long long)n_val),
               NULL;
    int64_t steps_per_epoch = (n_train + batch - 1) / batch;

    NnHistory *h = history_new(epochs);
    Rng shuffle_rng;
    tensor_rng_seed(&shuffle_rng, o->seed, 0x73687566);
    int first_epoch = 1;
    int64_t resume_step = 0, steps_before = 0; /* steps the original run took before this call */
    double resume_loss_sum = 0;
    int64_t resume_seen = 0, resume_correct = 0, resume_predictions = 0;
    const char *kept_path = NULL; /* the file holding the last good state, and its step */
    int64_t kept_step = 0;
    if (o->resume_path) {
        NnTrainState st;
        ResumeCheck check = {.path = o->resume_path, .n_train = n_train, .batch = batch, .epochs = epochs};
        if (nn__load_checkpoint_if(m, o->resume_path, &st, resume_fits, &check) != 0) {
            nn_history_free(h);
            return NULL;
        }
        for (int e = 0; e < st.n_history && e < epochs; e++)
            history_put(h, st.history[4 * e], st.history[4 * e + 1], st.history[4 * e + 2], st.history[4 * e + 3]);
        free(st.history);
        if (st.n_history >= st.epoch) return h; /* that run had already finished */
        m->rng.state = st.model_rng[0];
        m->rng.inc = st.model_rng[1];
        shuffle_rng.state = st.shuffle_rng[0];
        shuffle_rng.inc = st.shuffle_rng[1];
        first_epoch = st.epoch;
        resume_step = st.step_in_epoch;
        resume_loss_sum = st.loss_sum;
        resume_seen = st.seen;
        resume_correct = st.correct;
        resume_predictions = st.predictions;
        /* Every epoch before the checkpoint's was a full one (a shorter one ends a run). */
        steps_before = (int64_t)(st.epoch - 1) * steps_per_epoch + st.step_in_epoch;
        kept_path = o->resume_path;
        kept_step = m->steps;
    }

    int64_t *order = tensor_xmalloc((size_t)n_train * sizeof *order);
    int64_t start_steps = m->steps - steps_before; /* the model's count when the original run began */
    const char *signal_path = o->checkpoint_path ? o->checkpoint_path : o->signal_checkpoint_path;
    bool stop = false;
    int rc = 0;
    SignalGuard guard;
    signals_install(&guard, o->handle_signals);
    NnProgress progress;
    for (int epoch = first_epoch; epoch <= epochs && !stop; epoch++) {
        Rng epoch_start_rng = shuffle_rng;
        epoch_order(order, n_train, !o->no_shuffle, &shuffle_rng);
        int64_t s = epoch == first_epoch ? resume_step : 0; /* steps of this epoch done */
        int64_t epoch_steps = steps_per_epoch;
        if (o->max_steps && s + o->max_steps - (m->steps - start_steps) < epoch_steps)
            epoch_steps = s + o->max_steps - (m->steps - start_steps);
        nn__progress_epoch_start(&progress, stderr, o->quiet, epoch, epochs, epoch_steps);
        bool resumed = epoch == first_epoch && o->resume_path;
        double loss_sum = resumed ? resume_loss_sum : 0;
        int64_t seen = resumed ? resume_seen : 0, correct = resumed ? resume_correct : 0;
        int64_t predictions = resumed ? resume_predictions : 0;
        while (s < epoch_steps) {
            int64_t first = s * batch, count = n_train - first < batch ? n_train - first : batch;
            ag_tape_reset(m->tape);
            Tensor *xb = gather_batch(m->tape, x, order + first, count);
            Tensor *yb = gather_batch(m->tape, y, order + first, count);
            double loss;
            if (train_step(m, xb, yb, &loss, m->accuracy ? &correct : NULL, &predictions) != 0) {
                if (!o->quiet) fputc('\n', stderr);
                name_kept_checkpoint(kept_path, kept_step);
                rc = -1;
                break;
            }
            s++;
            loss_sum += loss * (double)count;
            seen += count;
            nn__progress_update(&progress, s, loss_sum / (double)seen, seen);
            /* The end of the epoch writes its own checkpoint below. */
            bool periodic = o->checkpoint_path && o->checkpoint_every &&
                            (m->steps - start_steps) % o->checkpoint_every == 0 && s < epoch_steps;
            if (periodic) {
                if (write_checkpoint(m, o->checkpoint_path, epoch, s, n_train, batch, &epoch_start_rng, loss_sum,
                                     seen, correct, predictions, h) != 0) {
                    rc = -1;
                    break;
                }
                kept_path = o->checkpoint_path;
                kept_step = m->steps;
            }
            NnBatchLogs blogs = {.epoch = epoch, .epochs = epochs, .step = s, .epoch_steps = epoch_steps,
                                 .steps = m->steps, .samples = count, .loss = loss,
                                 .mean_loss = loss_sum / (double)seen};
            for (int c = 0; c < o->n_callbacks; c++)
                if (o->callbacks[c].on_batch_end && o->callbacks[c].on_batch_end(m, &blogs, o->callbacks[c].user))
                    stop = true;
            /* Checked after the callbacks, so a signal during one stops at this step. */
            bool interrupted = pending_signal != 0;
            if (interrupted && signal_path && !(periodic && signal_path == o->checkpoint_path)) {
                if (write_checkpoint(m, signal_path, epoch, s, n_train, batch, &epoch_start_rng, loss_sum, seen,
                                     correct, predictions, h) != 0) {
                    rc = -1;
                    break;
                }
            }
            if (interrupted) {
                if (!o->quiet) fputc('\n', stderr);
                h->signal = pending_signal;
                break;
            }
            if (stop) break;
        }
        if (rc != 0 || h->signal) break;
        NnEpochLogs logs = {.epoch = epoch, .epochs = epochs, .loss = seen ? loss_sum / (double)seen : NAN,
                            .val_loss = NAN, .accuracy = NAN, .val_accuracy = NAN, .steps = m->steps};
        double elapsed = tensor_seconds() - progress.start;
        logs.samples_per_s = elapsed > 0 ? (double)(seen - (resumed ? resume_seen : 0)) / elapsed : 0;
        if (m->accuracy && predictions) logs.accuracy = (double)correct / (double)predictions;
        if (vx) {
            if (n_val > 0) {
                /* Held-out rows are the last n_val of x, y: evaluate that range. */
                Tensor *tx = row_range(m->tape, vx, n_train, n_val), *ty = row_range(m->tape, vy, n_train, n_val);
                Tensor hx = *tx, hy = *ty; /* copy the headers out of the arena before it resets */
                evaluate_rows(m, &hx, &hy, n_val, batch, &logs.val_loss, m->accuracy ? &logs.val_accuracy : NULL);
            } else {
                evaluate_rows(m, vx, vy, vx->shape[0], batch, &logs.val_loss, m->accuracy ? &logs.val_accuracy : NULL);
            }
        }
        nn__progress_epoch_end(&progress, s, logs.loss, logs.accuracy, logs.val_loss, logs.val_accuracy, seen);
        bool finished_epoch = s >= steps_per_epoch;
        /* A checkpoint inside an epoch (max_steps, a callback) resumes that epoch; its
         * history holds only finished epochs, so it is written before this one is added. */
        if (o->checkpoint_path && !finished_epoch) {
            if (write_checkpoint(m, o->checkpoint_path, epoch, s, n_train, batch, &epoch_start_rng, loss_sum, seen,
                                 correct, predictions, h) != 0) {
                rc = -1;
                break;
            }
            stop = true;
        }
        history_put(h, logs.loss, logs.val_loss, logs.accuracy, logs.val_accuracy);
        for (int c = 0; c < o->n_callbacks; c++)
            if (o->callbacks[c].on_epoch_end && o->callbacks[c].on_epoch_end(m, &logs, o->callbacks[c].user))
                stop = true;
        if (o->max_steps && m->steps - start_steps >= o->max_steps) stop = true;
        if (!finished_epoch) stop = true;
        /* At an epoch boundary the checkpoint points at the next epoch's start (or,
         * after the last epoch, says the run is complete); with checkpoint_every, only
         * the boundaries it falls on and the last one write. */
        bool last = epoch == epochs;
        bool due = !o->checkpoint_every || (m->steps - start_steps) % o->checkpoint_every == 0 || last || stop;
        if (o->checkpoint_path && finished_epoch && due) {
            if (write_checkpoint(m, o->checkpoint_path, last ? epoch : epoch + 1, last ? s : 0, n_train, batch,
                                 &shuffle_rng, 0, 0, 0, 0, h) != 0) {
                rc = -1;
                break;
            }
        }
    }
    signals_restore(&guard, h->signal != 0);
    free(order);
    if (rc != 0) {
        nn_history_free(h);
        return NULL;
    }
    return h;
}

/* ---- built-in callbacks ---- */

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
