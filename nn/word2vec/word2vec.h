/* word2vec (Mikolov et al. 2013) with every objective word2vec.c and gensim train,
 * trained as they do, so their numbers carry over: skip-gram or CBOW, each with
 * negative sampling, hierarchical softmax or both, and skip-gram with the full
 * softmax over the vocabulary (for small corpora and teaching).
 *
 * The model is the input vectors (V, D) initialised U(-0.5/D, 0.5/D) (these are the
 * word vectors) and, initialised to zeros, the output rows of negative sampling and
 * of the full softmax (V, D) and the inner-node rows of hierarchical softmax (V-1, D;
 * the Huffman tree is word2vec.c's CreateBinaryTree). The input of a prediction is a
 * context word's input row v (skip-gram: one prediction per (center, context) pair)
 * or neu1, the mean (cbow_mean=1, the default) or sum of the context's input rows
 * (CBOW: one prediction per center word with a context). The loss of a prediction of
 * the center c, taken before its update as word2vec.c's and gensim's are, is the sum
 * of the objectives trained:
 *   negative sampling  -log sigmoid(u_c . v) - sum_k log sigmoid(-u_neg_k . v)
 *   hierarchical       -sum over c's path of log sigmoid((1 - 2 code) syn1_point . v)
 *   full softmax       -log softmax(U v)[c]  (U: all V output rows)
 * (u: output rows). SGD moves the rows along the gradient as word2vec.c does; in
 * CBOW the context's rows each get the whole error of neu1 with the mean, and the
 * error divided by the context's size with the sum (gensim's cbow_mean semantics).
 * nn_w2v_pair_loss writes the negative-sampling loss with ordinary tape ops (gather
 * rows, matmul, BCE with logits); training runs fused, allocation-free SGD kernels
 * instead (nn_w2v_sgd_pair, word2vec.c's inner loop), and the tests hold one fused
 * step of each objective equal to one computed by hand.
 *
 * Training (nn_w2v_train): each sentence is subsampled (keep probability
 * (sqrt(f/t) + 1) t/f with t = sample * total count, the word2vec.c / gensim
 * formula), every position's window is shrunk by a random 0..window-1, negatives are
 * drawn from count^0.75 (alias table, exact), and the learning rate falls linearly
 * from alpha to min_alpha over the run. With threads > 1 each thread takes a
 * contiguous slice of the sentences and training runs in rounds of batch_words words
 * per thread: during a round each thread updates its own copies of the rows it
 * touches (of every table), and at the end of it the copies are folded into the
 * shared tables in thread order. The vectors then depend only on the seed and the
 * thread count: the same seed and threads give bit-identical tables, run after run.
 * Hogwild (all threads writing the shared tables without locks, as word2vec.c and
 * gensim do) is available as an option; its result depends on timing.
 *
 * A run can stop between rounds (opts.stop), save its state (every table and every
 * thread's position and generator: nn_w2v_save_state) and continue later from that
 * file (nn_w2v_load_state, then nn_w2v_train): the resumed run ends bit-identical to
 * one that was never stopped. */
#ifndef NN_WORD2VEC_H
#define NN_WORD2VEC_H

#include <lamina/autograd/autograd.h>
#include <lamina/nn/io/vectors_io.h>
#include <lamina/nn/word2vec/word_eval.h>

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- corpus: sentences of word ids over a frequency-ranked vocabulary ---- */
typedef struct NnW2vCorpus NnW2vCorpus;

/* An empty corpus to add text to; free with nn_w2v_corpus_free. Never NULL. */
NnW2vCorpus *nn_w2v_corpus_new(void);

/* Tokenises text as scripts/peers/word2vec_gensim.py feeds gensim (Python's lower(), then
 * every character other than a-z is a space): one sentence per line ("\n", "\r" and
 * "\r\n" end lines, as Python's universal newlines), ASCII letters lower-cased, every
 * other byte a separator — except U+0130 and U+212A, which Python lower-cases to "i"
 * (+ a combining dot) and "k". Appends its sentences. Call once per file. Returns 0,
 * or -1 after nn_w2v_corpus_finish. */
int nn_w2v_corpus_add(NnW2vCorpus *c, const char *text, int64_t len);

/* Fixes the vocabulary: words seen at least min_count times (>= 1), most frequent
 * first, ties in first-seen order; the others are dropped from the sentences. Returns
 * -1 (tensor_last_error set) when no word is frequent enough or it was already called. */
int nn_w2v_corpus_finish(NnW2vCorpus *c, int64_t min_count);

