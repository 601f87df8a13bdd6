/* Skip-gram with negative sampling: the corpus (tokenised like the gensim peer
 * script, frequency-ranked vocabulary), the model's two tables, the fused SGD kernel
 * (word2vec.c's inner loop, allocation-free, table sigmoid), the same loss written
 * with tape ops (the reference the kernel is tested against), training over pthreads
 * (one contiguous slice of sentences per thread, in rounds merged in a fixed order,
 * or Hogwild on request), and training state files for checkpoints. */
#include "nn/io/atomic_file_internal.h"
#include "tensor/system.h"
#include "nn/word2vec/word2vec.h"

#include "autograd/ops.h"
#include "nn/text/text.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stb_ds.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- corpus ---- */

typedef struct RawEntry {
    char *key;     /* the word (stb_ds arena copy) */
    int64_t value; /* raw id: first-seen order */
} RawEntry;

struct NnW2vCorpus {
    RawEntry *map;       /* word -> raw id */
    int64_t *raw_counts; /* by raw id (stb_ds array) */
    int32_t *ids;        /* token stream (stb_ds array): raw ids, final ids after finish */
    int64_t *starts;     /* sentence i is ids[starts[i] .. starts[i+1]) (stb_ds array) */
    int64_t raw_words;
    bool finished;
    int32_t *remap;      /* raw id -> final id or -1 */
    char **words;        /* final id -> word (keys of map) */
    int64_t *counts, vocab;
    char *buf;           /* the word being read */
    size_t len, cap;
};

NnW2vCorpus *nn_w2v_corpus_new(void) {
    NnW2vCorpus *c = tensor_xcalloc(1, sizeof *c);
    sh_new_arena(c->map);
    arrput(c->starts, 0);
    return c;
}

static void corpus_push_char(NnW2vCorpus *c, char ch) {
    if (c->len + 2 > c->cap) c->buf = tensor_xrealloc(c->buf, c->cap = 2 * c->cap + 32);
    c->buf[c->len++] = ch;
}

static void corpus_end_word(NnW2vCorpus *c) {
    if (!c->len) return;
    c->buf[c->len] = 0;
    c->len = 0;
    ptrdiff_t at = shgeti(c->map, c->buf);
    int64_t id = at >= 0 ? c->map[at].value : shlen(c->map);
    if (at < 0) {
        TENSOR_CHECK(id < INT32_MAX, "word2vec corpus: more than 2^31 distinct words");
        shput(c->map, c->buf, id);
        arrput(c->raw_counts, 0);
    }
    c->raw_counts[id]++;
    arrput(c->ids, (int32_t)id);
    c->raw_words++;
}

static void corpus_end_line(NnW2vCorpus *c) {
    corpus_end_word(c);
    if (arrlen(c->ids) > arrlast(c->starts)) arrput(c->starts, arrlen(c->ids)); /* empty lines vanish */
}

int nn_w2v_corpus_add(NnW2vCorpus *c, const char *text, int64_t len) {
    if (c->finished) return tensor_set_error("word2vec corpus: text added after nn_w2v_corpus_finish");
    const unsigned char *s = (const unsigned char *)text;
    for (int64_t i = 0; i < len; i++) {
        unsigned ch = s[i];
        if (ch == '\n' || ch == '\r') {
            corpus_end_line(c);
        } else if ((ch | 32) >= 'a' && (ch | 32) <= 'z') {
            corpus_push_char(c, (char)(ch | 32));
        } else if (ch == 0xC4 && i + 1 < len && s[i + 1] == 0xB0) { /* U+0130 -> "i" + U+0307 */
            corpus_push_char(c, 'i');
            corpus_end_word(c);
            i++;
        } else if (ch == 0xE2 && i + 2 < len && s[i + 1] == 0x84 && s[i + 2] == 0xAA) { /* U+212A -> "k" */
            corpus_push_char(c, 'k');
            i += 2;
        } else {
            corpus_end_word(c);
        }
    }
    corpus_end_line(c); /* a file's last line ends with the file */
    return 0;
}

typedef struct Ranked {
    int64_t count;
    int32_t id;
} Ranked;

