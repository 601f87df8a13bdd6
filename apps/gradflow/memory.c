/* --mode memory: the long-lag tasks, each layer trained for the same number of updates
 * on fresh random batches and scored on held-out sequences.
 *   recall (Hochreiter & Schmidhuber's experiment 2c, answered after a marker as in the
 *     copy-memory task): step 0 shows one of K symbols with a store cue, steps 1..L-1
 *     random distractors from the same K symbols, step L the recall marker; the answer
 *     is the symbol of step 0. Accuracy on a balanced held-out set; chance is 1/K.
 *   adding: two channels, a value in U(0, 1) and a marker; two steps are marked, one
 *     in [0, L/10], one in [L/2, L]; the answer is the sum of their values. MSE; always
 *     answering 1 scores 1/6.
 * Model: RNN(units) > Dense (softmax over K, or linear), Adam with clipnorm 1. Each
 * batch is drawn at a lag uniform in 2..L (or at L with --train-lags fixed): from a
 * fixed long lag alone, whose gradient is ~1e-6 at initialisation, the gated layers
 * learn nothing in this budget. The trainings are independent and run --threads at a
 * time in child processes. */
#include "gradflow/gradflow_internal.h"

#include "common/json.h"
#include "common/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_LAYERS 3
#define HELD_OUT 1024 /* at least: an accuracy's standard error is then at most 0.016 */
#define ADDING_CHANCE (1.0 / 6.0)

typedef enum Task { TASK_RECALL, TASK_ADDING } Task;
static const char *const TASK_NAMES[2] = {"recall", "adding"};
static const char *const KEYS[N_LAYERS] = {"simple_rnn", "gru", "lstm"};

/* Recall's input channels: K symbols, the store cue, the recall marker. */
static int64_t input_width(Task task, int64_t K) { return task == TASK_RECALL ? K + 2 : 2; }

/* One recall sequence into s (L + 1 steps of K + 2 channels, zeroed): the symbol with
 * the store cue at step 0, a random distractor from the same K symbols at each of steps
 * 1..L-1, the marker at step L. The distractors use the symbol's own channels, so a
 * layer cannot shut them out by zeroing their input weights (as it could distinct
 * distractor symbols, or blanks). */
static void recall_sequence(float *s, int64_t K, int64_t L, int32_t symbol, Rng *rng) {
    const int64_t D = K + 2;
    s[symbol] = s[K] = 1.0f;
    for (int64_t t = 1; t < L; t++) s[t * D + tensor_rng_below(rng, (uint32_t)K)] = 1.0f;
    s[L * D + K + 1] = 1.0f;
}

/* A batch of n sequences of length L + 1 into x (n, L+1, D) and y ((n) int32 or (n, 1)).
 * balanced: recall's symbols cycle through all K (the held-out set, so that answering
 * one symbol scores exactly 1/K); otherwise they are drawn at random. */
static void make_batch(Task task, int64_t K, int64_t L, bool balanced, Rng *rng, Tensor *x, Tensor *y) {
    const int64_t n = x->shape[0], T = L + 1, D = x->shape[2];
    float *xv = tensor_f32(x);
    memset(xv, 0, (size_t)x->size * sizeof *xv);
    for (int64_t b = 0; b < n; b++) {
        float *s = xv + b * T * D;
        if (task == TASK_RECALL) {
            const int32_t symbol = balanced ? (int32_t)(b % K) : (int32_t)tensor_rng_below(rng, (uint32_t)K);
            recall_sequence(s, K, L, symbol, rng);
            tensor_i32(y)[b] = symbol;
        } else {
            for (int64_t t = 0; t < T; t++) s[t * D] = tensor_rng_uniform(rng);
            const int64_t a = tensor_rng_below(rng, (uint32_t)(L / 10 + 1));
            const int64_t c = L / 2 + tensor_rng_below(rng, (uint32_t)(L - L / 2 + 1));
            s[a * D + 1] = s[c * D + 1] = 1.0f;
            tensor_f32(y)[b] = s[a * D] + s[c * D];
        }
    }
}

/* The held-out set's size: recall's is rounded up to a multiple of K (balanced classes). */
static int64_t held_out(Task task, int64_t K) { return task == TASK_RECALL ? (HELD_OUT + K - 1) / K * K : HELD_OUT; }

