/* What the files of sonnets share: its options, the corpus as symbol ids and the
 * model (model.c), sampling with carried LSTM state (model.c), and the training
 * windows, progress display and nn_fit run (train.c); main.c ties them together. */
#ifndef APPS_SONNETS_INTERNAL_H
#define APPS_SONNETS_INTERNAL_H

#include <lamina/nn/nn.h>

#include "common/checkpoint.h"
#include "common/options.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define APP "sonnets"
#define DEFAULT_CHECKPOINT APP_DEFAULT_CHECKPOINT(APP)

typedef enum { CHAR_MANY_TO_MANY, CHAR_MANY_TO_ONE, WORD, MODEL_KIND_COUNT } ModelKind;
/* --model's values, indexed by ModelKind. */
extern const char *const kind_names[MODEL_KIND_COUNT];

typedef struct Options {
    AppOptions common;
    const char *prime;
    ModelKind kind;
    int sample;
    int64_t window, units, embed;
    int64_t beam, no_repeat_ngram; /* beam width (0: sample instead); n-gram size blocked (0: none) */
    double temperature, top_p;
    bool sampling_set; /* --temperature or --top-p given */
    NnAdamRows adam_rows; /* --adam-rows */
} Options;

/* ---- the corpus and the model (model.c) ---- */

typedef struct Corpus {
    int32_t *ids;
    int64_t n, vocab;
    NnTokenizer *words; /* word model only */
} Corpus;

/* Reads and encodes the corpus; returns an exit status (0 on success). */
int corpus_load(const Options *o, Corpus *c);
void corpus_free(Corpus *c);

/* Refuses sizes this machine cannot train (exit status, or 0), before anything is
 * allocated; n_symbols is the corpus length (0 when only the model is built). */
int check_memory(const Options *o, int64_t vocab, int64_t n_symbols);
/* The built and compiled model, or NULL after saying why. */
Model *make_model(const Options *o, int64_t vocab);

typedef struct Sampler {
    const Options *o;
    const Corpus *c;
    int32_t *prime; /* encoded --prime, or NULL for a random window each time */
    int64_t n_prime;
    Rng rng;
} Sampler;

/* Encodes --prime; returns an exit status (0 on success). Unknown words are noted. */
int encode_prime(const Options *o, Sampler *s);
/* Prints "<heading>: " and --sample symbols generated after the prime (or a random
 * window of the corpus), unless --sample is 0: sampled (--temperature, --top-p), or the
 * best continuation of a beam search (--beam, --no-repeat-ngram). */
void sample_now(Model *m, Sampler *s, const char *heading);

/* ---- training (train.c) ---- */

typedef struct Data {
    Tensor *x, *y, *vx, *vy; /* training windows at every position; validation windows side by side */
} Data;

/* Refuses a window longer than the data (exit status, or 0). */
int check_length(const Options *o, const Corpus *c);
/* The training and validation windows; returns an exit status (0 on success). */
int make_data(const Options *o, const Corpus *c, Data *d);
void data_free(Data *d);

/* What a run records per step for the plot: the loss, and val_loss where measured
 * (NaN elsewhere, and for steps taken before a --resume). */
typedef struct StepHistory {
    double *loss, *val;
    int64_t steps;
} StepHistory;

/* The state the fit callbacks share: progress, the per-step history and samples. */
typedef struct Trainer {
    const Options *o;
    const Data *d;
    Sampler *sampler;
    StepHistory steps;
    NnProgbar progress;         /* the epoch's line on stderr */
    int epoch, run_epochs;      /* the epoch shown, and how many the run takes */
    int64_t planned, val_every; /* total steps; val_loss every val_every steps (0: per epoch only) */
    int64_t epoch_tokens, tokens;
    double started, train_seconds;
    double epoch_clock; /* when the coming epoch's first step began */
} Trainer;

/* Trains through nn_fit (shuffled mini-batches, checkpoints, --resume, signals),
 * recording every step's loss for the plot. Returns the history (its signal set when
 * a signal stopped training), or NULL if training failed (the reason is in
 * tensor_last_error()). */
NnHistory *train(Model *m, const Options *o, const Data *d, Trainer *t);
/* Writes --plot: per epoch, or per step for a one-epoch run. Returns an exit status. */
int write_plot(const Options *o, const NnHistory *epochs, const StepHistory *steps);

#endif
