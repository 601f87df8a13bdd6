/* word2vec training state files (nn_w2v_save_state, nn_w2v_load_state): the run's
 * settings (its objective included) and a fingerprint of its corpus, every thread's
 * place in the schedule and its generator, the objective's tables, and a checksum. A file is taken only whole, and only
 * when this model's own run could have reached it. */
#include "nn/word2vec/word2vec_internal.h"

#include "nn/io/atomic_file_internal.h"
#include "nn/io/bytes_internal.h"
#include "nn/text/text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Layout (8-byte little-endian fields): the magic, the run's settings and corpus
 * fingerprint (STATE_FIELDS), whether a run was planned, then per thread its
 * WorkerState (WORKER_FIELDS), then (version 2) per thread and epoch the finished
 * pass's loss (f64) and pairs, then the tables (floats): input (V x D), output (V x
 * D, with negative sampling or the full softmax), hierarchical softmax's (V-1 x D,
 * with it), then an FNV-1a checksum of everything before. Version 3 gave the last
 * setting, reserved until then, to the objective (objective_bits); older files hold 0
 * there, which is skip-gram with negative sampling, the one objective they could
 * have, and so still load into such a model. Version-1 files hold no pass losses:
 * those of the passes they had finished are then unknown (NaN). */
static const char STATE_MAGIC[8] = {'L', 'W', '2', 'V', 'S', 'T', '0', '3'};
static const char STATE_MAGIC_V2[8] = {'L', 'W', '2', 'V', 'S', 'T', '0', '2'};
static const char STATE_MAGIC_V1[8] = {'L', 'W', '2', 'V', 'S', 'T', '0', '1'};
enum { STATE_FIELDS = 17, WORKER_FIELDS = 11 };
#define FNV_OFFSET 0xCBF29CE484222325ull

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

static uint64_t f64_bits(double x) {
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}

/* The objective as one setting: 0 for skip-gram with negative sampling (negative
 * counts are a setting of their own). */
static uint64_t objective_bits(const NnWord2Vec *m) {
    return (uint64_t)m->o.cbow | (uint64_t)(m->o.cbow && m->o.cbow_sum) << 1 | (uint64_t)m->o.hs << 2 |
           (uint64_t)m->o.softmax << 3;
}

/* The floats of the tables, in the order they are saved. */
typedef struct TableSet {
    float *data[3];
    size_t floats[3];
    size_t total; /* bytes */
} TableSet;

static TableSet tables_of(const NnWord2Vec *m) {
    TableSet ts = {0};
    const Tensor *t[3] = {m->in, m->out, m->hs};
    for (int i = 0; i < 3; i++)
        if (t[i]) {
            ts.data[i] = tensor_f32(t[i]);
            ts.floats[i] = (size_t)t[i]->size;
            ts.total += ts.floats[i] * sizeof(float);
        }
    return ts;
}

/* What must match for a saved run to continue here, and the names used in messages. */
static void state_fields(const NnWord2Vec *m, uint64_t f[STATE_FIELDS]) {
    const NnW2vCorpus *c = m->corpus;
    uint64_t vocab_hash = FNV_OFFSET;
    for (int64_t i = 0; i < m->V; i++) {
        vocab_hash = fnv1a(vocab_hash, c->words[i], strlen(c->words[i]) + 1);
        vocab_hash = fnv1a(vocab_hash, &c->counts[i], sizeof c->counts[i]);
    }
    uint64_t v[STATE_FIELDS] = {(uint64_t)m->V, (uint64_t)m->D, (uint64_t)c->raw_words,
                                (uint64_t)nn_w2v_corpus_sentences(c), vocab_hash, (uint64_t)m->o.threads,
                                m->o.hogwild, m->o.seed, (uint64_t)m->o.window, (uint64_t)m->o.negative,
                                (uint64_t)m->o.iter, f64_bits(m->o.no_sample ? 0 : m->o.sample),
                                f64_bits(m->o.alpha), f64_bits(m->o.min_alpha), (uint64_t)m->o.batch_words,
                                (uint64_t)m->o.max_words, objective_bits(m)};
    memcpy(f, v, sizeof v);
}

static const char *const STATE_NAMES[STATE_FIELDS] = {
    "vocabulary size", "dim", "corpus words", "corpus sentences", "vocabulary (words and counts)", "threads",
    "hogwild", "seed", "window", "negative", "iter", "sample", "alpha", "min_alpha", "batch_words", "max_words",
    "objective (cbow, cbow_mean, hs, softmax)"};

static void worker_fields(const WorkerState *st, uint64_t f[WORKER_FIELDS]) {
    uint64_t v[WORKER_FIELDS] = {(uint64_t)st->s0, (uint64_t)st->s1, (uint64_t)st->sent, (uint64_t)st->pos,
                                 (uint64_t)st->budget, (uint64_t)st->done, (uint64_t)st->epoch, st->rng,
                                 f64_bits(st->loss), (uint64_t)st->epoch_pairs, (uint64_t)st->pairs};
    memcpy(f, v, sizeof v);
}

