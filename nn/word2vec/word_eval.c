/* Word-vector evaluation as gensim's KeyedVectors does it: cosine neighbours, 3CosAdd
 * analogies (batched through SGEMM), the questions-words.txt and WordSim/SimLex
 * readers (tolerant of malformed lines), Spearman's rho with average ranks for ties,
 * and a deterministic 2-D PCA for maps. */
#include "nn/word2vec/word_eval.h"

#include "nn/text/text.h"
#include "tensor/error.h"
#include "tensor/gemm.h"

#include <ctype.h>
#include <math.h>
#include <stb_ds.h>
#include <stdlib.h>
#include <string.h>

/* ---- neighbours ---- */

/* Keeps the best k (row, cos) pairs sorted, best first; equal cosines keep the
 * earlier (more frequent) row first. */
static void top_insert(int64_t k, int64_t *n, int64_t *rows, float *cos, int64_t row, float c) {
    if (*n == k && !(c > cos[k - 1])) return;
    int64_t i = *n < k ? (*n)++ : k - 1;
    while (i > 0 && c > cos[i - 1]) {
        rows[i] = rows[i - 1];
        cos[i] = cos[i - 1];
        i--;
    }
    rows[i] = row;
    cos[i] = c;
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
    if (k <= 0) return 0;
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
        top_insert(k, &n, r, c, i, dot * inv);
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

/* ---- Spearman ---- */

typedef struct Ranked {
    double v;
    int64_t i;
} Ranked;

static int cmp_ranked(const void *pa, const void *pb) {
    const Ranked *a = pa, *b = pb;
    if (a->v != b->v) return a->v < b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Average ranks (1-based) of x, ties sharing the mean of their positions. */
static void ranks(const double *x, int64_t n, double *r) {
    Ranked *s = tensor_xmalloc((size_t)n * sizeof *s);
    for (int64_t i = 0; i < n; i++) s[i] = (Ranked){x[i], i};
    qsort(s, (size_t)n, sizeof *s, cmp_ranked);
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && s[j + 1].v == s[i].v) j++;
        double avg = 0.5 * (double)(i + j) + 1.0;
        for (int64_t t = i; t <= j; t++) r[s[t].i] = avg;
        i = j + 1;
    }
    free(s);
}

double nn_spearman(const double *x, const double *y, int64_t n) {
    if (n < 2) return NAN;
    double *rx = tensor_xmalloc((size_t)n * sizeof *rx), *ry = tensor_xmalloc((size_t)n * sizeof *ry);
    ranks(x, n, rx);
    ranks(y, n, ry);
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; i++) mx += rx[i], my += ry[i];
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int64_t i = 0; i < n; i++) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    free(rx);
    free(ry);
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
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
    char *buf;
    size_t cap;
} Fold;

static const char *lower(Fold *f, const char *w) {
    size_t n = strlen(w);
    if (n + 1 > f->cap) f->buf = tensor_xrealloc(f->buf, f->cap = 2 * n + 16);
    for (size_t i = 0; i <= n; i++) f->buf[i] = (char)tolower((unsigned char)w[i]);
    return f->buf;
}

static void fold_init(Fold *f, const NnWordVectors *wv, int64_t restrict_rows) {
    *f = (Fold){.limit = restrict_rows > 0 && restrict_rows < wv->size ? restrict_rows : wv->size};
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

/* ---- readers ---- */

/* Calls line(user, b, e) for each line of the file without its "\n" / "\r\n". */
static int for_each_line(const char *path, void (*line)(void *, char *, char *), void *user) {
    int64_t len;
    char *text = nn_read_file(path, &len);
    if (!text) return -1;
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        if (e > p && e[-1] == '\r') e--;
        *e = 0;
        line(user, p, e);
        p = nl ? nl + 1 : end;
    }
    free(text);
    return 0;
}

static char *dup_range(const char *b, const char *e) {
    char *s = tensor_xmalloc((size_t)(e - b) + 1);
    memcpy(s, b, (size_t)(e - b));
    s[e - b] = 0;
    return s;
}

static void analogy_line(void *user, char *b, char *e) {
    NnAnalogySet *set = user;
    if (strlen(b) != (size_t)(e - b)) { /* a NUL byte would silently end the line early */
        set->malformed++;
        return;
    }
    if (*b == ':') { /* ": section-name", stripped like gensim's lstrip(': ').strip() */
        while (b < e && (*b == ':' || *b == ' ')) b++;
        while (e > b && isspace((unsigned char)e[-1])) e--;
        arrput(set->sections, ((NnAnalogySection){.name = dup_range(b, e)}));
        set->n_sections++;
        return;
    }
    char *tok[5], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(b, " \t\v\f\r", &save); t && n < 5; t = strtok_r(NULL, " \t\v\f\r", &save))
        tok[n++] = t;
    if (n == 0) return;
    if (n != 4) {
        set->malformed++;
        return;
    }
    if (set->n_sections == 0) {
        static const char unnamed[] = "(no section)";
        arrput(set->sections, ((NnAnalogySection){.name = dup_range(unnamed, unnamed + strlen(unnamed))}));
        set->n_sections++;
    }
    NnAnalogyQuestion q = {.section = set->n_sections - 1};
    for (int i = 0; i < 4; i++) q.w[i] = dup_range(tok[i], tok[i] + strlen(tok[i]));
    arrput(set->questions, q);
    set->n_questions++;
}