static Tensor *targets(Task task, int64_t n) {
    return task == TASK_RECALL ? tensor_i32_zeros(NULL, 1, (int64_t[]){n}) : tensor_zeros(NULL, TENSOR_SHAPE(n, 1));
}

static Model *make_model(const Options *o, CellKind kind, Task task, int64_t D, uint64_t seed) {
    Model *m = nn_sequential();
    const NnRnnOpts ro = {.units = o->units};
    nn_add(m, kind == CELL_SIMPLE_RNN ? nn_simple_rnn_new(&ro) : kind == CELL_GRU ? nn_gru_new(&ro) : nn_lstm_new(&ro));
    nn_add(m, task == TASK_RECALL ? nn_dense(.units = o->symbols, .activation = NN_SOFTMAX) : nn_dense(.units = 1));
    nn_model_seed(m, seed);
    if (nn_build(m, NN_SHAPE(TENSOR_F32, -1, D)) != 0 ||
        nn_compile(m, .loss = task == TASK_RECALL ? NN_SPARSE_CATEGORICAL_CROSSENTROPY : NN_MSE,
                   .optimizer = nn_adam(.lr = (float)o->common.lr), .clipnorm = 1.0f,
                   .accuracy = task == TASK_RECALL) != 0) {
        fprintf(stderr, APP ": cannot build the %s model: %s\n", cell_names[kind], tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    /* The variants of --forget-bias and --recurrent-init apply here too. */
    Layer *l = nn_model_layer(m, 0);
    Rng rng;
    tensor_rng_seed(&rng, seed, 5);
    if (o->init.recurrent_normal) tensor_fill_normal(tensor_f32(l->params[1]), l->params[1]->size, &rng, 0.0f, 0.05f);
    if (kind == CELL_LSTM)
        for (int64_t j = o->units; j < 2 * o->units; j++) tensor_f32(l->params[2])[j] = (float)o->init.forget_bias;
    return m;
}

/* Trains one layer on one task at lag L; returns the held-out score (accuracy or
 * MSE), or NaN when training failed. */
static double train_one(const Options *o, CellKind kind, Task task, int64_t L) {
    const int64_t D = input_width(task, o->symbols), B = o->common.batch_size, N = held_out(task, o->symbols);
    const uint64_t seed = o->common.seed;
    Model *m = make_model(o, kind, task, D, seed);
    if (!m) return NAN;
    Tensor *x = tensor_empty(NULL, TENSOR_F32, 3, (int64_t[]){B, L + 1, D}), *y = targets(task, B);
    Tensor *xt = tensor_empty(NULL, TENSOR_F32, 3, (int64_t[]){N, L + 1, D}), *yt = targets(task, N);
    Rng train, test;
    tensor_rng_seed(&train, seed, 10 + (uint64_t)task);
    tensor_rng_seed(&test, seed, 20 + (uint64_t)task); /* the same held-out set for every layer */
    make_batch(task, o->symbols, L, true, &test, xt, yt);
    double loss = NAN, score = NAN, acc;
    int64_t u = 0;
    for (; u < o->updates; u++) {
        /* Short lags among the long ones give every layer a gradient to learn how to
         * store and hold from; the held-out score is at L alone. */
        const int64_t l = o->fixed_lags ? L : 2 + tensor_rng_below(&train, (uint32_t)(L - 1));
        if (x->shape[1] != l + 1) {
            tensor_free(x);
            x = tensor_empty(NULL, TENSOR_F32, 3, (int64_t[]){B, l + 1, D});
        }
        make_batch(task, o->symbols, l, false, &train, x, y);
        if (nn_train_on_batch(m, x, y, &loss) != 0) {
            fprintf(stderr, APP ": %s on %s, lag %lld: %s\n", cell_names[kind], TASK_NAMES[task], (long long)L,
                    tensor_last_error());
            break;
        }
        if (!o->common.quiet && ((u + 1) % 100 == 0 || u + 1 == o->updates))
            fprintf(stderr, APP ": %s lag %lld %s: update %lld/%lld, loss %.4f\n", TASK_NAMES[task], (long long)L,
                    cell_names[kind], (long long)u + 1, (long long)o->updates, loss);
    }
    if (u == o->updates && nn_evaluate(m, xt, yt, 64, &loss, &acc) == 0) score = task == TASK_RECALL ? acc : loss;
    tensor_free(x);
    tensor_free(y);
    tensor_free(xt);
    tensor_free(yt);
    nn_model_free(m);
    return score;
}

static void print_table(const Options *o, Task task, double scores[N_LAYERS][8]) {
    if (task == TASK_RECALL)
        printf("\nrecall: held-out accuracy at lag L after %lld updates (chance %.3f)\n", (long long)o->updates,
               1.0 / (double)o->symbols);
    else
        printf("\nadding: held-out MSE at lag L after %lld updates (always answering 1: %.3f)\n",
               (long long)o->updates, ADDING_CHANCE);
    printf("%-10s", "lag");
    for (int i = 0; i < o->n_lags; i++) printf(" %8lld", (long long)o->lags[i]);
    printf("\n");
    for (int l = 0; l < N_LAYERS; l++) {
        if (!o->layer_on[l]) continue;
        printf("%-10s", cell_names[l]);
        for (int i = 0; i < o->n_lags; i++) printf(" %8.3f", scores[l][i]);
        printf("\n");
    }
}

/* Skill: 0 at chance, 1 solved (accuracy or MSE rescaled). */
static double skill(const Options *o, Task task, double score) {
    if (task == TASK_RECALL) return (score - 1.0 / (double)o->symbols) / (1.0 - 1.0 / (double)o->symbols);
    return 1.0 - score / ADDING_CHANCE;
}

static int plot(const Options *o, const bool *ran, double scores[2][N_LAYERS][8]) {
    double xs[8], ys[2 * N_LAYERS][8];
    char names[2 * N_LAYERS][48];
    NnPlotSeries s[2 * N_LAYERS];
    int n = 0;
    for (int i = 0; i < o->n_lags; i++) xs[i] = (double)o->lags[i];
    for (int t = 0; t < 2; t++)
        for (int l = 0; l < N_LAYERS && ran[t]; l++) {
            if (!o->layer_on[l]) continue;
            for (int i = 0; i < o->n_lags; i++) ys[n][i] = skill(o, (Task)t, scores[t][l][i]);
            snprintf(names[n], sizeof names[n], "%s, %s", cell_names[l], TASK_NAMES[t]);
            s[n] = (NnPlotSeries){names[n], xs, ys[n], o->n_lags};
            n++;
        }
    char title[128];
    snprintf(title, sizeof title, "Long-lag tasks: %lld updates at %s, %lld units", (long long)o->updates,
             o->fixed_lags ? "lag L" : "lags 2..L", (long long)o->units);
    if (nn_plot_series_svg(o->common.plot, title, "lag L (steps)", "skill (0 chance, 1 solved)", n, s) != 0) {
        fprintf(stderr, APP ": %s\n", tensor_last_error());
        return -1;
    }
    return 0;
}

/* One training of the table: a task, a layer, a lag. */
typedef struct Job {
    int task, layer, lag;
    double cost; /* roughly proportional to its time: the composed GRU is the slowest */
} Job;

static int list_jobs(const Options *o, const bool *ran, Job *jobs) {
    static const double STEP_COST[N_LAYERS] = {1.0, 3.0, 1.0};
    int n = 0;
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < o->n_lags && ran[t]; i++)
            for (int l = 0; l < N_LAYERS; l++)
                if (o->layer_on[l]) jobs[n++] = (Job){t, l, i, STEP_COST[l] * (double)o->lags[i]};
    return n;
}

/* What a worker sends back for each job: its index and held-out score. */
typedef struct Record {
    int k;
    double score;
} Record;

/* Runs the jobs whose owner is w, writing (index, score) records to fd. */
static void run_share(const Options *o, const Job *jobs, int n, const int *owner, int w, int fd) {
    for (int k = 0; k < n; k++) {
        if (owner[k] != w) continue;
        const Record r = {k, train_one(o, (CellKind)jobs[k].layer, (Task)jobs[k].task, o->lags[jobs[k].lag])};
        if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) return;
    }
}