static WorkerState worker_from_fields(const uint64_t wf[WORKER_FIELDS]) {
    double loss;
    memcpy(&loss, &wf[8], 8);
    return (WorkerState){.s0 = (int64_t)wf[0], .s1 = (int64_t)wf[1], .sent = (int64_t)wf[2], .pos = (int64_t)wf[3],
                         .budget = (int64_t)wf[4], .done = (int64_t)wf[5], .epoch = (int64_t)wf[6], .rng = wf[7],
                         .loss = loss, .epoch_pairs = (int64_t)wf[9], .pairs = (int64_t)wf[10]};
}

/* ---- saving ---- */

/* The file as it is written: the checksum so far, and whether every write worked. */
typedef struct Out {
    FILE *f;
    uint64_t hash;
    bool ok;
} Out;

static void out_put(Out *o, const void *p, size_t n) {
    o->hash = fnv1a(o->hash, p, n);
    o->ok = o->ok && fwrite(p, 1, n, o->f) == n;
}

int nn_w2v_save_state(const NnWord2Vec *m, const char *path) {
    NnAtomicFile af;
    if (nn_atomic_file_open(&af, path) != 0) return -1;
    /* The fields are encoded in memory; the tables, the bulk of the file, go straight out. */
    NnBytes head = {0};
    uint64_t f[STATE_FIELDS], wf[WORKER_FIELDS];
    state_fields(m, f);
    nn__bytes_put(&head, STATE_MAGIC, sizeof STATE_MAGIC);
    for (int i = 0; i < STATE_FIELDS; i++) nn__bytes_u64(&head, f[i]);
    nn__bytes_u64(&head, m->planned);
    for (int t = 0; t < m->o.threads; t++) {
        if (m->planned) worker_fields(&m->ws[t], wf);
        else memset(wf, 0, sizeof wf);
        for (int i = 0; i < WORKER_FIELDS; i++) nn__bytes_u64(&head, wf[i]);
    }
    for (int64_t k = 0; k < (int64_t)m->o.threads * m->o.iter; k++) {
        nn__bytes_f64(&head, m->planned ? m->pass_loss[k] : 0);
        nn__bytes_u64(&head, m->planned ? (uint64_t)m->pass_pairs[k] : 0);
    }
    Out o = {.f = af.f, .hash = FNV_OFFSET, .ok = true};
    out_put(&o, head.data, head.len);
    const TableSet ts = tables_of(m);
    for (int i = 0; i < 3; i++)
        if (ts.data[i]) out_put(&o, ts.data[i], ts.floats[i] * sizeof(float));
    unsigned char h[8];
    nn__store_le64(h, o.hash);
    out_put(&o, h, 8);
    if (!o.ok) tensor_set_error("%s: cannot write the training state: %s", path, strerror(errno));
    free(head.data);
    return nn_atomic_file_commit(&af, o.ok);
}

/* ---- loading ---- */

/* The magic, then every setting against this model's (naming the first that
 * differs), then the size and checksum; leaves the cursor after the settings. */
static int check_header(const NnWord2Vec *m, const char *path, NnCursor *c, bool *v1) {
    char magic[sizeof STATE_MAGIC];
    uint64_t f[STATE_FIELDS], saved[STATE_FIELDS];
    nn__cursor_take(c, magic, sizeof magic);
    for (int i = 0; i < STATE_FIELDS; i++) saved[i] = nn__cursor_u64(c);
    *v1 = memcmp(magic, STATE_MAGIC_V1, sizeof magic) == 0;
    const bool known = *v1 || memcmp(magic, STATE_MAGIC_V2, sizeof magic) == 0 ||
                       memcmp(magic, STATE_MAGIC, sizeof magic) == 0;
    if (c->truncated || !known)
        return tensor_set_error("%s: not a word2vec training state file", path);
    state_fields(m, f);
    for (int i = 0; i < STATE_FIELDS; i++)
        if (f[i] != saved[i])
            return tensor_set_error("%s: saved by a run with a different %s; resume with the same corpus and "
                                    "training options", path, STATE_NAMES[i]);
    const int64_t T = m->o.threads, passes = T * m->o.iter;
    const size_t want = sizeof STATE_MAGIC + 8 * (STATE_FIELDS + 1 + (size_t)T * WORKER_FIELDS + 1) +
                        (*v1 ? 0 : 16 * (size_t)passes) + tables_of(m).total;
    const size_t len = c->len;
    if (len != want || fnv1a(FNV_OFFSET, c->p, len - 8) != nn__le64(c->p + len - 8))
        return tensor_set_error("%s: the file is truncated or damaged (%lld bytes, checksum %s)", path,
                                (long long)len, len != want ? "not checked" : "wrong");
    return 0;
}

/* A saved thread state is only taken when it is one this model's own run could have
 * reached: the planned slice and budget, a position inside the slice, counts within
 * what the words done allow (so no sum of them overflows), a finite loss. */
