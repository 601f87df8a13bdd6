/* sonnets: LSTM language models of Shakespeare, written only against nn/nn.h — the
 * sonnets notebook's character models (27 symbols) and the Shakespeare notebook's
 * word model. Trains (or loads) a model, reports the held-out loss per character or
 * word, writes samples generated one symbol at a time with carried LSTM state, and
 * optionally plots the loss curves. `sonnets --help` lists the options. */
#include <lamina/nn/nn.h>

#include "common/app.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "sonnets"

typedef enum { CHAR_MANY_TO_MANY, CHAR_MANY_TO_ONE, WORD } ModelKind;
static const char *const kind_names[] = {"char-many-to-many", "char-many-to-one", "word"};

typedef struct Options {
    const char *data_dir, *data_file, *save, *load, *prime, *plot, *resume;
    ModelKind kind;
    int epochs, threads, sample;
    int64_t batch_size, max_steps, window, units, embed, checkpoint_every;
    double lr, temperature;
    uint64_t seed;
    bool summary, quiet, json, checkpoint_in_epochs, check_numerics;
} Options;

/* Where a signal's checkpoint goes when neither --save nor --resume names a file. */
#define DEFAULT_CHECKPOINT "./" APP ".checkpoint"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: sonnets [OPTIONS]\n"
            "Train an LSTM language model on Shakespeare and write samples from it.\n\n"
            "  --model NAME        char-many-to-many (default): Embedding(27,64) > LSTM(256, sequences) >\n"
            "                      TimeDistributed(Dense(27)), windows of 40 characters;\n"
            "                      char-many-to-one: Embedding(27,64) > LSTM(64) > Dense(27), 40 characters > next;\n"
            "                      word: Embedding(V,128) > LSTM(128, sequences) > TimeDistributed(Dense(V)),\n"
            "                      sequences of 50 words (lower-case, punctuation but - and ' removed,\n"
            "                      words seen 5 times or fewer > <unk>)\n"
            "  --data DIR          corpus directory (default: $DATA_DIR, else the repository's data/)\n"
            "  --data-file FILE    corpus file inside DIR (default sonnets.txt; tinyshakespeare.txt works too)\n"
            "  --units N           LSTM width (default 256; 64 for char-many-to-one, 128 for word)\n"
            "  --embed N           embedding width (default 64; 128 for word)\n"
            "  --seq-len N         window length in symbols (default 40; 50 for word)\n"
            "  --epochs N          passes over the training windows (default 1)\n"
            "  --max-steps N       stop after N optimizer steps (quick runs)\n"
            "  --batch-size N      windows per step (default 128; 100 for the word model)\n"
            "  --lr X              Adam learning rate (default 0.001)\n"
            "  --seed N            seed for initial weights, shuffling and sampling (default 0)\n"
            "  --threads N         kernel threads (default: all cores)\n"
            "  --save FILE         write the trained model to FILE: weights, optimizer and training state\n"
            "                      (so --resume FILE can continue it; --load FILE reads its weights)\n"
            "  --checkpoint-every N  also write that checkpoint every N optimizer steps, or every N epochs\n"
            "                      with a trailing e (500, 1e); to the --save FILE, else the --resume FILE,\n"
            "                      else " DEFAULT_CHECKPOINT "\n"
            "  --resume FILE       continue the run checkpointed in FILE (give the same options; --max-steps\n"
            "                      and --epochs count from the run's start): it ends with the same weights,\n"
            "                      bit for bit, as an uninterrupted run with the same --threads. Later\n"
            "                      checkpoints go to --save FILE if given, else back to FILE\n"
            "  --load FILE         skip training and use weights from FILE (same model and corpus)\n"
            "  --check-numerics    debug mode: check every op's output for NaN and infinities, so a failing\n"
            "                      step names the op where one first appeared (slower)\n"
            "  --summary           print the model table and exit\n"
            "  --plot FILE.svg     plot loss and val_loss per epoch (per step for a one-epoch run)\n"
            "  --sample N          symbols (characters or words) to generate (default 100; 0 for none)\n"
            "  --temperature T     sampling temperature (default 1.0)\n"
            "  --prime TEXT        text to start the samples from (default: a random window of the corpus)\n"
            "  --quiet             no progress display\n"
            "  --json              end stdout with one JSON line of final metrics\n"
            "  --version           print the version and exit\n"
            "  --help              this text\n\n"
            "The last 10%% of the text is held out; val_loss is the mean cross-entropy (nats) per\n"
            "character (word) over its non-overlapping windows. After --resume, a per-step --plot starts\n"
            "at the resumed step.\n\n"
            "Ctrl-C (SIGINT) or SIGTERM during training finishes the current step, writes the checkpoint\n"
            "(to --save FILE, else --resume FILE, else " DEFAULT_CHECKPOINT "), prints the command that\n"
            "resumes it and exits 130 (SIGINT) or 143 (SIGTERM); a second Ctrl-C stops at once. A NaN or\n"
            "infinite loss or gradient stops training naming the step and the parameter (with\n"
            "--check-numerics, the op); the last checkpoint written is kept, never overwritten by it.\n\n"
            "Exit status: 0 on success, 1 when training fails (a NaN loss) or a file cannot be written,\n"
            "2 for bad options (including sizes beyond the data or this machine's memory), a missing\n"
            "corpus or an unusable --load or --resume file, 130 / 143 when stopped by SIGINT / SIGTERM.\n");
}

