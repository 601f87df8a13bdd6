/* What the files of word2vec share: its options, training (train.c: the corpus, the
 * progress line, checkpoints and signals) and what is asked of the vectors
 * (query.c: neighbours, analogies, the test sets and the map; kv_queries.c: gensim's
 * KeyedVectors queries); main.c ties them together. */
#ifndef APPS_WORD2VEC_INTERNAL_H
#define APPS_WORD2VEC_INTERNAL_H

#include <lamina/nn/nn.h>

#include "common/json.h"
#include "common/options.h"

#include <stdbool.h>
#include <stdint.h>

#define APP "word2vec"
#define MAX_LIST 16
/* Where checkpoints go when neither --checkpoint nor --resume names a file. */
#define DEFAULT_CHECKPOINT APP_DEFAULT_CHECKPOINT(APP)
/* The vocabularies of the evaluations without --restrict-vocab: the analogies' as
 * scripts/peers/word2vec_gensim.py gives gensim, the word pairs' gensim's default. */
#define DEFAULT_ANALOGY_VOCAB 30000
#define DEFAULT_PAIRS_VOCAB 300000

/* --iter (--epochs), --alpha (--lr), --batch-size and --checkpoint-every (corpus
 * words, or passes when common.checkpoint_in_epochs) are common options. */
typedef struct Options {
    AppOptions common;
    const char *output, *eval_analogies, *checkpoint;
    const char *corpus[MAX_LIST], *similar[MAX_LIST], *analogy[MAX_LIST], *eval_similarity[MAX_LIST];
    int n_corpus, n_similar, n_analogy, n_eval_similarity;
    /* gensim's queries (kv_queries.c): the option values as given */
    const char *most_similar[MAX_LIST], *doesnt_match[MAX_LIST], *similarity[MAX_LIST], *n_similarity[MAX_LIST];
    int n_most_similar, n_doesnt_match, n_similarity_queries, n_n_similarity;
    /* restrict_vocab 0: not given (queries search every word, analogies the 30000
     * most frequent, word pairs gensim's 300000) */
    int64_t dim, window, negative, min_count, restrict_vocab, plot_words, topn;
    /* the objective: --cbow (--cbow-mean 1: mean, the default, 0: sum), --hs, --softmax;
     * negative_given: --negative was on the command line */
    int64_t cbow_mean;
    bool cbow, cbow_mean_given, hs, softmax, negative_given;
    double sample, min_alpha;
    NnVectorsFormat load_format;
    bool binary, hogwild, cosmul, dummy4unknown, case_sensitive;
} Options;

/* ---- training (train.c) ---- */

/* Reads and tokenises the corpora; NULL after printing why (exit 2). */
NnW2vCorpus *read_corpus(const Options *o);
/* --summary for a corpus: the objective and its tables. */
void summary(const Options *o, const NnW2vCorpus *c);
/* The objective in a few words for --json: "sg-ns", "cbow-mean-hs", "sg-hs-ns",
 * "softmax", ... */
const char *mode_name(const Options *o, char *buf, size_t cap);
/* The mean pair loss of each finished epoch (nn_w2v_epoch_losses), for --json. */
typedef struct EpochLosses {
    double *loss; /* malloc'd, n entries */
    int n;
} EpochLosses;

/* Trains (or continues a --resume run) into *wv and its epochs' losses into *losses.
 * Returns -1 to go on, else the exit status: after a signal, once the checkpoint (and
 * --save vectors) are written. */
int train(const Options *o, const NnW2vCorpus *corpus, NnW2vStats *stats, EpochLosses *losses,
          NnWordVectors **wv);

/* ---- queries and evaluation (query.c) ---- */

/* --similar and --analogy (a few neighbours of common words when nothing is asked).
 * Returns 0, or APP_EXIT_FAILURE when a word is not in the vocabulary. */
int run_queries(const Options *o, const NnWordVectors *wv);
/* The vocabulary's spelling of a word: itself, else its lower-case form when only
 * that is known, else NULL. */
const char *vocabulary_word(const NnWordVectors *wv, const char *word);
/* Prints "what: word (cos), word (cos), ..." with as many decimals as tell them apart. */
void print_neighbours(const NnWordVectors *wv, const char *what, int64_t n, const int64_t *rows,
                      const float *cos);

/* ---- gensim's KeyedVectors queries (kv_queries.c) ---- */

/* Whether the query options' values are well formed (word lists of the right
 * shape); false after saying which is not (exit 2, before any training). */
bool kv_queries_valid(const Options *o);
/* The answers, kept for --json. */
typedef struct KvAnswer KvAnswer;
typedef struct KvAnswers {
    KvAnswer *items;
    int n;
} KvAnswers;
/* Answers --most-similar (with --cosmul: 3CosMul), --doesnt-match, --similarity and --n-similarity, printing each. Returns 0, or
 * APP_EXIT_FAILURE when one failed (an unknown word: the message names it). */
int run_kv_queries(const Options *o, const NnWordVectors *wv, KvAnswers *answers);
/* The answers as a "queries" array of the --json line. */
void kv_answers_json(const Options *o, const NnWordVectors *wv, const KvAnswers *answers, AppJson *json);
void kv_answers_free(KvAnswers *answers);

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
