/* word2vec: skip-gram or CBOW with negative sampling and / or hierarchical softmax,
 * or skip-gram with the full softmax, on a plain-text corpus (default: the Sherlock
 * Holmes stories), written only against nn/nn.h. Trains (or loads) word
 * vectors, then answers --similar / --analogy queries, scores analogy and
 * word-similarity test sets the way gensim does, writes the vectors in word2vec's
 * text or binary format, and draws a PCA map. `word2vec --help` lists the options.
 * This file: the options and the run from corpus to report. */
#include "word2vec/word2vec_internal.h"

#include "common/data.h"
#include "common/flags.h"
#include "common/json.h"
#include "common/paths.h"
#include "common/status.h"
#include "common/wait_policy.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "Usage: word2vec [OPTIONS] [CORPUS...]\n"
            "Train word2vec vectors (skip-gram or CBOW; negative sampling, hierarchical softmax or\n"
            "both; or the full softmax), then query and evaluate them.\n\n"
            "Corpus and model:\n"
            "  --corpus FILE          a text to train on (repeatable; a path, or a name in the data\n"
            "                         directory; default sherlock.txt), tokenised as gensim is fed by\n"
            "                         scripts/peers/word2vec_gensim.py: lower-case, letters a-z only,\n"
            "                         one sentence per line\n"
            "  --data DIR             data directory (default: $DATA_DIR, else the repository's data/)\n"
            "  --dim N                vector size (default 100)\n"
            "  --window N             context window, randomly shrunk per word (default 5)\n"
            "  --negative N           negative samples per prediction (default 5); 0 for none, with\n"
            "                         --hs\n"
            "  --cbow                 CBOW: the window's words predict the center word (default:\n"
            "                         skip-gram, each window word predicted from the center's)\n"
            "  --cbow-mean 1|0        CBOW's input is the mean (1, the default) or the sum (0) of the\n"
            "                         context vectors, as gensim's cbow_mean\n"
            "  --hs                   hierarchical softmax over word2vec.c's Huffman tree, besides\n"
            "                         negative sampling unless --negative 0 (both train, as gensim)\n"
            "  --softmax              skip-gram with the full softmax over the vocabulary: O(V) per\n"
            "                         pair, for small corpora and teaching; not with --cbow, --hs or\n"
            "                         --negative\n"
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
            "  --load FILE            skip training: read word2vec text or binary vectors (as gensim's\n"
            "                         save_word2vec_format and word2vec.c write them; format detected)\n"
            "  --load-format F        read --load FILE as text or binary, not detected\n"
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
            "  --similar WORD         the --topn nearest words by cosine (repeatable)\n"
            "  --most-similar WORDS   gensim's most_similar: the --topn words nearest to the mean of the\n"
            "                         words' unit vectors, a word written -WORD subtracted, the words\n"
            "                         themselves left out (\"king,woman -man\"; repeatable)\n"
            "  --cosmul               --most-similar ranks by 3CosMul (gensim's most_similar_cosmul)\n"
            "  --topn N               answers per --similar and --most-similar (default 10)\n"
            "  --doesnt-match WORDS   the word farthest from the mean of them all (\"a,b,c\"; repeatable)\n"
            "  --similarity \"A,B\"     the cosine of two words (repeatable)\n"
            "  --n-similarity \"A,B C,D\"\n"
            "                         the cosine of the mean vectors of two word lists (repeatable)\n"
            "  --analogy \"A B C\"      the best D for A:B :: C:D by 3CosAdd (repeatable)\n"
            "  --eval-analogies FILE  accuracy on questions-words.txt (per section and total) and the\n"
            "                         share of questions with out-of-vocabulary words, as gensim's\n"
            "                         evaluate_word_analogies\n"
            "  --eval-similarity FILE, --eval-word-pairs FILE\n"
            "                         Spearman rho, Pearson r and the share of out-of-vocabulary pairs\n"
            "                         on a WordSim-353 / SimLex-999 file, as gensim's\n"
            "                         evaluate_word_pairs (repeatable)\n"
            "  --restrict-vocab N     search only the N most frequent words (default: every word for\n"
            "                         queries, 30000 for --eval-analogies, 300000 for word pairs)\n"
            "  --case-sensitive       evaluations match words exactly (default: whatever the case, the\n"
            "                         most frequent spelling winning, as gensim)\n"
            "  --dummy4unknown        evaluations count a question with an unknown word as wrong and\n"
            "                         score a pair with one 0, instead of skipping them (as gensim's)\n"
            "  --plot FILE.svg        2-D PCA map of the most frequent words\n"
            "  --plot-words N         words on the map (default 200)\n\n"
            "  --quiet                no progress display\n"
            "  --json                 end stdout with one JSON line of the results\n"
            "  --version, --help\n\n"
            "Ctrl-C (SIGINT) or SIGTERM during training stops at the end of the current round (at most\n"
            "--batch-size words per thread), writes the training state to the checkpoint file (see\n"
            "--checkpoint) and the vectors so far to --save FILE if given, prints the command that\n"
            "resumes the run and exits 130 (SIGINT) or 143 (SIGTERM); a second Ctrl-C stops at once.\n\n"
            "Exit status: 0 on success, 1 when training, a query (a word not in the vocabulary) or I/O\n"
            "fails (also a missing or unreadable --load file), 2 for bad options (also a query's word\n"
            "list of the wrong shape) (also sizes beyond this machine's memory, a\n"
            "--save, --output, --plot or checkpoint path that cannot be written, and an --eval-* file\n"
            "that is missing or has no usable line: all refused before training), a missing or empty\n"
            "corpus, a corpus with no word seen --min-count times, or an unusable --resume file;\n"
            "130 / 143 when stopped by SIGINT / SIGTERM.\n");
}

