/* sherlock: the next-word model of the Sherlock Holmes notebook, written only against
 * the nn API. Three words in, the fourth out: Embedding(V+1, 10) → LSTM(1000,
 * sequences) → LSTM(1000) → Dense(1000, relu) → Dense(V+1, softmax). Trains (or
 * loads) it, reports held-out loss and top-1 / top-5 accuracy, and predicts the next
 * words of a phrase. `sherlock --help` lists the options. */
#include <lamina/nn/nn.h>

#include "common/app.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "sherlock"
#define CONTEXT 3 /* words in, predicting the next */

typedef struct Options {
    const char *data_dir, *data_file, *save, *load, *plot, *predict, *resume;
    int64_t epochs, max_steps, batch_size, seed, threads, units, embed, top_k, checkpoint_every;
    double lr;
    bool units_set, embed_set, summary, quiet, json, interactive, checkpoint_in_epochs, check_numerics;
} Options;

/* Where a signal's checkpoint goes when neither --save nor --resume names a file. */
#define DEFAULT_CHECKPOINT "./" APP ".checkpoint"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: sherlock [OPTIONS]\n"
            "Train the Sherlock Holmes next-word model (3 words in, the next out) and report held-out\n"
            "loss and top-1 / top-5 accuracy; or load a trained one and predict the next words.\n\n"
            "Pipeline: sherlock.txt's lines joined, whitespace collapsed, Keras Tokenizer words (about 8,640),\n"
            "every 4 consecutive words a window (3 context + next); the last 10%% of the windows validate.\n"
            "Model: Embedding(V+1, E) -> LSTM(U, sequences) -> LSTM(U) -> Dense(U, relu) -> Dense(V+1, softmax),\n"
            "sparse cross-entropy, Adam. The full model (U=1000, E=10) has 21.8M parameters and needs ~0.5 GB;\n"
            "one epoch is 1,519 steps of 64: about 7 minutes on 2 cores (229 windows/s on a shared 2-core\n"
            "AVX-512 machine; --max-steps 50 shows your rate and ETA). --units 256 runs ~4x faster,\n"
            "--units 64 ~30x.\n\n"
            "  --data DIR          corpus directory (default: $DATA_DIR, else the repository's data/)\n"
            "  --data-file FILE    corpus file inside DIR (default sherlock.txt)\n"
            "  --units U           LSTM and hidden Dense width (default 1000)\n"
            "  --embed E           embedding width (default 10)\n"
            "  --epochs N          passes over the training windows (default 1)\n"
            "  --max-steps N       stop after N optimizer steps (quick runs; default: no limit)\n"
            "  --batch-size N      windows per step (default 64)\n"
            "  --lr X              Adam learning rate (default 0.001)\n"
            "  --seed N            seed for initial weights and shuffling (default 0)\n"
            "  --threads N         kernel threads (default: all cores)\n"
            "  --save FILE         write the model to FILE (weights, optimizer and training state, so\n"
            "                      --resume FILE can continue it) and the vocabulary to FILE.vocab\n"
            "  --checkpoint-every N  also write that checkpoint every N optimizer steps, or every N epochs\n"
            "                      with a trailing e (500, 1e); to the --save FILE, else the --resume FILE,\n"
            "                      else " DEFAULT_CHECKPOINT "\n"
            "  --resume FILE       continue the run checkpointed in FILE (give the same options; --max-steps\n"
            "                      and --epochs count from the run's start): it ends with the same weights,\n"
            "                      bit for bit, as an uninterrupted run with the same --threads. Later\n"
            "                      checkpoints go to --save FILE if given, else back to FILE\n"
            "  --check-numerics    debug mode: check every op's output for NaN and infinities, so a failing\n"
            "                      step names the op where one first appeared (slower)\n"
            "  --load FILE         skip training: use FILE's weights and FILE.vocab's vocabulary (which also\n"
            "                      restores --units/--embed; without FILE.vocab the vocabulary is rebuilt\n"
            "                      from the corpus, which is deterministic)\n"
            "  --predict PHRASE    print the most likely next words after PHRASE's last 3 known words\n"
            "  --top-k K           how many next words --predict prints (default 5)\n"
            "  --interactive       read phrases line by line from stdin (the default with --load and no\n"
            "                      --predict when stdin is a terminal)\n"
            "  --summary           print the model table and exit\n"
            "  --plot FILE.svg     draw the training loss (and val_loss after each epoch)\n"
            "  --quiet             no progress display\n"
            "  --json              end stdout with one JSON line: vocab, windows, params, steps, loss,\n"
            "                      val_loss, top1, top5, samples_per_s, tokens_per_s (= samples_per_s: one\n"
            "                      predicted word per window), seconds; with --predict also context,\n"
            "                      next_1, p_1, ... next_K, p_K\n"
            "  --version           print the version and exit\n"
            "  --help              this text\n\n"
            "With --load and neither --predict nor --interactive, the loaded model is evaluated on the\n"
            "validation windows. Unknown words of a phrase are reported and left out (as Keras's\n"
            "texts_to_sequences does); a phrase needs 3 known words.\n\n"
            "Ctrl-C (SIGINT) or SIGTERM during training finishes the current step, writes the checkpoint\n"
            "(to --save FILE, else --resume FILE, else " DEFAULT_CHECKPOINT "), prints the command that\n"
            "resumes it and exits 130 (SIGINT) or 143 (SIGTERM); a second Ctrl-C stops at once. A NaN or\n"
            "infinite loss or gradient stops training naming the step and the parameter (with\n"
            "--check-numerics, the op); the last checkpoint written is kept, never overwritten by it.\n"
            "After --resume, --plot draws the resumed steps.\n\n"
            "Exit status: 0 on success, 1 when training, loading or I/O fails, 2 for bad options (including\n"
            "a model too large for this machine's memory), a missing corpus, an unusable --resume file or\n"
            "a phrase with fewer than 3 known words, 130 / 143 when stopped by SIGINT / SIGTERM.\n");
}

