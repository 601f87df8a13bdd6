/* The queries gensim's KeyedVectors answers, on word vectors trained here
 * (nn_w2v_word_vectors) or read from a word2vec text or binary file (nn_vectors_read,
 * which reads what gensim's save_word2vec_format and word2vec.c write), with gensim
 * 4.2's semantics so the answers are the same:
 *   - every vector is first scaled to unit length (NnWordVectors.unit);
 *   - most_similar ranks the rows by cosine to unit(mean of the positive unit vectors
 *     and the negated negative ones), the query words left out of the results;
 *   - most_similar_cosmul ranks by prod_pos (1 + cos) / 2 / (prod_neg (1 + cos) / 2
 *     + 1e-6) (Levy and Goldberg's 3CosMul; an empty product is 1);
 *   - doesnt_match is the word whose unit vector is least similar to unit(mean of the
 *     words' unit vectors);
 *   - similarity is the cosine of two words, n_similarity the cosine of the means of
 *     two lists of raw (not unit) vectors.
 * Words are looked up exactly (case-sensitively), as gensim does. Results come best
 * first, equal scores in row order (the more frequent word first).
 *
 * Where lamina refuses what gensim 4.2 lets through: an unknown word is an error
 * (tensor_last_error() names it) in every query, whereas gensim's doesnt_match and
 * n_similarity skip unknown words (doesnt_match with a logged warning); answers are
 * the same whenever every word is known. most_similar_cosmul honours restrict_vocab,
 * which gensim 4.2 accepts and ignores. */
#ifndef NN_KEYED_VECTORS_H
#define NN_KEYED_VECTORS_H

#include <lamina/nn/io/vectors_io.h>

#include <stdint.h>

/* A most_similar / most_similar_cosmul query. */
typedef struct NnKvQuery {
    const char *const *positive; /* n_positive words that pull towards the answer */
    int n_positive;
    const char *const *negative; /* n_negative words that push away from it */
    int n_negative;
    int64_t topn;                /* how many answers; below 1: none (as gensim) */
    int64_t restrict_vocab;      /* search only the first N rows, the N most frequent
                                  * words (0: all); the query words may lie beyond them */
} NnKvQuery;

/* gensim's most_similar(positive, negative, topn, restrict_vocab): writes up to topn
 * rows and cosines (scores may be NULL; room for min(topn, rows searched) each) and
 * returns how many, or -1 (tensor_last_error set) when a word is unknown or both
 * lists are empty. */
int64_t nn_kv_most_similar(const NnWordVectors *wv, const NnKvQuery *q, int64_t *rows, float *scores);

/* gensim's most_similar_cosmul: as nn_kv_most_similar, scored by 3CosMul; -1 also when
 * positive is empty (the product needs a numerator). */
int64_t nn_kv_most_similar_cosmul(const NnWordVectors *wv, const NnKvQuery *q, int64_t *rows, float *scores);

/* gensim's doesnt_match: the index in words[0..n) of the word that fits least (the
 * earliest index of that word when it repeats), or -1 for an empty list or an unknown
 * word. */
int nn_kv_doesnt_match(const NnWordVectors *wv, const char *const *words, int n);

/* gensim's similarity(w1, w2): writes the cosine to *similarity. Returns 0, or -1 for
 * an unknown word. */
int nn_kv_similarity(const NnWordVectors *wv, const char *w1, const char *w2, double *similarity);

/* gensim's n_similarity(ws1, ws2): the cosine between the means of the two lists' raw
 * vectors. Returns 0, or -1 for an empty list or an unknown word. */
int nn_kv_n_similarity(const NnWordVectors *wv, const char *const *ws1, int n1, const char *const *ws2, int n2,
                       double *similarity);

#endif
