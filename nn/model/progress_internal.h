/* The Keras-style progress display of fit: "Epoch 3/10", a bar with the step count,
 * ETA, loss and samples/s, redrawn in place on a terminal and written as plain
 * lines otherwise. Internal to nn/. */
#ifndef NN_PROGRESS_H
#define NN_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct NnProgress {
    FILE *out;
    bool quiet, tty;
    int64_t total_steps;
    double start, last_draw;
} NnProgress;

void nn__progress_epoch_start(NnProgress *p, FILE *out, bool quiet, int epoch, int epochs, int64_t total_steps);
/* Redraws at most ~10 times a second (always on the last step). */
void nn__progress_update(NnProgress *p, int64_t step, double loss, int64_t samples);
/* Ends the epoch's line with its metrics (NaN ones are left out). */
void nn__progress_epoch_end(NnProgress *p, int64_t steps, double loss, double accuracy, double val_loss,
                            double val_accuracy, int64_t samples);

#endif