static int parse_options(int argc, char **argv, Options *o) {
    enum { O_DATA = 256, O_DATA_FILE, O_UNITS, O_EMBED, O_EPOCHS, O_MAX_STEPS, O_BATCH, O_LR, O_SEED, O_THREADS,
           O_SAVE, O_LOAD, O_PREDICT, O_TOP_K, O_INTERACTIVE, O_SUMMARY, O_PLOT, O_QUIET, O_JSON, O_VERSION, O_HELP,
           O_CHECKPOINT_EVERY, O_RESUME, O_CHECK_NUMERICS };
    static const struct option longopts[] = {
        {"data", required_argument, 0, O_DATA},         {"data-file", required_argument, 0, O_DATA_FILE},
        {"units", required_argument, 0, O_UNITS},       {"embed", required_argument, 0, O_EMBED},
        {"epochs", required_argument, 0, O_EPOCHS},     {"max-steps", required_argument, 0, O_MAX_STEPS},
        {"batch-size", required_argument, 0, O_BATCH},  {"lr", required_argument, 0, O_LR},
        {"seed", required_argument, 0, O_SEED},         {"threads", required_argument, 0, O_THREADS},
        {"save", required_argument, 0, O_SAVE},         {"load", required_argument, 0, O_LOAD},
        {"predict", required_argument, 0, O_PREDICT},   {"top-k", required_argument, 0, O_TOP_K},
        {"interactive", no_argument, 0, O_INTERACTIVE}, {"summary", no_argument, 0, O_SUMMARY},
        {"plot", required_argument, 0, O_PLOT},         {"quiet", no_argument, 0, O_QUIET},
        {"json", no_argument, 0, O_JSON},               {"version", no_argument, 0, O_VERSION},
        {"help", no_argument, 0, O_HELP},               {"checkpoint-every", required_argument, 0, O_CHECKPOINT_EVERY},
        {"resume", required_argument, 0, O_RESUME},     {"check-numerics", no_argument, 0, O_CHECK_NUMERICS},
        {0, 0, 0, 0}};
    *o = (Options){.data_file = "sherlock.txt", .epochs = 1, .batch_size = 64, .lr = 1e-3, .units = 1000,
                   .embed = 10, .top_k = 5};
    opterr = 0;
    int c;
    bool ok = true;
    while (ok && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_DATA: o->data_dir = optarg; break;
        case O_DATA_FILE: o->data_file = optarg; break;
        case O_UNITS: ok = app_parse_int(APP, "--units", optarg, 1, 1 << 20, &o->units), o->units_set = true; break;
        case O_EMBED: ok = app_parse_int(APP, "--embed", optarg, 1, 1 << 20, &o->embed), o->embed_set = true; break;
        case O_EPOCHS: ok = app_parse_int(APP, "--epochs", optarg, 1, 100000, &o->epochs); break;
        case O_MAX_STEPS: ok = app_parse_int(APP, "--max-steps", optarg, 1, INT64_MAX, &o->max_steps); break;
        case O_BATCH: ok = app_parse_int(APP, "--batch-size", optarg, 1, 1 << 16, &o->batch_size); break;
        case O_LR: ok = app_parse_float(APP, "--lr", optarg, 1e-9, 10, &o->lr); break;
        case O_SEED: ok = app_parse_int(APP, "--seed", optarg, 0, INT64_MAX, &o->seed); break;
        case O_THREADS: ok = app_parse_int(APP, "--threads", optarg, 1, 1024, &o->threads); break;
        case O_SAVE: o->save = optarg; break;
        case O_LOAD: o->load = optarg; break;
        case O_PREDICT: o->predict = optarg; break;
        case O_TOP_K: ok = app_parse_int(APP, "--top-k", optarg, 1, 1000000, &o->top_k); break;
        case O_INTERACTIVE: o->interactive = true; break;
        case O_SUMMARY: o->summary = true; break;
        case O_PLOT: o->plot = optarg; break;
        case O_QUIET: o->quiet = true; break;
        case O_JSON: o->json = true; break;
        case O_VERSION: printf("lamina %s\n", LAMINA_VERSION); exit(APP_EXIT_OK);
        case O_HELP: usage(stdout); exit(APP_EXIT_OK);
        case O_CHECKPOINT_EVERY:
            ok = app_parse_checkpoint_every(APP, optarg, &o->checkpoint_every, &o->checkpoint_in_epochs);
            break;
        case O_RESUME: o->resume = optarg; break;
        case O_CHECK_NUMERICS: o->check_numerics = true; break;
        default:
            fprintf(stderr, "%s: unknown option or missing value: '%s' (see --help)\n", APP, argv[optind - 1]);
            return APP_EXIT_USAGE;
        }
    }
    if (!ok) return APP_EXIT_USAGE;
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", APP, argv[optind]);
        return APP_EXIT_USAGE;
    }
    if (o->resume && o->load) {
        fprintf(stderr, "%s: --resume continues training and --load skips it: give one of them\n", APP);
        return APP_EXIT_USAGE;
    }
    return 0;
}

