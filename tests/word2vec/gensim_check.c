/* lamina's KeyedVectors queries against gensim's answers (gensim_reference.py):
 *   gensim_check DIR
 * reads the vectors gensim wrote (text and binary, the format named and detected) and
 * the same vectors in word2vec.c's layouts, checks they are the same table, then
 * answers every query of DIR/answers.tsv on both of gensim's files: the same
 * neighbours in the same order, every score within 1e-5 (relative above 1), and the
 * same Pearson, Spearman, out-of-vocabulary ratio and analogy counts. Prints the
 * worst differences; exits 1 on any mismatch. */
#include "nn/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOLERANCE 1e-5
#define MAX_WORDS 64

typedef struct Report {
    int failures, lists, lists_equal, values;
    double worst_score, worst_pearson, worst_spearman, worst_oov;
} Report;

static void fail(Report *r, const char *fmt, const char *a, const char *b) {
    r->failures++;
    printf("FAIL: ");
    printf(fmt, a, b);
    printf("\n");
}

/* |got - want| within the tolerance (relative above 1); tracks the worst. */
static bool close_to(double got, double want, double *worst) {
    double diff = fabs(got - want), scale = fmax(1.0, fabs(want));
    if (isnan(got) != isnan(want)) diff = INFINITY;
    if (diff / scale > *worst) *worst = diff / scale;
    return diff <= TOLERANCE * scale;
}

/* "a,b,c" into words (pointers into s, which is cut); "-" is the empty list. */
static int split_list(char *s, const char **words) {
    if (strcmp(s, "-") == 0) return 0;
    int n = 0;
    for (char *save = NULL, *w = strtok_r(s, ",", &save); w && n < MAX_WORDS; w = strtok_r(NULL, ",", &save))
        words[n++] = w;
    return n;
}

static NnWordVectors *load(const char *dir, const char *name, NnVectorsFormat format) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    NnWordVectors *wv = nn_vectors_read(path, format);
    if (!wv) printf("FAIL: cannot read %s: %s\n", path, tensor_last_error());
    return wv;
}

/* The same words in the same order, vectors within tol (0: bit for bit). */
static bool same_table(const NnWordVectors *a, const NnWordVectors *b, float tol) {
    if (!a || !b || a->size != b->size || a->dim != b->dim) return false;
    for (int64_t i = 0; i < a->size; i++)
        if (strcmp(a->words[i], b->words[i]) != 0) return false;
    for (int64_t i = 0; i < a->size * a->dim; i++)
        if (!(fabsf(a->vectors[i] - b->vectors[i]) <= tol)) return false;
    return true;
}

/* most_similar / cosmul: TOPN RESTRICT POS NEG "WORD SCORE ..." */
static void check_neighbours(const NnWordVectors *wv, char **f, bool cosmul, Report *r) {
    const char *pos[MAX_WORDS], *neg[MAX_WORDS], *want[MAX_WORDS];
    double want_score[MAX_WORDS];
    NnKvQuery q = {.topn = atoll(f[1]), .restrict_vocab = atoll(f[2])};
    char query[512];
    snprintf(query, sizeof query, "%s %s +[%s] -[%s]", f[0], f[1], f[3], f[4]);
    q.n_positive = split_list(f[3], pos);
    q.n_negative = split_list(f[4], neg);
    q.positive = pos;
    q.negative = neg;
    int n_want = 0;
    for (char *save = NULL, *w = strtok_r(f[5], " ", &save); w && n_want < MAX_WORDS; w = strtok_r(NULL, " ", &save)) {
        want[n_want] = w;
        want_score[n_want++] = atof(strtok_r(NULL, " ", &save));
    }
    int64_t rows[MAX_WORDS];
    float scores[MAX_WORDS];
    int64_t n = (cosmul ? nn_kv_most_similar_cosmul : nn_kv_most_similar)(wv, &q, rows, scores);
    r->lists++;
    if (n != n_want) {
        fail(r, "%s: a different number of answers (%s)", query, n < 0 ? tensor_last_error() : "");
        return;
    }
    bool equal = true;
    for (int i = 0; i < n_want; i++) {
        if (strcmp(wv->words[rows[i]], want[i]) != 0) {
            equal = false;
            printf("FAIL: %s: answer %d is %s, gensim's %s\n", query, i + 1, wv->words[rows[i]], want[i]);
            r->failures++;
        }
        if (!close_to(scores[i], want_score[i], &r->worst_score)) {
            printf("FAIL: %s: %s scores %.9g, gensim %.9g\n", query, want[i], scores[i], want_score[i]);
            r->failures++;
        }
        r->values++;
    }
    r->lists_equal += equal;
}

