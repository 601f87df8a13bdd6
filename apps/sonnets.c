/* sonnets: a character-level LSTM trained on Shakespeare's sonnets, the model of the
 * sonnets notebook, written only against nn/nn.h. Trains (or loads) a model, reports
 * the held-out loss per character, and writes a sample generated one character at a
 * time with carried LSTM state. `sonnets --help` lists the options. */
#include "nn/nn.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef LAMINA_DEFAULT_DATA_DIR
#define LAMINA_DEFAULT_DATA_DIR "data"
#endif

typedef struct Options {
    const char *data_dir, *data_file, *model, *save, *load, *prime;
    int epochs, threads, sample, window;
    int64_t batch_size, max_steps;
    float lr, temperature;
    uint64_t seed;
    bool summary, quiet, json;
} Options;

static void usage(FILE *out) {
    fprintf(out,
            "Usage: sonnets [OPTIONS]\n"
            "Train a character LSTM on Shakespeare's sonnets and write a sample.\n\n"
            "  --model NAME        char-many-to-many (default) or char-many-to-one\n"
            "  --data DIR          corpus directory (default: $DATA_DIR, else the repository's data/)\n"
            "  --data-file FILE    corpus file name inside DIR (default sonnets.txt)\n"
            "  --epochs N          passes over the training windows (default 1)\n"
            "  --max-steps N       stop after N optimizer steps (quick runs)\n"
            "  --batch-size N      windows per step (default 128)\n"
            "  --lr X              Adam learning rate (default 0.001)\n"
            "  --seed N            seed for initial weights, shuffling and sampling (default 0)\n"
            "  --threads N         kernel threads (default: all cores)\n"
            "  --save FILE         write the trained weights to FILE\n"
            "  --load FILE         skip training and use weights from FILE\n"
            "  --summary           print the model table and exit\n"
            "  --sample N          characters to generate (default 100; 0 for none)\n"
            "  --temperature T     sampling temperature (default 1.0)\n"
            "  --prime TEXT        text to start the sample from (default: a random window)\n"
            "  --quiet             no progress display\n"
            "  --json              end stdout with one JSON line of final metrics\n"
            "  --help              this text\n\n"
            "Exit status: 0 on success, 1 when training or I/O fails, 2 for bad options or a missing corpus.\n");
}

static int bad_value(const char *flag, const char *value) {
    fprintf(stderr, "sonnets: invalid value '%s' for %s (see --help)\n", value, flag);
    return 2;
}

static bool parse_long(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, float lo, float hi, float *out) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

