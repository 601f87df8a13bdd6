/* The Keras-style progress line of fit: "Epoch 3/10 15/20 [=====>....] - ETA: 12s -
 * loss: 3.0900 - val_loss: ... - 2165 samples/s", fitted to the terminal's width,
 * redrawn in place on a terminal and written as one plain line per epoch otherwise.
 * Internal to nn/. */
#ifndef NN_PROGRESS_H
#define NN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct NnProgress {
    FILE *out;
    bool quiet, tty;
    int epoch, epochs;
    int64_t total_steps;
    double start, last_draw;
} NnProgress;

/* What one progress line shows; NaN metrics (and a negative rate) are left out. */
typedef struct NnProgressLine {
    int epoch, epochs;
    int64_t step, total_steps;
    bool done;      /* the epoch's last line: seconds is the time taken, else the ETA */
    double seconds;
    double loss, accuracy, val_loss, val_accuracy;
    double rate;    /* samples per second */
} NnProgressLine;

/* Writes the line into buf (NUL-terminated) in at most `width` characters (and at
 * most size - 1): the bar shrinks, then fields go in the order bar, rate, accuracy,
 * val_accuracy, time, val_loss, epoch, and what still does not fit is cut. Returns
 * the line's length. */
size_t nn__progress_format(char *buf, size_t size, int width, const NnProgressLine *l);
/* The columns a line written to out may take: the terminal's width when out is one
 * (TIOCGWINSZ), else $COLUMNS, else 80. */
int nn__progress_width(FILE *out);

void nn__progress_epoch_start(NnProgress *p, FILE *out, bool quiet, int epoch, int epochs, int64_t total_steps);
/* Redraws at most ~10 times a second (always on the last step). */
void nn__progress_update(NnProgress *p, int64_t step, double loss, int64_t samples);
/* Ends the epoch's line with its metrics (NaN ones are left out). */
void nn__progress_epoch_end(NnProgress *p, int64_t steps, double loss, double accuracy, double val_loss,
                            double val_accuracy, int64_t samples);

#endif