int64_t nn_w2v_corpus_raw_words(const NnW2vCorpus *c);  /* tokens read, rare ones included */
int64_t nn_w2v_corpus_words(const NnW2vCorpus *c);      /* tokens kept by finish */
int64_t nn_w2v_corpus_vocab_size(const NnW2vCorpus *c); /* V (0 before finish) */
/* The word with an id (owned by the corpus), or NULL if out of range. */
const char *nn_w2v_corpus_word(const NnW2vCorpus *c, int64_t id);
/* How often the word with an id occurs (0 if out of range). */
int64_t nn_w2v_corpus_count(const NnW2vCorpus *c, int64_t id);
int64_t nn_w2v_corpus_find(const NnW2vCorpus *c, const char *word); /* id, or -1 */
/* Number of sentences (lines with at least one kept word). */
int64_t nn_w2v_corpus_sentences(const NnW2vCorpus *c);
/* Sentence i's ids (non-empty after finish; raw-vocabulary ids before it). */
const int32_t *nn_w2v_corpus_sentence(const NnW2vCorpus *c, int64_t i, int64_t *len);
/* Frees the corpus and everything it owns. Accepts NULL. */
void nn_w2v_corpus_free(NnW2vCorpus *c);

/* ---- the model ---- */

typedef struct NnWord2Vec NnWord2Vec;

/* Reported about twice a second by the first training thread, and at the end. */
typedef struct NnW2vProgress {
    double fraction;    /* of the planned words, all threads */
    int epoch, epochs;  /* of the first thread, 1-based */
    float alpha;        /* the first thread's learning rate */
    double loss;        /* mean loss per unit (nn_w2v_epoch_losses) since the previous
                         * report (first thread) */
    double words_per_s; /* corpus words (rare ones included, as gensim counts) per second */
    double seconds;
    /* Epochs every thread has finished, and the last one's mean pair loss over all
     * threads (nn_w2v_epoch_losses; NaN before the first, and in Hogwild runs until
     * the end, whose threads never pause to be read). */
    int epochs_done;
    double epoch_loss;
} NnW2vProgress;

/* A zero field takes the default in brackets. */
typedef struct NnW2vOpts {
    int64_t dim;          /* D [100] */
    int window;           /* [5] */
    int negative;         /* negatives per prediction [5] */
    bool no_negative;     /* no negative sampling (needs hs) */
    bool hs;              /* hierarchical softmax (with negative sampling too unless no_negative) */
    bool cbow;            /* CBOW: the context's input rows predict the center */
    bool cbow_sum;        /* CBOW over the sum of the context rows, not their mean
                           * (gensim's cbow_mean=0) */
    bool softmax;         /* skip-gram with the full softmax: O(V D) per pair; not with
                           * cbow, hs or negative sampling (leave negative 0) */
    double sample;        /* subsampling threshold [1e-3] */
    bool no_sample;       /* turn subsampling off */
    int iter;             /* passes over the corpus [5] */
    float alpha;          /* starting learning rate [0.025] */
    float min_alpha;      /* final learning rate [1e-4] */
    int threads;          /* [1] */
    bool hogwild;         /* threads write the shared tables without locks or rounds: no
                           * waiting at round ends, but the result depends on timing */
    uint64_t seed;        /* initial vectors and each thread's generator */
    int64_t batch_words;  /* words per thread between learning-rate updates, and per
                           * round with several threads [nn_w2v_default_batch_words] */
    int64_t max_words;    /* stop after this many corpus words in all (0: iter passes);
                           * the learning rate then decays over the shortened run */
    void (*on_progress)(const NnW2vProgress *p, void *user); /* may be NULL */
    /* Called between rounds each time another checkpoint_words corpus words (rare ones
     * included) have been trained, with no thread running: typically it calls
     * nn_w2v_save_state. A non-zero return ends training (nn_w2v_train returns -1).
     * Not with hogwild. */
    int (*on_checkpoint)(NnWord2Vec *m, void *user);
    int64_t checkpoint_words;
    /* When non-NULL and *stop becomes non-zero (e.g. set by a signal handler),
     * training ends after the current round and nn_w2v_train returns 1. */
    volatile sig_atomic_t *stop;
    void *user;           /* passed to on_progress and on_checkpoint */
} NnW2vOpts;

/* The round size used when batch_words is 0: corpus words x iter / threads / 128,
 * clamped to 1,000..10,000, so a small corpus still gets many short rounds. */
int64_t nn_w2v_default_batch_words(const NnW2vCorpus *corpus, int iter, int threads);

/* A model over a finished corpus (which must outlive it). Returns NULL with
 * tensor_last_error() naming the option when one is out of range (dim 1..10000,
 * window 1..1000, negative 1..100, iter >= 1, alpha > 0, threads 1..1024,
 * checkpoint_words >= 0, no on_checkpoint with hogwild), the objectives do not go
 * together (no_negative without hs, cbow_sum without cbow, softmax with cbow, hs or
 * negative sampling) or the tables cannot be allocated. */