static void check_doesnt_match(const NnWordVectors *wv, char **f, Report *r) {
    const char *words[MAX_WORDS];
    int n = split_list(f[1], words), i = nn_kv_doesnt_match(wv, words, n);
    r->lists++;
    if (i < 0 || strcmp(words[i], f[2]) != 0) fail(r, "doesnt_match: got %s, gensim %s", i < 0 ? "?" : words[i], f[2]);
    else r->lists_equal++;
}

static void check_similarity(const NnWordVectors *wv, char **f, bool n_similarity, Report *r) {
    double sim = NAN;
    char query[256];
    snprintf(query, sizeof query, "%s %s %s", f[0], f[1], f[2]);
    const char *ws1[MAX_WORDS], *ws2[MAX_WORDS];
    int rc = n_similarity ? nn_kv_n_similarity(wv, ws1, split_list(f[1], ws1), ws2, split_list(f[2], ws2), &sim)
                          : nn_kv_similarity(wv, f[1], f[2], &sim);
    r->values++;
    if (rc != 0 || !close_to(sim, atof(f[3]), &r->worst_score)) fail(r, "%s: gensim %s", query, f[3]);
}

/* word_pairs FILE RESTRICT CASE_INSENSITIVE DUMMY PEARSON SPEARMAN OOV */
static void check_word_pairs(const NnWordVectors *wv, char **f, Report *r) {
    NnSimilaritySet *set = nn_similarity_read(f[1]);
    if (!set) {
        fail(r, "%s%s", tensor_last_error(), "");
        return;
    }
    NnWordEvalOpts o = {.restrict_vocab = atoll(f[2]), .case_sensitive = !atoi(f[3]), .dummy4unknown = atoi(f[4])};
    nn_evaluate_word_pairs(wv, set, &o);
    bool ok = close_to(set->pearson, atof(f[5]), &r->worst_pearson) &
              close_to(set->spearman, atof(f[6]), &r->worst_spearman) & close_to(set->oov_ratio, atof(f[7]), &r->worst_oov);
    printf("word pairs (restrict %s, case-insensitive %s, dummy4unknown %s): Pearson %.6f / gensim %.6f, "
           "Spearman %.6f / %.6f, OOV %.4f%% / %.4f%%\n", f[2], f[3], f[4], set->pearson, atof(f[5]), set->spearman,
           atof(f[6]), set->oov_ratio, atof(f[7]));
    if (!ok) fail(r, "word pairs (restrict %s) differ from gensim's%s", f[2], "");
    nn_similarity_set_free(set);
}

/* analogies FILE RESTRICT CASE_INSENSITIVE DUMMY SCORE CORRECT INCORRECT OOV (one decimal) */
static void check_analogies(const NnWordVectors *wv, char **f, Report *r) {
    NnAnalogySet *set = nn_analogy_read(f[1]);
    if (!set) {
        fail(r, "%s%s", tensor_last_error(), "");
        return;
    }
    NnWordEvalOpts o = {.restrict_vocab = atoll(f[2]), .case_sensitive = !atoi(f[3]), .dummy4unknown = atoi(f[4])};
    double score = nn_evaluate_word_analogies(wv, set, &o);
    if (set->correct + set->incorrect == 0) score = 0; /* gensim scores nothing asked as 0 */
    printf("analogies (restrict %s, case-insensitive %s, dummy4unknown %s): %lld correct, %lld incorrect, "
           "accuracy %.6f / gensim %s correct, %s incorrect, %.6f; OOV %.4f%% / %s%%\n", f[2], f[3], f[4], (long long)set->correct,
           (long long)set->incorrect, score, f[6], f[7], atof(f[5]), set->oov_ratio, f[8]);
    if (set->correct != atoll(f[6]) || set->incorrect != atoll(f[7]) || fabs(score - atof(f[5])) > 1e-9 ||
        fabs(set->oov_ratio - atof(f[8])) > 0.05 + 1e-9) /* gensim logs it to one decimal */
        fail(r, "analogies (restrict %s) differ from gensim's%s", f[2], "");
    nn_analogy_set_free(set);
}

