/* What the files of bench share: its options, the LSTM configs A-D (lstm.c runs one
 * in this process, the --child side), running a measurement in a child process and
 * reading its JSON line (child.c), the PyTorch and gensim peers (peers.c), the rounds
 * and the table or JSON line per config (report.c), and the word2vec benchmark
 * (word2vec.c); main.c parses the options and picks the mode. */
#ifndef APPS_BENCH_INTERNAL_H
#define APPS_BENCH_INTERNAL_H

#include <lamina/nn/nn.h>

#include "common/options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APP "bench"

typedef struct Config {
    const char *name, *layers, *unit; /* unit: what a throughput counts */
    int64_t vocab, batch, T;
    bool per_step; /* a target per time step (many-to-many) */
} Config;

/* The configs A-D, which scripts/peers/lstm_torch.py builds in PyTorch too. */
extern const Config CONFIGS[4];

enum { MAX_CORPORA = 16 };

enum { MAX_PYTHONS = 4 };

enum { MAX_ROUNDS = 20 };

typedef struct Options {
    AppOptions common; /* --threads, --json, --data */
    const char *configs, *peers_dir;
    const char *pythons[MAX_PYTHONS]; /* peer interpreters; the fastest is compared against */
    int n_pythons;
    int steps, reps, warmup, rounds;
    bool train, infer, peers, scaling, child;
    bool word2vec, hogwild; /* the word2vec mode, and its threads without rounds */
    const char *corpus[MAX_CORPORA];
    int n_corpus;
} Options;

/* ms per step [mode: 0 training, 1 inference], peak RSS in MB. */
typedef struct Result {
    bool ok;
    double min[2], med[2], cpu[2], rss; /* cpu: least CPU ms per step, all threads (ours) */
    char setting[160];                  /* PyTorch: which version and thread setting */
} Result;

/* Result's modes, by index. */
extern const char *const MODES[2];

/* Sorts v[0..n) (n >= 1) and returns its median: the mean of the middle two for even n. */
double sort_median(double *v, int n);

/* ---- one config in this process (lstm.c) ---- */

/* Matrix-product FLOPs of one forward pass of c (2 per multiply-add). */
double forward_flops(const Config *c);
/* Runs one config here and prints one JSON line of results to stdout; returns the
 * exit status. */
int run_child(const Config *c, const Options *o);

/* ---- child processes (child.c) ---- */

/* Runs argv (with extra environment settings "K=V", NULL-terminated) and captures its
 * stdout into a heap string; writes the child's peak RSS in MB. NULL on failure. */
char *run_capture(char *const argv[], const char *const env[], double *maxrss_mb);
/* Runs argv with its stdout and stderr thrown away; returns its exit status, or -1 if
 * it could not be started or was killed. */
int run_quiet(char *const argv[]);
/* The number after "key": in s at or after `from` (NaN when absent or null). */
double json_field(const char *s, const char *from, const char *key);
/* One config measured by this program re-executed with --child at `threads`. */
Result run_ours(const Config *c, const Options *o, int threads);

/* ---- word2vec (word2vec.c) ---- */

typedef struct W2vRun {
    bool ok;
    double words_per_s, analogy, wordsim; /* quality: NaN when the test set is missing */
} W2vRun;

typedef struct W2vData {
    NnW2vCorpus *corpus;
    NnAnalogySet *analogies;     /* NULL when questions-words.txt is missing */
    NnSimilaritySet *similarity; /* NULL when wordsim353.tsv is missing */
    char paths[MAX_CORPORA][4096];
} W2vData;

/* The test sets bench --word2vec scores with, looked for in the data directory. */
#define ANALOGY_FILE "questions-words.txt"
#define WORDSIM_FILE "wordsim353.tsv"

/* bench --word2vec: rounds of ours (and gensim with --peers), then the summary. */
int run_word2vec(const Options *o);

/* ---- the peers (peers.c) ---- */

/* The peer scripts, in Options.peers_dir (the repository's scripts/peers/). */
#define TORCH_SCRIPT "lstm_torch.py"
#define GENSIM_SCRIPT "word2vec_gensim.py"

/* Checks that the peer script is in o->peers_dir (else says where it should be and
 * returns -1) and keeps in o->pythons the interpreters that can run it, saying what to
 * install for each one left out; with none left, turns o->peers off. */
int find_peers(Options *o, const char *script);

/* PyTorch at its best thread setting over every --python given. */
Result run_torch(const Config *c, const Options *o);
/* gensim under `python` with the app's defaults on d's corpora and seed; its version
 * goes to version (cap bytes). */
W2vRun run_gensim(const Options *o, const char *python, const W2vData *d, uint64_t seed, char *version,
                  size_t cap);

/* ---- the LSTM benchmark (report.c) ---- */

/* Every config asked for, in rounds of ours, 1 thread (--scaling) and PyTorch
 * (--peers); prints the table or a JSON line per config. Returns the exit status. */
int run_parent(const Options *o);

#endif
