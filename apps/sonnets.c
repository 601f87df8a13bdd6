/* sonnets: LSTM language models of Shakespeare, written only against nn/nn.h — the
 * sonnets notebook's character models (27 symbols) and the Shakespeare notebook's
 * word model. Trains (or loads) a model, reports the held-out loss per character or
 * word, writes samples generated one symbol at a time with carried LSTM state, and
 * optionally plots the loss curves. `sonnets --help` lists the options. */
#include "nn/nn.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "sonnets"

typedef enum { CHAR_MANY_TO_MANY, CHAR_MANY_TO_ONE, WORD } ModelKind;
static const char *const kind_names[] = {"char-many-to-many", "char-many-to-one", "word"};

typedef struct Options {
    const char *data_dir, *data_file, *save, *load, *prime, *plot;
    ModelKind kind;
    int epochs, threads, sample;
    int64_t batch_size, max_steps, window;
    double lr, temperature;
    uint64_t seed;
    bool summary, quiet, json;
} Options;

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
            "  --epochs N          passes over the training windows (default 1)\n"
            "  --max-steps N       stop after N optimizer steps (quick runs)\n"
            "  --batch-size N      windows per step (default 128; 100 for the word model)\n"
            "  --lr X              Adam learning rate (default 0.001)\n"
            "  --seed N            seed for initial weights, shuffling and sampling (default 0)\n"
            "  --threads N         kernel threads (default: all cores)\n"
            "  --save FILE         write the trained weights to FILE\n"
            "  --load FILE         skip training and use weights from FILE (same model and corpus)\n"
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
            "character (word) over its non-overlapping windows.\n"
            "Exit status: 0 on success, 1 when training or writing a file fails, 2 for bad options,\n"
            "a missing corpus or an unusable --load file.\n");
}

/* Returns -1 to go on, or the status to exit with (0 after --help or --version). */
static int parse_options(int argc, char **argv, Options *o) {
    enum { O_MODEL = 256, O_DATA, O_DATA_FILE, O_EPOCHS, O_MAX_STEPS, O_BATCH, O_LR, O_SEED, O_THREADS, O_SAVE,
           O_LOAD, O_SUMMARY, O_PLOT, O_SAMPLE, O_TEMP, O_PRIME, O_QUIET, O_JSON, O_VERSION, O_HELP };
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
        {0, 0, 0, 0}};
    *o = (Options){.data_file = "sonnets.txt", .epochs = 1, .lr = 1e-3, .sample = 100, .temperature = 1.0};
    opterr = 0;
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char name[32]; /* "--epochs" etc. for messages; the enum follows longopts' order */
        snprintf(name, sizeof name, "--%s", c >= O_MODEL && c <= O_HELP ? longopts[c - O_MODEL].name : "");
        switch (c) {
        case O_MODEL: {
            int k = 0;
            while (k < 3 && strcmp(optarg, kind_names[k]) != 0) k++;
            if (k == 3) {
                fprintf(stderr, APP ": invalid value '%s' for --model: expected char-many-to-many, "
                                "char-many-to-one or word\n", optarg);
                return NN_EXIT_USAGE;
            }
            o->kind = (ModelKind)k;
            break;
        }
        case O_DATA: o->data_dir = optarg; break;
        case O_DATA_FILE: o->data_file = optarg; break;
        case O_EPOCHS: if (!nn_app_parse_int(APP, name, optarg, 1, 1000000, &v)) return NN_EXIT_USAGE; o->epochs = (int)v; break;
        case O_MAX_STEPS: if (!nn_app_parse_int(APP, name, optarg, 1, INT64_MAX, &o->max_steps)) return NN_EXIT_USAGE; break;
        case O_BATCH: if (!nn_app_parse_int(APP, name, optarg, 1, 1 << 20, &o->batch_size)) return NN_EXIT_USAGE; break;
        case O_LR: if (!nn_app_parse_float(APP, name, optarg, 1e-9, 10.0, &o->lr)) return NN_EXIT_USAGE; break;
        case O_SEED: if (!nn_app_parse_int(APP, name, optarg, 0, INT64_MAX, &v)) return NN_EXIT_USAGE; o->seed = (uint64_t)v; break;
        case O_THREADS: if (!nn_app_parse_int(APP, name, optarg, 1, 1024, &v)) return NN_EXIT_USAGE; o->threads = (int)v; break;
        case O_SAVE: o->save = optarg; break;
        case O_LOAD: o->load = optarg; break;
        case O_SUMMARY: o->summary = true; break;
        case O_PLOT: o->plot = optarg; break;
        case O_SAMPLE: if (!nn_app_parse_int(APP, name, optarg, 0, 1000000, &v)) return NN_EXIT_USAGE; o->sample = (int)v; break;
        case O_TEMP: if (!nn_app_parse_float(APP, name, optarg, 1e-3, 100.0, &o->temperature)) return NN_EXIT_USAGE; break;
        case O_PRIME: o->prime = optarg; break;
        case O_QUIET: o->quiet = true; break;
        case O_JSON: o->json = true; break;
        case O_VERSION: printf("lamina %s\n", LAMINA_VERSION); return NN_EXIT_OK;
        case O_HELP: usage(stdout); return NN_EXIT_OK;
        default:
            if (optopt >= O_MODEL && optopt <= O_HELP)
                fprintf(stderr, APP ": option '--%s' needs a value (see --help)\n", longopts[optopt - O_MODEL].name);
            else
                fprintf(stderr, APP ": unknown option '%s' (see --help)\n", argv[optind - 1]);
            return NN_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, APP ": unexpected argument '%s' (see --help)\n", argv[optind]);
        return NN_EXIT_USAGE;
    }
    if (!o->batch_size) o->batch_size = o->kind == WORD ? 100 : 128;
    o->window = o->kind == WORD ? 50 : 40;
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
    char *text = nn_app_read_corpus(APP, nn_app_data_dir(o->data_dir), o->data_file, &len);
    if (!text) return NN_EXIT_USAGE;
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
        return NN_EXIT_USAGE;
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

