/* Beam search: width 1 is greedy decoding; with a width that keeps every prefix, the
 * result is an exhaustive search over all short continuations (with and without length
 * normalisation, end tokens and n-gram blocking), on a small random
 * Embedding -> LSTM -> Dense model whose sequences are scored from scratch by
 * nn_predict; the length penalty and n-gram blocking follow their documented formulas
 * on a hand-made model; one step call per token for all beams; bad arguments fail with
 * a reason. */
#include "helpers.h"

#include "nn/model/beam.h"
#include "nn/nn.h"

#include <math.h>
#include <signal.h>

#define V 5
#define L 4      /* tokens generated */
#define NP 3     /* prime length */
#define ALL 625  /* V^L continuations */

static const int32_t PRIME[NP] = {1, 3, 0};

/* Embedding(5, 4) -> LSTM(6, sequences) -> TimeDistributed(Dense(5, softmax)), its
 * weights scaled so the distributions are far from uniform. */
static Model *tiny_model(uint64_t seed) {
    Model *m = nn_sequential();
    nn_model_seed(m, seed);
    nn_add(m, nn_embedding(.vocab = V, .dim = 4));
    nn_add(m, nn_lstm(.units = 6, .return_sequences = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = V, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, -1)), 0, "%s", tensor_last_error());
    int n;
    Tensor *const *p = nn_model_params(m, &n);
    for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < p[i]->size; j++) tensor_f32(p[i])[j] *= 3.0f;
    return m;
}

/* Token t of continuation s (base-V digits, lowest first). */
static int32_t token(int s, int t) {
    for (int i = 0; i < t; i++) s /= V;
    return (int32_t)(s % V);
}

/* lp[s][t]: log P(token t of continuation s | PRIME and its tokens before t), from
 * scratch: every full sequence through nn_predict, no carried state. */
static void score_all(Model *m, double lp[ALL][L]) {
    static int32_t ids[ALL * (NP + L)];
    for (int s = 0; s < ALL; s++) {
        memcpy(ids + s * (NP + L), PRIME, sizeof PRIME);
        for (int t = 0; t < L; t++) ids[s * (NP + L) + NP + t] = token(s, t);
    }
    Tensor *x = tensor_i32_from_array(NULL, 2, (int64_t[]){ALL, NP + L}, ids);
    Tensor *p = nn_predict(m, x, 128);
    cr_assert_not_null(p, "%s", tensor_last_error());
    for (int s = 0; s < ALL; s++)
        for (int t = 0; t < L; t++) /* position NP - 1 + t predicts token NP + t */
            lp[s][t] = log(tensor_f32(p)[((int64_t)s * (NP + L) + NP - 1 + t) * V + token(s, t)]);
    tensor_free(x);
    tensor_free(p);
}

/* Whether token t of continuation s makes an n-gram already present in PRIME and its
 * tokens before t. */
static bool repeats(int s, int t, int n) {
    int32_t seq[NP + L];
    memcpy(seq, PRIME, sizeof PRIME);
    for (int i = 0; i <= t; i++) seq[NP + i] = token(s, i);
    const int len = NP + t + 1; /* the new n-gram is seq[len - n, len) */
    for (int i = 0; i + n <= len - 1; i++)
        if (memcmp(seq + i, seq + len - n, (size_t)n * sizeof *seq) == 0) return true;
    return false;
}

/* A hypothesis of the exhaustive search: continuation s cut to len tokens. */
typedef struct Ref {
    int s, len;
    double logp, score;
} Ref;

static int by_score(const void *a, const void *b) {
    const Ref *x = a, *y = b;
    return x->score > y->score ? -1 : x->score < y->score ? 1 : 0;
}

/* Every distinct hypothesis, best first: a continuation cut after its first end token
 * (end < 0: none), left out if a token repeats an n-gram (ngram 0: never), scored
 * log P / ((5 + len) / 6)^alpha as beam.h documents. Returns how many. */