/* Refuses a model this machine cannot train (exit status, or 0), before anything is
 * allocated: four floats per parameter (value, gradient, Adam's two moments) and a
 * step's activations (about 16 floats per LSTM unit per word, 4 per class). */
static int check_memory(const Options *o, int64_t classes) {
    double v = (double)classes, e = (double)o->embed, u = (double)o->units, batch = (double)o->batch_size;
    double params = v * e + 4 * u * (e + u + 1) + 4 * u * (2 * u + 1) + u * u + u + u * v + v;
    double bytes = 16 * params + batch * (CONTEXT * (32 * u + 2 * e) + 2 * u + 4 * v) * sizeof(float);
    char what[128], detail[96];
    snprintf(what, sizeof what, "training --units %lld --embed %lld --batch-size %lld", (long long)o->units,
             (long long)o->embed, (long long)o->batch_size);
    snprintf(detail, sizeof detail, "%.0f parameters and one step's activations", params);
    return app_fits_in_memory(APP, what, detail, bytes) ? 0 : APP_EXIT_USAGE;
}

static Model *make_model(const Options *o, int64_t classes) {
    Model *m = nn_sequential();
    nn_model_seed(m, (uint64_t)o->seed);
    nn_add(m, nn_embedding(.vocab = classes, .dim = o->embed));
    nn_add(m, nn_lstm(.units = o->units, .return_sequences = true));
    nn_add(m, nn_lstm(.units = o->units));
    nn_add(m, nn_dense(.units = o->units, .activation = NN_RELU));
    nn_add(m, nn_dense(.units = classes, .activation = NN_SOFTMAX));
    if (nn_build(m, NN_SHAPE(TENSOR_I32, CONTEXT)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = (float)o->lr)) != 0) {
        fprintf(stderr, "%s: cannot build the model: %s\n", APP, tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* Rows [start, start + count) of a 1-D or 2-D int32 tensor, as a heap header over its data. */
static Tensor *rows(const Tensor *t, int64_t start, int64_t count) {
    int64_t shape[2] = {count, t->ndim > 1 ? t->shape[1] : 0};
    int64_t width = t->ndim > 1 ? t->shape[1] : 1;
    return tensor_view(NULL, TENSOR_I32, tensor_i32(t) + start * width, NULL, t->ndim, shape);
}

typedef struct Metrics {
    double loss, val_loss, top1, top5, samples_per_s, seconds;
    int64_t steps;
} Metrics;

/* Mean loss and top-1 / top-5 accuracy over the validation windows. */
static int evaluate(Model *m, const Tensor *vx, const Tensor *vy, Metrics *r) {
    double acc[2];
    if (nn_evaluate_topk(m, vx, vy, 256, 2, (const int64_t[]){1, 5}, &r->val_loss, acc) != 0) return -1;
    r->top1 = acc[0];
    r->top5 = acc[1];
    return 0;
}

static void format_duration(double s, char *buf, size_t len) {
    if (!(s >= 0) || s > 1e7) snprintf(buf, len, "?");
    else if (s >= 3600) snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60) snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, len, "%.0fs", s);
}