/* Returns -1 to go on, or the status to exit with (0 after --help or --version). */
static int parse_options(int argc, char **argv, Options *o) {
    enum { O_MODEL = 256, O_DATA, O_DATA_FILE, O_EPOCHS, O_MAX_STEPS, O_BATCH, O_LR, O_SEED, O_THREADS, O_SAVE,
           O_LOAD, O_SUMMARY, O_PLOT, O_SAMPLE, O_TEMP, O_PRIME, O_QUIET, O_JSON, O_VERSION, O_HELP, O_UNITS,
           O_EMBED, O_SEQ_LEN, O_CHECKPOINT_EVERY, O_RESUME, O_CHECK_NUMERICS };
    static const struct option longopts[] = {
        {"model", required_argument, 0, O_MODEL},         {"data", required_argument, 0, O_DATA},
        {"data-file", required_argument, 0, O_DATA_FILE}, {"epochs", required_argument, 0, O_EPOCHS},
        {"max-steps", required_argument, 0, O_MAX_STEPS}, {"batch-size", required_argument, 0, O_BATCH},
        {"lr", required_argument, 0, O_LR},               {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, O_THREADS},     {"save", required_argument, 0, O_SAVE},
        {"load", required_argument, 0, O_LOAD},           {"summary", no_argument, 0, O_SUMMARY},
        {"plot", required_argument, 0, O_PLOT},           {"sample", required_argument, 0, O_SAMPLE},
        {"temperature", required_argument, 0, O_TEMP},    {"prime", required_argument, 0, O_PRIME},
        {"quiet", no_argument, 0, O_QUIET},               {"json", no_argument, 0, O_JSON},
        {"version", no_argument, 0, O_VERSION},           {"help", no_argument, 0, O_HELP},
        {"units", required_argument, 0, O_UNITS},         {"embed", required_argument, 0, O_EMBED},
        {"seq-len", required_argument, 0, O_SEQ_LEN},     {"checkpoint-every", required_argument, 0, O_CHECKPOINT_EVERY},
        {"resume", required_argument, 0, O_RESUME},       {"check-numerics", no_argument, 0, O_CHECK_NUMERICS},
        {0, 0, 0, 0}};
    *o = (Options){.data_file = "sonnets.txt", .epochs = 1, .lr = 1e-3, .sample = 100, .temperature = 1.0};
    opterr = 0;
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char name[32]; /* "--epochs" etc. for messages; the enum follows longopts' order */
        snprintf(name, sizeof name, "--%s", c >= O_MODEL && c <= O_CHECK_NUMERICS ? longopts[c - O_MODEL].name : "");
        switch (c) {
        case O_MODEL: {
            int k = 0;
            while (k < 3 && strcmp(optarg, kind_names[k]) != 0) k++;
            if (k == 3) {
                fprintf(stderr, APP ": invalid value '%s' for --model: expected char-many-to-many, "
                                "char-many-to-one or word\n", optarg);
                return APP_EXIT_USAGE;
            }
            o->kind = (ModelKind)k;
            break;
        }
        case O_DATA: o->data_dir = optarg; break;
        case O_DATA_FILE: o->data_file = optarg; break;
        case O_EPOCHS: if (!app_parse_int(APP, name, optarg, 1, 1000000, &v)) return APP_EXIT_USAGE; o->epochs = (int)v; break;
        case O_MAX_STEPS: if (!app_parse_int(APP, name, optarg, 1, INT64_MAX, &o->max_steps)) return APP_EXIT_USAGE; break;
        case O_BATCH: if (!app_parse_int(APP, name, optarg, 1, 1 << 20, &o->batch_size)) return APP_EXIT_USAGE; break;
        case O_LR: if (!app_parse_float(APP, name, optarg, 1e-9, 10.0, &o->lr)) return APP_EXIT_USAGE; break;
        case O_SEED: if (!app_parse_int(APP, name, optarg, 0, INT64_MAX, &v)) return APP_EXIT_USAGE; o->seed = (uint64_t)v; break;
        case O_THREADS: if (!app_parse_int(APP, name, optarg, 1, 1024, &v)) return APP_EXIT_USAGE; o->threads = (int)v; break;
        case O_SAVE: o->save = optarg; break;
        case O_LOAD: o->load = optarg; break;
        case O_SUMMARY: o->summary = true; break;
        case O_PLOT: o->plot = optarg; break;
        case O_SAMPLE: if (!app_parse_int(APP, name, optarg, 0, 1000000, &v)) return APP_EXIT_USAGE; o->sample = (int)v; break;
        case O_TEMP: if (!app_parse_float(APP, name, optarg, 1e-3, 100.0, &o->temperature)) return APP_EXIT_USAGE; break;
        case O_PRIME: o->prime = optarg; break;
        case O_QUIET: o->quiet = true; break;
        case O_JSON: o->json = true; break;
        case O_VERSION: printf("lamina %s\n", LAMINA_VERSION); return APP_EXIT_OK;
        case O_HELP: usage(stdout); return APP_EXIT_OK;
        case O_UNITS: if (!app_parse_int(APP, name, optarg, 1, 1 << 20, &o->units)) return APP_EXIT_USAGE; break;
        case O_EMBED: if (!app_parse_int(APP, name, optarg, 1, 1 << 20, &o->embed)) return APP_EXIT_USAGE; break;
        case O_SEQ_LEN: if (!app_parse_int(APP, name, optarg, 1, INT32_MAX, &o->window)) return APP_EXIT_USAGE; break;
        case O_CHECKPOINT_EVERY:
            if (!app_parse_checkpoint_every(APP, optarg, &o->checkpoint_every, &o->checkpoint_in_epochs))
                return APP_EXIT_USAGE;
            break;
        case O_RESUME: o->resume = optarg; break;
        case O_CHECK_NUMERICS: o->check_numerics = true; break;
        default:
            if (optopt >= O_MODEL && optopt <= O_CHECK_NUMERICS)
                fprintf(stderr, APP ": option '--%s' needs a value (see --help)\n", longopts[optopt - O_MODEL].name);
            else
                fprintf(stderr, APP ": unknown option '%s' (see --help)\n", argv[optind - 1]);
            return APP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, APP ": unexpected argument '%s' (see --help)\n", argv[optind]);
        return APP_EXIT_USAGE;
    }
    if (o->resume && o->load) {
        fprintf(stderr, APP ": --resume continues training and --load skips it: give one of them\n");
        return APP_EXIT_USAGE;
    }
    if (!o->batch_size) o->batch_size = o->kind == WORD ? 100 : 128;
    if (!o->window) o->window = o->kind == WORD ? 50 : 40;
    if (!o->units) o->units = o->kind == WORD ? 128 : o->kind == CHAR_MANY_TO_ONE ? 64 : 256;
    if (!o->embed) o->embed = o->kind == WORD ? 128 : 64;
    return -1;
}

