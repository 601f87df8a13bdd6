/* bench: training and inference throughput of the peers' LSTM configs A-D (see
 * ../shared/peers/README.md), built with the nn API exactly like the PyTorch script,
 * with ms/step (min and median of the repetitions), tokens/s, GFLOP/s and peak RSS;
 * --peers runs torch_lstm_bench.py at PyTorch's best thread setting and prints the
 * ratios. Each measurement runs in a fresh process (this program re-executed with
 * --child), so peak memory figures never mix. --word2vec measures word2vec training
 * instead (words/s and the vectors' quality), next to gensim's with --peers.
 * `bench --help` lists the options. */
#define _DEFAULT_SOURCE /* wait4: the peak RSS of each child process */
#include <lamina/nn/nn.h>

#include "common/data.h"
#include "common/flags.h"
#include "common/json.h"
#include "common/status.h"


#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APP "bench"

typedef struct Config {
    const char *name, *layers, *unit; /* unit: what a throughput counts */
    int64_t vocab, batch, T;
    bool per_step; /* a target per time step (many-to-many) */
} Config;

static const Config CONFIGS[4] = {
    {"A", "Embedding(27,64) > LSTM(256, sequences) > TimeDistributed(Dense(27))", "tokens", 27, 128, 40, true},
    {"B", "Embedding(27,64) > LSTM(64) > Dense(27)", "tokens", 27, 128, 40, false},
    {"C", "Embedding(8643,10) > LSTM(1000, sequences) > LSTM(1000) > Dense(1000, relu) > Dense(8643)", "samples",
     8643, 64, 3, false},
    {"D", "Embedding(8000,128) > LSTM(128, sequences) > TimeDistributed(Dense(8000))", "tokens", 8000, 100, 50, true},
};

enum { MAX_CORPORA = 16 };

enum { MAX_PYTHONS = 4 };

typedef struct Options {
    const char *configs, *peers_dir;
    const char *pythons[MAX_PYTHONS]; /* peer interpreters; the fastest is compared against */
    int n_pythons;
    int threads, steps, reps, warmup, rounds;
    bool train, infer, peers, scaling, json, child;
    bool word2vec, hogwild; /* the word2vec mode, and its threads without rounds */
    const char *data_dir, *corpus[MAX_CORPORA];
    int n_corpus;
} Options;

/* ---- one config in this process (the --child side) ---- */