/* The loss curve for --plot: the mean training loss per block of steps, and val_loss
 * after each epoch, drawn at the block holding the epoch's last step. */
typedef struct Curve {
    int64_t block, n, in_block, n_val;
    double *loss, sum;
    int64_t val_step[64];
    double val[64];
} Curve;

static void curve_add(Curve *c, double loss, bool flush) {
    if (!flush) c->sum += loss, c->in_block++;
    if (c->in_block == 0 || (!flush && c->in_block < c->block)) return;
    double *grown = realloc(c->loss, (size_t)(c->n + 1) * sizeof *grown);
    if (!grown) abort();
    c->loss = grown;
    c->loss[c->n++] = c->sum / (double)c->in_block;
    c->sum = 0;
    c->in_block = 0;
}

static int write_plot(const char *path, Curve *c) {
    curve_add(c, 0, true);
    double *val = malloc((size_t)(c->n ? c->n : 1) * sizeof *val);
    if (!val) abort();
    for (int64_t i = 0; i < c->n; i++) val[i] = NAN;
    for (int64_t e = 0; e < c->n_val; e++) {
        int64_t i = (c->val_step[e] - 1) / c->block;
        val[i < c->n ? i : c->n - 1] = c->val[e];
    }
    char xlabel[64];
    snprintf(xlabel, sizeof xlabel, c->block > 1 ? "steps (x%lld)" : "steps", (long long)c->block);
    const char *names[] = {"loss", "val_loss"};
    const double *ys[] = {c->loss, val};
    const int64_t lens[] = {c->n, c->n};
    int rc = nn_plot_curves_svg(path, "sherlock: next-word loss", xlabel, "cross-entropy", 2, names, ys, lens);
    free(val);
    return rc;
}

/* The state the fit callbacks share: progress, the loss curve and the metrics. */
typedef struct Trainer {
    const Options *o;
    const Tensor *vx, *vy;
    Metrics *r;
    Curve *curve;
    bool tty;
    int64_t total;                    /* steps the run takes, from its start */
    int64_t epoch, every, steps_here; /* the epoch shown; a plain line every `every` steps */
    int64_t samples, epoch_samples;   /* windows trained on in this process / this epoch */
    double epoch_clock, last_draw, train_time; /* train_time leaves evaluation out */
    int status;                       /* set when an evaluation fails */
} Trainer;

static int on_batch_end(Model *m, const NnBatchLogs *l, void *user) {
    (void)m;
    Trainer *t = user;
    if (l->epoch != t->epoch) { /* the first step of an epoch in this process */
        t->epoch = l->epoch;
        t->epoch_samples = 0;
        t->last_draw = 0;
        t->every = l->epoch_steps / 10 > 1 ? l->epoch_steps / 10 : 1;
    }
    t->steps_here++;
    t->samples += l->samples;
    t->epoch_samples += l->samples;
    curve_add(t->curve, l->loss, false);
    double now = tensor_seconds(), trained = t->train_time + (now - t->epoch_clock);
    bool last = l->step == l->epoch_steps;
    if (t->o->quiet || (t->tty ? !last && now - t->last_draw < 0.1 : !last && l->step % t->every != 0)) return 0;
    t->last_draw = now;
    char eta[32];
    format_duration((double)(t->total - l->steps) * trained / (double)t->steps_here, eta, sizeof eta);
    fprintf(stderr, "%sepoch %d/%lld  step %lld/%lld  loss %.4f  %.0f samples/s  ETA %s%s", t->tty ? "\r" : "",
            l->epoch, (long long)t->o->epochs, (long long)l->step, (long long)l->epoch_steps, l->mean_loss,
            (double)t->epoch_samples / (now - t->epoch_clock), eta, t->tty ? "\033[K" : "\n");
    return 0;
}

/* Evaluates after every epoch (and where --max-steps stops); an evaluation that
 * fails stops training. */