static int cmp_ranked(const void *pa, const void *pb) { /* count descending, then first seen */
    const Ranked *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

int nn_w2v_corpus_finish(NnW2vCorpus *c, int64_t min_count) {
    if (c->finished) return tensor_set_error("word2vec corpus: already finished");
    if (min_count < 1) min_count = 1;
    int64_t n_raw = shlen(c->map);
    Ranked *order = tensor_xmalloc((size_t)(n_raw + 1) * sizeof *order);
    int64_t v = 0;
    for (int64_t i = 0; i < n_raw; i++)
        if (c->raw_counts[i] >= min_count) order[v++] = (Ranked){c->raw_counts[i], (int32_t)i};
    if (v == 0) {
        free(order);
        return tensor_set_error("word2vec corpus: no word occurs %lld times or more (%lld words read)",
                                (long long)min_count, (long long)c->raw_words);
    }
    qsort(order, (size_t)v, sizeof *order, cmp_ranked);
    c->remap = tensor_xmalloc((size_t)(n_raw + 1) * sizeof *c->remap);
    for (int64_t i = 0; i < n_raw; i++) c->remap[i] = -1;
    c->words = tensor_xmalloc((size_t)v * sizeof *c->words);
    c->counts = tensor_xmalloc((size_t)v * sizeof *c->counts);
    for (int64_t i = 0; i < v; i++) {
        c->remap[order[i].id] = (int32_t)i;
        c->words[i] = c->map[order[i].id].key; /* raw id == map position: inserted in order */
        c->counts[i] = order[i].count;
    }
    free(order);
    /* Drop rare words in place; sentences left empty disappear. */
    int64_t out = 0, n_sent = 0, from = 0; /* from: the old start of sentence s */
    for (int64_t s = 0; s + 1 < arrlen(c->starts); s++) {
        int64_t begin = out, to = c->starts[s + 1]; /* read before starts[] is rewritten */
        for (int64_t t = from; t < to; t++)
            if (c->remap[c->ids[t]] >= 0) c->ids[out++] = c->remap[c->ids[t]];
        if (out > begin) c->starts[++n_sent] = out;
        from = to;
    }
    arrsetlen(c->starts, n_sent + 1);
    arrsetlen(c->ids, out);
    c->vocab = v;
    c->finished = true;
    return 0;
}

int64_t nn_w2v_corpus_raw_words(const NnW2vCorpus *c) { return c->raw_words; }
int64_t nn_w2v_corpus_words(const NnW2vCorpus *c) { return c->finished ? arrlen(c->ids) : 0; }
int64_t nn_w2v_corpus_vocab_size(const NnW2vCorpus *c) { return c->vocab; }
int64_t nn_w2v_corpus_sentences(const NnW2vCorpus *c) { return arrlen(c->starts) - 1; }

const char *nn_w2v_corpus_word(const NnW2vCorpus *c, int64_t id) {
    return id >= 0 && id < c->vocab ? c->words[id] : NULL;
}

int64_t nn_w2v_corpus_count(const NnW2vCorpus *c, int64_t id) {
    return id >= 0 && id < c->vocab ? c->counts[id] : 0;
}

int64_t nn_w2v_corpus_find(const NnW2vCorpus *c, const char *word) {
    RawEntry *map = c->map;
    ptrdiff_t at = c->finished ? shgeti(map, word) : -1;
    return at < 0 ? -1 : c->remap[map[at].value];
}

const int32_t *nn_w2v_corpus_sentence(const NnW2vCorpus *c, int64_t i, int64_t *len) {
    TENSOR_CHECK(i >= 0 && i < nn_w2v_corpus_sentences(c), "word2vec corpus: sentence %lld of %lld",
                 (long long)i, (long long)nn_w2v_corpus_sentences(c));
    *len = c->starts[i + 1] - c->starts[i];
    return c->ids + c->starts[i];
}

void nn_w2v_corpus_free(NnW2vCorpus *c) {
    if (!c) return;
    shfree(c->map);
    arrfree(c->raw_counts);
    arrfree(c->ids);
    arrfree(c->starts);
    free(c->remap);
    free(c->words);
    free(c->counts);
    free(c->buf);
    free(c);
}

/* ---- the sigmoid tables and the fused kernel ---- */

#define SIG_MAX 8.0f
#define SIG_N 4096 /* intervals over [-SIG_MAX, SIG_MAX] */
static float sig_tab[SIG_N + 2], softplus_tab[SIG_N + 2]; /* sigmoid(x), log(1 + e^x) */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
    for (int i = 0; i <= SIG_N + 1; i++) {
        double x = -SIG_MAX + 2.0 * SIG_MAX * i / SIG_N;
        sig_tab[i] = (float)(1.0 / (1.0 + exp(-x)));
        softplus_tab[i] = (float)(x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)));
    }
}

#define W2V_INLINE static inline __attribute__((always_inline))

/* Linear interpolation in a table; callers handle |x| >= SIG_MAX. */
W2V_INLINE float tab_lookup(const float *t, float x) {
    float pos = (x + SIG_MAX) * (SIG_N / (2 * SIG_MAX));
    int i = (int)pos;
    return t[i] + (pos - (float)i) * (t[i + 1] - t[i]);
}

/* Written so that a NaN takes the first branch and never reaches the table index. */
W2V_INLINE float sigmoid_tab(float x) {
    return !(x < SIG_MAX) ? 1.0f : x <= -SIG_MAX ? 0.0f : tab_lookup(sig_tab, x);
}

W2V_INLINE float softplus(float x) { /* -log sigmoid(-x) */
    return !(x < SIG_MAX) ? x : x <= -SIG_MAX ? 0.0f : tab_lookup(softplus_tab, x);
}

/* 16 lane-wise partial sums in a fixed order: vectorised by the compiler in every
 * target clone, and the same result in each (no reassociation, no FMA contraction). */
W2V_INLINE float dot(const float *restrict a, const float *restrict b, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += a[i + k] * b[i + k];
    for (int k = 0; i < n; i++, k++) acc[k] += a[i] * b[i];
    for (int w = 8; w; w >>= 1)
        for (int k = 0; k < w; k++) acc[k] += acc[k + w];
    return acc[0];
}

/* The fused step over the target rows (rows[0] the center's, then the negatives'). */
W2V_INLINE float sgd_rows(float *restrict in, float *const *rows, int n, int64_t d, float alpha,
                          float *restrict work) {
    float loss = 0;
    for (int64_t i = 0; i < d; i++) work[i] = 0;
    for (int t = 0; t < n; t++) {
        float *restrict u = rows[t];
        float f = dot(in, u, d), label = t == 0 ? 1.0f : 0.0f;
        loss += t == 0 ? softplus(-f) : softplus(f);
        float g = (label - sigmoid_tab(f)) * alpha;
        for (int64_t i = 0; i < d; i++) {
            float ui = u[i];
            work[i] += g * ui;
            u[i] = ui + g * in[i];
        }
    }
    for (int64_t i = 0; i < d; i++) in[i] += work[i];
    return loss;
}

