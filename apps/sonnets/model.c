/* sonnets' corpus and model: the text read and encoded as symbol ids (27 characters,
 * or words with <unk>), the model sized before anything is allocated, and sampling one
 * symbol at a time with the LSTM state carried between steps, or a beam search that
 * carries one state per beam. */
#include "sonnets/sonnets_internal.h"

#include "common/data.h"
#include "common/memory.h"
#include "common/status.h"

#include <stdlib.h>
#include <string.h>

const char *const kind_names[MODEL_KIND_COUNT] = {"char-many-to-many", "char-many-to-one", "word"};

/* ---- the corpus as symbol ids ---- */

int corpus_load(const Options *o, Corpus *c) {
    int64_t len;
    char *text = app_read_corpus(APP, app_data_dir(o->common.data_dir), o->common.data_file, &len);
    if (!text) return APP_EXIT_USAGE;
    if (o->kind == WORD) {
        c->words = nn_word_text_tokenizer(text, len, 5);
        if (c->words) c->ids = nn_word_text_encode(c->words, text, len, &c->n, NULL);
        c->vocab = c->words ? nn_tokenizer_vocab_size(c->words) + 1 : 0;
    } else {
        c->ids = nn_char27_encode(text, len, &c->n);
        c->vocab = NN_CHAR27_SIZE;
    }
    free(text);
    if (!c->ids) {
        fprintf(stderr, APP ": cannot use %s as a corpus: %s\n", o->common.data_file, tensor_last_error());
        return APP_EXIT_USAGE;
    }
    return 0;
}

void corpus_free(Corpus *c) {
    free(c->ids);
    nn_tokenizer_free(c->words);
}

/* Writes one symbol of the corpus's alphabet. */
static void put_symbol(const Corpus *c, int32_t id, FILE *out) {
    if (!c->words) {
        fputc(nn_char27_decode(id), out);
        return;
    }
    const char *w = nn_tokenizer_word(c->words, id);
    fprintf(out, "%s ", w ? w : "?");
}

/* ---- the model ---- */

/* The model's parameter count, known before anything is allocated. */
static double param_count(const Options *o, int64_t vocab) {
    double v = (double)vocab, e = (double)o->embed, u = (double)o->units;
    return v * e + 4 * u * (e + u + 1) + u * v + v;
}

/* Four floats per parameter (value, gradient, Adam's two moments), the training
 * windows, and a step's activations (about 16 floats per LSTM unit and 4 per output
 * class, per symbol). */
int check_memory(const Options *o, int64_t vocab, int64_t n_symbols) {
    double params = param_count(o, vocab), window = (double)o->window, batch = (double)o->common.batch_size;
    double n_windows = (double)n_symbols * 0.9 - window;
    double bytes = 16 * params + (n_windows > 0 ? n_windows : 0) * (window + 1) * 2 * sizeof(int32_t) +
                   batch * window * (16 * (double)o->units + 4 * (double)vocab + 2 * (double)o->embed) *
                       sizeof(float);
    char what[192], detail[96];
    snprintf(what, sizeof what, "training --units %lld --embed %lld --seq-len %lld --batch-size %lld",
             (long long)o->units, (long long)o->embed, (long long)o->window, (long long)o->common.batch_size);
    snprintf(detail, sizeof detail, "%.0f parameters, windows and one step's activations", params);
    return app_fits_in_memory(APP, what, detail, bytes) ? 0 : APP_EXIT_USAGE;
}

