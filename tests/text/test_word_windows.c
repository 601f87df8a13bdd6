/* nn/text/word_windows: the notebook's line joining (checked against what Python's
 * " ".join(...split()) gives), phrase splitting like the tokenizer, and the
 * vocabulary file round trip and its refusals. */
#include "helpers.h"
#include "nn/nn.h"
#include "nn/text/word_windows.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_join(const char *in, const char *want) {
    int64_t n = -1;
    char *got = nn_text_join_lines(in, (int64_t)strlen(in), &n);
    cr_assert_str_eq(got, want, "join of \"%s\"", in);
    cr_assert_eq(n, (int64_t)strlen(want));
    free(got);
}

Test(word_windows, join_lines_like_python) {
    check_join("", "");
    check_join("   \n\r\n\t ", "");
    check_join("one\ntwo", "one two");
    check_join("one\r\ntwo\rthree", "one two three");       /* every line break is a space */
    check_join("\xEF\xBB\xBFThe  cat\n\n\nsat. ", "The cat sat.");   /* BOM gone, runs collapsed */
    check_join("ab\xEF\xBB\xBF" "cd", "abcd");                 /* a BOM inside a word joins it */
    check_join("a\xC2\xA0" "b\xE2\x80\x83" "c\xE3\x80\x80" "d", "a b c d"); /* NBSP, em space, ideographic */
    check_join("\xE2\x80\x9CHolmes,\xE2\x80\x9D said", "\xE2\x80\x9CHolmes,\xE2\x80\x9D said"); /* quotes kept */
    check_join("x\xFF  y", "x\xFF y");                          /* invalid bytes verbatim */
    check_join("a\x1f" "b\x0b" "c", "a b c");                   /* \x1f and \v are str.split() spaces */
}

Test(word_windows, join_lines_empty_null) {
    int64_t n = -1;
    char *got = nn_text_join_lines(NULL, 0, &n);
    cr_assert_eq(n, 0);
    cr_assert_str_eq(got, "");
    free(got);
}

Test(word_windows, split_words_default_filters) {
    const char *text = "\xE2\x80\x9CWell-known,\xE2\x80\x9D he said; don't\tstop!!";
    int64_t n = -1;
    char **w = nn_text_split_words(text, (int64_t)strlen(text), NULL, &n);
    const char *want[] = {"\xE2\x80\x9CWell", "known", "\xE2\x80\x9D", "he", "said", "don't", "stop"};
    cr_assert_eq(n, 7, "got %lld words", (long long)n);
    for (int i = 0; i < 7; i++) cr_assert_str_eq(w[i], want[i], "word %d", i);
    nn_text_words_free(w, n);

    w = nn_text_split_words("  ,;  ", 6, NULL, &n);
    cr_assert_eq(n, 0);
    cr_assert_not_null(w);
    nn_text_words_free(w, n);
}

Test(word_windows, split_words_custom_filters) {
    int64_t n = -1;
    char **w = nn_text_split_words("a-b\xE2\x80\x94" "c.d", 9, "\xE2\x80\x94", &n); /* only the em dash */
    cr_assert_eq(n, 2);
    cr_assert_str_eq(w[0], "a-b");
    cr_assert_str_eq(w[1], "c.d");
    nn_text_words_free(w, n);
}

/* The split words are exactly what the tokenizer indexes (after lower-casing). */
Test(word_windows, split_agrees_with_tokenizer) {
    const char *text = "It is a capital MISTAKE to theorize; before one has data. \xE2\x80\x9CIt is!\xE2\x80\x9D";
    NnTokenizer *tok = nn_tokenizer();
    nn_tokenizer_fit(tok, text, (int64_t)strlen(text));
    cr_assert_eq(nn_tokenizer_finish(tok), 0);
    int64_t n_ids, n_words;
    int32_t *ids = nn_tokenizer_encode(tok, text, (int64_t)strlen(text), &n_ids);
    char **w = nn_text_split_words(text, (int64_t)strlen(text), NULL, &n_words);
    cr_assert_eq(n_ids, n_words);
    for (int64_t i = 0; i < n_ids; i++) cr_assert_eq(nn_tokenizer_index(tok, w[i]), ids[i], "word %s", w[i]);
    nn_text_words_free(w, n_words);
    free(ids);
    nn_tokenizer_free(tok);
}