static bool add_to(const char **list, int *n, const char *value, const char *flag) {
    if (*n == MAX_LIST) {
        fprintf(stderr, APP ": %s given more than %d times\n", flag, MAX_LIST);
        return false;
    }
    list[(*n)++] = value;
    return true;
}

enum { O_CORPUS = APP_OPT_OWN, O_DIM, O_WINDOW, O_NEGATIVE, O_MIN_COUNT, O_SAMPLE, O_MIN_ALPHA, O_OUTPUT,
       O_BINARY, O_SIMILAR, O_ANALOGY, O_EVAL_AN, O_EVAL_SIM, O_RESTRICT, O_PLOT_WORDS, O_HOGWILD,
       O_CHECKPOINT, O_MOST_SIMILAR, O_COSMUL, O_TOPN, O_DOESNT_MATCH, O_SIMILARITY, O_N_SIMILARITY,
       O_LOAD_FORMAT, O_CASE_SENSITIVE, O_DUMMY4UNKNOWN, O_CBOW, O_CBOW_MEAN, O_HS, O_SOFTMAX };

/* --iter and --alpha come first: messages about --epochs and --lr name them. */
static const AppOption OWN_OPTIONS[] = {
    {"iter", APP_OPT_EPOCHS, true},       {"alpha", APP_OPT_LR, true},
    {"corpus", O_CORPUS, true},           {"dim", O_DIM, true},
    {"window", O_WINDOW, true},           {"negative", O_NEGATIVE, true},
    {"min-count", O_MIN_COUNT, true},     {"sample", O_SAMPLE, true},
    {"min-alpha", O_MIN_ALPHA, true},     {"output", O_OUTPUT, true},
    {"binary", O_BINARY, false},          {"similar", O_SIMILAR, true},
    {"analogy", O_ANALOGY, true},         {"eval-analogies", O_EVAL_AN, true},
    {"eval-similarity", O_EVAL_SIM, true}, {"restrict-vocab", O_RESTRICT, true},
    {"plot-words", O_PLOT_WORDS, true},   {"hogwild", O_HOGWILD, false},
    {"checkpoint", O_CHECKPOINT, true},   {"most-similar", O_MOST_SIMILAR, true},
    {"cosmul", O_COSMUL, false},          {"topn", O_TOPN, true},
    {"doesnt-match", O_DOESNT_MATCH, true}, {"similarity", O_SIMILARITY, true},
    {"n-similarity", O_N_SIMILARITY, true}, {"eval-word-pairs", O_EVAL_SIM, true},
    {"load-format", O_LOAD_FORMAT, true}, {"case-sensitive", O_CASE_SENSITIVE, false},
    {"dummy4unknown", O_DUMMY4UNKNOWN, false}, {"cbow", O_CBOW, false},
    {"cbow-mean", O_CBOW_MEAN, true},     {"hs", O_HS, false},
    {"softmax", O_SOFTMAX, false},        {NULL, 0, false}};

