/* Beam search over a step callback. Beams are kept as back-pointers (the token each
 * step chose and the beam it extended), so a step stores O(1) per beam and a
 * hypothesis is spelled out only when asked for: at the end, or for n-gram blocking. */
#include "nn/model/beam.h"

#include "tensor/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An extension of a live beam by one token. */
typedef struct Cand {
    double logp;
    int64_t beam;
    int32_t token;
} Cand;

/* A finished hypothesis: its last token, the live beam of the step before it that it
 * extends (-1 for none), its length in generated tokens, and its scores. */
typedef struct Fin {
    double logp, score;
    int64_t len, prev, order;
    int32_t last;
} Fin;

typedef struct Search {
    const NnBeamModel *model;
    const NnBeamOpts *o;
    const int32_t *prime;
    int64_t n_prime, k, V;
    int32_t *tok;        /* (max_tokens, k): the token live beam j took at step s */
    int64_t *par;        /* (max_tokens, k): the beam of step s - 1 it extended */
    double *cum, *next;  /* live beams' total log-probabilities, now and after the step */
    float *logp;         /* (k, V) from the step callback */
    Cand *heap;          /* the k best extensions that go on, worst at the root */
    int64_t n_heap;
    Fin *fin;            /* the k best finished hypotheses */
    int64_t n_fin, n_order;
    unsigned char *banned, *ends, *blocked;
    int32_t *seq, *marks; /* a beam's whole sequence, and the tokens blocked for it */
} Search;

/* Whether a beats b: more likely, then the earlier beam, then the lower token. */
static int better(const Cand *a, const Cand *b) {
    if (a->logp != b->logp) return a->logp > b->logp;
    if (a->beam != b->beam) return a->beam < b->beam;
    return a->token < b->token;
}

static void swap_cand(Cand *a, Cand *b) {
    Cand t = *a;
    *a = *b;
    *b = t;
}

/* Min-heap on "better": the root is the worst of the kept extensions. */
static void heap_sift_down(Cand *h, int64_t n, int64_t i) {
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(&h[w], &h[l])) w = l;
        if (r < n && better(&h[w], &h[r])) w = r;
        if (w == i) return;
        swap_cand(&h[i], &h[w]);
        i = w;
    }
}

static void heap_offer(Search *s, Cand c) {
    Cand *h = s->heap;
    if (s->n_heap < s->k) {
        int64_t i = s->n_heap++;
        h[i] = c;
        while (i > 0 && better(&h[(i - 1) / 2], &h[i])) {
            swap_cand(&h[i], &h[(i - 1) / 2]);
            i = (i - 1) / 2;
        }
    } else if (better(&c, &h[0])) {
        h[0] = c;
        heap_sift_down(h, s->n_heap, 0);
    }
}

/* Wu et al.'s length penalty ((5 + len) / 6)^alpha. */
static double length_penalty(const Search *s, int64_t len) {
    double alpha = (double)s->o->length_penalty;
    return alpha == 0.0 ? 1.0 : pow((5.0 + (double)len) / 6.0, alpha);
}

static int64_t worst_fin(const Search *s) {
    int64_t w = 0;
    for (int64_t i = 1; i < s->n_fin; i++)
        if (s->fin[i].score < s->fin[w].score ||
            (s->fin[i].score == s->fin[w].score && s->fin[i].order > s->fin[w].order))
            w = i;
    return w;
}

/* Keeps a finished hypothesis if it is among the k best so far (a tie keeps the older). */
static void finish(Search *s, double logp, int64_t len, int32_t last, int64_t prev) {
    Fin f = {.logp = logp, .score = logp / length_penalty(s, len), .len = len, .prev = prev,
             .order = s->n_order++, .last = last};
    if (s->n_fin < s->k) {
        s->fin[s->n_fin++] = f;
        return;
    }
    int64_t w = worst_fin(s);
    if (f.score > s->fin[w].score) s->fin[w] = f;
}