static Model *make_model(const Options *o, int64_t vocab) {
    Model *m = nn_sequential();
    nn_model_seed(m, o->seed);
    if (o->kind == CHAR_MANY_TO_ONE) {
        nn_add(m, nn_embedding(.vocab = vocab, .dim = 64));
        nn_add(m, nn_lstm(.units = 64));
        nn_add(m, nn_dense(.units = vocab, .activation = NN_SOFTMAX));
    } else {
        int64_t dim = o->kind == WORD ? 128 : 64, units = o->kind == WORD ? 128 : 256;
        nn_add(m, nn_embedding(.vocab = vocab, .dim = dim));
        nn_add(m, nn_lstm(.units = units, .return_sequences = true));
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
        return NN_EXIT_USAGE;
    }
    return 0;
}

/* ---- training ---- */

/* What a run records: per step (loss, and val_loss where measured) and per epoch. */
typedef struct History {
    double *step_loss, *step_val; /* steps entries; step_val NaN where not measured */
    double *epoch_loss, *epoch_val; /* epochs entries */
    int64_t steps, epochs;
} History;

/* Appends (a, b) to the arrays *pa, *pb of *n entries, growing them at powers of two. */
static void history_push(double **pa, double **pb, int64_t *n, double a, double b) {
    if ((*n & (*n - 1)) == 0) { /* 0, 1, 2, 4, ...: full */
        size_t cap = (size_t)(*n ? 2 * *n : 1);
        *pa = realloc(*pa, cap * sizeof(double));
        *pb = realloc(*pb, cap * sizeof(double));
        if (!*pa || !*pb) {
            fprintf(stderr, APP ": out of memory recording the loss history\n");
            exit(NN_EXIT_FAILURE);
        }
    }
    (*pa)[*n] = a;
    (*pb)[(*n)++] = b;
}

/* Keras-like progress on stderr: redrawn in place on a terminal, else a line every
 * tenth of an epoch. */
typedef struct Progress {
    bool quiet, tty;
    double start, last_draw;
    int64_t total, next_line;
} Progress;

static void progress_update(Progress *p, int epoch, int epochs, int64_t step, double loss, int64_t tokens) {
    if (p->quiet) return;
    double now = nn_app_seconds(), elapsed = now - p->start;
    if (p->tty ? now - p->last_draw < 0.1 && step != p->total : step < p->next_line) return;
    p->last_draw = now;
    p->next_line = step + (p->total + 9) / 10;
    double eta = elapsed / (double)step * (double)(p->total - step);
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

typedef struct Data {
    Tensor *x, *y, *vx, *vy; /* training windows at every position; validation windows side by side */
} Data;

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
        return NN_EXIT_USAGE;
    }
    return 0;
}

static void data_free(Data *d) {
    tensor_free(d->x);
    tensor_free(d->y);
    tensor_free(d->vx);
    tensor_free(d->vy);
}

/* Rows order[0 .. count) of src copied into buf, as a heap tensor header over buf. */
static Tensor *gather(const Tensor *src, const int64_t *order, int64_t count, int32_t *buf) {
    int64_t row = src->size / src->shape[0];
    for (int64_t i = 0; i < count; i++)
        memcpy(buf + i * row, (const int32_t *)src->data + order[i] * row, (size_t)row * sizeof(int32_t));
    int64_t shape[2] = {count, row};
    return tensor_view(NULL, TENSOR_I32, buf, NULL, src->ndim, shape);
}