static int on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    Trainer *t = user;
    t->train_time += tensor_seconds() - t->epoch_clock;
    Metrics *r = t->r;
    r->loss = logs->loss;
    r->steps = logs->steps;
    if (evaluate(m, t->vx, t->vy, r) != 0) {
        fprintf(stderr, "%s%s: evaluation failed: %s\n", t->tty && !t->o->quiet ? "\n" : "", APP, tensor_last_error());
        t->status = APP_EXIT_FAILURE;
        return 1;
    }
    if (t->curve->n_val < 64) {
        t->curve->val_step[t->curve->n_val] = t->steps_here;
        t->curve->val[t->curve->n_val++] = r->val_loss;
    }
    if (!t->o->quiet)
        fprintf(stderr, "%sepoch %d/%lld: loss %.4f  val_loss %.4f  top1 %.4f  top5 %.4f%s\n", t->tty ? "\r" : "",
                logs->epoch, (long long)t->o->epochs, r->loss, r->val_loss, r->top1, r->top5, t->tty ? "\033[K" : "");
    t->epoch_clock = tensor_seconds();
    return 0;
}

/* The checkpoint file: --save, else --resume's file, else the default when
 * --checkpoint-every asks for one; NULL when none is wanted. */
static const char *checkpoint_path(const Options *o) {
    if (o->save) return o->save;
    if (o->resume) return o->resume;
    return o->checkpoint_every ? DEFAULT_CHECKPOINT : NULL;
}

/* Trains on the first n_train windows through nn_fit (shuffled batches, checkpoints,
 * --resume, signals), evaluating after every epoch. Returns 0, or the exit status. */
static int train(Model *m, const Options *o, int argc, char **argv, const Tensor *x, const Tensor *y,
                 int64_t n_train, const Tensor *vx, const Tensor *vy, Metrics *r, Curve *curve) {
    int64_t batch = o->batch_size, per_epoch = (n_train + batch - 1) / batch;
    Trainer t = {.o = o, .vx = vx, .vy = vy, .r = r, .curve = curve, .tty = isatty(STDERR_FILENO),
                 .total = o->epochs * per_epoch};
    if (o->max_steps && o->max_steps < t.total) t.total = o->max_steps;
    curve->block = t.total / 200 > 1 ? t.total / 200 : 1;
    const char *ckpt = checkpoint_path(o);
    if (ckpt && !o->save && !o->resume && !o->quiet)
        fprintf(stderr, "%s: checkpoints go to %s (no --save FILE given)\n", APP, ckpt);
    Tensor *tx = rows(x, 0, n_train), *ty = rows(y, 0, n_train);
    NnCallback callbacks = {.on_epoch_end = on_epoch_end, .on_batch_end = on_batch_end, .user = &t};
    double started = t.epoch_clock = tensor_seconds();
    NnHistory *h = nn_fit(m, tx, ty, .batch_size = batch, .epochs = (int)o->epochs, .seed = (uint64_t)o->seed,
                          .quiet = true, .max_steps = o->max_steps, .callbacks = &callbacks, .n_callbacks = 1,
                          .checkpoint_path = ckpt,
                          .checkpoint_every = o->checkpoint_in_epochs ? o->checkpoint_every * per_epoch
                                                                      : o->checkpoint_every,
                          .resume_path = o->resume, .handle_signals = true,
                          .signal_checkpoint_path = DEFAULT_CHECKPOINT);
    tensor_free(tx);
    tensor_free(ty);
    int status = t.status;
    if (!h) {
        /* A resumed model has taken steps: none means the checkpoint was refused. */
        bool refused = o->resume && nn_model_steps(m) == 0;
        fprintf(stderr, "%s%s: %s: %s\n", t.tty && !o->quiet && t.steps_here ? "\n" : "", APP,
                refused ? "cannot resume" : "training failed", tensor_last_error());
        return refused ? APP_EXIT_USAGE : APP_EXIT_FAILURE;
    }
    if (h->signal) {
        if (t.tty && !o->quiet) fputc('\n', stderr);
        status = app_report_interrupted(APP, h->signal, nn_model_steps(m), ckpt ? ckpt : DEFAULT_CHECKPOINT,
                                           argc, argv);
    } else if (status == 0 && isnan(r->val_loss)) { /* a resumed run that had already finished */
        r->steps = nn_model_steps(m);
        if (h->epochs > 0) r->loss = h->loss[h->epochs - 1];
        if (evaluate(m, vx, vy, r) != 0) {
            fprintf(stderr, "%s: evaluation failed: %s\n", APP, tensor_last_error());
            status = APP_EXIT_FAILURE;
        }
    }
    nn_history_free(h);
    r->seconds = tensor_seconds() - started;
    r->samples_per_s = t.train_time > 0 ? (double)t.samples / t.train_time : NAN;
    return status;
}