float nn_w2v_sgd_pair(float *in_row, float *out_table, int64_t dim, int32_t center, const int32_t *negatives,
                      int n_negatives, float alpha, float *work) {
    pthread_once(&tables_once, tables_init);
    float *rows[101];
    int n = 0;
    rows[n++] = out_table + (int64_t)center * dim;
    for (int k = 0; k < n_negatives && k < 100; k++)
        if (negatives[k] != center) rows[n++] = out_table + (int64_t)negatives[k] * dim;
    return sgd_rows(in_row, rows, n, dim, alpha, work);
}

float nn_w2v_sigmoid(float x) {
    pthread_once(&tables_once, tables_init);
    return sigmoid_tab(x);
}

Tensor *nn_w2v_pair_loss(Tape *tape, Tensor *in_table, Tensor *out_table, int32_t context, int32_t center,
                         const int32_t *negatives, int n_negatives) {
    Arena *arena = ag_tape_arena(tape);
    int n = 1; /* center, then the negatives the kernel does not skip (those equal to center) */
    for (int i = 0; i < n_negatives; i++) n += negatives[i] != center;
    Tensor *targets = tensor_i32_zeros(arena, TENSOR_SHAPE(n));
    int32_t *t = tensor_i32(targets);
    *t++ = center;
    for (int i = 0; i < n_negatives; i++)
        if (negatives[i] != center) *t++ = negatives[i];
    Tensor *labels = tensor_zeros(arena, TENSOR_SHAPE(n, 1));
    tensor_f32(labels)[0] = 1.0f;
    Tensor *ctx = tensor_i32_from_array(arena, TENSOR_SHAPE(1), &context);
    Tensor *v = ag_gather_rows(tape, in_table, ctx);     /* (1, D) */
    Tensor *u = ag_gather_rows(tape, out_table, targets); /* (n, D) */
    Tensor *logits = ag_matmul_t(tape, u, v, false, true); /* (n, 1) */
    return ag_scale(tape, ag_bce_with_logits(tape, logits, labels), (float)n); /* mean -> sum */
}

/* ---- the model ---- */

/* Where one thread is in the schedule: all a checkpoint needs besides the tables. */
typedef struct WorkerState {
    int64_t s0, s1;       /* its sentences */
    int64_t sent, pos;    /* the next word: sentence and position in it */
    int64_t budget, done; /* kept corpus words to process, and processed */
    int64_t epoch;        /* 0-based pass over its sentences */
    uint64_t rng;         /* splitmix64 state */
    double loss;          /* pair loss summed over the current epoch */
    int64_t epoch_pairs;  /* pairs of the current epoch */
    int64_t pairs;        /* pairs of the earlier epochs */
} WorkerState;

struct NnWord2Vec {
    const NnW2vCorpus *corpus;
    NnW2vOpts o;          /* defaults filled in */
    int64_t V, D;
    Tensor *in, *out;     /* (V, D) */
    uint32_t *keep;       /* subsampling: keep a word when keep >= 32 random bits */
    uint32_t *noise_p;    /* alias table of count^0.75: column i is i when the low bits < p */
    int32_t *noise_alias; /* ... else noise_alias[i] */
    WorkerState *ws;       /* o.threads entries: where each thread is in the schedule */
    bool planned;           /* ws holds a run's schedule (trained, stopped or loaded) */
    bool in_progress;       /* ws holds a run to continue (stopped, or loaded from a file) */
};

#define BAD_OPT(...) (tensor_set_error("word2vec: " __VA_ARGS__), (NnWord2Vec *)NULL)

/* Vose's alias method: exact, O(1) per draw. */
static void build_noise(NnWord2Vec *m) {
    const int64_t V = m->V;
    double *q = tensor_xmalloc((size_t)V * sizeof *q), total = 0;
    int32_t *small = tensor_xmalloc((size_t)V * sizeof *small), *large = tensor_xmalloc((size_t)V * sizeof *large);
    for (int64_t i = 0; i < V; i++) total += q[i] = pow((double)m->corpus->counts[i], 0.75);
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < V; i++) {
        q[i] *= (double)V / total;
        if (q[i] < 1.0) small[ns++] = (int32_t)i;
        else large[nl++] = (int32_t)i;
    }
    while (ns && nl) {
        int32_t s = small[--ns], l = large[nl - 1];
        m->noise_p[s] = (uint32_t)(q[s] * 4294967296.0);
        m->noise_alias[s] = l;
        q[l] -= 1.0 - q[s];
        if (q[l] < 1.0) nl--, small[ns++] = l;
    }
    while (nl) m->noise_p[large[--nl]] = UINT32_MAX; /* full columns (and rounding leftovers) */
    while (ns) m->noise_p[small[--ns]] = UINT32_MAX;
    free(q);
    free(small);
    free(large);
}

/* Rounds of 10,000 words per thread cost little waiting; on a small corpus they would
 * be few, and the merged copies of a round then drift apart from what one thread would
 * have written, which costs quality (2 threads on the 105k-word Sherlock text lost a
 * third of their analogy accuracy). At least 128 rounds per thread keep them close. */
