/* Stepping an Embedding -> RNN(s) -> Dense model a few tokens at a time for a batch of
 * rows, each RNN's final state kept on the heap per row and handed back as the next
 * call's initial state; reordering rows is what beam search needs between steps. */
#include "nn/model/beam.h"

#include "nn/layers/rnn_internal.h"
#include "nn/model/model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct NnRnnStepper {
    Model *m;
    Tape *tape; /* our own, gradients off: the model's tape stays as the user left it */
    int n_layers;
    Layer **layers;
    Tensor **h, **c; /* per layer: the carried state of an RNN, (rows, units), or NULL */
    int64_t rows;    /* rows carried; 0 when fresh */
    int64_t in_vocab, vocab;
};

/* Whether a layer acts on each time step on its own (so stepping it is exact). */
static bool time_local(const Layer *l) {
    const char *type = l->vt->type;
    if (strcmp(type, "Dense") == 0 || strcmp(type, "Dropout") == 0) return true;
    return strcmp(type, "TimeDistributed") == 0 && l->n_children == 1 && time_local(l->children[0]);
}

/* Refuses a layer that cannot be stepped one token at a time: 0 or -1 with the reason. */
static int check_layer(const Layer *l, int i) {
    const char *why = NULL;
    if (i == 0) {
        if (strcmp(l->vt->type, "Embedding") != 0) why = "the first layer must be an Embedding of the token ids";
        else if (l->in_shape.ndim != 1 || l->in_shape.dim[0] != -1)
            why = "the model is built for a fixed length: build it with NN_SHAPE(TENSOR_I32, -1)";
    } else if (nn_layer_is_rnn(l)) {
        const RnnLayer *r = (const RnnLayer *)l;
        if (r->opts.stateful) why = "a stateful RNN carries its own state (build one without stateful to step it)";
        else if (r->opts.go_backwards) why = "a go_backwards RNN reads the sequence from its end";
    } else if (!time_local(l)) {
        why = "only Embedding, LSTM, GRU, SimpleRNN, Dense, TimeDistributed(Dense) and Dropout can be "
              "stepped; write NnBeamModel callbacks for other models";
    }
    if (why) return tensor_set_error("nn_rnn_stepper: layer %d \"%s\" (%s): %s", i, l->name, l->vt->type, why);
    return 0;
}

/* Checks the chain as a whole: built, an RNN in it, an output of probabilities or logits. */
static int check_model(Model *m) {
    if (!m) return tensor_set_error("nn_rnn_stepper: the model is NULL");
    int n = nn_model_layer_count(m), n_rnn = 0;
    if (n < 2 || (!m->custom && !m->built))
        return tensor_set_error("nn_rnn_stepper: the model must be built, with an Embedding and at least one RNN");
    for (int i = 0; i < n; i++) {
        const Layer *l = m->layers[i];
        if (!l->built) return tensor_set_error("nn_rnn_stepper: layer %d \"%s\" is not built", i, l->name);
        if (check_layer(l, i) != 0) return -1;
        n_rnn += nn_layer_is_rnn(l);
    }
    const Layer *last = m->layers[n - 1];
    if (n_rnn == 0) return tensor_set_error("nn_rnn_stepper: the model has no RNN layer: nothing to carry");
    if (last->activation != NN_SOFTMAX && last->activation != NN_LINEAR)
        return tensor_set_error("nn_rnn_stepper: the last layer \"%s\" must end in softmax or be linear (logits)",
                                last->name);
    return 0;
}

NnRnnStepper *nn_rnn_stepper_new(Model *m) {
    if (check_model(m) != 0) return NULL;
    NnRnnStepper *s = tensor_xcalloc(1, sizeof *s);
    s->m = m;
    s->n_layers = nn_model_layer_count(m);
    s->layers = tensor_xcalloc((size_t)s->n_layers, sizeof *s->layers);
    for (int i = 0; i < s->n_layers; i++) s->layers[i] = nn_model_layer(m, i); /* draws deferred values */
    s->h = tensor_xcalloc((size_t)s->n_layers, sizeof *s->h);
    s->c = tensor_xcalloc((size_t)s->n_layers, sizeof *s->c);
    s->in_vocab = s->layers[0]->params[0]->shape[0]; /* the Embedding's table (vocab, dim) */
    const NnShape *out = &s->layers[s->n_layers - 1]->out_shape;
    s->vocab = out->dim[out->ndim - 1];
    s->tape = ag_tape_new();
    ag_set_grad_enabled(s->tape, false);
    return s;
}

void nn_rnn_stepper_reset(NnRnnStepper *s) {
    if (!s) return;
    for (int i = 0; i < s->n_layers; i++) {
        tensor_free(s->h[i]), tensor_free(s->c[i]);
        s->h[i] = s->c[i] = NULL;
    }
    s->rows = 0;
}

void nn_rnn_stepper_free(NnRnnStepper *s) {
    if (!s) return;
    nn_rnn_stepper_reset(s);
    ag_tape_free(s->tape);
    free(s->layers), free(s->h), free(s->c);
    free(s);
}

int64_t nn_rnn_stepper_vocab(const NnRnnStepper *s) {
    TENSOR_CHECK(s != NULL, "nn_rnn_stepper_vocab: the stepper is NULL");
    return s->vocab;
}

