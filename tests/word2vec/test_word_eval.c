/* Word-vector evaluation: Spearman rho against scipy's values (ties included),
 * cosine neighbours, 3CosAdd with the question words (in any spelling) excluded, the
 * analogy and similarity readers on files with malformed lines, per-section counts
 * with skipped questions, the restricted vocabulary, and the PCA map. */
#include "helpers.h"
#include "nn/word2vec/word_eval.h"

#include <string.h>
#include <unistd.h>

static const char *write_tmp(const char *name, const char *text) {
    static char path[256];
    snprintf(path, sizeof path, "/tmp/lamina_test_word_eval_%d_%s", (int)getpid(), name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

Test(word_eval, spearman_matches_scipy) {
    double x1[] = {1, 2, 3, 4, 5}, y1[] = {5, 6, 7, 8, 7};
    cr_assert(fabs(nn_spearman(x1, y1, 5) - 0.8207826816681233) < 1e-12, "%.16g", nn_spearman(x1, y1, 5));
    double x2[] = {3.5, 1, 1, 2, 9, 4}, y2[] = {0.2, 0.1, 0.5, 0.5, 0.9, -1};
    cr_assert(fabs(nn_spearman(x2, y2, 6) - 0.16176470588235295) < 1e-12, "%.16g", nn_spearman(x2, y2, 6));
    double x3[] = {1, 2, 3}, y3[] = {3, 2, 1};
    cr_assert(fabs(nn_spearman(x3, y3, 3) + 1.0) < 1e-12);
    double c[] = {2, 2, 2};
    cr_assert(isnan(nn_spearman(x3, c, 3)));
    cr_assert(isnan(nn_spearman(x3, y3, 1)));
}

/* Rows (most frequent first): man, woman, king, queen, prince, then a rarer
 * "Woman" pointing exactly where woman + king - man points, and "rare". */
static NnWordVectors *royal(void) {
    const char *words[] = {"man", "woman", "king", "queen", "prince", "Woman", "rare"};
    const float v[] = {1, 0, 0,  0, 1, 0,  0.6f, 0, 0.8f,  0, 0.6f, 0.8f,  0.7f, -0.1f, 0.7f,
                       -0.4f, 1, 0.8f,  0, 0, 1};
    return test_word_vectors(7, 3, words, v);
}

Test(word_eval, nearest_neighbours_by_cosine) {
    NnWordVectors *wv = royal();
    int64_t rows[3];
    float cos[3];
    cr_assert_eq(nn_nearest_to_row(wv, 2, 3, rows, cos), 3); /* king */
    cr_assert_eq(rows[0], 4, "got %s", wv->words[rows[0]]); /* prince */
    cr_assert(fabsf(cos[0] - (0.42f + 0.56f) / sqrtf(0.99f)) < 1e-5f, "cos %g", cos[0]);
    for (int i = 0; i < 3; i++) cr_assert_neq(rows[i], 2, "itself");
    cr_assert(cos[0] >= cos[1] && cos[1] >= cos[2]);
    float q[3] = {0, 0, 5}; /* any length */
    cr_assert_eq(nn_nearest(wv, q, 1, 0, NULL, 0, rows, cos), 1);
    cr_assert_eq(rows[0], 6);
    cr_assert(fabsf(cos[0] - 1.0f) < 1e-6f);
    cr_assert_eq(nn_nearest(wv, q, 1, 6, NULL, 0, rows, NULL), 1); /* "rare" is outside the first 6 */
    cr_assert_neq(rows[0], 6);
    int64_t all[10];
    cr_assert_eq(nn_nearest(wv, q, 10, 0, (int64_t[]){2}, 1, all, NULL), 6); /* k > rows: every other row */
    for (int i = 0; i < 6; i++) cr_assert_neq(all[i], 2);
    nn_word_vectors_free(wv);
}

Test(word_eval, analogy_3cosadd_excludes_the_question_words) {
    NnWordVectors *wv = royal();
    int64_t rows[2];
    float cos[2];
    /* woman + king - man = (-0.4, 1, 0.8) is exactly "Woman" (row 5), which nn_analogy
     * (exact rows) may return; the evaluation treats it as "woman" and skips it. */
    cr_assert_eq(nn_analogy(wv, 0, 1, 2, 2, 0, rows, cos), 2);
    cr_assert_eq(rows[0], 5);
    cr_assert_eq(rows[1], 3, "got %s", wv->words[rows[1]]);
    nn_word_vectors_free(wv);
}

Test(word_eval, analogy_file_sections_skips_and_malformed_lines) {
    const char *path = write_tmp("q.txt",
                                 "man woman king queen\n"          /* before any header */
                                 ": royals\r\n"
                                 "MAN WOMAN KING QUEEN\r\n"        /* case-insensitive: correct */
                                 "man woman king prince\n"         /* wrong answer */
                                 "man woman king\n"                /* malformed: 3 words */
                                 "man woman king queen extra\n"    /* malformed: 5 words */
                                 "\n   \n"                         /* blank: ignored */
                                 ": other\n"
                                 "man woman king unknownword\n"    /* skipped */
                                 "man rare king queen\n");          /* rare: outside restrict 6 */
    NnAnalogySet *set = nn_analogy_read(path);
    cr_assert_not_null(set);
    unlink(path);
    cr_assert_eq(set->n_sections, 3);
    cr_assert_str_eq(set->sections[0].name, "(no section)");
    cr_assert_str_eq(set->sections[1].name, "royals");
    cr_assert_str_eq(set->sections[2].name, "other");
    cr_assert_eq(set->n_questions, 5);
    cr_assert_eq(set->malformed, 2);
    NnWordVectors *wv = royal();
    double acc = nn_analogy_evaluate(wv, set, 6);
    cr_assert_eq(set->sections[0].correct, 1);
    cr_assert_eq(set->sections[1].correct, 1);
    cr_assert_eq(set->sections[1].incorrect, 1);
    cr_assert_eq(set->sections[2].skipped, 2);
    cr_assert_eq(set->correct, 2);
    cr_assert_eq(set->incorrect, 1);
    cr_assert_eq(set->skipped, 2);
    cr_assert(fabs(acc - 2.0 / 3.0) < 1e-12, "accuracy %g", acc);
    nn_analogy_evaluate(wv, set, 0); /* the whole vocabulary: "rare" is known now */
    cr_assert_eq(set->skipped, 1);
    cr_assert_eq(set->correct + set->incorrect, 4);
    nn_word_vectors_free(wv);
    nn_analogy_set_free(set);
    cr_assert_null(nn_analogy_read("/nonexistent/q.txt"));
}

Test(word_eval, similarity_file_and_spearman_of_cosines) {
    const char *path = write_tmp("s.tsv",
                                 "# comment\n"
                                 "# Word 1\tWord 2\tHuman (mean)\n"
                                 "king\tprince\t9.0\r\n"
                                 "KING\tQueen\t5\n"
                                 "man\tqueen\t0.5\n"
                                 "man\tunknown\t3\n"            /* skipped */
                                 "man woman 3\n"                 /* malformed: no tabs */
                                 "man\twoman\tlots\n"            /* malformed: not a number */
                                 "man\twoman\t1\t2\n"            /* malformed: four fields */
                                 "\n"
                                 " woman \t man\t 2.5 \n");      /* blanks trimmed */
    NnSimilaritySet *set = nn_similarity_read(path);
    cr_assert_not_null(set);
    unlink(path);
    cr_assert_eq(set->n_pairs, 5);
    cr_assert_eq(set->malformed, 3);
    cr_assert_str_eq(set->pairs[4].w1, "woman");
    cr_assert_eq(set->pairs[4].score, 2.5);
    NnWordVectors *wv = royal();
    double rho = nn_similarity_evaluate(wv, set);
    cr_assert_eq(set->used, 4);
    cr_assert_eq(set->skipped, 1);
    /* cosines: king-prince .985, king-queen .64, man-queen 0, woman-man 0 (a tie) */
    double gold[] = {9, 5, 0.5, 2.5}, model[] = {0.985, 0.64, 0, 0};
    cr_assert(fabs(rho - nn_spearman(gold, model, 4)) < 1e-9, "rho %g", rho);
    cr_assert(rho > 0.9 && rho < 1.0, "rho %g", rho);
    nn_word_vectors_free(wv);
    nn_similarity_set_free(set);
}

/* A file without one usable line is an error naming the file, never a set that
 * scores NaN: empty, comments and headers only, or lines of the other format. */
Test(word_eval, files_without_a_usable_line_are_errors) {
    const char *bad[] = {"", "\n\n", ": capital-common-countries\n: family\n", "a\tb\t1\nc\td\t2\n",
                         "\x89PNG\r\n\x1a\n\x01\x02"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *path = write_tmp("bad_q.txt", bad[i]);
        cr_assert_null(nn_analogy_read(path), "analogy file %zu was accepted", i);
        cr_assert(strstr(tensor_last_error(), path) && strstr(tensor_last_error(), "no analogy question"), "%s",
                  tensor_last_error());
        unlink(path);
    }
    const char *bad_pairs[] = {"", "# only a comment\n", "king queen 9\nman woman 8\n", "a\tb\tlots\n",
                               "a b c d\n"};
    for (size_t i = 0; i < sizeof bad_pairs / sizeof *bad_pairs; i++) {
        const char *path = write_tmp("bad_s.tsv", bad_pairs[i]);
        cr_assert_null(nn_similarity_read(path), "similarity file %zu was accepted", i);
        cr_assert(strstr(tensor_last_error(), path) && strstr(tensor_last_error(), "no word pair"), "%s",
                  tensor_last_error());
        unlink(path);
    }
    const char *path = write_tmp("bad_s.tsv", "a\tb\tlots\nc d\n");
    cr_assert_null(nn_similarity_read(path));
    cr_assert(strstr(tensor_last_error(), "2 malformed lines"), "%s", tensor_last_error());
    unlink(path);
}

/* Words all outside the vocabulary: the sets read, and the counts say why the score
 * is NaN (nothing asked, everything skipped). */
Test(word_eval, all_out_of_vocabulary_is_told_by_the_counts) {
    const char *path = write_tmp("oov_q.txt", ": s\nfoo bar baz qux\nfoo bar baz quux\n");
    NnAnalogySet *an = nn_analogy_read(path);
    cr_assert_not_null(an, "%s", tensor_last_error());
    unlink(path);
    path = write_tmp("oov_s.tsv", "foo\tbar\t1\nbaz\tqux\t2\n");
    NnSimilaritySet *sim = nn_similarity_read(path);
    cr_assert_not_null(sim, "%s", tensor_last_error());
    unlink(path);
    NnWordVectors *wv = royal();
    cr_assert(isnan(nn_analogy_evaluate(wv, an, 0)));
    cr_assert_eq(an->skipped, 2);
    cr_assert_eq(an->correct + an->incorrect, 0);
    cr_assert(isnan(nn_similarity_evaluate(wv, sim)));
    cr_assert_eq(sim->used, 0);
    cr_assert_eq(sim->skipped, 2);
    nn_word_vectors_free(wv);
    nn_analogy_set_free(an);
    nn_similarity_set_free(sim);
}

Test(word_eval, pca_finds_the_main_directions) {
    /* Points along (1, 1, 0) with a little spread along (0, 0, 1): the first
     * component carries the positions, the second the spread. */
    const char *words[] = {"a", "b", "c", "d", "e"};
    float v[15];
    const float t[] = {-2, -1, 0, 1, 2}, s[] = {0.1f, -0.2f, 0, 0.2f, -0.1f}; /* centred, orthogonal to t */
    for (int i = 0; i < 5; i++) v[3 * i] = t[i] + 3, v[3 * i + 1] = t[i] + 3, v[3 * i + 2] = s[i];
    NnWordVectors *wv = test_word_vectors(5, 3, words, v);
    float xy[10];
    cr_assert_eq(nn_word_vectors_pca2(wv, 5, xy), 0);
    for (int i = 0; i < 5; i++) {
        cr_assert(fabsf(fabsf(xy[2 * i]) - fabsf(t[i]) * sqrtf(2.0f)) < 1e-4f, "x[%d] = %g", i, xy[2 * i]);
        cr_assert(fabsf(fabsf(xy[2 * i + 1]) - fabsf(s[i])) < 1e-4f, "y[%d] = %g", i, xy[2 * i + 1]);
    }
    cr_assert(xy[0] * xy[8] < 0, "the ends lie on opposite sides");
    cr_assert_eq(nn_word_vectors_pca2(wv, 6, xy), -1);
    cr_assert_eq(nn_word_vectors_pca2(wv, 0, xy), -1);
    nn_word_vectors_free(wv);
}

Test(word_eval, pearson_matches_scipy) {
    double x1[] = {1, 2, 3, 4, 5}, y1[] = {5, 6, 7, 8, 7};
    cr_assert(fabs(nn_pearson(x1, y1, 5) - 0.8320502943378437) < 1e-12, "%.16g", nn_pearson(x1, y1, 5));
    double x2[] = {3.5, 1, 1, 2, 9, 4}, y2[] = {0.2, 0.1, 0.5, 0.5, 0.9, -1};
    cr_assert(fabs(nn_pearson(x2, y2, 6) - 0.23493658807719803) < 1e-12, "%.16g", nn_pearson(x2, y2, 6));
    double c[] = {2, 2, 2};
    cr_assert(isnan(nn_pearson(x1, c, 3)));
    cr_assert(isnan(nn_pearson(x1, y1, 1)));
}

/* gensim's three numbers, its out-of-vocabulary ratio with and without dummy4unknown,
 * and case-sensitive lookups. */
Test(word_eval, word_pairs_pearson_spearman_and_oov_ratio) {
    const char *path = write_tmp("p.tsv", "king\tprince\t9\nKING\tqueen\t5\nman\tqueen\t0.5\nman\tnope\t3\n");
    NnSimilaritySet *set = nn_similarity_read(path);
    cr_assert_not_null(set);
    unlink(path);
    NnWordVectors *wv = royal();
    /* cosines: king-prince (0.42 + 0.56) / sqrt(0.99), king-queen 0.64, man-queen 0 */
    double kp = 0.98 / sqrt(0.99);
    double rho = nn_evaluate_word_pairs(wv, set, NULL);
    double gold[] = {9, 5, 0.5, 3}, model[] = {kp, 0.64, 0, 0};
    cr_assert_eq(set->used, 3);
    cr_assert_eq(set->skipped, 1);
    cr_assert(fabs(rho - 1.0) < 1e-12 && rho == set->spearman, "rho %g", rho);
    cr_assert(fabs(set->pearson - nn_pearson(gold, model, 3)) < 1e-6, "r %g", set->pearson);
    cr_assert(fabs(set->oov_ratio - 25.0) < 1e-12, "oov %g", set->oov_ratio);
    nn_evaluate_word_pairs(wv, set, &(NnWordEvalOpts){.dummy4unknown = true});
    cr_assert_eq(set->used, 4);
    cr_assert(fabs(set->pearson - nn_pearson(gold, model, 4)) < 1e-6, "r %g", set->pearson);
    cr_assert(fabs(set->spearman - nn_spearman(gold, model, 4)) < 1e-12);
    cr_assert(fabs(set->oov_ratio - 25.0) < 1e-12, "oov %g", set->oov_ratio); /* 1 of the 4 scored */
    nn_evaluate_word_pairs(wv, set, &(NnWordEvalOpts){.case_sensitive = true});
    cr_assert_eq(set->skipped, 2, "KING is not king"); /* 2 of 4 */
    cr_assert(fabs(set->oov_ratio - 50.0) < 1e-12);
    nn_evaluate_word_pairs(wv, set, &(NnWordEvalOpts){.restrict_vocab = 3}); /* man woman king */
    cr_assert_eq(set->used, 0);
    cr_assert(isnan(set->pearson) && isnan(set->spearman));
    cr_assert(fabs(set->oov_ratio - 100.0) < 1e-12);
    nn_word_vectors_free(wv);
    nn_similarity_set_free(set);
}

Test(word_eval, analogy_oov_ratio_dummy4unknown_and_case) {
    const char *path = write_tmp("qd.txt", ": s\nman woman king queen\nMAN WOMAN KING QUEEN\nman woman king nope\n");
    NnAnalogySet *set = nn_analogy_read(path);
    cr_assert_not_null(set);
    unlink(path);
    NnWordVectors *wv = royal();
    double acc = nn_evaluate_word_analogies(wv, set, NULL);
    cr_assert_eq(set->correct, 2);
    cr_assert_eq(set->skipped, 1);
    cr_assert(fabs(acc - 1.0) < 1e-12);
    cr_assert(fabs(set->oov_ratio - 100.0 / 3.0) < 1e-12, "oov %g", set->oov_ratio);
    acc = nn_evaluate_word_analogies(wv, set, &(NnWordEvalOpts){.dummy4unknown = true});
    cr_assert_eq(set->incorrect, 1, "the unknown question counts as wrong");
    cr_assert_eq(set->sections[0].incorrect, 1);
    cr_assert(fabs(acc - 2.0 / 3.0) < 1e-12);
    acc = nn_evaluate_word_analogies(wv, set, &(NnWordEvalOpts){.case_sensitive = true});
    /* case-sensitive, "Woman" (row 5) is a word of its own, and the best answer */
    cr_assert_eq(set->skipped, 2, "MAN is not man");
    cr_assert_eq(set->correct, 0);
    cr_assert_eq(set->incorrect, 1);
    acc = nn_evaluate_word_analogies(wv, set, &(NnWordEvalOpts){.case_sensitive = true, .dummy4unknown = true});
    cr_assert_eq(set->correct, 0);
    cr_assert_eq(set->incorrect, 3);
    nn_word_vectors_free(wv);
    nn_analogy_set_free(set);
}
