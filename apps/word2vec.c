/* word2vec: skip-gram with negative sampling on a plain-text corpus (default: the
 * Sherlock Holmes stories), written only against nn/nn.h. Trains (or loads) word
 * vectors, then answers --similar / --analogy queries, scores analogy and
 * word-similarity test sets the way gensim does, writes the vectors in word2vec's
 * text or binary format, and draws a PCA map. `word2vec --help` lists the options. */
#include <lamina/nn/nn.h>

#include "common/data.h"
#include "common/flags.h"
#include "common/json.h"
#include "common/memory.h"
#include "common/status.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "word2vec"
#define MAX_LIST 16
/* Where checkpoints go when neither --checkpoint nor --resume names a file. */
#define DEFAULT_CHECKPOINT "./" APP ".checkpoint"

typedef struct Options {
    const char *data_dir, *save, *load, *output, *plot, *eval_analogies, *checkpoint, *resume;
    const char *corpus[MAX_LIST], *similar[MAX_LIST], *analogy[MAX_LIST], *eval_similarity[MAX_LIST];
    int n_corpus, n_similar, n_analogy, n_eval_similarity;
    int64_t dim, window, negative, min_count, iter, threads, batch, max_steps, restrict_vocab, plot_words;
    int64_t checkpoint_every; /* corpus words, or passes when every_in_epochs */
    bool every_in_epochs;
    double sample, alpha, min_alpha;
    uint64_t seed;
    bool binary, summary, quiet, json, hogwild;
} Options;

static void usage(FILE *out) {
    fprintf(out,
            "Usage: word2vec [OPTIONS] [CORPUS...]\n"
            "Train skip-gram word vectors with negative sampling, then query and evaluate them.\n\n"
            "Corpus and model:\n"
            "  --corpus FILE          a text to train on (repeatable; a path, or a name in the data\n"
            "                         directory; default sherlock.txt). Tokenised like gensim_word2vec.py:\n"
            "                         lower-case, letters a-z only, one sentence per line\n"
            "  --data DIR             data directory (default: $DATA_DIR, else the repository's data/)\n"
            "  --dim N                vector size (default 100)\n"
            "  --window N             context window, randomly shrunk per word (default 5)\n"
            "  --negative N           negative samples per pair (default 5)\n"
            "  --min-count N          drop words seen fewer times (default 5)\n"
            "  --sample X             subsampling threshold, 0 for none (default 1e-3)\n"
            "  --iter N, --epochs N   passes over the corpus (default 5)\n"
            "  --alpha X, --lr X      starting learning rate, decaying linearly (default 0.025)\n"
            "  --min-alpha X          final learning rate (default 0.0001)\n"
            "  --threads N            training and kernel threads (default: all cores). The same\n"
            "                         --seed and --threads give the same vectors, bit for bit\n"
            "  --hogwild              threads write the shared vectors without locks or rounds, as\n"
            "                         gensim and word2vec.c do: no waiting between rounds, but the\n"
            "                         vectors then depend on timing (not reproducible)\n"
            "  --seed N               seed of the initial vectors and the sampling (default 1)\n"
            "  --batch-size N         words per thread between learning-rate updates, and per round\n"
            "                         of the threads (default: corpus words x iter / threads / 128,\n"
            "                         within 1000..10000)\n"
            "  --max-steps N          stop after N batches of --batch-size corpus words (quick runs)\n"
            "  --summary              print the model table and exit\n\n"
            "Saving and loading:\n"
            "  --save FILE            write the vectors in word2vec's binary format\n"
            "  --load FILE            skip training: read word2vec text or binary vectors\n"
            "  --output FILE          write the vectors in word2vec's text format\n"
            "  --binary               ... in the binary format instead\n"
            "  --checkpoint FILE      where training state goes: --checkpoint-every and Ctrl-C write\n"
            "                         it (default: the --resume FILE, else " DEFAULT_CHECKPOINT ")\n"
            "  --checkpoint-every N   write the training state every N corpus words, or every N passes\n"
            "                         with a trailing e (500000, 1e); atomic (temporary file + rename),\n"
            "                         taken between rounds; not with --hogwild\n"
            "  --resume FILE          continue the run saved in FILE (give the same corpus and options):\n"
            "                         it ends with the same vectors, bit for bit, as a run never\n"
            "                         stopped, with the same --threads\n\n"
            "Queries and evaluation:\n"
            "  --similar WORD         the 10 nearest words by cosine (repeatable)\n"
            "  --analogy \"A B C\"      the best D for A:B :: C:D by 3CosAdd (repeatable)\n"
            "  --eval-analogies FILE  accuracy on questions-words.txt (per section and total)\n"
            "  --eval-similarity FILE Spearman rho on a WordSim-353 / SimLex-999 file (repeatable)\n"
            "  --restrict-vocab N     analogies use the N most frequent words (default 30000, as gensim)\n"
            "  --plot FILE.svg        2-D PCA map of the most frequent words\n"
            "  --plot-words N         words on the map (default 200)\n\n"
            "  --quiet                no progress display\n"
            "  --json                 end stdout with one JSON line of the results\n"
            "  --version, --help\n\n"
            "Ctrl-C (SIGINT) or SIGTERM during training stops at the end of the current round (at most\n"
            "--batch-size words per thread), writes the training state to the checkpoint file (see\n"
            "--checkpoint) and the vectors so far to --save FILE if given, prints the command that\n"
            "resumes the run and exits 130 (SIGINT) or 143 (SIGTERM); a second Ctrl-C stops at once.\n\n"
            "Exit status: 0 on success, 1 when training, a query or I/O fails, 2 for bad options (also\n"
            "sizes beyond this machine's memory), a missing or empty corpus, a corpus with no word\n"
            "seen --min-count times, or an unusable --resume file; 130 / 143 when stopped by SIGINT /\n"
            "SIGTERM.\n");
}

