/* bench's LSTM configs A-D, built with the nn API exactly like scripts/peers/lstm_torch.py,
 * and one of them timed in this process (the --child side): training steps and
 * forward passes on random ids, min and median ms per step, CPU time and peak RSS,
 * written as one JSON line. */
#include "bench/bench_internal.h"

#include "common/json.h"
#include "common/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* C's vocabulary is sherlock's: 8,638 words of sherlock.txt and the padding row 0. */
const Config CONFIGS[4] = {
    {"A", "Embedding(27,64) > LSTM(256, sequences) > TimeDistributed(Dense(27))", "tokens", 27, 128, 40, true},
    {"B", "Embedding(27,64) > LSTM(64) > Dense(27)", "tokens", 27, 128, 40, false},
    {"C", "Embedding(8639,10) > LSTM(1000, sequences) > LSTM(1000) > Dense(1000, relu) > Dense(8639)", "samples",
     8639, 64, 3, false},
    {"D", "Embedding(8000,128) > LSTM(128, sequences) > TimeDistributed(Dense(8000))", "tokens", 8000, 100, 50, true},
};

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
        nn_add(m, nn_embedding(.vocab = 8639, .dim = 10));
        nn_add(m, nn_lstm(.units = 1000, .return_sequences = true));
        nn_add(m, nn_lstm(.units = 1000));
        nn_add(m, nn_dense(.units = 1000, .activation = NN_RELU));
        nn_add(m, nn_dense(.units = 8639, .activation = NN_SOFTMAX));
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
double forward_flops(const Config *c) {
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
    *med = sort_median(t, o->reps);
    *min = t[0];
    free(t);
    return 0;
}

int run_child(const Config *c, const Options *o) {
    if (tensor_set_num_threads(o->common.threads) != 0) return APP_EXIT_USAGE;
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
        app_json_int(&j, "threads", o->common.threads);
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
