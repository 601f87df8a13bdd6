/* The progress bar of training, like Keras's Progbar: one line per epoch,
 *   Epoch 1/3 120/500 [=====>......] - ETA: 1:02 - loss: 2.3456 - 12345 tokens/s
 * and at its end
 *   Epoch 1/3 500/500 [============] - 41.2s - loss: 2.1 - val_loss: 2.3 - 12011 tokens/s
 * fitted to the output's width. On a terminal the line is redrawn in place at most
 * ten times a second; otherwise (a file, a pipe) a plain line is written at most
 * every ten seconds, and always the epoch's last, so a log shows a long epoch going
 * without being flooded. nn_fit draws one; a program that trains with
 * nn_fit(.quiet = true) and reports from its callbacks, or with a loop of its own,
 * draws its own the same way. */
#ifndef NN_MODEL_PROGRESS_H
#define NN_MODEL_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A named value on the line, "name: 2.3456" (4 decimals, or 1.2345e-05 below 1e-3).
 * A NaN value is left out. When the line is too wide, optional metrics go early
 * (after the bar and the rate), essential ones late; the first essential metric
 * (the loss) always stays. */
typedef struct NnMetric {
    const char *name;
    double value;
    bool optional;
} NnMetric;

typedef struct NnProgbarOpts {
    FILE *out;             /* NULL: stderr */
    int epoch, epochs;     /* 1-based; epochs 0: no "Epoch e/E" field */
    int64_t total;         /* the steps the epoch takes */
    int64_t first_step;    /* the step the epoch begins after (a resumed epoch's), for the ETA */
    const char *unit;      /* the rate's unit: "samples" gives "123 samples/s"; NULL: no rate */
    bool percent;          /* "37%" in place of "120/500" */
    bool quiet;            /* draw nothing */
    double start;          /* the clock when the epoch began; 0: when nn_progbar_start is called */
    double (*clock)(void); /* seconds [tensor_seconds]; a test may fake time with it */
} NnProgbarOpts;

/* One epoch's bar; a zeroed one (never started) draws nothing. Its fields are
 * read-only outside these functions, but for o.epoch, which a bar spanning several
 * epochs (word2vec's whole run) may advance between updates. */
typedef struct NnProgbar {
    NnProgbarOpts o;
    bool tty;              /* out is a terminal: the line is redrawn in place */
    bool open;             /* a line without its newline is on out (see nn_progbar_break) */
    int64_t step, units;   /* at the last update */
    double last_update, last_draw;
} NnProgbar;

/* Starts an epoch's bar (draws nothing yet). */
void nn_progbar_start(NnProgbar *p, const NnProgbarOpts *o);
/* Reports that `step` of the total is done, with `units` (samples, tokens, words)
 * processed since the epoch began, for the rate, and n metrics (at most 8 are
 * shown). Draws when it is time to (see above). */
void nn_progbar_update(NnProgbar *p, int64_t step, int64_t units, int n, const NnMetric *metrics);
/* Writes the epoch's final line, ending with a newline: the step and rate of the
 * last update, the time since the epoch began, and these metrics. */
void nn_progbar_finish(NnProgbar *p, int n, const NnMetric *metrics);
/* Ends a half-drawn line with a newline, so that a message can follow; does
 * nothing when none is open. */
void nn_progbar_break(NnProgbar *p);

/* What one line shows. */
typedef struct NnProgbarLine {
    int epoch, epochs;     /* epochs 0: no epoch field */
    int64_t step, total;
    bool percent;
    bool done;             /* seconds is the time taken, else the ETA */
    double seconds;        /* NaN or negative: no time field */
    int n_metrics;
    const NnMetric *metrics;
    double rate;           /* units per second; NaN, negative or no unit: no rate */
    const char *unit;
} NnProgbarLine;

/* Writes the line into buf (NUL-terminated) in at most `width` characters (and at
 * most size - 1): the bar shrinks to 10, then fields go in the order bar, rate,
 * optional metrics (the last first), time, essential metrics but the first (the
 * last first), epoch; what still does not fit is cut. Returns the line's length. */
size_t nn_progbar_format(char *buf, size_t size, int width, const NnProgbarLine *l);

/* The columns a line written to out may take: the terminal's width when out is one
 * (TIOCGWINSZ), else $COLUMNS, else 80. */
int nn_progbar_width(FILE *out);

#endif