NnAnalogySet *nn_analogy_read(const char *path) {
    NnAnalogySet *set = tensor_xcalloc(1, sizeof *set);
    if (for_each_line(path, analogy_line, set) != 0) {
        free(set);
        return NULL;
    }
    if (set->n_questions == 0) { /* an empty or foreign file would score NaN: say why instead */
        tensor_set_error("%s: no analogy question (a line of four words \"a b c d\") in the file (%lld malformed "
                         "line%s)",
                         path, (long long)set->malformed, set->malformed == 1 ? "" : "s");
        nn_analogy_set_free(set);
        return NULL;
    }
    return set;
}

void nn_analogy_set_free(NnAnalogySet *set) {
    if (!set) return;
    for (int64_t i = 0; i < set->n_questions; i++)
        for (int k = 0; k < 4; k++) free(set->questions[i].w[k]);
    for (int i = 0; i < set->n_sections; i++) free(set->sections[i].name);
    arrfree(set->questions);
    arrfree(set->sections);
    free(set);
}

static char *trim(char *b, char *e) {
    while (b < e && isspace((unsigned char)*b)) b++;
    while (e > b && isspace((unsigned char)e[-1])) e--;
    *e = 0;
    return b;
}

static void similarity_line(void *user, char *b, char *e) {
    NnSimilaritySet *set = user;
    if (*b == '#') return;
    if (strlen(b) != (size_t)(e - b)) { /* a NUL byte would silently cut a word or the score short */
        set->malformed++;
        return;
    }
    if (trim(b, e)[0] == 0) return;
    char *t1 = memchr(b, '\t', (size_t)(e - b)), *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(e - t1 - 1)) : NULL;
    if (!t2 || memchr(t2 + 1, '\t', (size_t)(e - t2 - 1))) {
        set->malformed++;
        return;
    }
    char *w1 = trim(b, t1), *w2 = trim(t1 + 1, t2), *num = trim(t2 + 1, e), *stop;
    double score = strtod(num, &stop);
    if (!*w1 || !*w2 || stop == num || *stop || !isfinite(score)) {
        set->malformed++;
        return;
    }
    NnSimilarityPair p = {dup_range(w1, w1 + strlen(w1)), dup_range(w2, w2 + strlen(w2)), score};
    arrput(set->pairs, p);
    set->n_pairs++;
}

NnSimilaritySet *nn_similarity_read(const char *path) {
    NnSimilaritySet *set = tensor_xcalloc(1, sizeof *set);
    if (for_each_line(path, similarity_line, set) != 0) {
        free(set);
        return NULL;
    }
    if (set->n_pairs == 0) {
        tensor_set_error("%s: no word pair (a line \"word1<TAB>word2<TAB>score\") in the file (%lld malformed "
                         "line%s)",
                         path, (long long)set->malformed, set->malformed == 1 ? "" : "s");
        nn_similarity_set_free(set);
        return NULL;
    }
    return set;
}

void nn_similarity_set_free(NnSimilaritySet *set) {
    if (!set) return;
    for (int64_t i = 0; i < set->n_pairs; i++) {
        free(set->pairs[i].w1);
        free(set->pairs[i].w2);
    }
    arrfree(set->pairs);
    free(set);
}

/* ---- evaluations ---- */

#define QBLOCK 128 /* questions per matrix product */

double nn_analogy_evaluate(const NnWordVectors *wv, NnAnalogySet *set, int64_t restrict_rows) {
    const int64_t d = wv->dim;
    Fold f;
    fold_init(&f, wv, restrict_rows);
    const int64_t R = f.limit;
    float *q = tensor_xmalloc((size_t)(QBLOCK * d) * sizeof *q);
    float *s = tensor_xmalloc((size_t)(QBLOCK * (R ? R : 1)) * sizeof *s);
    int64_t (*ask)[5] = tensor_xmalloc(QBLOCK * sizeof *ask); /* a b c d, question index */
    for (int i = 0; i < set->n_sections; i++)
        set->sections[i].correct = set->sections[i].incorrect = set->sections[i].skipped = 0;
    set->correct = set->incorrect = set->skipped = 0;
    for (int64_t start = 0; start < set->n_questions;) {
        int nb = 0;
        for (; start < set->n_questions && nb < QBLOCK; start++) {
            const NnAnalogyQuestion *qq = &set->questions[start];
            int64_t r[4];
            bool known = true;
            for (int k = 0; k < 4; k++) known = (r[k] = fold_find(&f, qq->w[k])) >= 0 && known;
            if (!known) {
                set->sections[qq->section].skipped++;
                set->skipped++;
                continue;
            }
            analogy_query(wv, r[0], r[1], r[2], q + nb * d);
            memcpy(ask[nb], r, sizeof r);
            ask[nb++][4] = start;
        }
        if (nb == 0) continue;
        tensor_sgemm(false, true, nb, R, d, 1.0f, q, d, wv->unit, d, 0.0f, s, R);
        for (int i = 0; i < nb; i++) {
            const float *row = s + (int64_t)i * R;
            int64_t best = -1;
            for (int64_t j = 0; j < R; j++) { /* the question words, in any spelling, are out */
                int64_t rep = f.rep[j];
                if (rep == ask[i][0] || rep == ask[i][1] || rep == ask[i][2]) continue;
                if (best < 0 || row[j] > row[best]) best = j;
            }
            NnAnalogySection *sec = &set->sections[set->questions[ask[i][4]].section];
            if (best >= 0 && f.rep[best] == ask[i][3]) {
                sec->correct++;
                set->correct++;
            } else {
                sec->incorrect++;
                set->incorrect++;
            }
        }
    }
    free(q);
    free(s);
    free(ask);
    fold_free(&f);
    int64_t asked = set->correct + set->incorrect;
    return asked ? (double)set->correct / (double)asked : NAN;
}

