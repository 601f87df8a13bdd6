/* word2vec's objectives: word2vec.c's Huffman tree for a small count list built by
 * hand; one piece of updates of every objective (skip-gram and CBOW, mean and sum,
 * with negative sampling, hierarchical softmax or both; the full softmax) equal to
 * the same updates computed here in double from the same rows; every objective
 * learning a planted relation; a CBOW + hierarchical softmax run deterministic with
 * 2 threads and bit-identical after a resume; and the options that do not go
 * together refused. */
#include "helpers.h"
#include "nn/word2vec/word2vec_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the Huffman tree ---- */

Test(word2vec_modes, huffman_tree_is_word2vec_c_s) {
    /* By hand, as CreateBinaryTree: nodes 5..8 are made of (4,3) = 4, then (5,2) = 8
     * (the tie 4 vs 4 goes to the inner node), (1,6) = 14, (0,7) = 24, the root; the
     * second child of each gets code 1; inner node n is row n - 5. */
    const int64_t counts[] = {10, 6, 4, 3, 1};
    const uint8_t codes[5][4] = {{0}, {1, 0}, {1, 1, 1}, {1, 1, 0, 1}, {1, 1, 0, 0}};
    const int32_t points[5][4] = {{3}, {3, 2}, {3, 2, 1}, {3, 2, 1, 0}, {3, 2, 1, 0}};
    const int lens[5] = {1, 2, 3, 4, 4};
    W2vTree t;
    cr_assert_eq(nn__w2v_tree_build(&t, counts, 5), 0);
    cr_assert_eq(t.max_len, 4);
    for (int w = 0; w < 5; w++) {
        cr_assert_eq(t.start[w + 1] - t.start[w], lens[w], "word %d's path length", w);
        for (int k = 0; k < lens[w]; k++) {
            cr_assert_eq(t.code[t.start[w] + k], codes[w][k], "word %d code %d", w, k);
            cr_assert_eq(t.point[t.start[w] + k], points[w][k], "word %d point %d", w, k);
        }
    }
    nn__w2v_tree_free(&t);
    const int64_t one[] = {7};
    cr_assert_eq(nn__w2v_tree_build(&t, one, 1), 0);
    cr_assert_eq(t.start[1], 0, "one word: no inner node, an empty path");
    nn__w2v_tree_free(&t);
}

/* ---- one piece of updates against the same arithmetic in double ---- */

enum { V = 6, D = 8, NEG_WORD = 5, K = 2 };
#define ALPHA 0.3f

/* Six words of distinct counts (so the tree is fixed) in one sentence. */
static NnW2vCorpus *six_words(void) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    const char *text = "a a a a a a b b b b b c c c c d d d e e f\n";
    nn_w2v_corpus_add(c, text, (int64_t)strlen(text));
    cr_assert_eq(nn_w2v_corpus_finish(c, 1), 0);
    return c;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* The tables in double, and the tree they train with. */
typedef struct Ref {
    double syn0[V][D], syn1neg[V][D], syn1[V][D];
    const W2vTree *tree;
    bool hs, cbow, sum, softmax;
    int K;
    double loss;
} Ref;

/* One logistic target: g = alpha (label - sigmoid(u.h)), work += g u, u += g h. */
static void ref_target(Ref *r, const double *h, double *u, double label, double *work) {
    double f = 0;
    for (int k = 0; k < D; k++) f += h[k] * u[k];
    r->loss -= log(label > 0 ? sigmoid(f) : sigmoid(-f));
    double g = ALPHA * (label - sigmoid(f));
    for (int k = 0; k < D; k++) {
        work[k] += g * u[k];
        u[k] += g * h[k];
    }
}

/* The error of predicting center from h into work: the tree's path or the negatives
 * (every negative is NEG_WORD here; one equal to the center is skipped). */
