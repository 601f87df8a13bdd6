/* Generation that searches: beam search over any model whose step is "state + tokens
 * -> log-probabilities of the next token + new state", and a stepper that gives an
 * Embedding -> RNN(s) -> Dense model exactly that step, carrying each RNN's state per
 * beam. All beams run as one batch (B = beams), so each generated token costs one step
 * call for all of them, O(1) per token per beam whatever the length so far.
 *
 *   NnRnnStepper *s = nn_rnn_stepper_new(m);          // a built Sequential
 *   NnBeamResult *r = nn_beam_search(nn_rnn_stepper_model(s), prime, n_prime,
 *                                    .width = 5, .max_tokens = 100);
 *   ... r->hyps[0].tokens, r->hyps[0].length ...
 *   nn_beam_result_free(r);
 *   nn_rnn_stepper_free(s); */
#ifndef NN_BEAM_H
#define NN_BEAM_H

#include <lamina/nn/model/model.h>

#include <stdbool.h>
#include <stdint.h>

/* A model as beam search sees it: vocab-way next-token distributions and per-beam
 * state that the callbacks keep (in user). Both return 0, or -1 with
 * tensor_set_error() saying why (the search then fails with that reason). */
typedef struct NnBeamModel {
    /* Feeds tokens (n, t) row-major, t tokens to each of n beams, advancing beam b's
     * state by row b, and writes log_probs (n, vocab): row b holds the natural-log
     * probabilities of the token after row b's last one. -INFINITY (or NaN) rules a
     * token out. The first call has n = 1 and the whole prime (t = n_prime) on a fresh
     * state; every later call has t = 1. */
    int (*step)(void *user, const int32_t *tokens, int64_t n, int64_t t, float *log_probs);
    /* Makes the state of beam j a copy of what beam parent[j] held, for j < n (parents
     * index the previous call's rows; they may repeat, and n may differ from that
     * call's). Called after each step the search goes on from. */
    int (*reorder)(void *user, const int64_t *parent, int64_t n);
    /* Optional: forgets all state, so the first step starts fresh; called once at the
     * start of each search. NULL when the state is fresh already. */
    void (*reset)(void *user);
    void *user;
    int64_t vocab;
} NnBeamModel;

typedef struct NnBeamOpts {
    int64_t width;      /* k, beams kept per step (default 1: greedy) */
    int64_t max_tokens; /* tokens to generate at most, required >= 1 */
    /* Length normalisation (Wu et al. 2016, GNMT): a finished hypothesis Y scores
     * log P(Y) / ((5 + |Y|) / 6)^alpha, |Y| counting its generated tokens (an end token
     * included, the prime not). 0 (default): plain log P(Y); alpha = 1 is close to the
     * mean log-probability per token; larger alpha favours longer hypotheses. It only
     * matters when hypotheses can end at different lengths (end_tokens). */
    float length_penalty;
    /* n-gram blocking (Hugging Face's no_repeat_ngram_size): with n > 0, a beam never
     * takes a token that would make an n-gram (its last n-1 tokens + that token)
     * already present in its sequence, the prime included. 0 (default): off. */
    int64_t no_repeat_ngram;
    /* Tokens that end a hypothesis (e.g. an end-of-sentence id): a beam that takes one
     * is finished and leaves the live beams. NULL/0: every hypothesis runs to
     * max_tokens. */
    const int32_t *end_tokens;
    int64_t n_end_tokens;
    /* Tokens never generated (padding, <unk>). */
    const int32_t *banned;
    int64_t n_banned;
} NnBeamOpts;

/* One hypothesis: the generated tokens (prime excluded), their total log-probability
 * and the score it was ranked by (log_prob, or length-normalised). */
typedef struct NnBeamHyp {
    int32_t *tokens;
    int64_t length;
    double log_prob, score;
} NnBeamHyp;

typedef struct NnBeamResult {
    NnBeamHyp *hyps; /* best first, at most width of them */
    int64_t n;
} NnBeamResult;

/* Beam search from prime (n_prime >= 1 tokens, fed on the first step). Each step
 * extends every live beam by every allowed token; the width best extensions by total
 * log-probability that do not end become the live beams (ties: the earlier beam, then
 * the lower token), those that end join the finished hypotheses, of which the width
 * best by score are kept. The search stops after max_tokens steps (the live beams then
 * finish as they are), or earlier once width hypotheses are finished and no live beam
 * can still score above the worst of them (log-probabilities <= 0 assumed). A live beam
 * with no allowed token finishes where it is. Width 1 without end tokens or blocking is
 * greedy decoding. Extra cost per step besides the model: O(width * vocab * log width),
 * plus, with blocking, a scan of each beam's tokens.
 * Returns the result (free with nn_beam_result_free), or NULL with tensor_last_error()
 * for width < 1, max_tokens < 1, n_prime < 1, a token outside [0, vocab), n-gram size
 * < 0, or a failing callback. Stops with a message if model, its callbacks or prime are
 * NULL, or vocab < 1. */
NnBeamResult *nn_beam_search_opts(const NnBeamModel *model, const int32_t *prime, int64_t n_prime,
                                  const NnBeamOpts *opts);
#define nn_beam_search(model, prime, n_prime, ...) \
    nn_beam_search_opts((model), (prime), (n_prime), &(NnBeamOpts){__VA_ARGS__})

/* Frees a result and its hypotheses. Accepts NULL. */
void nn_beam_result_free(NnBeamResult *r);

/* ---- a step for Embedding -> RNN(s) -> Dense models ---- */

/* Steps a built model's layers in order, one or more tokens at a time, for a batch of
 * rows (beams, or 1 for sampling), carrying each RNN layer's final state per row from
 * call to call, so a token costs one step whatever came before. Layers may be
 * Embedding, LSTM, GRU, SimpleRNN (not stateful, not go_backwards), Dense,
 * TimeDistributed and Dropout (identity here); the last must end in softmax or be
 * linear (logits). Runs on a tape of its own without gradients, so the model's tape is
 * untouched. */
typedef struct NnRnnStepper NnRnnStepper;

/* The stepper, or NULL with tensor_last_error() naming the layer that cannot be stepped
 * (Bidirectional, a stateful or go_backwards RNN, a layer of another kind, an output
 * that is neither softmax nor linear) or a model that is not built or has no RNN.
 * The model must outlive it; free with nn_rnn_stepper_free. */
NnRnnStepper *nn_rnn_stepper_new(Model *m);
void nn_rnn_stepper_free(NnRnnStepper *s);

/* Forgets the carried state: the next step starts from zeros with any number of rows. */
void nn_rnn_stepper_reset(NnRnnStepper *s);

/* The output size (the last layer's units). */
int64_t nn_rnn_stepper_vocab(const NnRnnStepper *s);

/* NnBeamModel.step: feeds tokens (n, t) and writes log_probs (n, vocab) after each row's
 * last token. n must equal the rows carried (unless reset or fresh). Returns 0, or -1
 * with tensor_last_error() for a row count that does not match or a token outside the
 * Embedding's vocabulary. */
int nn_rnn_stepper_step(void *stepper, const int32_t *tokens, int64_t n, int64_t t, float *log_probs);

/* NnBeamModel.reorder: row j's state becomes a copy of row parent[j]'s. Returns 0, or
 * -1 with tensor_last_error() for a parent outside the rows carried. */
int nn_rnn_stepper_reorder(void *stepper, const int64_t *parent, int64_t n);

/* The NnBeamModel over this stepper (its reset is nn_rnn_stepper_reset, so every
 * search starts from zeros). */
NnBeamModel nn_rnn_stepper_model(NnRnnStepper *s);

#endif