/* --load-format text|binary. */
static bool parse_load_format(const char *value, NnVectorsFormat *format) {
    if (strcmp(value, "text") == 0) *format = NN_VECTORS_TEXT;
    else if (strcmp(value, "binary") == 0) *format = NN_VECTORS_BINARY;
    else fprintf(stderr, APP ": invalid value '%s' for --load-format: expected text or binary\n", value);
    return *format != NN_VECTORS_AUTO;
}

static bool parse_own(void *options, int id, const char *flag, const char *value) {
    Options *o = options;
    switch (id) {
    case APP_OPT_OPERAND: return add_to(o->corpus, &o->n_corpus, value, "a corpus");
    case O_CORPUS: return add_to(o->corpus, &o->n_corpus, value, flag);
    case O_DIM: return app_parse_int(APP, flag, value, 1, 10000, &o->dim);
    case O_WINDOW: return app_parse_int(APP, flag, value, 1, 1000, &o->window);
    case O_NEGATIVE: o->negative_given = true; return app_parse_int(APP, flag, value, 0, 100, &o->negative);
    case O_CBOW: o->cbow = true; return true;
    case O_CBOW_MEAN: o->cbow_mean_given = true; return app_parse_int(APP, flag, value, 0, 1, &o->cbow_mean);
    case O_HS: o->hs = true; return true;
    case O_SOFTMAX: o->softmax = true; return true;
    case O_MIN_COUNT: return app_parse_int(APP, flag, value, 1, INT32_MAX, &o->min_count);
    case O_SAMPLE: return app_parse_float(APP, flag, value, 0, 1, &o->sample);
    case O_MIN_ALPHA: return app_parse_float(APP, flag, value, 0, 10, &o->min_alpha);
    case O_OUTPUT: o->output = value; return true;
    case O_BINARY: o->binary = true; return true;
    case O_SIMILAR: return add_to(o->similar, &o->n_similar, value, flag);
    case O_ANALOGY: return add_to(o->analogy, &o->n_analogy, value, flag);
    case O_EVAL_AN: o->eval_analogies = value; return true;
    case O_EVAL_SIM: return add_to(o->eval_similarity, &o->n_eval_similarity, value, flag);
    case O_RESTRICT: return app_parse_int(APP, flag, value, 1, INT32_MAX, &o->restrict_vocab);
    case O_PLOT_WORDS: return app_parse_int(APP, flag, value, 1, 100000, &o->plot_words);
    case O_HOGWILD: o->hogwild = true; return true;
    case O_CHECKPOINT: o->checkpoint = value; return true;
    case O_MOST_SIMILAR: return add_to(o->most_similar, &o->n_most_similar, value, flag);
    case O_COSMUL: o->cosmul = true; return true;
    case O_TOPN: return app_parse_int(APP, flag, value, 1, 100000, &o->topn);
    case O_DOESNT_MATCH: return add_to(o->doesnt_match, &o->n_doesnt_match, value, flag);
    case O_SIMILARITY: return add_to(o->similarity, &o->n_similarity_queries, value, flag);
    case O_N_SIMILARITY: return add_to(o->n_similarity, &o->n_n_similarity, value, flag);
    case O_LOAD_FORMAT: return parse_load_format(value, &o->load_format);
    case O_CASE_SENSITIVE: o->case_sensitive = true; return true;
    case O_DUMMY4UNKNOWN: o->dummy4unknown = true; return true;
    default: return false;
    }
}

