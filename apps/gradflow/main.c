/* gradflow: the argument for the LSTM, measured, written only against nn/nn.h. Three
 * modes: how far a gradient reaches back through SimpleRNN, GRU and LSTM (and whether
 * the LSTM's forget gates account for it), how long a lag each can learn to bridge,
 * and what a step of each costs. `gradflow --help` lists the options. This file: the
 * command line. */
#include "gradflow/gradflow_internal.h"

#include "common/flags.h"
#include "common/paths.h"
#include "common/status.h"
#include "common/wait_policy.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "Usage: gradflow [--mode gradient|memory|scan] [OPTIONS]\n"
            "Measure gradient flow, long memory and scan cost of SimpleRNN, GRU and LSTM.\n\n"
            "  --mode NAME         gradient (default): norms of dL/dx_t, dL/dh_t (LSTM: dL/dc_t) for a loss on\n"
            "                      the last output, against the distance T - t, on random inputs;\n"
            "                      memory: train on the recall and adding tasks at several lags;\n"
            "                      scan: time the forward (and forward+backward) pass of each layer\n"
            "  --length T          sequence length (gradient: default 1000; scan: default 256)\n"
            "  --units H           hidden units (gradient: 32; memory: 64; scan: 16)\n"
            "  --input-dim D       input width in gradient mode (default 16; inputs N(0, 1))\n"
            "  --seeds N           gradient: average over N seeds (default 5), seeds --seed .. --seed+N-1\n"
            "  --forget-bias X     LSTM forget-gate bias (default 1, Keras's unit_forget_bias)\n"
            "  --recurrent-init I  orthogonal (default, Keras's) or normal (N(0, 0.05^2), Keras's RandomNormal)\n"
            "  --task NAME         memory: recall (a symbol, L-1 random distractor symbols, a recall marker at\n"
            "                      step L: name the first symbol),\n"
            "                      adding (values and two markers, one in [0, L/10], one in [L/2, L]: their\n"
            "                      sum), or both (default)\n"
            "  --lags L,L,...      memory: lags to train at (default 10,50,100,200,500; at most 8)\n"
            "  --train-lags HOW    memory: upto (default): each batch at a lag drawn uniformly from 2..L, scored\n"
            "                      at L; fixed: every batch at L\n"
            "  --layers L,L,...    memory: which of rnn, gru, lstm to train (default all three)\n"
            "  --updates N         memory: optimizer steps per layer, task and lag (default 1000)\n"
            "  --symbols K         memory: symbols to recall (default 8; chance is 1/K)\n"
            "  --batch-size N      memory: sequences per step (default 32); scan: batch (default 1)\n"
            "  --lr X              memory: Adam learning rate (default 0.01)\n"
            "  --embed N           scan: input width (default 128)\n"
            "  --reps N            scan: timed repetitions, the median is reported (default 20)\n"
            "  --peers             scan: also time a NumPy scan and PyTorch's nn.RNN/nn.GRU/nn.LSTM\n"
            "                      (scripts/peers/gradflow_scan.py) at their best thread setting\n"
            "  --python PATH       the interpreter for --peers (default /usr/bin/python3)\n"
            "  --peers-dir DIR     where gradflow_scan.py is (default $LAMINA_PEERS_DIR, else the\n"
            "                      repository's scripts/peers)\n"
            "  --seed N            seed for weights, inputs and tasks (default 0)\n"
            "  --threads N         gradient: kernel threads (default 1, its matrices are too small to share);\n"
            "                      memory: trainings run at once, each in a process of its own with one\n"
            "                      kernel thread (default 2); scan: the most it tries (default all cores)\n"
            "  --plot FILE.svg     gradient: the norms against distance (log scale); memory: the skill per\n"
            "                      lag (0 at chance, 1 solved) of each layer and task\n"
            "  --quiet             no progress on stderr\n"
            "  --json              end stdout with one JSON line (decay rates; the memory table; timings)\n"
            "  --version           print the version and exit\n"
            "  --help              this text\n\n"
            "Exit status: 0 on success, 1 when a run fails or the plot cannot be written, 2 for bad\n"
            "options (including a --plot path that cannot be written).\n");
}

