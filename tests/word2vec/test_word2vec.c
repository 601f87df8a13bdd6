/* word2vec: one fused SGD step equals an SGD step through the tape (two compositions
 * of ordinary ops), the table sigmoid's accuracy, tokenisation like the gensim peer
 * script, the frequency-ranked vocabulary, deterministic single-thread training
 * (test_word2vec_threads.c covers several threads and resuming),
 * learning on a corpus with planted structure (1 and 2 threads), subsampling and
 * early stops, and option checks. */
#include "helpers.h"
#include "nn/word2vec/word2vec.h"

#include <string.h>

/* Random (V, D) tables as heap tensors needing gradients. */
static void random_tables(int64_t V, int64_t D, uint64_t seed, Tensor **in, Tensor **out) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 3);
    *in = test_random(&rng, -0.5f, 0.5f, TENSOR_SHAPE(V, D));
    *out = test_random(&rng, -0.5f, 0.5f, TENSOR_SHAPE(V, D));
}

/* The tape update: backward through `loss`, then table -= alpha * grad. */
static void tape_sgd(Tape *tape, Tensor *loss, Tensor *in, Tensor *out, float alpha) {
    ag_zero_grad(2, (Tensor *[]){in, out});
    ag_backward(tape, loss);
    for (int t = 0; t < 2; t++) {
        Tensor *p = t ? out : in;
        float *v = tensor_f32(p), *g = tensor_grad(p);
        for (int64_t i = 0; i < p->size; i++) v[i] -= alpha * g[i];
    }
}

/* A second reference with elementwise ops: logits by mul + sum_axis, the loss as
 * -log sigmoid(z) - sum log sigmoid(-z_neg) via sigmoid and log. */
static Tensor *loss_mul_sum(Tape *tape, Tensor *in, Tensor *out, int32_t ctx, const int32_t *targets, int n) {
    Arena *a = ag_tape_arena(tape);
    Tensor *ci = tensor_i32_from_array(a, TENSOR_SHAPE(1), &ctx);
    Tensor *ti = tensor_i32_from_array(a, TENSOR_SHAPE(n), targets);
    Tensor *v = ag_gather_rows(tape, in, ci), *u = ag_gather_rows(tape, out, ti); /* (1, D), (n, D) */
    Tensor *z = ag_sum_axis(tape, ag_mul(tape, u, v), 1, false);                 /* (n) */
    Tensor *sign = tensor_full(a, TENSOR_SHAPE(n), -1.0f);                        /* label 1 -> +z, 0 -> -z */
    tensor_f32(sign)[0] = 1.0f;
    Tensor *p = ag_sigmoid(tape, ag_mul(tape, z, sign));
    return ag_neg(tape, ag_sum(tape, ag_log(tape, p)));
}

static void check_fused_equals_tape(int64_t V, int64_t D, int32_t ctx, int32_t center, const int32_t *neg, int k,
                                    bool mul_sum) {
    const float alpha = 0.05f;
    Tensor *in, *out;
    random_tables(V, D, (uint64_t)(D * 31 + k), &in, &out);
    Tensor *in2 = tensor_copy(NULL, in), *out2 = tensor_copy(NULL, out), *orig = tensor_copy(NULL, in);
    float *work = calloc((size_t)D, sizeof *work);
    float fused_loss = nn_w2v_sgd_pair(tensor_f32(in2) + ctx * D, tensor_f32(out2), D, center, neg, k, alpha, work);

    Tape *tape = ag_tape_new();
    Tensor *loss;
    if (mul_sum) {
        int32_t targets[16];
        int n = 0;
        targets[n++] = center;
        for (int i = 0; i < k; i++)
            if (neg[i] != center) targets[n++] = neg[i];
        loss = loss_mul_sum(tape, in, out, ctx, targets, n);
    } else {
        loss = nn_w2v_pair_loss(tape, in, out, ctx, center, neg, k);
    }
    float tape_loss = tensor_f32(loss)[0];
    tape_sgd(tape, loss, in, out, alpha);
    cr_assert(fabsf(fused_loss - tape_loss) < 1e-5f, "loss: fused %.8g, tape %.8g", fused_loss, tape_loss);
    ASSERT_CLOSE_ARRAY(tensor_f32(in2), tensor_f32(in), in->size, 0, 1e-6);
    ASSERT_CLOSE_ARRAY(tensor_f32(out2), tensor_f32(out), out->size, 0, 1e-6);
    /* The step really moved the context row (so the comparison is not vacuous). */
    double moved = 0;
    for (int64_t j = 0; j < D; j++) moved += fabsf(tensor_f32(in2)[ctx * D + j] - tensor_f32(orig)[ctx * D + j]);
    cr_assert(moved > 1e-3, "the context row moved by %g", moved);
    tensor_free(orig);
    ag_tape_free(tape);
    tensor_free(in);
    tensor_free(out);
    tensor_free(in2);
    tensor_free(out2);
    free(work);
}

