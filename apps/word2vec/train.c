/* word2vec's training: the corpora read and tokenised, --summary (the objective and
 * its tables), the progress line,
 * checkpoints, and a run that SIGINT / SIGTERM stop between rounds with the state
 * saved and the command that resumes it. */
#include "word2vec/word2vec_internal.h"

#include "common/data.h"
#include "common/interrupt.h"
#include "common/memory.h"
#include "common/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* What the training callbacks need. */
typedef struct TrainContext {
    NnProgbar bar;          /* one line for the whole run, started at the first report */
    bool started, resumed;
    const char *checkpoint; /* where training state goes */
} TrainContext;

enum { BAR_STEPS = 10000 }; /* the bar counts ten-thousandths of the run */

static void on_progress(const NnW2vProgress *p, void *user) {
    TrainContext *ck = user;
    int64_t step = (int64_t)(p->fraction * BAR_STEPS);
    if (step > BAR_STEPS) step = BAR_STEPS;
    if (!ck->started) { /* a resumed run's ETA counts from its first report */
        nn_progbar_start(&ck->bar, &(NnProgbarOpts){.epochs = p->epochs, .total = BAR_STEPS,
                                                    .first_step = ck->resumed ? step : 0, .unit = "words",
                                                    .percent = true, .start = tensor_seconds() - p->seconds});
        ck->started = true;
    }
    ck->bar.o.epoch = p->epoch; /* the first thread's epoch, as the bar spans them all */
    /* loss: the first thread's since the last report, as it moves; epoch_loss: the
     * last finished epoch's over all threads, the figure the run ends with. */
    const NnMetric metrics[] = {{"loss", p->loss, false}, {"epoch_loss", p->epoch_loss, true},
                                {"alpha", p->alpha, true}};
    nn_progbar_update(&ck->bar, step, (int64_t)(p->words_per_s * p->seconds), 3, metrics);
    if (p->fraction >= 1.0) nn_progbar_finish(&ck->bar, 3, metrics);
}

NnW2vCorpus *read_corpus(const Options *o) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    for (int i = 0; i < o->n_corpus; i++) {
        int64_t len;
        const char *name = o->corpus[i];
        char *text = app_read_corpus(APP, o->common.data_dir, name, &len);
        if (!text) {
            nn_w2v_corpus_free(c);
            return NULL;
        }
        nn_w2v_corpus_add(c, text, len);
        free(text);
    }
    if (nn_w2v_corpus_raw_words(c) == 0) {
        fprintf(stderr, APP ": the corpus (%s%s) holds no words (letters a-z): nothing to train on\n", o->corpus[0],
                o->n_corpus > 1 ? " and the others" : "");
        nn_w2v_corpus_free(c);
        return NULL;
    }
    if (nn_w2v_corpus_finish(c, o->min_count) != 0) {
        fprintf(stderr, APP ": %s\n", tensor_last_error());
        nn_w2v_corpus_free(c);
        return NULL;
    }
    return c;
}

/* Negative samples the run draws: none with --softmax (whose default 5 is moot). */
static int negatives(const Options *o) { return o->softmax ? 0 : (int)o->negative; }

const char *mode_name(const Options *o, char *buf, size_t cap) {
    if (o->softmax) snprintf(buf, cap, "softmax");
    else snprintf(buf, cap, "%s%s%s", o->cbow ? (o->cbow_mean ? "cbow-mean" : "cbow-sum") : "sg",
                  o->hs ? "-hs" : "", negatives(o) ? "-ns" : "");
    return buf;
}

static void table_line(const char *name, int64_t rows, int64_t dim) {
    char shape[48];
    snprintf(shape, sizeof shape, "(%lld, %lld)", (long long)rows, (long long)dim);
    printf("%-34s %-16s %12lld\n", name, shape, (long long)(rows * dim));
}

void summary(const Options *o, const NnW2vCorpus *c) {
    int64_t v = nn_w2v_corpus_vocab_size(c), total = v * o->dim;
    char objective[160];
    int n = snprintf(objective, sizeof objective, "%s", o->softmax ? "skip-gram with the full softmax" :
                                                        o->cbow ? (o->cbow_mean ? "CBOW (context mean)" : "CBOW (context sum)") :
                                                                  "skip-gram");
    if (o->hs) n += snprintf(objective + n, sizeof objective - (size_t)n, " with hierarchical softmax");
    if (negatives(o))
        snprintf(objective + n, sizeof objective - (size_t)n, "%s negative sampling (%lld negatives)",
                 o->hs ? " and" : " with", (long long)o->negative);
    printf("word2vec: %s, window %lld\n", objective, (long long)o->window);
    printf("corpus: %lld words, %lld sentences; vocabulary: %lld words seen >= %lld times\n",
           (long long)nn_w2v_corpus_raw_words(c), (long long)nn_w2v_corpus_sentences(c), (long long)v,
           (long long)o->min_count);
    printf("%-34s %-16s %12s\n", "Table", "Shape", "Param #");
    table_line("input vectors (Embedding)", v, o->dim);
    if (o->softmax || negatives(o)) {
        table_line(o->softmax ? "softmax output vectors" : "negative-sampling output (syn1neg)", v, o->dim);
        total += v * o->dim;
    }
    if (o->hs && v > 1) {
        table_line("tree inner nodes (syn1)", v - 1, o->dim);
        total += (v - 1) * o->dim;
    }
    printf("Total params: %lld\n", (long long)total);
}

