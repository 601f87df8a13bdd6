/* NnTokenizer against Keras's Tokenizer: word_index ranking (count, then first seen),
 * texts_to_sequences with num_words and an OOV token, filters, case, min_count, and
 * hostile input (empty, only filters, huge words, invalid UTF-8, CRLF, NUL bytes). */
#include "helpers.h"
#include "nn/text/text.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void fit(NnTokenizer *t, const char *text) { nn_tokenizer_fit(t, text, (int64_t)strlen(text)); }

static void check_encode(const NnTokenizer *t, const char *text, const int32_t *want, int64_t nwant) {
    int64_t n = -1;
    int32_t *got = nn_tokenizer_encode(t, text, (int64_t)strlen(text), &n);
    cr_assert_not_null(got, "%s", tensor_last_error());
    cr_assert_eq(n, nwant, "\"%s\": got %lld ids, expected %lld", text, (long long)n, (long long)nwant);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "\"%s\" id %lld: got %d, expected %d", text, (long long)i, got[i], want[i]);
    free(got);
}
#define CHECK_ENCODE(t, text, ...)                                        \
    check_encode(t, text, (int32_t[]){__VA_ARGS__},                         \
                 (int64_t)(sizeof((int32_t[]){__VA_ARGS__}) / sizeof(int32_t)))
#define CHECK_EMPTY(t, text) check_encode(t, text, NULL, 0)

static NnTokenizer *cats(NnTokenizer *t) {
    cr_assert_not_null(t, "%s", tensor_last_error());
    fit(t, "The cat sat on the mat.");
    fit(t, "The dog ate the cat!");
    cr_assert_eq(nn_tokenizer_finish(t), 0, "%s", tensor_last_error());
    return t;
}

Test(tokenizer, keras_word_index) {
    /* Keras: {'the': 1, 'cat': 2, 'sat': 3, 'on': 4, 'mat': 5, 'dog': 6, 'ate': 7} */
    NnTokenizer *t = cats(nn_tokenizer());
    const char *words[] = {"the", "cat", "sat", "on", "mat", "dog", "ate"};
    cr_assert_eq(nn_tokenizer_vocab_size(t), 7);
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(nn_tokenizer_index(t, words[i]), i + 1, "%s", words[i]);
        cr_assert_str_eq(nn_tokenizer_word(t, i + 1), words[i]);
    }
    cr_assert_eq(nn_tokenizer_index(t, "THE"), 1, "queries are lower-cased too");
    cr_assert_eq(nn_tokenizer_index(t, "fish"), 0);
    cr_assert_eq(nn_tokenizer_index(t, "cat."), 0, "a query is not filtered, only lower-cased");
    cr_assert_null(nn_tokenizer_word(t, 0));
    cr_assert_null(nn_tokenizer_word(t, 8));
    cr_assert_null(nn_tokenizer_word(t, -1));
    nn_tokenizer_free(t);
}

Test(tokenizer, keras_texts_to_sequences) {
    NnTokenizer *t = cats(nn_tokenizer());
    CHECK_ENCODE(t, "The cat sat on the mat.", 1, 2, 3, 4, 1, 5);
    CHECK_ENCODE(t, "The dog ate the cat!", 1, 6, 7, 1, 2);
    CHECK_ENCODE(t, "the cat ate a fish", 1, 2, 7); /* unknown words dropped */
    nn_tokenizer_free(t);
}

Test(tokenizer, oov_token_takes_index_one) {
    NnTokenizer *t = cats(nn_tokenizer(.oov_token = "<OOV>"));
    cr_assert_eq(nn_tokenizer_vocab_size(t), 8);
    cr_assert_eq(nn_tokenizer_index(t, "<OOV>"), 1);
    cr_assert_str_eq(nn_tokenizer_word(t, 1), "<OOV>");
    cr_assert_eq(nn_tokenizer_index(t, "the"), 2);
    cr_assert_eq(nn_tokenizer_index(t, "ate"), 8);
    CHECK_ENCODE(t, "the cat ate a fish", 2, 3, 8, 1, 1);
    nn_tokenizer_free(t);
}

Test(tokenizer, num_words_limits_encoding_only) {
    /* Keras keeps indexes < num_words: with 3, only 'the' (1) and 'cat' (2). */
    NnTokenizer *t = cats(nn_tokenizer(.num_words = 3));
    cr_assert_eq(nn_tokenizer_vocab_size(t), 7, "word_index keeps every word, as in Keras");
    cr_assert_eq(nn_tokenizer_index(t, "dog"), 6);
    CHECK_ENCODE(t, "The dog ate the cat!", 1, 1, 2);
    nn_tokenizer_free(t);

    /* With an OOV token, indexes >= num_words become the OOV index: 'the' is 2 now. */
    t = cats(nn_tokenizer(.num_words = 3, .oov_token = "<OOV>"));
    CHECK_ENCODE(t, "The dog ate the cat!", 2, 1, 1, 2, 1);
    nn_tokenizer_free(t);
}

