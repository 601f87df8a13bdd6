/* word2vec's training: the corpora read and tokenised, --summary, the progress line,
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

void summary(const Options *o, const NnW2vCorpus *c) {
    int64_t v = nn_w2v_corpus_vocab_size(c);
    printf("word2vec: skip-gram with negative sampling (window %lld, %lld negatives)\n", (long long)o->window,
           (long long)o->negative);
    printf("corpus: %lld words, %lld sentences; vocabulary: %lld words seen >= %lld times\n",
           (long long)nn_w2v_corpus_raw_words(c), (long long)nn_w2v_corpus_sentences(c), (long long)v,
           (long long)o->min_count);
    printf("%-28s %-16s %12s\n", "Table", "Shape", "Param #");
    printf("%-28s (%lld, %lld)%*s %12lld\n", "input vectors (Embedding)", (long long)v, (long long)o->dim, 4, "",
           (long long)(v * o->dim));
    printf("%-28s (%lld, %lld)%*s %12lld\n", "output vectors (Embedding)", (long long)v, (long long)o->dim, 4, "",
           (long long)(v * o->dim));
    printf("Total params: %lld\n", (long long)(2 * v * o->dim));
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
    /* Both tables, and with several deterministic threads each one's copies of the
     * rows it touches in a round (at most both tables). */
    double rows = (double)nn_w2v_corpus_vocab_size(corpus);
    double copies = c->threads > 1 && !o->hogwild ? 2.0 * (double)c->threads : 0;
    char detail[128];
    snprintf(detail, sizeof detail, "%.0f words x %lld dimensions, 2 tables + %.0f thread copies", rows,
             (long long)o->dim, copies);
    if (!app_fits_in_memory(APP, "training", detail, (2 + copies) * rows * (double)o->dim * sizeof(float)))
        return APP_EXIT_USAGE;
    const int64_t per_pass = nn_w2v_corpus_raw_words(corpus);
    const int64_t batch =
        c->batch_size ? c->batch_size : nn_w2v_default_batch_words(corpus, c->epochs, c->threads);
    TrainContext ck = {.resumed = c->resume != NULL,
                       .checkpoint = o->checkpoint ? o->checkpoint : c->resume ? c->resume : DEFAULT_CHECKPOINT};
    NnWord2Vec *m = nn_w2v(corpus, .dim = o->dim, .window = (int)o->window, .negative = (int)o->negative,
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
