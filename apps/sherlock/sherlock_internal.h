/* What the files of sherlock share: its options and results, the model and its
 * training (train.c), the vocabulary and next-word predictions (words.c) and the
 * continuations of phrases (generate.c); main.c ties them together. */
#ifndef APPS_SHERLOCK_INTERNAL_H
#define APPS_SHERLOCK_INTERNAL_H

#include <lamina/nn/nn.h>

#include "common/checkpoint.h"
#include "common/options.h"

#include <stdbool.h>
#include <stdint.h>

#define APP "sherlock"
#define CONTEXT 3 /* words in, predicting the next */
#define DEFAULT_CHECKPOINT APP_DEFAULT_CHECKPOINT(APP)

/* --generate's settings and the generator its sampling draws from, for every phrase. */
typedef struct Generation {
    int64_t words;           /* words to add after a phrase (0: none) */
    int64_t beam;            /* beam width (0: sample instead) */
    int64_t no_repeat_ngram; /* with beam: the n-gram size never repeated (0: off) */
    double top_p;            /* nucleus sampling's P (1: all words) */
    Rng rng;
} Generation;

typedef struct Options {
    AppOptions common;
    const char *predict;
    int64_t units, embed, top_k;
    bool units_set, embed_set, interactive, top_p_set;
    Generation gen;
    NnAdamRows adam_rows; /* --adam-rows */
} Options;

typedef struct Metrics {
    double loss, val_loss, top1, top5, samples_per_s, seconds;
    int64_t steps;
} Metrics;

/* The loss curve for --plot: the mean training loss per block of steps, and val_loss
 * after each epoch, drawn at the block holding the epoch's last step. */
typedef struct Curve {
    int64_t block, n, in_block, n_val;
    double *loss, sum;
    int64_t val_step[64];
    double val[64];
} Curve;

/* The last prediction, for the JSON line. */
typedef struct Prediction {
    char context[1024];
    int64_t k;
    const char *words[16];
    double p[16];
    char generated[4096]; /* --generate's words, or "" */
} Prediction;

/* ---- the model and its training (train.c) ---- */

/* Refuses a model this machine cannot train (exit status, or 0), before anything is
 * allocated. */
int check_memory(const Options *o, int64_t classes);
/* The built and compiled model, or NULL after saying why. */
Model *make_model(const Options *o, int64_t classes);
/* Rows [start, start + count) of a 1-D or 2-D int32 tensor, as a heap header over its data. */
Tensor *rows(const Tensor *t, int64_t start, int64_t count);
/* Mean loss and top-1 / top-5 accuracy over the validation windows; 0, or -1 on failure. */
int evaluate(Model *m, const Tensor *vx, const Tensor *vy, Metrics *r);
/* Trains on the first n_train windows through nn_fit (shuffled batches, checkpoints,
 * --resume, signals), evaluating after every epoch. Returns 0, or the exit status. */
int train(Model *m, const Options *o, const Tensor *x, const Tensor *y, int64_t n_train, const Tensor *vx,
          const Tensor *vy, Metrics *r, Curve *curve);
/* Writes the curve to path as an SVG plot; 0, or -1 with tensor_last_error() set. */
int write_plot(const char *path, Curve *c);

/* ---- the vocabulary and predictions (words.c) ---- */

/* Reads the corpus, joins its lines, fits *tok unless it is already set, and encodes it. */
int read_corpus(const Options *o, NnTokenizer **tok, int32_t **ids, int64_t *n);
/* The vocabulary saved beside --load's weights, if there is one; it also restores
 * --units and --embed. Returns 0 (with *tok NULL when there is no file), or an exit status. */
int load_vocab(Options *o, NnTokenizer **tok);
/* Writes the vocabulary to weights_path.vocab, with the sizes --load restores. */
int save_vocab(const Options *o, const NnTokenizer *tok, const char *weights_path);
/* Prints the top_k most likely next words after a phrase's last 3 known words (and
 * keeps the first 16 in *last when it is not NULL), then its continuation when
 * g->words > 0. Returns 0, or APP_EXIT_USAGE for a phrase with fewer than 3 known
 * words, APP_EXIT_FAILURE if the model fails. */
int predict(Model *m, const NnTokenizer *tok, const char *phrase, int64_t top_k, Generation *g, Prediction *last);
/* Reads phrases from stdin until end of input, predicting after each. */
int interactive(Model *m, const NnTokenizer *tok, int64_t top_k, Generation *g);

/* ---- continuations (generate.c) ---- */

/* Prints "continued: <context> | <words>": g->words words after the known ids of a
 * phrase (n_ids >= 3), sampled or by beam search, and keeps them in last->generated
 * when last is not NULL. Returns 0, or APP_EXIT_FAILURE if the model fails. */
int generate(Model *m, const NnTokenizer *tok, const int32_t *ids, int64_t n_ids, const char *context, Generation *g,
             Prediction *last);

#endif
