/* Evaluating word vectors the way gensim's KeyedVectors does, so numbers compare:
 * nearest neighbours by cosine, analogies by 3CosAdd (a:b :: c:? is the word closest
 * to unit(b) + unit(c) - unit(a), the three question words excluded), the analogy test
 * set (questions-words.txt: ": section" headers and "a b c d" lines; accuracy per
 * section and in total, questions with an unknown word skipped), and word-similarity
 * sets (WordSim-353 / SimLex-999: "w1<TAB>w2<TAB>score", '#' comments; Spearman rho of
 * the scores against the cosines, pairs with an unknown word skipped). Readers keep
 * going past malformed lines and count them. Lookups in evaluations are
 * case-insensitive (ASCII), the most frequent spelling winning, like gensim's
 * case_insensitive=True (gensim upper-cases with Unicode rules: words beyond ASCII
 * differ only in case as bytes here). The gensim queries on words (most_similar with
 * positive and negative lists, cosmul, doesnt_match, n_similarity) are in
 * keyed_vectors.h. */
#ifndef NN_WORD_EVAL_H
#define NN_WORD_EVAL_H

#include <lamina/nn/io/vectors_io.h>

#include <stdbool.h>
#include <stdint.h>

/* ---- neighbours ---- */

/* The k rows whose unit vectors are closest to query (dim floats, any length; a zero
 * query gives cosines of 0) by cosine, best first, among the first `restrict` rows
 * (0: all), leaving out the n_exclude rows in exclude. Writes up to k rows and their
 * cosines (either output may be NULL) and returns how many were written. */
int64_t nn_nearest(const NnWordVectors *wv, const float *query, int64_t k, int64_t restrict_rows,
                   const int64_t *exclude, int n_exclude, int64_t *rows, float *cosines);

/* The k nearest words of row `row`, itself excluded. */
int64_t nn_nearest_to_row(const NnWordVectors *wv, int64_t row, int64_t k, int64_t *rows, float *cosines);

/* a:b :: c:? by 3CosAdd over the first `restrict` rows (0: all), a, b and c
 * excluded: writes the best k rows and cosines (to unit(unit(b)+unit(c)-unit(a)))
 * and returns how many. Rows must be valid. */
int64_t nn_analogy(const NnWordVectors *wv, int64_t a, int64_t b, int64_t c, int64_t k,
                   int64_t restrict_rows, int64_t *rows, float *cosines);

/* Spearman's rank correlation of x and y (n values each): the Pearson correlation
 * of their ranks, ties given their average rank (as scipy.stats.spearmanr). NaN when
 * n < 2 or either side is constant. */
double nn_spearman(const double *x, const double *y, int64_t n);
/* Pearson's correlation of x and y (scipy.stats.pearsonr's r); NaN as nn_spearman. */
double nn_pearson(const double *x, const double *y, int64_t n);

/* How the test sets are scored; zero fields are gensim's defaults except
 * restrict_vocab (gensim's is 300000). */
typedef struct NnWordEvalOpts {
    int64_t restrict_vocab; /* only the first N rows, the most frequent words (0: all) */
    bool case_sensitive;    /* gensim's case_insensitive=False */
    bool dummy4unknown;     /* gensim's dummy4unknown: a question with an unknown word
                             * counts as wrong, a pair with one scores similarity 0 */
} NnWordEvalOpts;

/* ---- analogy test sets ---- */

typedef struct NnAnalogyQuestion {
    char *w[4]; /* a b c d, as written in the file */
    int section;
} NnAnalogyQuestion;

typedef struct NnAnalogySection {
    char *name;
    /* skipped: questions with a word outside the restricted vocabulary (with
     * dummy4unknown they are also counted incorrect) */
    int64_t correct, incorrect, skipped;
} NnAnalogySection;

typedef struct NnAnalogySet {
    NnAnalogyQuestion *questions;
    int64_t n_questions;
    NnAnalogySection *sections; /* counts are filled by nn_analogy_evaluate */
    int n_sections;
    int64_t malformed; /* lines that were neither a header, a blank, nor four words */
    int64_t correct, incorrect, skipped; /* totals from the last evaluation */
    double oov_ratio; /* gensim's: 100 x skipped / questions (NaN for none) */
} NnAnalogySet;