static bool worker_state_fits(const NnWord2Vec *m, const WorkerState *plan, const WorkerState *st) {
    int64_t slen = 0;
    if (st->s0 != plan->s0 || st->s1 != plan->s1 || st->budget != plan->budget) return false;
    if (st->sent < st->s0 || st->sent > st->s1) return false;
    if (st->sent < st->s1) nn_w2v_corpus_sentence(m->corpus, st->sent, &slen);
    const int64_t max_pairs = 2 * (int64_t)m->o.window; /* per word */
    return st->pos >= 0 && st->pos <= slen && st->done >= 0 && st->done <= st->budget && st->epoch >= 0 &&
           st->epoch <= m->o.iter && st->epoch_pairs >= 0 && st->pairs >= 0 &&
           st->epoch_pairs <= max_pairs * st->done && st->pairs <= max_pairs * st->done && isfinite(st->loss) &&
           st->loss >= 0;
}

/* Every thread's saved state into loaded[threads], each checked against the plan of
 * a fresh run when one had started. */
static int read_workers(const NnWord2Vec *m, const char *path, NnCursor *c, bool started, WorkerState *loaded) {
    const int T = m->o.threads;
    WorkerState *planned_ws = tensor_xmalloc((size_t)T * sizeof *planned_ws);
    nn__w2v_plan_into(m, planned_ws);
    int rc = 0;
    for (int t = 0; t < T && rc == 0; t++) {
        uint64_t wf[WORKER_FIELDS];
        for (int i = 0; i < WORKER_FIELDS; i++) wf[i] = nn__cursor_u64(c);
        loaded[t] = worker_from_fields(wf);
        if (started && !worker_state_fits(m, &planned_ws[t], &loaded[t]))
            rc = tensor_set_error("%s: thread %d's position or counts do not fit this corpus and these options",
                                  path, t + 1);
    }
    free(planned_ws);
    return rc;
}

/* The finished passes' losses and pairs (version 2) into loss and pairs, each within
 * what its thread's counts allow; a version-1 file's are unknown: NaN and 0. */
static int read_passes(const NnWord2Vec *m, const char *path, NnCursor *c, bool v1, const WorkerState *loaded,
                       double *loss, int64_t *pairs) {
    const int iter = m->o.iter;
    for (int t = 0; t < m->o.threads; t++)
        for (int e = 0; e < iter; e++) {
            const int64_t k = (int64_t)t * iter + e;
            loss[k] = v1 ? (e < loaded[t].epoch ? NAN : 0) : nn__cursor_f64(c);
            pairs[k] = v1 ? 0 : (int64_t)nn__cursor_u64(c);
            if (!v1 && (!(loss[k] >= 0) || !isfinite(loss[k]) || pairs[k] < 0 || pairs[k] > loaded[t].pairs))
                return tensor_set_error("%s: thread %d's loss of epoch %d does not fit its counts", path, t + 1,
                                        e + 1);
        }
    return 0;
}

int nn_w2v_load_state(NnWord2Vec *m, const char *path) {
    int64_t len;
    char *data = nn_read_file(path, &len);
    if (!data) return -1;
    const int T = m->o.threads;
    const TableSet ts = tables_of(m);
    const size_t passes = (size_t)T * (size_t)m->o.iter;
    NnCursor c = {(const unsigned char *)data, (size_t)len, 0, false};
    /* Decoded aside and taken only when every thread's position checks out, so a
     * refused file leaves the model as it was. */
    WorkerState *loaded = NULL;
    double *pass_loss = tensor_xmalloc(passes * sizeof *pass_loss);
    int64_t *pass_pairs = tensor_xmalloc(passes * sizeof *pass_pairs);
    bool v1 = false, started = false;
    int rc = check_header(m, path, &c, &v1);
    if (rc == 0) {
        started = nn__cursor_u64(&c) != 0;
        loaded = tensor_xmalloc((size_t)T * sizeof *loaded);
        rc = read_workers(m, path, &c, started, loaded);
    }
    if (rc == 0) rc = read_passes(m, path, &c, v1, loaded, pass_loss, pass_pairs);
    const char *p = data + c.pos; /* the tables */
    for (size_t k = 0; rc == 0 && k < ts.total / sizeof(float); k++) {
        float v;
        memcpy(&v, p + k * sizeof(float), sizeof v);
        if (!isfinite(v)) /* no run writes these: the file was made or edited elsewhere */
            rc = tensor_set_error("%s: the saved vectors hold NaN or infinite values", path);
    }
    if (rc == 0) {
        memcpy(m->ws, loaded, (size_t)T * sizeof *loaded);
        memcpy(m->pass_loss, pass_loss, passes * sizeof *pass_loss);
        memcpy(m->pass_pairs, pass_pairs, passes * sizeof *pass_pairs);
        for (int i = 0; i < 3; i++)
            if (ts.data[i]) {
                memcpy(ts.data[i], p, ts.floats[i] * sizeof(float));
                p += ts.floats[i] * sizeof(float);
            }
        m->planned = m->in_progress = started; /* a finished run continues to its end at once */
    }
    free(loaded);
    free(pass_loss);
    free(pass_pairs);
    free(data);
    return rc;
}
