/* sonnets: LSTM language models of Shakespeare, written only against nn/nn.h — the
 * sonnets notebook's character models (27 symbols) and the Shakespeare notebook's
 * word model. Trains (or loads) a model, reports the held-out loss per character or
 * word, writes samples generated one symbol at a time with carried LSTM state, and
 * optionally plots the loss curves. `sonnets --help` lists the options. This file:
 * the options and the run from corpus to report. */
#include "sonnets/sonnets_internal.h"

#include "common/flags.h"
#include "common/json.h"
#include "common/status.h"
#include "common/wait_policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The rule that trained to the lower val_loss in 300 updates over 3 seeds
 * (docs/interop.md). */
#define DEFAULT_ADAM_ROWS NN_ADAM_ROWS_PER_LOOKUP
#define DEFAULT_ADAM_ROWS_NAME "per-lookup"

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
            "  --data-file FILE    corpus file: a name inside DIR (default sonnets.txt; tinyshakespeare.txt\n"
            "                      works too), or a path (one with a '/', or a file here that DIR lacks)\n"
            "  --units N           LSTM width (default 256; 64 for char-many-to-one, 128 for word)\n"
            "  --embed N           embedding width (default 64; 128 for word)\n"
            "  --seq-len N         window length in symbols (default 40; 50 for word)\n"
            "  --epochs N          passes over the training windows (default 1)\n"
            "  --max-steps N       stop after N optimizer steps (quick runs)\n"
            "  --batch-size N      windows per step (default 128; 100 for the word model)\n"
            "  --lr X              Adam learning rate (default 0.001)\n"
            APP_ADAM_ROWS_HELP(DEFAULT_ADAM_ROWS_NAME)
            APP_LR_OPTIONS_HELP
            "  --seed N            seed for initial weights, shuffling and sampling (default 0)\n"
            "  --threads N         kernel threads (default: all cores)\n"
            "  --save FILE         write the trained model to FILE: weights, optimizer and training state\n"
            "                      (so --resume FILE can continue it; --load FILE reads its weights); a\n"
            "                      FILE.npz holds the weights alone, Keras-named, for NumPy, PyTorch or\n"
            "                      Keras (docs/interop.md)\n"
            "  --checkpoint-every N  also write that checkpoint every N optimizer steps, or every N epochs\n"
            "                      with a trailing e (500, 1e); to the --save FILE, else the --resume FILE,\n"
            "                      else " DEFAULT_CHECKPOINT "\n"
            "  --resume FILE       continue the run checkpointed in FILE (give the same options; --max-steps\n"
            "                      and --epochs count from the run's start): it ends with the same weights,\n"
            "                      bit for bit, as an uninterrupted run with the same --threads. Later\n"
            "                      checkpoints go to --save FILE if given, else back to FILE\n"
            "  --load FILE         skip training and use weights from FILE (same model and corpus): a\n"
            "                      checkpoint, or an .npz written by --save or scripts/convert_weights.py\n"
            "  --check-numerics    debug mode: check every op's output for NaN and infinities, so a failing\n"
            "                      step names the op where one first appeared (slower)\n"
            "  --summary           print the model table and exit\n"
            "  --plot FILE.svg     plot loss and val_loss per epoch (per step for a one-epoch run)\n"
            "  --sample N          symbols (characters or words) to generate (default 100; 0 for none)\n"
            "  --temperature T     sampling temperature (default 1.0)\n"
            "  --top-p P           nucleus sampling: draw only from the most likely symbols whose\n"
            "                      probabilities add up to P, 0 < P <= 1 (default 1: all of them)\n"
            "  --beam N            write the most likely continuation a beam search of width N finds\n"
            "                      instead of sampling (1: greedy; deterministic, so --temperature and\n"
            "                      --top-p do not apply)\n"
            "  --no-repeat-ngram N  with --beam: never repeat a sequence of N symbols (the prime's included)\n"
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
            "2 for bad options (including sizes beyond the data or this machine's memory, and a --save,\n"
            "--plot or checkpoint path that cannot be written: refused before training), a missing\n"
            "corpus or an unusable --load (missing, unreadable, not a weights file) or --resume file,\n"
            "130 / 143 when stopped by SIGINT / SIGTERM.\n");
}

enum { O_MODEL = APP_OPT_OWN, O_UNITS, O_EMBED, O_SEQ_LEN, O_SAMPLE, O_TEMPERATURE, O_PRIME, O_TOP_P, O_BEAM,
       O_NO_REPEAT_NGRAM, O_ADAM_ROWS };

static const AppOption OWN_OPTIONS[] = {
    {"model", O_MODEL, true},     {"units", O_UNITS, true},   {"embed", O_EMBED, true},
    {"seq-len", O_SEQ_LEN, true}, {"sample", O_SAMPLE, true}, {"temperature", O_TEMPERATURE, true},
    {"prime", O_PRIME, true},     {"top-p", O_TOP_P, true},   {"beam", O_BEAM, true},
    {"no-repeat-ngram", O_NO_REPEAT_NGRAM, true}, {"adam-rows", O_ADAM_ROWS, true},
    {NULL, 0, false}};

