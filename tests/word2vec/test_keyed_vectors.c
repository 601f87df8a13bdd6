/* gensim's KeyedVectors queries on six 2-D vectors whose answers are worked out by
 * hand: most_similar with positive and negative words, topn and restrict_vocab,
 * most_similar_cosmul (with its 1e-6 and empty products), doesnt_match and its ties,
 * similarity, n_similarity on raw vectors, and the errors for unknown words and
 * empty lists. */
#include "helpers.h"
#include "nn/word2vec/keyed_vectors.h"

/* Unit vectors: a (1, 0), b (0, 1), c (r, r) with r = 1/sqrt 2, d (-1, 0),
 * e (0.6, 0.8) (raw (3, 4)), f (0, -1) (raw (0, -2)). */
static NnWordVectors *six(void) {
    const char *words[] = {"a", "b", "c", "d", "e", "f"};
    const float v[] = {1, 0, 0, 1, 1, 1, -1, 0, 3, 4, 0, -2};
    return test_word_vectors(6, 2, words, v);
}

#define R 0.70710678f

static void expect(const NnWordVectors *wv, int64_t n, const int64_t *rows, const float *scores, int64_t want_n,
                   const char *const *want_words, const float *want_scores) {
    cr_assert_eq(n, want_n, "%lld answers, expected %lld", (long long)n, (long long)want_n);
    for (int64_t i = 0; i < n; i++) {
        cr_assert_str_eq(wv->words[rows[i]], want_words[i], "answer %lld", (long long)i);
        cr_assert(fabsf(scores[i] - want_scores[i]) < 1e-5f * fmaxf(1.0f, fabsf(want_scores[i])),
                  "answer %lld (%s): %.8g, expected %.8g", (long long)i, want_words[i], scores[i], want_scores[i]);
    }
}

Test(keyed_vectors, most_similar_positive_negative_topn_restrict) {
    NnWordVectors *wv = six();
    int64_t rows[6];
    float s[6];
    const char *a[] = {"a"}, *ab[] = {"a", "b"}, *b[] = {"b"};
    /* b and f tie at 0: the earlier row first */
    int64_t n = nn_kv_most_similar(wv, &(NnKvQuery){.positive = a, .n_positive = 1, .topn = 3}, rows, s);
    expect(wv, n, rows, s, 3, (const char *[]){"c", "e", "b"}, (const float[]){R, 0.6f, 0});
    n = nn_kv_most_similar(wv, &(NnKvQuery){.positive = ab, .n_positive = 2, .topn = 2}, rows, s);
    expect(wv, n, rows, s, 2, (const char *[]){"c", "e"}, (const float[]){1, 1.4f * R});
    n = nn_kv_most_similar(wv, &(NnKvQuery){.positive = b, .n_positive = 1, .negative = a, .n_negative = 1, .topn = 3},
                           rows, s);
    expect(wv, n, rows, s, 3, (const char *[]){"d", "e", "c"}, (const float[]){R, 0.2f * R, 0});
    n = nn_kv_most_similar(wv, &(NnKvQuery){.negative = a, .n_negative = 1, .topn = 2}, rows, s);
    expect(wv, n, rows, s, 2, (const char *[]){"d", "b"}, (const float[]){1, 0});
    n = nn_kv_most_similar(wv, &(NnKvQuery){.positive = a, .n_positive = 1, .topn = 9, .restrict_vocab = 4}, rows, s);
    expect(wv, n, rows, s, 3, (const char *[]){"c", "b", "d"}, (const float[]){R, 0, -1});
    /* the query word may lie beyond restrict_vocab */
    const char *e[] = {"e"};
    n = nn_kv_most_similar(wv, &(NnKvQuery){.positive = e, .n_positive = 1, .topn = 1, .restrict_vocab = 2}, rows, s);
    expect(wv, n, rows, s, 1, (const char *[]){"b"}, (const float[]){0.8f});
    cr_assert_eq(nn_kv_most_similar(wv, &(NnKvQuery){.positive = a, .n_positive = 1, .topn = 0}, rows, s), 0);
    /* a topn beyond the vocabulary gets every other word, and allocates no more */
    n = nn_kv_most_similar(wv, &(NnKvQuery){.positive = a, .n_positive = 1, .topn = INT64_MAX / 8}, rows, s);
    cr_assert_eq(n, 5);
    n = nn_kv_most_similar_cosmul(wv, &(NnKvQuery){.positive = a, .n_positive = 1, .topn = INT64_MAX / 8}, rows, s);
    cr_assert_eq(n, 5);
    nn_word_vectors_free(wv);
}