static bool add_to(const char **list, int *n, const char *value, const char *flag) {
    if (*n == MAX_LIST) {
        fprintf(stderr, APP ": %s given more than %d times\n", flag, MAX_LIST);
        return false;
    }
    list[(*n)++] = value;
    return true;
}

/* --checkpoint-every: N corpus words, or Ne passes over the corpus. */
static bool parse_every(const char *value, Options *o) {
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    bool passes = *end == 'e' && end[1] == '\0';
    if (errno || end == value || (*end && !passes) || v < 1 || v > 1000000000000LL) {
        fprintf(stderr, APP ": invalid value '%s' for --checkpoint-every: expected N corpus words or Ne passes "
                        "(N from 1), e.g. 500000 or 1e\n", value);
        return false;
    }
    o->checkpoint_every = v;
    o->every_in_epochs = passes;
    return true;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, Options *o) {
    enum { O_CORPUS = 256, O_DATA, O_DIM, O_WINDOW, O_NEGATIVE, O_MIN_COUNT, O_SAMPLE, O_ITER, O_ALPHA, O_MIN_ALPHA,
           O_THREADS, O_SEED, O_BATCH, O_MAX_STEPS, O_SUMMARY, O_SAVE, O_LOAD, O_OUTPUT, O_BINARY, O_SIMILAR,
           O_ANALOGY, O_EVAL_AN, O_EVAL_SIM, O_RESTRICT, O_PLOT, O_PLOT_WORDS, O_QUIET, O_JSON, O_VERSION, O_HELP,
           O_HOGWILD, O_CHECKPOINT, O_CHECKPOINT_EVERY, O_RESUME };
    static const struct option longopts[] = {
        {"corpus", required_argument, 0, O_CORPUS}, {"data", required_argument, 0, O_DATA},
        {"dim", required_argument, 0, O_DIM}, {"window", required_argument, 0, O_WINDOW},
        {"negative", required_argument, 0, O_NEGATIVE}, {"min-count", required_argument, 0, O_MIN_COUNT},
        {"sample", required_argument, 0, O_SAMPLE}, {"iter", required_argument, 0, O_ITER},
        {"epochs", required_argument, 0, O_ITER}, {"alpha", required_argument, 0, O_ALPHA},
        {"lr", required_argument, 0, O_ALPHA}, {"min-alpha", required_argument, 0, O_MIN_ALPHA},
        {"threads", required_argument, 0, O_THREADS}, {"seed", required_argument, 0, O_SEED},
        {"batch-size", required_argument, 0, O_BATCH}, {"max-steps", required_argument, 0, O_MAX_STEPS},
        {"summary", no_argument, 0, O_SUMMARY}, {"save", required_argument, 0, O_SAVE},
        {"load", required_argument, 0, O_LOAD}, {"output", required_argument, 0, O_OUTPUT},
        {"binary", no_argument, 0, O_BINARY}, {"similar", required_argument, 0, O_SIMILAR},
        {"analogy", required_argument, 0, O_ANALOGY}, {"eval-analogies", required_argument, 0, O_EVAL_AN},
        {"eval-similarity", required_argument, 0, O_EVAL_SIM}, {"restrict-vocab", required_argument, 0, O_RESTRICT},
        {"plot", required_argument, 0, O_PLOT}, {"plot-words", required_argument, 0, O_PLOT_WORDS},
        {"quiet", no_argument, 0, O_QUIET}, {"hogwild", no_argument, 0, O_HOGWILD},
        {"checkpoint", required_argument, 0, O_CHECKPOINT},
        {"checkpoint-every", required_argument, 0, O_CHECKPOINT_EVERY},
        {"resume", required_argument, 0, O_RESUME}, {"json", no_argument, 0, O_JSON},
        {"version", no_argument, 0, O_VERSION}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    *o = (Options){.dim = 100, .window = 5, .negative = 5, .min_count = 5, .sample = 1e-3, .iter = 5,
                   .alpha = 0.025, .min_alpha = 1e-4, .batch = 0, .restrict_vocab = 30000, .plot_words = 200,
                   .seed = 1, .threads = tensor_get_num_threads()};
    opterr = 0;
    int c;
    int64_t seed;
    bool ok = true;
    while (ok && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_CORPUS: ok = add_to(o->corpus, &o->n_corpus, optarg, "--corpus"); break;
        case O_DATA: o->data_dir = optarg; break;
        case O_DIM: ok = app_parse_int(APP, "--dim", optarg, 1, 10000, &o->dim); break;
        case O_WINDOW: ok = app_parse_int(APP, "--window", optarg, 1, 1000, &o->window); break;
        case O_NEGATIVE: ok = app_parse_int(APP, "--negative", optarg, 1, 100, &o->negative); break;
        case O_MIN_COUNT: ok = app_parse_int(APP, "--min-count", optarg, 1, INT32_MAX, &o->min_count); break;
        case O_SAMPLE: ok = app_parse_float(APP, "--sample", optarg, 0, 1, &o->sample); break;
        case O_ITER: ok = app_parse_int(APP, "--iter", optarg, 1, 100000, &o->iter); break;
        case O_ALPHA: ok = app_parse_float(APP, "--alpha", optarg, 1e-9, 10, &o->alpha); break;
        case O_MIN_ALPHA: ok = app_parse_float(APP, "--min-alpha", optarg, 0, 10, &o->min_alpha); break;
        case O_THREADS: ok = app_parse_int(APP, "--threads", optarg, 1, 1024, &o->threads); break;
        case O_SEED:
            if ((ok = app_parse_int(APP, "--seed", optarg, 0, INT64_MAX, &seed))) o->seed = (uint64_t)seed;
            break;
        case O_BATCH: ok = app_parse_int(APP, "--batch-size", optarg, 1, INT32_MAX, &o->batch); break;
        case O_MAX_STEPS: ok = app_parse_int(APP, "--max-steps", optarg, 1, INT32_MAX, &o->max_steps); break;
        case O_SUMMARY: o->summary = true; break;
        case O_SAVE: o->save = optarg; break;
        case O_LOAD: o->load = optarg; break;
        case O_OUTPUT: o->output = optarg; break;
        case O_BINARY: o->binary = true; break;
        case O_SIMILAR: ok = add_to(o->similar, &o->n_similar, optarg, "--similar"); break;
        case O_ANALOGY: ok = add_to(o->analogy, &o->n_analogy, optarg, "--analogy"); break;
        case O_EVAL_AN: o->eval_analogies = optarg; break;
        case O_EVAL_SIM: ok = add_to(o->eval_similarity, &o->n_eval_similarity, optarg, "--eval-similarity"); break;
        case O_RESTRICT: ok = app_parse_int(APP, "--restrict-vocab", optarg, 1, INT32_MAX, &o->restrict_vocab); break;
        case O_PLOT: o->plot = optarg; break;
        case O_PLOT_WORDS: ok = app_parse_int(APP, "--plot-words", optarg, 1, 100000, &o->plot_words); break;
        case O_QUIET: o->quiet = true; break;
        case O_HOGWILD: o->hogwild = true; break;
        case O_CHECKPOINT: o->checkpoint = optarg; break;
        case O_CHECKPOINT_EVERY: ok = parse_every(optarg, o); break;
        case O_RESUME: o->resume = optarg; break;
        case O_JSON: o->json = true; break;
        case O_VERSION: printf("lamina " LAMINA_VERSION "\n"); return APP_EXIT_OK;
        case O_HELP: usage(stdout); return APP_EXIT_OK;
        default:
            fprintf(stderr, APP ": unknown option or missing value '%s' (see --help)\n", argv[optind - 1]);
            return APP_EXIT_USAGE;
        }
    }
    if (!ok) return APP_EXIT_USAGE;
    for (; optind < argc; optind++)
        if (!add_to(o->corpus, &o->n_corpus, argv[optind], "a corpus")) return APP_EXIT_USAGE;
    if (o->load && (o->resume || o->checkpoint_every)) {
        fprintf(stderr, APP ": --load skips training: it cannot go with --resume or --checkpoint-every\n");
        return APP_EXIT_USAGE;
    }
    if (o->hogwild && o->checkpoint_every) {
        fprintf(stderr, APP ": --checkpoint-every needs the deterministic schedule: Hogwild threads never stop "
                        "together (drop --hogwild)\n");
        return APP_EXIT_USAGE;
    }
    if (o->min_alpha > o->alpha) {
        fprintf(stderr, APP ": --min-alpha %g is above --alpha %g\n", o->min_alpha, o->alpha);
        return APP_EXIT_USAGE;
    }
    for (int i = 0; i < o->n_analogy; i++) {
        char a[64], b[64], c2[64], extra[2];
        if (sscanf(o->analogy[i], "%63s %63s %63s %1s", a, b, c2, extra) != 3) {
            fprintf(stderr, APP ": invalid value '%s' for --analogy: expected three words \"A B C\"\n", o->analogy[i]);
            return APP_EXIT_USAGE;
        }
    }
    if (o->n_corpus == 0) o->corpus[o->n_corpus++] = "sherlock.txt";
    o->data_dir = app_data_dir(o->data_dir);
    return -1;
}