/* Reads the workers' records into scores and waits for them; -1 when one failed or
 * left a job out. */
static int collect(const Job *jobs, int n, int workers, const int *fds, const pid_t *pids,
                   double scores[2][N_LAYERS][8]) {
    int got = 0, rc = 0;
    for (int w = 0; w < workers; w++) {
        Record r;
        while (read(fds[w], &r, sizeof r) == (ssize_t)sizeof r)
            if (r.k >= 0 && r.k < n && !isnan(r.score)) {
                scores[jobs[r.k].task][jobs[r.k].layer][jobs[r.k].lag] = r.score;
                got++;
            }
        close(fds[w]);
        int status;
        if (waitpid(pids[w], &status, 0) != pids[w] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) rc = -1;
    }
    return got == n ? rc : -1;
}

/* Trains every job, `workers` at a time in child processes (each training is
 * deterministic, so the table does not depend on how they are shared out). The
 * longest jobs are handed out first, each to the least loaded worker. */
static int run_jobs(const Options *o, const Job *jobs, int n, int workers, double scores[2][N_LAYERS][8]) {
    int owner[2 * N_LAYERS * 8], order[2 * N_LAYERS * 8];
    double load[64] = {0};
    for (int k = 0; k < n; k++) order[k] = k;
    for (int a = 1; a < n; a++) /* insertion sort, costliest first */
        for (int b = a; b > 0 && jobs[order[b]].cost > jobs[order[b - 1]].cost; b--) {
            const int swap = order[b];
            order[b] = order[b - 1];
            order[b - 1] = swap;
        }
    for (int k = 0; k < n; k++) {
        int best = 0;
        for (int w = 1; w < workers; w++) best = load[w] < load[best] ? w : best;
        owner[order[k]] = best;
        load[best] += jobs[order[k]].cost;
    }
    int fds[64];
    pid_t pids[64];
    fflush(NULL);
    for (int w = 0; w < workers; w++) {
        int p[2];
        if (pipe(p) != 0 || (pids[w] = fork()) < 0) {
            fprintf(stderr, APP ": cannot start a training process\n");
            return -1;
        }
        if (pids[w] == 0) {
            close(p[0]);
            run_share(o, jobs, n, owner, w, p[1]);
            _exit(0);
        }
        close(p[1]);
        fds[w] = p[0];
    }
    return collect(jobs, n, workers, fds, pids, scores);
}