/* Trains on mini-batches reshuffled each epoch the way nn_fit does (its seed stream
 * and Fisher-Yates shuffle), but step by step so that every step's loss is recorded
 * for the plot (nn_fit's callbacks only see epochs).
 * Returns 0, or -1 if a step failed (the reason is in tensor_last_error()). */
static int train(Model *m, const Options *o, const Data *d, Sampler *sampler, History *h, double *tokens_per_s) {
    int64_t n = d->x->shape[0], batch = o->batch_size, per_epoch = (n + batch - 1) / batch;
    int64_t planned = (int64_t)o->epochs * per_epoch;
    if (o->max_steps && o->max_steps < planned) planned = o->max_steps;
    int run_epochs = (int)((planned + per_epoch - 1) / per_epoch);
    /* A one-epoch run plots per step, with val_loss measured about 25 times. */
    int64_t val_every = o->plot && run_epochs == 1 ? (planned + 24) / 25 : 0;
    int64_t *order = malloc((size_t)n * sizeof *order);
    int64_t row_x = d->x->size / n, row_y = d->y->size / n;
    int32_t *xbuf = malloc((size_t)(batch * row_x) * sizeof(int32_t)), *ybuf = malloc((size_t)(batch * row_y) * sizeof(int32_t));
    if (!order || !xbuf || !ybuf) {
        fprintf(stderr, APP ": out of memory for %lld training windows\n", (long long)n);
        exit(NN_EXIT_FAILURE);
    }
    for (int64_t i = 0; i < n; i++) order[i] = i;
    Rng shuffle;
    tensor_rng_seed(&shuffle, o->seed, 0x73687566);
    int64_t done = 0, tokens = 0;
    double started = nn_app_seconds();
    int rc = 0;
    for (int epoch = 1; epoch <= run_epochs && rc == 0; epoch++) {
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)tensor_rng_below(&shuffle, (uint32_t)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int64_t steps = planned - done < per_epoch ? planned - done : per_epoch;
        Progress p = {.quiet = o->quiet, .tty = isatty(fileno(stderr)), .start = nn_app_seconds(), .total = steps};
        double sum = 0;
        int64_t seen = 0;
        for (int64_t s = 0; s < steps; s++) {
            int64_t first = s * batch, count = n - first < batch ? n - first : batch;
            Tensor *xb = gather(d->x, order + first, count, xbuf), *yb = gather(d->y, order + first, count, ybuf);
            double loss;
            rc = nn_train_on_batch(m, xb, yb, &loss);
            tensor_free(xb);
            tensor_free(yb);
            if (rc != 0) break;
            history_push(&h->step_loss, &h->step_val, &h->steps, loss, NAN);
            sum += loss * (double)count;
            seen += count;
            tokens += count * row_x;
            done++;
            if (val_every && done % val_every == 0 && s + 1 < steps)
                nn_evaluate(m, d->vx, d->vy, batch, &h->step_val[h->steps - 1], NULL);
            progress_update(&p, epoch, run_epochs, s + 1, sum / (double)seen, seen * row_x);
        }
        if (rc != 0) break;
        double val_loss;
        nn_evaluate(m, d->vx, d->vy, batch, &val_loss, NULL);
        if (val_every) h->step_val[h->steps - 1] = val_loss;
        history_push(&h->epoch_loss, &h->epoch_val, &h->epochs, sum / (double)seen, val_loss);
        double elapsed = nn_app_seconds() - p.start;
        if (!o->quiet)
            fprintf(stderr, "%sEpoch %d/%d %lld/%lld - %.1fs - loss: %.4f - val_loss: %.4f - %.0f tokens/s%s\n",
                    p.tty ? "\r" : "", epoch, run_epochs, (long long)steps, (long long)steps, elapsed,
                    sum / (double)seen, val_loss, (double)(seen * row_x) / elapsed, p.tty ? "\033[K" : "");
        if (epoch < run_epochs) {
            char heading[48];
            snprintf(heading, sizeof heading, "sample after epoch %d", epoch);
            sample_now(m, sampler, heading);
        }
    }
    double elapsed = nn_app_seconds() - started;
    *tokens_per_s = elapsed > 0 ? (double)tokens / elapsed : NAN;
    free(order);
    free(xbuf);
    free(ybuf);
    return rc;
}

