/* sherlock: the next-word model of the Sherlock Holmes notebook, written only against
 * the nn API. Three words in, the fourth out: Embedding(V+1, 10) → LSTM(1000,
 * sequences) → LSTM(1000) → Dense(1000, relu) → Dense(V+1, softmax). Trains (or
 * loads) it, reports held-out loss and top-1 / top-5 accuracy, and predicts the next
 * words of a phrase. `sherlock --help` lists the options. This file: the options and
 * the run from corpus to report. */
#include "sherlock/sherlock_internal.h"

#include "common/flags.h"
#include "common/json.h"
#include "common/status.h"
#include "common/wait_policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The rule that trained to the lower val_loss in 300 updates over 3 seeds
 * (docs/interop.md). */
#define DEFAULT_ADAM_ROWS NN_ADAM_ROWS_SUMMED
#define DEFAULT_ADAM_ROWS_NAME "summed"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: sherlock [OPTIONS]\n"
            "Train the Sherlock Holmes next-word model (3 words in, the next out) and report held-out\n"
            "loss and top-1 / top-5 accuracy; or load a trained one and predict the next words.\n\n"
            "Pipeline: sherlock.txt's lines joined, whitespace collapsed, Keras Tokenizer words (V = 8,638),\n"
            "every 4 consecutive words a window (3 context + next); the last 10%% of the windows validate.\n"
            "Model: Embedding(V+1, E) -> LSTM(U, sequences) -> LSTM(U) -> Dense(U, relu) -> Dense(V+1, softmax),\n"
            "sparse cross-entropy, Adam. The full model (U=1000, E=10) has 21.8M parameters and needs ~0.5 GB;\n"
            "one epoch is 1,519 steps of 64: about 6.5 minutes at the 246-251 windows/s measured on a quiet\n"
            "2-core AMD EPYC (Zen 4) on 2026-12-02, and 2-3x longer when other programs share the cores\n"
            "(--max-steps 50 shows your rate and ETA). There --units 256 trained ~10x faster (2,500\n"
            "windows/s) and --units 64 ~50x (11,600-13,500 windows/s).\n\n"
            "  --data DIR          corpus directory (default: $DATA_DIR, else the repository's data/)\n"
            "  --data-file FILE    corpus file: a name inside DIR (default sherlock.txt), or a path (one\n"
            "                      with a '/', or a file here that DIR lacks)\n"
            "  --units U           LSTM and hidden Dense width (default 1000)\n"
            "  --embed E           embedding width (default 10)\n"
            "  --epochs N          passes over the training windows (default 1)\n"
            "  --max-steps N       stop after N optimizer steps (quick runs; default: no limit)\n"
            "  --batch-size N      windows per step (default 64)\n"
            "  --lr X              Adam learning rate (default 0.001)\n"
            APP_ADAM_ROWS_HELP(DEFAULT_ADAM_ROWS_NAME)
            APP_LR_OPTIONS_HELP
            "  --seed N            seed for initial weights, shuffling and --generate's sampling (default 0)\n"
            "  --threads N         kernel threads (default: all cores)\n"
            "  --save FILE         write the model to FILE (weights, optimizer and training state, so\n"
            "                      --resume FILE can continue it) and the vocabulary to FILE.vocab; a\n"
            "                      FILE.npz holds the weights alone, Keras-named (docs/interop.md)\n"
            "  --checkpoint-every N  also write that checkpoint every N optimizer steps, or every N epochs\n"
            "                      with a trailing e (500, 1e); to the --save FILE, else the --resume FILE,\n"
            "                      else " DEFAULT_CHECKPOINT "\n"
            "  --resume FILE       continue the run checkpointed in FILE (give the same options; --max-steps\n"
            "                      and --epochs count from the run's start): it ends with the same weights,\n"
            "                      bit for bit, as an uninterrupted run with the same --threads. Later\n"
            "                      checkpoints go to --save FILE if given, else back to FILE\n"
            "  --check-numerics    debug mode: check every op's output for NaN and infinities, so a failing\n"
            "                      step names the op where one first appeared (slower)\n"
            "  --load FILE         skip training: use FILE's weights (a checkpoint or an .npz) and\n"
            "                      FILE.vocab's vocabulary (which also restores --units/--embed; without\n"
            "                      FILE.vocab the vocabulary is rebuilt from the corpus, which is\n"
            "                      deterministic)\n"
            "  --predict PHRASE    print the most likely next words after PHRASE's last 3 known words\n"
            "                      (needs --load FILE)\n"
            "  --top-k K           how many next words --predict prints (default 5)\n"
            "  --generate N        after each prediction, continue the phrase by N words: sampled, or the\n"
            "                      most likely continuation a --beam search finds (needs --load FILE)\n"
            "  --top-p P           sample each word from the most likely words whose probabilities add up\n"
            "                      to P, 0 < P <= 1 (default 1: all of them)\n"
            "  --beam K            continue by a beam search of width K instead of sampling (1: greedy)\n"
            "  --no-repeat-ngram N  with --beam: never repeat a sequence of N words (the phrase's included)\n"
            "  --interactive       read phrases line by line from stdin (needs --load FILE; the default\n"
            "                      with --load and no --predict when stdin is a terminal)\n"
            "  --summary           print the model table and exit\n"
            "  --plot FILE.svg     draw the training loss (and val_loss after each epoch)\n"
            "  --quiet             no progress display\n"
            "  --json              end stdout with one JSON line: vocab, windows, params, steps, loss,\n"
            "                      val_loss, top1, top5, samples_per_s, tokens_per_s (= samples_per_s: one\n"
            "                      predicted word per window), seconds; with --predict also context,\n"
            "                      next_1, p_1, ... next_K, p_K, and with --generate generated\n"
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
            "Exit status: 0 on success, 1 when training, loading or I/O fails (also an unusable --load\n"
            "file: missing, unreadable or not a weights file, refused before the model is built), 2 for\n"
            "bad options (including a model too large for this machine's memory, --predict or\n"
            "--interactive without --load, and a --save, --plot or checkpoint path that cannot be\n"
            "written: refused before training), a missing corpus, an unusable --resume file or a phrase\n"
            "with fewer than 3 known words, 130 / 143 when stopped by SIGINT / SIGTERM.\n");
}

