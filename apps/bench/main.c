/* bench: training and inference throughput of the LSTM configs A-D, built with the nn
 * API exactly like scripts/peers/lstm_torch.py builds them in PyTorch, with ms/step
 * (min and median of the repetitions), tokens/s, GFLOP/s and peak RSS; --peers runs
 * that script at PyTorch's best thread setting and prints the ratios. Each measurement runs in a fresh process (this program re-executed with
 * --child), so peak memory figures never mix. --word2vec measures word2vec training
 * instead (words/s and the vectors' quality), next to gensim's with --peers.
 * `bench --help` lists the options. This file: the options and the choice of mode. */
#include "bench/bench_internal.h"

#include "common/data.h"
#include "common/flags.h"
#include "common/status.h"
#include "common/wait_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "Usage: bench [OPTIONS]\n"
            "Training and inference throughput of four LSTM models (C is sherlock's, 8,638 words + padding):\n");
    for (int k = 0; k < 4; k++)
        fprintf(out, "  %s  %s; batch %lld, length %lld\n", CONFIGS[k].name, CONFIGS[k].layers,
                (long long)CONFIGS[k].batch, (long long)CONFIGS[k].T);
    fprintf(out,
            "Adam (lr 0.001), sparse categorical cross-entropy on random ids. Each config runs in\n"
            "its own process, so the peak RSS shown is that config's alone.\n\n"
            "  --config LIST       A, B, C, D, a combination such as AC, or all (default all)\n"
            "  --threads N         kernel threads (default: all cores)\n"
            "  --steps N           steps per timed repetition (default 10)\n"
            "  --reps N            timed repetitions, >= 1 (default 5); min and median are reported\n"
            "  --warmup N          untimed steps first (default 3)\n"
            "  --rounds N          measure N times, alternating ours and PyTorch (default 1); reports\n"
            "                      the min of the mins and the median of the medians\n"
            "  --train / --infer   measure only training / only inference (default both)\n"
            "  --scaling           also run at 1 thread and print the speed-up of --threads\n"
            "  --peers             also time the same models in PyTorch (DIR/lstm_torch.py, same steps,\n"
            "                      reps and warm-up) at its best setting and print ours/PyTorch: torch\n"
            "                      1.x with 1 OpenMP thread + OpenBLAS N, or N threads with\n"
            "                      OMP_WAIT_POLICY=passive; torch 2.x with N threads spinning or passive;\n"
            "                      the fastest is kept. An interpreter without torch is skipped, saying\n"
            "                      what to install (apt-get install python3-torch)\n"
            "  --peers-dir DIR     where the peer scripts are (default: $LAMINA_PEERS_DIR, else the\n"
            "                      repository's scripts/peers, found from the source path built in)\n"
            "  --python PATH       an interpreter with torch (and gensim for --word2vec); repeat it to\n"
            "                      compare against the fastest of several, e.g. Debian's torch and a\n"
            "                      newer one from PyPI in a venv (default /usr/bin/python3)\n"
            "  --json              one JSON line per config instead of the table\n"
            "  --version, --help\n\n"
            "GFLOP/s counts the model's nominal matrix products (LSTM input and recurrent, Dense),\n"
            "what PyTorch computes: F per forward pass, 3F per training step (lamina skips some,\n"
            "so its figure is an effective rate). Throughput is tokens (batch x length) per\n"
            "second, samples per second for C. lamina's runs wait passively at OpenMP barriers\n"
            "(OMP_WAIT_POLICY=passive) unless OMP_WAIT_POLICY is set.\n"
            "\n"
            "bench --word2vec [--corpus FILE]... [--threads N] [--rounds N] [--peers] [--json]\n"
            "Trains word2vec with the app's defaults (skip-gram, dim 100, window 5, 5 negatives,\n"
            "sample 1e-3, min-count 5, 5 passes, alpha 0.025 -> 0.0001) and prints words/s (corpus\n"
            "words, rare ones included, per second of training, as gensim counts them; min and median\n"
            "over the rounds), analogy accuracy (questions-words.txt, 30000 most frequent words) and\n"
            "WordSim-353 Spearman rho (means over the rounds). Round r trains with seed r.\n"
            "  --corpus FILE       a text to train on (repeatable; a path or a name in the data\n"
            "                      directory; default brown_1.txt and brown_2.txt)\n"
            "  --data DIR          the data directory (default: $DATA_DIR, else the repository's data/)\n"
            "  --rounds N          training runs (default 3)\n"
            "  --hogwild           our threads without rounds (fast, not reproducible)\n"
            "  --peers             also train gensim (DIR/word2vec_gensim.py under --python; apt-get\n"
            "                      install python3-gensim) with the same settings, threads and seed\n"
            "                      after each of ours, timing only its train(), and print ours/gensim\n"
            "                      and both qualities\n"
            "A test set missing from the data directory is named and its score shown as -.\n");
}

