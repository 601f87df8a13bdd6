/* Internal to the fused LSTM op (lstm.c): its per-row cell kernels (lstm_cell.c) and
 * the embedding lookup it can fold into its input projection (gather_rows.c). Not part
 * of the public API. */
#ifndef AUTOGRAD_OPS_LSTM_INTERNAL_H
#define AUTOGRAD_OPS_LSTM_INTERNAL_H

#include "autograd/ops.h"

/* The gather_rows op. Its outputs always point at a node naming the table and the ids
 * (inputs[0], inputs[1]); when nothing was recorded (grad mode off, or no gradient
 * needed) that node is provenance only — iargs[0] == 1, never on the tape, never run —
 * so the LSTM can see that its input is a table lookup in inference too. */
extern const OpDef ag__gather_rows_op;

/* How the fused LSTM's time loop is shared among threads: by hidden units (a barrier
 * every step) or by batch rows (none); lstm.c picks one by shape (AUTO). */
typedef enum { LSTM_SPLIT_AUTO, LSTM_SPLIT_UNITS, LSTM_SPLIT_ROWS } LstmSplit;

/* For tests only: makes every later fused LSTM call use this split, on as many threads
 * as it can use whatever the problem size (AUTO restores the choice by shape). Not
 * thread-safe; returns the previous setting. */
LstmSplit lstm_force_split(LstmSplit split);

/* Forward cell for one batch row and hidden units j0 <= j < j1. Each input holds the
 * row's four gate blocks (i, f, c, o at +0, +H, +2H, +3H); the pre-activation is
 * rec + in + add: rec the recurrent product (NULL: none, the first step without h0),
 * in the input projection (NULL: none, or already summed into rec), add the bias or
 * the folded table row with the bias in it. cprev (NULL: zeros) is c_{t-1} and may
 * equal c, the new cell state; h gets h_t. When cs is not NULL (training), act gets the
 * activations (it may be rec or in), cs, tc and hn get c_t, tanh(c_t) and h_t again
 * (hn NULL: not needed); otherwise only c and h are written. */
void lstm_cell_forward(const float *rec, const float *in, const float *add, float *act,
                       const float *cprev, float *c, float *h, float *cs, float *tc, float *hn,
                       int64_t H, int64_t j0, int64_t j1);

/* Backward cell for one row and units j0 <= j < j1. a: the saved activations (gate
 * blocks as above), tc: tanh(c_t), cprev: c_{t-1} (NULL: zeros). dh: the gradient
 * reaching h_t through the recurrence (scratch: gs and gh, more gradient for h_t from
 * the sequence output and the final state, NULL for none, are added into it); dc: the
 * gradient carried to c_t (read, then overwritten with the one for c_{t-1}); gc: more
 * gradient for c_t (NULL: none).
 * d gets the pre-activation gradients (gate blocks as above); gc0, when not NULL, has
 * the gradient for c_{t-1} added (the first step's c0). */
void lstm_cell_backward(const float *a, const float *tc, const float *cprev, float *dh,
                        const float *gs, const float *gh, float *dc, const float *gc, float *d,
                        float *gc0, int64_t H, int64_t j0, int64_t j1);

/* The element-wise functions the cells use (exposed for the tests): y[k] = sigmoid(x[k])
 * and tanh(x[k]) for k < n, with relative error below 4e-7 (tanh: absolute error below
 * 1e-7 near 0). */
void lstm_sigmoid_array(const float *x, float *y, int64_t n);
void lstm_tanh_array(const float *x, float *y, int64_t n);

#endif