static int write_plot(const Options *o, const History *h) {
    const char *names[] = {"loss", "val_loss"};
    bool per_epoch = h->epochs > 1;
    const double *ys[] = {per_epoch ? h->epoch_loss : h->step_loss, per_epoch ? h->epoch_val : h->step_val};
    int64_t lens[] = {per_epoch ? h->epochs : h->steps, per_epoch ? h->epochs : h->steps};
    char title[128];
    snprintf(title, sizeof title, "sonnets --model %s on %s", kind_names[o->kind], o->data_file);
    if (nn_plot_curves_svg(o->plot, title, per_epoch ? "epoch" : "step",
                           o->kind == WORD ? "cross-entropy per word (nats)" : "cross-entropy per character (nats)",
                           2, names, ys, lens) != 0) {
        fprintf(stderr, APP ": cannot write the plot: %s\n", tensor_last_error());
        return NN_EXIT_FAILURE;
    }
    if (!o->quiet) fprintf(stderr, "plot written to %s\n", o->plot);
    return 0;
}

int main(int argc, char **argv) {
    Options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    rc = NN_EXIT_OK;
    if (o.threads) tensor_set_num_threads(o.threads);

    Corpus corpus = {0};
    Data data = {0};
    History hist = {0};
    Model *m = NULL;
    Sampler sampler = {.o = &o, .c = &corpus};
    tensor_rng_seed(&sampler.rng, o.seed, 0x73616d70);
    /* The character models need no corpus for their summary; the word model's
     * vocabulary comes from it. */
    if (o.kind == WORD || !o.summary) {
        if ((rc = load_corpus(&o, &corpus)) != 0) goto done;
    }
    if (!(m = make_model(&o, o.kind == WORD ? corpus.vocab : NN_CHAR27_SIZE))) {
        rc = NN_EXIT_FAILURE;
        goto done;
    }
    if (o.summary) {
        nn_summary(m, stdout);
        goto done;
    }
    if (o.kind == WORD && !o.quiet)
        fprintf(stderr, "%s: %lld words, vocabulary of %lld (with %s)\n", o.data_file, (long long)corpus.n,
                (long long)corpus.vocab - 1, NN_WORD_UNKNOWN);
    if ((rc = encode_prime(&o, &sampler)) != 0 || (rc = make_data(&o, &corpus, &data)) != 0) goto done;

    double loss = NAN, val_loss = NAN, tokens_per_s = NAN, started = nn_app_seconds();
    if (o.load) {
        if (nn_load_weights(m, o.load) != 0) {
            fprintf(stderr, APP ": cannot load weights: %s\n", tensor_last_error());
            rc = NN_EXIT_USAGE;
            goto done;
        }
        nn_evaluate(m, data.vx, data.vy, o.batch_size, &val_loss, NULL);
        if (o.plot) fprintf(stderr, APP ": --plot skipped: nothing was trained (--load)\n");
    } else {
        if (train(m, &o, &data, &sampler, &hist, &tokens_per_s) != 0) {
            fprintf(stderr, APP ": training failed: %s\n", tensor_last_error());
            rc = NN_EXIT_FAILURE;
            goto done;
        }
        loss = hist.epoch_loss[hist.epochs - 1];
        val_loss = hist.epoch_val[hist.epochs - 1];
        if (o.plot) rc = write_plot(&o, &hist); /* a failure still reports the results, then exits 1 */
    }
    printf("val_loss per %s: %.4f\n", o.kind == WORD ? "word" : "character", val_loss);
    sample_now(m, &sampler, "sample");
    if (o.save) {
        if (nn_save_weights(m, o.save, false) != 0) {
            fprintf(stderr, APP ": cannot save weights: %s\n", tensor_last_error());
            rc = NN_EXIT_FAILURE;
        } else if (!o.quiet) {
            fprintf(stderr, "weights saved to %s\n", o.save);
        }
    }
    if (o.json) {
        NnJson j;
        nn_json_begin(&j, stdout);
        nn_json_string(&j, "model", kind_names[o.kind]);
        nn_json_int(&j, "steps", nn_model_steps(m));
        nn_json_int(&j, "params", nn_model_param_count(m));
        nn_json_int(&j, "vocab", corpus.vocab);
        nn_json_number(&j, "loss", loss);
        nn_json_number(&j, "val_loss", val_loss);
        nn_json_number(&j, "tokens_per_s", tokens_per_s);
        nn_json_number(&j, "seconds", nn_app_seconds() - started);
        nn_json_end(&j);
    }
done:
    free(sampler.prime);
    free(hist.step_loss);
    free(hist.step_val);
    free(hist.epoch_loss);
    free(hist.epoch_val);
    data_free(&data);
    corpus_free(&corpus);
    nn_model_free(m);
    return rc;
}
