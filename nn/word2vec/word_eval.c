/* Word-vector evaluation as gensim's KeyedVectors does it: cosine neighbours, 3CosAdd
 * analogies and the analogy test set (batched through SGEMM), and the word-pair
 * similarity sets (Pearson, Spearman, the out-of-vocabulary ratio). Test sets are read
 * in word_sets.c, correlations computed in correlation.c. */
#include "nn/word2vec/word_eval.h"

#include "nn/word2vec/word_eval_internal.h"
#include "tensor/error.h"
#include "tensor/gemm.h"

#include <ctype.h>
#include <math.h>
#include <stb_ds.h>
#include <stdlib.h>
#include <string.h>

/* ---- neighbours ---- */

void nn__keep_best(int64_t k, int64_t *n, int64_t *rows, float *scores, int64_t row, float score) {
    if (*n == k && !(score > scores[k - 1])) return;
    int64_t i = *n < k ? (*n)++ : k - 1;
    for (; i > 0 && score > scores[i - 1]; i--) {
        rows[i] = rows[i - 1];
        scores[i] = scores[i - 1];
    }
    rows[i] = row;
    scores[i] = score;
}

static bool excluded(int64_t row, const int64_t *ex, int n) {
    for (int i = 0; i < n; i++)
        if (ex[i] == row) return true;
    return false;
}

int64_t nn_nearest(const NnWordVectors *wv, const float *query, int64_t k, int64_t restrict_rows,
                   const int64_t *exclude, int n_exclude, int64_t *rows, float *cosines) {
    const int64_t d = wv->dim;
    int64_t limit = restrict_rows > 0 && restrict_rows < wv->size ? restrict_rows : wv->size;
    if (k <= 0 || limit <= 0) return 0;
    if (k > limit) k = limit; /* a huge k asks for every row */
    double ss = 0;
    for (int64_t j = 0; j < d; j++) ss += (double)query[j] * query[j];
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    int64_t *r = tensor_xmalloc((size_t)k * sizeof *r), n = 0;
    float *c = tensor_xmalloc((size_t)k * sizeof *c);
    for (int64_t i = 0; i < limit; i++) {
        if (excluded(i, exclude, n_exclude)) continue;
        const float *u = wv->unit + i * d;
        float dot = 0;
        for (int64_t j = 0; j < d; j++) dot += u[j] * query[j];
        nn__keep_best(k, &n, r, c, i, dot * inv);
    }
    for (int64_t i = 0; i < n; i++) {
        if (rows) rows[i] = r[i];
        if (cosines) cosines[i] = c[i];
    }
    free(r);
    free(c);
    return n;
}

int64_t nn_nearest_to_row(const NnWordVectors *wv, int64_t row, int64_t k, int64_t *rows, float *cosines) {
    return nn_nearest(wv, wv->unit + row * wv->dim, k, 0, &row, 1, rows, cosines);
}

static void analogy_query(const NnWordVectors *wv, int64_t a, int64_t b, int64_t c, float *q) {
    const int64_t d = wv->dim;
    for (int64_t j = 0; j < d; j++) q[j] = wv->unit[b * d + j] + wv->unit[c * d + j] - wv->unit[a * d + j];
}

int64_t nn_analogy(const NnWordVectors *wv, int64_t a, int64_t b, int64_t c, int64_t k, int64_t restrict_rows,
                   int64_t *rows, float *cosines) {
    float *q = tensor_xmalloc((size_t)wv->dim * sizeof *q);
    analogy_query(wv, a, b, c, q);
    int64_t n = nn_nearest(wv, q, k, restrict_rows, (int64_t[]){a, b, c}, 3, rows, cosines);
    free(q);
    return n;
}

/* ---- case-insensitive lookup over the first rows ---- */

typedef struct FoldEntry {
    char *key;
    int64_t value;
} FoldEntry;

typedef struct Fold {
    FoldEntry *map;  /* lower-cased word -> its most frequent row */
    int64_t *rep;    /* rep[row]: the row that row's lower-cased word maps to */
    int64_t limit;
    bool case_sensitive; /* then the "lower-cased" word is the word itself */
    char *buf;
    size_t cap;
} Fold;