Test(tokenizer, ties_rank_by_first_occurrence) {
    NnTokenizer *t = nn_tokenizer();
    fit(t, "b a c a b");
    fit(t, "d c");
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    /* counts b 2, a 2, c 2, d 1: the three tied words keep the order first seen. */
    cr_assert_eq(nn_tokenizer_index(t, "b"), 1);
    cr_assert_eq(nn_tokenizer_index(t, "a"), 2);
    cr_assert_eq(nn_tokenizer_index(t, "c"), 3);
    cr_assert_eq(nn_tokenizer_index(t, "d"), 4);
    nn_tokenizer_free(t);

    /* A later word overtakes by count. */
    t = nn_tokenizer();
    fit(t, "x y z z z y");
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    cr_assert_eq(nn_tokenizer_index(t, "z"), 1);
    cr_assert_eq(nn_tokenizer_index(t, "y"), 2);
    cr_assert_eq(nn_tokenizer_index(t, "x"), 3);
    nn_tokenizer_free(t);
}

Test(tokenizer, case_and_filters) {
    NnTokenizer *t = nn_tokenizer();
    fit(t, "Don't STOP! don't stop... \"Stop\" (ok) a-b\tc_d");
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    /* The apostrophe is not one of Keras's filters; '-' and '_' are. */
    cr_assert_eq(nn_tokenizer_index(t, "stop"), 1);
    cr_assert_eq(nn_tokenizer_index(t, "don't"), 2);
    cr_assert_eq(nn_tokenizer_index(t, "ok"), 3);
    const char *rest[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) cr_assert_eq(nn_tokenizer_index(t, rest[i]), 4 + i, "%s", rest[i]);
    cr_assert_eq(nn_tokenizer_vocab_size(t), 7);
    nn_tokenizer_free(t);

    t = nn_tokenizer(.no_lower = true, .filters = "");
    fit(t, "Cat cat CAT cat!");
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    cr_assert_eq(nn_tokenizer_vocab_size(t), 4);
    cr_assert_eq(nn_tokenizer_index(t, "Cat"), 1);
    cr_assert_eq(nn_tokenizer_index(t, "cat"), 2);
    cr_assert_eq(nn_tokenizer_index(t, "CAT"), 3);
    cr_assert_eq(nn_tokenizer_index(t, "cat!"), 4);
    nn_tokenizer_free(t);
}

Test(tokenizer, non_ascii_filters_and_lower_case) {
    NnTokenizer *t = nn_tokenizer(.filters = "\xe2\x80\x94,"); /* em dash and comma */
    fit(t, "\xc3\x89" "COLE\xe2\x80\x94" "\xc3\xa9" "cole, \xce\x91\xce\x92 \xce\xb1\xce\xb2");
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    /* ÉCOLE and école are one word; ΑΒ and αβ too. */
    cr_assert_eq(nn_tokenizer_vocab_size(t), 2);
    cr_assert_str_eq(nn_tokenizer_word(t, 1), "\xc3\xa9" "cole");
    cr_assert_str_eq(nn_tokenizer_word(t, 2), "\xce\xb1\xce\xb2");
    cr_assert_eq(nn_tokenizer_index(t, "\xc3\x89" "COLE"), 1);
    nn_tokenizer_free(t);
}

Test(tokenizer, min_count_drops_rare_words) {
    NnTokenizer *t = nn_tokenizer(.min_count = 2, .oov_token = "?");
    fit(t, "a b a c c c");
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    cr_assert_eq(nn_tokenizer_vocab_size(t), 3); /* ? c a */
    cr_assert_eq(nn_tokenizer_index(t, "c"), 2);
    cr_assert_eq(nn_tokenizer_index(t, "a"), 3);
    cr_assert_eq(nn_tokenizer_index(t, "b"), 0);
    CHECK_ENCODE(t, "a b c", 3, 1, 2);
    nn_tokenizer_free(t);

    t = nn_tokenizer(.min_count = 5);
    fit(t, "a b a");
    cr_assert_eq(nn_tokenizer_finish(t), -1);
    cr_assert(strstr(tensor_last_error(), "min_count") != NULL, "got: %s", tensor_last_error());
    CHECK_EMPTY(t, "a b");
    nn_tokenizer_free(t);
}