Model *make_model(const Options *o, int64_t vocab) {
    Model *m = nn_sequential();
    nn_model_seed(m, o->common.seed);
    nn_add(m, nn_embedding(.vocab = vocab, .dim = o->embed));
    if (o->kind == CHAR_MANY_TO_ONE) {
        nn_add(m, nn_lstm(.units = o->units));
        nn_add(m, nn_dense(.units = vocab, .activation = NN_SOFTMAX));
    } else {
        nn_add(m, nn_lstm(.units = o->units, .return_sequences = true));
        nn_add(m, nn_time_distributed(nn_dense(.units = vocab, .activation = NN_SOFTMAX)));
    }
    /* The time axis is left unknown (None), so generation can step one symbol at a time.
     * The initial values wait for training: --summary and --load never need them. */
    if (nn_build_opts(m, NN_SHAPE(TENSOR_I32, -1), &(NnBuildOpts){.defer_init = true}) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY,
                   .optimizer = nn_adam(.lr = (float)o->common.lr, .embedding_rows = o->adam_rows)) != 0) {
        fprintf(stderr, APP ": cannot build the model: %s\n", tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* ---- sampling ---- */

/* Generates n symbols after the prime, one at a time, carrying the LSTM state, so
 * each symbol costs one step whatever the length so far. */
static void write_sample(Model *m, Sampler *s, const int32_t *prime, int64_t n_prime, FILE *out) {
    const Corpus *c = s->c;
    Tape *tape = nn_model_tape(m);
    bool previous = ag_set_grad_enabled(tape, false);
    Layer *embedding = nn_model_layer(m, 0), *lstm = nn_model_layer(m, 1), *head = nn_model_layer(m, 2);
    NnCallCtx ctx = {.training = false};
    float *p = malloc((size_t)c->vocab * sizeof *p);
    Tensor *h = NULL, *cs = NULL; /* carried state, on the heap between steps */
    for (int64_t i = 0; i < n_prime; i++) put_symbol(c, prime[i], out);
    fputs(c->words ? "| " : "|", out);
    Tensor *input = tensor_i32_from_array(NULL, 2, (int64_t[]){1, n_prime}, prime);
    for (int k = 0; k < s->o->sample; k++) {
        ag_tape_reset(tape);
        NnRnnState initial = {.h = h, .c = cs}, final;
        Tensor *embedded = nn_layer_call(embedding, tape, input, &ctx);
        Tensor *seq = nn_rnn_call(lstm, tape, embedded, &initial, &final, &ctx);
        Tensor *probs = nn_layer_call(head, tape, seq, &ctx);
        memcpy(p, tensor_f32(probs) + probs->size - c->vocab, (size_t)c->vocab * sizeof *p);
        if (c->words) p[0] = 0; /* id 0 is padding, never a word */
        int32_t next = (int32_t)nn_sample_with(p, c->vocab, &s->rng, .temperature = (float)s->o->temperature,
                                               .top_p = (float)s->o->top_p);
        put_symbol(c, next, out);
        tensor_free(h);
        tensor_free(cs);
        h = tensor_copy(NULL, final.h);
        cs = tensor_copy(NULL, final.c);
        tensor_free(input);
        input = tensor_i32_from_array(NULL, 2, (int64_t[]){1, 1}, &next);
    }
    fputc('\n', out);
    free(p);
    tensor_free(input);
    tensor_free(h);
    tensor_free(cs);
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, previous);
}

/* Writes the prime and the best continuation a beam search of width --beam finds: all
 * beams step as one batch, each carrying its own LSTM state (nn_rnn_stepper). */
static void write_beam(Model *m, Sampler *s, const int32_t *prime, int64_t n_prime, FILE *out) {
    const Corpus *c = s->c;
    for (int64_t i = 0; i < n_prime; i++) put_symbol(c, prime[i], out);
    fputs(c->words ? "| " : "|", out);
    NnRnnStepper *stepper = nn_rnn_stepper_new(m);
    NnBeamResult *r = NULL;
    if (stepper) {
        NnBeamModel model = nn_rnn_stepper_model(stepper);
        const int32_t padding = 0; /* the word model's id 0 is padding, never a word */
        r = nn_beam_search(&model, prime, n_prime, .width = s->o->beam, .max_tokens = s->o->sample,
                           .no_repeat_ngram = s->o->no_repeat_ngram, .banned = &padding, .n_banned = c->words ? 1 : 0);
    }
    if (r && r->n > 0)
        for (int64_t i = 0; i < r->hyps[0].length; i++) put_symbol(c, r->hyps[0].tokens[i], out);
    else
        fprintf(stderr, APP ": beam search failed: %s\n", tensor_last_error());
    fputc('\n', out);
    nn_beam_result_free(r);
    nn_rnn_stepper_free(stepper);
}

void sample_now(Model *m, Sampler *s, const char *heading) {
    if (s->o->sample <= 0) return;
    printf("%s: ", heading);
    const int32_t *prime = s->prime;
    int64_t n_prime = s->n_prime;
    if (!prime) {
        n_prime = s->o->window < s->c->n ? s->o->window : s->c->n;
        prime = s->c->ids + tensor_rng_below(&s->rng, (uint32_t)(s->c->n - n_prime + 1));
    }
    if (s->o->beam)
        write_beam(m, s, prime, n_prime, stdout);
    else
        write_sample(m, s, prime, n_prime, stdout);
    fflush(stdout);
}

int encode_prime(const Options *o, Sampler *s) {
    if (!o->prime) return 0;
    const Corpus *c = s->c;
    int64_t len = (int64_t)strlen(o->prime);
    char *unknown = NULL;
    s->prime = c->words ? nn_word_text_encode(c->words, o->prime, len, &s->n_prime, &unknown)
                        : nn_char27_encode(o->prime, len, &s->n_prime);
    if (unknown)
        fprintf(stderr, APP ": --prime words not in the vocabulary (fed as %s): %s\n", NN_WORD_UNKNOWN, unknown);
    free(unknown);
    if (!s->prime || s->n_prime == 0) {
        fprintf(stderr, APP ": --prime '%s' has no %s to start from\n", o->prime,
                c->words ? "words" : "characters");
        return APP_EXIT_USAGE;
    }
    return 0;
}
