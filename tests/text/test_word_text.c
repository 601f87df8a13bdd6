/* Tests for nn/word_text.h, the word model's text pipeline: punctuation but - and '
 * removed, curly apostrophes as ', lower-case, rare words to <unk> (id 1), and the
 * unknown words of a text reported once each. */
#include "helpers.h"

#include "nn/text/word_text.h"

#include <stdlib.h>
#include <string.h>

Test(word_text, normalize_keeps_hyphen_and_apostrophe) {
    const char *s = "Thy beauty\xe2\x80\x99s use, \xe2\x80\x98tis well-spent; (O!) \xe2\x80\x94 \"Love\"... caf\xc3\xa9 \xff";
    int64_t n;
    char *out = nn_word_text_normalize(s, (int64_t)strlen(s), &n);
    cr_assert_eq((int64_t)strlen(out), n);
    cr_assert_str_eq(out, "Thy beauty's use  'tis well-spent   O      Love     caf\xc3\xa9 \xef\xbf\xbd");
    free(out);
}

/* Invalid bytes become U+FFFD, one each, so the words a model prints are valid UTF-8;
 * the counts of nn_text_check say how many there were. */
Test(word_text, invalid_bytes_become_replacement_characters) {
    const char s[] = "caf\xe9 x\x80\x80y \xe2\x82";
    int64_t n;
    char *out = nn_word_text_normalize(s, (int64_t)sizeof s - 1, &n);
    cr_assert_str_eq(out, "caf\xef\xbf\xbd x\xef\xbf\xbd\xef\xbf\xbdy \xef\xbf\xbd\xef\xbf\xbd");
    NnTextCheck c = nn_text_check(out, n);
    cr_assert_eq(c.invalid + c.control, 0, "the normalised text is valid UTF-8 text");
    free(out);
    NnTokenizer *tok = nn_word_text_tokenizer("caf\xe9 caf\xe9 tea", 13, 0);
    cr_assert_not_null(tok, "%s", tensor_last_error());
    cr_assert_str_eq(nn_tokenizer_word(tok, 2), "caf\xef\xbf\xbd");
    int64_t n_ids;
    char *unknown = NULL;
    int32_t *ids = nn_word_text_encode(tok, "caf\xe9 milk\xff", 10, &n_ids, &unknown);
    cr_assert_eq(n_ids, 2);
    cr_assert_eq(ids[0], 2, "the same bytes find the same word");
    cr_assert_str_eq(unknown, "milk\xef\xbf\xbd");
    free(ids);
    free(unknown);
    nn_tokenizer_free(tok);
}

static const char *corpus = "The cat and the dog. THE CAT, the cat's hat; the-end! "
                            "the cat\xe2\x80\x99s rare and and";

Test(word_text, rare_words_become_unknown) {
    /* Counts: the 6 (the-end is one word), cat 2, and 3, cat's 2, dog 1, hat 1, the-end 1, rare 1. */
    NnTokenizer *tok = nn_word_text_tokenizer(corpus, (int64_t)strlen(corpus), 1);
    cr_assert_not_null(tok, "%s", tensor_last_error());
    cr_assert_str_eq(nn_tokenizer_word(tok, NN_WORD_UNKNOWN_ID), NN_WORD_UNKNOWN);
    cr_assert_str_eq(nn_tokenizer_word(tok, 2), "the");
    cr_assert_str_eq(nn_tokenizer_word(tok, 3), "and");
    cr_assert_eq(nn_tokenizer_vocab_size(tok), 5, "<unk>, the, and, cat, cat's");
    cr_assert_gt(nn_tokenizer_index(tok, "cat's"), 1, "the curly and straight apostrophes are one word");

    const char *text = "The cat's DOG and zebra, the zebra";
    int64_t n;
    char *unknown = NULL;
    int32_t *ids = nn_word_text_encode(tok, text, (int64_t)strlen(text), &n, &unknown);
    cr_assert_eq(n, 7);
    int32_t cats = nn_tokenizer_index(tok, "cat's");
    int32_t want[] = {2, cats, 1, 3, 1, 2, 1};
    for (int i = 0; i < 7; i++) cr_assert_eq(ids[i], want[i], "id %d: %d, expected %d", i, ids[i], want[i]);
    cr_assert_not_null(unknown);
    cr_assert_str_eq(unknown, "DOG, zebra", "each unknown word once, as written");
    free(unknown);
    free(ids);

    ids = nn_word_text_encode(tok, "the and", 7, &n, &unknown);
    cr_assert_eq(n, 2);
    cr_assert_null(unknown, "all words known");
    free(ids);
    ids = nn_word_text_encode(tok, " ,;. ", 5, &n, NULL);
    cr_assert_eq(n, 0);
    free(ids);
    nn_tokenizer_free(tok);
}

Test(word_text, no_frequent_word_is_an_error) {
    NnTokenizer *tok = nn_word_text_tokenizer("one two three", 13, 5);
    cr_assert_null(tok);
    cr_assert(strstr(tensor_last_error(), "min_count") != NULL, "%s", tensor_last_error());
    cr_assert_null(nn_word_text_tokenizer("a a", 3, -1));
    cr_assert_null(nn_word_text_tokenizer("", 0, 0));
}