/* The objective's options agree; false after saying what does not. */
static bool objective_agrees(const Options *o) {
    const char *bad = NULL;
    if (o->softmax && o->cbow) bad = "--softmax is skip-gram over the full vocabulary: it cannot go with --cbow";
    else if (o->softmax && o->hs) bad = "--softmax is the full softmax: it cannot go with --hs";
    else if (o->softmax && o->negative_given && o->negative > 0)
        bad = "--softmax trains no negative samples: drop --negative";
    else if (!o->softmax && o->negative == 0 && !o->hs)
        bad = "--negative 0 leaves nothing to train: add --hs (hierarchical softmax), or give --softmax";
    else if (o->cbow_mean_given && !o->cbow) bad = "--cbow-mean is a CBOW setting: add --cbow";
    if (bad) fprintf(stderr, APP ": %s\n", bad);
    return !bad;
}

/* What the option values must agree on; false after saying what does not. */
static bool options_agree(const Options *o) {
    const AppOptions *c = &o->common;
    if (!objective_agrees(o)) return false;
    if (c->load && (c->resume || c->checkpoint_every)) {
        fprintf(stderr, APP ": --load skips training: it cannot go with --resume or --checkpoint-every\n");
        return false;
    }
    if (o->hogwild && c->checkpoint_every) {
        fprintf(stderr, APP ": --checkpoint-every needs the deterministic schedule: Hogwild threads never stop "
                        "together (drop --hogwild)\n");
        return false;
    }
    if (o->min_alpha > c->lr) {
        fprintf(stderr, APP ": --min-alpha %g is above --alpha %g\n", o->min_alpha, c->lr);
        return false;
    }
    if (o->load_format && !c->load) {
        fprintf(stderr, APP ": --load-format says how to read --load FILE: give --load\n");
        return false;
    }
    if (!kv_queries_valid(o)) return false;
    for (int i = 0; i < o->n_analogy; i++) {
        char a[64], b[64], c2[64], extra[2];
        if (sscanf(o->analogy[i], "%63s %63s %63s %1s", a, b, c2, extra) != 3) {
            fprintf(stderr, APP ": invalid value '%s' for --analogy: expected three words \"A B C\"\n",
                    o->analogy[i]);
            return false;
        }
    }
    return true;
}

/* Before the corpus is read: every file the run writes can be written (the checkpoint
 * when one is named or --checkpoint-every asks for it). False after saying why not. */
static bool check_files(const Options *o) {
    const AppOptions *c = &o->common;
    const char *checkpoint = o->checkpoint ? o->checkpoint : c->resume ? c->resume : DEFAULT_CHECKPOINT;
    const AppOutput outputs[] = {{"--save", c->save}, {"--output", o->output}, {"--plot", c->plot},
                                 {o->checkpoint ? "--checkpoint" : c->resume ? "--resume" : "the checkpoint file",
                                  o->checkpoint || c->checkpoint_every ? checkpoint : NULL}};
    return app_check_outputs(APP, outputs, 4);
}

