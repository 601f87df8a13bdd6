/* The training loss per epoch: each thread's finished passes (kept by the training
 * loop in NnWord2Vec.pass_loss and pass_pairs as it starts the next) and its current
 * one, added up in thread order. */
#include "nn/word2vec/word2vec_internal.h"

#include <math.h>

/* Thread t's loss and pairs of pass e, if it has finished it. A thread whose budget
 * is done has finished every pass: its last one (even when max_words cut it short),
 * and the ones it never reached, with no pairs (max_words, or a slice left empty by
 * more threads than sentences). */
static bool pass_of(const NnWord2Vec *m, int t, int e, double *loss, int64_t *pairs) {
    const WorkerState *st = &m->ws[t];
    if (st->epoch > e) {
        *loss = m->pass_loss[(int64_t)t * m->o.iter + e];
        *pairs = m->pass_pairs[(int64_t)t * m->o.iter + e];
        return true;
    }
    *loss = st->epoch == e ? st->loss : 0;
    *pairs = st->epoch == e ? st->epoch_pairs : 0;
    return st->done >= st->budget;
}

/* Epoch e's mean pair loss over all threads into *loss; false while a thread has not
 * finished it, or when no thread trained a pair in it (it never ran). */
bool nn__w2v_epoch_loss(const NnWord2Vec *m, int e, double *loss) {
    double sum = 0, l;
    int64_t pairs = 0, n;
    for (int t = 0; t < m->o.threads; t++) { /* in thread order: the same sum every run */
        if (!pass_of(m, t, e, &l, &n)) return false;
        sum += l;
        pairs += n;
    }
    *loss = pairs ? sum / (double)pairs : NAN;
    return pairs > 0;
}

int nn_w2v_epoch_losses(const NnWord2Vec *m, double *losses, int max) {
    if (!m->planned) return 0;
    int e = 0;
    for (double loss; e < m->o.iter && nn__w2v_epoch_loss(m, e, &loss); e++)
        if (e < max) losses[e] = loss;
    return e;
}