NnWord2Vec *nn_w2v_new(const NnW2vCorpus *corpus, const NnW2vOpts *opts);
#define nn_w2v(corpus, ...) nn_w2v_new(corpus, &(NnW2vOpts){__VA_ARGS__})

typedef struct NnW2vStats {
    int64_t words;      /* corpus words processed (rare ones included, like gensim) */
    int64_t pairs;      /* predictions: (center, context) pairs, or CBOW's center words */
    double seconds;
    double words_per_s;
    double loss;        /* mean loss per prediction over the last epoch (all threads) */
} NnW2vStats;

/* The mean loss per prediction of each finished epoch over all threads into
 * losses[0..max): per (center, context) pair for skip-gram and the full softmax, per
 * center word (with at least one context word) for CBOW; with both hierarchical
 * softmax and negative sampling, a prediction's loss is the sum of the two. Returns
 * how many epochs have finished (the last may be partial, and later ones
 * are not counted, when max_words cut the run short). Each thread sums its pairs'
 * losses in double and the threads' sums are added in thread order, so the figures
 * depend only on the seed, the options and the thread count (not on timing), and
 * carry across a resume. The loss of a pair is taken before its update, as
 * word2vec.c's and gensim's are. An epoch finished before a state file of an older
 * lamina was saved reads NaN. */
int nn_w2v_epoch_losses(const NnWord2Vec *m, double *losses, int max);

/* Trains the tables in place; stats (may be NULL) cover this call only, except loss,
 * which is the last epoch's. Continues a run that was stopped or loaded with
 * nn_w2v_load_state, else runs the whole schedule. Returns 0 when the run is
 * complete, 1 when opts.stop ended it early (call again to continue), -1 if a thread
 * could not be started or on_checkpoint failed (tensor_last_error says why). */
int nn_w2v_train(NnWord2Vec *m, NnW2vStats *stats);

/* Writes the run's state — settings (the objective included), corpus fingerprint,
 * every thread's position and generator, every table — atomically to path (a temporary file beside it, fsync,
 * rename). Returns 0 or -1 (tensor_last_error set). */
int nn_w2v_save_state(const NnWord2Vec *m, const char *path);

/* Reads a state file into a model made over the same corpus with the same options
 * (else -1, the error naming the first setting that differs; also -1 for a file that
 * is damaged or not a state file). nn_w2v_train then continues that run. */
int nn_w2v_load_state(NnWord2Vec *m, const char *path);

/* The tables, heap tensors owned by the model. Input and output: (V, D), row i is
 * word i of the corpus; the output rows (of negative sampling, or of the full
 * softmax) are NULL with hierarchical softmax alone. The hierarchical softmax's
 * inner-node rows: (V-1, D), NULL without it (and with one word, which has none). */
Tensor *nn_w2v_input_table(NnWord2Vec *m);
Tensor *nn_w2v_output_table(NnWord2Vec *m);
Tensor *nn_w2v_hs_table(NnWord2Vec *m);

/* A finished copy of the input vectors with the corpus's words and counts. */
NnWordVectors *nn_w2v_word_vectors(const NnWord2Vec *m);

/* Frees the model and its tables (not the corpus it was made from). Accepts NULL. */
void nn_w2v_free(NnWord2Vec *m);

/* ---- the pieces, exposed for tests and for users writing their own trainer ---- */

/* One fused SGD step for a (center, context) pair: in_row is the context word's input
 * row (dim floats), out_table the (V, dim) output rows; the targets are center
 * (label 1) and negatives[0..n_negatives) (label 0, at most 100; one equal to center is skipped,
 * as in word2vec.c). For each target in turn: g = alpha (label - sigmoid(u . in_row)),
 * work += g u, u += g in_row; then in_row += work. work is dim floats of scratch.
 * Returns the pair's loss (before the update). Allocation-free; the sigmoid comes from
 * a table with linear interpolation (error < 4e-7; 0 or 1 beyond |x| > 8). */
float nn_w2v_sgd_pair(float *in_row, float *out_table, int64_t dim, int32_t center,
                      const int32_t *negatives, int n_negatives, float alpha, float *work);

/* The same loss with ordinary tape ops: gather the context's input row and the
 * targets' output rows, their dot products by matmul, BCE with logits against labels
 * (1, 0, ..., 0) scaled from a mean to a sum. in_table and out_table are (V, D)
 * float32 tensors; backward fills their gradients in the gathered rows. */
Tensor *nn_w2v_pair_loss(Tape *tape, Tensor *in_table, Tensor *out_table, int32_t context,
                         int32_t center, const int32_t *negatives, int n_negatives);

/* The table-based sigmoid the kernel uses. */
float nn_w2v_sigmoid(float x);

#endif
