/* Every differentiable op the library ships. Each lives in autograd/ops/<name>.c
 * (shape check, forward, backward, OpDef) and is gradient-checked in
 * tests/test_op_<name>.c. All take the tape first, return a new tensor in the tape's
 * arena, and stop with a message naming the op and the shapes on bad input.
 * Shape letters: B batch, T time, D input, H hidden, V vocabulary, C classes. */
#ifndef AUTOGRAD_OPS_H
#define AUTOGRAD_OPS_H

#include <lamina/autograd/autograd.h>

/* ---- element-wise binary, NumPy broadcasting (shapes aligned from the right; a dim
 * of 1 stretches). The output has the broadcast shape; gradients are summed back
 * over the stretched dims. ---- */
Tensor *ag_add(Tape *tape, Tensor *a, Tensor *b); /* a + b */
Tensor *ag_sub(Tape *tape, Tensor *a, Tensor *b); /* a - b */
Tensor *ag_mul(Tape *tape, Tensor *a, Tensor *b); /* a * b */
Tensor *ag_div(Tape *tape, Tensor *a, Tensor *b); /* a / b (b = 0 gives inf/NaN, as IEEE) */

/* ---- element-wise unary ---- */
Tensor *ag_neg(Tape *tape, Tensor *x);                      /* -x */
Tensor *ag_scale(Tape *tape, Tensor *x, float s);           /* s * x */
Tensor *ag_add_scalar(Tape *tape, Tensor *x, float c);      /* x + c */
Tensor *ag_square(Tape *tape, Tensor *x);                   /* x * x */
Tensor *ag_pow(Tape *tape, Tensor *x, float p);             /* x^p; x > 0 unless p is an integer */
Tensor *ag_sqrt(Tape *tape, Tensor *x);                     /* x < 0 gives NaN, as sqrtf */
Tensor *ag_exp(Tape *tape, Tensor *x);                      /* e^x */
Tensor *ag_log(Tape *tape, Tensor *x);                      /* ln x; x <= 0 gives -inf/NaN */
Tensor *ag_tanh(Tape *tape, Tensor *x);                     /* tanh x */
Tensor *ag_sigmoid(Tape *tape, Tensor *x);                  /* 1 / (1 + e^-x), stable */
Tensor *ag_relu(Tape *tape, Tensor *x);                     /* max(x, 0) */
/* Clamps to [lo, hi]; the gradient flows only where lo < x < hi. */
Tensor *ag_clip(Tape *tape, Tensor *x, float lo, float hi);
/* cond ? a : b element-wise: cond float32 (nonzero picks a) broadcasting to a's shape,
 * a and b the same shape. cond is a constant selector (no gradient); the gradient goes
 * to a where cond is nonzero and to b elsewhere. */
Tensor *ag_where(Tape *tape, Tensor *cond, Tensor *a, Tensor *b);

/* ---- softmax family, along one axis (negative counts from the end) ---- */
Tensor *ag_softmax(Tape *tape, Tensor *x, int axis);     /* e^x / sum(e^x), max-subtracted */
Tensor *ag_log_softmax(Tape *tape, Tensor *x, int axis); /* x - logsumexp(x), stable */

/* ---- reductions ---- */
Tensor *ag_sum(Tape *tape, Tensor *x);  /* all elements -> 0-d scalar */
Tensor *ag_mean(Tape *tape, Tensor *x); /* all elements -> 0-d scalar */
/* Sum / mean along one axis; keepdims leaves it as a dim of 1. */
Tensor *ag_sum_axis(Tape *tape, Tensor *x, int axis, bool keepdims);
Tensor *ag_mean_axis(Tape *tape, Tensor *x, int axis, bool keepdims);

/* ---- matrix product ----
 * a is (..., M, K) — (..., K, M) when trans_a — and b is (..., K, N) — (..., N, K)
 * when trans_b. Batch dims (all but the last two) must be equal, or one side may be
 * 2-D and is then shared by every batch entry. 1-D operands are not accepted:
 * reshape them first. The result is (..., M, N). */
Tensor *ag_matmul(Tape *tape, Tensor *a, Tensor *b); /* ag_matmul_t with no transposes */
Tensor *ag_matmul_t(Tape *tape, Tensor *a, Tensor *b, bool trans_a, bool trans_b);
/* Fully connected: x (..., D) kernel (D, U) + bias (U, or NULL for none) -> (..., U).
 * The same values as ag_add(ag_matmul(x, kernel), bias), in fewer passes over y. */
Tensor *ag_linear(Tape *tape, Tensor *x, Tensor *kernel, Tensor *bias);

/* ---- shape ---- */
/* A new shape with the same element count; one dim may be -1. Shares no storage
 * with x's gradient. */
Tensor *ag_reshape(Tape *tape, Tensor *x, int ndim, const int64_t *shape);
/* Output axis i is input axis perm[i]; perm has x->ndim entries. */
Tensor *ag_permute(Tape *tape, Tensor *x, const int *perm);
/* Swaps two axes. */
Tensor *ag_transpose(Tape *tape, Tensor *x, int axis0, int axis1);
/* Elements start <= i < stop along axis (0 <= start <= stop <= dim). */
Tensor *ag_slice(Tape *tape, Tensor *x, int axis, int64_t start, int64_t stop);
/* Joins n >= 1 tensors along an existing axis; other dims must match. */
Tensor *ag_concat(Tape *tape, int n, Tensor *const *xs, int axis);
/* Joins n >= 1 same-shaped tensors along a new axis (0..ndim). */
Tensor *ag_stack(Tape *tape, int n, Tensor *const *xs, int axis);
/* Cuts x into n pieces along axis with the given sizes (summing to the dim), or into
 * n equal pieces when sizes is NULL (the dim must divide evenly); writes outs[0..n). */