int gf_run_memory(const Options *o) {
    static double scores[2][N_LAYERS][8];
    static Job jobs[2 * N_LAYERS * 8];
    const bool ran[2] = {o->task_recall, o->task_adding};
    for (int t = 0; t < 2; t++)
        for (int l = 0; l < N_LAYERS; l++)
            for (int i = 0; i < 8; i++) scores[t][l][i] = NAN;
    const int n = list_jobs(o, ran, jobs);
    int64_t workers = o->common.threads ? o->common.threads : 2;
    workers = workers < n ? workers : n;
    workers = workers < 64 ? workers : 64;
    if (run_jobs(o, jobs, n, (int)workers, scores) != 0) return APP_EXIT_FAILURE;
    printf("Long-lag tasks: %lld units, batch %lld, Adam lr %g, clipnorm 1, trained at %s, %lld held-out "
           "sequences, seed %llu\n",
           (long long)o->units, (long long)o->common.batch_size, o->common.lr,
           o->fixed_lags ? "lag L" : "lags drawn from 2..L",
           (long long)held_out(ran[0] ? TASK_RECALL : TASK_ADDING, o->symbols),
           (unsigned long long)o->common.seed);
    for (int t = 0; t < 2; t++)
        if (ran[t]) print_table(o, (Task)t, scores[t]);
    int rc = o->common.plot ? plot(o, ran, scores) : 0;
    if (o->common.json) {
        AppJson j;
        char key[64];
        app_json_begin(&j, stdout);
        app_json_string(&j, "mode", "memory");
        app_json_int(&j, "updates", o->updates);
        app_json_string(&j, "train_lags", o->fixed_lags ? "fixed" : "upto");
        for (int t = 0; t < 2; t++)
            for (int l = 0; l < N_LAYERS && ran[t]; l++)
                for (int i = 0; i < o->n_lags && o->layer_on[l]; i++) {
                    snprintf(key, sizeof key, "%s_%s_L%lld", TASK_NAMES[t], KEYS[l], (long long)o->lags[i]);
                    app_json_number(&j, key, scores[t][l][i]);
                }
        app_json_end(&j);
    }
    return rc ? APP_EXIT_FAILURE : APP_EXIT_OK;
}
