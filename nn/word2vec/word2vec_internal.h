/* What the word2vec files share: the corpus and model structs, one training thread's
 * schedule state, and the per-call training run (its threads, their private row
 * copies, the barrier and gate). corpus.c builds corpora, word2vec.c models,
 * huffman.c the tree of hierarchical softmax, kernel.c the fused step and the loop
 * that feeds it, objectives.c each objective's updates over a subsampled piece,
 * train.c the threads and rounds, state.c the state files. Not part of the public
 * API. */
#ifndef NN_WORD2VEC_INTERNAL_H
#define NN_WORD2VEC_INTERNAL_H

#include "nn/word2vec/word2vec.h"

#include <pthread.h>
#include <stb_ds.h>
#include <stdatomic.h>

/* ---- the corpus ---- */

typedef struct RawEntry {
    char *key;     /* the word (stb_ds arena copy) */
    int64_t value; /* raw id: first-seen order */
} RawEntry;

struct NnW2vCorpus {
    RawEntry *map;       /* word -> raw id */
    int64_t *raw_counts; /* by raw id (stb_ds array) */
    int32_t *ids;        /* token stream (stb_ds array): raw ids, final ids after finish */
    int64_t *starts;     /* sentence i is ids[starts[i] .. starts[i+1]) (stb_ds array) */
    int64_t raw_words;
    bool finished;
    int32_t *remap;      /* raw id -> final id or -1 */
    char **words;        /* final id -> word (keys of map) */
    int64_t *counts, vocab;
    char *buf;           /* the word being read */
    size_t len, cap;
};

/* nn_w2v_corpus_sentences and nn_w2v_corpus_sentence, inline for the training loop,
 * which asks for every sentence it trains on. */
static inline int64_t nn__w2v_sentences(const NnW2vCorpus *c) { return arrlen(c->starts) - 1; }
static inline const int32_t *nn__w2v_sentence(const NnW2vCorpus *c, int64_t i, int64_t *len) {
    TENSOR_CHECK(i >= 0 && i < nn__w2v_sentences(c), "word2vec corpus: sentence %lld of %lld", (long long)i,
                 (long long)nn__w2v_sentences(c));
    *len = c->starts[i + 1] - c->starts[i];
    return c->ids + c->starts[i];
}

/* ---- the model ---- */

/* The Huffman tree of hierarchical softmax, built as word2vec.c's CreateBinaryTree
 * (huffman.c): word i's path from the root is code[start[i] .. start[i+1]) (bit 1:
 * the word lies on the second-smallest child's side, label 0 in the logistic loss)
 * through the inner nodes point[...] (rows of the (V-1, D) table, the root V-2). */
typedef struct W2vTree {
    int64_t *start; /* V + 1 offsets */
    uint8_t *code;
    int32_t *point;
    int max_len;    /* the longest path */
} W2vTree;

/* huffman.c: the tree over counts[0..V) (sorted most frequent first, as the corpus
 * is); V = 1 gives every word an empty path. Returns 0, or -1 (error set) when the
 * paths do not fit in memory. */
int nn__w2v_tree_build(W2vTree *t, const int64_t *counts, int64_t V);
void nn__w2v_tree_free(W2vTree *t);

/* Which objective a model trains (word2vec.c): the options' bools, checked. */
typedef enum W2vObjective { W2V_SKIP_GRAM, W2V_CBOW, W2V_SOFTMAX } W2vObjective;

/* Where one thread is in the schedule: all a checkpoint needs besides the tables. */
typedef struct WorkerState {
    int64_t s0, s1;       /* its sentences */
    int64_t sent, pos;    /* the next word: sentence and position in it */
    int64_t budget, done; /* kept corpus words to process, and processed */
    int64_t epoch;        /* 0-based pass over its sentences */
    uint64_t rng;         /* splitmix64 state */
    double loss;          /* pair loss summed over the current epoch */
    int64_t epoch_pairs;  /* pairs of the current epoch */
    int64_t pairs;        /* pairs of the earlier epochs */
} WorkerState;

