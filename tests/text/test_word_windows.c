/* nn/word_windows: the notebook's line joining (checked against what Python's
 * " ".join(...split()) gives), phrase splitting like the tokenizer, the vocabulary
 * file round trip and its refusals, and top-k ranks, indices and accuracy. */
#include "helpers.h"
#include "nn/nn.h"
#include "nn/text/word_windows.h"

#include <signal.h>
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

Test(word_windows, topk_rank_and_ties) {
    const float s[] = {0.1f, 0.4f, 0.2f, 0.4f, NAN};
    cr_assert_eq(nn_topk_rank(s, 5, 1), 0);
    cr_assert_eq(nn_topk_rank(s, 5, 3), 1); /* equal to entry 1, which comes first */
    cr_assert_eq(nn_topk_rank(s, 5, 2), 2);
    cr_assert_eq(nn_topk_rank(s, 5, 0), 3);
    cr_assert_eq(nn_topk_rank(s, 5, 4), 5); /* NaN never ranks */
}

Test(word_windows, topk_indices) {
    const float s[] = {0.1f, NAN, 0.4f, 0.2f, 0.4f, -1.0f};
    int64_t out[6];
    cr_assert_eq(nn_topk_indices(s, 6, 3, out), 3);
    cr_assert_eq(out[0], 2);
    cr_assert_eq(out[1], 4);
    cr_assert_eq(out[2], 3);
    cr_assert_eq(nn_topk_indices(s, 6, 10, out), 6);
    const int64_t all[] = {2, 4, 3, 0, 5, 1};
    for (int i = 0; i < 6; i++) cr_assert_eq(out[i], all[i], "position %d: %lld", i, (long long)out[i]);
    cr_assert_eq(nn_topk_indices(s, 6, 0, NULL), 0);
}

/* Random scores: the selection agrees with ranks computed independently. */
Test(word_windows, topk_indices_agree_with_rank) {
    Rng rng;
    tensor_rng_seed(&rng, 7, 1);
    float s[200];
    for (int i = 0; i < 200; i++) s[i] = (float)tensor_rng_below(&rng, 50); /* many ties */
    int64_t out[17];
    nn_topk_indices(s, 200, 17, out);
    for (int64_t j = 0; j < 17; j++) cr_assert_eq(nn_topk_rank(s, 200, out[j]), j);
}

Test(word_windows, topk_accuracy) {
    const float p[] = {0.1f, 0.6f, 0.3f,   /* target 1: top-1 */
                       0.5f, 0.2f, 0.3f,   /* target 2: rank 1 */
                       0.2f, 0.3f, 0.5f,   /* target 0: rank 2 */
                       0.4f, 0.4f, 0.2f};  /* target 1: tie, rank 1 */
    const int32_t t[] = {1, 2, 0, 1};
    Tensor *scores = tensor_from_array(NULL, TENSOR_SHAPE(4, 3), p);
    Tensor *targets = tensor_i32_from_array(NULL, TENSOR_SHAPE(4), t);
    cr_assert_eq(nn_topk_hits(scores, targets, 1), 1);
    cr_assert_eq(nn_topk_hits(scores, targets, 2), 3);
    cr_assert_eq(nn_topk_hits(scores, targets, 3), 4);
    cr_assert_float_eq(nn_topk_accuracy(scores, targets, 2), 0.75, 1e-12);
    Tensor *none = tensor_zeros(NULL, TENSOR_SHAPE(0, 3));
    Tensor *none_t = tensor_i32_zeros(NULL, TENSOR_SHAPE(0));
    cr_assert(isnan(nn_topk_accuracy(none, none_t, 1)));
    tensor_free(none);
    tensor_free(none_t);
    tensor_free(scores);
    tensor_free(targets);
}

Test(word_windows, topk_target_out_of_range, .signal = SIGABRT) {
    Tensor *scores = tensor_zeros(NULL, TENSOR_SHAPE(1, 3));
    Tensor *targets = tensor_i32_from_array(NULL, TENSOR_SHAPE(1), (int32_t[]){3});
    nn_topk_hits(scores, targets, 1);
}

Test(word_windows, topk_shape_mismatch, .signal = SIGABRT) {
    Tensor *scores = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    Tensor *targets = tensor_i32_zeros(NULL, TENSOR_SHAPE(3));
    nn_topk_hits(scores, targets, 1);
}