enum { O_UNITS = APP_OPT_OWN, O_EMBED, O_PREDICT, O_TOP_K, O_INTERACTIVE, O_GENERATE, O_TOP_P, O_BEAM,
       O_NO_REPEAT_NGRAM, O_ADAM_ROWS };

static const AppOption OWN_OPTIONS[] = {
    {"units", O_UNITS, true},       {"embed", O_EMBED, true},
    {"predict", O_PREDICT, true},   {"top-k", O_TOP_K, true},
    {"interactive", O_INTERACTIVE, false},
    {"generate", O_GENERATE, true}, {"top-p", O_TOP_P, true},
    {"beam", O_BEAM, true},         {"no-repeat-ngram", O_NO_REPEAT_NGRAM, true},
    {"adam-rows", O_ADAM_ROWS, true}, {NULL, 0, false}};

static bool parse_own(void *options, int id, const char *flag, const char *value) {
    Options *o = options;
    switch (id) {
    case O_UNITS: o->units_set = true; return app_parse_int(APP, flag, value, 1, 1 << 20, &o->units);
    case O_EMBED: o->embed_set = true; return app_parse_int(APP, flag, value, 1, 1 << 20, &o->embed);
    case O_PREDICT: o->predict = value; return true;
    case O_TOP_K: return app_parse_int(APP, flag, value, 1, 1000000, &o->top_k);
    case O_INTERACTIVE: o->interactive = true; return true;
    case O_GENERATE: return app_parse_int(APP, flag, value, 1, 1000, &o->gen.words);
    case O_TOP_P: o->top_p_set = true; return app_parse_float(APP, flag, value, 1e-6, 1.0, &o->gen.top_p);
    case O_BEAM: return app_parse_int(APP, flag, value, 1, 1000, &o->gen.beam);
    case O_NO_REPEAT_NGRAM: return app_parse_int(APP, flag, value, 1, 1000, &o->gen.no_repeat_ngram);
    case O_ADAM_ROWS: return app_parse_adam_rows(APP, value, &o->adam_rows);
    default: return false;
    }
}

/* Before the vocabulary and the model are built: what the run writes (the vocabulary
 * goes to --save FILE.vocab) and --load's file. Returns -1 to go on, else the status. */
static int check_files(const Options *o) {
    char vocab[4096];
    if (o->common.save) snprintf(vocab, sizeof vocab, "%s.vocab", o->common.save);
    const AppOutput extra = {"--save (its vocabulary)", o->common.save ? vocab : NULL};
    if (!app_check_fit_outputs(&o->common, &extra, 1)) return APP_EXIT_USAGE;
    return app_check_load(&o->common) ? -1 : APP_EXIT_FAILURE;
}

/* --top-p, --beam and --no-repeat-ngram shape --generate's words: they need it, and
 * --beam searches where --top-p samples. */
static bool check_generation(const Options *o) {
    const Generation *g = &o->gen;
    const char *alone = g->words            ? NULL
                        : g->beam            ? "--beam"
                        : o->top_p_set       ? "--top-p"
                        : g->no_repeat_ngram ? "--no-repeat-ngram"
                                             : NULL;
    if (alone) fprintf(stderr, "%s: %s applies to --generate: give --generate N too\n", APP, alone);
    else if (g->beam && o->top_p_set)
        fprintf(stderr, "%s: --beam writes the most likely continuation it finds; --top-p is for sampling: give "
                        "one or the other\n", APP);
    else if (g->no_repeat_ngram && !g->beam)
        fprintf(stderr, "%s: --no-repeat-ngram applies to --beam: give --beam K too\n", APP);
    else
        return true;
    return false;
}