/* The ids of a phrase's known words; unknown ones are reported on stderr and left out. */
static int32_t *phrase_ids(const NnTokenizer *tok, const char *phrase, int64_t *n) {
    int64_t len, n_words;
    char *text = nn_text_join_lines(phrase, (int64_t)strlen(phrase), &len);
    char **words = nn_text_split_words(text, len, NULL, &n_words);
    int32_t *ids = malloc((size_t)(n_words + 1) * sizeof *ids);
    if (!ids) abort();
    *n = 0;
    for (int64_t i = 0; i < n_words; i++) {
        int32_t id = nn_tokenizer_index(tok, words[i]);
        if (id > 0)
            ids[(*n)++] = id;
        else
            fprintf(stderr, "%s: unknown word '%s' (left out)\n", APP, words[i]);
    }
    nn_text_words_free(words, n_words);
    free(text);
    return ids;
}

/* The last prediction, for the JSON line. */
typedef struct Prediction {
    char context[1024];
    int64_t k;
    const char *words[16];
    double p[16];
} Prediction;

/* Prints the top_k most likely next words after a phrase's last 3 known words (and
 * keeps the first 16 in *last when it is not NULL). Returns 0, or APP_EXIT_USAGE for a
 * phrase with fewer than 3 known words, APP_EXIT_FAILURE if the model fails. */
