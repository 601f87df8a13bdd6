/* What the files of word2vec share: its options, training (train.c: the corpus, the
 * progress line, checkpoints and signals) and what is asked of the vectors
 * (query.c: neighbours, analogies, the test sets and the map); main.c ties them
 * together. */
#ifndef APPS_WORD2VEC_INTERNAL_H
#define APPS_WORD2VEC_INTERNAL_H

#include <lamina/nn/nn.h>

#include "common/options.h"

#include <stdbool.h>
#include <stdint.h>

#define APP "word2vec"
#define MAX_LIST 16
/* Where checkpoints go when neither --checkpoint nor --resume names a file. */
#define DEFAULT_CHECKPOINT APP_DEFAULT_CHECKPOINT(APP)

/* --iter (--epochs), --alpha (--lr), --batch-size and --checkpoint-every (corpus
 * words, or passes when common.checkpoint_in_epochs) are common options. */
typedef struct Options {
    AppOptions common;
    const char *output, *eval_analogies, *checkpoint;
    const char *corpus[MAX_LIST], *similar[MAX_LIST], *analogy[MAX_LIST], *eval_similarity[MAX_LIST];
    int n_corpus, n_similar, n_analogy, n_eval_similarity;
    int64_t dim, window, negative, min_count, restrict_vocab, plot_words;
    double sample, min_alpha;
    bool binary, hogwild;
} Options;

/* ---- training (train.c) ---- */

/* Reads and tokenises the corpora; NULL after printing why (exit 2). */
NnW2vCorpus *read_corpus(const Options *o);
/* --summary for a corpus: the settings and both tables. */
void summary(const Options *o, const NnW2vCorpus *c);
/* Trains (or continues a --resume run) into *wv. Returns -1 to go on, else the exit
 * status: after a signal, once the checkpoint (and --save vectors) are written. */
int train(const Options *o, const NnW2vCorpus *corpus, NnW2vStats *stats, NnWordVectors **wv);

/* ---- queries and evaluation (query.c) ---- */

/* --similar and --analogy (a few neighbours of common words when nothing is asked).
 * Returns 0, or APP_EXIT_FAILURE when a word is not in the vocabulary. */
int run_queries(const Options *o, const NnWordVectors *wv);

/* The scores of --eval-analogies and --eval-similarity. */
typedef struct Scores {
    NnAnalogySet *analogies; /* NULL without --eval-analogies */
    NnSimilaritySet *sets[MAX_LIST]; /* one per --eval-similarity file */
    double analogy;          /* accuracy, NaN when not measured or no question could be asked */
    double similarity[MAX_LIST]; /* Spearman rho per --eval-similarity file, NaN when not measured */
} Scores;
/* Reads the test sets asked for, before any training, so a missing or unusable file
 * costs no work: prints why and returns APP_EXIT_USAGE, or 0. */
int read_evaluations(const Options *o, Scores *s);
/* Prints the scores on the test sets read. Returns 0. */
int run_evaluations(const Options *o, const NnWordVectors *wv, Scores *s);
/* Frees the test sets. */
void scores_free(Scores *s);
/* --plot: a 2-D PCA map of the most frequent words. Returns an exit status. */
int write_plot(const Options *o, const NnWordVectors *wv);

#endif