/* ---- the corpus as symbol ids ---- */

typedef struct Corpus {
    int32_t *ids;
    int64_t n, vocab;
    NnTokenizer *words; /* word model only */
} Corpus;

/* Reads and encodes the corpus; returns an exit status (0 on success). */
static int load_corpus(const Options *o, Corpus *c) {
    int64_t len;
    char *text = app_read_corpus(APP, app_data_dir(o->data_dir), o->data_file, &len);
    if (!text) return APP_EXIT_USAGE;
    if (o->kind == WORD) {
        c->words = nn_word_text_tokenizer(text, len, 5);
        if (c->words) c->ids = nn_word_text_encode(c->words, text, len, &c->n, NULL);
        c->vocab = c->words ? nn_tokenizer_vocab_size(c->words) + 1 : 0;
    } else {
        c->ids = nn_char27_encode(text, len, &c->n);
        c->vocab = NN_CHAR27_SIZE;
    }
    free(text);
    if (!c->ids) {
        fprintf(stderr, APP ": cannot use %s as a corpus: %s\n", o->data_file, tensor_last_error());
        return APP_EXIT_USAGE;
    }
    return 0;
}

static void corpus_free(Corpus *c) {
    free(c->ids);
    nn_tokenizer_free(c->words);
}

/* Writes one symbol of the corpus's alphabet. */
static void put_symbol(const Corpus *c, int32_t id, FILE *out) {
    if (!c->words) {
        fputc(nn_char27_decode(id), out);
        return;
    }
    const char *w = nn_tokenizer_word(c->words, id);
    fprintf(out, "%s ", w ? w : "?");
}