static int exhaustive(double lp[ALL][L], int32_t end, double alpha, int ngram, Ref *out) {
    int n = 0;
    for (int s = 0; s < ALL; s++) {
        int len = L;
        bool ok = true, dup = false;
        for (int t = 0; t < L && ok; t++) {
            ok = !(ngram && repeats(s, t, ngram));
            if (token(s, t) == end) {
                len = t + 1;
                break;
            }
        }
        for (int t = len; t < L; t++) dup |= token(s, t) != 0; /* one copy of each cut */
        if (!ok || dup) continue;
        double logp = 0;
        for (int t = 0; t < len; t++) logp += lp[s][t];
        out[n++] = (Ref){.s = s, .len = len, .logp = logp, .score = logp / pow((5.0 + len) / 6.0, alpha)};
    }
    qsort(out, (size_t)n, sizeof *out, by_score);
    return n;
}

/* The beam's best `top` hypotheses are the exhaustive search's, token for token. */
static void assert_same_top(const NnBeamResult *r, const Ref *ref, int n_ref, int top) {
    cr_assert_geq(r->n, top);
    cr_assert_geq(n_ref, top);
    for (int i = 0; i < top; i++) {
        const NnBeamHyp *h = &r->hyps[i];
        cr_assert_eq(h->length, ref[i].len, "hypothesis %d: length %lld, exhaustive %d", i, (long long)h->length,
                     ref[i].len);
        for (int t = 0; t < ref[i].len; t++)
            cr_assert_eq(h->tokens[t], token(ref[i].s, t), "hypothesis %d token %d", i, t);
        cr_assert_float_eq(h->log_prob, ref[i].logp, 1e-4, "hypothesis %d: log P %.6f, exhaustive %.6f", i,
                           h->log_prob, ref[i].logp);
        cr_assert_float_eq(h->score, ref[i].score, 1e-4);
    }
}

static double LP[ALL][L];
static Ref REF[ALL];

/* Width V^(L-1) keeps every prefix, so beam search is exact: all three variants. */
static void check_exhaustive(int32_t end, float alpha, int ngram) {
    Model *m = tiny_model(7);
    score_all(m, LP);
    int n_ref = exhaustive(LP, end, alpha, ngram, REF);
    NnRnnStepper *st = nn_rnn_stepper_new(m);
    cr_assert_not_null(st, "%s", tensor_last_error());
    NnBeamModel bm = nn_rnn_stepper_model(st);
    NnBeamResult *r = nn_beam_search(&bm, PRIME, NP, .width = ALL / V, .max_tokens = L, .length_penalty = alpha,
                                     .no_repeat_ngram = ngram, .end_tokens = &end, .n_end_tokens = end >= 0);
    cr_assert_not_null(r, "%s", tensor_last_error());
    assert_same_top(r, REF, n_ref, 20);
    nn_beam_result_free(r);
    nn_rnn_stepper_free(st);
    nn_model_free(m);
}

Test(beam, equals_exhaustive_search) { check_exhaustive(-1, 0.0f, 0); }
Test(beam, equals_exhaustive_search_with_end_token) { check_exhaustive(2, 0.0f, 0); }
Test(beam, equals_exhaustive_search_length_normalised) {
    check_exhaustive(2, 1.0f, 0);
    check_exhaustive(2, 2.5f, 0);
    check_exhaustive(2, -0.5f, 0);
}
Test(beam, equals_exhaustive_search_with_ngram_blocking) {
    check_exhaustive(-1, 0.0f, 2);
    check_exhaustive(-1, 0.0f, 3);
    check_exhaustive(4, 1.0f, 2);
}

/* Greedy decoding from scratch: the argmax of nn_predict on the whole sequence so far. */
static void greedy(Model *m, const int32_t *prime, int n_prime, int n, int32_t *out, double *logp) {
    int32_t seq[64];
    memcpy(seq, prime, (size_t)n_prime * sizeof *seq);
    *logp = 0;
    for (int i = 0; i < n; i++) {
        int len = n_prime + i;
        Tensor *x = tensor_i32_from_array(NULL, 2, (int64_t[]){1, len}, seq);
        Tensor *p = nn_predict(m, x, 1);
        const int64_t vocab = p->shape[p->ndim - 1];
        const float *last = tensor_f32(p) + p->size - vocab;
        out[i] = seq[len] = (int32_t)nn_sample_argmax(last, vocab);
        *logp += log(last[out[i]]);
        tensor_free(x);
        tensor_free(p);
    }
}