Test(word2vec, fused_step_equals_tape_step_matmul_bce) {
    check_fused_equals_tape(9, 5, 2, 4, (int32_t[]){0, 7, 3, 8, 1}, 5, false);
    check_fused_equals_tape(12, 37, 11, 0, (int32_t[]){5, 6}, 2, false); /* 2 SIMD blocks + a tail */
    check_fused_equals_tape(40, 100, 3, 17, (int32_t[]){1, 2, 39, 20, 21}, 5, false);
}

Test(word2vec, fused_step_equals_tape_step_mul_sum_log_sigmoid) {
    check_fused_equals_tape(9, 5, 2, 4, (int32_t[]){0, 7, 3, 8, 1}, 5, true);
    check_fused_equals_tape(40, 100, 3, 17, (int32_t[]){1, 2, 39, 20, 21}, 5, true);
}

Test(word2vec, negative_equal_to_center_is_skipped) {
    check_fused_equals_tape(9, 8, 2, 4, (int32_t[]){4, 7, 4}, 3, false);
    /* ... so a list of only the center leaves the loss of the positive pair alone. */
    float in[3] = {0.1f, 0.2f, 0.3f}, out[6] = {0}, work[3];
    float loss = nn_w2v_sgd_pair(in, out, 3, 1, (int32_t[]){1, 1}, 2, 0.1f, work);
    cr_assert(fabsf(loss - logf(2.0f)) < 1e-6f, "loss %g", loss);
}

Test(word2vec, fused_step_moves_rows_toward_the_center) {
    float in[4] = {0.5f, -0.5f, 0.25f, 0}, out[12] = {0}, work[4];
    out[4] = 0.1f; /* row 1 = center */
    float before = in[0] * out[4];
    for (int i = 0; i < 20; i++) nn_w2v_sgd_pair(in, out, 4, 1, (int32_t[]){2}, 1, 0.5f, work);
    float after = 0, neg = 0;
    for (int j = 0; j < 4; j++) after += in[j] * out[4 + j], neg += in[j] * out[8 + j];
    cr_assert(after > before + 1.0f, "center dot %g -> %g", before, after);
    cr_assert(neg < 0, "negative dot %g", neg);
}

Test(word2vec, table_sigmoid_accuracy) {
    double worst = 0;
    for (int i = -79999; i <= 79999; i++) { /* interpolated inside (-8, 8) */
        float x = (float)i * 1e-4f;
        double err = fabs(nn_w2v_sigmoid(x) - 1.0 / (1.0 + exp(-(double)x)));
        worst = err > worst ? err : worst;
    }
    cr_assert(worst < 4e-7, "max error %g on (-8, 8)", worst);
    cr_assert_eq(nn_w2v_sigmoid(9.0f), 1.0f);
    cr_assert_eq(nn_w2v_sigmoid(-9.0f), 0.0f);
}

