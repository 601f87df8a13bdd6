/* --mode scan: what a pass over a sequence costs. The forward (no tape) and the
 * forward+backward of SimpleRNN, GRU, the fused LSTM and the composed one, the median of
 * --reps timed runs after two untimed ones; with --peers, the same shapes through
 * scripts/peers/gradflow_scan.py (a NumPy scan as in the notebooks, PyTorch's nn.RNN,
 * nn.GRU and nn.LSTM at their best thread count), in the same run, as ratios. */
#include "gradflow/gradflow_internal.h"

#include "common/json.h"
#include "common/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEER_SCRIPT "gradflow_scan.py"

typedef struct Timing {
    double fwd, fwdbwd;         /* median milliseconds at the best thread count */
    int fwd_threads, fwdbwd_threads; /* that thread count */
} Timing;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int64_t n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One pass of layer over x: without a tape, or with one and the backward of sum(seq). */
static void pass(Layer *l, Tape *tape, Tensor *x, bool backward) {
    const NnCallCtx ctx = {.training = false};
    bool was = ag_set_grad_enabled(tape, backward);
    Tensor *seq = nn_rnn_call(l, tape, x, NULL, NULL, &ctx);
    if (backward) {
        ag_backward(tape, ag_sum(tape, seq));
        ag_zero_grad(l->n_params, l->params);
    }
    ag_set_grad_enabled(tape, was);
    ag_tape_reset(tape);
}

static double time_passes(Layer *l, Tape *tape, Tensor *x, bool backward, int64_t reps, double *buf) {
    for (int w = 0; w < 2; w++) pass(l, tape, x, backward);
    for (int64_t r = 0; r < reps; r++) {
        double t0 = tensor_seconds();
        pass(l, tape, x, backward);
        buf[r] = (tensor_seconds() - t0) * 1e3;
    }
    return median(buf, reps);
}

/* The medians at each thread count from 1 to max, keeping the best of each pass. */
static void time_layer(Layer *l, Tape *tape, Tensor *x, int64_t reps, int max_threads, double *buf, Timing *out) {
    *out = (Timing){INFINITY, INFINITY, 1, 1};
    for (int t = 1; t <= max_threads; t++) {
        tensor_set_num_threads(t);
        double f = time_passes(l, tape, x, false, reps, buf), fb = time_passes(l, tape, x, true, reps, buf);
        if (f < out->fwd) out->fwd = f, out->fwd_threads = t;
        if (fb < out->fwdbwd) out->fwdbwd = fb, out->fwdbwd_threads = t;
    }
    tensor_set_num_threads(max_threads);
}

static int time_lamina(const Options *o, int max_threads, Timing *out) {
    Tensor *x = tensor_empty(NULL, TENSOR_F32, 3, (int64_t[]){o->common.batch_size, o->length, o->embed});
    Rng rng;
    tensor_rng_seed(&rng, o->common.seed, 4);
    tensor_fill_normal(tensor_f32(x), x->size, &rng, 0.0f, 1.0f);
    Tape *tape = ag_tape_new();
    double *buf = tensor_xmalloc((size_t)o->reps * sizeof *buf);
    int rc = 0;
    for (int k = 0; k < CELL_KIND_COUNT && rc == 0; k++) {
        Layer *l = gf_layer_new((CellKind)k, o->units, o->embed, o->init, o->common.seed);
        if (!l) {
            fprintf(stderr, APP ": cannot build %s: %s\n", cell_names[k], tensor_last_error());
            rc = -1;
            break;
        }
        if (!o->common.quiet) fprintf(stderr, APP ": timing %s\n", cell_names[k]);
        time_layer(l, tape, x, o->reps, max_threads, buf, &out[k]);
        nn_layer_free(l);
    }
    free(buf);
    ag_tape_free(tape);
    tensor_free(x);
    return rc;
}

/* The peers' entries: the JSON key the script writes, the row's name, and the lamina
 * layer it is compared with. */
typedef struct Peer {
    const char *key, *name;
    CellKind against;
} Peer;
static const Peer PEERS[] = {
    {"numpy_rnn", "NumPy scan, RNN", CELL_SIMPLE_RNN}, {"numpy_lstm", "NumPy scan, LSTM", CELL_LSTM},
    {"torch_rnn", "PyTorch nn.RNN", CELL_SIMPLE_RNN},  {"torch_gru", "PyTorch nn.GRU", CELL_GRU},
    {"torch_lstm", "PyTorch nn.LSTM", CELL_LSTM},
};
#define N_PEERS (int)(sizeof PEERS / sizeof PEERS[0])

/* The number after "key": in a JSON text, NaN when absent or null. */
static double json_field(const char *text, const char *key) {
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p) return NAN;
    p += strlen(pat);
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

/* Where the peer script is: --peers-dir, $LAMINA_PEERS_DIR, else <source>/scripts/peers
 * from this file's path (CMake compiles with absolute paths), else scripts/peers here. */
static void peer_script(const Options *o, char *buf, size_t len) {
    const char *file = __FILE__, *tail = strstr(file, "/apps/gradflow/scan.c");
    if (o->peers_dir && *o->peers_dir) snprintf(buf, len, "%s/" PEER_SCRIPT, o->peers_dir);
    else if (file[0] == '/' && tail) snprintf(buf, len, "%.*s/scripts/peers/" PEER_SCRIPT, (int)(tail - file), file);
    else snprintf(buf, len, "scripts/peers/" PEER_SCRIPT);
}

