/* Training over pthreads (see word2vec.h): each thread's slice of the sentences and
 * word budget (its learning rate falls over it: nn__w2v_alpha), rounds of batch_words
 * words per thread whose private row copies are merged in thread order at a barrier
 * (or Hogwild, every thread on the shared tables), and between rounds progress
 * reports, checkpoints and stop requests. */
#include "nn/word2vec/word2vec_internal.h"

#include "tensor/system.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Which table a merge is of, and each thread's copies of its rows. */
typedef enum Table { TABLE_IN, TABLE_OUT, TABLE_HS } Table;

static Tensor *table_of(const NnWord2Vec *m, Table which) {
    return which == TABLE_IN ? m->in : which == TABLE_OUT ? m->out : m->hs;
}

static LocalRows *copies_of(Worker *w, Table which) {
    return which == TABLE_IN ? &w->in : which == TABLE_OUT ? &w->out : &w->hs;
}

/* Folds the threads' copies of the rows this thread owns (row % T == id) into the
 * shared table; see LocalRows. */
static void merge_table(Run *r, int id, Table which) {
    const int T = r->T;
    const int64_t D = r->m->D;
    if (!table_of(r->m, which)) return;
    float *table = tensor_f32(table_of(r->m, which));
    for (int t = 0; t < T; t++) {
        const LocalRows *l = copies_of(&r->w[t], which);
        for (int64_t k = 0; k < l->n; k++) {
            int32_t row = l->rows[k];
            if (row % T != id) continue;
            bool earlier = false; /* then that thread's turn merged the row already */
            for (int e = 0; e < t && !earlier; e++) earlier = copies_of(&r->w[e], which)->slot[row] >= 0;
            if (earlier) continue;
            float *g = table + (int64_t)row * D, *acc = r->w[id].work;
            memcpy(acc, l->pool + k * D, (size_t)D * sizeof(float));
            for (int u = t + 1; u < T; u++) {
                const LocalRows *o = copies_of(&r->w[u], which);
                int32_t s = o->slot[row];
                if (s < 0) continue;
                const float *copy = o->pool + (int64_t)s * D;
                for (int64_t i = 0; i < D; i++) acc[i] += copy[i] - g[i];
            }
            memcpy(g, acc, (size_t)D * sizeof(float));
        }
    }
}

static void forget_rows(LocalRows *l) {
    for (int64_t k = 0; k < l->n; k++) l->slot[l->rows[k]] = -1;
    l->n = 0;
}

static int64_t total_done(const Run *r) {
    int64_t done = 0;
    for (int t = 0; t < r->T; t++) done += atomic_load_explicit(&r->w[t].done, memory_order_relaxed);
    return done;
}

/* still: no thread is training (between rounds, or at the end), so every thread's
 * counts can be read for the finished epochs' loss. */
static void report(Run *r, bool still) {
    const NnWord2Vec *m = r->m;
    const WorkerState *st = &m->ws[0];
    int64_t done = total_done(r), budget = 0;
    for (int t = 0; t < r->T; t++) budget += m->ws[t].budget;
    double secs = tensor_seconds() - r->started, kept = (double)nn_w2v_corpus_words(m->corpus);
    double raw = (double)(done - r->start_done) * (double)m->corpus->raw_words / kept;
    NnW2vProgress p = {.fraction = budget ? (double)done / (double)budget : 1.0, .epoch = (int)st->epoch + 1,
                       .epochs = m->o.iter, .alpha = nn__w2v_alpha(m, st),
                       .loss = st->epoch_pairs ? st->loss / (double)st->epoch_pairs : NAN,
                       .words_per_s = secs > 0 ? raw / secs : NAN, .seconds = secs, .epoch_loss = NAN};
    if (still)
        for (double loss; p.epochs_done < m->o.iter && nn__w2v_epoch_loss(m, p.epochs_done, &loss); p.epochs_done++)
            p.epoch_loss = loss;
    m->o.on_progress(&p, m->o.user);
}

static bool stop_requested(const NnWord2Vec *m) { return m->o.stop && *m->o.stop; }

/* Between rounds, while no thread trains: progress, checkpoints, and whether to stop. */
static void coordinate(Run *r) {
    NnWord2Vec *m = r->m;
    bool all_done = true;
    for (int t = 0; t < r->T; t++) all_done = all_done && m->ws[t].done >= m->ws[t].budget;
    int64_t done = total_done(r);
    if (m->o.on_progress && !all_done && tensor_seconds() >= r->next_report) {
        report(r, true);
        r->next_report = tensor_seconds() + 0.5;
    }
    if (!all_done && m->o.on_checkpoint && r->checkpoint_every > 0 && done >= r->next_checkpoint) {
        while (r->next_checkpoint <= done) r->next_checkpoint += r->checkpoint_every;
        if (m->o.on_checkpoint(m, m->o.user) != 0) r->status = -1, r->finish = true;
    }
    if (!all_done && stop_requested(m)) r->finish = true;
    if (all_done) r->finish = true;
}