static void ref_predict(Ref *r, const double *h, int center, bool tree, double *work) {
    memset(work, 0, D * sizeof *work);
    if (tree) {
        for (int64_t k = r->tree->start[center]; k < r->tree->start[center + 1]; k++)
            ref_target(r, h, r->syn1[r->tree->point[k]], 1.0 - r->tree->code[k], work);
        return;
    }
    ref_target(r, h, r->syn1neg[center], 1.0, work);
    for (int k = 0; k < r->K; k++)
        if (NEG_WORD != center) ref_target(r, h, r->syn1neg[NEG_WORD], 0.0, work);
}

static void ref_softmax(Ref *r, double *v, int center) {
    double s[V], top = -INFINITY, total = 0, work[D] = {0};
    for (int w = 0; w < V; w++) {
        s[w] = 0;
        for (int k = 0; k < D; k++) s[w] += v[k] * r->syn1neg[w][k];
        if (s[w] > top) top = s[w];
    }
    for (int w = 0; w < V; w++) total += exp(s[w] - top);
    r->loss += log(total) + top - s[center];
    for (int w = 0; w < V; w++) {
        double g = ALPHA * ((w == center) - exp(s[w] - top) / total);
        for (int k = 0; k < D; k++) {
            work[k] += g * r->syn1neg[w][k];
            r->syn1neg[w][k] += g * v[k];
        }
    }
    for (int k = 0; k < D; k++) v[k] += work[k];
}

/* Window 1 (never shrunk): skip-gram's pairs, or CBOW's centers, in piece order. */
static void ref_piece(Ref *r, const int32_t *piece, int n) {
    double work[D], h[D];
    for (int i = 0; i < n; i++) {
        int lo = i > 0 ? i - 1 : 0, hi = i + 1 < n ? i + 1 : n - 1;
        if (!r->cbow) {
            for (int j = lo; j <= hi; j++) {
                if (j == i) continue;
                double *v = r->syn0[piece[j]];
                if (r->softmax) {
                    ref_softmax(r, v, piece[i]);
                    continue;
                }
                for (int pass = 0; pass < 2; pass++) { /* the tree first, then the negatives */
                    if (pass == 0 ? !r->hs : !r->K) continue;
                    ref_predict(r, v, piece[i], pass == 0, work);
                    for (int k = 0; k < D; k++) v[k] += work[k];
                }
            }
            continue;
        }
        int count = hi - lo;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 0 ? !r->hs : !r->K) continue;
            memset(h, 0, sizeof h);
            for (int j = lo; j <= hi; j++)
                for (int k = 0; j != i && k < D; k++) h[k] += r->syn0[piece[j]][k];
            for (int k = 0; !r->sum && k < D; k++) h[k] /= count; /* the mean */
            ref_predict(r, h, piece[i], pass == 0, work);
            for (int j = lo; j <= hi; j++) /* the sum divides the error over the context */
                for (int k = 0; j != i && k < D; k++) r->syn0[piece[j]][k] += r->sum ? work[k] / count : work[k];
        }
    }
}

static void fill(Tensor *t, Rng *rng) {
    if (t) tensor_fill_uniform(tensor_f32(t), t->size, rng, -0.8f, 0.8f);
}

static void to_double(const Tensor *t, double (*rows)[D]) {
    for (int64_t i = 0; t && i < t->size; i++) rows[i / D][i % D] = tensor_f32(t)[i];
}

static void assert_close(const Tensor *t, double (*rows)[D], const char *what, const char *mode) {
    for (int64_t i = 0; t && i < t->size; i++)
        cr_assert(fabs(tensor_f32(t)[i] - rows[i / D][i % D]) < 2e-5, "%s: %s[%lld] %.7f, by hand %.7f", mode, what,
                  (long long)i, tensor_f32(t)[i], rows[i / D][i % D]);
}

/* Trains the piece with the kernel (one thread, on the shared tables) and by hand
 * from the same random rows, and compares every table and the loss. */