/* Returns 0, or the exit status for a bad command line. */
static int parse_options(int argc, char **argv, Options *o) {
    enum { O_MODEL = 256, O_DATA, O_DATA_FILE, O_EPOCHS, O_MAX_STEPS, O_BATCH, O_LR, O_SEED, O_THREADS,
           O_SAVE, O_LOAD, O_SUMMARY, O_SAMPLE, O_TEMP, O_PRIME, O_QUIET, O_JSON, O_HELP };
    static const struct option longopts[] = {
        {"model", required_argument, 0, O_MODEL},       {"data", required_argument, 0, O_DATA},
        {"data-file", required_argument, 0, O_DATA_FILE}, {"epochs", required_argument, 0, O_EPOCHS},
        {"max-steps", required_argument, 0, O_MAX_STEPS}, {"batch-size", required_argument, 0, O_BATCH},
        {"lr", required_argument, 0, O_LR},             {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, O_THREADS},   {"save", required_argument, 0, O_SAVE},
        {"load", required_argument, 0, O_LOAD},         {"summary", no_argument, 0, O_SUMMARY},
        {"sample", required_argument, 0, O_SAMPLE},     {"temperature", required_argument, 0, O_TEMP},
        {"prime", required_argument, 0, O_PRIME},       {"quiet", no_argument, 0, O_QUIET},
        {"json", no_argument, 0, O_JSON},               {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0}};
    *o = (Options){.data_file = "sonnets.txt", .model = "char-many-to-many", .epochs = 1, .batch_size = 128,
                   .lr = 1e-3f, .sample = 100, .temperature = 1.0f, .window = 40};
    o->data_dir = getenv("DATA_DIR") && *getenv("DATA_DIR") ? getenv("DATA_DIR") : LAMINA_DEFAULT_DATA_DIR;
    opterr = 0;
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_DATA: o->data_dir = optarg; break;
        case O_DATA_FILE: o->data_file = optarg; break;
        case O_EPOCHS: if (!parse_long(optarg, 1, 1000000, &v)) return bad_value("--epochs", optarg); o->epochs = (int)v; break;
        case O_MAX_STEPS: if (!parse_long(optarg, 1, INT64_MAX, &v)) return bad_value("--max-steps", optarg); o->max_steps = v; break;
        case O_BATCH: if (!parse_long(optarg, 1, 1 << 20, &v)) return bad_value("--batch-size", optarg); o->batch_size = v; break;
        case O_LR: if (!parse_float(optarg, 1e-9f, 10.0f, &o->lr)) return bad_value("--lr", optarg); break;
        case O_SEED: if (!parse_long(optarg, 0, INT64_MAX, &v)) return bad_value("--seed", optarg); o->seed = (uint64_t)v; break;
        case O_THREADS: if (!parse_long(optarg, 1, 1024, &v)) return bad_value("--threads", optarg); o->threads = (int)v; break;
        case O_SAVE: o->save = optarg; break;
        case O_LOAD: o->load = optarg; break;
        case O_SUMMARY: o->summary = true; break;
        case O_SAMPLE: if (!parse_long(optarg, 0, 1000000, &v)) return bad_value("--sample", optarg); o->sample = (int)v; break;
        case O_TEMP: if (!parse_float(optarg, 1e-3f, 100.0f, &o->temperature)) return bad_value("--temperature", optarg); break;
        case O_PRIME: o->prime = optarg; break;
        case O_QUIET: o->quiet = true; break;
        case O_JSON: o->json = true; break;
        case O_HELP: usage(stdout); exit(0);
        default:
            fprintf(stderr, "sonnets: unknown or incomplete option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sonnets: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (strcmp(o->model, "char-many-to-many") != 0 && strcmp(o->model, "char-many-to-one") != 0)
        return bad_value("--model", o->model);
    return 0;
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A JSON number, or null for NaN and infinities (which JSON cannot hold). */
static void json_number(FILE *out, const char *key, double v, bool last) {
    if (isfinite(v))
        fprintf(out, "\"%s\":%.6g%s", key, v, last ? "" : ",");
    else
        fprintf(out, "\"%s\":null%s", key, last ? "" : ",");
}

static bool many_to_many(const Options *o) { return strcmp(o->model, "char-many-to-many") == 0; }

static Model *make_model(const Options *o) {
    Model *m = nn_sequential();
    nn_model_seed(m, o->seed);
    nn_add(m, nn_embedding(.vocab = NN_CHAR27_SIZE, .dim = 64));
    if (many_to_many(o)) {
        nn_add(m, nn_lstm(.units = 256, .return_sequences = true));
        nn_add(m, nn_time_distributed(nn_dense(.units = NN_CHAR27_SIZE, .activation = NN_SOFTMAX)));
    } else {
        nn_add(m, nn_lstm(.units = 64));
        nn_add(m, nn_dense(.units = NN_CHAR27_SIZE, .activation = NN_SOFTMAX));
    }
    /* The time axis is left unknown (None), so generation can step one symbol at a time. */
    if (nn_build(m, NN_SHAPE(TENSOR_I32, -1)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = o->lr)) != 0) {
        fprintf(stderr, "sonnets: cannot build the model: %s\n", tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* Windows of the symbol stream: training every position, validation every window. */
static int make_windows(const Options *o, const int32_t *ids, int64_t n, int64_t stride, Tensor **x, Tensor **y) {
    if (many_to_many(o)) return nn_windows_shifted(ids, n, o->window, stride, x, y);
    return nn_windows_next(ids, n, o->window, stride, x, y);
}

/* Generates n symbols after the prime, one at a time, carrying the LSTM state, so
 * each symbol costs one step whatever the length so far. */
static void write_sample(Model *m, const int32_t *prime, int64_t n_prime, int n, float temperature, Rng *rng,
                         FILE *out) {
    Tape *tape = nn_model_tape(m);
    bool previous = ag_set_grad_enabled(tape, false);
    Layer *embedding = nn_model_layer(m, 0), *lstm = nn_model_layer(m, 1), *head = nn_model_layer(m, 2);
    NnCallCtx ctx = {.training = false};
    Tensor *h = NULL, *c = NULL; /* carried state, on the heap between steps */
    for (int64_t i = 0; i < n_prime; i++) fputc(nn_char27_decode(prime[i]), out);
    fputs("|", out);
    Tensor *input = tensor_i32_from_array(NULL, TENSOR_SHAPE(1, n_prime), prime);
    for (int k = 0; k < n; k++) {
        ag_tape_reset(tape);
        NnRnnState initial = {.h = h, .c = c}, final;
        Tensor *out_seq = nn_rnn_call(lstm, tape, nn_layer_call(embedding, tape, input, &ctx), &initial, &final, &ctx);
        Tensor *probs = nn_layer_call(head, tape, out_seq, &ctx);
        const float *last = tensor_f32(probs) + probs->size - NN_CHAR27_SIZE;
        int32_t next = (int32_t)nn_sample(last, NN_CHAR27_SIZE, temperature, 0, rng);
        fputc(nn_char27_decode(next), out);
        tensor_free(h);
        tensor_free(c);
        h = tensor_copy(NULL, final.h);
        c = tensor_copy(NULL, final.c);
        tensor_free(input);
        input = tensor_i32_from_array(NULL, TENSOR_SHAPE(1, 1), &next);
    }
    fputc('\n', out);
    tensor_free(input);
    tensor_free(h);
    tensor_free(c);
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, previous);
}

typedef struct SampleState {
    const Options *o;
    const int32_t *ids;
    int64_t n;
    Rng rng;
} SampleState;

static void sample_now(Model *m, SampleState *s) {
    const Options *o = s->o;
    if (o->sample <= 0) return;
    if (o->prime) {
        int64_t n_prime;
        int32_t *prime = nn_char27_encode(o->prime, (int64_t)strlen(o->prime), &n_prime);
        if (prime && n_prime > 0) write_sample(m, prime, n_prime, o->sample, o->temperature, &s->rng, stdout);
        free(prime);
        return;
    }
    int64_t start = (int64_t)tensor_rng_below(&s->rng, (uint32_t)(s->n - o->window));
    write_sample(m, s->ids + start, o->window, o->sample, o->temperature, &s->rng, stdout);
}

static int sample_after_epoch(Model *m, const NnEpochLogs *logs, void *user) {
    SampleState *s = user;
    if (logs->epoch < logs->epochs) {
        printf("sample after epoch %d: ", logs->epoch);
        sample_now(m, s);
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    Options o;
    int rc = parse_options(argc, argv, &o);
    if (rc) return rc;
    if (o.threads) tensor_set_num_threads(o.threads);

    Model *m = make_model(&o);
    if (!m) return 1;
    if (o.summary) {
        nn_summary(m, stdout);
        nn_model_free(m);
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o.data_dir, o.data_file);
    int64_t len;
    char *text = nn_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "sonnets: cannot read the corpus: %s\n"
                        "  Run scripts/get-data.sh to fill data/, or pass --data DIR.\n", tensor_last_error());
        nn_model_free(m);
        return 2;
    }
    int64_t n;
    int32_t *ids = nn_char27_encode(text, len, &n);
    free(text);
    int64_t n_train = (int64_t)((double)n * 0.9);
    Tensor *x = NULL, *y = NULL, *vx = NULL, *vy = NULL;
    if (!ids || make_windows(&o, ids, n_train, 1, &x, &y) != 0 ||
        make_windows(&o, ids + n_train, n - n_train, o.window, &vx, &vy) != 0) {
        fprintf(stderr, "sonnets: %s is too short for windows of %d characters: %s\n", path, o.window,
                tensor_last_error());
        free(ids);
        nn_model_free(m);
        return 2;
    }
    SampleState sampler = {.o = &o, .ids = ids, .n = n};
    tensor_rng_seed(&sampler.rng, o.seed, 0x73616d70);
    int status = 0;
    double loss = NAN, val_loss = NAN, tokens_per_s = NAN;
    if (o.load) {
        if (nn_load_weights(m, o.load) != 0) {
            fprintf(stderr, "sonnets: cannot load weights: %s\n", tensor_last_error());
            status = 1;
            goto done;
        }
        nn_evaluate(m, vx, vy, o.batch_size, &val_loss, NULL);
    } else {
        NnCallback cb = {.on_epoch_end = sample_after_epoch, .user = &sampler};
        double started = seconds_now();
        NnHistory *h = nn_fit(m, x, y, .batch_size = o.batch_size, .epochs = o.epochs, .seed = o.seed,
                              .val_x = vx, .val_y = vy, .quiet = o.quiet, .max_steps = o.max_steps,
                              .callbacks = &cb, .n_callbacks = 1);
        if (!h) {
            fprintf(stderr, "sonnets: training failed: %s\n", tensor_last_error());
            status = 1;
            goto done;
        }
        double elapsed = seconds_now() - started;
        int64_t tokens = nn_model_steps(m) * o.batch_size * o.window;
        if (elapsed > 0) tokens_per_s = (double)tokens / elapsed;
        loss = h->loss[h->epochs - 1];
        val_loss = h->val_loss[h->epochs - 1];
        nn_history_free(h);
    }
    printf("val_loss per character: %.4f\n", val_loss);
    printf("sample: ");
    sample_now(m, &sampler);
    if (o.save && nn_save_weights(m, o.save, false) != 0) {
        fprintf(stderr, "sonnets: cannot save weights: %s\n", tensor_last_error());
        status = 1;
    }
    if (o.json) {
        printf("{\"model\":\"%s\",\"steps\":%lld,", o.model, (long long)nn_model_steps(m));
        json_number(stdout, "loss", loss, false);
        json_number(stdout, "val_loss", val_loss, false);
        json_number(stdout, "tokens_per_s", tokens_per_s, true);
        printf("}\n");
    }
done:
    free(ids);
    tensor_free(x);
    tensor_free(y);
    tensor_free(vx);
    tensor_free(vy);
    nn_model_free(m);
    return status;
}