static int write_checkpoint(NnWord2Vec *m, void *user) {
    const TrainContext *ck = user;
    if (nn_w2v_save_state(m, ck->checkpoint) != 0) {
        fprintf(stderr, APP ": cannot write the checkpoint: %s\n", tensor_last_error());
        return -1;
    }
    return 0;
}

/* After a signal stopped training between rounds: the state to the checkpoint, the
 * vectors so far to --save, and how to resume. Returns the exit status. */
static int report_stopped(const Options *o, NnWord2Vec *m, const NnW2vStats *stats,
                          const NnWordVectors *wv, TrainContext *ck) {
    int signo = (int)*app_stop_flag();
    nn_progbar_break(&ck->bar);
    if (nn_w2v_save_state(m, ck->checkpoint) != 0) {
        fprintf(stderr, APP ": stopped by a signal, but cannot write the checkpoint: %s\n",
                tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    fprintf(stderr, APP ": stopped by %s after %lld corpus words; checkpoint written to %s\n",
            app_signal_name(signo), (long long)stats->words, ck->checkpoint);
    if (o->common.save) {
        if (nn_vectors_write(wv, o->common.save, true) == 0)
            fprintf(stderr, APP ": vectors so far written to %s\n", o->common.save);
        else
            fprintf(stderr, APP ": cannot save the vectors so far: %s\n", tensor_last_error());
    }
    app_print_resume_command(&o->common, ck->checkpoint);
    return APP_EXIT_SIGNAL_BASE + signo;
}

int train(const Options *o, const NnW2vCorpus *corpus, NnW2vStats *stats, EpochLosses *losses,
          NnWordVectors **wv) {
    const AppOptions *c = &o->common;
    /* The objective's tables (input, output, tree: about V rows each), and with
     * several deterministic threads each one's copies of the rows it touches in a
     * round (at most every table). */
    double rows = (double)nn_w2v_corpus_vocab_size(corpus);
    int tables = 1 + (o->softmax || negatives(o)) + o->hs;
    double copies = c->threads > 1 && !o->hogwild ? (double)tables * (double)c->threads : 0;
    char detail[128];
    snprintf(detail, sizeof detail, "%.0f words x %lld dimensions, %d tables + %.0f thread copies", rows,
             (long long)o->dim, tables, copies);
    if (!app_fits_in_memory(APP, "training", detail, (tables + copies) * rows * (double)o->dim * sizeof(float)))
        return APP_EXIT_USAGE;
    const int64_t per_pass = nn_w2v_corpus_raw_words(corpus);
    const int64_t batch =
        c->batch_size ? c->batch_size : nn_w2v_default_batch_words(corpus, c->epochs, c->threads);
    TrainContext ck = {.resumed = c->resume != NULL,
                       .checkpoint = o->checkpoint ? o->checkpoint : c->resume ? c->resume : DEFAULT_CHECKPOINT};
    if (o->softmax && !c->quiet)
        fprintf(stderr, APP ": --softmax costs O(V) per pair (%lld output rows each): meant for small corpora "
                        "and teaching\n", (long long)nn_w2v_corpus_vocab_size(corpus));
    NnWord2Vec *m = nn_w2v(corpus, .dim = o->dim, .window = (int)o->window, .negative = negatives(o),
                           .no_negative = !o->softmax && o->negative == 0, .hs = o->hs, .cbow = o->cbow,
                           .cbow_sum = o->cbow && !o->cbow_mean, .softmax = o->softmax,
                           .sample = o->sample, .no_sample = o->sample == 0, .iter = c->epochs,
                           .alpha = (float)c->lr, .min_alpha = (float)o->min_alpha, .threads = c->threads,
                           .hogwild = o->hogwild, .seed = c->seed, .batch_words = batch,
                           .max_words = c->max_steps * batch, .on_progress = c->quiet ? NULL : on_progress,
                           .user = &ck, .stop = app_stop_flag(),
                           .checkpoint_words = c->checkpoint_every * (c->checkpoint_in_epochs ? per_pass : 1),
                           .on_checkpoint = c->checkpoint_every ? write_checkpoint : NULL);
    if (!m) {
        fprintf(stderr, APP ": %s\n", tensor_last_error());
        return APP_EXIT_USAGE;
    }
    if (c->resume && nn_w2v_load_state(m, c->resume) != 0) {
        fprintf(stderr, APP ": cannot resume: %s\n", tensor_last_error());
        nn_w2v_free(m);
        return APP_EXIT_USAGE;
    }
    app_catch_stop_signals();
    int trained = nn_w2v_train(m, stats);
    app_release_stop_signals();
    losses->loss = tensor_xmalloc((size_t)c->epochs * sizeof *losses->loss);
    losses->n = nn_w2v_epoch_losses(m, losses->loss, c->epochs);
    int rc = -1;
    if (trained < 0 || !(*wv = nn_w2v_word_vectors(m))) {
        fprintf(stderr, APP ": training failed: %s\n", tensor_last_error());
        rc = APP_EXIT_FAILURE;
    } else if (trained == 1) { /* stopped by a signal between rounds */
        rc = report_stopped(o, m, stats, *wv, &ck);
        nn_word_vectors_free(*wv);
        *wv = NULL;
    }
    nn_w2v_free(m);
    return rc;
}