/* Returns -1 to go on, or the status to exit with (0 after --help or --version). */
static int parse_options(int argc, char **argv, Options *o) {
    *o = (Options){.common = {.data_file = "sherlock.txt", .epochs = 1, .batch_size = 64, .lr = 1e-3},
                   .units = 1000, .embed = 10, .top_k = 5, .gen = {.top_p = 1.0},
                   .adam_rows = DEFAULT_ADAM_ROWS};
    const AppOptionSpec spec = {.app = APP, .usage = usage, .default_checkpoint = DEFAULT_CHECKPOINT,
                                .accepts = APP_OPT_ALL, .max_epochs = 100000, .max_steps = INT64_MAX,
                                .max_batch_size = 1 << 16, .own = OWN_OPTIONS, .parse_own = parse_own,
                                .app_options = o, .bad_option = "unknown option or missing value:"};
    int rc = app_parse_options(&spec, &o->common, argc, argv);
    if (rc >= 0) return rc;
    if (!app_check_resume_or_load(&o->common)) return APP_EXIT_USAGE;
    if ((o->predict || o->interactive || o->gen.words) && !o->common.load) {
        fprintf(stderr, "%s: %s needs a trained model: give --load FILE (train one first with --save FILE)\n",
                APP, o->predict ? "--predict" : o->interactive ? "--interactive" : "--generate");
        return APP_EXIT_USAGE;
    }
    if (!check_generation(o)) return APP_EXIT_USAGE;
    return check_files(o);
}

/* Everything a run holds, freed by run_free. */
typedef struct Run {
    Options *o;
    bool ask;             /* read phrases from stdin */
    bool evaluate_loaded; /* evaluate --load's weights on the validation windows */
    bool need_windows;
    NnTokenizer *tok;
    int32_t *ids;
    int64_t n_ids, windows, n_val;
    Model *m;
    Tensor *x, *y, *vx, *vy;
    Metrics metrics;
    Curve curve;
    Prediction pred;
} Run;

/* The vocabulary, the corpus, the model and the windows; returns -1 to go on, else
 * the status to exit with (0 after --summary). */
static int prepare(Run *r) {
    Options *o = r->o;
    int status;
    if (o->common.load && (status = load_vocab(o, &r->tok)) != 0) return status;
    r->need_windows = !o->common.summary && (!o->common.load || r->evaluate_loaded);
    if ((!r->tok || r->need_windows) && (status = read_corpus(o, &r->tok, &r->ids, &r->n_ids)) != 0)
        return status;
    int64_t classes = nn_tokenizer_vocab_size(r->tok) + 1;
    if ((status = check_memory(o, classes)) != 0) return status;
    if (!(r->m = make_model(o, classes))) return APP_EXIT_FAILURE;
    if (o->common.summary) {
        nn_summary(r->m, stdout);
        return APP_EXIT_OK;
    }
    if (r->need_windows) {
        if (nn_windows_next(r->ids, r->n_ids, CONTEXT, 1, &r->x, &r->y) != 0 || r->x->shape[0] < 10) {
            fprintf(stderr, "%s: %s has too few words (%lld) for training and validation windows\n", APP,
                    o->common.data_file, (long long)r->n_ids);
            return APP_EXIT_USAGE;
        }
        r->windows = r->x->shape[0];
        r->n_val = r->windows / 10; /* the last 10% of the windows, in text order */
        r->vx = rows(r->x, r->windows - r->n_val, r->n_val);
        r->vy = rows(r->y, r->windows - r->n_val, r->n_val);
    }
    return -1;
}

/* --load's weights (evaluated unless predicting); or training. Returns -1 to go on,
 * else the status to exit with. */
static int load_or_train(Run *r) {
    const Options *o = r->o;
    int status;
    if (o->common.load) {
        if (app_load_weights(&o->common, r->m) != 0) {
            fprintf(stderr, "%s: cannot load weights: %s\n", APP, tensor_last_error());
            return APP_EXIT_FAILURE;
        }
        r->metrics.steps = 0;
        if (r->evaluate_loaded && evaluate(r->m, r->vx, r->vy, &r->metrics) != 0) {
            fprintf(stderr, "%s: evaluation failed: %s\n", APP, tensor_last_error());
            return APP_EXIT_FAILURE;
        }
        return -1;
    }
    if (!o->common.quiet)
        fprintf(stderr,
                "%s: %lld words, vocabulary %lld, %lld training and %lld validation windows, %lld parameters\n",
                APP, (long long)r->n_ids, (long long)nn_tokenizer_vocab_size(r->tok),
                (long long)(r->windows - r->n_val), (long long)r->n_val,
                (long long)nn_model_param_count(r->m));
    nn_model_check_numerics(r->m, o->common.check_numerics);
    /* The vocabulary first, so a checkpoint can be used (--load) even if training stops. */
    if (o->common.save && (status = save_vocab(o, r->tok, o->common.save)) != 0) return status;
    status = train(r->m, o, r->x, r->y, r->windows - r->n_val, r->vx, r->vy, &r->metrics, &r->curve);
    return status != 0 ? status : -1;
}