/* Where the peer scripts are: $LAMINA_PEERS_DIR if set, else <source>/scripts/peers,
 * the source directory taken from this file's path (<source>/apps/bench/main.c; CMake
 * compiles with absolute paths), else scripts/peers under the current directory. */
static void default_peers_dir(char *buf, size_t len) {
    const char *env = getenv("LAMINA_PEERS_DIR");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return;
    }
    const char *file = __FILE__, *tail = strstr(file, "/apps/bench/main.c");
    if (file[0] != '/' || !tail) {
        snprintf(buf, len, "scripts/peers");
        return;
    }
    snprintf(buf, len, "%.*s/scripts/peers", (int)(tail - file), file);
}

enum { O_CONFIG = APP_OPT_OWN, O_STEPS, O_REPS, O_WARMUP, O_ROUNDS, O_TRAIN, O_INFER, O_SCALING, O_PEERS,
       O_PEERS_DIR, O_PYTHON, O_CHILD, O_WORD2VEC, O_CORPUS, O_HOGWILD };

static const AppOption OWN_OPTIONS[] = {
    {"config", O_CONFIG, true},       {"steps", O_STEPS, true},     {"reps", O_REPS, true},
    {"warmup", O_WARMUP, true},       {"rounds", O_ROUNDS, true},   {"train", O_TRAIN, false},
    {"infer", O_INFER, false},        {"scaling", O_SCALING, false}, {"peers", O_PEERS, false},
    {"peers-dir", O_PEERS_DIR, true}, {"python", O_PYTHON, true},   {"child", O_CHILD, false},
    {"word2vec", O_WORD2VEC, false},  {"corpus", O_CORPUS, true},   {"hogwild", O_HOGWILD, false},
    {NULL, 0, false}};

/* The options, and what parsing them remembers on the way. */
typedef struct Parsing {
    Options *o;
    bool train, infer, rounds_given, pythons_given;
} Parsing;

/* --config: letters A-D, each once, or all. */
static bool parse_configs(const char *value, Options *o) {
    static char configs[8];
    if (!strcmp(value, "all")) return true;
    size_t n = 0;
    for (const char *p = value; *p; p++) {
        if (*p < 'A' || *p > 'D' || n >= 4) {
            fprintf(stderr, APP ": invalid value '%s' for --config: expected letters A-D or all\n", value);
            return false;
        }
        if (!memchr(configs, *p, n)) configs[n++] = *p;
    }
    configs[n] = '\0';
    o->configs = configs;
    return true;
}

static bool parse_count(const char *flag, const char *value, int64_t lo, int64_t hi, int *out) {
    int64_t v;
    if (!app_parse_int(APP, flag, value, lo, hi, &v)) return false;
    *out = (int)v;
    return true;
}