static bool parse_kind(const char *value, ModelKind *kind) {
    int k = 0;
    while (k < MODEL_KIND_COUNT && strcmp(value, kind_names[k]) != 0) k++;
    if (k == MODEL_KIND_COUNT) {
        fprintf(stderr, APP ": invalid value '%s' for --model: expected char-many-to-many, "
                        "char-many-to-one or word\n", value);
        return false;
    }
    *kind = (ModelKind)k;
    return true;
}

static bool parse_own(void *options, int id, const char *flag, const char *value) {
    Options *o = options;
    int64_t v;
    switch (id) {
    case O_MODEL: return parse_kind(value, &o->kind);
    case O_UNITS: return app_parse_int(APP, flag, value, 1, 1 << 20, &o->units);
    case O_EMBED: return app_parse_int(APP, flag, value, 1, 1 << 20, &o->embed);
    case O_SEQ_LEN: return app_parse_int(APP, flag, value, 1, INT32_MAX, &o->window);
    case O_SAMPLE:
        if (!app_parse_int(APP, flag, value, 0, 1000000, &v)) return false;
        o->sample = (int)v;
        return true;
    case O_TEMPERATURE:
        o->sampling_set = true;
        return app_parse_float(APP, flag, value, 1e-3, 100.0, &o->temperature);
    case O_PRIME: o->prime = value; return true;
    case O_TOP_P:
        o->sampling_set = true;
        return app_parse_float(APP, flag, value, 1e-6, 1.0, &o->top_p);
    case O_BEAM: return app_parse_int(APP, flag, value, 1, 1000, &o->beam);
    case O_NO_REPEAT_NGRAM: return app_parse_int(APP, flag, value, 1, 1000, &o->no_repeat_ngram);
    case O_ADAM_ROWS: return app_parse_adam_rows(APP, value, &o->adam_rows);
    default: return false;
    }
}

/* --beam searches and the sampling options sample: one or the other. */
static bool check_generation(const Options *o) {
    if (o->beam && o->sampling_set) {
        fprintf(stderr, APP ": --beam writes the most likely continuation it finds; --temperature and --top-p "
                        "are for sampling: give one or the other\n");
        return false;
    }
    if (o->no_repeat_ngram && !o->beam) {
        fprintf(stderr, APP ": --no-repeat-ngram applies to --beam: give --beam N too\n");
        return false;
    }
    return true;
}

/* Returns -1 to go on, or the status to exit with (0 after --help or --version). */
static int parse_options(int argc, char **argv, Options *o) {
    *o = (Options){.common = {.data_file = "sonnets.txt", .epochs = 1, .lr = 1e-3}, .sample = 100,
                   .temperature = 1.0, .top_p = 1.0, .adam_rows = DEFAULT_ADAM_ROWS};
    const AppOptionSpec spec = {.app = APP, .usage = usage, .default_checkpoint = DEFAULT_CHECKPOINT,
                                .accepts = APP_OPT_ALL, .max_epochs = 1000000, .max_steps = INT64_MAX,
                                .max_batch_size = 1 << 20, .own = OWN_OPTIONS, .parse_own = parse_own,
                                .app_options = o};
    int rc = app_parse_options(&spec, &o->common, argc, argv);
    if (rc >= 0) return rc;
    if (!app_check_resume_or_load(&o->common) || !check_generation(o)) return APP_EXIT_USAGE;
    /* Before the corpus is read and the model built: what the run writes and loads. */
    if (!app_check_fit_outputs(&o->common, NULL, 0) || !app_check_load(&o->common)) return APP_EXIT_USAGE;
    AppOptions *c = &o->common;
    if (!c->batch_size) c->batch_size = o->kind == WORD ? 100 : 128;
    if (!o->window) o->window = o->kind == WORD ? 50 : 40;
    if (!o->units) o->units = o->kind == WORD ? 128 : o->kind == CHAR_MANY_TO_ONE ? 64 : 256;
    if (!o->embed) o->embed = o->kind == WORD ? 128 : 64;
    return -1;
}

/* Everything a run holds, freed by run_free. */
typedef struct Run {
    const Options *o;
    Corpus corpus;
    Data data;
    Sampler sampler;
    Trainer trainer;
    Model *m;
    NnHistory *history; /* NULL when the weights were loaded */
    double loss, val_loss, tokens_per_s, started;
} Run;

/* The corpus, the model and the windows; returns -1 to go on, else the status to
 * exit with (0 after --summary). */