static Model *make_model(const Config *c) {
    Model *m = nn_sequential();
    nn_model_seed(m, 0);
    switch (c->name[0]) {
    case 'A':
        nn_add(m, nn_embedding(.vocab = 27, .dim = 64));
        nn_add(m, nn_lstm(.units = 256, .return_sequences = true));
        nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
        break;
    case 'B':
        nn_add(m, nn_embedding(.vocab = 27, .dim = 64));
        nn_add(m, nn_lstm(.units = 64));
        nn_add(m, nn_dense(.units = 27, .activation = NN_SOFTMAX));
        break;
    case 'C':
        nn_add(m, nn_embedding(.vocab = 8643, .dim = 10));
        nn_add(m, nn_lstm(.units = 1000, .return_sequences = true));
        nn_add(m, nn_lstm(.units = 1000));
        nn_add(m, nn_dense(.units = 1000, .activation = NN_RELU));
        nn_add(m, nn_dense(.units = 8643, .activation = NN_SOFTMAX));
        break;
    default:
        nn_add(m, nn_embedding(.vocab = 8000, .dim = 128));
        nn_add(m, nn_lstm(.units = 128, .return_sequences = true));
        nn_add(m, nn_time_distributed(nn_dense(.units = 8000, .activation = NN_SOFTMAX)));
    }
    if (nn_build(m, NN_SHAPE(TENSOR_I32, c->T)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = 1e-3f)) != 0) {
        fprintf(stderr, APP ": cannot build config %s: %s\n", c->name, tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* Matrix-product FLOPs of one forward pass (2 per multiply-add): the LSTMs' input and
 * recurrent products and the Dense layers. A training step counts 3x (forward, and
 * the two gradient products of every matmul), as is usual. */
static double forward_flops(const Config *c) {
    double B = (double)c->batch, T = (double)c->T, V = (double)c->vocab;
    switch (c->name[0]) {
    case 'A': return 2 * B * T * (64 + 256) * 1024 + 2 * B * T * 256 * V;
    case 'B': return 2 * B * T * (64 + 64) * 256 + 2 * B * 64 * V;
    case 'C': return 2 * B * T * (10 + 1000) * 4000 + 2 * B * T * 2000 * 4000 + 2 * B * 1000 * 1000 + 2 * B * 1000 * V;
    default: return 2 * B * T * (128 + 128) * 512 + 2 * B * T * 128 * V;
    }
}

/* The model's forward on a batch without recording gradients, ending in logits (the
 * PyTorch models return logits too). */
static void infer_batch(Model *m, Tensor *x) {
    Tape *tape = nn_model_tape(m);
    ag_tape_reset(tape);
    bool previous = ag_set_grad_enabled(tape, false);
    int n = nn_model_layer_count(m);
    Tensor *h = x;
    for (int i = 0; i < n; i++)
        h = nn_layer_call(nn_model_layer(m, i), tape, h, &(NnCallCtx){.training = false, .logits = i == n - 1});
    ag_set_grad_enabled(tape, previous);
    ag_tape_reset(tape);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Peak resident set of this process so far, in MB. */
static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

enum { NBATCH = 8 }; /* distinct random batches cycled through, as the peer does */

/* CPU time of the whole process (all threads), in seconds. */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Times reps x steps training steps (or forward passes) after warm-up; writes the
 * min and median seconds per step and the least CPU time per step. Returns -1 if a
 * training step failed. */
static int time_steps(Model *m, Tensor **xs, Tensor **ys, bool train, const Options *o, double *min, double *med,
                      double *cpu_min) {
    double *t = malloc((size_t)o->reps * sizeof *t), c0 = 0;
    *cpu_min = INFINITY;
    int64_t i = 0;
    for (int w = 0; w < o->warmup + o->reps * o->steps; w++) {
        double loss;
        if (w >= o->warmup && (w - o->warmup) % o->steps == 0) {
            t[(w - o->warmup) / o->steps] = tensor_seconds();
            c0 = cpu_seconds();
        }
        if (train) {
            if (nn_train_on_batch(m, xs[i % NBATCH], ys[i % NBATCH], &loss) != 0) {
                fprintf(stderr, APP ": training step failed: %s\n", tensor_last_error());
                free(t);
                return -1;
            }
        } else {
            infer_batch(m, xs[i % NBATCH]);
        }
        i++;
        if (w >= o->warmup && (w - o->warmup) % o->steps == o->steps - 1) {
            int r = (w - o->warmup) / o->steps;
            t[r] = (tensor_seconds() - t[r]) / o->steps;
            double c = (cpu_seconds() - c0) / o->steps;
            if (c < *cpu_min) *cpu_min = c;
        }
    }
    qsort(t, (size_t)o->reps, sizeof *t, cmp_double);
    *min = t[0];
    *med = o->reps % 2 ? t[o->reps / 2] : 0.5 * (t[o->reps / 2 - 1] + t[o->reps / 2]);
    free(t);
    return 0;
}

/* Runs one config here and prints one JSON line of results to stdout. */
static int run_child(const Config *c, const Options *o) {
    if (tensor_set_num_threads(o->threads) != 0) return APP_EXIT_USAGE;
    Model *m = make_model(c);
    if (!m) return APP_EXIT_FAILURE;
    Rng rng;
    tensor_rng_seed(&rng, 0, 0x62656e6368);
    Tensor *xs[NBATCH], *ys[NBATCH];
    for (int b = 0; b < NBATCH; b++) {
        xs[b] = tensor_i32_zeros(NULL, 2, (int64_t[]){c->batch, c->T});
        ys[b] = c->per_step ? tensor_i32_zeros(NULL, 2, (int64_t[]){c->batch, c->T})
                            : tensor_i32_zeros(NULL, 1, (int64_t[]){c->batch});
        int32_t *xv = xs[b]->data, *yv = ys[b]->data;
        for (int64_t k = 0; k < xs[b]->size; k++) xv[k] = (int32_t)tensor_rng_below(&rng, (uint32_t)c->vocab);
        for (int64_t k = 0; k < ys[b]->size; k++) yv[k] = (int32_t)tensor_rng_below(&rng, (uint32_t)c->vocab);
    }
    double tr_min = NAN, tr_med = NAN, in_min = NAN, in_med = NAN, rss_train = NAN, tr_cpu = NAN, in_cpu = NAN;
    int rc = 0;
    if (o->train) {
        rc = time_steps(m, xs, ys, true, o, &tr_min, &tr_med, &tr_cpu);
        rss_train = peak_rss_mb();
    }
    if (rc == 0 && o->infer) rc = time_steps(m, xs, ys, false, o, &in_min, &in_med, &in_cpu);
    if (rc == 0) {
        AppJson j;
        app_json_begin(&j, stdout);
        app_json_string(&j, "config", c->name);
        app_json_int(&j, "threads", o->threads);
        app_json_number(&j, "train_ms_min", 1e3 * tr_min);
        app_json_number(&j, "train_ms_median", 1e3 * tr_med);
        app_json_number(&j, "infer_ms_min", 1e3 * in_min);
        app_json_number(&j, "infer_ms_median", 1e3 * in_med);
        /* CPU time per step, all threads together: a steadier figure on a busy machine. */
        app_json_number(&j, "train_cpu_ms_min", 1e3 * tr_cpu);
        app_json_number(&j, "infer_cpu_ms_min", 1e3 * in_cpu);
        app_json_number(&j, "peak_rss_train_mb", rss_train);
        app_json_number(&j, "peak_rss_mb", peak_rss_mb());
        app_json_int(&j, "params", nn_model_param_count(m));
        app_json_end(&j);
        fflush(stdout);
    }
    for (int b = 0; b < NBATCH; b++) {
        tensor_free(xs[b]);
        tensor_free(ys[b]);
    }
    nn_model_free(m);
    return rc == 0 ? APP_EXIT_OK : APP_EXIT_FAILURE;
}

/* ---- the parent: child processes and the report ---- */

/* Runs argv (with extra environment settings "K=V", NULL-terminated) and captures its
 * stdout into a heap string; writes the child's peak RSS in MB. NULL on failure. */
static char *run_capture(char *const argv[], const char *const env[], double *maxrss_mb) {
    int fd[2];
    if (pipe(fd) != 0) return NULL;
    pid_t pid = fork();
    if (pid < 0) return NULL;
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        for (int i = 0; env && env[i]; i++) {
            const char *eq = strchr(env[i], '=');
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(eq - env[i]), env[i]);
            setenv(key, eq + 1, 1);
        }
        execv(argv[0], argv);
        fprintf(stderr, APP ": cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    ssize_t got;
    while ((got = read(fd[0], out + len, cap - len - 1)) > 0 || (got < 0 && errno == EINTR)) {
        if (got < 0) continue;
        len += (size_t)got;
        if (cap - len < 1024) out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    close(fd[0]);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
    *maxrss_mb = (double)ru.ru_maxrss / 1024.0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* The number after "key": in s at or after `from` (NaN when absent). */
static double json_field(const char *s, const char *from, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(from ? from : s, pat);
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* ms per step [mode: 0 training, 1 inference], peak RSS in MB. */
typedef struct Result {
    bool ok;
    double min[2], med[2], cpu[2], rss; /* cpu: least CPU ms per step, all threads (ours) */
    char setting[160];                  /* PyTorch: which version and thread setting */
} Result;

static const char *const MODES[2] = {"train", "infer"};

/* Our children wait passively at OpenMP barriers unless the user chose otherwise: on
 * a machine shared with other work, threads spinning in OpenMP's pool cost more than
 * the futex wake-ups they save (PyTorch's best setting waits passively too). */
static const char *const *our_env(void) {
    static const char *const passive[] = {"OMP_WAIT_POLICY=passive", NULL};
    return getenv("OMP_WAIT_POLICY") ? NULL : passive;
}

static Result run_ours(const Config *c, const Options *o, int threads) {
    char t[16], s[16], r[16], w[16];
    snprintf(t, sizeof t, "%d", threads);
    snprintf(s, sizeof s, "%d", o->steps);
    snprintf(r, sizeof r, "%d", o->reps);
    snprintf(w, sizeof w, "%d", o->warmup);
    char *argv[] = {"/proc/self/exe", "--child", "--config", (char *)c->name, "--threads", t, "--steps", s,
                    "--reps", r, "--warmup", w, o->train ? "--train" : "--infer", o->train && o->infer ? "--infer" : NULL,
                    NULL};
    Result res = {0};
    char *out = run_capture(argv, our_env(), &res.rss);
    if (!out) return res;
    res.ok = true;
    for (int md = 0; md < 2; md++) {
        char key[32];
        snprintf(key, sizeof key, "%s_ms_min", MODES[md]);
        res.min[md] = json_field(out, NULL, key);
        snprintf(key, sizeof key, "%s_ms_median", MODES[md]);
        res.med[md] = json_field(out, NULL, key);
        snprintf(key, sizeof key, "%s_cpu_ms_min", MODES[md]);
        res.cpu[md] = json_field(out, NULL, key);
    }
    free(out);
    return res;
}

/* How the peer's threads are set: torch 1 OpenMP thread with OpenBLAS N (Debian's
 * torch 1.x), or N OpenMP threads waiting passively or spinning (its default). */
typedef enum TorchSetting { TORCH_OMP1_BLAS_N, TORCH_N_PASSIVE, TORCH_N_ACTIVE } TorchSetting;

/* torch_lstm_bench.py under one interpreter at one thread setting. */
static Result run_torch_setting(const Config *c, const Options *o, const char *python, int threads,
                                TorchSetting setting) {
    char script[4096], t[16], s[16], r[16], omp[32], blas[40];
    const bool omp1 = setting == TORCH_OMP1_BLAS_N;
    snprintf(script, sizeof script, "%s/torch_lstm_bench.py", o->peers_dir);
    snprintf(t, sizeof t, "%d", omp1 ? 1 : threads);
    snprintf(s, sizeof s, "%d", o->steps);
    snprintf(r, sizeof r, "%d", o->reps);
    snprintf(omp, sizeof omp, "OMP_NUM_THREADS=%d", omp1 ? 1 : threads);
    snprintf(blas, sizeof blas, "OPENBLAS_NUM_THREADS=%d", threads);
    const char *env[] = {omp, blas, setting == TORCH_N_PASSIVE ? "OMP_WAIT_POLICY=passive" : NULL, NULL};
    char *argv[] = {(char *)python, script, (char *)c->name, t, s, r, NULL};
    Result res = {0};
    char *out = run_capture(argv, env, &res.rss);
    if (!out) return res;
    const char *sect[2] = {strstr(out, "\"train\""), strstr(out, "\"infer\"")};
    const char *v = strstr(out, "\"torch\": \"");
    if (sect[0] && sect[1]) {
        res.ok = true;
        for (int md = 0; md < 2; md++) {
            res.min[md] = json_field(out, sect[md], "ms_per_step_min");
            res.med[md] = json_field(out, sect[md], "ms_per_step_median");
        }
        const char *names[] = {"OMP=1 OPENBLAS=%d", "OMP=%d passive", "OMP=%d"};
        char how[48];
        snprintf(how, sizeof how, names[setting], threads);
        snprintf(res.setting, sizeof res.setting, "torch %.*s %s", v ? (int)strcspn(v + 10, "\"+") : 1,
                 v ? v + 10 : "?", how);
    }
    free(out);
    return res;
}

/* Keeps, for mode md, whichever of best and r is faster (by median); `how` names it.
 * Peak memory is the training run's. */
static void keep_faster(Result *best, char how[160], const Result *r, int md) {
    if (!r->ok || (how[0] && best->med[md] <= r->med[md])) return;
    best->ok = true;
    best->min[md] = r->min[md];
    best->med[md] = r->med[md];
    if (md == 0) best->rss = r->rss;
    memcpy(how, r->setting, sizeof r->setting);
}

/* PyTorch at its best: every interpreter given, each at the settings that can be its
 * best (torch 1.x: 1 OpenMP thread + OpenBLAS N, or N passive; torch 2.x: N spinning
 * or passive); training and inference each keep the fastest (by median). */
static Result run_torch(const Config *c, const Options *o) {
    Result best = {0};
    char how[2][160] = {"", ""};
    for (int p = 0; p < o->n_pythons; p++) {
        Result first = run_torch_setting(c, o, o->pythons[p], o->threads,
                                         o->threads == 1 ? TORCH_N_ACTIVE : TORCH_N_PASSIVE);
        Result second = {0};
        if (first.ok && o->threads > 1) {
            const bool torch1 = strncmp(first.setting, "torch 1.", 8) == 0;
            second = run_torch_setting(c, o, o->pythons[p], o->threads, torch1 ? TORCH_OMP1_BLAS_N : TORCH_N_ACTIVE);
        }
        for (int md = 0; md < 2; md++) {
            keep_faster(&best, how[md], &first, md);
            keep_faster(&best, how[md], &second, md);
        }
    }
    if (strcmp(how[0], how[1]) == 0) memcpy(best.setting, how[0], sizeof best.setting);
    else snprintf(best.setting, sizeof best.setting, "train %.70s, infer %.70s", how[0], how[1]);
    return best;
}

enum { MAX_ROUNDS = 20 };

typedef struct Rounds {
    Result r[MAX_ROUNDS];
    int n;
} Rounds;

static void rounds_add(Rounds *rs, Result r) {
    if (r.ok && rs->n < MAX_ROUNDS) rs->r[rs->n++] = r;
}

/* Min of the mins, median of the medians, the largest peak memory. */
static Result rounds_result(const Rounds *rs) {
    if (rs->n == 0) return (Result){0};
    Result out = rs->r[0];
    for (int md = 0; md < 2; md++) {
        double meds[MAX_ROUNDS];
        for (int i = 0; i < rs->n; i++) {
            out.min[md] = fmin(out.min[md], rs->r[i].min[md]);
            out.cpu[md] = fmin(out.cpu[md], rs->r[i].cpu[md]);
            out.rss = fmax(out.rss, rs->r[i].rss);
            meds[i] = rs->r[i].med[md];
        }
        qsort(meds, (size_t)rs->n, sizeof *meds, cmp_double);
        out.med[md] = rs->n % 2 ? meds[rs->n / 2] : 0.5 * (meds[rs->n / 2 - 1] + meds[rs->n / 2]);
    }
    return out;
}

static void print_row(const char *who, const Result *r, int md, double units, double flops, const char *note) {
    printf("    %-9s %9.2f %9.2f %12.0f %9.1f %9.0f   %s\n", who, r->min[md], r->med[md], 1e3 * units / r->med[md],
           flops / (r->med[md] * 1e6), r->rss, note ? note : "");
}

/* One config's results: a JSON line, or the table. */
static void report(const Config *c, const Options *o, const Result *ours, const Result *one, const Result *torch) {
    const double units = (double)c->batch * (c->unit[0] == 't' ? (double)c->T : 1.0), f = forward_flops(c);
    const double flops[2] = {3 * f, f};
    const bool want[2] = {o->train, o->infer};
    if (o->json) {
        AppJson j;
        char key[64];
        app_json_begin(&j, stdout);
        app_json_string(&j, "config", c->name);
        app_json_int(&j, "threads", o->threads);
        app_json_string(&j, "unit", c->unit);
        app_json_number(&j, "peak_rss_mb", ours->rss);
        if (torch->ok) app_json_string(&j, "torch_setting", torch->setting);
        if (torch->ok) app_json_number(&j, "torch_peak_rss_mb", torch->rss);
        for (int md = 0; md < 2; md++) {
            if (!want[md]) continue;
#define KEY(fmt) (snprintf(key, sizeof key, fmt, MODES[md]), key)
            app_json_number(&j, KEY("%s_ms_min"), ours->min[md]);
            app_json_number(&j, KEY("%s_ms_median"), ours->med[md]);
            app_json_number(&j, KEY("%s_cpu_ms_min"), ours->cpu[md]);
            app_json_number(&j, KEY("%s_per_s"), 1e3 * units / ours->med[md]);
            app_json_number(&j, KEY("%s_gflops"), flops[md] / (ours->med[md] * 1e6));
            if (one->ok) app_json_number(&j, KEY("%s_speedup_vs_1_thread"), one->med[md] / ours->med[md]);
            if (torch->ok) {
                app_json_number(&j, KEY("torch_%s_ms_min"), torch->min[md]);
                app_json_number(&j, KEY("torch_%s_ms_median"), torch->med[md]);
                app_json_number(&j, KEY("%s_ratio"), torch->med[md] / ours->med[md]);
            }
#undef KEY
        }
        app_json_end(&j);
        return;
    }
    printf("\nconfig %s: %s; batch %lld, length %lld\n", c->name, c->layers, (long long)c->batch, (long long)c->T);
    printf("              ms/step   ms/step %10s/s   GFLOP/s   peak RSS\n", c->unit);
    printf("                  min    median     (median)  (median)        MB\n");
    for (int md = 0; md < 2; md++) {
        if (!want[md]) continue;
        printf("  %s\n", MODES[md]);
        print_row("lamina", ours, md, units, flops[md], NULL);
        if (one->ok) {
            char note[64];
            snprintf(note, sizeof note, "%d threads / 1 thread: %.2fx", o->threads, one->med[md] / ours->med[md]);
            print_row("1 thread", one, md, units, flops[md], note);
        }
        if (torch->ok) {
            print_row("PyTorch", torch, md, units, flops[md], torch->setting);
            printf("    ours/PyTorch throughput: %.2fx (median), %.2fx (min); peak memory %.2fx\n",
                   torch->med[md] / ours->med[md], torch->min[md] / ours->min[md], ours->rss / torch->rss);
        }
    }
}

static int run_parent(const Options *o) {
    const char *policy = getenv("OMP_WAIT_POLICY");
    if (!o->json)
        printf("lamina bench: %d thread%s (OMP_WAIT_POLICY=%s), %s SGEMM, %d steps x %d reps after %d warm-up "
               "steps, %d round%s%s\n",
               o->threads, o->threads > 1 ? "s" : "", policy ? policy : "passive", tensor_sgemm_kernel_name(),
               o->steps, o->reps, o->warmup, o->rounds, o->rounds > 1 ? "s" : "",
               o->peers ? "; PyTorch at its best thread setting" : "");
    int rc = APP_EXIT_OK;
    for (int k = 0; k < 4; k++) {
        const Config *c = &CONFIGS[k];
        if (!strchr(o->configs, c->name[0])) continue;
        /* Rounds alternate ours and PyTorch, so a change in the machine's load between
         * them hits both. */
        Rounds r_ours = {0}, r_one = {0}, r_torch = {0};
        for (int r = 0; r < o->rounds; r++) {
            rounds_add(&r_ours, run_ours(c, o, o->threads));
            if (o->scaling && o->threads > 1) rounds_add(&r_one, run_ours(c, o, 1));
            if (o->peers) rounds_add(&r_torch, run_torch(c, o));
        }
        Result ours = rounds_result(&r_ours), one = rounds_result(&r_one), torch = rounds_result(&r_torch);
        if (!ours.ok) {
            fprintf(stderr, APP ": config %s failed\n", c->name);
            rc = APP_EXIT_FAILURE;
            continue;
        }
        if (o->peers && !torch.ok) fprintf(stderr, APP ": the PyTorch peer failed for config %s\n", c->name);
        report(c, o, &ours, &one, &torch);
    }
    fflush(stdout);
    return rc;
}

/* ---- word2vec: ours in this process, gensim in a child ---- */

/* gensim with the app's defaults (the settings of ../shared/peers/gensim_word2vec.py),
 * the same tokenisation, timing only train() as ours times only nn_w2v_train. argv:
 * threads seed data_dir corpus... Prints one JSON line. */
static const char GENSIM_SCRIPT[] =
    "import json, re, sys, time\n"
    "from gensim.models import Word2Vec\n"
    "threads, seed, data = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]\n"
    "sents = []\n"
    "for f in sys.argv[4:]:\n"
    "    for line in open(f, encoding='utf-8'):\n"
    "        toks = re.sub(r'[^a-z]+', ' ', line.lower()).split()\n"
    "        if toks:\n"
    "            sents.append(toks)\n"
    "m = Word2Vec(sg=1, hs=0, negative=5, vector_size=100, window=5, min_count=5, sample=1e-3, alpha=0.025,\n"
    "             min_alpha=1e-4, workers=threads, epochs=5, seed=seed)\n"
    "m.build_vocab(sents)\n"
    "t0 = time.perf_counter()\n"
    "m.train(sents, total_examples=m.corpus_count, epochs=m.epochs)\n"
    "dt = time.perf_counter() - t0\n"
    "kv = m.wv\n"
    "def score(f):\n"
    "    try:\n"
    "        return f()\n"
    "    except OSError:\n"
    "        return float('nan')\n"
    "an = score(lambda: kv.evaluate_word_analogies(data + '/questions-words.txt', restrict_vocab=30000,\n"
    "                                              case_insensitive=True)[0])\n"
    "ws = score(lambda: float(kv.evaluate_word_pairs(data + '/wordsim353.tsv')[1][0]))\n"
    "import gensim\n"
    "print(json.dumps({'words_per_s': sum(map(len, sents)) * m.epochs / dt, 'analogy': an, 'wordsim353': ws,\n"
    "                  'version': gensim.__version__}).replace('NaN', 'null'))\n";

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

/* A corpus as given if the file exists, else the name inside the data directory. */
static void corpus_path(const Options *o, const char *name, char *buf, size_t cap) {
    if (access(name, R_OK) == 0 || strchr(name, '/')) snprintf(buf, cap, "%s", name);
    else snprintf(buf, cap, "%s/%s", o->data_dir, name);
}

/* Reads and tokenises the corpora and the test sets; returns an exit status. */
static int w2v_load(const Options *o, W2vData *d) {
    d->corpus = nn_w2v_corpus_new();
    for (int i = 0; i < o->n_corpus; i++) {
        int64_t len;
        corpus_path(o, o->corpus[i], d->paths[i], sizeof d->paths[i]);
        char *text = nn_read_file(d->paths[i], &len);
        if (!text) {
            fprintf(stderr, APP ": cannot read the corpus: %s (give --data DIR or --corpus FILE)\n",
                    tensor_last_error());
            return APP_EXIT_USAGE;
        }
        nn_w2v_corpus_add(d->corpus, text, len);
        free(text);
    }
    if (nn_w2v_corpus_finish(d->corpus, 5) != 0) { /* min_count 5, as the app and gensim */
        fprintf(stderr, APP ": %s\n", tensor_last_error());
        return APP_EXIT_USAGE;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/questions-words.txt", o->data_dir);
    if (access(path, R_OK) == 0) d->analogies = nn_analogy_read(path);
    snprintf(path, sizeof path, "%s/wordsim353.tsv", o->data_dir);
    if (access(path, R_OK) == 0) d->similarity = nn_similarity_read(path);
    return APP_EXIT_OK;
}

static W2vRun run_ours_w2v(const Options *o, const W2vData *d, uint64_t seed) {
    W2vRun r = {.analogy = NAN, .wordsim = NAN};
    NnWord2Vec *m = nn_w2v(d->corpus, .threads = o->threads, .hogwild = o->hogwild, .seed = seed);
    NnW2vStats st;
    NnWordVectors *wv = NULL;
    if (!m || nn_w2v_train(m, &st) != 0 || !(wv = nn_w2v_word_vectors(m))) {
        fprintf(stderr, APP ": word2vec training failed: %s\n", tensor_last_error());
        nn_w2v_free(m);
        return r;
    }
    r.ok = true;
    r.words_per_s = st.words_per_s;
    if (d->analogies) r.analogy = nn_analogy_evaluate(wv, d->analogies, 30000);
    if (d->similarity) r.wordsim = nn_similarity_evaluate(wv, d->similarity);
    nn_word_vectors_free(wv);
    nn_w2v_free(m);
    return r;
}

static W2vRun run_gensim(const Options *o, const char *python, const W2vData *d, uint64_t seed, char *version,
                         size_t cap) {
    char t[16], sd[32];
    snprintf(t, sizeof t, "%d", o->threads);
    snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
    /* python -c SCRIPT ARGS: the script sees ARGS from sys.argv[1]. */
    char *argv[6 + MAX_CORPORA + 1] = {(char *)python, "-c", (char *)GENSIM_SCRIPT, t, sd, (char *)o->data_dir};
    for (int i = 0; i < o->n_corpus; i++) argv[6 + i] = (char *)d->paths[i];
    double rss;
    W2vRun r = {.analogy = NAN, .wordsim = NAN};
    char *out = run_capture(argv, NULL, &rss);
    if (!out) return r;
    r.words_per_s = json_field(out, NULL, "words_per_s");
    r.analogy = json_field(out, NULL, "analogy");
    r.wordsim = json_field(out, NULL, "wordsim353");
    r.ok = isfinite(r.words_per_s);
    const char *v = strstr(out, "\"version\": \"");
    if (v) snprintf(version, cap, "%.*s", (int)strcspn(v + 12, "\""), v + 12);
    free(out);
    return r;
}

typedef struct W2vSummary {
    int n;
    double min, median, analogy, wordsim; /* words/s; quality: means over the rounds */
} W2vSummary;

static W2vSummary summarise(const W2vRun *runs, int n_runs) {
    W2vSummary s = {.min = NAN, .median = NAN, .analogy = NAN, .wordsim = NAN};
    double w[MAX_ROUNDS], an = 0, ws = 0;
    for (int i = 0; i < n_runs; i++) {
        if (!runs[i].ok) continue;
        w[s.n++] = runs[i].words_per_s;
        an += runs[i].analogy;
        ws += runs[i].wordsim;
    }
    if (!s.n) return s;
    qsort(w, (size_t)s.n, sizeof *w, cmp_double);
    s.min = w[0];
    s.median = s.n % 2 ? w[s.n / 2] : 0.5 * (w[s.n / 2 - 1] + w[s.n / 2]);
    s.analogy = an / s.n;
    s.wordsim = ws / s.n;
    return s;
}

/* Rounds alternate ours and gensim, round r training with seed r + 1 on both sides. */
static int run_word2vec(const Options *o) {
    W2vData d = {0};
    int rc = w2v_load(o, &d);
    W2vRun ours[MAX_ROUNDS] = {0}, peer[MAX_ROUNDS] = {0};
    char version[64] = "?";
    if (rc == APP_EXIT_OK && !o->json)
        printf("lamina bench --word2vec: %lld corpus words (%lld sentences, vocabulary %lld), %d thread%s%s, "
               "skip-gram, dim 100, window 5, 5 negatives, 5 passes; %d round%s%s\n",
               (long long)nn_w2v_corpus_raw_words(d.corpus), (long long)nn_w2v_corpus_sentences(d.corpus),
               (long long)nn_w2v_corpus_vocab_size(d.corpus), o->threads, o->threads > 1 ? "s" : "",
               o->hogwild ? " (Hogwild)" : "", o->rounds, o->rounds > 1 ? "s" : "",
               o->peers ? ", alternating with gensim" : "");
    for (int r = 0; rc == APP_EXIT_OK && r < o->rounds; r++) {
        ours[r] = run_ours_w2v(o, &d, (uint64_t)r + 1);
        if (!ours[r].ok) rc = APP_EXIT_FAILURE;
        if (o->peers && rc == APP_EXIT_OK) {
            /* Every interpreter given; the round keeps the faster gensim. */
            for (int p = 0; p < o->n_pythons; p++) {
                char v[64] = "?";
                W2vRun g = run_gensim(o, o->pythons[p], &d, (uint64_t)r + 1, v, sizeof v);
                if (g.ok && (!peer[r].ok || g.words_per_s > peer[r].words_per_s)) {
                    peer[r] = g;
                    snprintf(version, sizeof version, "%s", v);
                }
            }
            if (!peer[r].ok) fprintf(stderr, APP ": the gensim peer failed (round %d)\n", r + 1);
        }
        if (!o->json && rc == APP_EXIT_OK) {
            printf("  round %d (seed %d): lamina %.0f words/s", r + 1, r + 1, ours[r].words_per_s);
            if (peer[r].ok) printf(", gensim %.0f words/s, ratio %.2fx", peer[r].words_per_s,
                                   ours[r].words_per_s / peer[r].words_per_s);
            printf("\n");
            fflush(stdout);
        }
    }
    if (rc == APP_EXIT_OK) {
        W2vSummary a = summarise(ours, o->rounds), g = summarise(peer, o->rounds);
        if (o->json) {
            AppJson j;
            app_json_begin(&j, stdout);
            app_json_string(&j, "mode", "word2vec");
            app_json_int(&j, "threads", o->threads);
            app_json_int(&j, "hogwild", o->hogwild);
            app_json_int(&j, "rounds", o->rounds);
            app_json_int(&j, "words", nn_w2v_corpus_raw_words(d.corpus));
            app_json_number(&j, "words_per_s_min", a.min);
            app_json_number(&j, "words_per_s_median", a.median);
            app_json_number(&j, "analogy", a.analogy);
            app_json_number(&j, "wordsim353", a.wordsim);
            if (g.n) {
                app_json_string(&j, "gensim_version", version);
                app_json_number(&j, "gensim_words_per_s_min", g.min);
                app_json_number(&j, "gensim_words_per_s_median", g.median);
                app_json_number(&j, "gensim_analogy", g.analogy);
                app_json_number(&j, "gensim_wordsim353", g.wordsim);
                app_json_number(&j, "ratio_median", a.median / g.median);
                app_json_number(&j, "ratio_min", a.min / g.min);
            }
            app_json_end(&j);
        } else {
            printf("             words/s min  words/s median  analogy (mean)  WordSim-353 rho (mean)\n");
            printf("  lamina     %11.0f  %14.0f  %13.2f%%  %22.4f\n", a.min, a.median, 100 * a.analogy, a.wordsim);
            if (g.n) {
                printf("  gensim %-4s%10.0f  %14.0f  %13.2f%%  %22.4f\n", version, g.min, g.median,
                       100 * g.analogy, g.wordsim);
                printf("  ours/gensim words/s: %.2fx (median), %.2fx (min); analogy %+.2f points, rho %+.4f\n",
                       a.median / g.median, a.min / g.min, 100 * (a.analogy - g.analogy), a.wordsim - g.wordsim);
            }
        }
    }
    nn_analogy_set_free(d.analogies);
    nn_similarity_set_free(d.similarity);
    nn_w2v_corpus_free(d.corpus);
    return rc;
}

/* ---- options ---- */

static void usage(FILE *out) {
    fprintf(out,
            "Usage: bench [OPTIONS]\n"
            "Training and inference throughput of the LSTM configs of ../shared/peers/README.md:\n");
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
            "  --peers             also run PyTorch's torch_lstm_bench.py (same steps and reps) at its\n"
            "                      best setting and print ours/PyTorch: torch 1.x with 1 OpenMP thread\n"
            "                      + OpenBLAS N, or N threads with OMP_WAIT_POLICY=passive; torch 2.x\n"
            "                      with N threads spinning or passive; the fastest is kept\n"
            "  --peers-dir DIR     where torch_lstm_bench.py is (default <source>/../shared/peers)\n"
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
            "  --peers             also train gensim (from --python) with the same settings, threads\n"
            "                      and seed after each of ours, timing only its train(), and print\n"
            "                      ours/gensim and both qualities\n");
}

/* <source>/../shared/peers, the source directory taken from this file's path. */
static void default_peers_dir(char *buf, size_t len) {
    const char *file = __FILE__, *slash = strrchr(file, '/');
    if (!slash || file[0] != '/') {
        snprintf(buf, len, "../shared/peers");
        return;
    }
    snprintf(buf, len, "%.*s/../../shared/peers", (int)(slash - file), file); /* <source>/apps/.. */
}

static bool pythons_runnable(const Options *o) {
    for (int p = 0; p < o->n_pythons; p++)
        if (access(o->pythons[p], X_OK) != 0) {
            fprintf(stderr, APP ": cannot run %s (give --python)\n", o->pythons[p]);
            return false;
        }
    return true;
}

/* Returns 0 to go on, or an exit status + 1. */
static int parse_options(int argc, char **argv, Options *o, char *peers_buf, size_t peers_len) {
    enum { O_CONFIG = 256, O_THREADS, O_STEPS, O_REPS, O_WARMUP, O_ROUNDS, O_TRAIN, O_INFER, O_SCALING, O_PEERS, O_PEERS_DIR,
           O_PYTHON, O_JSON, O_CHILD, O_HELP, O_WORD2VEC, O_CORPUS, O_DATA, O_HOGWILD, O_VERSION };
    static const struct option longopts[] = {
        {"config", required_argument, 0, O_CONFIG}, {"threads", required_argument, 0, O_THREADS},
        {"steps", required_argument, 0, O_STEPS},   {"reps", required_argument, 0, O_REPS},
        {"warmup", required_argument, 0, O_WARMUP}, {"rounds", required_argument, 0, O_ROUNDS},
        {"train", no_argument, 0, O_TRAIN},
        {"infer", no_argument, 0, O_INFER},         {"scaling", no_argument, 0, O_SCALING},
        {"peers", no_argument, 0, O_PEERS},         {"peers-dir", required_argument, 0, O_PEERS_DIR},
        {"python", required_argument, 0, O_PYTHON}, {"json", no_argument, 0, O_JSON},
        {"child", no_argument, 0, O_CHILD},         {"help", no_argument, 0, O_HELP},
        {"word2vec", no_argument, 0, O_WORD2VEC},   {"corpus", required_argument, 0, O_CORPUS},
        {"data", required_argument, 0, O_DATA},     {"hogwild", no_argument, 0, O_HOGWILD},
        {"version", no_argument, 0, O_VERSION},     {0, 0, 0, 0}};
    default_peers_dir(peers_buf, peers_len);
    *o = (Options){.configs = "ABCD", .peers_dir = peers_buf, .pythons = {"/usr/bin/python3"}, .n_pythons = 1,
                   .threads = tensor_get_num_threads(), .steps = 10, .reps = 5, .warmup = 3, .rounds = 1};
    static char configs[8];
    bool train = false, infer = false, rounds_given = false, pythons_given = false;
    opterr = 0;
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char name[32];
        snprintf(name, sizeof name, "--%s", c >= O_CONFIG && c <= O_VERSION ? longopts[c - O_CONFIG].name : "");
        switch (c) {
        case O_CONFIG: {
            if (!strcmp(optarg, "all")) break;
            size_t n = 0;
            for (const char *p = optarg; *p; p++) {
                if (*p < 'A' || *p > 'D' || n >= 4) {
                    fprintf(stderr, APP ": invalid value '%s' for --config: expected letters A-D or all\n", optarg);
                    return 3;
                }
                if (!memchr(configs, *p, n)) configs[n++] = *p;
            }
            configs[n] = '\0';
            o->configs = configs;
            break;
        }
        case O_THREADS: if (!app_parse_int(APP, name, optarg, 1, 1024, &v)) return 3; o->threads = (int)v; break;
        case O_STEPS: if (!app_parse_int(APP, name, optarg, 1, 100000, &v)) return 3; o->steps = (int)v; break;
        case O_REPS: if (!app_parse_int(APP, name, optarg, 1, 1000, &v)) return 3; o->reps = (int)v; break;
        case O_WARMUP: if (!app_parse_int(APP, name, optarg, 0, 100000, &v)) return 3; o->warmup = (int)v; break;
        case O_ROUNDS:
            if (!app_parse_int(APP, name, optarg, 1, MAX_ROUNDS, &v)) return 3;
            o->rounds = (int)v;
            rounds_given = true;
            break;
        case O_TRAIN: train = true; break;
        case O_INFER: infer = true; break;
        case O_SCALING: o->scaling = true; break;
        case O_PEERS: o->peers = true; break;
        case O_PEERS_DIR: o->peers_dir = optarg; break;
        case O_PYTHON:
            if (!pythons_given) o->n_pythons = 0;
            pythons_given = true;
            if (o->n_pythons == MAX_PYTHONS) {
                fprintf(stderr, APP ": at most %d --python interpreters\n", MAX_PYTHONS);
                return 3;
            }
            o->pythons[o->n_pythons++] = optarg;
            break;
        case O_JSON: o->json = true; break;
        case O_CHILD: o->child = true; break;
        case O_HELP: usage(stdout); return 1;
        case O_VERSION: printf("lamina " LAMINA_VERSION "\n"); return 1;
        case O_WORD2VEC: o->word2vec = true; break;
        case O_HOGWILD: o->hogwild = true; break;
        case O_DATA: o->data_dir = optarg; break;
        case O_CORPUS:
            if (o->n_corpus == MAX_CORPORA) {
                fprintf(stderr, APP ": --corpus given more than %d times\n", MAX_CORPORA);
                return 3;
            }
            o->corpus[o->n_corpus++] = optarg;
            break;
        default:
            if (optopt >= O_CONFIG && optopt <= O_VERSION)
                fprintf(stderr, APP ": option '--%s' needs a value (see --help)\n", longopts[optopt - O_CONFIG].name);
            else
                fprintf(stderr, APP ": unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 3;
        }
    }
    if (optind < argc) {
        fprintf(stderr, APP ": unexpected argument '%s' (see --help)\n", argv[optind]);
        return 3;
    }
    o->train = train || !infer;
    o->infer = infer || !train;
    if (!o->word2vec && (o->n_corpus || o->data_dir || o->hogwild)) {
        fprintf(stderr, APP ": --corpus, --data and --hogwild go with --word2vec (see --help)\n");
        return 3;
    }
    if (o->word2vec) {
        o->data_dir = app_data_dir(o->data_dir);
        if (!o->n_corpus) o->corpus[o->n_corpus++] = "brown_1.txt", o->corpus[o->n_corpus++] = "brown_2.txt";
        if (!rounds_given) o->rounds = 3;
        if (o->peers && !pythons_runnable(o)) return 3;
    } else if (o->peers && !o->child) {
        char script[4096];
        snprintf(script, sizeof script, "%s/torch_lstm_bench.py", o->peers_dir);
        if (access(script, R_OK) != 0) {
            fprintf(stderr, APP ": cannot find %s (give --peers-dir)\n", script);
            return 3;
        }
        if (!pythons_runnable(o)) return 3;
    }
    return 0;
}

int main(int argc, char **argv) {
    Options o;
    char peers_dir[4096];
    int rc = parse_options(argc, argv, &o, peers_dir, sizeof peers_dir);
    if (rc) return rc - 1;
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