/* A file as given if it exists, else the name inside the data directory. */
static char *resolve(const Options *o, const char *name, char *buf, size_t cap) {
    if (access(name, R_OK) == 0 || strchr(name, '/')) snprintf(buf, cap, "%s", name);
    else snprintf(buf, cap, "%s/%s", o->data_dir, name);
    return buf;
}

/* What the training callbacks need. */
typedef struct TrainContext {
    bool tty;               /* stderr is a terminal: progress redraws one line */
    const char *checkpoint; /* where training state goes */
} TrainContext;

static void on_progress(const NnW2vProgress *p, void *user) {
    static double last_line;
    bool tty = ((const TrainContext *)user)->tty, last = p->fraction >= 1.0;
    if (!tty && !last && p->seconds - last_line < 5.0) return; /* a line every 5 s in logs */
    last_line = p->seconds;
    double eta = p->fraction > 0 ? p->seconds * (1.0 - p->fraction) / p->fraction : NAN;
    fprintf(stderr, "%sepoch %d/%d [%3.0f%%] alpha %.5f  loss %.4f  %.0f words/s  %s %.0fs%s", tty ? "\r" : "",
            p->epoch, p->epochs, 100.0 * p->fraction, p->alpha, p->loss, p->words_per_s, last ? "took" : "ETA",
            last ? p->seconds : eta, tty && !last ? "   " : "\n");
    fflush(stderr);
}

