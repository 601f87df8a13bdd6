/* The fused LSTM's raw kernels, with no tapes and no gradient bookkeeping: the per-row
 * cell passes forward and backward with their vectorised sigmoid and tanh
 * (lstm_cell.c), and the plan for sharing a sequence's time loop among a team of
 * threads (lstm_plan.c), and the masked step that carries a row's state (lstm_carry.c).
 * autograd/ops/lstm.c runs them as the ag_lstm op. */
#ifndef TENSOR_LSTM_INTERNAL_H
#define TENSOR_LSTM_INTERNAL_H

#include <stdint.h>

/* ---- the thread plan ----
 *
 * By hidden units: each thread owns a block of units (the same block of the i, f, c and
 * o gate columns) for all batch rows, and the threads meet at a barrier every step,
 * since each step needs all of h_{s-1}. Its share of the recurrent matrix is 1/nt of
 * it, which keeps wide layers (H = 1000: 16 MB) splittable at all.
 * By batch rows: rows never mix through time, so each thread runs the whole sequence
 * for its rows with no barrier at all, all reading one packed copy of the recurrent
 * matrix. Per element the packed GEMM sums over k in the same order whatever rows a
 * call gets, and the cells are element-wise, so both splits give the same bits. */
typedef enum { TENSOR_LSTM_SPLIT_AUTO, TENSOR_LSTM_SPLIT_UNITS, TENSOR_LSTM_SPLIT_ROWS } TensorLstmSplit;

typedef struct TensorLstmPlan {
    TensorLstmSplit split; /* TENSOR_LSTM_SPLIT_UNITS or TENSOR_LSTM_SPLIT_ROWS */
    int nt;                /* threads of the team (tensor_team_run), 1 for none */
} TensorLstmPlan;

/* How to run the time loop of a (B, H) layer on tensor_get_num_threads() threads: the
 * split by shape, or the one tensor__lstm_force_split set. */
TensorLstmPlan tensor__lstm_plan(int64_t B, int64_t H);

/* For tests only: makes every later plan use this split, on as many threads as it can
 * use whatever the problem size (AUTO restores the choice by shape). Not thread-safe;
 * returns the previous setting. */
TensorLstmSplit tensor__lstm_force_split(TensorLstmSplit split);

/* Team thread t's hidden units [u0, u1) of nt: equal shares, cut at multiples of 16 when
 * H is large enough, so the packed panels of each gate block stay whole. */
static inline void tensor__lstm_unit_range(int64_t H, int t, int nt, int64_t *u0, int64_t *u1) {
    const int64_t q = H >= 32 * nt ? 16 : 1;
    *u0 = (H * t / nt) / q * q;
    *u1 = t == nt - 1 ? H : (H * (t + 1) / nt) / q * q;
}

/* Team thread t's batch rows [b0, b1) of nt: equal shares. */
static inline void tensor__lstm_row_range(int64_t B, int t, int nt, int64_t *b0, int64_t *b1) {
    *b0 = B * t / nt;
    *b1 = B * (t + 1) / nt;
}

/* ---- the cells ---- */

/* Forward cell for one batch row and hidden units j0 <= j < j1. Each input holds the
 * row's four gate blocks (i, f, c, o at +0, +H, +2H, +3H); the pre-activation is
 * rec + in + add: rec the recurrent product (NULL: none, the first step without h0),
 * in the input projection (NULL: none, or already summed into rec), add the bias or
 * the folded table row with the bias in it. cprev (NULL: zeros) is c_{t-1} and may
 * equal c, the new cell state; h gets h_t. When cs is not NULL (training), act gets the
 * activations (it may be rec or in), cs, tc and hn get c_t, tanh(c_t) and h_t again
 * (hn NULL: not needed); otherwise only c and h are written. */
void tensor__lstm_cell_forward(const float *rec, const float *in, const float *add, float *act,
                               const float *cprev, float *c, float *h, float *cs, float *tc,
                               float *hn, int64_t H, int64_t j0, int64_t j1);

/* Backward cell for one row and units j0 <= j < j1. a: the saved activations (gate
 * blocks as above), tc: tanh(c_t), cprev: c_{t-1} (NULL: zeros). dh: the gradient
 * reaching h_t through the recurrence (scratch: gs and gh, more gradient for h_t from
 * the sequence output and the final state, NULL for none, are added into it); dc: the
 * gradient carried to c_t (read, then overwritten with the one for c_{t-1}); gc: more
 * gradient for c_t (NULL: none).
 * d gets the pre-activation gradients (gate blocks as above); gc0, when not NULL, has
 * the gradient for c_{t-1} added (the first step's c0). */
void tensor__lstm_cell_backward(const float *a, const float *tc, const float *cprev, float *dh,
                                const float *gs, const float *gh, float *dc, const float *gc,
                                float *d, float *gc0, int64_t H, int64_t j0, int64_t j1);

/* ---- the masked step (lstm_carry.c) ----
 * A row whose step is padding skips its cell. Forward: c gets cprev and h gets hprev
 * (NULL: zeros; c may be cprev), and when not NULL cs gets c and hn gets h again.
 * Backward: the gradients reaching h_t (dh, plus gs and gh when not NULL) and c_t (dc,
 * plus gc) pass on unchanged to h_{t-1} and c_{t-1}: dh and dc keep them, pass gets a
 * copy of dh to add (tensor__lstm_carry_add) into the carry once the recurrent GEMM has
 * overwritten it, gc0 (not NULL: the first step) gets dc added, and the step's
 * pre-activation gradients d (four gate blocks) are zero. */
void tensor__lstm_carry_forward(const float *hprev, const float *cprev, float *c, float *h,
                                float *cs, float *hn, int64_t j0, int64_t j1);
void tensor__lstm_carry_backward(float *dh, const float *gs, const float *gh, float *dc,
                                 const float *gc, float *d, float *gc0, float *pass, int64_t H,
                                 int64_t j0, int64_t j1);
/* dst[j] += pass[j] for j0 <= j < j1. */
void tensor__lstm_carry_add(float *dst, const float *pass, int64_t j0, int64_t j1);

/* The element-wise functions the cells use (exposed for the tests): y[k] = sigmoid(x[k])
 * and tanh(x[k]) for k < n, with relative error below 4e-7 (tanh: absolute error below
 * 1e-7 near 0). */
void tensor__lstm_sigmoid_array(const float *x, float *y, int64_t n);
void tensor__lstm_tanh_array(const float *x, float *y, int64_t n);

/* The bias gradient over all steps: out[j] += the sum over rows of m[r * G + j] (the
 * gates' gradients, or the folded lookup's per-id sums), each block of columns summed
 * in row order in double by one thread, so the result does not depend on the thread
 * count (lstm_bias_grad.c). */
void tensor__lstm_bias_grad_add(const float *m, int64_t rows, int64_t G, float *out);

#endif