/* Keeps a state from the step's arena on the heap, reusing the buffer when it fits. */
static void keep(Tensor **slot, const Tensor *t) {
    if (!t) return;
    if (*slot && (*slot)->size == t->size && (*slot)->shape[0] == t->shape[0]) {
        memcpy((*slot)->data, t->data, (size_t)t->size * sizeof(float));
        return;
    }
    tensor_free(*slot);
    *slot = tensor_copy(NULL, t);
}

/* log-softmax of one row of n logits, the sum in double. */
static void log_softmax_row(const float *x, int64_t n, float *out) {
    float mx = -INFINITY;
    for (int64_t v = 0; v < n; v++) mx = x[v] > mx ? x[v] : mx;
    double sum = 0.0;
    for (int64_t v = 0; v < n; v++) sum += exp((double)(x[v] - mx));
    const float lse = mx + (float)log(sum);
    for (int64_t v = 0; v < n; v++) out[v] = x[v] - lse;
}

/* Runs the layers on x (n, t), carrying the RNN states; the output lives in the arena. */
static Tensor *forward(NnRnnStepper *s, Tensor *x) {
    NnCallCtx ctx = {.training = false};
    for (int i = 0; i < s->n_layers; i++) {
        Layer *l = s->layers[i];
        ctx.logits = i == s->n_layers - 1; /* a final softmax is replaced by our log-softmax */
        if (!nn_layer_is_rnn(l)) {
            x = nn_layer_call(l, s->tape, x, &ctx);
            continue;
        }
        NnRnnState initial = {.h = s->h[i], .c = s->c[i]}, final;
        x = nn_rnn_call(l, s->tape, x, &initial, &final, &ctx);
        keep(&s->h[i], final.h);
        keep(&s->c[i], final.c);
    }
    return x;
}

int nn_rnn_stepper_step(void *stepper, const int32_t *tokens, int64_t n, int64_t t, float *log_probs) {
    NnRnnStepper *s = stepper;
    TENSOR_CHECK(s != NULL && tokens != NULL && log_probs != NULL,
                 "nn_rnn_stepper_step: stepper, tokens and log_probs must not be NULL");
    if (n < 1 || t < 1) return tensor_set_error("nn_rnn_stepper_step: need n >= 1 rows of t >= 1 tokens");
    if (s->rows && n != s->rows)
        return tensor_set_error("nn_rnn_stepper_step: %lld rows given, but the state carries %lld "
                                "(reorder or reset first)", (long long)n, (long long)s->rows);
    for (int64_t i = 0; i < n * t; i++)
        if (tokens[i] < 0 || tokens[i] >= s->in_vocab)
            return tensor_set_error("nn_rnn_stepper_step: token %d (entry %lld) is outside the Embedding's "
                                    "vocabulary [0, %lld)", tokens[i], (long long)i, (long long)s->in_vocab);
    ag_tape_reset(s->tape);
    Tensor *x = tensor_i32_from_array(ag_tape_arena(s->tape), 2, (int64_t[]){n, t}, tokens);
    Tensor *y = forward(s, x);
    const float *out = tensor_f32(y);
    const int64_t V = s->vocab, steps = y->ndim == 3 ? y->shape[1] : 1;
    /* Softmax-ending layers gave logits (ctx.logits); a linear one gives logits too. */
    for (int64_t b = 0; b < n; b++) log_softmax_row(out + (b * steps + steps - 1) * V, V, log_probs + b * V);
    s->rows = n;
    ag_tape_reset(s->tape);
    return 0;
}

/* Row j of a (rows, H) state becomes row parent[j] of the old one. */
static Tensor *gather_rows(const Tensor *old, const int64_t *parent, int64_t n) {
    const int64_t H = old->shape[1];
    Tensor *t = tensor_zeros(NULL, 2, (int64_t[]){n, H});
    for (int64_t j = 0; j < n; j++)
        memcpy(tensor_f32(t) + j * H, tensor_f32(old) + parent[j] * H, (size_t)H * sizeof(float));
    return t;
}

int nn_rnn_stepper_reorder(void *stepper, const int64_t *parent, int64_t n) {
    NnRnnStepper *s = stepper;
    TENSOR_CHECK(s != NULL && parent != NULL, "nn_rnn_stepper_reorder: stepper and parent must not be NULL");
    if (n < 1) return tensor_set_error("nn_rnn_stepper_reorder: need n >= 1 rows (got %lld)", (long long)n);
    for (int64_t j = 0; j < n; j++)
        if (parent[j] < 0 || parent[j] >= s->rows)
            return tensor_set_error("nn_rnn_stepper_reorder: parent[%lld] = %lld is outside the %lld rows carried",
                                    (long long)j, (long long)parent[j], (long long)s->rows);
    for (int i = 0; i < s->n_layers; i++) {
        Tensor **states[2] = {&s->h[i], &s->c[i]};
        for (int k = 0; k < 2; k++) {
            if (!*states[k]) continue;
            Tensor *t = gather_rows(*states[k], parent, n);
            tensor_free(*states[k]);
            *states[k] = t;
        }
    }
    s->rows = n;
    return 0;
}

static void stepper_reset_cb(void *stepper) { nn_rnn_stepper_reset(stepper); }

NnBeamModel nn_rnn_stepper_model(NnRnnStepper *s) {
    TENSOR_CHECK(s != NULL, "nn_rnn_stepper_model: the stepper is NULL");
    return (NnBeamModel){.step = nn_rnn_stepper_step, .reorder = nn_rnn_stepper_reorder,
                         .reset = stepper_reset_cb, .user = s, .vocab = s->vocab};
}