static int prepare(Run *r) {
    const Options *o = r->o;
    int rc;
    /* The character models need no corpus for their summary; the word model's
     * vocabulary comes from it. */
    if (o->kind == WORD || !o->common.summary) {
        if ((rc = corpus_load(o, &r->corpus)) != 0) return rc;
    }
    int64_t vocab = o->kind == WORD ? r->corpus.vocab : NN_CHAR27_SIZE;
    if (!o->common.summary && (rc = check_length(o, &r->corpus)) != 0) return rc;
    if ((rc = check_memory(o, vocab, o->common.summary ? 0 : r->corpus.n)) != 0) return rc;
    if (!(r->m = make_model(o, vocab))) return APP_EXIT_FAILURE;
    if (o->common.summary) {
        nn_summary(r->m, stdout);
        return APP_EXIT_OK;
    }
    nn_model_check_numerics(r->m, o->common.check_numerics);
    if (o->kind == WORD && !o->common.quiet)
        fprintf(stderr, "%s: %lld words, vocabulary of %lld (with %s)\n", o->common.data_file,
                (long long)r->corpus.n, (long long)r->corpus.vocab - 1, NN_WORD_UNKNOWN);
    if ((rc = encode_prime(o, &r->sampler)) != 0 || (rc = make_data(o, &r->corpus, &r->data)) != 0) return rc;
    return -1;
}

/* --load's weights, evaluated; or training. Returns -1 to go on, else the status to
 * exit with. */
static int load_or_train(Run *r) {
    const Options *o = r->o;
    r->loss = r->val_loss = r->tokens_per_s = NAN;
    r->started = tensor_seconds();
    if (o->common.load) {
        if (app_load_weights(&o->common, r->m) != 0) {
            fprintf(stderr, APP ": cannot load weights: %s\n", tensor_last_error());
            return APP_EXIT_USAGE;
        }
        nn_evaluate(r->m, r->data.vx, r->data.vy, o->common.batch_size, &r->val_loss, NULL);
        if (o->common.plot) fprintf(stderr, APP ": --plot skipped: nothing was trained (--load)\n");
        return -1;
    }
    Trainer *t = &r->trainer;
    r->history = train(r->m, o, &r->data, t);
    bool line_open = t->progress.tty && !o->common.quiet;
    if (!r->history) return app_fit_failed(&o->common, r->m, line_open && t->epoch);
    if (r->history->signal) return app_fit_interrupted(&o->common, r->m, r->history->signal, line_open);
    double seconds = t->train_seconds > 0 ? t->train_seconds : tensor_seconds() - t->started;
    r->tokens_per_s = t->tokens && seconds > 0 ? (double)t->tokens / seconds : NAN;
    if (r->history->epochs > 0) {
        r->loss = r->history->loss[r->history->epochs - 1];
        r->val_loss = r->history->val_loss[r->history->epochs - 1];
    } else {
        nn_evaluate(r->m, r->data.vx, r->data.vy, o->common.batch_size, &r->val_loss, NULL);
    }
    return -1;
}

static void write_json(const Run *r) {
    AppJson j;
    app_json_begin(&j, stdout);
    app_json_string(&j, "model", kind_names[r->o->kind]);
    app_json_int(&j, "steps", nn_model_steps(r->m));
    app_json_int(&j, "params", nn_model_param_count(r->m));
    app_json_int(&j, "vocab", r->corpus.vocab);
    app_json_number(&j, "loss", r->loss);
    app_json_number(&j, "val_loss", r->val_loss);
    app_json_number(&j, "tokens_per_s", r->tokens_per_s);
    app_json_number(&j, "seconds", tensor_seconds() - r->started);
    app_json_end(&j);
}

/* The plot, the held-out loss, a sample, --save after --load and the JSON line.
 * Returns the exit status: a failed plot or save still reports the results. */
static int report(Run *r) {
    const Options *o = r->o;
    int rc = APP_EXIT_OK;
    if (r->history && o->common.plot) rc = write_plot(o, r->history, &r->trainer.steps);
    printf("val_loss per %s: %.4f\n", o->kind == WORD ? "word" : "character", r->val_loss);
    sample_now(r->m, &r->sampler, "sample");
    if (app_save_model(&o->common, r->m, "weights") != 0) rc = APP_EXIT_FAILURE;
    if (o->common.save && rc != APP_EXIT_FAILURE && !o->common.quiet)
        fprintf(stderr, "weights saved to %s\n", o->common.save);
    if (o->common.json) write_json(r);
    return rc;
}

static void run_free(Run *r) {
    free(r->sampler.prime);
    free(r->trainer.steps.loss);
    free(r->trainer.steps.val);
    nn_history_free(r->history);
    data_free(&r->data);
    corpus_free(&r->corpus);
    nn_model_free(r->m);
}

int main(int argc, char **argv) {
    app_choose_wait_policy(argv);
    Options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    if (o.common.threads) tensor_set_num_threads(o.common.threads);
    Run r = {.o = &o};
    r.sampler = (Sampler){.o = &o, .c = &r.corpus};
    r.trainer = (Trainer){.o = &o, .d = &r.data, .sampler = &r.sampler};
    tensor_rng_seed(&r.sampler.rng, o.common.seed, 0x73616d70);
    if ((rc = prepare(&r)) < 0 && (rc = load_or_train(&r)) < 0) rc = report(&r);
    run_free(&r);
    return rc;
}