/* Writes live beam j's sequence after `steps` steps, the prime first, into out;
 * returns its length. */
static int64_t spell(const Search *s, int64_t steps, int64_t j, int32_t *out) {
    memcpy(out, s->prime, (size_t)s->n_prime * sizeof *out);
    for (int64_t t = steps - 1; t >= 0; t--) {
        out[s->n_prime + t] = s->tok[t * s->k + j];
        j = s->par[t * s->k + j];
    }
    return s->n_prime + steps;
}

/* Marks the tokens that would repeat an n-gram of live beam j; returns how many marks. */
static int64_t block_ngrams(Search *s, int64_t steps, int64_t j) {
    const int64_t n = s->o->no_repeat_ngram, len = spell(s, steps, j, s->seq);
    int64_t marked = 0;
    if (len < n) return 0; /* no n-gram yet */
    const int32_t *tail = s->seq + len - (n - 1);
    for (int64_t i = 0; i + n <= len; i++) {
        if (n > 1 && memcmp(s->seq + i, tail, (size_t)(n - 1) * sizeof *tail) != 0) continue;
        int32_t v = s->seq[i + n - 1];
        if (!s->blocked[v]) s->blocked[v] = 1, s->marks[marked++] = v;
    }
    return marked;
}

/* Extends every live beam (each `steps` tokens long) by every allowed token: the k best
 * that go on land in the heap, those that end are finished. */
static void expand(Search *s, int64_t n_live, int64_t steps) {
    s->n_heap = 0;
    for (int64_t j = 0; j < n_live; j++) {
        const float *row = s->logp + j * s->V;
        int64_t marked = s->o->no_repeat_ngram > 0 ? block_ngrams(s, steps, j) : 0, allowed = 0;
        for (int64_t v = 0; v < s->V; v++) {
            if (!(row[v] > -INFINITY) || s->banned[v] || s->blocked[v]) continue; /* NaN too */
            allowed++;
            Cand c = {.logp = s->cum[j] + (double)row[v], .beam = j, .token = (int32_t)v};
            if (s->ends[v])
                finish(s, c.logp, steps + 1, c.token, j);
            else
                heap_offer(s, c);
        }
        for (int64_t i = 0; i < marked; i++) s->blocked[s->marks[i]] = 0;
        if (allowed == 0 && steps > 0) /* nowhere to go: it ends as it is */
            finish(s, s->cum[j], steps, s->tok[(steps - 1) * s->k + j], s->par[(steps - 1) * s->k + j]);
        else if (allowed == 0)
            finish(s, 0.0, 0, 0, -1);
    }
}

static int by_better(const void *a, const void *b) { return better(a, b) ? -1 : better(b, a) ? 1 : 0; }

/* The heap, best first, becomes the live beams of step `step`; returns their count. */
static int64_t advance(Search *s, int64_t step) {
    qsort(s->heap, (size_t)s->n_heap, sizeof *s->heap, by_better);
    for (int64_t j = 0; j < s->n_heap; j++) {
        s->tok[step * s->k + j] = s->heap[j].token;
        s->par[step * s->k + j] = s->heap[j].beam;
        s->next[j] = s->heap[j].logp;
    }
    double *t = s->cum;
    s->cum = s->next;
    s->next = t;
    return s->n_heap;
}

/* Whether no live beam (each `len` tokens long) can still beat the worst finished
 * hypothesis: with log P <= 0, the best a beam can reach is log P / max lp(len'). */
static int hopeless(const Search *s, int64_t n_live, int64_t len) {
    if (s->n_fin < s->k) return 0;
    double best = s->cum[0]; /* live beams are best first */
    if (best > 0.0 || n_live == 0) return n_live == 0;
    double lp_max = s->o->length_penalty >= 0 ? length_penalty(s, s->o->max_tokens) : length_penalty(s, len);
    return best / lp_max <= s->fin[worst_fin(s)].score;
}