/* Appends s to cmd in single quotes, for the shell. */
static void quote(char *cmd, size_t len, const char *s) {
    size_t n = strlen(cmd);
    if (n + 1 < len) cmd[n++] = '\'';
    for (; *s && n + 5 < len; s++) {
        if (*s == '\'') {
            memcpy(cmd + n, "'\\''", 4);
            n += 4;
        } else cmd[n++] = *s;
    }
    if (n + 2 < len) cmd[n++] = '\'';
    cmd[n++] = ' ';
    cmd[n] = '\0';
}

/* Runs the peer script and reads its JSON line into text; false (having said what to
 * install) when it cannot run. */
static bool run_peers(const Options *o, int max_threads, char *text, size_t len) {
    char script[4200], cmd[9000] = "", sizes[200];
    peer_script(o, script, sizeof script);
    if (access(script, R_OK) != 0) {
        fprintf(stderr, APP ": cannot find the peer script %s (give --peers-dir DIR): skipping the peers\n", script);
        return false;
    }
    if (access(o->python, X_OK) != 0) {
        fprintf(stderr, APP ": cannot run %s (apt-get install python3 python3-numpy python3-torch, or give --python):"
                        " skipping the peers\n", o->python);
        return false;
    }
    quote(cmd, sizeof cmd, o->python);
    quote(cmd, sizeof cmd, script);
    snprintf(sizes, sizeof sizes, "--embed %lld --length %lld --units %lld --batch %lld --reps %lld --max-threads %d",
             (long long)o->embed, (long long)o->length, (long long)o->units, (long long)o->common.batch_size,
             (long long)o->reps, max_threads);
    strncat(cmd, sizes, sizeof cmd - strlen(cmd) - 1);
    if (!o->common.quiet) fprintf(stderr, APP ": timing the peers (%s)\n", script);
    FILE *p = popen(cmd, "r");
    size_t got = p ? fread(text, 1, len - 1, p) : 0;
    text[got] = '\0';
    int status = p ? pclose(p) : -1;
    if (status != 0 || !strchr(text, '{')) {
        fprintf(stderr, APP ": the peer script failed (it needs numpy, and torch for the PyTorch rows:\n"
                        "  apt-get install python3-numpy python3-torch): skipping the peers\n");
        return false;
    }
    return true;
}

static void print_peer(const char *text, const Peer *p, const Timing *lam) {
    char k1[64], k2[64];
    snprintf(k1, sizeof k1, "%s_fwd_ms", p->key);
    snprintf(k2, sizeof k2, "%s_fwdbwd_ms", p->key);
    double f = json_field(text, k1), fb = json_field(text, k2);
    if (isnan(f) && isnan(fb)) {
        printf("%-20s %12s %12s   (not measured: see stderr)\n", p->name, "-", "-");
        return;
    }
    printf("%-20s %12.3f", p->name, f);
    if (isnan(fb)) printf(" %12s", "-");
    else printf(" %12.3f", fb);
    printf("   %.2fx", f / lam[p->against].fwd);
    if (!isnan(fb)) printf(" / %.2fx", fb / lam[p->against].fwdbwd);
    printf(" lamina's %s\n", cell_names[p->against]);
}

int gf_run_scan(const Options *o) {
    Timing lam[CELL_KIND_COUNT];
    const int max_threads = tensor_get_num_threads();
    if (time_lamina(o, max_threads, lam) != 0) return APP_EXIT_FAILURE;
    char text[8192] = "";
    const bool peers = o->peers && run_peers(o, max_threads, text, sizeof text);
    printf("Scan over T = %lld steps, input width %lld, %lld units, batch %lld; median of %lld runs at the best\n"
           "thread count from 1 to %d (in brackets)\n\n",
           (long long)o->length, (long long)o->embed, (long long)o->units, (long long)o->common.batch_size,
           (long long)o->reps, max_threads);
    printf("%-20s %12s %12s\n", "layer", "forward ms", "fwd+bwd ms");
    for (int k = 0; k < CELL_KIND_COUNT; k++)
        printf("%-20s %8.3f [%d] %8.3f [%d]\n", cell_names[k], lam[k].fwd, lam[k].fwd_threads, lam[k].fwdbwd,
               lam[k].fwdbwd_threads);
    if (peers) {
        printf("\nPeers (time relative to lamina's layer: above 1x means lamina is faster)%s\n",
               strstr(text, "\"torch_version\"") ? "" : " - no torch");
        for (int p = 0; p < N_PEERS; p++) print_peer(text, &PEERS[p], lam);
        const double threads = json_field(text, "torch_threads");
        if (!isnan(threads)) printf("PyTorch's best thread count: %.0f\n", threads);
    }
    if (o->common.json) {
        static const char *const keys[CELL_KIND_COUNT] = {"simple_rnn", "gru", "lstm", "lstm_composed"};
        AppJson j;
        char key[64];
        app_json_begin(&j, stdout);
        app_json_string(&j, "mode", "scan");
        for (int k = 0; k < CELL_KIND_COUNT; k++) {
            snprintf(key, sizeof key, "%s_fwd_ms", keys[k]), app_json_number(&j, key, lam[k].fwd);
            snprintf(key, sizeof key, "%s_fwdbwd_ms", keys[k]), app_json_number(&j, key, lam[k].fwdbwd);
        }
        for (int p = 0; peers && p < N_PEERS; p++) {
            snprintf(key, sizeof key, "%s_fwd_ms", PEERS[p].key), app_json_number(&j, key, json_field(text, key));
            snprintf(key, sizeof key, "%s_fwdbwd_ms", PEERS[p].key), app_json_number(&j, key, json_field(text, key));
        }
        app_json_end(&j);
    }
    return APP_EXIT_OK;
}