struct NnWord2Vec {
    const NnW2vCorpus *corpus;
    NnW2vOpts o;          /* defaults filled in */
    int64_t V, D;
    Tensor *in;           /* (V, D) input vectors */
    Tensor *out;          /* (V, D) output rows of negative sampling or the full softmax, or NULL */
    Tensor *hs;           /* (V-1, D) inner-node rows of hierarchical softmax, or NULL */
    W2vObjective objective;
    W2vTree tree;         /* with hs */
    uint32_t *keep;       /* subsampling: keep a word when keep >= 32 random bits */
    uint32_t *noise_p;    /* alias table of count^0.75: column i is i when the low bits < p */
    int32_t *noise_alias; /* ... else noise_alias[i] */
    WorkerState *ws;      /* o.threads entries: where each thread is in the schedule */
    /* Each thread's finished passes (o.threads x o.iter, thread-major): the pair loss
     * summed in double and the pairs, kept when a thread starts its next pass, for
     * nn_w2v_epoch_losses. NaN loss: not known (a version-1 state file). */
    double *pass_loss;
    int64_t *pass_pairs;
    bool planned;         /* ws holds a run's schedule (trained, stopped or loaded) */
    bool in_progress;     /* ws holds a run to continue (stopped, or loaded from a file) */
};

/* ---- one nn_w2v_train call ---- */

#define MAX_PIECE 10000 /* effective words trained at once (gensim's MAX_SENTENCE_LEN) */

/* A thread's own copies of the rows it touched in the current round. A row is copied
 * from the shared table on first touch; the shared tables stay unchanged until every
 * thread has finished the round, then each row becomes its copy, or, when several
 * threads touched it, the first one's copy plus the others' changes in thread order.
 * The outcome therefore depends only on the seed and the thread count. */
typedef struct LocalRows {
    int32_t *slot; /* row -> its copy's index in pool, or -1 (V entries) */
    int32_t *rows; /* copy index -> row, in the order touched */
    float *pool;   /* the copies, D floats each */
    int64_t n;
} LocalRows;

typedef struct Run Run;

typedef struct Worker {
    Run *run;
    int id;
    WorkerState *st;
    LocalRows in, out, hs; /* used when the run is deterministic with more than one thread */
    float *work;          /* D floats of scratch */
    float *neu1;          /* D floats: CBOW's context vector */
    float *scores;        /* V floats: the full softmax's scores (softmax only) */
    int32_t *piece;       /* MAX_PIECE word ids */
    _Atomic int64_t done; /* st->done, published for progress in Hogwild runs */
} Worker;

/* One nn_w2v_train call, shared by its threads. */
struct Run {
    NnWord2Vec *m;
    Worker *w;
    int T;
    bool local;                /* threads train on their own copies and merge each round */
    pthread_barrier_t barrier;
    bool finish;
    int status;                /* -1 once a checkpoint failed */
    double started, next_report;
    int64_t start_done, next_checkpoint, checkpoint_every; /* kept words over all threads */
    pthread_mutex_t gate_lock; /* the threads start together, or not at all */
    pthread_cond_t gate_open;
    int gate;                  /* 0 closed, 1 go, -1 a thread could not be started */
};

/* A thread's learning rate where it stands: gensim's linear fall from alpha to
 * min_alpha over the thread's planned words, taken anew for each batch of words. */
static inline float nn__w2v_alpha(const NnWord2Vec *m, const WorkerState *st) {
    const double a0 = m->o.alpha, a1 = m->o.min_alpha;
    const double a = st->budget ? a0 - (a0 - a1) * (double)st->done / (double)st->budget : a1;
    return (float)(a > a1 ? a : a1);
}

/* epoch_loss.c: epoch e's mean pair loss over all threads into *loss; false while a
 * thread has not finished it. Reads every thread's counts: call it while none trains. */
bool nn__w2v_epoch_loss(const NnWord2Vec *m, int e, double *loss);

/* kernel.c: fills the sigmoid and softplus tables (once; every model's creation
 * calls it, so training never has to). */
void nn__w2v_init_tables(void);

/* kernel.c: trains the thread's next words, at the learning rate of where it stands,
 * until it has done `until` kept words (whole pieces, so a little more) or its budget. */
void nn__w2v_train_chunk(Worker *w, int64_t until);

/* objectives.c: one thread trains a subsampled piece of a sentence (w->piece[0..n))
 * at learning rate alpha, drawing window shrinks and negatives from its generator,
 * adding its losses to st->loss and its units (pairs, or CBOW's center words) to
 * st->epoch_pairs. */
void nn__w2v_train_piece_sg(Worker *w, int n, float alpha);
void nn__w2v_train_piece_cbow(Worker *w, int n, float alpha);
void nn__w2v_train_piece_softmax(Worker *w, int n, float alpha);

/* train.c: each thread's slice of the sentences, word budget and generator for a
 * fresh run of m, into ws[threads]. */
void nn__w2v_plan_into(const NnWord2Vec *m, WorkerState *ws);

#endif
