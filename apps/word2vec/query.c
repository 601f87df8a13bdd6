/* What word2vec asks of trained or loaded vectors: nearest neighbours, analogies,
 * accuracy on the analogy and word-similarity test sets scored the way gensim does,
 * and the PCA map of the most frequent words. */
#include "word2vec/word2vec_internal.h"

#include "common/data.h"
#include "common/status.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vocabulary_word(const NnWordVectors *wv, const char *word) {
    int64_t row = nn_word_vectors_find(wv, word);
    if (row < 0) {
        char low[256];
        snprintf(low, sizeof low, "%s", word);
        for (char *p = low; *p; p++) *p = (char)tolower((unsigned char)*p);
        row = nn_word_vectors_find(wv, low);
    }
    return row < 0 ? NULL : wv->words[row];
}

/* A word's row: exact, else lower-cased; reports unknown words. */
static int64_t lookup(const NnWordVectors *wv, const char *word) {
    const char *known = vocabulary_word(wv, word);
    if (!known) fprintf(stderr, APP ": '%s' is not in the vocabulary\n", word);
    return known ? nn_word_vectors_find(wv, known) : -1;
}

/* The fewest decimals (3 to 7) at which every two different values of cos[0..n) print
 * differently: after a short run neighbours are close, and 0.323 next to 0.323 reads as
 * a tie that is not there. */
static int neighbour_decimals(int64_t n, const float *cos) {
    int d = 3;
    for (int64_t i = 0; i + 1 < n; i++) {
        char a[32], b[32];
        for (; d < 7; d++) {
            snprintf(a, sizeof a, "%.*f", d, cos[i]);
            snprintf(b, sizeof b, "%.*f", d, cos[i + 1]);
            if (cos[i] == cos[i + 1] || strcmp(a, b) != 0) break;
        }
    }
    return d;
}

void print_neighbours(const NnWordVectors *wv, const char *what, int64_t n, const int64_t *rows,
                      const float *cos) {
    int d = neighbour_decimals(n, cos);
    printf("%s:", what);
    for (int64_t i = 0; i < n; i++) printf(" %s (%.*f)%s", wv->words[rows[i]], d, cos[i], i + 1 < n ? "," : "");
    printf("\n");
}

/* The --topn nearest words of a row among the --restrict-vocab most frequent. */
static void print_similar(const Options *o, const NnWordVectors *wv, const char *word, int64_t row) {
    int64_t *rows = malloc((size_t)o->topn * sizeof *rows);
    float *cos = malloc((size_t)o->topn * sizeof *cos);
    if (!rows || !cos) {
        fprintf(stderr, APP ": --topn %lld: out of memory\n", (long long)o->topn);
    } else {
        int64_t n = nn_nearest(wv, wv->unit + row * wv->dim, o->topn, o->restrict_vocab, &row, 1, rows, cos);
        print_neighbours(wv, word, n, rows, cos);
    }
    free(rows);
    free(cos);
}

int run_queries(const Options *o, const NnWordVectors *wv) {
    int status = APP_EXIT_OK;
    int64_t rows[5];
    float cos[5];
    const char *demo[] = {"holmes", "watson", "man", "door"};
    bool queries = o->n_similar || o->n_analogy || o->eval_analogies || o->n_eval_similarity || o->n_most_similar ||
                   o->n_doesnt_match || o->n_similarity_queries || o->n_n_similarity;
    for (int i = 0; !queries && i < 4; i++) { /* a taste of the vectors when nothing was asked */
        int64_t row = nn_word_vectors_find(wv, demo[i]);
        if (row >= 0) print_similar(o, wv, demo[i], row);
    }
    for (int i = 0; i < o->n_similar; i++) {
        int64_t row = lookup(wv, o->similar[i]);
        if (row < 0) status = APP_EXIT_FAILURE;
        else print_similar(o, wv, o->similar[i], row);
    }
    for (int i = 0; i < o->n_analogy; i++) {
        char w[3][64];
        sscanf(o->analogy[i], "%63s %63s %63s", w[0], w[1], w[2]);
        int64_t a = lookup(wv, w[0]), b = lookup(wv, w[1]), c = lookup(wv, w[2]);
        if (a < 0 || b < 0 || c < 0) {
            status = APP_EXIT_FAILURE;
            continue;
        }
        int64_t n = nn_analogy(wv, a, b, c, 5, 0, rows, cos);
        printf("%s : %s :: %s : %s\n", w[0], w[1], w[2], n ? wv->words[rows[0]] : "?");
        print_neighbours(wv, "  candidates", n, rows, cos);
    }
    return status;
}

int read_evaluations(const Options *o, Scores *s) {
    char path[4096];
    *s = (Scores){.analogy = NAN};
    if (o->eval_analogies) {
        app_data_path(o->common.data_dir, o->eval_analogies, path, sizeof path);
        if (!(s->analogies = nn_analogy_read(path))) {
            fprintf(stderr, APP ": --eval-analogies: %s\n", tensor_last_error());
            return APP_EXIT_USAGE;
        }
    }
    for (int i = 0; i < o->n_eval_similarity; i++) {
        s->similarity[i] = NAN;
        app_data_path(o->common.data_dir, o->eval_similarity[i], path, sizeof path);
        if (!(s->sets[i] = nn_similarity_read(path))) {
            fprintf(stderr, APP ": --eval-similarity: %s\n", tensor_last_error());
            scores_free(s);
            return APP_EXIT_USAGE;
        }
    }
    return APP_EXIT_OK;
}

