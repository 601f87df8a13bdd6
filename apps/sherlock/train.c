/* sherlock's model and its training: sized against this machine's memory before
 * anything is allocated, trained through nn_fit with progress lines and an evaluation
 * after every epoch, and the loss curve --plot draws. */
#include "sherlock/sherlock_internal.h"

#include "common/memory.h"
#include "common/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Four floats per parameter (value, gradient, Adam's two moments) and a step's
 * activations (about 16 floats per LSTM unit per word, 4 per class). */
int check_memory(const Options *o, int64_t classes) {
    double v = (double)classes, e = (double)o->embed, u = (double)o->units;
    double batch = (double)o->common.batch_size;
    double params = v * e + 4 * u * (e + u + 1) + 4 * u * (2 * u + 1) + u * u + u + u * v + v;
    double bytes = 16 * params + batch * (CONTEXT * (32 * u + 2 * e) + 2 * u + 4 * v) * sizeof(float);
    char what[128], detail[96];
    snprintf(what, sizeof what, "training --units %lld --embed %lld --batch-size %lld", (long long)o->units,
             (long long)o->embed, (long long)o->common.batch_size);
    snprintf(detail, sizeof detail, "%.0f parameters and one step's activations", params);
    return app_fits_in_memory(APP, what, detail, bytes) ? 0 : APP_EXIT_USAGE;
}

Model *make_model(const Options *o, int64_t classes) {
    Model *m = nn_sequential();
    nn_model_seed(m, o->common.seed);
    nn_add(m, nn_embedding(.vocab = classes, .dim = o->embed));
    nn_add(m, nn_lstm(.units = o->units, .return_sequences = true));
    nn_add(m, nn_lstm(.units = o->units));
    nn_add(m, nn_dense(.units = o->units, .activation = NN_RELU));
    nn_add(m, nn_dense(.units = classes, .activation = NN_SOFTMAX));
    /* The initial values wait for training: --summary and --load never need them. */
    if (nn_build_opts(m, NN_SHAPE(TENSOR_I32, CONTEXT), &(NnBuildOpts){.defer_init = true}) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY,
                   .optimizer = nn_adam(.lr = (float)o->common.lr, .embedding_rows = o->adam_rows)) != 0) {
        fprintf(stderr, "%s: cannot build the model: %s\n", APP, tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}

Tensor *rows(const Tensor *t, int64_t start, int64_t count) {
    int64_t shape[2] = {count, t->ndim > 1 ? t->shape[1] : 0};
    int64_t width = t->ndim > 1 ? t->shape[1] : 1;
    return tensor_view(NULL, TENSOR_I32, tensor_i32(t) + start * width, NULL, t->ndim, shape);
}

int evaluate(Model *m, const Tensor *vx, const Tensor *vy, Metrics *r) {
    double acc[2];
    if (nn_evaluate_topk(m, vx, vy, 256, 2, (const int64_t[]){1, 5}, &r->val_loss, acc) != 0) return -1;
    r->top1 = acc[0];
    r->top5 = acc[1];
    return 0;
}

static void curve_add(Curve *c, double loss, bool flush) {
    if (!flush) c->sum += loss, c->in_block++;
    if (c->in_block == 0 || (!flush && c->in_block < c->block)) return;
    double *grown = realloc(c->loss, (size_t)(c->n + 1) * sizeof *grown);
    if (!grown) abort();
    c->loss = grown;
    c->loss[c->n++] = c->sum / (double)c->in_block;
    c->sum = 0;
    c->in_block = 0;
}

int write_plot(const char *path, Curve *c) {
    curve_add(c, 0, true);
    /* A loss point is the mean over a block of steps, drawn at the block's middle step;
     * a val_loss point sits at the step it was measured after. */
    double *x = malloc((size_t)(c->n ? c->n : 1) * sizeof *x), val_x[64];
    if (!x) return tensor_set_error("out of memory for the plot's %lld points", (long long)c->n);
    for (int64_t i = 0; i < c->n; i++) x[i] = (double)(i * c->block) + (double)(c->block + 1) / 2;
    for (int64_t e = 0; e < c->n_val; e++) val_x[e] = (double)c->val_step[e];
    char name[64];
    snprintf(name, sizeof name, c->block > 1 ? "loss (mean of %lld steps)" : "loss", (long long)c->block);
    NnPlotSeries series[] = {{.name = name, .x = x, .y = c->loss, .n = c->n},
                             {.name = "val_loss", .x = val_x, .y = c->val, .n = c->n_val}};
    int rc = nn_plot_series_svg(path, "sherlock: next-word loss", "step", "cross-entropy (nats)", 2, series);
    free(x);
    return rc;
}

/* The state the fit callbacks share: progress, the loss curve and the metrics. */
typedef struct Trainer {
    const Options *o;
    const Tensor *vx, *vy;
    Metrics *r;
    Curve *curve;
    NnProgbar bar;                    /* the epoch's line on stderr */
    int epochs;                       /* the epochs the run takes (--max-steps may cut them) */
    int64_t epoch, steps_here;        /* the epoch shown; steps taken in this process */
    int64_t samples, epoch_samples;   /* windows trained on in this process / this epoch */
    double epoch_clock, train_time;   /* train_time leaves evaluation out */
    int status;                       /* set when an evaluation fails */
} Trainer;

static int on_batch_end(Model *m, const NnBatchLogs *l, void *user) {
    (void)m;
    Trainer *t = user;
    if (l->epoch != t->epoch) { /* the first step of an epoch in this process */
        t->epoch = l->epoch;
        t->epoch_samples = 0;
        nn_progbar_start(&t->bar, &(NnProgbarOpts){.epoch = l->epoch, .epochs = t->epochs,
                                                   .total = l->epoch_steps, .first_step = l->step - 1,
                                                   .unit = "samples", .quiet = t->o->common.quiet,
                                                   .start = t->epoch_clock});
    }
    t->steps_here++;
    t->samples += l->samples;
    t->epoch_samples += l->samples;
    curve_add(t->curve, l->loss, false);
    nn_progbar_update(&t->bar, l->step, t->epoch_samples, 1, &(NnMetric){"loss", l->mean_loss, false});
    return 0;
}

/* Evaluates after every epoch (and where --max-steps stops); an evaluation that
 * fails stops training. */
static int on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    Trainer *t = user;
    t->train_time += tensor_seconds() - t->epoch_clock;
    Metrics *r = t->r;
    r->loss = logs->loss;
    r->steps = logs->steps;
    if (evaluate(m, t->vx, t->vy, r) != 0) {
        nn_progbar_break(&t->bar);
        fprintf(stderr, "%s: evaluation failed: %s\n", APP, tensor_last_error());
        t->status = APP_EXIT_FAILURE;
        return 1;
    }
    if (t->curve->n_val < 64) {
        t->curve->val_step[t->curve->n_val] = t->steps_here;
        t->curve->val[t->curve->n_val++] = r->val_loss;
    }
    if (t->epoch == logs->epoch) /* a step of it ran here */
        nn_progbar_finish(&t->bar, 4,
                          (const NnMetric[]){{"loss", r->loss, false}, {"val_loss", r->val_loss, false},
                                             {"top1", r->top1, true}, {"top5", r->top5, true}});
    t->epoch_clock = tensor_seconds();
    return 0;
}