static NnW2vCorpus *corpus_of(const char *text, int64_t min_count) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    cr_assert_eq(nn_w2v_corpus_add(c, text, (int64_t)strlen(text)), 0);
    cr_assert_eq(nn_w2v_corpus_finish(c, min_count), 0, "%s", tensor_last_error());
    return c;
}

static void assert_sentence(const NnW2vCorpus *c, int64_t i, const char *expected) {
    int64_t n;
    const int32_t *ids = nn_w2v_corpus_sentence(c, i, &n);
    char got[256] = "";
    for (int64_t k = 0; k < n; k++) {
        if (k) strcat(got, " ");
        strcat(got, nn_w2v_corpus_word(c, ids[k]));
    }
    cr_assert_str_eq(got, expected, "sentence %lld", (long long)i);
}

Test(word2vec, tokenises_like_the_gensim_script) {
    /* Python: re.sub(r"[^a-z]+", " ", line.lower()).split(), lines split by universal
     * newlines. U+0130 lower-cases to "i" + U+0307, the Kelvin sign to "k". */
    const char *text = "Hello, World!\r\nIt's  DON'T\rcaf\xc3\xa9 na\xc3\xafve 42x\n\n  \n"
                       "\xc4\xb0stanbul \xe2\x84\xaa" "elvin\n\xe2\x80\x9cquoted\xe2\x80\x9d end";
    NnW2vCorpus *c = corpus_of(text, 1);
    cr_assert_eq(nn_w2v_corpus_sentences(c), 5);
    assert_sentence(c, 0, "hello world");
    assert_sentence(c, 1, "it s don t");
    assert_sentence(c, 2, "caf na ve x");
    assert_sentence(c, 3, "i stanbul kelvin");
    assert_sentence(c, 4, "quoted end");
    cr_assert_eq(nn_w2v_corpus_raw_words(c), 15);
    nn_w2v_corpus_free(c);
}

Test(word2vec, vocabulary_is_ranked_and_rare_words_dropped) {
    NnW2vCorpus *c = corpus_of("b a c\nc rare b\nb c d\nd d\nother\n", 2);
    /* counts: b 3, c 3, d 3, a 1, rare 1, other 1 -> b, c, d (ties in first-seen order) */
    cr_assert_eq(nn_w2v_corpus_vocab_size(c), 3);
    cr_assert_str_eq(nn_w2v_corpus_word(c, 0), "b");
    cr_assert_str_eq(nn_w2v_corpus_word(c, 1), "c");
    cr_assert_str_eq(nn_w2v_corpus_word(c, 2), "d");
    cr_assert_eq(nn_w2v_corpus_count(c, 2), 3);
    cr_assert_eq(nn_w2v_corpus_find(c, "d"), 2);
    cr_assert_eq(nn_w2v_corpus_find(c, "a"), -1);
    cr_assert_eq(nn_w2v_corpus_find(c, "zzz"), -1);
    cr_assert_eq(nn_w2v_corpus_raw_words(c), 12);
    cr_assert_eq(nn_w2v_corpus_words(c), 9);
    cr_assert_eq(nn_w2v_corpus_sentences(c), 4); /* "other" alone is gone */
    assert_sentence(c, 1, "c b");
    cr_assert_eq(nn_w2v_corpus_add(c, "x", 1), -1);
    nn_w2v_corpus_free(c);

    NnW2vCorpus *none = nn_w2v_corpus_new();
    nn_w2v_corpus_add(none, "a b c", 5);
    cr_assert_eq(nn_w2v_corpus_finish(none, 2), -1);
    cr_assert(strstr(tensor_last_error(), "no word occurs 2 times"), "%s", tensor_last_error());
    nn_w2v_corpus_free(none);
}