/* Copies the kept hypotheses out, best first. */
static NnBeamResult *collect(Search *s) {
    NnBeamResult *r = tensor_xcalloc(1, sizeof *r);
    r->hyps = tensor_xcalloc((size_t)(s->n_fin ? s->n_fin : 1), sizeof *r->hyps);
    for (int64_t n = 0; n < s->n_fin; n++) { /* selection: k is small */
        int64_t b = n;
        for (int64_t i = n + 1; i < s->n_fin; i++) {
            const Fin *x = &s->fin[i], *y = &s->fin[b];
            if (x->score > y->score || (x->score == y->score && x->order < y->order)) b = i;
        }
        Fin f = s->fin[b];
        s->fin[b] = s->fin[n];
        s->fin[n] = f;
        NnBeamHyp *h = &r->hyps[r->n++];
        h->tokens = tensor_xmalloc((size_t)(f.len ? f.len : 1) * sizeof *h->tokens);
        h->length = f.len, h->log_prob = f.logp, h->score = f.score;
        if (f.len == 0) continue;
        h->tokens[f.len - 1] = f.last;
        for (int64_t t = f.len - 2, j = f.prev; t >= 0; t--) {
            h->tokens[t] = s->tok[t * s->k + j];
            j = s->par[t * s->k + j];
        }
    }
    return r;
}

/* Refuses options and a prime the search cannot use; 0 or -1 with the reason. */
static int check_args(const NnBeamModel *model, const int32_t *prime, int64_t n_prime, const NnBeamOpts *o) {
    const int64_t V = model->vocab;
    if (o->width < 0 || o->width > (1 << 20) || (o->width > 0 && V > (INT64_C(1) << 31) / o->width))
        return tensor_set_error("nn_beam_search: width must be in [1, 2^20] with width * vocab <= 2^31 "
                                "(got width %lld, vocab %lld)", (long long)o->width, (long long)V);
    if (o->max_tokens < 1)
        return tensor_set_error("nn_beam_search: max_tokens must be >= 1 (got %lld)", (long long)o->max_tokens);
    if (n_prime < 1) return tensor_set_error("nn_beam_search: the prime needs at least one token");
    if (o->no_repeat_ngram < 0)
        return tensor_set_error("nn_beam_search: no_repeat_ngram must be >= 0 (got %lld)",
                                (long long)o->no_repeat_ngram);
    if (!isfinite(o->length_penalty))
        return tensor_set_error("nn_beam_search: length_penalty must be finite (got %g)", (double)o->length_penalty);
    if ((o->n_end_tokens > 0 && !o->end_tokens) || (o->n_banned > 0 && !o->banned) || o->n_end_tokens < 0 ||
        o->n_banned < 0)
        return tensor_set_error("nn_beam_search: end_tokens / banned are NULL or have a negative count");
    const struct { const int32_t *ids; int64_t n; const char *what; } lists[] = {
        {prime, n_prime, "prime"}, {o->end_tokens, o->n_end_tokens, "end_tokens"}, {o->banned, o->n_banned, "banned"}};
    for (int l = 0; l < 3; l++)
        for (int64_t i = 0; i < lists[l].n; i++)
            if (lists[l].ids[i] < 0 || lists[l].ids[i] >= V)
                return tensor_set_error("nn_beam_search: %s[%lld] = %d is outside the vocabulary [0, %lld)",
                                        lists[l].what, (long long)i, lists[l].ids[i], (long long)V);
    return 0;
}