enum {
    O_MODE = APP_OPT_OWN, O_LENGTH, O_UNITS, O_INPUT_DIM, O_SEEDS, O_FORGET_BIAS, O_RECURRENT_INIT, O_TASK,
    O_LAGS, O_TRAIN_LAGS, O_LAYERS, O_UPDATES, O_SYMBOLS, O_EMBED, O_REPS, O_PEERS, O_PYTHON, O_PEERS_DIR
};

static const AppOption OWN_OPTIONS[] = {
    {"mode", O_MODE, true},       {"length", O_LENGTH, true},         {"units", O_UNITS, true},
    {"input-dim", O_INPUT_DIM, true}, {"seeds", O_SEEDS, true},       {"forget-bias", O_FORGET_BIAS, true},
    {"recurrent-init", O_RECURRENT_INIT, true}, {"task", O_TASK, true}, {"lags", O_LAGS, true},
    {"train-lags", O_TRAIN_LAGS, true}, {"layers", O_LAYERS, true},
    {"updates", O_UPDATES, true}, {"symbols", O_SYMBOLS, true},       {"embed", O_EMBED, true},
    {"reps", O_REPS, true},       {"peers", O_PEERS, false},          {"python", O_PYTHON, true},
    {"peers-dir", O_PEERS_DIR, true}, {NULL, 0, false}};

static bool refuse(const char *flag, const char *value, const char *expected) {
    fprintf(stderr, APP ": invalid value '%s' for %s: expected %s\n", value, flag, expected);
    return false;
}

static bool parse_lags(Options *o, const char *flag, const char *value) {
    char buf[256];
    if (strlen(value) >= sizeof buf) return refuse(flag, value, "up to 8 comma-separated lags from 2 to 100000");
    strcpy(buf, value);
    o->n_lags = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (o->n_lags == 8) return refuse(flag, value, "at most 8 lags");
        if (!app_parse_int(APP, flag, tok, 2, 100000, &o->lags[o->n_lags])) return false;
        o->n_lags++;
    }
    return o->n_lags > 0 || refuse(flag, value, "comma-separated lags from 2 to 100000");
}

static bool parse_layers(Options *o, const char *flag, const char *value) {
    static const char *const names[3] = {"rnn", "gru", "lstm"};
    char buf[64];
    const char *expected = "a comma-separated list of rnn, gru and lstm";
    if (strlen(value) >= sizeof buf) return refuse(flag, value, expected);
    strcpy(buf, value);
    memset(o->layer_on, 0, sizeof o->layer_on);
    bool any = false;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int k = 0;
        while (k < 3 && strcmp(tok, names[k]) != 0) k++;
        if (k == 3) return refuse(flag, value, expected);
        o->layer_on[k] = any = true;
    }
    return any || refuse(flag, value, expected);
}

static bool parse_choice(const char *flag, const char *value, const char *const *names, int n, int *out) {
    for (int i = 0; i < n; i++)
        if (!strcmp(value, names[i])) return *out = i, true;
    char expected[128] = "";
    for (int i = 0; i < n; i++)
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s", i ? (i + 1 < n ? ", " : " or ") : "",
                 names[i]);
    return refuse(flag, value, expected);
}