static void check_greedy(Model *m, int n) {
    const int32_t prime[] = {2, 0, 4, 1};
    int32_t want[32];
    double logp;
    greedy(m, prime, 4, n, want, &logp);
    NnRnnStepper *st = nn_rnn_stepper_new(m);
    cr_assert_not_null(st, "%s", tensor_last_error());
    NnBeamModel bm = nn_rnn_stepper_model(st);
    NnBeamResult *r = nn_beam_search(&bm, prime, 4, .width = 1, .max_tokens = n);
    cr_assert_not_null(r, "%s", tensor_last_error());
    cr_assert_eq(r->n, 1);
    cr_assert_eq(r->hyps[0].length, n);
    for (int i = 0; i < n; i++) cr_assert_eq(r->hyps[0].tokens[i], want[i], "token %d", i);
    cr_assert_float_eq(r->hyps[0].log_prob, logp, 1e-4);
    /* Width 0 is the default, 1. */
    NnBeamResult *d = nn_beam_search(&bm, prime, 4, .max_tokens = n);
    for (int i = 0; i < n; i++) cr_assert_eq(d->hyps[0].tokens[i], want[i]);
    nn_beam_result_free(d);
    nn_beam_result_free(r);
    nn_rnn_stepper_free(st);
}

Test(beam, width_one_is_greedy) {
    Model *m = tiny_model(3);
    check_greedy(m, 20);
    nn_model_free(m);
    /* Stacked RNNs of every kind, the last returning only its final state. */
    m = nn_sequential();
    nn_model_seed(m, 11);
    nn_add(m, nn_embedding(.vocab = 9, .dim = 5));
    nn_add(m, nn_gru(.units = 7, .return_sequences = true));
    nn_add(m, nn_simple_rnn(.units = 6, .return_sequences = true));
    nn_add(m, nn_dropout(.rate = 0.3f));
    nn_add(m, nn_lstm(.units = 8));
    nn_add(m, nn_dense(.units = 9)); /* linear: logits */
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, -1)), 0, "%s", tensor_last_error());
    int n;
    Tensor *const *p = nn_model_params(m, &n);
    for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < p[i]->size; j++) tensor_f32(p[i])[j] *= 4.0f;
    /* nn_predict's linear outputs are logits: their argmax is the softmax's. */
    int32_t want[12];
    double unused;
    greedy(m, (const int32_t[]){2, 0, 4, 1}, 4, 12, want, &unused);
    NnRnnStepper *st = nn_rnn_stepper_new(m);
    NnBeamModel bm = nn_rnn_stepper_model(st);
    NnBeamResult *r = nn_beam_search(&bm, ((const int32_t[]){2, 0, 4, 1}), 4, .width = 1, .max_tokens = 12);
    cr_assert_not_null(r, "%s", tensor_last_error());
    for (int i = 0; i < 12; i++) cr_assert_eq(r->hyps[0].tokens[i], want[i], "token %d", i);
    nn_beam_result_free(r);
    nn_rnn_stepper_free(st);
    nn_model_free(m);
}

/* ---- a hand-made model: the next token's distribution depends on the last token only ---- */

typedef struct Markov {
    int64_t vocab, rows, steps, reorders, max_rows;
    const double *table; /* (vocab, vocab) probabilities */
    int32_t last[64];
    bool fail;
} Markov;

static int markov_step(void *user, const int32_t *tokens, int64_t n, int64_t t, float *logp) {
    Markov *mk = user;
    if (mk->fail) return tensor_set_error("the model ran out of patience");
    cr_assert(mk->steps == 0 ? n == 1 : t == 1, "first call: one row with the prime; later: one token per row");
    cr_assert(mk->steps == 0 || n == mk->rows, "reorder came first");
    mk->steps++;
    mk->max_rows = n > mk->max_rows ? n : mk->max_rows;
    for (int64_t b = 0; b < n; b++) {
        mk->last[b] = tokens[b * t + t - 1];
        for (int64_t v = 0; v < mk->vocab; v++)
            logp[b * mk->vocab + v] = (float)log(mk->table[mk->last[b] * mk->vocab + v]);
    }
    mk->rows = n;
    return 0;
}