/* --load names a file that is missing, unreadable or a directory (after saying so). */
static bool load_unusable(const Options *o) {
    return o->common.load && !app_check_readable(APP, "--load", o->common.load, NULL, 0, NULL);
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, Options *o) {
    *o = (Options){.common = {.epochs = 5, .lr = 0.025, .seed = 1, .threads = tensor_get_num_threads()},
                   .dim = 100, .window = 5, .negative = 5, .cbow_mean = 1, .min_count = 5, .sample = 1e-3, .min_alpha = 1e-4,
                   .plot_words = 200, .topn = 10};
    const AppOptionSpec spec = {
        .app = APP, .usage = usage, .default_checkpoint = DEFAULT_CHECKPOINT,
        .accepts = APP_OPT_ALL & ~(APP_OPT_BIT(APP_OPT_DATA_FILE) | APP_OPT_BIT(APP_OPT_CHECK_NUMERICS) |
                                   APP_OPT_BIT(APP_OPT_LR_SCHEDULE) | APP_OPT_BIT(APP_OPT_REDUCE_LR)),
        .max_epochs = 100000, .max_steps = INT32_MAX, .max_batch_size = INT32_MAX,
        .max_checkpoint_every = 1000000000000LL,
        .checkpoint_every_expected = "N corpus words or Ne passes (N from 1), e.g. 500000 or 1e",
        .own = OWN_OPTIONS, .parse_own = parse_own, .app_options = o, .operands = true,
        .bad_option = "unknown option or missing value"};
    int rc = app_parse_options(&spec, &o->common, argc, argv);
    if (rc >= 0) return rc;
    if (!options_agree(o)) return APP_EXIT_USAGE;
    if (!check_files(o)) return APP_EXIT_USAGE;
    if (load_unusable(o)) return APP_EXIT_FAILURE;
    if (o->n_corpus == 0) o->corpus[o->n_corpus++] = "sherlock.txt";
    o->common.data_dir = app_data_dir(o->common.data_dir);
    return -1;
}

/* --load's vectors into *wv (and --summary of them). Returns -1 to go on, else the
 * exit status. */
