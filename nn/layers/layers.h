/* The built-in layers, Keras-style: options structs with designated initialisers,
 * where a field left at zero means "the Keras default".
 *   nn_dense(.units = 27, .activation = NN_SOFTMAX)
 *   nn_lstm(.units = 256, .return_sequences = true)
 * Constructors return NULL with tensor_last_error() set when an option is invalid;
 * nn_add() then reports it. */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include <lamina/nn/layers/layer.h>

typedef struct NnDenseOpts {
    int64_t units;             /* required, > 0 */
    NnActivation activation;   /* default linear */
    bool no_bias;              /* Keras use_bias=False */
    const char *name;
} NnDenseOpts;
/* y = activation(x kernel + bias) on the last axis; kernel (in, units) Glorot-uniform,
 * bias zeros. Accepts any rank >= 1 per sample. */
Layer *nn_dense_new(const NnDenseOpts *opts);
#define nn_dense(...) nn_dense_new(&(NnDenseOpts){__VA_ARGS__})

typedef struct NnEmbeddingOpts {
    int64_t vocab;  /* input_dim: ids are 0..vocab-1, required */
    int64_t dim;    /* output_dim, required */
    bool mask_zero; /* id 0 is padding: the output carries the mask ids != 0 */
    const char *name;
} NnEmbeddingOpts;
/* int32 ids (B, ...) -> (B, ..., dim); table (vocab, dim) U(-0.05, 0.05). Ids are
 * checked against vocab. With mask_zero (ids must then be (B, T)) the output's mask is
 * 1 where the id is not 0, as Keras's: id 0 still has a row, so vocab counts it. */
Layer *nn_embedding_new(const NnEmbeddingOpts *opts);
#define nn_embedding(...) nn_embedding_new(&(NnEmbeddingOpts){__VA_ARGS__})

typedef struct NnRnnOpts {
    int64_t units;          /* required, > 0 */
    bool return_sequences;  /* output (B, T, units) instead of the last state (B, units) */
    bool return_state;      /* lower-level path: nn_rnn_call also hands back final states */
    bool stateful;          /* carry the final state into the next batch (same batch size) */
    bool go_backwards;      /* read the sequence from the end */
    bool unfused;           /* LSTM only: use the composed reference instead of the fused op */
    bool zero_output_for_mask; /* under a mask, output zeros at padded steps (see below) */
    const char *name;
} NnRnnOpts;
/* Under a mask (NnCallCtx.mask, from an Embedding(mask_zero) or a Masking before it)
 * the RNNs follow Keras: at a padded step the state is carried unchanged (h and c),
 * and the output there is zeros with zero_output_for_mask, else (Keras's default) the
 * previous step's output, zeros before the first real step. Without return_sequences
 * the output is the last step's output under that rule: by default the state at each
 * sequence's last real step (post- or pre-padding alike). The final states nn_rnn_call
 * hands back are the carried state, and x at padded steps gets no gradient.
 * With return_sequences the mask passes on to the next layer. The fused LSTM keeps its
 * fast path under a mask. */
/* LSTM (Keras layout: kernel (D, 4H) Glorot, recurrent_kernel (H, 4H) orthogonal,
 * bias 4H zeros with forget gate 1; gates i, f, c, o). */
Layer *nn_lstm_new(const NnRnnOpts *opts);
#define nn_lstm(...) nn_lstm_new(&(NnRnnOpts){__VA_ARGS__})
/* GRU, Keras reset_after=True (kernel (D, 3H), recurrent_kernel (H, 3H), bias (2, 3H);
 * gates z, r, h) — equal to PyTorch's GRU. */
Layer *nn_gru_new(const NnRnnOpts *opts);
#define nn_gru(...) nn_gru_new(&(NnRnnOpts){__VA_ARGS__})
/* SimpleRNN with tanh (kernel (D, H), recurrent_kernel (H, H), bias H). */
Layer *nn_simple_rnn_new(const NnRnnOpts *opts);
#define nn_simple_rnn(...) nn_simple_rnn_new(&(NnRnnOpts){__VA_ARGS__})