static void check_piece(const char *mode, NnW2vOpts o) {
    NnW2vCorpus *c = six_words();
    o.dim = D;
    o.window = 1;
    o.no_sample = true;
    NnWord2Vec *m = nn_w2v_new(c, &o);
    cr_assert_not_null(m, "%s: %s", mode, tensor_last_error());
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    fill(m->in, &rng);
    fill(m->out, &rng);
    fill(m->hs, &rng);
    for (int64_t i = 0; i < V; i++) m->noise_p[i] = 0, m->noise_alias[i] = NEG_WORD; /* every draw: NEG_WORD */
    Ref *r = calloc(1, sizeof *r);
    *r = (Ref){.tree = &m->tree, .hs = o.hs, .cbow = o.cbow, .sum = o.cbow_sum, .softmax = o.softmax,
               .K = m->o.negative};
    to_double(m->in, r->syn0);
    to_double(m->out, r->syn1neg);
    to_double(m->hs, r->syn1);

    const int32_t piece[] = {2, 0, 5, 1, 0};
    const int n = 5;
    Run run = {.m = m, .T = 1};
    WorkerState st = {.rng = 1};
    float work[D], neu1[D], scores[V];
    Worker w = {.run = &run, .st = &st, .work = work, .neu1 = neu1, .scores = scores, .piece = (int32_t *)piece};
    if (o.softmax) nn__w2v_train_piece_softmax(&w, n, ALPHA);
    else if (o.cbow) nn__w2v_train_piece_cbow(&w, n, ALPHA);
    else nn__w2v_train_piece_sg(&w, n, ALPHA);
    ref_piece(r, piece, n);

    assert_close(m->in, r->syn0, "input", mode);
    assert_close(m->out, r->syn1neg, "output", mode);
    assert_close(m->hs, r->syn1, "tree", mode);
    cr_assert(fabs(st.loss - r->loss) < 1e-4 * (1 + r->loss), "%s: loss %.6f, by hand %.6f", mode, st.loss, r->loss);
    cr_assert_eq(st.epoch_pairs, o.cbow ? n : 2 * (n - 1), "%s: %lld predictions", mode, (long long)st.epoch_pairs);
    free(r);
    nn_w2v_free(m);
    nn_w2v_corpus_free(c);
}

Test(word2vec_modes, skip_gram_updates_equal_the_hand_computed_ones) {
    check_piece("sg+ns", (NnW2vOpts){.negative = K});
    check_piece("sg+hs", (NnW2vOpts){.hs = true, .no_negative = true});
    check_piece("sg+hs+ns", (NnW2vOpts){.hs = true, .negative = K});
    check_piece("softmax", (NnW2vOpts){.softmax = true});
}

Test(word2vec_modes, cbow_updates_equal_the_hand_computed_ones) {
    check_piece("cbow mean+ns", (NnW2vOpts){.cbow = true, .negative = K});
    check_piece("cbow sum+ns", (NnW2vOpts){.cbow = true, .cbow_sum = true, .negative = K});
    check_piece("cbow mean+hs", (NnW2vOpts){.cbow = true, .hs = true, .no_negative = true});
    check_piece("cbow sum+hs", (NnW2vOpts){.cbow = true, .cbow_sum = true, .hs = true, .no_negative = true});
    check_piece("cbow mean+hs+ns", (NnW2vOpts){.cbow = true, .hs = true, .negative = K});
}

/* ---- every objective learns ---- */

/* Ten groups of four words: sentences "ck X dk" with X either pk or qk. pk and qk
 * share every context and nothing else does: each should end up the other's
 * nearest neighbour. */
static NnW2vCorpus *synonyms(void) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    char line[128];
    for (int s = 0; s < 1000; s++) {
        uint32_t g = tensor_rng_below(&rng, 10);
        int n = snprintf(line, sizeof line, "c%c %c%c d%c\n", 'a' + g, tensor_rng_below(&rng, 2) ? 'p' : 'q',
                         'a' + g, 'a' + g);
        nn_w2v_corpus_add(c, line, n);
    }
    cr_assert_eq(nn_w2v_corpus_finish(c, 1), 0);
    return c;
}