int train(Model *m, const Options *o, const Tensor *x, const Tensor *y, int64_t n_train, const Tensor *vx,
          const Tensor *vy, Metrics *r, Curve *curve) {
    const AppOptions *c = &o->common;
    int64_t batch = c->batch_size, per_epoch = (n_train + batch - 1) / batch;
    int64_t total = c->epochs * per_epoch; /* steps the run takes, from its start */
    if (c->max_steps && c->max_steps < total) total = c->max_steps;
    Trainer t = {.o = o, .vx = vx, .vy = vy, .r = r, .curve = curve,
                 .epochs = (int)((total + per_epoch - 1) / per_epoch)};
    curve->block = total / 200 > 1 ? total / 200 : 1;
    NnCallback callbacks[2] = {{.on_epoch_end = on_epoch_end, .on_batch_end = on_batch_end, .user = &t}};
    int n_callbacks = 1;
    AppReduceLr reduce_lr = c->reduce_lr; /* its state lives through the fit */
    reduce_lr.val_loss = &r->val_loss;    /* measured by on_epoch_end, which runs first */
    if (app_fit_lr(&c->lr_schedule, &reduce_lr, c->lr, m, per_epoch, callbacks, &n_callbacks) != 0)
        return app_fit_failed(c, m, false);
    NnFitOpts fit = {.batch_size = batch, .epochs = c->epochs, .seed = c->seed, .quiet = true,
                     .max_steps = c->max_steps, .callbacks = callbacks, .n_callbacks = n_callbacks};
    app_fit_checkpoints(c, per_epoch, &fit);
    Tensor *tx = rows(x, 0, n_train), *ty = rows(y, 0, n_train);
    double started = t.epoch_clock = tensor_seconds();
    NnHistory *h = nn_fit_opts(m, tx, ty, &fit);
    tensor_free(tx);
    tensor_free(ty);
    int status = t.status;
    if (!h) return app_fit_failed(c, m, t.bar.open);
    if (h->signal) {
        status = app_fit_interrupted(c, m, h->signal, t.bar.open);
    } else if (status == 0 && isnan(r->val_loss)) { /* a resumed run that had already finished */
        r->steps = nn_model_steps(m);
        if (h->epochs > 0) r->loss = h->loss[h->epochs - 1];
        if (evaluate(m, vx, vy, r) != 0) {
            fprintf(stderr, "%s: evaluation failed: %s\n", APP, tensor_last_error());
            status = APP_EXIT_FAILURE;
        }
    }
    nn_history_free(h);
    r->seconds = tensor_seconds() - started;
    r->samples_per_s = t.train_time > 0 ? (double)t.samples / t.train_time : NAN;
    return status;
}