int64_t nn_w2v_default_batch_words(const NnW2vCorpus *c, int iter, int threads) {
    const int64_t per_thread = nn_w2v_corpus_words(c) * (iter > 0 ? iter : 5) / (threads > 0 ? threads : 1);
    const int64_t words = per_thread / 128;
    return words < 1000 ? 1000 : words > 10000 ? 10000 : words;
}

NnWord2Vec *nn_w2v_new(const NnW2vCorpus *corpus, const NnW2vOpts *opts) {
    NnW2vOpts o = *opts;
    if (!corpus->finished) return BAD_OPT("the corpus is not finished (call nn_w2v_corpus_finish)");
    o.dim = o.dim ? o.dim : 100;
    o.window = o.window ? o.window : 5;
    o.negative = o.negative ? o.negative : 5;
    o.sample = o.sample ? o.sample : 1e-3;
    o.iter = o.iter ? o.iter : 5;
    o.alpha = o.alpha ? o.alpha : 0.025f;
    o.min_alpha = o.min_alpha ? o.min_alpha : 1e-4f;
    o.threads = o.threads ? o.threads : 1;
    o.batch_words = o.batch_words ? o.batch_words : nn_w2v_default_batch_words(corpus, o.iter, o.threads);
    if (o.dim < 1 || o.dim > 10000) return BAD_OPT("dim %lld is outside 1..10000", (long long)o.dim);
    if (o.window < 1 || o.window > 1000) return BAD_OPT("window %d is outside 1..1000", o.window);
    if (o.negative < 1 || o.negative > 100) return BAD_OPT("negative %d is outside 1..100", o.negative);
    if (!(o.sample > 0) || !isfinite(o.sample)) return BAD_OPT("sample %g is not a positive number", o.sample);
    if (o.iter < 1) return BAD_OPT("iter %d is below 1", o.iter);
    if (!(o.alpha > 0) || !isfinite(o.alpha) || !(o.min_alpha >= 0) || o.min_alpha > o.alpha)
        return BAD_OPT("alpha %g / min_alpha %g: need alpha > 0 and 0 <= min_alpha <= alpha", o.alpha, o.min_alpha);
    if (o.threads < 1 || o.threads > 1024) return BAD_OPT("threads %d is outside 1..1024", o.threads);
    if (o.batch_words < 1 || o.max_words < 0) return BAD_OPT("batch_words must be >= 1 and max_words >= 0");
    if (o.checkpoint_words < 0) return BAD_OPT("checkpoint_words %lld is negative", (long long)o.checkpoint_words);
    if (o.hogwild && o.on_checkpoint)
        return BAD_OPT("checkpoints need the deterministic schedule: Hogwild threads never stop together");
    size_t bytes;
    if (tensor_mul_size((size_t)corpus->vocab, (size_t)o.dim * 2 * sizeof(float), &bytes) != 0 ||
        bytes > ((size_t)1 << 36))
        return BAD_OPT("%lld words x %lld dimensions is too large", (long long)corpus->vocab, (long long)o.dim);
    pthread_once(&tables_once, tables_init);
    NnWord2Vec *m = tensor_xcalloc(1, sizeof *m);
    *m = (NnWord2Vec){.corpus = corpus, .o = o, .V = corpus->vocab, .D = o.dim};
    m->in = tensor_zeros(NULL, TENSOR_SHAPE(m->V, m->D));
    m->out = tensor_zeros(NULL, TENSOR_SHAPE(m->V, m->D));
    Rng rng;
    tensor_rng_seed(&rng, o.seed, 0x77327631);
    tensor_fill_uniform(tensor_f32(m->in), m->in->size, &rng, -0.5f / (float)m->D, 0.5f / (float)m->D);
    m->keep = tensor_xmalloc((size_t)m->V * sizeof *m->keep);
    m->noise_p = tensor_xmalloc((size_t)m->V * sizeof *m->noise_p);
    m->noise_alias = tensor_xmalloc((size_t)m->V * sizeof *m->noise_alias);
    /* gensim's prepare_vocab: threshold t = sample * retained words. */
    double t = o.sample * (double)nn_w2v_corpus_words(corpus);
    for (int64_t i = 0; i < m->V; i++) {
        double f = (double)corpus->counts[i], p = (sqrt(f / t) + 1.0) * t / f;
        m->keep[i] = o.no_sample || p >= 1.0 ? UINT32_MAX : (uint32_t)(p * 4294967295.0);
    }
    for (int64_t i = 0; i < m->V; i++) m->noise_alias[i] = (int32_t)i;
    build_noise(m);
    m->ws = tensor_xcalloc((size_t)o.threads, sizeof *m->ws);
    return m;
}

Tensor *nn_w2v_input_table(NnWord2Vec *m) { return m->in; }
Tensor *nn_w2v_output_table(NnWord2Vec *m) { return m->out; }

NnWordVectors *nn_w2v_word_vectors(const NnWord2Vec *m) {
    NnWordVectors *wv = nn_word_vectors_new(m->V, m->D);
    if (!wv) return NULL;
    wv->counts = tensor_xmalloc((size_t)m->V * sizeof *wv->counts);
    for (int64_t i = 0; i < m->V; i++) {
        wv->words[i] = strdup(m->corpus->words[i]);
        wv->counts[i] = m->corpus->counts[i];
    }
    memcpy(wv->vectors, tensor_f32(m->in), (size_t)(m->V * m->D) * sizeof(float));
    if (nn_word_vectors_finish(wv) != 0) {
        nn_word_vectors_free(wv);
        return NULL;
    }
    return wv;
}