static int markov_reorder(void *user, const int64_t *parent, int64_t n) {
    Markov *mk = user;
    int32_t old[64];
    memcpy(old, mk->last, sizeof old);
    for (int64_t j = 0; j < n; j++) mk->last[j] = old[parent[j]];
    mk->rows = n;
    mk->reorders++;
    return 0;
}

static void markov_reset(void *user) { ((Markov *)user)->steps = 0; }

static NnBeamModel markov(Markov *mk) {
    return (NnBeamModel){.step = markov_step, .reorder = markov_reorder, .reset = markov_reset, .user = mk,
                         .vocab = mk->vocab};
}

/* Each token repeats itself with 0.6, the others share the rest equally. */
static const double SELF[16] = {0.6, 0.4 / 3, 0.4 / 3, 0.4 / 3, 0.4 / 3, 0.6, 0.4 / 3, 0.4 / 3,
                                0.4 / 3, 0.4 / 3, 0.6, 0.4 / 3, 0.4 / 3, 0.4 / 3, 0.4 / 3, 0.6};

static void assert_tokens(const NnBeamHyp *h, const int32_t *want, int64_t n) {
    cr_assert_eq(h->length, n, "length %lld, expected %lld", (long long)h->length, (long long)n);
    for (int64_t i = 0; i < n; i++) cr_assert_eq(h->tokens[i], want[i], "token %lld", (long long)i);
}

Test(beam, ngram_blocking_semantics) {
    Markov mk = {.vocab = 4, .table = SELF};
    NnBeamModel bm = markov(&mk);
    const int32_t prime[] = {0};
    NnBeamResult *r = nn_beam_search(&bm, prime, 1, .width = 1, .max_tokens = 5);
    assert_tokens(&r->hyps[0], (const int32_t[]){0, 0, 0, 0, 0}, 5);
    nn_beam_result_free(r);
    /* Bigrams: (0,0) is taken once; then 1 (lowest of the equal rest), (1,1), then 0
     * ((1,0) is new), and after 0 both (0,0) and (0,1) exist, so 2. */
    r = nn_beam_search(&bm, prime, 1, .width = 1, .max_tokens = 5, .no_repeat_ngram = 2);
    assert_tokens(&r->hyps[0], (const int32_t[]){0, 1, 1, 0, 2}, 5);
    nn_beam_result_free(r);
    /* 4-grams: shorter sequences block nothing; 0 0 0 0 may appear once. */
    r = nn_beam_search(&bm, prime, 1, .width = 1, .max_tokens = 6, .no_repeat_ngram = 4);
    assert_tokens(&r->hyps[0], (const int32_t[]){0, 0, 0, 1, 1, 1}, 6);
    nn_beam_result_free(r);
    /* Unigrams: no token twice, the prime included; with nothing left the beam ends. */
    r = nn_beam_search(&bm, prime, 1, .width = 2, .max_tokens = 6, .no_repeat_ngram = 1);
    assert_tokens(&r->hyps[0], (const int32_t[]){1, 2, 3}, 3);
    nn_beam_result_free(r);
    /* banned: never generated. */
    r = nn_beam_search(&bm, prime, 1, .width = 3, .max_tokens = 4, .banned = (const int32_t[]){0, 2}, .n_banned = 2);
    assert_tokens(&r->hyps[0], (const int32_t[]){1, 1, 1, 1}, 4);
    for (int64_t i = 0; i < r->n; i++)
        for (int64_t t = 0; t < r->hyps[i].length; t++) cr_assert(r->hyps[i].tokens[t] % 2 == 1);
    nn_beam_result_free(r);
}

/* After a: end 0.5, a 0.3, b 0.2; after b: b 0.9, end 0.1 (rows a, end, b). */
static const double ENDS[9] = {0.3, 0.5, 0.2, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0.0, 0.1, 0.9};