static void search_init(Search *s, const NnBeamModel *model, const int32_t *prime, int64_t n_prime,
                        const NnBeamOpts *o) {
    const int64_t k = o->width ? o->width : 1, V = model->vocab, T = o->max_tokens;
    *s = (Search){.model = model, .o = o, .prime = prime, .n_prime = n_prime, .k = k, .V = V};
    s->tok = tensor_xmalloc((size_t)(T * k) * sizeof *s->tok);
    s->par = tensor_xmalloc((size_t)(T * k) * sizeof *s->par);
    s->cum = tensor_xcalloc((size_t)k, sizeof *s->cum);
    s->next = tensor_xcalloc((size_t)k, sizeof *s->next);
    s->logp = tensor_xmalloc((size_t)(k * V) * sizeof *s->logp);
    s->heap = tensor_xmalloc((size_t)k * sizeof *s->heap);
    s->fin = tensor_xmalloc((size_t)k * sizeof *s->fin);
    s->banned = tensor_xcalloc((size_t)V, 1);
    s->ends = tensor_xcalloc((size_t)V, 1);
    s->blocked = tensor_xcalloc((size_t)V, 1);
    if (o->no_repeat_ngram > 0) {
        s->seq = tensor_xmalloc((size_t)(n_prime + T) * sizeof *s->seq);
        s->marks = tensor_xmalloc((size_t)(n_prime + T) * sizeof *s->marks);
    }
    for (int64_t i = 0; i < o->n_banned; i++) s->banned[o->banned[i]] = 1;
    for (int64_t i = 0; i < o->n_end_tokens; i++) s->ends[o->end_tokens[i]] = 1;
}

static void search_free(Search *s) {
    free(s->tok), free(s->par), free(s->cum), free(s->next), free(s->logp), free(s->heap), free(s->fin);
    free(s->banned), free(s->ends), free(s->blocked), free(s->seq), free(s->marks);
}

/* A callback's failure, with its reason kept after ours. */
static int callback_failed(const char *which) {
    char why[512];
    snprintf(why, sizeof why, "%s", tensor_last_error());
    return tensor_set_error("nn_beam_search: the %s callback failed: %s", which, why);
}

/* The search proper: step, expand, keep the best k, reorder the state, step again. */
static int run(Search *s) {
    const NnBeamModel *m = s->model;
    if (m->reset) m->reset(m->user);
    if (m->step(m->user, s->prime, 1, s->n_prime, s->logp) != 0) return callback_failed("step");
    int64_t n_live = 1;
    for (int64_t step = 0; step < s->o->max_tokens; step++) {
        expand(s, n_live, step);
        if ((n_live = advance(s, step)) == 0) break;
        if (step + 1 == s->o->max_tokens) { /* the live beams finish at full length */
            for (int64_t j = 0; j < n_live; j++)
                finish(s, s->cum[j], step + 1, s->tok[step * s->k + j], s->par[step * s->k + j]);
            break;
        }
        if (hopeless(s, n_live, step + 1)) break;
        if (m->reorder(m->user, s->par + step * s->k, n_live) != 0) return callback_failed("reorder");
        if (m->step(m->user, s->tok + step * s->k, n_live, 1, s->logp) != 0) return callback_failed("step");
    }
    return 0;
}

NnBeamResult *nn_beam_search_opts(const NnBeamModel *model, const int32_t *prime, int64_t n_prime,
                                  const NnBeamOpts *opts) {
    TENSOR_CHECK(model != NULL && model->step != NULL && model->reorder != NULL,
                 "nn_beam_search: the model and its step and reorder callbacks must not be NULL");
    TENSOR_CHECK(prime != NULL && opts != NULL, "nn_beam_search: prime and opts must not be NULL");
    TENSOR_CHECK(model->vocab >= 1, "nn_beam_search: vocab must be >= 1 (got %lld)", (long long)model->vocab);
    if (check_args(model, prime, n_prime, opts) != 0) return NULL;
    Search s;
    search_init(&s, model, prime, n_prime, opts);
    NnBeamResult *r = run(&s) == 0 ? collect(&s) : NULL;
    search_free(&s);
    return r;
}

void nn_beam_result_free(NnBeamResult *r) {
    if (!r) return;
    for (int64_t i = 0; i < r->n; i++) free(r->hyps[i].tokens);
    free(r->hyps);
    free(r);
}