void nn_w2v_free(NnWord2Vec *m) {
    if (!m) return;
    tensor_free(m->in);
    tensor_free(m->out);
    free(m->keep);
    free(m->noise_p);
    free(m->noise_alias);
    free(m->ws);
    free(m);
}

/* ---- training ---- */

#define MAX_PIECE 10000 /* effective words trained at once (gensim's MAX_SENTENCE_LEN) */


/* A thread's own copies of the rows it touched in the current round. A row is copied
 * from the shared table on first touch; the shared tables stay unchanged until every
 * thread has finished the round, then each row becomes its copy, or, when several
 * threads touched it, the first one's copy plus the others' changes in thread order.
 * The outcome therefore depends only on the seed and the thread count. */
typedef struct LocalRows {
    int32_t *slot; /* row -> its copy's index in pool, or -1 (V entries) */
    int32_t *rows; /* copy index -> row, in the order touched */
    float *pool;   /* the copies, D floats each */
    int64_t n;
} LocalRows;

typedef struct Run Run;

typedef struct Worker {
    Run *run;
    int id;
    WorkerState *st;
    LocalRows in, out;  /* used when the run is deterministic with more than one thread */
    float *work;        /* D floats of scratch */
    int32_t *piece;     /* MAX_PIECE word ids */
    _Atomic int64_t done; /* st->done, published for progress in Hogwild runs */
} Worker;

/* One nn_w2v_train call, shared by its threads. */
struct Run {
    NnWord2Vec *m;
    Worker *w;
    int T;
    bool local;             /* threads train on their own copies and merge each round */
    pthread_barrier_t barrier;
    bool finish;
    int status;             /* -1 once a checkpoint failed */
    double started, next_report;
    int64_t start_done, next_checkpoint, checkpoint_every; /* kept words over all threads */
    pthread_mutex_t gate_lock; /* the threads start together, or not at all */
    pthread_cond_t gate_open;
    int gate;                  /* 0 closed, 1 go, -1 a thread could not be started */
};