/* Recurrent state handed in or out on the lower-level path. c is used by LSTM only. */
typedef struct NnRnnState {
    Tensor *h; /* (B, units) */
    Tensor *c; /* (B, units), LSTM only */
} NnRnnState;

/* Runs a built RNN layer (LSTM, GRU, SimpleRNN) on x (B, T, D) starting from
 * `initial` (NULL, or NULL fields, for zeros — or the carried state of a stateful
 * layer), and writes the final state to *final when final is not NULL. Returns the
 * layer's output: (B, T, units) with return_sequences, else (B, units). Stepping one
 * token at a time with T = 1 and the previous final state costs O(1) per token.
 * Outputs and final states live in the tape's arena (copy a state out with
 * tensor_copy to keep it past ag_tape_reset). ctx may be NULL; ctx->mask, when set, is
 * x's (B, T) mask, honoured as described above (how a custom model passes a mask).
 * Stops with a message if rnn is not a built RNN or x (or the mask) does not fit it. */
Tensor *nn_rnn_call(Layer *rnn, Tape *tape, Tensor *x, const NnRnnState *initial, NnRnnState *final,
                    const NnCallCtx *ctx);

typedef struct NnDropoutOpts {
    float rate;     /* fraction dropped while training, 0 <= rate < 1 */
    const char *name;
} NnDropoutOpts;
/* Inverted dropout while training (drawn from the call's rng); identity otherwise. */
Layer *nn_dropout_new(const NnDropoutOpts *opts);
#define nn_dropout(...) nn_dropout_new(&(NnDropoutOpts){__VA_ARGS__})

typedef struct NnMaskingOpts {
    float mask_value; /* the value of every feature of a padded step (default 0; not NaN) */
    const char *name;
} NnMaskingOpts;
/* Keras's Masking: float32 (B, T, D) in, the same out with padded steps (every feature
 * equal to mask_value) set to 0, and the mask 1 at the other steps for the layers
 * after it. */
Layer *nn_masking_new(const NnMaskingOpts *opts);
#define nn_masking(...) nn_masking_new(&(NnMaskingOpts){__VA_ARGS__})

/* Applies `inner` to every time step of (B, T, ...) independently (one call on the
 * (B*T, ...) reshaped batch). Takes ownership of inner. NULL inner (a constructor that
 * failed) gives NULL with tensor_last_error() keeping that constructor's reason. */
Layer *nn_time_distributed(Layer *inner);

/* Runs an RNN forwards and a copy of it backwards over the sequence and concatenates
 * their outputs on the last axis (Keras merge_mode="concat"); with return_sequences
 * the backward outputs are re-aligned to the input's time order. As Keras's, it sets
 * zero_output_for_mask = return_sequences on both halves, so under a mask padded steps
 * output zeros; with post-padding the backward half starts at each sequence's last
 * real step (equal to PyTorch's packed sequences). Takes ownership.
 * NULL with tensor_last_error() set if rnn is NULL or not an LSTM, GRU or SimpleRNN. */
Layer *nn_bidirectional(Layer *rnn);

/* The real steps of a (B, T, ...) batch as rows (N, ...), N the count of ones in the
 * float32 (B, T) mask, in (b, t) order: float32 x through a differentiable gather,
 * int32 x (targets) copied. A loss on these rows is the mean over real steps only,
 * as Keras's losses under a mask; the Sequential loss and accuracy use it. In the
 * tape's arena. Stops with a message unless mask is (B, T) of 0 and 1. */
Tensor *nn_mask_rows(Tape *tape, Tensor *x, const Tensor *mask);

/* Whether a layer is one of the RNNs above (usable with nn_rnn_call). */
bool nn_layer_is_rnn(const Layer *layer);

#endif