/* Sentences of 12 words, each drawn from one of two topics of 10 words. */
static NnW2vCorpus *topic_corpus(int sentences) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    char line[256];
    for (int s = 0; s < sentences; s++) {
        int topic = (int)tensor_rng_below(&rng, 2), n = 0;
        for (int w = 0; w < 12; w++)
            n += snprintf(line + n, sizeof line - (size_t)n, "%c%c ", topic ? 'x' : 'y',
                          'a' + (int)tensor_rng_below(&rng, 10));
        line[n - 1] = '\n';
        nn_w2v_corpus_add(c, line, n);
    }
    cr_assert_eq(nn_w2v_corpus_finish(c, 1), 0);
    return c;
}

static double cosine(const float *a, const float *b, int64_t d) {
    double ab = 0, aa = 0, bb = 0;
    for (int64_t i = 0; i < d; i++) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return ab / sqrt(aa * bb);
}

static void assert_topics_learnt(int threads) {
    NnW2vCorpus *c = topic_corpus(2000);
    NnWord2Vec *m = nn_w2v(c, .dim = 16, .iter = 3, .threads = threads, .seed = 3, .no_sample = true);
    NnW2vStats st;
    cr_assert_eq(nn_w2v_train(m, &st), 0);
    cr_assert_eq(st.words, 3 * 24000);
    cr_assert(st.loss < 0.8 * 6 * logf(2.0f), "loss %g", st.loss);
    const float *v = tensor_f32(nn_w2v_input_table(m));
    double within = 0, across = 0;
    for (int i = 0; i < 20; i++)
        for (int j = 0; j < 20; j++) {
            if (i == j) continue;
            const char *wi = nn_w2v_corpus_word(c, i), *wj = nn_w2v_corpus_word(c, j);
            double cs = cosine(v + i * 16, v + j * 16, 16);
            if (wi[0] == wj[0]) within += cs / 180;
            else across += cs / 200;
        }
    /* Thresholds rather than values: the thread count changes the schedule. */
    cr_assert(within > 0.5 && across < within - 0.5, "threads %d: within-topic cosine %g, across %g", threads,
              within, across);
    nn_w2v_free(m);
    nn_w2v_corpus_free(c);
}

Test(word2vec, learns_planted_topics_one_thread) { assert_topics_learnt(1); }
Test(word2vec, learns_planted_topics_two_threads) { assert_topics_learnt(2); }

Test(word2vec, one_thread_is_deterministic_for_a_seed) {
    NnW2vCorpus *c = topic_corpus(300);
    float *runs[3];
    for (int r = 0; r < 3; r++) {
        NnWord2Vec *m = nn_w2v(c, .dim = 8, .iter = 2, .seed = r == 2 ? 8 : 7);
        /* initial vectors U(-0.5/D, 0.5/D), output vectors zero */
        const Tensor *in = nn_w2v_input_table(m), *out = nn_w2v_output_table(m);
        for (int64_t i = 0; i < in->size; i++) {
            cr_assert(fabsf(tensor_f32(in)[i]) <= 0.5f / 8);
            cr_assert_eq(tensor_f32(out)[i], 0.0f);
        }
        cr_assert_eq(nn_w2v_train(m, NULL), 0);
        runs[r] = malloc((size_t)in->size * sizeof(float));
        memcpy(runs[r], tensor_f32(in), (size_t)in->size * sizeof(float));
        if (r == 2) {
            cr_assert(memcmp(runs[0], runs[1], (size_t)in->size * sizeof(float)) == 0, "same seed, different vectors");
            cr_assert(memcmp(runs[0], runs[2], (size_t)in->size * sizeof(float)) != 0, "the seed changed nothing");
        }
        nn_w2v_free(m);
    }
    for (int r = 0; r < 3; r++) free(runs[r]);
    nn_w2v_corpus_free(c);
}