static bool parse_own(void *parsing, int id, const char *flag, const char *value) {
    Parsing *p = parsing;
    Options *o = p->o;
    switch (id) {
    case O_CONFIG: return parse_configs(value, o);
    case O_STEPS: return parse_count(flag, value, 1, 100000, &o->steps);
    case O_REPS: return parse_count(flag, value, 1, 1000, &o->reps);
    case O_WARMUP: return parse_count(flag, value, 0, 100000, &o->warmup);
    case O_ROUNDS: p->rounds_given = true; return parse_count(flag, value, 1, MAX_ROUNDS, &o->rounds);
    case O_TRAIN: p->train = true; return true;
    case O_INFER: p->infer = true; return true;
    case O_SCALING: o->scaling = true; return true;
    case O_PEERS: o->peers = true; return true;
    case O_PEERS_DIR: o->peers_dir = value; return true;
    case O_PYTHON: /* the first replaces the default */
        if (!p->pythons_given) o->n_pythons = 0;
        p->pythons_given = true;
        if (o->n_pythons == MAX_PYTHONS) {
            fprintf(stderr, APP ": at most %d --python interpreters\n", MAX_PYTHONS);
            return false;
        }
        o->pythons[o->n_pythons++] = value;
        return true;
    case O_CHILD: o->child = true; return true;
    case O_WORD2VEC: o->word2vec = true; return true;
    case O_CORPUS:
        if (o->n_corpus == MAX_CORPORA) {
            fprintf(stderr, APP ": --corpus given more than %d times\n", MAX_CORPORA);
            return false;
        }
        o->corpus[o->n_corpus++] = value;
        return true;
    case O_HOGWILD: o->hogwild = true; return true;
    default: return false;
    }
}

/* What the modes need beyond the values: --word2vec's defaults and that the peers
 * can run. Returns -1 to go on, else the exit status. */
static int check_mode(Options *o, const Parsing *p) {
    o->train = p->train || !p->infer;
    o->infer = p->infer || !p->train;
    if (!o->word2vec && (o->n_corpus || o->common.data_dir || o->hogwild)) {
        fprintf(stderr, APP ": --corpus, --data and --hogwild go with --word2vec (see --help)\n");
        return APP_EXIT_USAGE;
    }
    if (o->word2vec) {
        o->common.data_dir = app_data_dir(o->common.data_dir);
        if (!o->n_corpus) o->corpus[o->n_corpus++] = "brown_1.txt", o->corpus[o->n_corpus++] = "brown_2.txt";
        if (!p->rounds_given) o->rounds = 3;
    }
    if (o->peers && !o->child && find_peers(o, o->word2vec ? GENSIM_SCRIPT : TORCH_SCRIPT) != 0)
        return APP_EXIT_USAGE;
    return -1;
}

/* Returns -1 to go on, or the status to exit with (0 after --help or --version). */
static int parse_options(int argc, char **argv, Options *o, char *peers_buf, size_t peers_len) {
    default_peers_dir(peers_buf, peers_len);
    *o = (Options){.common = {.threads = tensor_get_num_threads()}, .configs = "ABCD", .peers_dir = peers_buf,
                   .pythons = {"/usr/bin/python3"}, .n_pythons = 1, .steps = 10, .reps = 5, .warmup = 3,
                   .rounds = 1};
    Parsing parsing = {.o = o};
    const AppOptionSpec spec = {
        .app = APP, .usage = usage,
        .accepts = APP_OPT_BIT(APP_OPT_THREADS) | APP_OPT_BIT(APP_OPT_JSON) | APP_OPT_BIT(APP_OPT_DATA),
        .own = OWN_OPTIONS, .parse_own = parse_own, .app_options = &parsing};
    int rc = app_parse_options(&spec, &o->common, argc, argv);
    return rc >= 0 ? rc : check_mode(o, &parsing);
}

int main(int argc, char **argv) {
    app_choose_wait_policy(argv);
    Options o;
    char peers_dir[4096];
    int rc = parse_options(argc, argv, &o, peers_dir, sizeof peers_dir);
    if (rc >= 0) return rc;
    if (o.child) {
        if (strlen(o.configs) != 1) {
            fprintf(stderr, APP ": --child runs exactly one config\n");
            return APP_EXIT_USAGE;
        }
        return run_child(&CONFIGS[o.configs[0] - 'A'], &o);
    }
    if (o.word2vec) return run_word2vec(&o);
    return run_parent(&o);
}