/* A word's row: exact, else lower-cased; reports unknown words. */
static int64_t lookup(const NnWordVectors *wv, const char *word) {
    int64_t row = nn_word_vectors_find(wv, word);
    if (row < 0) {
        char low[256];
        snprintf(low, sizeof low, "%s", word);
        for (char *p = low; *p; p++) *p = (char)tolower((unsigned char)*p);
        row = nn_word_vectors_find(wv, low);
    }
    if (row < 0) fprintf(stderr, APP ": '%s' is not in the vocabulary\n", word);
    return row;
}

static void print_neighbours(const NnWordVectors *wv, const char *what, int64_t n, const int64_t *rows,
                             const float *cos) {
    printf("%s:", what);
    for (int64_t i = 0; i < n; i++) printf(" %s (%.3f)%s", wv->words[rows[i]], cos[i], i + 1 < n ? "," : "");
    printf("\n");
}

/* "path/wordsim353.tsv" -> "wordsim353": the JSON key of a similarity score. */
static void json_key_of(const char *path, char *key, size_t cap) {
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = 0;
    for (; *base && *base != '.' && n + 1 < cap; base++)
        key[n++] = isalnum((unsigned char)*base) ? (char)tolower((unsigned char)*base) : '_';
    key[n] = 0;
}

/* Reads and tokenises the corpora; NULL after printing why (exit 2). */
static NnW2vCorpus *read_corpus(const Options *o) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    for (int i = 0; i < o->n_corpus; i++) {
        int64_t len;
        const char *name = o->corpus[i];
        char *text;
        if (access(name, R_OK) == 0 || strchr(name, '/')) { /* a path */
            if (!(text = nn_read_file(name, &len)))
                fprintf(stderr, APP ": cannot read the corpus: %s\n", tensor_last_error());
        } else { /* a name in the data directory, with the hint on how to get the data */
            text = app_read_corpus(APP, o->data_dir, name, &len);
        }
        if (!text) {
            nn_w2v_corpus_free(c);
            return NULL;
        }
        nn_w2v_corpus_add(c, text, len);
        free(text);
    }
    if (nn_w2v_corpus_raw_words(c) == 0) {
        fprintf(stderr, APP ": the corpus (%s%s) holds no words (letters a-z): nothing to train on\n", o->corpus[0],
                o->n_corpus > 1 ? " and the others" : "");
        nn_w2v_corpus_free(c);
        return NULL;
    }
    if (nn_w2v_corpus_finish(c, o->min_count) != 0) {
        fprintf(stderr, APP ": %s\n", tensor_last_error());
        nn_w2v_corpus_free(c);
        return NULL;
    }
    return c;
}