/* ---- the model ---- */

/* The model's parameter count, known before anything is allocated. */
static double param_count(const Options *o, int64_t vocab) {
    double v = (double)vocab, e = (double)o->embed, u = (double)o->units;
    return v * e + 4 * u * (e + u + 1) + u * v + v;
}

/* Refuses sizes this machine cannot train (exit status, or 0): four floats per
 * parameter (value, gradient, Adam's two moments), the training windows, and a step's
 * activations (about 16 floats per LSTM unit and 4 per output class, per symbol). */
static int check_memory(const Options *o, int64_t vocab, int64_t n_symbols) {
    double params = param_count(o, vocab), window = (double)o->window, batch = (double)o->batch_size;
    double n_windows = (double)n_symbols * 0.9 - window;
    double bytes = 16 * params + (n_windows > 0 ? n_windows : 0) * (window + 1) * 2 * sizeof(int32_t) +
                   batch * window * (16 * (double)o->units + 4 * (double)vocab + 2 * (double)o->embed) * sizeof(float);
    char what[192], detail[96];
    snprintf(what, sizeof what, "training --units %lld --embed %lld --seq-len %lld --batch-size %lld",
             (long long)o->units, (long long)o->embed, (long long)o->window, (long long)o->batch_size);
    snprintf(detail, sizeof detail, "%.0f parameters, windows and one step's activations", params);
    return app_fits_in_memory(APP, what, detail, bytes) ? 0 : APP_EXIT_USAGE;
}