/* A small classifier: Embedding(10, 4) on 2 ids -> LSTM(5) -> Dense(7, softmax). */
static Model *small_classifier(NnLoss loss) {
    Model *m = nn_sequential();
    nn_model_seed(m, 3);
    nn_add(m, nn_embedding(.vocab = 10, .dim = 4));
    nn_add(m, nn_lstm(.units = 5));
    nn_add(m, nn_dense(.units = 7, .activation = NN_SOFTMAX));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 2)), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_compile(m, .loss = loss), 0, "%s", tensor_last_error());
    return m;
}

/* One pass with logits agrees with nn_evaluate's loss and with ranking nn_predict's
 * probabilities, across a batch size that leaves a remainder. */
Test(word_windows, evaluate_topk_agrees_with_evaluate_and_predict) {
    Model *m = small_classifier(NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    Rng rng;
    tensor_rng_seed(&rng, 11, 2);
    int32_t xs[46], ys[23];
    for (int i = 0; i < 46; i++) xs[i] = (int32_t)tensor_rng_below(&rng, 10);
    for (int i = 0; i < 23; i++) ys[i] = (int32_t)tensor_rng_below(&rng, 7);
    Tensor *x = tensor_i32_from_array(NULL, TENSOR_SHAPE(23, 2), xs);
    Tensor *y = tensor_i32_from_array(NULL, TENSOR_SHAPE(23), ys);
    for (int step = 0; step < 20; step++) nn_train_on_batch(m, x, y, NULL); /* not just the initial weights */
    double loss, acc[3], want_loss;
    cr_assert_eq(nn_evaluate_topk(m, x, y, 5, 3, (const int64_t[]){1, 2, 7}, &loss, acc), 0, "%s",
                 tensor_last_error());
    cr_assert_eq(nn_evaluate(m, x, y, 5, &want_loss, NULL), 0);
    cr_assert_float_eq(loss, want_loss, 1e-6, "loss %g, nn_evaluate %g", loss, want_loss);
    Tensor *p = nn_predict(m, x, 5);
    cr_assert_float_eq(acc[0], nn_topk_accuracy(p, y, 1), 1e-12);
    cr_assert_float_eq(acc[1], nn_topk_accuracy(p, y, 2), 1e-12);
    cr_assert_float_eq(acc[2], 1.0, 1e-12); /* every class is in the top 7 */
    cr_assert(acc[1] > acc[0] || acc[0] == 1.0);
    tensor_free(p);
    tensor_free(x);
    tensor_free(y);
    nn_model_free(m);
}

Test(word_windows, evaluate_topk_refusals) {
    Model *m = small_classifier(NN_MSE);
    Tensor *x = tensor_i32_zeros(NULL, TENSOR_SHAPE(3, 2));
    Tensor *y = tensor_i32_zeros(NULL, TENSOR_SHAPE(3));
    double loss, acc;
    cr_assert_eq(nn_evaluate_topk(m, x, y, 0, 1, (const int64_t[]){1}, &loss, &acc), -1);
    cr_assert(strstr(tensor_last_error(), "sparse_categorical"), "%s", tensor_last_error());
    nn_model_free(m);
    m = small_classifier(NN_SPARSE_CATEGORICAL_CROSSENTROPY);
    Tensor *x3 = tensor_i32_zeros(NULL, TENSOR_SHAPE(3, 3));
    cr_assert_eq(nn_evaluate_topk(m, x3, y, 0, 1, (const int64_t[]){1}, &loss, &acc), -1);
    cr_assert(strstr(tensor_last_error(), "input dim"), "%s", tensor_last_error());
    Tensor *y2 = tensor_i32_zeros(NULL, TENSOR_SHAPE(2));
    cr_assert_eq(nn_evaluate_topk(m, x, y2, 0, 1, (const int64_t[]){1}, &loss, &acc), -1);
    cr_assert_eq(nn_evaluate_topk(m, x, y, 0, 1, (const int64_t[]){0}, &loss, &acc), -1);
    cr_assert_eq(nn_evaluate_topk(m, x, y, 0, 1, (const int64_t[]){1}, &loss, &acc), 0);
    cr_assert(acc == 0.0 || acc == 1.0); /* equal rows: target 0 is in the top 1 for all or none */
    tensor_free(x);
    tensor_free(x3);
    tensor_free(y);
    tensor_free(y2);
    nn_model_free(m);
}