static void *worker_main(void *arg) {
    Worker *w = arg;
    Run *r = w->run;
    pthread_mutex_lock(&r->gate_lock);
    while (r->gate == 0) pthread_cond_wait(&r->gate_open, &r->gate_lock);
    int gate = r->gate;
    pthread_mutex_unlock(&r->gate_lock);
    if (gate < 0) return NULL;
    const int64_t batch = r->m->o.batch_words;
    if (r->m->o.hogwild) { /* every thread runs free; stops are checked per batch */
        while (w->st->done < w->st->budget && !stop_requested(r->m)) {
            nn__w2v_train_chunk(w, w->st->done + batch);
            atomic_store_explicit(&w->done, w->st->done, memory_order_relaxed);
            if (w->id == 0 && r->m->o.on_progress && tensor_seconds() >= r->next_report) {
                report(r, false); /* the others are training */
                r->next_report = tensor_seconds() + 0.5;
            }
        }
        return NULL;
    }
    for (;;) { /* rounds of `batch` words per thread */
        if (r->local) {
            forget_rows(&w->in);
            forget_rows(&w->out);
            forget_rows(&w->hs);
        }
        nn__w2v_train_chunk(w, w->st->done + batch);
        atomic_store_explicit(&w->done, w->st->done, memory_order_relaxed);
        pthread_barrier_wait(&r->barrier);
        if (r->local) {
            merge_table(r, w->id, TABLE_IN);
            merge_table(r, w->id, TABLE_OUT);
            merge_table(r, w->id, TABLE_HS);
        }
        pthread_barrier_wait(&r->barrier);
        if (w->id == 0) coordinate(r);
        pthread_barrier_wait(&r->barrier);
        if (r->finish) break;
    }
    return NULL;
}

/* The schedule of a fresh run: contiguous slices of about kept / T words. */
void nn__w2v_plan_into(const NnWord2Vec *m, WorkerState *ws) {
    const NnW2vCorpus *c = m->corpus;
    const int T = m->o.threads;
    const int64_t kept = nn_w2v_corpus_words(c), n_sent = nn_w2v_corpus_sentences(c);
    int64_t planned = kept * m->o.iter;
    if (m->o.max_words > 0) { /* max_words counts corpus words, rare ones included */
        int64_t cap = (int64_t)((double)m->o.max_words * (double)kept / (double)c->raw_words);
        if (cap < planned) planned = cap > 0 ? cap : 1;
    }
    int64_t s = 0;
    for (int t = 0; t < T; t++) {
        int64_t target = kept * (t + 1) / T, slice = 0;
        WorkerState *st = &ws[t];
        *st = (WorkerState){.s0 = s, .sent = s};
        while (s < n_sent && (c->starts[s] < target || t == T - 1)) slice += c->starts[s + 1] - c->starts[s], s++;
        st->s1 = s;
        st->budget = slice * m->o.iter;
        if (planned < kept * m->o.iter) st->budget = (int64_t)((double)planned * (double)slice / (double)kept);
        Rng rng;
        tensor_rng_seed(&rng, m->o.seed, 1000 + (uint64_t)t);
        st->rng = (uint64_t)tensor_rng_u32(&rng) << 32 | tensor_rng_u32(&rng);
    }
}

static void plan(NnWord2Vec *m) {
    nn__w2v_plan_into(m, m->ws);
    const size_t passes = (size_t)m->o.threads * (size_t)m->o.iter;
    memset(m->pass_loss, 0, passes * sizeof *m->pass_loss);
    memset(m->pass_pairs, 0, passes * sizeof *m->pass_pairs);
    m->planned = m->in_progress = true;
}


/* Copies of up to V rows (none for a table the model does not have: V = 0). */
static void local_rows_init(LocalRows *l, int64_t V, int64_t D) {
    l->slot = tensor_xmalloc((size_t)V * sizeof *l->slot);
    for (int64_t i = 0; i < V; i++) l->slot[i] = -1;
    l->rows = tensor_xmalloc((size_t)V * sizeof *l->rows);
    l->pool = tensor_xmalloc((size_t)(V * D) * sizeof *l->pool); /* pages are only committed when used */
    l->n = 0;
}

static void local_rows_free(LocalRows *l) {
    free(l->slot);
    free(l->rows);
    free(l->pool);
}

/* Sets up a run of m's threads where the schedule stands; returns the pairs trained
 * before it (the stats count this call's). */