static const char *lower(Fold *f, const char *w) {
    if (f->case_sensitive) return w;
    size_t n = strlen(w);
    if (n + 1 > f->cap) f->buf = tensor_xrealloc(f->buf, f->cap = 2 * n + 16);
    for (size_t i = 0; i <= n; i++) f->buf[i] = (char)tolower((unsigned char)w[i]);
    return f->buf;
}

static void fold_init(Fold *f, const NnWordVectors *wv, int64_t restrict_rows, bool case_sensitive) {
    *f = (Fold){.limit = restrict_rows > 0 && restrict_rows < wv->size ? restrict_rows : wv->size,
                .case_sensitive = case_sensitive};
    sh_new_strdup(f->map);
    f->rep = tensor_xmalloc((size_t)(f->limit + 1) * sizeof *f->rep);
    for (int64_t i = 0; i < f->limit; i++) {
        const char *key = lower(f, wv->words[i]);
        ptrdiff_t at = shgeti(f->map, key);
        if (at < 0) shput(f->map, key, i);
        f->rep[i] = at < 0 ? i : f->map[at].value;
    }
}

/* The row of a word (case-insensitively) among the first rows, or -1. */
static int64_t fold_find(Fold *f, const char *w) {
    ptrdiff_t at = shgeti(f->map, lower(f, w));
    return at < 0 ? -1 : f->map[at].value;
}

static void fold_free(Fold *f) {
    shfree(f->map);
    free(f->rep);
    free(f->buf);
}

/* ---- evaluations ---- */

#define QBLOCK 128 /* questions per matrix product */
#define ANALOGY_TOPN 5 /* gensim asks most_similar for 5 answers per question */

static const NnWordEvalOpts default_opts = {0};

/* gensim's verdict on one question from its scores over the first R rows: the best 5
 * rows other than the question words' own, then the first of them that is no other
 * spelling of a question word (else the last of them) is compared with d. */
static bool answered_right(const Fold *f, const float *scores, int64_t R, const int64_t abcd[4]) {
    int64_t best[ANALOGY_TOPN], n = 0;
    float best_score[ANALOGY_TOPN];
    for (int64_t j = 0; j < R; j++)
        if (j != abcd[0] && j != abcd[1] && j != abcd[2])
            nn__keep_best(ANALOGY_TOPN, &n, best, best_score, j, scores[j]);
    int64_t pick = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t rep = f->rep[best[i]];
        pick = rep;
        if (rep != abcd[0] && rep != abcd[1] && rep != abcd[2]) break;
    }
    return pick >= 0 && pick == abcd[3];
}

static void count_answer(NnAnalogySet *set, int section, bool right) {
    NnAnalogySection *sec = &set->sections[section];
    if (right) {
        sec->correct++;
        set->correct++;
    } else {
        sec->incorrect++;
        set->incorrect++;
    }
}

static void reset_counts(NnAnalogySet *set) {
    for (int i = 0; i < set->n_sections; i++)
        set->sections[i].correct = set->sections[i].incorrect = set->sections[i].skipped = 0;
    set->correct = set->incorrect = set->skipped = 0;
}

/* Queues the questions from *next on whose words are all known into q / ask (at most
 * QBLOCK), counting the others; returns how many were queued. */
static int queue_questions(const NnWordVectors *wv, NnAnalogySet *set, Fold *f, bool dummy4unknown,
                           int64_t *next, float *q, int64_t (*ask)[5]) {
    int nb = 0;
    for (; *next < set->n_questions && nb < QBLOCK; (*next)++) {
        const NnAnalogyQuestion *qq = &set->questions[*next];
        int64_t r[4];
        bool known = true;
        for (int k = 0; k < 4; k++) known = (r[k] = fold_find(f, qq->w[k])) >= 0 && known;
        if (!known) {
            set->sections[qq->section].skipped++;
            set->skipped++;
            if (dummy4unknown) count_answer(set, qq->section, false);
            continue;
        }
        analogy_query(wv, r[0], r[1], r[2], q + nb * wv->dim);
        memcpy(ask[nb], r, sizeof r);
        ask[nb++][4] = *next;
    }
    return nb;
}