static void check_learns(const NnW2vCorpus *c, const char *mode, NnW2vOpts o) {
    o.dim = 16;
    o.window = 2;
    o.iter = 8;
    o.no_sample = true;
    o.seed = 2;
    NnWord2Vec *m = nn_w2v_new(c, &o);
    cr_assert_not_null(m, "%s: %s", mode, tensor_last_error());
    cr_assert_eq(nn_w2v_train(m, NULL), 0);
    double loss[8];
    cr_assert_eq(nn_w2v_epoch_losses(m, loss, 8), 8);
    cr_assert(loss[7] < 0.5 * loss[0], "%s: epoch losses %.4f ... %.4f", mode, loss[0], loss[7]);
    NnWordVectors *wv = nn_w2v_word_vectors(m);
    int found = 0;
    for (int g = 0; g < 10; g++) {
        char p[8], q[8];
        snprintf(p, sizeof p, "p%c", 'a' + g);
        snprintf(q, sizeof q, "q%c", 'a' + g);
        int64_t nearest;
        float cos;
        cr_assert_eq(nn_nearest_to_row(wv, nn_word_vectors_find(wv, p), 1, &nearest, &cos), 1);
        found += nearest == nn_word_vectors_find(wv, q);
    }
    cr_assert(found >= 9, "%s: only %d of 10 pk found qk nearest", mode, found);
    nn_word_vectors_free(wv);
    nn_w2v_free(m);
}

Test(word2vec_modes, every_objective_learns_a_planted_relation) {
    NnW2vCorpus *c = synonyms();
    check_learns(c, "sg+ns", (NnW2vOpts){0});
    check_learns(c, "sg+hs", (NnW2vOpts){.hs = true, .no_negative = true});
    check_learns(c, "sg+hs+ns", (NnW2vOpts){.hs = true});
    check_learns(c, "cbow mean+ns", (NnW2vOpts){.cbow = true});
    check_learns(c, "cbow sum+ns", (NnW2vOpts){.cbow = true, .cbow_sum = true});
    check_learns(c, "cbow mean+hs", (NnW2vOpts){.cbow = true, .hs = true, .no_negative = true});
    check_learns(c, "cbow sum+hs+ns", (NnW2vOpts){.cbow = true, .cbow_sum = true, .hs = true});
    check_learns(c, "softmax", (NnW2vOpts){.softmax = true});
    nn_w2v_corpus_free(c);
}

/* ---- determinism and resume with CBOW and the tree ---- */

#define TWO_THREADS(...) (&(NnW2vOpts){.dim = 12, .iter = 3, .threads = 2, .batch_words = 300, __VA_ARGS__})
#define CBOW_HS(...) TWO_THREADS(.cbow = true, .hs = true, __VA_ARGS__)

/* Every table after training, in one heap buffer; *bytes its size. */
static float *all_tables(NnWord2Vec *m, size_t *bytes) {
    Tensor *t[3] = {nn_w2v_input_table(m), nn_w2v_output_table(m), nn_w2v_hs_table(m)};
    size_t n = 0;
    for (int i = 0; i < 3; i++) n += t[i] ? (size_t)t[i]->size : 0;
    float *both = malloc(n * sizeof *both), *p = both;
    for (int i = 0; i < 3; i++)
        if (t[i]) memcpy(p, tensor_f32(t[i]), (size_t)t[i]->size * sizeof(float)), p += t[i]->size;
    *bytes = n * sizeof(float);
    return both;
}

static float *train_all(const NnW2vCorpus *c, const NnW2vOpts *o, size_t *bytes) {
    NnWord2Vec *m = nn_w2v_new(c, o);
    cr_assert_not_null(m, "%s", tensor_last_error());
    cr_assert_eq(nn_w2v_train(m, NULL), 0);
    float *t = all_tables(m, bytes);
    nn_w2v_free(m);
    return t;
}