static void summary(const Options *o, const NnW2vCorpus *c) {
    int64_t v = nn_w2v_corpus_vocab_size(c);
    printf("word2vec: skip-gram with negative sampling (window %lld, %lld negatives)\n", (long long)o->window,
           (long long)o->negative);
    printf("corpus: %lld words, %lld sentences; vocabulary: %lld words seen >= %lld times\n",
           (long long)nn_w2v_corpus_raw_words(c), (long long)nn_w2v_corpus_sentences(c), (long long)v,
           (long long)o->min_count);
    printf("%-28s %-16s %12s\n", "Table", "Shape", "Param #");
    printf("%-28s (%lld, %lld)%*s %12lld\n", "input vectors (Embedding)", (long long)v, (long long)o->dim, 4, "",
           (long long)(v * o->dim));
    printf("%-28s (%lld, %lld)%*s %12lld\n", "output vectors (Embedding)", (long long)v, (long long)o->dim, 4, "",
           (long long)(v * o->dim));
    printf("Total params: %lld\n", (long long)(2 * v * o->dim));
}

static volatile sig_atomic_t stop_signal; /* the signal that asked training to stop */

static void on_stop_signal(int signo) { stop_signal = signo; }

static int write_checkpoint(NnWord2Vec *m, void *user) {
    const TrainContext *ck = user;
    if (nn_w2v_save_state(m, ck->checkpoint) != 0) {
        fprintf(stderr, APP ": cannot write the checkpoint: %s\n", tensor_last_error());
        return -1;
    }
    return 0;
}

/* Writes s so a POSIX shell reads it back unchanged. */
static void put_shell_word(const char *s) {
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == strlen(s)) {
        fputs(s, stderr);
        return;
    }
    fputc('\'', stderr);
    for (; *s; s++) *s == '\'' ? fputs("'\\''", stderr) : fputc(*s, stderr);
    fputc('\'', stderr);
}