static char *temp_path(void) {
    char *p = malloc(64);
    snprintf(p, 64, "/tmp/lamina_vocab_XXXXXX");
    int fd = mkstemp(p);
    cr_assert(fd >= 0);
    close(fd);
    return p;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(word_windows, vocab_round_trip) {
    const char *text = "the cat sat on the mat \xC3\xA9t\xC3\xA9 the dog ate the cat's \xE2\x80\x9Chat\xE2\x80\x9D";
    NnTokenizer *tok = nn_tokenizer();
    nn_tokenizer_fit(tok, text, (int64_t)strlen(text));
    cr_assert_eq(nn_tokenizer_finish(tok), 0);
    char *path = temp_path();
    cr_assert_eq(nn_vocab_save(tok, path, "units=8 embed=2"), 0, "%s", tensor_last_error());
    char header[64];
    NnTokenizer *back = nn_vocab_load(path, NULL, header, sizeof header);
    cr_assert_not_null(back, "%s", tensor_last_error());
    cr_assert_str_eq(header, "units=8 embed=2");
    cr_assert_eq(nn_tokenizer_vocab_size(back), nn_tokenizer_vocab_size(tok));
    for (int32_t i = 1; i <= nn_tokenizer_vocab_size(tok); i++)
        cr_assert_str_eq(nn_tokenizer_word(back, i), nn_tokenizer_word(tok, i), "index %d", i);
    int64_t na, nb;
    int32_t *a = nn_tokenizer_encode(tok, text, (int64_t)strlen(text), &na);
    int32_t *b = nn_tokenizer_encode(back, text, (int64_t)strlen(text), &nb);
    cr_assert_eq(na, nb);
    cr_assert_arr_eq(a, b, (size_t)na * sizeof *a);
    free(a);
    free(b);
    /* A small header buffer truncates. */
    char small[6];
    nn_tokenizer_free(back);
    back = nn_vocab_load(path, NULL, small, sizeof small);
    cr_assert_str_eq(small, "units");
    nn_tokenizer_free(back);
    nn_tokenizer_free(tok);
    unlink(path);
    free(path);
}

Test(word_windows, vocab_with_oov_round_trip) {
    NnTokenizer *tok = nn_tokenizer(.oov_token = "<unk>");
    nn_tokenizer_fit(tok, "b a b c", 7);
    cr_assert_eq(nn_tokenizer_finish(tok), 0);
    char *path = temp_path();
    cr_assert_eq(nn_vocab_save(tok, path, NULL), 0);
    NnTokenizer *back = nn_vocab_load(path, &(NnTokenizerOpts){.oov_token = "<unk>"}, NULL, 0);
    cr_assert_not_null(back, "%s", tensor_last_error());
    cr_assert_eq(nn_tokenizer_index(back, "zzz"), 0);
    cr_assert_eq(nn_tokenizer_index(back, "<unk>"), 1);
    cr_assert_eq(nn_tokenizer_index(back, "b"), 2);
    cr_assert_eq(nn_tokenizer_index(back, "c"), 4);
    nn_tokenizer_free(back);
    nn_tokenizer_free(tok);
    unlink(path);
    free(path);
}

static void expect_refused(const char *content, const char *needle) {
    char *path = temp_path();
    write_text(path, content);
    NnTokenizer *t = nn_vocab_load(path, NULL, NULL, 0);
    cr_assert_null(t, "loaded \"%s\"", content);
    cr_assert(strstr(tensor_last_error(), needle), "\"%s\": message '%s' lacks '%s'", content, tensor_last_error(),
              needle);
    unlink(path);
    free(path);
}

Test(word_windows, vocab_refusals) {
    expect_refused("", "no '#' header");
    expect_refused("the\ncat\n", "no '#' header");
    expect_refused("#h\n", "no words");
    expect_refused("#h\nthe\ncat\nthe\n", "line 4: a repeated word");
    expect_refused("#h\nthe\n\ncat\n", "line 3: an empty word");
    expect_refused("#h\nthe\nBig\n", "line 3: a word the tokenizer would split");
    expect_refused("#h\nthe\nwell-known\n", "split or change");
    NnTokenizer *t = nn_vocab_load("/nonexistent/dir/v.vocab", NULL, NULL, 0);
    cr_assert_null(t);
    cr_assert(strstr(tensor_last_error(), "/nonexistent/dir/v.vocab"), "%s", tensor_last_error());
}

Test(word_windows, vocab_save_refusals) {
    NnTokenizer *tok = nn_tokenizer();
    nn_tokenizer_fit(tok, "a b", 3);
    nn_tokenizer_finish(tok);
    cr_assert_eq(nn_vocab_save(tok, "/nonexistent/dir/v.vocab", NULL), -1);
    cr_assert(strstr(tensor_last_error(), "/nonexistent/dir/v.vocab"));
    cr_assert_eq(nn_vocab_save(tok, "/tmp/x.vocab", "two\nlines"), -1);
    nn_tokenizer_free(tok);
}