void scores_free(Scores *s) {
    nn_analogy_set_free(s->analogies);
    s->analogies = NULL;
    for (int i = 0; i < MAX_LIST; i++) {
        nn_similarity_set_free(s->sets[i]);
        s->sets[i] = NULL;
    }
}

/* Accuracy on --eval-analogies, per section and in total; a set whose every question
 * has a word outside the vocabulary says so instead of scoring 0/0. */
static void evaluate_analogies(const Options *o, const NnWordVectors *wv, Scores *s) {
    NnAnalogySet *an = s->analogies;
    const int64_t restrict_vocab = o->restrict_vocab ? o->restrict_vocab : DEFAULT_ANALOGY_VOCAB;
    double accuracy = nn_evaluate_word_analogies(wv, an, &(NnWordEvalOpts){.restrict_vocab = restrict_vocab,
                      .case_sensitive = o->case_sensitive, .dummy4unknown = o->dummy4unknown});
    int64_t asked = an->correct + an->incorrect;
    s->analogy = asked ? accuracy : NAN;
    printf("analogies (%s, %lld most frequent words):\n", o->eval_analogies, (long long)restrict_vocab);
    if (!asked) {
        printf("  no question could be asked: all %lld have a word outside the %lld most frequent\n",
               (long long)an->n_questions, (long long)restrict_vocab);
        return;
    }
    for (int i = 0; i < an->n_sections; i++) {
        const NnAnalogySection *sec = &an->sections[i];
        int64_t n = sec->correct + sec->incorrect;
        if (n) printf("  %-28s %5lld/%-5lld %6.2f%%  (%lld skipped)\n", sec->name, (long long)sec->correct,
                      (long long)n, 100.0 * (double)sec->correct / (double)n, (long long)sec->skipped);
        else printf("  %-28s     -/-         -   (all %lld skipped)\n", sec->name, (long long)sec->skipped);
    }
    printf("  %-28s %5lld/%-5lld %6.2f%%  (%lld skipped, %lld malformed lines)\n", "total", (long long)an->correct,
           (long long)asked, 100.0 * s->analogy, (long long)an->skipped, (long long)an->malformed);
    printf("  questions with out-of-vocabulary words: %.1f%%%s\n", an->oov_ratio,
           o->dummy4unknown ? " (counted as wrong)" : "");
}

int run_evaluations(const Options *o, const NnWordVectors *wv, Scores *s) {
    if (s->analogies) evaluate_analogies(o, wv, s);
    for (int i = 0; i < o->n_eval_similarity; i++) {
        NnSimilaritySet *set = s->sets[i];
        double rho = nn_evaluate_word_pairs(wv, set, &(NnWordEvalOpts){
            .restrict_vocab = o->restrict_vocab ? o->restrict_vocab : DEFAULT_PAIRS_VOCAB,
            .case_sensitive = o->case_sensitive, .dummy4unknown = o->dummy4unknown});
        s->similarity[i] = set->used >= 2 ? rho : NAN; /* a rank correlation needs two pairs */
        if (set->used < 2)
            printf("similarity (%s): no Spearman rho: %lld of %lld pairs have both words in the vocabulary\n",
                   o->eval_similarity[i], (long long)set->used, (long long)set->n_pairs);
        else
            printf("similarity (%s): Spearman rho %.4f, Pearson r %.4f, out-of-vocabulary pairs %.1f%% "
                   "(%lld pairs used, %lld unknown%s, %lld malformed lines)\n",
                   o->eval_similarity[i], rho, set->pearson, set->oov_ratio, (long long)set->used,
                   (long long)set->skipped, o->dummy4unknown ? " scored 0" : "", (long long)set->malformed);
    }
    return APP_EXIT_OK;
}

int write_plot(const Options *o, const NnWordVectors *wv) {
    int status = APP_EXIT_OK;
    int64_t n = o->plot_words < wv->size ? o->plot_words : wv->size;
    float *xy = malloc((size_t)(2 * n) * sizeof *xy);
    char title[96]; /* the words come most frequent first, so they keep their labels */
    snprintf(title, sizeof title, "word vectors: PCA of the %lld most frequent words", (long long)n);
    if (!xy || nn_word_vectors_pca2(wv, n, xy) != 0 ||
        nn_plot_scatter_svg(o->common.plot, title, "PC 1 (first principal component)",
                            "PC 2 (second principal component)", n, xy, (const char *const *)wv->words) != 0) {
        fprintf(stderr, APP ": cannot write the plot: %s\n", tensor_last_error());
        status = APP_EXIT_FAILURE;
    } else {
        fprintf(stderr, "wrote %s (%lld words)\n", o->common.plot, (long long)n);
    }
    free(xy);
    return status;
}