static bool parse_own(void *options, int id, const char *flag, const char *value) {
    Options *o = options;
    int c;
    switch (id) {
    case O_MODE:
        if (!parse_choice(flag, value, (const char *[]){"gradient", "memory", "scan"}, 3, &c)) return false;
        o->mode = (Mode)c;
        return true;
    case O_LENGTH: return app_parse_int(APP, flag, value, 2, 100000, &o->length);
    case O_UNITS: return app_parse_int(APP, flag, value, 1, 4096, &o->units);
    case O_INPUT_DIM: return app_parse_int(APP, flag, value, 1, 4096, &o->input_dim);
    case O_SEEDS: return app_parse_int(APP, flag, value, 1, 1000, &o->seeds);
    case O_FORGET_BIAS: return app_parse_float(APP, flag, value, -20.0, 20.0, &o->init.forget_bias);
    case O_RECURRENT_INIT:
        if (!parse_choice(flag, value, (const char *[]){"orthogonal", "normal"}, 2, &c)) return false;
        o->init.recurrent_normal = c == 1;
        return true;
    case O_TASK:
        if (!parse_choice(flag, value, (const char *[]){"recall", "adding", "both"}, 3, &c)) return false;
        o->task_recall = c != 1;
        o->task_adding = c != 0;
        return true;
    case O_LAGS: return parse_lags(o, flag, value);
    case O_TRAIN_LAGS:
        if (!parse_choice(flag, value, (const char *[]){"upto", "fixed"}, 2, &c)) return false;
        o->fixed_lags = c == 1;
        return true;
    case O_LAYERS: return parse_layers(o, flag, value);
    case O_UPDATES: return app_parse_int(APP, flag, value, 1, 10000000, &o->updates);
    case O_SYMBOLS: return app_parse_int(APP, flag, value, 2, 256, &o->symbols);
    case O_EMBED: return app_parse_int(APP, flag, value, 1, 65536, &o->embed);
    case O_REPS: return app_parse_int(APP, flag, value, 1, 100000, &o->reps);
    case O_PEERS: o->peers = true; return true;
    case O_PYTHON: o->python = value; return true;
    case O_PEERS_DIR: o->peers_dir = value; return true;
    default: return false;
    }
}

/* Returns -1 to go on, or the status to exit with (0 after --help or --version). */
static int parse_options(int argc, char **argv, Options *o) {
    *o = (Options){.common = {.lr = 0.01}, .seeds = 5, .init = {.forget_bias = 1.0}, .updates = 1000,
                   .symbols = 8, .lags = {10, 50, 100, 200, 500}, .n_lags = 5, .task_recall = true,
                   .task_adding = true, .layer_on = {true, true, true}, .embed = 128, .reps = 20, .python = "/usr/bin/python3"};
    const uint32_t accepts = APP_OPT_BIT(APP_OPT_SEED) | APP_OPT_BIT(APP_OPT_THREADS) |
                             APP_OPT_BIT(APP_OPT_BATCH_SIZE) | APP_OPT_BIT(APP_OPT_LR) | APP_OPT_BIT(APP_OPT_PLOT) |
                             APP_OPT_BIT(APP_OPT_QUIET) | APP_OPT_BIT(APP_OPT_JSON) |
                             APP_OPT_BIT(APP_OPT_VERSION) | APP_OPT_BIT(APP_OPT_HELP);
    const AppOptionSpec spec = {.app = APP, .usage = usage, .accepts = accepts, .max_batch_size = 1 << 16,
                                .own = OWN_OPTIONS, .parse_own = parse_own, .app_options = o};
    int rc = app_parse_options(&spec, &o->common, argc, argv);
    if (rc >= 0) return rc;
    if (o->common.plot && !app_check_writable(APP, "--plot", o->common.plot)) return APP_EXIT_USAGE;
    if (o->common.plot && o->mode == MODE_SCAN) {
        fprintf(stderr, APP ": --plot is for --mode gradient and memory, not scan\n");
        return APP_EXIT_USAGE;
    }
    if (!o->length) o->length = o->mode == MODE_SCAN ? 256 : 1000;
    if (!o->units) o->units = o->mode == MODE_SCAN ? 16 : o->mode == MODE_MEMORY ? 64 : 32;
    if (!o->input_dim) o->input_dim = 16;
    if (!o->common.batch_size) o->common.batch_size = o->mode == MODE_SCAN ? 1 : 32;
    if (!o->peers_dir) o->peers_dir = getenv("LAMINA_PEERS_DIR");
    return -1;
}

int main(int argc, char **argv) {
    app_choose_wait_policy(argv);
    Options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    if (o.common.threads && o.mode != MODE_MEMORY) tensor_set_num_threads(o.common.threads);
    else if (o.mode != MODE_SCAN) tensor_set_num_threads(1);
    switch (o.mode) {
    case MODE_GRADIENT: return gf_run_gradient(&o);
    case MODE_MEMORY: return gf_run_memory(&o);
    default: return gf_run_scan(&o);
    }
}