/* The command that continues a stopped run: this one with --resume PATH. */
static void print_resume_command(const char *path, int argc, char **argv) {
    fputs("resume with: " APP, stderr);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--resume")) {
            i++;
            continue;
        }
        if (!strncmp(argv[i], "--resume=", 9)) continue;
        fputc(' ', stderr);
        put_shell_word(argv[i]);
    }
    fputs(" --resume ", stderr);
    put_shell_word(path);
    fputc('\n', stderr);
}

/* Trains (or continues a --resume run) into *wv. Returns -1 to go on, else the exit
 * status: after a signal, once the checkpoint (and --save vectors) are written. */
static int train(const Options *o, const NnW2vCorpus *corpus, NnW2vStats *stats, NnWordVectors **wv, int argc,
                 char **argv) {
    /* Both tables, and with several deterministic threads each one's copies of the
     * rows it touches in a round (at most both tables). */
    double rows = (double)nn_w2v_corpus_vocab_size(corpus);
    double copies = o->threads > 1 && !o->hogwild ? 2.0 * (double)o->threads : 0;
    char detail[128];
    snprintf(detail, sizeof detail, "%.0f words x %lld dimensions, 2 tables + %.0f thread copies", rows,
             (long long)o->dim, copies);
    if (!app_fits_in_memory(APP, "training", detail, (2 + copies) * rows * (double)o->dim * sizeof(float)))
        return APP_EXIT_USAGE;
    const int64_t per_pass = nn_w2v_corpus_raw_words(corpus);
    const int64_t batch = o->batch ? o->batch : nn_w2v_default_batch_words(corpus, (int)o->iter, (int)o->threads);
    TrainContext ck = {.tty = isatty(fileno(stderr)),
                       .checkpoint = o->checkpoint ? o->checkpoint : o->resume ? o->resume : DEFAULT_CHECKPOINT};
    stop_signal = 0;
    NnWord2Vec *m = nn_w2v(corpus, .dim = o->dim, .window = (int)o->window, .negative = (int)o->negative,
                           .sample = o->sample, .no_sample = o->sample == 0, .iter = (int)o->iter,
                           .alpha = (float)o->alpha, .min_alpha = (float)o->min_alpha, .threads = (int)o->threads,
                           .hogwild = o->hogwild, .seed = o->seed, .batch_words = batch,
                           .max_words = o->max_steps * batch, .on_progress = o->quiet ? NULL : on_progress,
                           .user = &ck, .stop = &stop_signal,
                           .checkpoint_words = o->checkpoint_every * (o->every_in_epochs ? per_pass : 1),
                           .on_checkpoint = o->checkpoint_every ? write_checkpoint : NULL);
    if (!m) {
        fprintf(stderr, APP ": %s\n", tensor_last_error());
        return APP_EXIT_USAGE;
    }
    if (o->resume && nn_w2v_load_state(m, o->resume) != 0) {
        fprintf(stderr, APP ": cannot resume: %s\n", tensor_last_error());
        nn_w2v_free(m);
        return APP_EXIT_USAGE;
    }
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = (int)SA_RESETHAND}, old_int, old_term;
    sigemptyset(&sa.sa_mask); /* SA_RESETHAND: a second Ctrl-C is not caught and stops at once */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int trained = nn_w2v_train(m, stats);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    int rc = -1;
    if (trained < 0 || !(*wv = nn_w2v_word_vectors(m))) {
        fprintf(stderr, APP ": training failed: %s\n", tensor_last_error());
        rc = APP_EXIT_FAILURE;
    } else if (trained == 1) { /* stopped by a signal between rounds */
        int signo = (int)stop_signal;
        if (ck.tty && !o->quiet) fputc('\n', stderr);
        if (nn_w2v_save_state(m, ck.checkpoint) != 0) {
            fprintf(stderr, APP ": stopped by a signal, but cannot write the checkpoint: %s\n", tensor_last_error());
            rc = APP_EXIT_FAILURE;
        } else {
            fprintf(stderr, APP ": stopped by %s after %lld corpus words; checkpoint written to %s\n",
                    signo == SIGTERM ? "SIGTERM" : "SIGINT", (long long)stats->words, ck.checkpoint);
            if (o->save) {
                if (nn_vectors_write(*wv, o->save, true) == 0)
                    fprintf(stderr, APP ": vectors so far written to %s\n", o->save);
                else
                    fprintf(stderr, APP ": cannot save the vectors so far: %s\n", tensor_last_error());
            }
            print_resume_command(ck.checkpoint, argc, argv);
            rc = APP_EXIT_SIGNAL_BASE + signo;
        }
        nn_word_vectors_free(*wv);
        *wv = NULL;
    }
    nn_w2v_free(m);
    return rc;
}