static void write_json(const Run *r) {
    AppJson j;
    app_json_begin(&j, stdout);
    app_json_int(&j, "vocab", nn_tokenizer_vocab_size(r->tok));
    app_json_int(&j, "windows", r->windows);
    app_json_int(&j, "val_windows", r->n_val);
    app_json_int(&j, "params", nn_model_param_count(r->m));
    app_json_int(&j, "units", r->o->units);
    app_json_int(&j, "embed", r->o->embed);
    app_json_int(&j, "batch_size", r->o->common.batch_size);
    app_json_int(&j, "steps", r->metrics.steps);
    app_json_number(&j, "loss", r->metrics.loss);
    app_json_number(&j, "val_loss", r->metrics.val_loss);
    app_json_number(&j, "top1", r->metrics.top1);
    app_json_number(&j, "top5", r->metrics.top5);
    app_json_number(&j, "samples_per_s", r->metrics.samples_per_s);
    app_json_number(&j, "tokens_per_s", r->metrics.samples_per_s);
    app_json_number(&j, "seconds", r->metrics.seconds);
    const Prediction *pred = &r->pred;
    if (pred->k) {
        app_json_string(&j, "context", pred->context);
        for (int64_t i = 0; i < pred->k; i++) {
            char key[32];
            snprintf(key, sizeof key, "next_%lld", (long long)(i + 1));
            app_json_string(&j, key, pred->words[i]);
            snprintf(key, sizeof key, "p_%lld", (long long)(i + 1));
            app_json_number(&j, key, pred->p[i]);
        }
        if (r->o->gen.words) app_json_string(&j, "generated", pred->generated);
    }
    app_json_end(&j);
}

/* The held-out results, --save after --load, the plot, predictions and the JSON
 * line. Returns the exit status. */
static int report(Run *r) {
    const Options *o = r->o;
    int status;
    if (r->need_windows)
        printf("val_loss %.4f  top1 %.4f  top5 %.4f  (%lld validation windows, %lld steps)\n",
               r->metrics.val_loss, r->metrics.top1, r->metrics.top5, (long long)r->n_val,
               (long long)r->metrics.steps);
    if ((status = app_save_model(&o->common, r->m, "the model")) != 0) return status;
    if (o->common.save && o->common.load && (status = save_vocab(o, r->tok, o->common.save)) != 0) return status;
    if (o->common.plot) {
        if (o->common.load)
            fprintf(stderr, "%s: --plot draws the training loss; nothing to draw with --load\n", APP);
        else if (write_plot(o->common.plot, &r->curve) != 0) {
            fprintf(stderr, "%s: cannot write the plot: %s\n", APP, tensor_last_error());
            return APP_EXIT_FAILURE;
        }
    }
    Generation *g = &r->o->gen;
    if (o->predict && (status = predict(r->m, r->tok, o->predict, o->top_k, g, &r->pred)) != 0) return status;
    if (r->ask && (status = interactive(r->m, r->tok, o->top_k, g)) != 0) return status;
    if (o->common.json) write_json(r);
    return APP_EXIT_OK;
}

static void run_free(Run *r) {
    free(r->curve.loss);
    tensor_free(r->vx);
    tensor_free(r->vy);
    tensor_free(r->x);
    tensor_free(r->y);
    free(r->ids);
    nn_model_free(r->m);
    nn_tokenizer_free(r->tok);
}

int main(int argc, char **argv) {
    app_choose_wait_policy(argv);
    Options o;
    int status = parse_options(argc, argv, &o);
    if (status >= 0) return status;
    if (o.common.threads) tensor_set_num_threads(o.common.threads);
    Run r = {.o = &o, .metrics = {.loss = NAN, .val_loss = NAN, .top1 = NAN, .top5 = NAN, .samples_per_s = NAN,
                                  .seconds = NAN}};
    r.ask = o.interactive || (o.common.load && !o.predict && isatty(STDIN_FILENO));
    r.evaluate_loaded = o.common.load && !o.predict && !r.ask;
    tensor_rng_seed(&o.gen.rng, o.common.seed, 0x73616d70);
    if ((status = prepare(&r)) < 0 && (status = load_or_train(&r)) < 0) status = report(&r);
    run_free(&r);
    return status;
}