static int load_vectors(const Options *o, NnWordVectors **wv) {
    if (!(*wv = nn_vectors_read(o->common.load, o->load_format))) {
        fprintf(stderr, APP ": cannot load vectors: %s\n", tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    const NnWordVectors *v = *wv;
    fprintf(stderr, "loaded %lld vectors of %lld dimensions from %s\n", (long long)v->size, (long long)v->dim,
            o->common.load);
    if (!o->common.summary) return -1;
    /* only the word vectors are in the file */
    printf("%-28s %-16s %12s\n", "Table", "Shape", "Param #");
    printf("%-28s (%lld, %lld)%*s %12lld\n", "input vectors (Embedding)", (long long)v->size,
           (long long)v->dim, 4, "", (long long)(v->size * v->dim));
    printf("Total params: %lld\n", (long long)(v->size * v->dim));
    return APP_EXIT_OK;
}

/* Reads the corpus and trains *wv on it (or prints --summary). Returns -1 to go on,
 * else the exit status. */
static int train_vectors(const Options *o, NnW2vCorpus **corpus, NnW2vStats *stats, EpochLosses *losses,
                         NnWordVectors **wv) {
    if (!(*corpus = read_corpus(o))) return APP_EXIT_USAGE;
    if (o->common.summary) {
        summary(o, *corpus);
        return APP_EXIT_OK;
    }
    int rc = train(o, *corpus, stats, losses, wv);
    if (rc >= 0) return rc;
    printf("trained on %lld corpus words (%lld per pass, vocabulary %lld) with %lld threads in %.2f s: "
           "%.0f words/s, final loss %.4f\n",
           (long long)stats->words, (long long)nn_w2v_corpus_raw_words(*corpus), (long long)(*wv)->size,
           (long long)o->common.threads, stats->seconds, stats->words_per_s, stats->loss);
    return -1;
}

/* --save (binary) and --output (text, or binary with --binary). */
static int save_vectors(const Options *o, const NnWordVectors *wv) {
    int status = APP_EXIT_OK;
    if (o->common.save && nn_vectors_write(wv, o->common.save, true) != 0) {
        fprintf(stderr, APP ": cannot save: %s\n", tensor_last_error());
        status = APP_EXIT_FAILURE;
    }
    if (o->output && nn_vectors_write(wv, o->output, o->binary) != 0) {
        fprintf(stderr, APP ": cannot write the vectors: %s\n", tensor_last_error());
        status = APP_EXIT_FAILURE;
    }
    return status;
}

/* "path/wordsim353.tsv" -> "wordsim353": the JSON key of a similarity score. */
static void json_key_of(const char *path, char *key, size_t cap) {
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = 0;
    for (; *base && *base != '.' && n + 1 < cap; base++)
        key[n++] = isalnum((unsigned char)*base) ? (char)tolower((unsigned char)*base) : '_';
    key[n] = 0;
}


static void write_json(const Options *o, const NnW2vCorpus *corpus, const NnW2vStats *stats,
                       const EpochLosses *losses, const NnWordVectors *wv, const Scores *s,
                       const KvAnswers *answers) {
    AppJson json;
    app_json_begin(&json, stdout);
    if (corpus) {
        app_json_int(&json, "words", nn_w2v_corpus_raw_words(corpus));
        char mode[48];
        app_json_string(&json, "mode", mode_name(o, mode, sizeof mode));
        app_json_number(&json, "seconds", stats->seconds);
        app_json_number(&json, "words_per_s", stats->words_per_s);
        app_json_number(&json, "loss", stats->loss);
        app_json_open(&json, "epoch_losses", '[');
        for (int e = 0; e < losses->n; e++) app_json_number(&json, NULL, losses->loss[e]);
        app_json_close(&json, ']');
    }
    app_json_int(&json, "vocab", wv->size);
    app_json_int(&json, "dim", wv->dim);
    app_json_int(&json, "threads", o->common.threads);
    if (o->n_similar) {
        int64_t row = nn_word_vectors_find(wv, o->similar[0]), nearest;
        float cos;
        if (row >= 0 && nn_nearest_to_row(wv, row, 1, &nearest, &cos) == 1)
            app_json_number(&json, "similar_top_cosine", cos);
    }
    if (s->analogies) {
        app_json_number(&json, "analogy", s->analogy);
        app_json_int(&json, "analogy_questions", s->analogies->correct + s->analogies->incorrect);
        app_json_int(&json, "analogy_skipped", s->analogies->skipped);
        app_json_number(&json, "analogy_oov_ratio", s->analogies->oov_ratio);
    }
    for (int i = 0; i < o->n_eval_similarity; i++) { /* "wordsim353": Spearman, then the others */
        char key[64], more[96];
        json_key_of(o->eval_similarity[i], key, sizeof key);
        app_json_number(&json, key, s->similarity[i]);
        snprintf(more, sizeof more, "%s_pearson", key);
        app_json_number(&json, more, s->sets[i]->used >= 2 ? s->sets[i]->pearson : NAN);
        snprintf(more, sizeof more, "%s_oov_ratio", key);
        app_json_number(&json, more, s->sets[i]->oov_ratio);
    }
    kv_answers_json(o, wv, answers, &json);
    app_json_end(&json);
}

int main(int argc, char **argv) {
    app_choose_wait_policy(argv);
    Options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    tensor_set_num_threads(o.common.threads);
    NnW2vCorpus *corpus = NULL;
    NnWordVectors *wv = NULL;
    NnW2vStats stats = {.words_per_s = NAN, .loss = NAN, .seconds = NAN};
    EpochLosses losses = {0};
    Scores scores;
    KvAnswers answers = {0};
    if ((rc = read_evaluations(&o, &scores)) != 0) return rc;
    rc = o.common.load ? load_vectors(&o, &wv) : train_vectors(&o, &corpus, &stats, &losses, &wv);
    if (rc < 0) {
        int status = save_vectors(&o, wv);
        if (run_queries(&o, wv) != 0) status = APP_EXIT_FAILURE;
        if (run_kv_queries(&o, wv, &answers) != 0) status = APP_EXIT_FAILURE;
        run_evaluations(&o, wv, &scores);
        if (o.common.plot && write_plot(&o, wv) != 0) status = APP_EXIT_FAILURE;
        if (o.common.json) write_json(&o, corpus, &stats, &losses, wv, &scores, &answers);
        rc = status;
    }
    scores_free(&scores);
    kv_answers_free(&answers);
    free(losses.loss);
    nn_word_vectors_free(wv);
    nn_w2v_corpus_free(corpus);
    return rc;
}