void ag_split(Tape *tape, Tensor *x, int axis, int n, const int64_t *sizes, Tensor **outs);

/* ---- embedding lookup ----
 * table (V, D) float32, ids int32 of any shape with 0 <= id < V (checked) ->
 * (ids..., D). The backward scatter-adds into the rows that were looked up only. */
Tensor *ag_gather_rows(Tape *tape, Tensor *table, Tensor *ids);

/* ---- losses (scalar 0-d results) ---- */
#define AG_NO_IGNORE_INDEX INT32_MIN
/* Softmax cross-entropy from logits (..., C) and int32 class targets (...), fused with
 * log-softmax and never materialising one-hot targets. Mean over the targets that are
 * not ignore_index (pass AG_NO_IGNORE_INDEX to count all); targets outside [0, C) other
 * than ignore_index stop with a message. Gradient flows to the logits. */
Tensor *ag_sparse_cross_entropy(Tape *tape, Tensor *logits, Tensor *targets, int32_t ignore_index);
/* Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1], same shape,
 * computed stably (max(x,0) - x*t + log(1 + exp(-|x|))). Gradient flows to both. */
Tensor *ag_bce_with_logits(Tape *tape, Tensor *logits, Tensor *targets);

/* ---- regularisation ---- */
/* Inverted dropout: when training, zeroes each element with probability rate (drawn
 * from rng) and scales the rest by 1/(1-rate); otherwise returns x unchanged.
 * 0 <= rate < 1. */
Tensor *ag_dropout(Tape *tape, Tensor *x, float rate, bool training, Rng *rng);

/* ---- recurrent ---- */
/* The outputs of an LSTM run over a sequence. */
typedef struct AgLstmResult {
    Tensor *seq; /* (B, T, H): the hidden state after each step, in processing order */
    Tensor *h;   /* (B, H): the final hidden state */
    Tensor *c;   /* (B, H): the final cell state */
} AgLstmResult;

/* LSTM over a whole sequence, Keras layout and gate order (i, f, c, o):
 *   z_t = x_t kernel + h_{t-1} recurrent + bias          (B, 4H)
 *   i, f, o = sigmoid(z_i, z_f, z_o); g = tanh(z_c)
 *   c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
 * x (B, T, D); kernel (D, 4H); recurrent (H, 4H); bias (4H); h0 and c0 (B, H) or NULL
 * for zeros. go_backwards reads x from t = T-1 down to 0 (seq is then in that order,
 * as Keras returns it). Fused: one GEMM for the input projection of all steps, one
 * recurrent GEMM and one gate kernel per step, hand-written backward through time;
 * gradients flow to x, kernel, recurrent, bias, h0 and c0. T >= 1. */
AgLstmResult ag_lstm(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent, Tensor *bias,
                     Tensor *h0, Tensor *c0, bool go_backwards);

/* ag_lstm under a mask: mask is float32 (B, T) of 0 and 1 in x's time order (1: a real
 * step, 0: padding), or NULL for none (then exactly ag_lstm). At a masked step the
 * state is carried unchanged (h_t = h_{t-1}, c_t = c_{t-1}; x_t is not read and gets
 * no gradient), so seq holds the carried state there and h, c are the state after each
 * row's last real step in processing order. That is the state Keras's RNN carries;
 * what Keras outputs at masked steps (zeros, or the previous output) is the layer's
 * choice, applied to seq by the caller (nn/layers/rnn.c). The mask stays on the fused
 * path: a masked row skips its cell and copies its state, backward passes the
 * gradient straight through it. The mask is copied; it need not outlive the call. */
AgLstmResult ag_lstm_masked(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent,
                            Tensor *bias, Tensor *h0, Tensor *c0, const Tensor *mask,
                            bool go_backwards);

/* ag_lstm on an embedding lookup: x must be what ag_gather_rows(tape, table, ids)
 * returned, unchanged since (table (V, D) float32, ids (B, T) int32). When the table has
 * few rows (4V <= B*T) the lookup is folded into the input projection: the (V, 4H)
 * table of projected rows, table kernel + bias, is computed once and row ids[b, t] is
 * read at each step; x's values are never read and the gradient goes to the table
 * directly, so x gets none of its own (unless the tape tracks the table's lookup
 * squares, ag_tape_track_lookup_squares: then x's gradient is formed as ag_lstm forms
 * it, and the lookup sums it, and its squares, into the table). The outputs then
 * agree with ag_lstm's within rounding (the bias is added in another order). Otherwise
 * this is ag_lstm on x. mask as for ag_lstm_masked (NULL: none). */
AgLstmResult ag_lstm_lookup(Tape *tape, Tensor *x, Tensor *table, Tensor *ids, Tensor *kernel,
                            Tensor *recurrent, Tensor *bias, Tensor *h0, Tensor *c0,
                            bool go_backwards);
AgLstmResult ag_lstm_lookup_masked(Tape *tape, Tensor *x, Tensor *table, Tensor *ids,
                                   Tensor *kernel, Tensor *recurrent, Tensor *bias, Tensor *h0,
                                   Tensor *c0, const Tensor *mask, bool go_backwards);

/* The same computation composed only of ordinary tape ops (matmul, add, slice,
 * sigmoid, tanh, mul, stack; where under a mask): the reference the fused op is
 * tested against. */
AgLstmResult ag_lstm_reference(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent,
                               Tensor *bias, Tensor *h0, Tensor *c0, bool go_backwards);
AgLstmResult ag_lstm_reference_masked(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent,
                                      Tensor *bias, Tensor *h0, Tensor *c0, const Tensor *mask,
                                      bool go_backwards);

#endif