static int predict(Model *m, const NnTokenizer *tok, const char *phrase, int64_t top_k, Prediction *last) {
    int64_t n;
    int32_t *ids = phrase_ids(tok, phrase, &n);
    if (n < CONTEXT) {
        fprintf(stderr, "%s: \"%s\" has %lld known word%s; the model reads the last %d known words of a phrase\n",
                APP, phrase, (long long)n, n == 1 ? "" : "s", CONTEXT);
        free(ids);
        return APP_EXIT_USAGE;
    }
    Tensor *x = tensor_i32_from_array(NULL, TENSOR_SHAPE(1, CONTEXT), ids + n - CONTEXT);
    Tensor *probs = nn_predict(m, x, 1);
    char context[1024] = "";
    for (int i = 0; i < CONTEXT; i++) {
        size_t used = strlen(context);
        snprintf(context + used, sizeof context - used, "%s%s", i ? " " : "",
                 nn_tokenizer_word(tok, ids[n - CONTEXT + i]));
    }
    free(ids);
    tensor_free(x);
    if (!probs) {
        fprintf(stderr, "%s: prediction failed: %s\n", APP, tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    /* Index 0 is padding, never a word: rank indices 1..V only. */
    const float *p = tensor_f32(probs);
    int64_t *best = malloc((size_t)top_k * sizeof *best);
    if (!best) abort();
    int64_t k = nn_topk_indices(p + 1, probs->shape[1] - 1, top_k, best);
    printf("after \"%s\":\n", context);
    if (last) {
        snprintf(last->context, sizeof last->context, "%s", context);
        last->k = k < 16 ? k : 16;
    }
    for (int64_t i = 0; i < k; i++) {
        const char *word = nn_tokenizer_word(tok, (int32_t)(best[i] + 1));
        int width = 0; /* characters, not bytes, so columns line up after “ or é */
        for (const char *c = word; *c; c++) width += ((unsigned char)*c & 0xC0) != 0x80;
        printf("  %s%*s %.4f\n", word, width < 20 ? 20 - width : 0, "", (double)p[best[i] + 1]);
        if (last && i < 16) last->words[i] = word, last->p[i] = p[best[i] + 1];
    }
    fflush(stdout);
    free(best);
    tensor_free(probs);
    return 0;
}

/* Reads phrases from stdin until end of input, predicting after each. */
static int interactive(Model *m, const NnTokenizer *tok, int64_t top_k) {
    bool tty = isatty(STDIN_FILENO);
    if (tty) fprintf(stderr, "Type a phrase (3 or more words) and press Enter; Ctrl-D ends.\n");
    char *line = NULL;
    size_t cap = 0;
    int status = 0;
    for (;;) {
        if (tty) fprintf(stderr, "> ");
        if (getline(&line, &cap, stdin) < 0) break;
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line) continue;
        int rc = predict(m, tok, line, top_k, NULL);
        if (rc == APP_EXIT_FAILURE) {
            status = rc;
            break;
        }
    }
    free(line);
    return status;
}

/* The vocabulary saved beside --load's weights, if there is one; it also restores
 * --units and --embed. Returns 0 (with *tok NULL when there is no file), or an exit status. */
static int load_vocab(Options *o, NnTokenizer **tok) {
    char path[4096], header[256];
    snprintf(path, sizeof path, "%s.vocab", o->load);
    *tok = NULL;
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "%s: no %s beside the weights: rebuilding the vocabulary from the corpus\n", APP, path);
        return 0;
    }
    *tok = nn_vocab_load(path, NULL, header, sizeof header);
    if (!*tok) {
        fprintf(stderr, "%s: cannot load the vocabulary: %s\n", APP, tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    long long units, embed;
    if (sscanf(header, "lamina sherlock units=%lld embed=%lld", &units, &embed) != 2 || units < 1 || embed < 1) {
        fprintf(stderr, "%s: %s is not a sherlock vocabulary (its header is '%s')\n", APP, path, header);
        return APP_EXIT_FAILURE;
    }
    if ((o->units_set && o->units != units) || (o->embed_set && o->embed != embed)) {
        fprintf(stderr, "%s: %s was trained with --units %lld --embed %lld\n", APP, o->load, units, embed);
        return APP_EXIT_USAGE;
    }
    o->units = units;
    o->embed = embed;
    return 0;
}

/* Writes the vocabulary to weights_path.vocab, with the sizes --load restores. */
static int save_vocab(const Options *o, const NnTokenizer *tok, const char *weights_path) {
    char path[4096], header[128];
    snprintf(path, sizeof path, "%s.vocab", weights_path);
    snprintf(header, sizeof header, "lamina sherlock units=%lld embed=%lld", (long long)o->units, (long long)o->embed);
    if (nn_vocab_save(tok, path, header) != 0) {
        fprintf(stderr, "%s: cannot save the vocabulary: %s\n", APP, tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    return 0;
}

/* Reads the corpus, joins its lines, fits *tok unless it is already set, and encodes it. */
static int read_corpus(const Options *o, NnTokenizer **tok, int32_t **ids, int64_t *n) {
    int64_t len, joined_len;
    char *text = app_read_corpus(APP, app_data_dir(o->data_dir), o->data_file, &len);
    if (!text) return APP_EXIT_USAGE;
    char *joined = nn_text_join_lines(text, len, &joined_len);
    free(text);
    if (!*tok) {
        *tok = nn_tokenizer();
        nn_tokenizer_fit(*tok, joined, joined_len);
        if (nn_tokenizer_finish(*tok) != 0) {
            fprintf(stderr, "%s: %s has no words: %s\n", APP, o->data_file, tensor_last_error());
            free(joined);
            return APP_EXIT_USAGE;
        }
    }
    *ids = nn_tokenizer_encode(*tok, joined, joined_len, n);
    free(joined);
    if (!*ids) {
        fprintf(stderr, "%s: cannot encode %s: %s\n", APP, o->data_file, tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    return 0;
}

static void write_json(const Options *o, const NnTokenizer *tok, const Model *m, int64_t windows, int64_t n_val,
                       const Metrics *r, const Prediction *pred) {
    AppJson j;
    app_json_begin(&j, stdout);
    app_json_int(&j, "vocab", nn_tokenizer_vocab_size(tok));
    app_json_int(&j, "windows", windows);
    app_json_int(&j, "val_windows", n_val);
    app_json_int(&j, "params", nn_model_param_count(m));
    app_json_int(&j, "units", o->units);
    app_json_int(&j, "embed", o->embed);
    app_json_int(&j, "batch_size", o->batch_size);
    app_json_int(&j, "steps", r->steps);
    app_json_number(&j, "loss", r->loss);
    app_json_number(&j, "val_loss", r->val_loss);
    app_json_number(&j, "top1", r->top1);
    app_json_number(&j, "top5", r->top5);
    app_json_number(&j, "samples_per_s", r->samples_per_s);
    app_json_number(&j, "tokens_per_s", r->samples_per_s);
    app_json_number(&j, "seconds", r->seconds);
    if (pred && pred->k) {
        app_json_string(&j, "context", pred->context);
        for (int64_t i = 0; i < pred->k; i++) {
            char key[32];
            snprintf(key, sizeof key, "next_%lld", (long long)(i + 1));
            app_json_string(&j, key, pred->words[i]);
            snprintf(key, sizeof key, "p_%lld", (long long)(i + 1));
            app_json_number(&j, key, pred->p[i]);
        }
    }
    app_json_end(&j);
}

int main(int argc, char **argv) {
    Options o;
    int status = parse_options(argc, argv, &o);
    if (status) return status;
    if (o.threads) tensor_set_num_threads((int)o.threads);
    bool ask = o.interactive || (o.load && !o.predict && isatty(STDIN_FILENO));
    bool evaluate_loaded = o.load && !o.predict && !ask;
    NnTokenizer *tok = NULL;
    int32_t *ids = NULL;
    int64_t n_ids = 0, windows = 0, n_val = 0;
    Model *m = NULL;
    Tensor *x = NULL, *y = NULL, *vx = NULL, *vy = NULL;
    Metrics r = {.loss = NAN, .val_loss = NAN, .top1 = NAN, .top5 = NAN, .samples_per_s = NAN, .seconds = NAN};
    Curve curve = {0};
    Prediction pred = {0};

    if (o.load && (status = load_vocab(&o, &tok)) != 0) goto done;
    bool need_windows = !o.summary && (!o.load || evaluate_loaded);
    if ((!tok || need_windows) && (status = read_corpus(&o, &tok, &ids, &n_ids)) != 0) goto done;
    if ((status = check_memory(&o, nn_tokenizer_vocab_size(tok) + 1)) != 0) goto done;
    if (!(m = make_model(&o, nn_tokenizer_vocab_size(tok) + 1))) {
        status = APP_EXIT_FAILURE;
        goto done;
    }
    if (o.summary) {
        nn_summary(m, stdout);
        goto done;
    }
    if (need_windows) {
        if (nn_windows_next(ids, n_ids, CONTEXT, 1, &x, &y) != 0 || x->shape[0] < 10) {
            fprintf(stderr, "%s: %s has too few words (%lld) for training and validation windows\n", APP,
                    o.data_file, (long long)n_ids);
            status = APP_EXIT_USAGE;
            goto done;
        }
        windows = x->shape[0];
        n_val = windows / 10; /* the last 10% of the windows, in text order */
        vx = rows(x, windows - n_val, n_val);
        vy = rows(y, windows - n_val, n_val);
    }
    if (o.load) {
        if (nn_load_weights(m, o.load) != 0) {
            fprintf(stderr, "%s: cannot load weights: %s\n", APP, tensor_last_error());
            status = APP_EXIT_FAILURE;
            goto done;
        }
        r.steps = 0;
        if (evaluate_loaded && evaluate(m, vx, vy, &r) != 0) {
            fprintf(stderr, "%s: evaluation failed: %s\n", APP, tensor_last_error());
            status = APP_EXIT_FAILURE;
            goto done;
        }
    } else {
        if (!o.quiet)
            fprintf(stderr, "%s: %lld words, vocabulary %lld, %lld training and %lld validation windows, %lld parameters\n",
                    APP, (long long)n_ids, (long long)nn_tokenizer_vocab_size(tok), (long long)(windows - n_val),
                    (long long)n_val, (long long)nn_model_param_count(m));
        nn_model_check_numerics(m, o.check_numerics);
        /* The vocabulary first, so a checkpoint can be used (--load) even if training stops. */
        if (o.save && (status = save_vocab(&o, tok, o.save)) != 0) goto done;
        if ((status = train(m, &o, argc, argv, x, y, windows - n_val, vx, vy, &r, &curve)) != 0) goto done;
    }
    if (need_windows)
        printf("val_loss %.4f  top1 %.4f  top5 %.4f  (%lld validation windows, %lld steps)\n", r.val_loss, r.top1,
               r.top5, (long long)n_val, (long long)r.steps);
    if (o.save && o.load) { /* trained runs wrote FILE as their final checkpoint */
        if (nn_save_weights(m, o.save, false) != 0) {
            fprintf(stderr, "%s: cannot save the model: %s\n", APP, tensor_last_error());
            status = APP_EXIT_FAILURE;
            goto done;
        }
        if ((status = save_vocab(&o, tok, o.save)) != 0) goto done;
    }
    if (o.plot) {
        if (o.load)
            fprintf(stderr, "%s: --plot draws the training loss; nothing to draw with --load\n", APP);
        else if (write_plot(o.plot, &curve) != 0) {
            fprintf(stderr, "%s: cannot write the plot: %s\n", APP, tensor_last_error());
            status = APP_EXIT_FAILURE;
            goto done;
        }
    }
    if (o.predict && (status = predict(m, tok, o.predict, o.top_k, &pred)) != 0) goto done;
    if (ask && (status = interactive(m, tok, o.top_k)) != 0) goto done;
    if (o.json) write_json(&o, tok, m, windows, n_val, &r, &pred);
done:
    free(curve.loss);
    tensor_free(vx);
    tensor_free(vy);
    tensor_free(x);
    tensor_free(y);
    free(ids);
    nn_model_free(m);
    nn_tokenizer_free(tok);
    return status;
}
