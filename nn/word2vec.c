/* Skip-gram with negative sampling: the corpus (tokenised like the gensim peer
 * script, frequency-ranked vocabulary), the model's two tables, the fused SGD kernel
 * (word2vec.c's inner loop, allocation-free, table sigmoid), the same loss written
 * with tape ops (the reference the kernel is tested against), and Hogwild training
 * over pthreads, one contiguous slice of sentences per thread. */
#include "nn/word2vec.h"

#include "autograd/ops.h"

#include <math.h>
#include <pthread.h>
#include <stb_ds.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

W2V_INLINE float sigmoid_tab(float x) {
    return x >= SIG_MAX ? 1.0f : x <= -SIG_MAX ? 0.0f : tab_lookup(sig_tab, x);
}

W2V_INLINE float softplus(float x) { /* -log sigmoid(-x) */
    return x >= SIG_MAX ? x : x <= -SIG_MAX ? 0.0f : tab_lookup(softplus_tab, x);
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

W2V_INLINE float sgd_pair(float *restrict in, float *restrict out, int64_t d, int32_t center,
                          const int32_t *neg, int k, float alpha, float *restrict work) {
    float loss = 0;
    for (int64_t i = 0; i < d; i++) work[i] = 0;
    for (int t = 0; t <= k; t++) {
        int32_t target = t == 0 ? center : neg[t - 1];
        if (t > 0 && target == center) continue;
        float *restrict u = out + (int64_t)target * d;
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
    return sgd_pair(in_row, out_table, dim, center, negatives, n_negatives, alpha, work);
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

struct NnWord2Vec {
    const NnW2vCorpus *corpus;
    NnW2vOpts o;          /* defaults filled in */
    int64_t V, D;
    Tensor *in, *out;     /* (V, D) */
    uint32_t *keep;       /* subsampling: keep a word when keep >= 32 random bits */
    uint32_t *noise_p;    /* alias table of count^0.75: column i is i when the low bits < p */
    int32_t *noise_alias; /* ... else noise_alias[i] */
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
    o.batch_words = o.batch_words ? o.batch_words : 10000;
    if (o.dim < 1 || o.dim > 10000) return BAD_OPT("dim %lld is outside 1..10000", (long long)o.dim);
    if (o.window < 1 || o.window > 1000) return BAD_OPT("window %d is outside 1..1000", o.window);
    if (o.negative < 1 || o.negative > 100) return BAD_OPT("negative %d is outside 1..100", o.negative);
    if (!(o.sample > 0) || !isfinite(o.sample)) return BAD_OPT("sample %g is not a positive number", o.sample);
    if (o.iter < 1) return BAD_OPT("iter %d is below 1", o.iter);
    if (!(o.alpha > 0) || !isfinite(o.alpha) || !(o.min_alpha >= 0) || o.min_alpha > o.alpha)
        return BAD_OPT("alpha %g / min_alpha %g: need alpha > 0 and 0 <= min_alpha <= alpha", o.alpha, o.min_alpha);
    if (o.threads < 1 || o.threads > 1024) return BAD_OPT("threads %d is outside 1..1024", o.threads);
    if (o.batch_words < 1 || o.max_words < 0) return BAD_OPT("batch_words must be >= 1 and max_words >= 0");
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
    free(m);
}

/* ---- training ---- */

#define MAX_PIECE 10000 /* effective words trained at once (gensim's MAX_SENTENCE_LEN) */

typedef struct Worker {
    NnWord2Vec *m;
    int id, n_workers;
    struct Worker *all;
    int64_t s0, s1;         /* its sentences */
    int64_t budget;         /* kept corpus words to process */
    _Atomic int64_t done;   /* read by the first worker for progress */
    uint64_t rng;           /* splitmix64 state */
    double loss, started;   /* loss summed over the current epoch */
    int64_t pairs_total, epoch_pairs;
    int epoch;
} Worker;

W2V_INLINE uint64_t next_random(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(Worker *w, int epoch, float alpha, double loss, int64_t pairs) {
    const NnWord2Vec *m = w->m;
    int64_t done = 0, budget = 0;
    for (int i = 0; i < w->n_workers; i++) {
        done += atomic_load_explicit(&w->all[i].done, memory_order_relaxed);
        budget += w->all[i].budget;
    }
    double secs = now_seconds() - w->started, kept = (double)nn_w2v_corpus_words(m->corpus);
    double raw = (double)done * (double)m->corpus->raw_words / kept;
    NnW2vProgress p = {.fraction = budget ? (double)done / (double)budget : 1.0, .epoch = epoch + 1,
                       .epochs = m->o.iter, .alpha = alpha, .loss = pairs ? loss / (double)pairs : NAN,
                       .words_per_s = secs > 0 ? raw / secs : NAN, .seconds = secs};
    m->o.on_progress(&p, m->o.user);
}

/* The whole per-thread loop, compiled for AVX-512, AVX2 and baseline x86-64 (the
 * kernel's loops vectorise in each), picked once at load time. */
TENSOR_MULTIVERSION
static void train_slice(Worker *w) {
    NnWord2Vec *m = w->m;
    const NnW2vCorpus *c = m->corpus;
    const int64_t D = m->D;
    const int K = m->o.negative, window = m->o.window;
    const uint32_t V = (uint32_t)m->V, *keep = m->keep, *noise_p = m->noise_p;
    const int32_t *alias = m->noise_alias;
    float *syn0 = tensor_f32(m->in), *syn1 = tensor_f32(m->out);
    float *work = tensor_aligned_alloc((size_t)D * sizeof(float));
    int32_t *piece = tensor_xmalloc(MAX_PIECE * sizeof *piece), neg[100];
    const double a0 = m->o.alpha, a1 = m->o.min_alpha, total = (double)w->budget;
    float alpha = (float)a0;
    int64_t done = 0, next_update = m->o.batch_words, report_pairs = 0;
    double report_loss = 0, next_report = w->started + 0.5;
    for (int epoch = 0; done < w->budget; epoch++) {
        w->epoch = epoch;
        w->loss = 0;
        w->epoch_pairs = 0;
        for (int64_t s = w->s0; s < w->s1 && done < w->budget; s++) {
            int64_t len;
            const int32_t *sent = nn_w2v_corpus_sentence(c, s, &len);
            for (int64_t p0 = 0; p0 < len;) {
                int n = 0; /* subsample into a piece of at most MAX_PIECE words */
                for (; p0 < len && n < MAX_PIECE; p0++) {
                    int32_t id = sent[p0];
                    if (keep[id] != UINT32_MAX && keep[id] < (uint32_t)next_random(&w->rng)) continue;
                    piece[n++] = id;
                }
                for (int i = 0; i < n; i++) {
                    int b = (int)((uint32_t)next_random(&w->rng) % (uint32_t)window);
                    int lo = i - window + b, hi = i + window - b;
                    for (int j = lo < 0 ? 0 : lo; j <= hi && j < n; j++) {
                        if (j == i) continue;
                        for (int k = 0; k < K; k++) {
                            uint64_t r = next_random(&w->rng);
                            uint32_t col = (uint32_t)(((r >> 32) * V) >> 32);
                            neg[k] = (uint32_t)r < noise_p[col] ? (int32_t)col : alias[col];
                        }
                        w->loss += sgd_pair(syn0 + piece[j] * D, syn1, D, piece[i], neg, K, alpha, work);
                        w->epoch_pairs++;
                    }
                }
            }
            done += len;
            if (done >= next_update || done >= w->budget) {
                next_update = done + m->o.batch_words;
                double a = a0 - (a0 - a1) * (double)done / total; /* gensim: linear to min_alpha */
                alpha = (float)(a > a1 ? a : a1);
                atomic_store_explicit(&w->done, done, memory_order_relaxed);
                if (w->id == 0 && m->o.on_progress && now_seconds() >= next_report) {
                    report(w, epoch, alpha, w->loss - report_loss, w->epoch_pairs - report_pairs);
                    report_loss = w->loss;
                    report_pairs = w->epoch_pairs;
                    next_report = now_seconds() + 0.5;
                }
            }
        }
        w->pairs_total += w->epoch_pairs;
        report_loss = 0;
        report_pairs = 0;
    }
    tensor_aligned_free(work);
    free(piece);
}

static void *worker_main(void *arg) {
    train_slice(arg);
    return NULL;
}

int nn_w2v_train(NnWord2Vec *m, NnW2vStats *stats) {
    const NnW2vCorpus *c = m->corpus;
    const int T = m->o.threads;
    const int64_t kept = nn_w2v_corpus_words(c), n_sent = nn_w2v_corpus_sentences(c);
    int64_t planned = kept * m->o.iter;
    if (m->o.max_words > 0) { /* max_words counts corpus words, rare ones included */
        int64_t cap = (int64_t)((double)m->o.max_words * (double)kept / (double)c->raw_words);
        if (cap < planned) planned = cap > 0 ? cap : 1;
    }
    Worker *w = tensor_xcalloc((size_t)T, sizeof *w);
    double started = now_seconds();
    int64_t s = 0;
    for (int t = 0; t < T; t++) { /* contiguous slices of about kept / T words */
        int64_t target = kept * (t + 1) / T, slice = 0;
        w[t] = (Worker){.m = m, .id = t, .n_workers = T, .all = w, .s0 = s, .started = started};
        while (s < n_sent && (c->starts[s] < target || t == T - 1)) slice += c->starts[s + 1] - c->starts[s], s++;
        w[t].s1 = s;
        w[t].budget = slice * m->o.iter;
        if (planned < kept * m->o.iter) w[t].budget = (int64_t)((double)planned * (double)slice / (double)kept);
        Rng r;
        tensor_rng_seed(&r, m->o.seed, 1000 + (uint64_t)t);
        w[t].rng = (uint64_t)tensor_rng_u32(&r) << 32 | tensor_rng_u32(&r);
    }
    pthread_t *tid = tensor_xcalloc((size_t)T, sizeof *tid);
    int started_threads = 1, status = 0;
    for (int t = 1; t < T; t++, started_threads++)
        if (pthread_create(&tid[t], NULL, worker_main, &w[t]) != 0) {
            status = tensor_set_error("word2vec: cannot start training thread %d of %d", t + 1, T);
            break;
        }
    if (status == 0) train_slice(&w[0]);
    for (int t = 1; t < started_threads; t++) pthread_join(tid[t], NULL);
    double secs = now_seconds() - started, loss = 0;
    int64_t done = 0, pairs = 0, last_pairs = 0;
    for (int t = 0; t < T; t++) {
        done += w[t].done;
        pairs += w[t].pairs_total;
        loss += w[t].loss;
        last_pairs += w[t].epoch_pairs;
    }
    if (m->o.on_progress && status == 0) report(&w[0], w[0].epoch, m->o.min_alpha, w[0].loss, w[0].epoch_pairs);
    if (stats) {
        int64_t raw = (int64_t)((double)done * (double)c->raw_words / (double)kept + 0.5);
        *stats = (NnW2vStats){.words = raw, .pairs = pairs, .seconds = secs,
                              .words_per_s = secs > 0 ? (double)raw / secs : NAN,
                              .loss = last_pairs ? loss / (double)last_pairs : NAN};
    }
    free(tid);
    free(w);
    return status;
}