static Model *make_model(const Options *o, int64_t vocab) {
    Model *m = nn_sequential();
    nn_model_seed(m, o->seed);
    nn_add(m, nn_embedding(.vocab = vocab, .dim = o->embed));
    if (o->kind == CHAR_MANY_TO_ONE) {
        nn_add(m, nn_lstm(.units = o->units));
        nn_add(m, nn_dense(.units = vocab, .activation = NN_SOFTMAX));
    } else {
        nn_add(m, nn_lstm(.units = o->units, .return_sequences = true));
        nn_add(m, nn_time_distributed(nn_dense(.units = vocab, .activation = NN_SOFTMAX)));
    }
    /* The time axis is left unknown (None), so generation can step one symbol at a time. */
    if (nn_build(m, NN_SHAPE(TENSOR_I32, -1)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = (float)o->lr)) != 0) {
        fprintf(stderr, APP ": cannot build the model: %s\n", tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* ---- sampling ---- */

typedef struct Sampler {
    const Options *o;
    const Corpus *c;
    int32_t *prime; /* encoded --prime, or NULL for a random window each time */
    int64_t n_prime;
    Rng rng;
} Sampler;

/* Generates n symbols after the prime, one at a time, carrying the LSTM state, so
 * each symbol costs one step whatever the length so far. */
static void write_sample(Model *m, Sampler *s, const int32_t *prime, int64_t n_prime, FILE *out) {
    const Corpus *c = s->c;
    Tape *tape = nn_model_tape(m);
    bool previous = ag_set_grad_enabled(tape, false);
    Layer *embedding = nn_model_layer(m, 0), *lstm = nn_model_layer(m, 1), *head = nn_model_layer(m, 2);
    NnCallCtx ctx = {.training = false};
    float *p = malloc((size_t)c->vocab * sizeof *p);
    Tensor *h = NULL, *cs = NULL; /* carried state, on the heap between steps */
    for (int64_t i = 0; i < n_prime; i++) put_symbol(c, prime[i], out);
    fputs(c->words ? "| " : "|", out);
    Tensor *input = tensor_i32_from_array(NULL, 2, (int64_t[]){1, n_prime}, prime);
    for (int k = 0; k < s->o->sample; k++) {
        ag_tape_reset(tape);
        NnRnnState initial = {.h = h, .c = cs}, final;
        Tensor *seq = nn_rnn_call(lstm, tape, nn_layer_call(embedding, tape, input, &ctx), &initial, &final, &ctx);
        Tensor *probs = nn_layer_call(head, tape, seq, &ctx);
        memcpy(p, tensor_f32(probs) + probs->size - c->vocab, (size_t)c->vocab * sizeof *p);
        if (c->words) p[0] = 0; /* id 0 is padding, never a word */
        int32_t next = (int32_t)nn_sample(p, c->vocab, (float)s->o->temperature, 0, &s->rng);
        put_symbol(c, next, out);
        tensor_free(h);
        tensor_free(cs);
        h = tensor_copy(NULL, final.h);
        cs = tensor_copy(NULL, final.c);
        tensor_free(input);
        input = tensor_i32_from_array(NULL, 2, (int64_t[]){1, 1}, &next);
    }
    fputc('\n', out);
    free(p);
    tensor_free(input);
    tensor_free(h);
    tensor_free(cs);
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, previous);
}

static void sample_now(Model *m, Sampler *s, const char *heading) {
    if (s->o->sample <= 0) return;
    printf("%s: ", heading);
    if (s->prime) {
        write_sample(m, s, s->prime, s->n_prime, stdout);
    } else {
        int64_t w = s->o->window < s->c->n ? s->o->window : s->c->n;
        int64_t start = (int64_t)tensor_rng_below(&s->rng, (uint32_t)(s->c->n - w + 1));
        write_sample(m, s, s->c->ids + start, w, stdout);
    }
    fflush(stdout);
}

/* Encodes --prime; returns an exit status (0 on success). Unknown words are noted. */
static int encode_prime(const Options *o, Sampler *s) {
    if (!o->prime) return 0;
    const Corpus *c = s->c;
    int64_t len = (int64_t)strlen(o->prime);
    char *unknown = NULL;
    s->prime = c->words ? nn_word_text_encode(c->words, o->prime, len, &s->n_prime, &unknown)
                        : nn_char27_encode(o->prime, len, &s->n_prime);
    if (unknown) fprintf(stderr, APP ": --prime words not in the vocabulary (fed as %s): %s\n", NN_WORD_UNKNOWN, unknown);
    free(unknown);
    if (!s->prime || s->n_prime == 0) {
        fprintf(stderr, APP ": --prime '%s' has no %s to start from\n", o->prime, c->words ? "words" : "characters");
        return APP_EXIT_USAGE;
    }
    return 0;
}

/* ---- training ---- */

typedef struct Data {
    Tensor *x, *y, *vx, *vy; /* training windows at every position; validation windows side by side */
} Data;

/* Refuses a window longer than the data (exit status, or 0): the first 90% and the
 * held-out 10% must each hold one window and the symbol after it. */
static int check_length(const Options *o, const Corpus *c) {
    int64_t n_train = (int64_t)((double)c->n * 0.9), n_val = c->n - n_train;
    if (n_train - 1 >= o->window && n_val - 1 >= o->window) return 0;
    fprintf(stderr, APP ": --seq-len %lld is too long for %s: its held-out 10%% has %lld %s and must hold a window "
                    "and the %s after it\n",
            (long long)o->window, o->data_file, (long long)n_val, o->kind == WORD ? "words" : "characters",
            o->kind == WORD ? "word" : "character");
    return APP_EXIT_USAGE;
}

/* Windows of the symbol stream: training at every position of the first 90%,
 * validation on non-overlapping windows of the last 10% (as the PyTorch peer). */
static int make_data(const Options *o, const Corpus *c, Data *d) {
    int64_t n_train = (int64_t)((double)c->n * 0.9);
    int (*windows)(const int32_t *, int64_t, int64_t, int64_t, Tensor **, Tensor **) =
        o->kind == CHAR_MANY_TO_ONE ? nn_windows_next : nn_windows_shifted;
    if (windows(c->ids, n_train, o->window, 1, &d->x, &d->y) != 0 ||
        windows(c->ids + n_train, c->n - n_train, o->window, o->window, &d->vx, &d->vy) != 0) {
        fprintf(stderr, APP ": %s is too short for windows of %lld %s (%lld in all)\n", o->data_file,
                (long long)o->window, o->kind == WORD ? "words" : "characters", (long long)c->n);
        return APP_EXIT_USAGE;
    }
    return 0;
}

static void data_free(Data *d) {
    tensor_free(d->x);
    tensor_free(d->y);
    tensor_free(d->vx);
    tensor_free(d->vy);
}

/* What a run records per step for the plot: the loss, and val_loss where measured
 * (NaN elsewhere, and for steps taken before a --resume). */
typedef struct StepHistory {
    double *loss, *val;
    int64_t steps;
} StepHistory;

static void step_push(StepHistory *h, double loss, double val) {
    if ((h->steps & (h->steps - 1)) == 0) { /* 0, 1, 2, 4, ...: full */
        size_t cap = (size_t)(h->steps ? 2 * h->steps : 1);
        h->loss = realloc(h->loss, cap * sizeof(double));
        h->val = realloc(h->val, cap * sizeof(double));
        if (!h->loss || !h->val) {
            fprintf(stderr, APP ": out of memory recording the loss history\n");
            exit(APP_EXIT_FAILURE);
        }
    }
    h->loss[h->steps] = loss;
    h->val[h->steps++] = val;
}

/* Keras-like progress on stderr: redrawn in place on a terminal, else a line every
 * tenth of an epoch. */
typedef struct Progress {
    bool quiet, tty;
    double start, last_draw;
    int64_t total, first, next_line; /* first: the epoch's step this process started at */
} Progress;

static void progress_update(Progress *p, int epoch, int epochs, int64_t step, double loss, int64_t tokens) {
    if (p->quiet) return;
    double now = tensor_seconds(), elapsed = now - p->start;
    if (p->tty ? now - p->last_draw < 0.1 && step != p->total : step < p->next_line) return;
    p->last_draw = now;
    p->next_line = step + (p->total + 9) / 10;
    double eta = elapsed / (double)(step - p->first) * (double)(p->total - step);
    if (p->tty) {
        int filled = (int)(30.0 * (double)step / (double)p->total);
        fprintf(stderr, "\rEpoch %d/%d %lld/%lld [%.*s%s%.*s] - loss: %.4f - %.0f tokens/s - ETA: %.0fs\033[K", epoch,
                epochs, (long long)step, (long long)p->total, filled, "==============================",
                filled < 30 ? ">" : "", filled < 30 ? 29 - filled : 0, "..............................", loss,
                (double)tokens / elapsed, eta);
    } else {
        fprintf(stderr, "Epoch %d/%d %lld/%lld - loss: %.4f - %.0f tokens/s - ETA: %.0fs\n", epoch, epochs,
                (long long)step, (long long)p->total, loss, (double)tokens / elapsed, eta);
    }
    fflush(stderr);
}

/* The state the fit callbacks share: progress, the per-step history and samples. */
typedef struct Trainer {
    const Options *o;
    const Data *d;
    Sampler *sampler;
    StepHistory steps;
    Progress progress;
    int epoch, run_epochs;      /* the epoch shown, and how many the run takes */
    int64_t planned, val_every; /* total steps; val_loss every val_every steps (0: per epoch only) */
    int64_t epoch_steps, epoch_step, epoch_tokens, tokens;
    double started, train_seconds;
    double epoch_clock; /* when the coming epoch's first step began */
} Trainer;

static int on_batch_end(Model *m, const NnBatchLogs *logs, void *user) {
    Trainer *t = user;
    int64_t row = t->d->x->size / t->d->x->shape[0];
    if (logs->epoch != t->epoch) { /* the first step of an epoch in this process */
        t->epoch = logs->epoch;
        t->epoch_tokens = 0;
        t->progress = (Progress){.quiet = t->o->quiet, .tty = isatty(fileno(stderr)), .start = t->epoch_clock,
                                 .total = logs->epoch_steps, .first = logs->step - 1};
    }
    t->epoch_steps = logs->epoch_steps;
    t->epoch_step = logs->step;
    t->epoch_tokens += logs->samples * row;
    t->tokens += logs->samples * row;
    while (t->steps.steps < logs->steps - 1) step_push(&t->steps, NAN, NAN); /* before a --resume */
    step_push(&t->steps, logs->loss, NAN);
    if (t->val_every && logs->steps % t->val_every == 0 && logs->step < logs->epoch_steps)
        nn_evaluate(m, t->d->vx, t->d->vy, t->o->batch_size, &t->steps.val[t->steps.steps - 1], NULL);
    progress_update(&t->progress, logs->epoch, t->run_epochs, logs->step, logs->mean_loss, t->epoch_tokens);
    return 0;
}

static int on_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    Trainer *t = user;
    if (t->epoch != logs->epoch) return 0; /* no step of it ran here */
    if (t->val_every && t->steps.steps > 0) t->steps.val[t->steps.steps - 1] = logs->val_loss;
    double elapsed = tensor_seconds() - t->progress.start;
    t->train_seconds += elapsed;
    if (!t->o->quiet)
        fprintf(stderr, "%sEpoch %d/%d %lld/%lld - %.1fs - loss: %.4f - val_loss: %.4f - %.0f tokens/s%s\n",
                t->progress.tty ? "\r" : "", logs->epoch, t->run_epochs, (long long)t->epoch_step,
                (long long)t->epoch_steps, elapsed, logs->loss, logs->val_loss, (double)t->epoch_tokens / elapsed,
                t->progress.tty ? "\033[K" : "");
    if (logs->steps < t->planned) {
        char heading[48];
        snprintf(heading, sizeof heading, "sample after epoch %d", logs->epoch);
        sample_now(m, t->sampler, heading);
    }
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

/* Trains through nn_fit (shuffled mini-batches, checkpoints, --resume, signals),
 * recording every step's loss for the plot. Returns the history (its signal set when
 * a signal stopped training), or NULL if training failed (the reason is in
 * tensor_last_error()). */
static NnHistory *train(Model *m, const Options *o, const Data *d, Trainer *t) {
    int64_t n = d->x->shape[0], per_epoch = (n + o->batch_size - 1) / o->batch_size;
    t->planned = (int64_t)o->epochs * per_epoch;
    if (o->max_steps && o->max_steps < t->planned) t->planned = o->max_steps;
    t->run_epochs = (int)((t->planned + per_epoch - 1) / per_epoch);
    /* A one-epoch run plots per step, with val_loss measured about 25 times. */
    t->val_every = o->plot && t->run_epochs == 1 ? (t->planned + 24) / 25 : 0;
    const char *ckpt = checkpoint_path(o);
    if (ckpt && !o->save && !o->resume && !o->quiet)
        fprintf(stderr, APP ": checkpoints go to %s (no --save FILE given)\n", ckpt);
    NnCallback callbacks = {.on_epoch_end = on_epoch_end, .on_batch_end = on_batch_end, .user = t};
    t->started = t->epoch_clock = tensor_seconds();
    return nn_fit(m, d->x, d->y, .batch_size = o->batch_size, .epochs = o->epochs, .seed = o->seed,
                  .val_x = d->vx, .val_y = d->vy, .quiet = true, .max_steps = o->max_steps,
                  .callbacks = &callbacks, .n_callbacks = 1, .checkpoint_path = ckpt,
                  .checkpoint_every = o->checkpoint_in_epochs ? o->checkpoint_every * per_epoch : o->checkpoint_every,
                  .resume_path = o->resume, .handle_signals = true, .signal_checkpoint_path = DEFAULT_CHECKPOINT);
}

static int write_plot(const Options *o, const NnHistory *epochs, const StepHistory *steps) {
    const char *names[] = {"loss", "val_loss"};
    bool per_epoch = epochs->epochs > 1;
    const double *ys[] = {per_epoch ? epochs->loss : steps->loss, per_epoch ? epochs->val_loss : steps->val};
    int64_t lens[] = {per_epoch ? epochs->epochs : steps->steps, per_epoch ? epochs->epochs : steps->steps};
    char title[128];
    snprintf(title, sizeof title, "sonnets --model %s on %s", kind_names[o->kind], o->data_file);
    if (nn_plot_curves_svg(o->plot, title, per_epoch ? "epoch" : "step",
                           o->kind == WORD ? "cross-entropy per word (nats)" : "cross-entropy per character (nats)",
                           2, names, ys, lens) != 0) {
        fprintf(stderr, APP ": cannot write the plot: %s\n", tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    if (!o->quiet) fprintf(stderr, "plot written to %s\n", o->plot);
    return 0;
}

int main(int argc, char **argv) {
    Options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    rc = APP_EXIT_OK;
    if (o.threads) tensor_set_num_threads(o.threads);

    Corpus corpus = {0};
    Data data = {0};
    Trainer trainer = {.o = &o, .d = &data};
    NnHistory *history = NULL;
    Model *m = NULL;
    Sampler sampler = {.o = &o, .c = &corpus};
    trainer.sampler = &sampler;
    tensor_rng_seed(&sampler.rng, o.seed, 0x73616d70);
    /* The character models need no corpus for their summary; the word model's
     * vocabulary comes from it. */
    if (o.kind == WORD || !o.summary) {
        if ((rc = load_corpus(&o, &corpus)) != 0) goto done;
    }
    int64_t vocab = o.kind == WORD ? corpus.vocab : NN_CHAR27_SIZE;
    if (!o.summary && (rc = check_length(&o, &corpus)) != 0) goto done;
    if ((rc = check_memory(&o, vocab, o.summary ? 0 : corpus.n)) != 0) goto done;
    if (!(m = make_model(&o, vocab))) {
        rc = APP_EXIT_FAILURE;
        goto done;
    }
    if (o.summary) {
        nn_summary(m, stdout);
        goto done;
    }
    nn_model_check_numerics(m, o.check_numerics);
    if (o.kind == WORD && !o.quiet)
        fprintf(stderr, "%s: %lld words, vocabulary of %lld (with %s)\n", o.data_file, (long long)corpus.n,
                (long long)corpus.vocab - 1, NN_WORD_UNKNOWN);
    if ((rc = encode_prime(&o, &sampler)) != 0 || (rc = make_data(&o, &corpus, &data)) != 0) goto done;

    double loss = NAN, val_loss = NAN, tokens_per_s = NAN, started = tensor_seconds();
    if (o.load) {
        if (nn_load_weights(m, o.load) != 0) {
            fprintf(stderr, APP ": cannot load weights: %s\n", tensor_last_error());
            rc = APP_EXIT_USAGE;
            goto done;
        }
        nn_evaluate(m, data.vx, data.vy, o.batch_size, &val_loss, NULL);
        if (o.plot) fprintf(stderr, APP ": --plot skipped: nothing was trained (--load)\n");
    } else {
        if (!(history = train(m, &o, &data, &trainer))) {
            /* A resumed model has taken steps: none means the checkpoint was refused. */
            bool refused = o.resume && nn_model_steps(m) == 0;
            fprintf(stderr, "%s" APP ": %s: %s\n", trainer.progress.tty && !o.quiet && trainer.epoch ? "\n" : "",
                    refused ? "cannot resume" : "training failed", tensor_last_error());
            rc = refused ? APP_EXIT_USAGE : APP_EXIT_FAILURE;
            goto done;
        }
        if (history->signal) {
            if (trainer.progress.tty && !o.quiet) fputc('\n', stderr);
            rc = app_report_interrupted(APP, history->signal, nn_model_steps(m),
                                           checkpoint_path(&o) ? checkpoint_path(&o) : DEFAULT_CHECKPOINT, argc, argv);
            goto done;
        }
        double seconds = trainer.train_seconds > 0 ? trainer.train_seconds : tensor_seconds() - trainer.started;
        tokens_per_s = trainer.tokens && seconds > 0 ? (double)trainer.tokens / seconds : NAN;
        if (history->epochs > 0) {
            loss = history->loss[history->epochs - 1];
            val_loss = history->val_loss[history->epochs - 1];
        } else {
            nn_evaluate(m, data.vx, data.vy, o.batch_size, &val_loss, NULL);
        }
        if (o.plot) rc = write_plot(&o, history, &trainer.steps); /* a failure still reports the results, then exits 1 */
    }
    printf("val_loss per %s: %.4f\n", o.kind == WORD ? "word" : "character", val_loss);
    sample_now(m, &sampler, "sample");
    if (o.save && o.load) { /* trained runs wrote FILE as their final checkpoint */
        if (nn_save_weights(m, o.save, false) != 0) {
            fprintf(stderr, APP ": cannot save weights: %s\n", tensor_last_error());
            rc = APP_EXIT_FAILURE;
        }
    }
    if (o.save && rc != APP_EXIT_FAILURE && !o.quiet) fprintf(stderr, "weights saved to %s\n", o.save);
    if (o.json) {
        AppJson j;
        app_json_begin(&j, stdout);
        app_json_string(&j, "model", kind_names[o.kind]);
        app_json_int(&j, "steps", nn_model_steps(m));
        app_json_int(&j, "params", nn_model_param_count(m));
        app_json_int(&j, "vocab", corpus.vocab);
        app_json_number(&j, "loss", loss);
        app_json_number(&j, "val_loss", val_loss);
        app_json_number(&j, "tokens_per_s", tokens_per_s);
        app_json_number(&j, "seconds", tensor_seconds() - started);
        app_json_end(&j);
    }
done:
    free(sampler.prime);
    free(trainer.steps.loss);
    free(trainer.steps.val);
    nn_history_free(history);
    data_free(&data);
    corpus_free(&corpus);
    nn_model_free(m);
    return rc;
}