Test(beam, length_normalisation_semantics) {
    Markov mk = {.vocab = 3, .table = ENDS};
    NnBeamModel bm = markov(&mk);
    const int32_t prime[] = {0}, end = 1;
    /* Without normalisation the shortest likely hypothesis wins: "end" at once. */
    NnBeamResult *r = nn_beam_search(&bm, prime, 1, .width = 3, .max_tokens = 6, .end_tokens = &end,
                                     .n_end_tokens = 1);
    assert_tokens(&r->hyps[0], &end, 1);
    cr_assert_float_eq(r->hyps[0].log_prob, log(0.5), 1e-6);
    cr_assert_float_eq(r->hyps[0].score, log(0.5), 1e-6);
    nn_beam_result_free(r);
    /* alpha = 2: log P / ((5 + |Y|) / 6)^2 favours "b b b b b" (+ the cut at 6 tokens). */
    r = nn_beam_search(&bm, prime, 1, .width = 3, .max_tokens = 6, .end_tokens = &end, .n_end_tokens = 1,
                       .length_penalty = 2.0f);
    assert_tokens(&r->hyps[0], (const int32_t[]){2, 2, 2, 2, 2, 2}, 6);
    double want = log(0.2) + 5 * log(0.9);
    cr_assert_float_eq(r->hyps[0].log_prob, want, 1e-5);
    cr_assert_float_eq(r->hyps[0].score, want / pow(11.0 / 6.0, 2.0), 1e-5);
    for (int64_t i = 0; i < r->n; i++) /* every score by the documented formula */
        cr_assert_float_eq(r->hyps[i].score, r->hyps[i].log_prob / pow((5.0 + (double)r->hyps[i].length) / 6.0, 2.0),
                           1e-6);
    for (int64_t i = 1; i < r->n; i++) cr_assert_geq(r->hyps[i - 1].score, r->hyps[i].score, "best first");
    nn_beam_result_free(r);
}

Test(beam, one_step_call_per_token_for_all_beams) {
    Markov mk = {.vocab = 4, .table = SELF};
    NnBeamModel bm = markov(&mk);
    NnBeamResult *r = nn_beam_search(&bm, ((const int32_t[]){3, 1, 2}), 3, .width = 3, .max_tokens = 10);
    cr_assert_eq(mk.steps, 10, "%lld step calls for 10 tokens", (long long)mk.steps);
    cr_assert_eq(mk.reorders, 9);
    cr_assert_eq(mk.max_rows, 3, "the beams are the batch");
    cr_assert_eq(r->n, 3);
    assert_tokens(&r->hyps[0], (const int32_t[]){2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 10);
    nn_beam_result_free(r);
}

Test(beam, bad_arguments_fail_with_a_reason) {
    Markov mk = {.vocab = 4, .table = SELF};
    NnBeamModel bm = markov(&mk);
    const int32_t prime[] = {0}, big = 4;
    cr_assert_null(nn_beam_search(&bm, prime, 1, .width = -1, .max_tokens = 3));
    cr_assert(strstr(tensor_last_error(), "width"), "%s", tensor_last_error());
    cr_assert_null(nn_beam_search(&bm, prime, 1, .width = 2));
    cr_assert(strstr(tensor_last_error(), "max_tokens"), "%s", tensor_last_error());
    cr_assert_null(nn_beam_search(&bm, prime, 0, .max_tokens = 3));
    cr_assert(strstr(tensor_last_error(), "prime"), "%s", tensor_last_error());
    cr_assert_null(nn_beam_search(&bm, &big, 1, .max_tokens = 3));
    cr_assert(strstr(tensor_last_error(), "prime[0] = 4 is outside the vocabulary"), "%s", tensor_last_error());
    cr_assert_null(nn_beam_search(&bm, prime, 1, .max_tokens = 3, .end_tokens = &big, .n_end_tokens = 1));
    cr_assert(strstr(tensor_last_error(), "end_tokens[0]"), "%s", tensor_last_error());
    cr_assert_null(nn_beam_search(&bm, prime, 1, .max_tokens = 3, .no_repeat_ngram = -2));
    cr_assert(strstr(tensor_last_error(), "no_repeat_ngram"), "%s", tensor_last_error());
    mk.fail = true;
    cr_assert_null(nn_beam_search(&bm, prime, 1, .max_tokens = 3));
    cr_assert(strstr(tensor_last_error(), "step callback failed: the model ran out of patience"), "%s",
              tensor_last_error());
}

Test(beam, null_model_aborts, .signal = SIGABRT) {
    nn_beam_search(NULL, ((const int32_t[]){0}), 1, .max_tokens = 3);
}