typedef struct StopAt {
    const char *path;
    volatile sig_atomic_t stop;
    int calls;
} StopAt;

static int save_then_stop(NnWord2Vec *m, void *user) {
    StopAt *s = user;
    if (++s->calls == 2) {
        cr_assert_eq(nn_w2v_save_state(m, s->path), 0, "%s", tensor_last_error());
        s->stop = 1;
    }
    return 0;
}

Test(word2vec_modes, cbow_hs_two_threads_deterministic_and_resumable) {
    NnW2vCorpus *c = synonyms();
    size_t bytes, bytes2;
    float *a = train_all(c, CBOW_HS(.seed = 4), &bytes), *b = train_all(c, CBOW_HS(.seed = 4), &bytes2);
    cr_assert_eq(bytes, bytes2);
    cr_assert(bytes > 2 * (size_t)nn_w2v_corpus_vocab_size(c) * 12 * sizeof(float), "the tree's table is missing");
    cr_assert(memcmp(a, b, bytes) == 0, "two 2-thread CBOW + hs runs with seed 4 differ");

    char path[128];
    snprintf(path, sizeof path, "/tmp/lamina_w2v_modes_%d_XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    StopAt s = {.path = path};
    NnWord2Vec *m = nn_w2v_new(c, CBOW_HS(.seed = 4, .checkpoint_words = nn_w2v_corpus_raw_words(c) / 2,
                                          .on_checkpoint = save_then_stop, .stop = &s.stop, .user = &s));
    cr_assert_eq(nn_w2v_train(m, NULL), 1, "the stop flag did not end training early");
    nn_w2v_free(m);
    /* Other objectives refuse the file, naming it. */
    const NnW2vOpts *other[] = {CBOW_HS(.seed = 4, .cbow_sum = true), TWO_THREADS(.seed = 4, .hs = true),
                                TWO_THREADS(.seed = 4, .cbow = true)};
    for (int i = 0; i < 3; i++) {
        m = nn_w2v_new(c, other[i]);
        cr_assert_eq(nn_w2v_load_state(m, path), -1, "objective %d loaded a CBOW + hs state", i);
        cr_assert(strstr(tensor_last_error(), "objective"), "%s", tensor_last_error());
        nn_w2v_free(m);
    }
    m = nn_w2v_new(c, CBOW_HS(.seed = 4));
    cr_assert_eq(nn_w2v_load_state(m, path), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_w2v_train(m, NULL), 0);
    float *resumed = all_tables(m, &bytes2);
    cr_assert(memcmp(a, resumed, bytes) == 0, "the resumed CBOW + hs run differs from the uninterrupted one");
    nn_w2v_free(m);
    unlink(path);
    free(a);
    free(b);
    free(resumed);
    nn_w2v_corpus_free(c);
}

/* ---- options ---- */

Test(word2vec_modes, objectives_that_do_not_go_together_are_refused) {
    NnW2vCorpus *c = six_words();
    const struct {
        NnW2vOpts o;
        const char *says;
    } bad[] = {{{.no_negative = true}, "nothing to train"},
               {{.softmax = true, .cbow = true}, "cbow"},
               {{.softmax = true, .hs = true}, "hs"},
               {{.softmax = true, .negative = 5}, "negative"},
               {{.cbow_sum = true}, "set cbow"},
               {{.hs = true, .no_negative = true, .negative = 3}, "no_negative"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_null(nn_w2v_new(c, &bad[i].o), "case %zu was accepted", i);
        cr_assert(strstr(tensor_last_error(), bad[i].says), "case %zu: %s", i, tensor_last_error());
    }
    NnWord2Vec *m = nn_w2v(c, .hs = true, .no_negative = true, .dim = 4);
    cr_assert_not_null(m);
    cr_assert_null(nn_w2v_output_table(m), "hierarchical softmax alone has no output rows");
    cr_assert_eq(nn_w2v_hs_table(m)->shape[0], V - 1);
    nn_w2v_free(m);
    nn_w2v_corpus_free(c);
}