Test(keyed_vectors, most_similar_cosmul) {
    NnWordVectors *wv = six();
    int64_t rows[6];
    float s[6];
    const char *ab[] = {"a", "b"}, *a[] = {"a"}, *b[] = {"b"};
    /* no negative: the empty product is 1, so the denominator is 1 + 1e-6 */
    double cc = (1 + R) / 2.0;
    int64_t n = nn_kv_most_similar_cosmul(wv, &(NnKvQuery){.positive = ab, .n_positive = 2, .topn = 2}, rows, s);
    expect(wv, n, rows, s, 2, (const char *[]){"c", "e"}, (const float[]){(float)(cc * cc / 1.000001), 0.72f / 1.000001f});
    /* d: (1 + 0) / 2 over (1 - 1) / 2 + 1e-6 */
    n = nn_kv_most_similar_cosmul(wv, &(NnKvQuery){.positive = b, .n_positive = 1, .negative = a, .n_negative = 1,
                                                   .topn = 3}, rows, s);
    expect(wv, n, rows, s, 3, (const char *[]){"d", "e", "c"},
           (const float[]){500000.0f, (float)(0.9 / 0.800001), (float)(cc / (cc + 1e-6))});
    n = nn_kv_most_similar_cosmul(wv, &(NnKvQuery){.positive = b, .n_positive = 1, .negative = a, .n_negative = 1,
                                                   .topn = 3, .restrict_vocab = 3}, rows, s);
    expect(wv, n, rows, s, 1, (const char *[]){"c"}, (const float[]){(float)(cc / (cc + 1e-6))});
    cr_assert_eq(nn_kv_most_similar_cosmul(wv, &(NnKvQuery){.negative = a, .n_negative = 1, .topn = 3}, rows, s), -1);
    cr_assert(strstr(tensor_last_error(), "no positive word"), "%s", tensor_last_error());
    nn_word_vectors_free(wv);
}

Test(keyed_vectors, doesnt_match_the_farthest_from_the_mean) {
    NnWordVectors *wv = six();
    cr_assert_eq(nn_kv_doesnt_match(wv, (const char *[]){"a", "c", "e", "d"}, 4), 3);
    cr_assert_eq(nn_kv_doesnt_match(wv, (const char *[]){"c", "e", "f"}, 3), 2);
    /* b + f is zero, both cosines 0: gensim's sort puts the smaller word last */
    cr_assert_eq(nn_kv_doesnt_match(wv, (const char *[]){"b", "f"}, 2), 0);
    cr_assert_eq(nn_kv_doesnt_match(wv, (const char *[]){"f", "b"}, 2), 1);
    cr_assert_eq(nn_kv_doesnt_match(wv, (const char *[]){"e"}, 1), 0);
    nn_word_vectors_free(wv);
}

Test(keyed_vectors, similarity_and_n_similarity) {
    NnWordVectors *wv = six();
    double sim;
    cr_assert_eq(nn_kv_similarity(wv, "a", "e", &sim), 0);
    cr_assert(fabs(sim - 0.6) < 1e-6, "%g", sim);
    cr_assert_eq(nn_kv_similarity(wv, "c", "f", &sim), 0);
    cr_assert(fabs(sim + R) < 1e-6, "%g", sim);
    cr_assert_eq(nn_kv_n_similarity(wv, (const char *[]){"a", "b"}, 2, (const char *[]){"e"}, 1, &sim), 0);
    cr_assert(fabs(sim - 1.4 * R) < 1e-6, "%g", sim);
    /* raw vectors: a + e = (4, 4), at 45 degrees to b (unit vectors would give 0.447) */
    cr_assert_eq(nn_kv_n_similarity(wv, (const char *[]){"a", "e"}, 2, (const char *[]){"b"}, 1, &sim), 0);
    cr_assert(fabs(sim - R) < 1e-6, "%g", sim);
    cr_assert_eq(nn_kv_n_similarity(wv, (const char *[]){"a", "e"}, 2, (const char *[]){"f", "f"}, 2, &sim), 0);
    cr_assert(fabs(sim + R) < 1e-6, "%g", sim);
    nn_word_vectors_free(wv);
}

/* Unknown words and empty lists: -1 and a message naming the word or the list. */
Test(keyed_vectors, bad_input_is_an_error_naming_the_word) {
    NnWordVectors *wv = six();
    int64_t rows[3];
    float s[3];
    double sim;
    const char *unknown[] = {"a", "zebra"};
    cr_assert_eq(nn_kv_most_similar(wv, &(NnKvQuery){.positive = unknown, .n_positive = 2, .topn = 3}, rows, s), -1);
    cr_assert(strstr(tensor_last_error(), "'zebra'"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_most_similar(wv, &(NnKvQuery){.positive = unknown, .n_positive = 1, .negative = unknown + 1,
                                                     .n_negative = 1, .topn = 3}, rows, s), -1);
    cr_assert(strstr(tensor_last_error(), "'zebra'"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_most_similar(wv, &(NnKvQuery){.topn = 3}, rows, s), -1);
    cr_assert(strstr(tensor_last_error(), "no positive and no negative word"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_most_similar_cosmul(wv, &(NnKvQuery){.positive = unknown, .n_positive = 2, .topn = 3}, rows, s),
                 -1);
    cr_assert(strstr(tensor_last_error(), "'zebra'"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_doesnt_match(wv, unknown, 2), -1);
    cr_assert(strstr(tensor_last_error(), "'zebra'"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_doesnt_match(wv, unknown, 0), -1);
    cr_assert(strstr(tensor_last_error(), "empty list"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_similarity(wv, "zebra", "a", &sim), -1);
    cr_assert(strstr(tensor_last_error(), "'zebra'"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_similarity(wv, "a", NULL, &sim), -1);
    cr_assert_eq(nn_kv_n_similarity(wv, unknown, 2, unknown, 1, &sim), -1);
    cr_assert(strstr(tensor_last_error(), "'zebra'"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_n_similarity(wv, unknown, 1, unknown, 0, &sim), -1);
    cr_assert(strstr(tensor_last_error(), "empty list"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_most_similar(wv, &(NnKvQuery){.n_positive = 2, .topn = 3}, rows, s), -1);
    cr_assert(strstr(tensor_last_error(), "NULL"), "%s", tensor_last_error());
    cr_assert_eq(nn_kv_doesnt_match(wv, NULL, 2), -1);
    nn_word_vectors_free(wv);
}
