/* The built-in callbacks of fit, each as Keras 3's (keras.callbacks): ModelCheckpoint,
 * EarlyStopping (with restore_best_weights), LearningRateScheduler,
 * ReduceLROnPlateau and CSVLogger. Each takes a state struct you own, which must
 * outlive the fit call; fields marked internal are the callback's. Options a callback
 * refuses (a factor >= 1, an unknown monitor) fail nn_fit before training, with the
 * reason in tensor_last_error(). The state the callbacks keep between epochs (counters,
 * the best value, the best weights, the CSV file's length) is written into fit's
 * checkpoints and restored by resume_path, so a resumed run equals an uninterrupted
 * one bit for bit. Monitors name a value of NnEpochLogs: "loss", "val_loss",
 * "accuracy" or "val_accuracy"; names with "acc" are maximised, the others
 * minimised (Keras's mode "auto"). */
#ifndef NN_CALLBACKS_H
#define NN_CALLBACKS_H

#include <lamina/nn/model/model.h>

#include <stdio.h>

typedef struct NnCheckpoint {
    const char *path;     /* weights are written here (atomically) */
    bool save_best_only;  /* only when val_loss (or loss) improved */
    bool with_optimizer;  /* include optimizer state */
    double best;          /* internal */
} NnCheckpoint;
/* A callback that saves the weights to state->path after every epoch (or only when
 * the monitored loss improved); a failed save is reported on stderr and training goes
 * on. Resets state->best. */
NnCallback nn_checkpoint_callback(NnCheckpoint *state);

typedef struct NnEarlyStopping {
    int patience;     /* epochs without improvement before stopping (default 0) */
    double min_delta; /* smallest change that counts as improvement (its absolute value) */
    bool monitor_loss;/* watch the training loss even when val_loss exists */
    const char *monitor; /* or name what to watch (NULL: val_loss when measured, else loss) */
    /* At the end of fit (stopped early or not, as Keras 3), put back the weights of the
     * best epoch: the first epoch's when none improved on it. */
    bool restore_best_weights;
    int wait;         /* internal: epochs since the last improvement */
    double best;      /* internal */
    int best_epoch;   /* the 1-based epoch of the best value (0: none yet) */
    int stopped_epoch;/* the 1-based epoch it stopped training at (0: it did not) */
    float *best_weights; /* internal (heap, freed when fit ends) */
    int64_t n_best_weights; /* internal */
} NnEarlyStopping;
/* A callback that stops training once the monitored value has not improved by
 * min_delta for `patience` epochs, as Keras 3's EarlyStopping: an epoch improves when
 * value + min_delta < best (value - min_delta > best when maximising); every other
 * epoch counts towards patience, and training stops at the end of the epoch where
 * the count reaches patience (never after the first epoch). Resets state's counters. */
NnCallback nn_early_stopping_callback(NnEarlyStopping *state);

/* A schedule of the epoch index (0-based, as Keras) and the current learning rate;
 * returns the learning rate for that epoch. */
typedef double (*NnLrScheduleFn)(int epoch_index, double lr, void *user);

typedef struct NnLrScheduler {
    NnLrScheduleFn fn;            /* either a function of yours, */
    void *user;                   /* (passed to fn) */
    const NnLrSchedule *schedule; /* or a built-in schedule, of the epoch index */
} NnLrScheduler;
/* Keras's LearningRateScheduler: at the start of every epoch, sets the optimizer's
 * learning rate to fn(epoch - 1, lr) or nn_lr_schedule_at(schedule, epoch - 1). A
 * resumed run does not call it again for the epoch the checkpoint was taken in (its
 * learning rate comes from the checkpoint). A value that is not positive and finite,
 * or an optimizer that follows a schedule of its own, fails the fit. */
NnCallback nn_lr_scheduler_callback(NnLrScheduler *state);

typedef struct NnReduceLrOnPlateau {
    const char *monitor;  /* default: val_loss when measured, else loss */
    double factor;        /* new_lr = lr * factor, in (0, 1); default 0.1 */
    int patience;         /* epochs without improvement before reducing; default 10
                           * (1 and Keras's 0 act the same: the count is taken first) */
    double min_delta;     /* improvement threshold; default 1e-4 */
    bool no_min_delta;    /* use a min_delta of exactly 0 */
    int cooldown;         /* epochs after a reduction during which no epoch counts */
    double min_lr;        /* the learning rate never goes below this */
    double best;          /* internal */
    int wait, cooldown_counter; /* internal */
} NnReduceLrOnPlateau;
/* Keras's ReduceLROnPlateau: at the end of every epoch, a cooldown in progress counts
 * down (and clears the count of bad epochs); an epoch whose value < best - min_delta
 * (> best + min_delta when maximising) becomes the best; otherwise, outside a
 * cooldown, it counts, and when the count reaches patience the learning rate, if
 * above min_lr, becomes max(lr * factor, min_lr) and the cooldown starts. Refuses an
 * optimizer that follows a schedule. Resets state's counters. */
NnCallback nn_reduce_lr_on_plateau_callback(NnReduceLrOnPlateau *state);

typedef struct NnCsvLogger {
    const char *path;
    char separator;       /* default ',' */
    bool append;          /* keep the rows already in the file (no second header) */
    FILE *file;           /* internal */
    unsigned columns;     /* internal: which columns the rows have */
    int64_t length;       /* internal: bytes written so far */
} NnCsvLogger;
/* Keras's CSVLogger: one row per epoch, written and flushed at its end, under a
 * header "epoch" then the metrics in sorted order: accuracy (when measured),
 * learning_rate, loss, val_accuracy (when measured), val_loss (when there is
 * validation data). epoch is 0-based, as in Keras's file; values are printed with the
 * fewest digits that read back as the same double (the learning rate as the same
 * float), "nan" for NaN. A resumed run continues the file from where the checkpoint
 * was written. A file that cannot be written fails the fit. */
NnCallback nn_csv_logger_callback(NnCsvLogger *state);

#endif