static int64_t run_start(Run *r, NnWord2Vec *m) {
    const NnW2vCorpus *c = m->corpus;
    const int T = m->o.threads;
    *r = (Run){.m = m, .T = T, .local = T > 1 && !m->o.hogwild, .started = tensor_seconds()};
    r->next_report = r->started + 0.5;
    r->w = tensor_xcalloc((size_t)T, sizeof *r->w);
    int64_t pairs0 = 0;
    for (int t = 0; t < T; t++) {
        Worker *w = &r->w[t];
        w->run = r;
        w->id = t;
        w->st = &m->ws[t];
        w->work = tensor_aligned_alloc((size_t)m->D * sizeof(float));
        w->piece = tensor_xmalloc(MAX_PIECE * sizeof *w->piece);
        w->neu1 = tensor_aligned_alloc((size_t)m->D * sizeof(float));
        if (m->objective == W2V_SOFTMAX) w->scores = tensor_xmalloc((size_t)m->V * sizeof *w->scores);
        atomic_init(&w->done, w->st->done);
        if (r->local) {
            local_rows_init(&w->in, m->V, m->D);
            local_rows_init(&w->out, m->out ? m->V : 0, m->D);
            local_rows_init(&w->hs, m->hs ? m->hs->shape[0] : 0, m->D);
        }
        r->start_done += w->st->done;
        pairs0 += w->st->pairs + w->st->epoch_pairs;
    }
    if (m->o.checkpoint_words > 0) { /* counted in corpus words, like max_words */
        double every = (double)m->o.checkpoint_words * (double)nn_w2v_corpus_words(c) / (double)c->raw_words;
        r->checkpoint_every = every >= 1 ? (int64_t)every : 1;
        r->next_checkpoint = r->start_done + r->checkpoint_every;
    }
    return pairs0;
}

/* Runs thread 0 here and the others on pthreads, all released together through the
 * gate (or none, if one cannot be started). Returns 0, or -1 with the error set. */
static int run_threads(Run *r) {
    const int T = r->T;
    const bool hogwild = r->m->o.hogwild;
    if (!hogwild) pthread_barrier_init(&r->barrier, NULL, (unsigned)T);
    pthread_mutex_init(&r->gate_lock, NULL);
    pthread_cond_init(&r->gate_open, NULL);
    pthread_t *tid = tensor_xcalloc((size_t)T, sizeof *tid);
    int started_threads = 1, status = 0;
    for (int t = 1; t < T && status == 0; t++) {
        if (pthread_create(&tid[t], NULL, worker_main, &r->w[t]) != 0)
            status = tensor_set_error("word2vec: cannot start training thread %d of %d", t + 1, T);
        else started_threads++;
    }
    pthread_mutex_lock(&r->gate_lock);
    r->gate = status == 0 ? 1 : -1;
    pthread_cond_broadcast(&r->gate_open);
    pthread_mutex_unlock(&r->gate_lock);
    worker_main(&r->w[0]);
    for (int t = 1; t < started_threads; t++) pthread_join(tid[t], NULL);
    if (!hogwild) pthread_barrier_destroy(&r->barrier);
    pthread_mutex_destroy(&r->gate_lock);
    pthread_cond_destroy(&r->gate_open);
    free(tid);
    return status;
}

/* After the threads: the final report, whether the run is complete (else it was
 * stopped on request: 1), and the stats of this call. */
static int run_finish(Run *r, int status, int64_t pairs0, NnW2vStats *stats) {
    NnWord2Vec *m = r->m;
    const NnW2vCorpus *c = m->corpus;
    double secs = tensor_seconds() - r->started, loss = 0;
    int64_t done = 0, pairs = 0, last_pairs = 0;
    bool all_done = true;
    for (int t = 0; t < r->T; t++) {
        const WorkerState *st = &m->ws[t];
        done += st->done;
        pairs += st->pairs + st->epoch_pairs;
        loss += st->loss;
        last_pairs += st->epoch_pairs;
        all_done = all_done && st->done >= st->budget;
        atomic_store(&r->w[t].done, st->done);
    }
    if (status == 0 && r->status != 0) status = -1;
    if (m->o.on_progress && status == 0 && all_done) report(r, true);
    if (status == 0 && all_done) m->in_progress = false;
    else if (status == 0) status = 1; /* stopped on request: train again to continue */
    if (stats) {
        int64_t raw = (int64_t)((double)(done - r->start_done) * (double)c->raw_words /
                                (double)nn_w2v_corpus_words(c) + 0.5);
        *stats = (NnW2vStats){.words = raw, .pairs = pairs - pairs0, .seconds = secs,
                              .words_per_s = secs > 0 ? (double)raw / secs : NAN,
                              .loss = last_pairs ? loss / (double)last_pairs : NAN};
    }
    return status;
}

static void run_free(Run *r) {
    for (int t = 0; t < r->T; t++) {
        tensor_aligned_free(r->w[t].work);
        tensor_aligned_free(r->w[t].neu1);
        free(r->w[t].scores);
        free(r->w[t].piece);
        if (r->local) {
            local_rows_free(&r->w[t].in);
            local_rows_free(&r->w[t].out);
            local_rows_free(&r->w[t].hs);
        }
    }
    free(r->w);
}

int nn_w2v_train(NnWord2Vec *m, NnW2vStats *stats) {
    if (!m->in_progress) plan(m);
    Run r;
    int64_t pairs0 = run_start(&r, m);
    int status = run_threads(&r);
    status = run_finish(&r, status, pairs0, stats);
    run_free(&r);
    return status;
}