double nn_evaluate_word_analogies(const NnWordVectors *wv, NnAnalogySet *set, const NnWordEvalOpts *opts) {
    if (!opts) opts = &default_opts;
    const int64_t d = wv->dim;
    Fold f;
    fold_init(&f, wv, opts->restrict_vocab, opts->case_sensitive);
    const int64_t R = f.limit;
    float *q = tensor_xmalloc((size_t)(QBLOCK * d) * sizeof *q);
    float *s = tensor_xmalloc((size_t)(QBLOCK * (R ? R : 1)) * sizeof *s);
    int64_t (*ask)[5] = tensor_xmalloc(QBLOCK * sizeof *ask); /* a b c d, question index */
    reset_counts(set);
    for (int64_t next = 0; next < set->n_questions;) {
        int nb = queue_questions(wv, set, &f, opts->dummy4unknown, &next, q, ask);
        if (nb == 0) continue;
        tensor_sgemm(false, true, nb, R, d, 1.0f, q, d, wv->unit, d, 0.0f, s, R);
        for (int i = 0; i < nb; i++)
            count_answer(set, set->questions[ask[i][4]].section, answered_right(&f, s + (int64_t)i * R, R, ask[i]));
    }
    free(q);
    free(s);
    free(ask);
    fold_free(&f);
    set->oov_ratio = set->n_questions ? 100.0 * (double)set->skipped / (double)set->n_questions : NAN;
    int64_t asked = set->correct + set->incorrect;
    return asked ? (double)set->correct / (double)asked : NAN;
}

double nn_analogy_evaluate(const NnWordVectors *wv, NnAnalogySet *set, int64_t restrict_rows) {
    return nn_evaluate_word_analogies(wv, set, &(NnWordEvalOpts){.restrict_vocab = restrict_rows});
}

double nn_evaluate_word_pairs(const NnWordVectors *wv, NnSimilaritySet *set, const NnWordEvalOpts *opts) {
    if (!opts) opts = &default_opts;
    Fold f;
    fold_init(&f, wv, opts->restrict_vocab, opts->case_sensitive);
    double *gold = tensor_xmalloc((size_t)(set->n_pairs + 1) * sizeof *gold);
    double *model = tensor_xmalloc((size_t)(set->n_pairs + 1) * sizeof *model);
    set->used = set->skipped = 0;
    for (int64_t i = 0; i < set->n_pairs; i++) {
        int64_t a = fold_find(&f, set->pairs[i].w1), b = fold_find(&f, set->pairs[i].w2);
        bool known = a >= 0 && b >= 0;
        if (!known) set->skipped++;
        if (!known && !opts->dummy4unknown) continue;
        float dot = 0; /* gensim's dummy: a similarity of 0 for a pair with an unknown word */
        for (int64_t j = 0; known && j < wv->dim; j++) dot += wv->unit[a * wv->dim + j] * wv->unit[b * wv->dim + j];
        gold[set->used] = set->pairs[i].score;
        model[set->used++] = dot;
    }
    set->pearson = nn_pearson(gold, model, set->used);
    set->spearman = nn_spearman(gold, model, set->used);
    /* gensim's ratio: over the pairs scored, which with dummy4unknown include the unknown ones */
    int64_t over = opts->dummy4unknown ? set->used : set->used + set->skipped;
    set->oov_ratio = over ? 100.0 * (double)set->skipped / (double)over : NAN;
    free(gold);
    free(model);
    fold_free(&f);
    return set->spearman;
}

double nn_similarity_evaluate(const NnWordVectors *wv, NnSimilaritySet *set) {
    /* gensim's evaluate_word_pairs default restrict_vocab */
    return nn_evaluate_word_pairs(wv, set, &(NnWordEvalOpts){.restrict_vocab = 300000});
}