double nn_similarity_evaluate(const NnWordVectors *wv, NnSimilaritySet *set) {
    Fold f;
    fold_init(&f, wv, 300000); /* gensim's evaluate_word_pairs default restrict_vocab */
    double *gold = tensor_xmalloc((size_t)(set->n_pairs + 1) * sizeof *gold);
    double *model = tensor_xmalloc((size_t)(set->n_pairs + 1) * sizeof *model);
    set->used = set->skipped = 0;
    for (int64_t i = 0; i < set->n_pairs; i++) {
        int64_t a = fold_find(&f, set->pairs[i].w1), b = fold_find(&f, set->pairs[i].w2);
        if (a < 0 || b < 0) {
            set->skipped++;
            continue;
        }
        float dot = 0;
        for (int64_t j = 0; j < wv->dim; j++) dot += wv->unit[a * wv->dim + j] * wv->unit[b * wv->dim + j];
        gold[set->used] = set->pairs[i].score;
        model[set->used++] = dot;
    }
    double rho = nn_spearman(gold, model, set->used);
    free(gold);
    free(model);
    fold_free(&f);
    return rho;
}

/* ---- PCA ---- */

/* The leading eigenvector of the symmetric d x d matrix c (power iteration). */
static double leading(const double *c, int64_t d, double *v) {
    double *w = tensor_xmalloc((size_t)d * sizeof *w), lambda = 0;
    for (int64_t i = 0; i < d; i++) v[i] = 1.0 + 0.01 * (double)(i % 7); /* fixed, generic start */
    for (int it = 0; it < 1000; it++) {
        double norm = 0;
        for (int64_t i = 0; i < d; i++) {
            double acc = 0;
            for (int64_t j = 0; j < d; j++) acc += c[i * d + j] * v[j];
            w[i] = acc;
            norm += acc * acc;
        }
        norm = sqrt(norm);
        if (norm == 0) break;
        double change = 0;
        for (int64_t i = 0; i < d; i++) {
            change += fabs(w[i] / norm - v[i]);
            v[i] = w[i] / norm;
        }
        lambda = norm;
        if (change < 1e-10) break;
    }
    free(w);
    return lambda;
}

int nn_word_vectors_pca2(const NnWordVectors *wv, int64_t n, float *xy) {
    if (n < 1 || n > wv->size) return tensor_set_error("pca: asked for %lld of %lld rows", (long long)n, (long long)wv->size);
    const int64_t d = wv->dim;
    double *mean = tensor_xcalloc((size_t)d, sizeof *mean), *c = tensor_xcalloc((size_t)(d * d), sizeof *c);
    double *v1 = tensor_xmalloc((size_t)d * sizeof *v1), *v2 = tensor_xmalloc((size_t)d * sizeof *v2);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) mean[j] += wv->vectors[i * d + j] / (double)n;
    for (int64_t i = 0; i < n; i++) {
        const float *x = wv->vectors + i * d;
        for (int64_t a = 0; a < d; a++)
            for (int64_t b = 0; b < d; b++) c[a * d + b] += (x[a] - mean[a]) * (x[b] - mean[b]);
    }
    double l1 = leading(c, d, v1);
    for (int64_t a = 0; a < d; a++) /* deflate */
        for (int64_t b = 0; b < d; b++) c[a * d + b] -= l1 * v1[a] * v1[b];
    leading(c, d, v2);
    for (int64_t i = 0; i < n; i++) {
        double p1 = 0, p2 = 0;
        for (int64_t j = 0; j < d; j++) {
            double x = wv->vectors[i * d + j] - mean[j];
            p1 += x * v1[j];
            p2 += x * v2[j];
        }
        xy[2 * i] = (float)p1;
        xy[2 * i + 1] = (float)p2;
    }
    free(mean);
    free(c);
    free(v1);
    free(v2);
    return 0;
}