/* Reads a questions-words.txt file. Questions before any header go to a section named
 * "(no section)". Returns NULL with tensor_last_error() naming the path when the file
 * cannot be read or holds no question at all (empty, or no line of four words), so a
 * wrong file is an error rather than an accuracy of NaN. Free with nn_analogy_set_free. */
NnAnalogySet *nn_analogy_read(const char *path);
/* Frees an analogy set and its strings. Accepts NULL. */
void nn_analogy_set_free(NnAnalogySet *set);

/* gensim's evaluate_word_analogies: answers every question whose four words are among
 * the first opts->restrict_vocab rows (NULL opts: all rows, case-insensitive) as
 * gensim does — most_similar(positive=[b, c], negative=[a], topn=5) over those rows,
 * the first answer that is no spelling of a, b or c — fills the per-section and total
 * counts and oov_ratio, and returns the accuracy correct / (correct + incorrect), NaN
 * when nothing could be asked (every question has a word outside the restricted
 * vocabulary and no dummy4unknown: a caller says so). Questions are batched through
 * one matrix product per block. */
double nn_evaluate_word_analogies(const NnWordVectors *wv, NnAnalogySet *set, const NnWordEvalOpts *opts);
/* The same over the first restrict_rows rows (0: all), case-insensitively. */
double nn_analogy_evaluate(const NnWordVectors *wv, NnAnalogySet *set, int64_t restrict_rows);

/* ---- similarity test sets ---- */

typedef struct NnSimilarityPair {
    char *w1, *w2;
    double score;
} NnSimilarityPair;

typedef struct NnSimilaritySet {
    NnSimilarityPair *pairs;
    int64_t n_pairs;
    int64_t malformed; /* non-comment lines without exactly three tab-separated fields and a number */
    /* From the last evaluation: pairs in the correlations (with dummy4unknown, the
     * unknown ones too), pairs with an unknown word, and gensim's three numbers:
     * Pearson r, Spearman rho (NaN below 2 pairs) and the out-of-vocabulary ratio,
     * 100 x skipped / (used + skipped), or / used with dummy4unknown. */
    int64_t used, skipped;
    double pearson, spearman, oov_ratio;
} NnSimilaritySet;

/* Reads a WordSim-353 / SimLex-999 file (lines "w1\tw2\tscore"; blank lines and lines
 * starting with '#' ignored; blanks around fields trimmed). NULL with
 * tensor_last_error() naming the path when the file cannot be read or holds no pair
 * at all (empty, only comments, or no well-formed line). */
NnSimilaritySet *nn_similarity_read(const char *path);
/* Frees a similarity set and its strings. Accepts NULL. */
void nn_similarity_set_free(NnSimilaritySet *set);

/* gensim's evaluate_word_pairs: Pearson and Spearman between the file's scores and the
 * cosines of the pairs whose words are both among the first opts->restrict_vocab rows
 * (NULL opts: all rows, case-insensitive), and the out-of-vocabulary ratio; fills
 * used, skipped, pearson, spearman and oov_ratio and returns Spearman's rho (NaN below
 * 2 pairs used: every pair out of the vocabulary, say; a caller reports used and
 * skipped). */
double nn_evaluate_word_pairs(const NnWordVectors *wv, NnSimilaritySet *set, const NnWordEvalOpts *opts);
/* The same with gensim's defaults: the first 300000 rows, case-insensitive. */
double nn_similarity_evaluate(const NnWordVectors *wv, NnSimilaritySet *set);

/* ---- a map of the vectors ---- */

/* Projects the first n rows onto their first two principal components (centred rows,
 * power iteration with deflation from a fixed start, so it is deterministic): writes
 * xy[2i], xy[2i+1]. Returns 0, or -1 if n < 1 or n > size. */
int nn_word_vectors_pca2(const NnWordVectors *wv, int64_t n, float *xy);

#endif