W2V_INLINE uint64_t next_random(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The row's storage for this thread: the shared row, or its own copy of it. */
W2V_INLINE float *row_of(LocalRows *l, float *table, int32_t row, int64_t d) {
    if (!l) return table + (int64_t)row * d;
    int32_t s = l->slot[row];
    if (s < 0) {
        s = l->slot[row] = (int32_t)l->n++;
        l->rows[s] = row;
        memcpy(l->pool + (int64_t)s * d, table + (int64_t)row * d, (size_t)d * sizeof(float));
    }
    return l->pool + (int64_t)s * d;
}

/* Trains the thread's next words until it has done `until` kept words (whole pieces,
 * so a little more) or its budget. The whole loop is compiled for AVX-512, AVX2 and
 * baseline x86-64 (the kernel's loops vectorise in each), picked once at load time. */
TENSOR_MULTIVERSION
static void train_chunk(Worker *w, int64_t until) {
    NnWord2Vec *m = w->run->m;
    WorkerState *st = w->st;
    const NnW2vCorpus *c = m->corpus;
    const int64_t D = m->D;
    const int K = m->o.negative, window = m->o.window;
    const uint32_t V = (uint32_t)m->V, *keep = m->keep, *noise_p = m->noise_p;
    const int32_t *alias = m->noise_alias;
    float *syn0 = tensor_f32(m->in), *syn1 = tensor_f32(m->out), *rows[101];
    LocalRows *lin = w->run->local ? &w->in : NULL, *lout = w->run->local ? &w->out : NULL;
    int32_t *piece = w->piece;
    const double a0 = m->o.alpha, a1 = m->o.min_alpha;
    const double a = st->budget ? a0 - (a0 - a1) * (double)st->done / (double)st->budget : a1;
    const float alpha = (float)(a > a1 ? a : a1); /* gensim: linear to min_alpha, per batch of words */
    while (st->done < until && st->done < st->budget) {
        if (st->sent == st->s1) { /* a new pass over its sentences */
            st->pairs += st->epoch_pairs;
            st->epoch_pairs = 0;
            st->loss = 0;
            st->epoch++;
            st->sent = st->s0;
            st->pos = 0;
        }
        int64_t len;
        const int32_t *sent = nn_w2v_corpus_sentence(c, st->sent, &len);
        int64_t p0 = st->pos;
        int n = 0; /* subsample into a piece of at most MAX_PIECE words */
        for (; p0 < len && n < MAX_PIECE; p0++) {
            int32_t id = sent[p0];
            if (keep[id] != UINT32_MAX && keep[id] < (uint32_t)next_random(&st->rng)) continue;
            piece[n++] = id;
        }
        for (int i = 0; i < n; i++) {
            int b = (int)((uint32_t)next_random(&st->rng) % (uint32_t)window);
            int lo = i - window + b, hi = i + window - b;
            for (int j = lo < 0 ? 0 : lo; j <= hi && j < n; j++) {
                if (j == i) continue;
                int nt = 0;
                rows[nt++] = row_of(lout, syn1, piece[i], D);
                for (int k = 0; k < K; k++) {
                    uint64_t r = next_random(&st->rng);
                    uint32_t col = (uint32_t)(((r >> 32) * V) >> 32);
                    int32_t neg = (uint32_t)r < noise_p[col] ? (int32_t)col : alias[col];
                    if (neg != piece[i]) rows[nt++] = row_of(lout, syn1, neg, D); /* as word2vec.c */
                }
                float *in = row_of(lin, syn0, piece[j], D);
                /* Memory latency, not arithmetic, is the cost here: ask for every random row
                 * (the center's is in cache) before the kernel needs the first. */
                for (int t = 1; t < nt; t++)
                    for (int64_t off = 0; off < D; off += 16) __builtin_prefetch(rows[t] + off, 1, 3);
                st->loss += sgd_rows(in, rows, nt, D, alpha, w->work);
                st->epoch_pairs++;
            }
        }
        st->done += p0 - st->pos;
        st->pos = p0;
        if (p0 == len) st->sent++, st->pos = 0;
    }
}

/* Folds the threads' copies of the rows this thread owns (row % T == id) into the
 * shared table; see LocalRows. */
static void merge_table(Run *r, int id, bool out_table) {
    const int T = r->T;
    const int64_t D = r->m->D;
    float *table = tensor_f32(out_table ? r->m->out : r->m->in);
    for (int t = 0; t < T; t++) {
        const LocalRows *l = out_table ? &r->w[t].out : &r->w[t].in;
        for (int64_t k = 0; k < l->n; k++) {
            int32_t row = l->rows[k];
            if (row % T != id) continue;
            bool earlier = false; /* then that thread's turn merged the row already */
            for (int e = 0; e < t && !earlier; e++) earlier = (out_table ? r->w[e].out : r->w[e].in).slot[row] >= 0;
            if (earlier) continue;
            float *g = table + (int64_t)row * D, *acc = r->w[id].work;
            memcpy(acc, l->pool + k * D, (size_t)D * sizeof(float));
            for (int u = t + 1; u < T; u++) {
                const LocalRows *o = out_table ? &r->w[u].out : &r->w[u].in;
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

static void report(Run *r) {
    const NnWord2Vec *m = r->m;
    const WorkerState *st = &m->ws[0];
    int64_t done = total_done(r), budget = 0;
    for (int t = 0; t < r->T; t++) budget += m->ws[t].budget;
    double secs = tensor_seconds() - r->started, kept = (double)nn_w2v_corpus_words(m->corpus);
    double raw = (double)(done - r->start_done) * (double)m->corpus->raw_words / kept;
    const double a0 = m->o.alpha, a1 = m->o.min_alpha;
    double a = st->budget ? a0 - (a0 - a1) * (double)st->done / (double)st->budget : a1;
    NnW2vProgress p = {.fraction = budget ? (double)done / (double)budget : 1.0, .epoch = (int)st->epoch + 1,
                       .epochs = m->o.iter, .alpha = (float)(a > a1 ? a : a1),
                       .loss = st->epoch_pairs ? st->loss / (double)st->epoch_pairs : NAN,
                       .words_per_s = secs > 0 ? raw / secs : NAN, .seconds = secs};
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
        report(r);
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
            train_chunk(w, w->st->done + batch);
            atomic_store_explicit(&w->done, w->st->done, memory_order_relaxed);
            if (w->id == 0 && r->m->o.on_progress && tensor_seconds() >= r->next_report) {
                report(r);
                r->next_report = tensor_seconds() + 0.5;
            }
        }
        return NULL;
    }
    for (;;) { /* rounds of `batch` words per thread */
        if (r->local) {
            forget_rows(&w->in);
            forget_rows(&w->out);
        }
        train_chunk(w, w->st->done + batch);
        atomic_store_explicit(&w->done, w->st->done, memory_order_relaxed);
        pthread_barrier_wait(&r->barrier);
        if (r->local) {
            merge_table(r, w->id, false);
            merge_table(r, w->id, true);
        }
        pthread_barrier_wait(&r->barrier);
        if (w->id == 0) coordinate(r);
        pthread_barrier_wait(&r->barrier);
        if (r->finish) break;
    }
    return NULL;
}

/* The schedule of a fresh run: contiguous slices of about kept / T words. */
/* Each thread's slice of the sentences, word budget and generator, into ws[threads]. */
static void plan_into(const NnWord2Vec *m, WorkerState *ws) {
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
    plan_into(m, m->ws);
    m->planned = m->in_progress = true;
}

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

int nn_w2v_train(NnWord2Vec *m, NnW2vStats *stats) {
    const NnW2vCorpus *c = m->corpus;
    const int T = m->o.threads;
    if (!m->in_progress) plan(m);
    Run r = {.m = m, .T = T, .local = T > 1 && !m->o.hogwild, .started = tensor_seconds()};
    r.next_report = r.started + 0.5;
    r.w = tensor_xcalloc((size_t)T, sizeof *r.w);
    int64_t pairs0 = 0;
    for (int t = 0; t < T; t++) {
        Worker *w = &r.w[t];
        w->run = &r;
        w->id = t;
        w->st = &m->ws[t];
        w->work = tensor_aligned_alloc((size_t)m->D * sizeof(float));
        w->piece = tensor_xmalloc(MAX_PIECE * sizeof *w->piece);
        atomic_init(&w->done, w->st->done);
        if (r.local) {
            local_rows_init(&w->in, m->V, m->D);
            local_rows_init(&w->out, m->V, m->D);
        }
        r.start_done += w->st->done;
        pairs0 += w->st->pairs + w->st->epoch_pairs;
    }
    if (m->o.checkpoint_words > 0) { /* counted in corpus words, like max_words */
        double every = (double)m->o.checkpoint_words * (double)nn_w2v_corpus_words(c) / (double)c->raw_words;
        r.checkpoint_every = every >= 1 ? (int64_t)every : 1;
        r.next_checkpoint = r.start_done + r.checkpoint_every;
    }
    if (!m->o.hogwild) pthread_barrier_init(&r.barrier, NULL, (unsigned)T);
    pthread_mutex_init(&r.gate_lock, NULL);
    pthread_cond_init(&r.gate_open, NULL);
    pthread_t *tid = tensor_xcalloc((size_t)T, sizeof *tid);
    int started_threads = 1, status = 0;
    for (int t = 1; t < T && status == 0; t++) {
        if (pthread_create(&tid[t], NULL, worker_main, &r.w[t]) != 0)
            status = tensor_set_error("word2vec: cannot start training thread %d of %d", t + 1, T);
        else started_threads++;
    }
    pthread_mutex_lock(&r.gate_lock);
    r.gate = status == 0 ? 1 : -1;
    pthread_cond_broadcast(&r.gate_open);
    pthread_mutex_unlock(&r.gate_lock);
    worker_main(&r.w[0]);
    for (int t = 1; t < started_threads; t++) pthread_join(tid[t], NULL);
    if (!m->o.hogwild) pthread_barrier_destroy(&r.barrier);
    pthread_mutex_destroy(&r.gate_lock);
    pthread_cond_destroy(&r.gate_open);
    double secs = tensor_seconds() - r.started, loss = 0;
    int64_t done = 0, pairs = 0, last_pairs = 0;
    bool all_done = true;
    for (int t = 0; t < T; t++) {
        const WorkerState *st = &m->ws[t];
        done += st->done;
        pairs += st->pairs + st->epoch_pairs;
        loss += st->loss;
        last_pairs += st->epoch_pairs;
        all_done = all_done && st->done >= st->budget;
        atomic_store(&r.w[t].done, st->done);
    }
    if (status == 0 && r.status != 0) status = -1;
    if (m->o.on_progress && status == 0 && all_done) report(&r);
    if (status == 0 && all_done) m->in_progress = false;
    else if (status == 0) status = 1; /* stopped on request: train again to continue */
    if (stats) {
        int64_t raw = (int64_t)((double)(done - r.start_done) * (double)c->raw_words /
                                (double)nn_w2v_corpus_words(c) + 0.5);
        *stats = (NnW2vStats){.words = raw, .pairs = pairs - pairs0, .seconds = secs,
                              .words_per_s = secs > 0 ? (double)raw / secs : NAN,
                              .loss = last_pairs ? loss / (double)last_pairs : NAN};
    }
    for (int t = 0; t < T; t++) {
        tensor_aligned_free(r.w[t].work);
        free(r.w[t].piece);
        if (r.local) {
            local_rows_free(&r.w[t].in);
            local_rows_free(&r.w[t].out);
        }
    }
    free(tid);
    free(r.w);
    return status;
}

/* ---- training state files ---- */

/* Layout (native byte order, 8-byte fields): the magic, the run's settings and corpus
 * fingerprint (STATE_FIELDS), then per thread its WorkerState, then the input and
 * output tables (V x D floats each), then an FNV-1a checksum of everything before. */
static const char STATE_MAGIC[8] = {'L', 'W', '2', 'V', 'S', 'T', '0', '1'};
enum { STATE_FIELDS = 17, WORKER_FIELDS = 11 };

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

/* What must match for a saved run to continue here, and the names used in messages. */
static void state_fields(const NnWord2Vec *m, uint64_t f[STATE_FIELDS]) {
    const NnW2vCorpus *c = m->corpus;
    uint64_t vocab_hash = 0xCBF29CE484222325ull;
    for (int64_t i = 0; i < m->V; i++) {
        vocab_hash = fnv1a(vocab_hash, c->words[i], strlen(c->words[i]) + 1);
        vocab_hash = fnv1a(vocab_hash, &c->counts[i], sizeof c->counts[i]);
    }
    uint64_t v[STATE_FIELDS] = {(uint64_t)m->V, (uint64_t)m->D, (uint64_t)c->raw_words,
                                (uint64_t)nn_w2v_corpus_sentences(c), vocab_hash, (uint64_t)m->o.threads,
                                m->o.hogwild, m->o.seed, (uint64_t)m->o.window, (uint64_t)m->o.negative,
                                (uint64_t)m->o.iter, f64_bits(m->o.no_sample ? 0 : m->o.sample),
                                f64_bits(m->o.alpha), f64_bits(m->o.min_alpha), (uint64_t)m->o.batch_words,
                                (uint64_t)m->o.max_words, 0};
    memcpy(f, v, sizeof v);
}

static const char *const STATE_NAMES[STATE_FIELDS] = {
    "vocabulary size", "dim", "corpus words", "corpus sentences", "vocabulary (words and counts)", "threads",
    "hogwild", "seed", "window", "negative", "iter", "sample", "alpha", "min_alpha", "batch_words", "max_words",
    "reserved"};

static void worker_fields(const WorkerState *st, uint64_t f[WORKER_FIELDS]) {
    uint64_t v[WORKER_FIELDS] = {(uint64_t)st->s0, (uint64_t)st->s1, (uint64_t)st->sent, (uint64_t)st->pos,
                                 (uint64_t)st->budget, (uint64_t)st->done, (uint64_t)st->epoch, st->rng,
                                 f64_bits(st->loss), (uint64_t)st->epoch_pairs, (uint64_t)st->pairs};
    memcpy(f, v, sizeof v);
}

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
    Out o = {.f = af.f, .hash = 0xCBF29CE484222325ull, .ok = true};
    uint64_t f[STATE_FIELDS], wf[WORKER_FIELDS], started = m->planned;
    state_fields(m, f);
    out_put(&o, STATE_MAGIC, sizeof STATE_MAGIC);
    out_put(&o, f, sizeof f);
    out_put(&o, &started, 8);
    for (int t = 0; t < m->o.threads; t++) {
        if (m->planned) worker_fields(&m->ws[t], wf);
        else memset(wf, 0, sizeof wf);
        out_put(&o, wf, sizeof wf);
    }
    out_put(&o, tensor_f32(m->in), (size_t)(m->V * m->D) * sizeof(float));
    out_put(&o, tensor_f32(m->out), (size_t)(m->V * m->D) * sizeof(float));
    uint64_t h = o.hash;
    out_put(&o, &h, 8);
    if (!o.ok) tensor_set_error("%s: cannot write the training state: %s", path, strerror(errno));
    return nn_atomic_file_commit(&af, o.ok);
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

int nn_w2v_load_state(NnWord2Vec *m, const char *path) {
    int64_t len;
    char *data = nn_read_file(path, &len);
    if (!data) return -1;
    const int T = m->o.threads;
    const size_t tables = (size_t)(m->V * m->D) * sizeof(float),
                 want = sizeof STATE_MAGIC + 8 * (STATE_FIELDS + 1 + (size_t)T * WORKER_FIELDS + 1) + 2 * tables;
    int rc = 0;
    uint64_t f[STATE_FIELDS], saved[STATE_FIELDS], started, h;
    WorkerState *loaded = NULL, *planned_ws = NULL;
    const char *p = data + sizeof STATE_MAGIC;
    if (len < (int64_t)(sizeof STATE_MAGIC + sizeof saved) || memcmp(data, STATE_MAGIC, sizeof STATE_MAGIC) != 0) {
        rc = tensor_set_error("%s: not a word2vec training state file", path);
        goto done;
    }
    memcpy(saved, p, sizeof saved);
    state_fields(m, f);
    for (int i = 0; i < STATE_FIELDS; i++)
        if (f[i] != saved[i]) {
            rc = tensor_set_error("%s: saved by a run with a different %s; resume with the same corpus and "
                                  "training options", path, STATE_NAMES[i]);
            goto done;
        }
    memcpy(&h, data + len - 8, 8);
    if ((size_t)len != want || fnv1a(0xCBF29CE484222325ull, data, (size_t)len - 8) != h) {
        rc = tensor_set_error("%s: the file is truncated or damaged (%lld bytes, checksum %s)", path, (long long)len,
                              (size_t)len != want ? "not checked" : "wrong");
        goto done;
    }
    p += sizeof saved;
    memcpy(&started, p, 8);
    p += 8;
    /* Decoded aside and taken only when every thread's position checks out, so a
     * refused file leaves the model as it was. */
    loaded = tensor_xmalloc((size_t)T * sizeof *loaded);
    planned_ws = tensor_xmalloc((size_t)T * sizeof *planned_ws);
    plan_into(m, planned_ws);
    for (int t = 0; t < T; t++, p += 8 * WORKER_FIELDS) {
        uint64_t wf[WORKER_FIELDS];
        memcpy(wf, p, sizeof wf);
        WorkerState *st = &loaded[t];
        double loss;
        memcpy(&loss, &wf[8], 8);
        *st = (WorkerState){.s0 = (int64_t)wf[0], .s1 = (int64_t)wf[1], .sent = (int64_t)wf[2],
                            .pos = (int64_t)wf[3], .budget = (int64_t)wf[4], .done = (int64_t)wf[5],
                            .epoch = (int64_t)wf[6], .rng = wf[7], .loss = loss,
                            .epoch_pairs = (int64_t)wf[9], .pairs = (int64_t)wf[10]};
        if (started && !worker_state_fits(m, &planned_ws[t], st)) {
            rc = tensor_set_error("%s: thread %d's position or counts do not fit this corpus and these "
                                  "options", path, t + 1);
            goto done;
        }
    }
    for (size_t k = 0; k < 2 * tables / sizeof(float); k++) {
        float v;
        memcpy(&v, p + k * sizeof(float), sizeof v);
        if (!isfinite(v)) { /* no run writes these: the file was made or edited elsewhere */
            rc = tensor_set_error("%s: the saved vectors hold NaN or infinite values", path);
            goto done;
        }
    }
    memcpy(m->ws, loaded, (size_t)T * sizeof *loaded);
    memcpy(tensor_f32(m->in), p, tables);
    memcpy(tensor_f32(m->out), p + tables, tables);
    m->planned = m->in_progress = started != 0; /* a finished run continues to its end at once */
done:
    free(planned_ws);
    free(loaded);
    free(data);
    return rc;
}
