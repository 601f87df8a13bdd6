/* What the recurrent layers share (not public API): the RnnLayer struct behind LSTM,
 * GRU and SimpleRNN, the per-kind description each of lstm.c, gru.c and
 * simple_rnn.c fills in, and the common build/call/reset/destroy in rnn.c that every
 * kind's vtable points at (nn_layer_is_rnn recognises an RNN by those pointers). */
#ifndef NN_RNN_INTERNAL_H
#define NN_RNN_INTERNAL_H

#include "nn/layers/layers.h"

typedef struct RnnLayer RnnLayer;

/* What one call of a kind's recurrence produces; all in the tape's arena. */
typedef struct RnnRun {
    Tensor *seq; /* (B, T, H) in processing order, or NULL when not asked for */
    Tensor *h;   /* (B, H) final hidden state */
    Tensor *c;   /* (B, H) final cell state (LSTM), else NULL */
} RnnRun;

typedef struct RnnKind {
    const char *type;      /* Keras class name: "LSTM", "GRU", "SimpleRNN" */
    const char *base_name; /* "lstm", "gru", "simple_rnn" */
    bool has_cell;         /* carries a c state besides h (LSTM) */
    /* Declares the parameters for input width D (kernel, recurrent_kernel, bias, in
     * Keras's order) with nn_layer_param. Returns 0 or -1 with an error set. */
    int (*build_params)(RnnLayer *r, int64_t D, Rng *rng);
    /* Runs the recurrence over x (B, T, D), T >= 1, from h0 (and c0; NULL means zeros),
     * reading x backwards when r->opts.go_backwards. want_seq asks for seq. With a
     * mask (B, T, checked) the state is carried unchanged through padded steps, and seq
     * holds that carried state there (rnn_mask.c turns it into Keras's output). */
    RnnRun (*run)(RnnLayer *r, Tape *tape, Tensor *x, Tensor *h0, Tensor *c0, const Tensor *mask,
                  bool want_seq);
} RnnKind;

struct RnnLayer {
    Layer base;       /* first member: an RnnLayer * is a Layer * */
    const RnnKind *kind;
    NnRnnOpts opts;   /* as given, with name set to NULL (the name lives in base.name) */
    /* A stateful layer's carried state, copied out of the step arena after each call
     * so it outlives ag_tape_reset. state_batch == 0 means none (start from zeros). */
    float *state_h, *state_c;
    int64_t state_batch;
};

/* Creates an RNN of the given kind with vtable vt (whose functions are the nn__rnn_*
 * below). NULL with tensor_set_error naming the layer type when opts are invalid. */
Layer *nn__rnn_new(const RnnKind *kind, const LayerVTable *vt, const NnRnnOpts *opts);

int nn__rnn_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng);
Tensor *nn__rnn_layer_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx);
void nn__rnn_reset_state(Layer *self);
void nn__rnn_destroy(Layer *self);
/* The options as Keras names them (units, return_sequences, ...), and back: reads
 * into *opts, -1 with a message naming the type for an unknown or malformed value. */
void nn__rnn_get_config(const Layer *self, NnConfig *config);
int nn__rnn_opts_from_config(const NnConfig *config, const char *type, NnRnnOpts *opts);

/* ---- under a mask (rnn_mask.c) ---- */
/* The state after step t of a composed recurrence: fresh where row's step t is real,
 * old where it is padding; fresh itself without a mask. */
Tensor *nn__rnn_keep_state(Tape *tape, const Tensor *mask, int64_t t, Tensor *fresh, Tensor *old);
/* The layer's output from a run under mask (NULL: none): Keras's rule at padded steps,
 * which depends on whether the run started from a given state (has_h0). */
Tensor *nn__rnn_output(const RnnLayer *r, Tape *tape, const RnnRun *run, const Tensor *mask, bool has_h0);
/* compute_mask: the input mask with return_sequences, else none. */
const Tensor *nn__rnn_compute_mask(Layer *self, Tape *tape, Tensor *x, const Tensor *mask);

/* The vtable of a kind: every RNN shares the functions above; from_config_ is the
 * kind's own (it calls nn__rnn_opts_from_config, then the kind's constructor). */
#define NN__RNN_VTABLE(type_, from_config_)                                                \
    {                                                                                      \
        .type = (type_), .build = nn__rnn_build, .call = nn__rnn_layer_call,               \
        .reset_state = nn__rnn_reset_state, .destroy = nn__rnn_destroy,                    \
        .get_config = nn__rnn_get_config, .from_config = (from_config_),                   \
        .compute_mask = nn__rnn_compute_mask,                                              \
    }

#endif
