/* --lr-schedule and --reduce-lr-on-plateau: their values read into settings (a bad
 * one refused naming the key), and applied to a fit: the schedule handed to the
 * model's optimizer, counted in optimizer steps ("Ne": N epochs) from --lr; Keras's
 * ReduceLROnPlateau added to the fit's callbacks. Both keep their state in the
 * checkpoints (the step count, the callback's counters and the learning rate), so
 * --resume continues them where they were. */
#ifndef APPS_COMMON_LR_OPTIONS_H
#define APPS_COMMON_LR_OPTIONS_H

#include <lamina/nn/nn.h>

#include <stdbool.h>
#include <stdint.h>

/* The --help lines of --lr-schedule and --reduce-lr-on-plateau, the same in every app. */
#define APP_LR_OPTIONS_HELP                                                                              \
    "  --lr-schedule SPEC  a learning-rate schedule of the optimizer steps, as Keras's (a count N\n" \
    "                      with a trailing e is N epochs): step,every=N[,rate=R] (times R every N\n" \
    "                      steps, default 0.5), exponential,steps=N[,rate=R][,staircase] (times R\n" \
    "                      per N steps, default 0.96), cosine,steps=N[,warmup=N][,alpha=A] (a linear\n" \
    "                      warmup from 0 to --lr, then a cosine decay to A times --lr over N steps)\n" \
    "  --reduce-lr-on-plateau SPEC  Keras's ReduceLROnPlateau: multiply the rate by factor after\n" \
    "                      patience epochs without a better val_loss; SPEC is default, or any of\n" \
    "                      factor=F,patience=N,min_delta=D,cooldown=N,min_lr=X,monitor=loss\n" \
    "                      (defaults 0.1, 10, 1e-4, 0, 0, val_loss). --resume continues either\n"

typedef struct AppLrSchedule {
    bool set;
    NnLrScheduleKind kind;
    int64_t steps;          /* step: every; exponential, cosine: decay steps */
    bool steps_in_epochs;
    double rate;            /* step, exponential */
    bool staircase;         /* exponential */
    int64_t warmup;         /* cosine: warmup steps, from 0 up to --lr */
    bool warmup_in_epochs;
    double alpha;           /* cosine */
} AppLrSchedule;

typedef struct AppReduceLr {
    bool set;
    char monitor[16];
    NnReduceLrOnPlateau plateau; /* its monitor points into `monitor` once applied */
    /* For an app that validates in its own epoch-end callback (sherlock): where that
     * callback, which must come first, leaves the epoch's val_loss for the plateau. */
    const double *val_loss;
    NnCallback inner;            /* internal */
} AppReduceLr;

/* Reads "step,every=N[e][,rate=R]", "exponential,steps=N[e][,rate=R][,staircase]" or
 * "cosine,steps=N[e][,warmup=N[e]][,alpha=A]". False after
 * "<app>: invalid value '<value>' for --lr-schedule: <why>". */
bool app_parse_lr_schedule(const char *app, const char *value, AppLrSchedule *out);

/* Reads "default" or keys of "factor=F,patience=N,min_delta=D,cooldown=N,min_lr=X,
 * monitor=NAME" (the others keep Keras's defaults). False after
 * "<app>: invalid value '<value>' for --reduce-lr-on-plateau: <why>". */
bool app_parse_reduce_lr(const char *app, const char *value, AppReduceLr *out);

/* Applies both to a fit of m (compiled, with learning rate lr) whose epochs take
 * steps_per_epoch steps: the schedule to the optimizer, ReduceLROnPlateau (r, which
 * must outlive the fit) appended to callbacks[*n] (room for one more). Returns 0, or
 * -1 with tensor_last_error() set. */
int app_fit_lr(const AppLrSchedule *s, AppReduceLr *r, double lr, Model *m, int64_t steps_per_epoch,
               NnCallback *callbacks, int *n);

#endif