int main(int argc, char **argv) {
    Options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    tensor_set_num_threads((int)o.threads);
    int status = APP_EXIT_OK;
    NnW2vCorpus *corpus = NULL;
    NnWordVectors *wv = NULL;
    NnW2vStats stats = {.words_per_s = NAN, .loss = NAN, .seconds = NAN};
    AppJson json;
    char path[4096];

    if (o.load) {
        if (!(wv = nn_vectors_read(o.load, NN_VECTORS_AUTO))) {
            fprintf(stderr, APP ": cannot load vectors: %s\n", tensor_last_error());
            return APP_EXIT_FAILURE;
        }
        fprintf(stderr, "loaded %lld vectors of %lld dimensions from %s\n", (long long)wv->size, (long long)wv->dim, o.load);
        if (o.summary) { /* only the word vectors are in the file */
            printf("%-28s %-16s %12s\n", "Table", "Shape", "Param #");
            printf("%-28s (%lld, %lld)%*s %12lld\n", "input vectors (Embedding)", (long long)wv->size,
                   (long long)wv->dim, 4, "", (long long)(wv->size * wv->dim));
            printf("Total params: %lld\n", (long long)(wv->size * wv->dim));
            nn_word_vectors_free(wv);
            return APP_EXIT_OK;
        }
    } else {
        if (!(corpus = read_corpus(&o))) return APP_EXIT_USAGE;
        if (o.summary) {
            summary(&o, corpus);
            nn_w2v_corpus_free(corpus);
            return APP_EXIT_OK;
        }
        if ((rc = train(&o, corpus, &stats, &wv, argc, argv)) >= 0) {
            nn_w2v_corpus_free(corpus);
            return rc;
        }
        printf("trained on %lld corpus words (%lld per pass, vocabulary %lld) with %lld threads in %.2f s: "
               "%.0f words/s, final loss %.4f\n",
               (long long)stats.words, (long long)nn_w2v_corpus_raw_words(corpus), (long long)wv->size,
               (long long)o.threads, stats.seconds, stats.words_per_s, stats.loss);
    }
    if (o.save && nn_vectors_write(wv, o.save, true) != 0) {
        fprintf(stderr, APP ": cannot save: %s\n", tensor_last_error());
        status = APP_EXIT_FAILURE;
    }
    if (o.output && nn_vectors_write(wv, o.output, o.binary) != 0) {
        fprintf(stderr, APP ": cannot write the vectors: %s\n", tensor_last_error());
        status = APP_EXIT_FAILURE;
    }

    int64_t rows[10];
    float cos[10];
    const char *demo[] = {"holmes", "watson", "man", "door"};
    bool queries = o.n_similar || o.n_analogy || o.eval_analogies || o.n_eval_similarity;
    for (int i = 0; !queries && i < 4; i++) { /* a taste of the vectors when nothing was asked */
        int64_t row = nn_word_vectors_find(wv, demo[i]);
        if (row >= 0) print_neighbours(wv, demo[i], nn_nearest_to_row(wv, row, 10, rows, cos), rows, cos);
    }
    for (int i = 0; i < o.n_similar; i++) {
        int64_t row = lookup(wv, o.similar[i]);
        if (row < 0) status = APP_EXIT_FAILURE;
        else print_neighbours(wv, o.similar[i], nn_nearest_to_row(wv, row, 10, rows, cos), rows, cos);
    }
    for (int i = 0; i < o.n_analogy; i++) {
        char w[3][64];
        sscanf(o.analogy[i], "%63s %63s %63s", w[0], w[1], w[2]);
        int64_t a = lookup(wv, w[0]), b = lookup(wv, w[1]), c = lookup(wv, w[2]);
        if (a < 0 || b < 0 || c < 0) {
            status = APP_EXIT_FAILURE;
            continue;
        }
        int64_t n = nn_analogy(wv, a, b, c, 5, 0, rows, cos);
        printf("%s : %s :: %s : %s\n", w[0], w[1], w[2], n ? wv->words[rows[0]] : "?");
        print_neighbours(wv, "  candidates", n, rows, cos);
    }

    double analogy = NAN;
    NnAnalogySet *an = NULL;
    if (o.eval_analogies) {
        if (!(an = nn_analogy_read(resolve(&o, o.eval_analogies, path, sizeof path)))) {
            fprintf(stderr, APP ": cannot read the analogies: %s\n", tensor_last_error());
            status = APP_EXIT_FAILURE;
        } else {
            analogy = nn_analogy_evaluate(wv, an, o.restrict_vocab);
            printf("analogies (%s, %lld most frequent words):\n", path, (long long)o.restrict_vocab);
            for (int s = 0; s < an->n_sections; s++) {
                const NnAnalogySection *sec = &an->sections[s];
                int64_t asked = sec->correct + sec->incorrect;
                printf("  %-28s %5lld/%-5lld %6.2f%%  (%lld skipped)\n", sec->name, (long long)sec->correct,
                       (long long)asked, asked ? 100.0 * (double)sec->correct / (double)asked : 0.0,
                       (long long)sec->skipped);
            }
            printf("  %-28s %5lld/%-5lld %6.2f%%  (%lld skipped, %lld malformed lines)\n", "total",
                   (long long)an->correct, (long long)(an->correct + an->incorrect), 100.0 * analogy,
                   (long long)an->skipped, (long long)an->malformed);
        }
    }
    double sim[MAX_LIST];
    for (int i = 0; i < o.n_eval_similarity; i++) {
        NnSimilaritySet *set = nn_similarity_read(resolve(&o, o.eval_similarity[i], path, sizeof path));
        sim[i] = NAN;
        if (!set) {
            fprintf(stderr, APP ": cannot read the similarity pairs: %s\n", tensor_last_error());
            status = APP_EXIT_FAILURE;
            continue;
        }
        sim[i] = nn_similarity_evaluate(wv, set);
        printf("similarity (%s): Spearman rho %.4f on %lld pairs (%lld skipped, %lld malformed lines)\n", path,
               sim[i], (long long)set->used, (long long)set->skipped, (long long)set->malformed);
        nn_similarity_set_free(set);
    }

    if (o.plot) {
        int64_t n = o.plot_words < wv->size ? o.plot_words : wv->size;
        float *xy = malloc((size_t)(2 * n) * sizeof *xy);
        if (!xy || nn_word_vectors_pca2(wv, n, xy) != 0 ||
            nn_plot_scatter_svg(o.plot, "word vectors: PCA of the most frequent words", n, xy,
                                (const char *const *)wv->words) != 0) {
            fprintf(stderr, APP ": cannot write the plot: %s\n", tensor_last_error());
            status = APP_EXIT_FAILURE;
        } else {
            fprintf(stderr, "wrote %s (%lld words)\n", o.plot, (long long)n);
        }
        free(xy);
    }

    if (o.json) {
        app_json_begin(&json, stdout);
        if (corpus) {
            app_json_int(&json, "words", nn_w2v_corpus_raw_words(corpus));
            app_json_number(&json, "seconds", stats.seconds);
            app_json_number(&json, "words_per_s", stats.words_per_s);
            app_json_number(&json, "loss", stats.loss);
        }
        app_json_int(&json, "vocab", wv->size);
        app_json_int(&json, "dim", wv->dim);
        app_json_int(&json, "threads", o.threads);
        if (o.n_similar) {
            int64_t row = nn_word_vectors_find(wv, o.similar[0]);
            if (row >= 0 && nn_nearest_to_row(wv, row, 1, rows, cos) == 1)
                app_json_number(&json, "similar_top_cosine", cos[0]);
        }
        if (an) {
            app_json_number(&json, "analogy", analogy);
            app_json_int(&json, "analogy_questions", an->correct + an->incorrect);
            app_json_int(&json, "analogy_skipped", an->skipped);
        }
        for (int i = 0; i < o.n_eval_similarity; i++) {
            char key[64];
            json_key_of(o.eval_similarity[i], key, sizeof key);
            app_json_number(&json, key, sim[i]);
        }
        app_json_end(&json);
    }
    nn_analogy_set_free(an);
    nn_word_vectors_free(wv);
    nn_w2v_corpus_free(corpus);
    return status;
}