Test(tokenizer, word_spelled_like_oov_keeps_index_one) {
    NnTokenizer *t = nn_tokenizer(.oov_token = "unk");
    fit(t, "unk unk a");
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    cr_assert_eq(nn_tokenizer_vocab_size(t), 2);
    cr_assert_eq(nn_tokenizer_index(t, "unk"), 1);
    cr_assert_eq(nn_tokenizer_index(t, "a"), 2);
    CHECK_ENCODE(t, "unk a b", 1, 2, 1);
    nn_tokenizer_free(t);
}

Test(tokenizer, empty_and_filter_only_texts) {
    NnTokenizer *t = nn_tokenizer();
    nn_tokenizer_fit(t, NULL, 0);
    fit(t, "");
    fit(t, "!!! ... ??? \t\n ---");
    tensor_clear_error();
    cr_assert_eq(nn_tokenizer_finish(t), -1);
    cr_assert(strstr(tensor_last_error(), "no word") != NULL, "got: %s", tensor_last_error());
    cr_assert_eq(nn_tokenizer_vocab_size(t), 0);
    CHECK_EMPTY(t, "anything at all");
    CHECK_EMPTY(t, "");
    nn_tokenizer_free(t);

    t = nn_tokenizer(.oov_token = "<OOV>");
    cr_assert_eq(nn_tokenizer_finish(t), -1);
    CHECK_ENCODE(t, "x y", 1, 1);
    nn_tokenizer_free(t);
}

Test(tokenizer, hostile_bytes) {
    NnTokenizer *t = nn_tokenizer();
    /* CRLF and NUL separate words; each invalid UTF-8 byte becomes U+FFFD inside its
     * word, so every word is valid UTF-8, and a lookup spelled either way finds it. */
    const char text[] = "one\r\ntwo\r\n\0three caf\xff x\x80y \xe2\x82";
    nn_tokenizer_fit(t, text, (int64_t)sizeof text - 1);
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    const char *words[] = {"one", "two", "three", "caf\xff", "x\x80y", "\xe2\x82"};
    const char *stored[] = {"one", "two", "three", "caf\xef\xbf\xbd", "x\xef\xbf\xbdy",
                            "\xef\xbf\xbd\xef\xbf\xbd"};
    cr_assert_eq(nn_tokenizer_vocab_size(t), 6);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(nn_tokenizer_index(t, words[i]), i + 1, "word %d", i);
        cr_assert_eq(nn_tokenizer_index(t, stored[i]), i + 1, "word %d as stored", i);
        cr_assert_str_eq(nn_tokenizer_word(t, i + 1), stored[i]);
    }
    cr_assert_eq(nn_tokenizer_index(t, "one\r"), 0);
    /* Encoding reads exactly len bytes: "one two" cut to "one tw". */
    char *cut = malloc(6);
    memcpy(cut, "one tw", 6);
    int64_t n;
    int32_t *ids = nn_tokenizer_encode(t, cut, 6, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(ids[0], 1);
    free(ids);
    free(cut);
    nn_tokenizer_free(t);
}

Test(tokenizer, very_long_word) {
    size_t n = 200000;
    char *text = malloc(n + 3);
    memset(text, 'W', n);
    memcpy(text + n, " w", 3);
    NnTokenizer *t = nn_tokenizer();
    nn_tokenizer_fit(t, text, (int64_t)n + 2);
    cr_assert_eq(nn_tokenizer_finish(t), 0);
    cr_assert_eq(nn_tokenizer_vocab_size(t), 2);
    cr_assert_eq(strlen(nn_tokenizer_word(t, 1)), n);
    cr_assert_eq(nn_tokenizer_index(t, text + n + 1), 2);
    text[n] = '\0';
    cr_assert_eq(nn_tokenizer_index(t, text), 1, "lower-cased long query");
    int64_t len;
    int32_t *ids = nn_tokenizer_encode(t, text, (int64_t)n, &len);
    cr_assert_eq(len, 1);
    cr_assert_eq(ids[0], 1);
    free(ids);
    free(text);
    nn_tokenizer_free(t);
}

Test(tokenizer, bad_options_are_refused) {
    cr_assert_null(nn_tokenizer(.num_words = -1));
    cr_assert(strstr(tensor_last_error(), "num_words") != NULL, "got: %s", tensor_last_error());
    cr_assert_null(nn_tokenizer(.min_count = -2));
    cr_assert(strstr(tensor_last_error(), "min_count") != NULL, "got: %s", tensor_last_error());
    NnTokenizer *t = nn_tokenizer_new(NULL); /* NULL options: the defaults */
    cr_assert_not_null(t);
    nn_tokenizer_free(t);
    nn_tokenizer_free(NULL);
}

Test(tokenizer, encode_before_finish_aborts, .signal = SIGABRT) {
    NnTokenizer *t = nn_tokenizer();
    fit(t, "a b");
    int64_t n;
    nn_tokenizer_encode(t, "a", 1, &n);
}