Test(word2vec, subsampling_windows_and_early_stop) {
    NnW2vCorpus *c = topic_corpus(500);
    NnW2vStats all, sub, stop;
    NnWord2Vec *m = nn_w2v(c, .dim = 4, .iter = 1, .no_sample = true, .window = 1);
    nn_w2v_train(m, &all);
    nn_w2v_free(m);
    cr_assert_eq(all.pairs, 500 * 22); /* window 1 never shrinks: 2 neighbours, 1 at each end */
    m = nn_w2v(c, .dim = 4, .iter = 1, .sample = 1e-3, .window = 1);
    nn_w2v_train(m, &sub); /* every word is 5% of the corpus: kept with p ~ 0.16 */
    nn_w2v_free(m);
    cr_assert(sub.pairs < all.pairs / 3, "subsampled pairs %lld of %lld", (long long)sub.pairs, (long long)all.pairs);
    m = nn_w2v(c, .dim = 4, .iter = 5, .max_words = 1000, .batch_words = 100);
    nn_w2v_train(m, &stop);
    nn_w2v_free(m);
    cr_assert(stop.words >= 1000 && stop.words < 1100, "stopped after %lld words", (long long)stop.words);
    nn_w2v_corpus_free(c);

    /* Every word is trained once per pass whatever the thread count, also with more
     * threads than sentences. */
    NnW2vCorpus *two = corpus_of("a b c d\nb c d a b\n", 1);
    for (int t = 1; t <= 4; t++) {
        m = nn_w2v(two, .dim = 4, .iter = 3, .no_sample = true, .window = 1, .threads = t);
        nn_w2v_train(m, &all);
        nn_w2v_free(m);
        cr_assert_eq(all.pairs, 3 * (6 + 8), "threads %d: %lld pairs", t, (long long)all.pairs);
        cr_assert_eq(all.words, 3 * 9);
    }
    nn_w2v_corpus_free(two);

    /* One-word lines give no pairs: windows never cross sentences. */
    NnW2vCorpus *single = corpus_of("a\nb\na\nb\n", 1);
    m = nn_w2v(single, .dim = 4, .no_sample = true);
    nn_w2v_train(m, &all);
    cr_assert_eq(all.pairs, 0);
    nn_w2v_free(m);
    nn_w2v_corpus_free(single);
}

Test(word2vec, bad_options_are_reported) {
    NnW2vCorpus *c = corpus_of("a b a b", 1);
    cr_assert_null(nn_w2v(c, .dim = -3));
    cr_assert(strstr(tensor_last_error(), "dim"), "%s", tensor_last_error());
    cr_assert_null(nn_w2v(c, .negative = 101));
    cr_assert(strstr(tensor_last_error(), "negative"), "%s", tensor_last_error());
    cr_assert_null(nn_w2v(c, .alpha = 0.01f, .min_alpha = 0.1f));
    cr_assert_null(nn_w2v(c, .threads = 5000));
    cr_assert_null(nn_w2v(c, .sample = NAN));
    NnW2vCorpus *open = nn_w2v_corpus_new();
    cr_assert_null(nn_w2v(open, .dim = 3));
    cr_assert(strstr(tensor_last_error(), "not finished"), "%s", tensor_last_error());
    nn_w2v_corpus_free(open);
    nn_w2v_corpus_free(c);
}

Test(word2vec, word_vectors_copy_words_counts_and_rows) {
    NnW2vCorpus *c = corpus_of("b a b\nb c", 1);
    NnWord2Vec *m = nn_w2v(c, .dim = 3);
    NnWordVectors *wv = nn_w2v_word_vectors(m);
    cr_assert_eq(wv->size, 3);
    cr_assert_str_eq(wv->words[0], "b");
    cr_assert_eq(wv->counts[0], 3);
    cr_assert_eq(nn_word_vectors_find(wv, "c"), nn_w2v_corpus_find(c, "c"));
    cr_assert(memcmp(wv->vectors, tensor_f32(nn_w2v_input_table(m)), 9 * sizeof(float)) == 0);
    nn_word_vectors_free(wv);
    nn_w2v_free(m);
    nn_w2v_corpus_free(c);
}