static void check_line(const NnWordVectors *wv, char *line, Report *r) {
    char *f[9] = {0};
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, "\t\n", &save); t && n < 9; t = strtok_r(NULL, "\t\n", &save))
        f[n++] = t;
    if (n == 0) return;
    if (strcmp(f[0], "most_similar") == 0 && n == 6) check_neighbours(wv, f, false, r);
    else if (strcmp(f[0], "cosmul") == 0 && n == 6) check_neighbours(wv, f, true, r);
    else if (strcmp(f[0], "doesnt_match") == 0 && n == 3) check_doesnt_match(wv, f, r);
    else if (strcmp(f[0], "similarity") == 0 && n == 4) check_similarity(wv, f, false, r);
    else if (strcmp(f[0], "n_similarity") == 0 && n == 4) check_similarity(wv, f, true, r);
    else if (strcmp(f[0], "word_pairs") == 0 && n == 8) check_word_pairs(wv, f, r);
    else if (strcmp(f[0], "analogies") == 0 && n == 9) check_analogies(wv, f, r);
    else fail(r, "unreadable answer line starting '%s'%s", f[0], "");
}

/* Every answer of the file on one table. */
static void check_answers(const NnWordVectors *wv, const char *dir, const char *name, Report *r) {
    char path[4096];
    snprintf(path, sizeof path, "%s/answers.tsv", dir);
    int64_t len;
    char *text = nn_read_file(path, &len);
    if (!text) {
        fail(r, "cannot read %s%s", path, "");
        return;
    }
    printf("-- queries on %s\n", name);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *copy = strdup(line);
        check_line(wv, copy, r);
        free(copy);
    }
    free(text);
}

static bool check_tables(const char *dir, NnWordVectors **text, NnWordVectors **binary) {
    *text = load(dir, "gensim.txt", NN_VECTORS_TEXT);
    *binary = load(dir, "gensim.bin", NN_VECTORS_BINARY);
    NnWordVectors *auto_text = load(dir, "gensim.txt", NN_VECTORS_AUTO), *auto_bin = load(dir, "gensim.bin", NN_VECTORS_AUTO);
    NnWordVectors *c_text = load(dir, "w2vc.txt", NN_VECTORS_AUTO), *c_bin = load(dir, "w2vc.bin", NN_VECTORS_AUTO);
    bool ok = same_table(*text, *binary, 0) && same_table(*text, auto_text, 0) && same_table(*binary, auto_bin, 0) &&
              same_table(*binary, c_bin, 0) && same_table(*binary, c_text, 1e-6f);
    if (ok) printf("read gensim's text and binary files (format named and detected) and word2vec.c's text and "
                   "binary layouts: the same %lld x %lld table\n", (long long)(*text)->size, (long long)(*text)->dim);
    else printf("FAIL: the files do not read as the same table\n");
    nn_word_vectors_free(auto_text);
    nn_word_vectors_free(auto_bin);
    nn_word_vectors_free(c_text);
    nn_word_vectors_free(c_bin);
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gensim_check DIR\n");
        return 2;
    }
    NnWordVectors *text, *binary;
    Report r = {0};
    if (!check_tables(argv[1], &text, &binary)) r.failures++;
    if (text) check_answers(text, argv[1], "gensim.txt", &r);
    if (binary) check_answers(binary, argv[1], "gensim.bin", &r);
    printf("neighbour lists and odd ones out equal to gensim's: %d of %d; %d scores, worst difference %.3g; "
           "worst Pearson %.3g, Spearman %.3g, OOV ratio %.3g\n", r.lists_equal, r.lists, r.values, r.worst_score,
           r.worst_pearson, r.worst_spearman, r.worst_oov);
    nn_word_vectors_free(text);
    nn_word_vectors_free(binary);
    printf(r.failures ? "FAILED: %d mismatches\n" : "ok: lamina answers as gensim does\n", r.failures);
    return r.failures ? 1 : 0;
}
