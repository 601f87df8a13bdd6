/* gradflow's gradient probe and the layers it compares, built with Keras's
 * initialisers or the variants --forget-bias and --recurrent-init ask for. Only the
 * library's public API: tests/layers/test_gradflow_probe.c compiles probe.c too. */
#ifndef GRADFLOW_PROBE_H
#define GRADFLOW_PROBE_H

#include <lamina/nn/nn.h>

#include <stdbool.h>
#include <stdint.h>

/* The layers compared; CELL_LSTM_COMPOSED is the LSTM built from ordinary tape ops
 * (NnRnnOpts.unfused), the reference the fused one is held to. */
typedef enum CellKind { CELL_SIMPLE_RNN, CELL_GRU, CELL_LSTM, CELL_LSTM_COMPOSED, CELL_KIND_COUNT } CellKind;
extern const char *const cell_names[CELL_KIND_COUNT];

/* How the recurrent weights start: Keras's defaults unless asked otherwise. */
typedef struct CellInit {
    double forget_bias;    /* LSTM forget-gate bias (Keras: 1) */
    bool recurrent_normal; /* recurrent kernel N(0, 0.05^2), Keras's RandomNormal, not orthogonal */
} CellInit;

/* An RNN layer of the given kind, built for inputs of width input_dim with every
 * output step returned, its weights drawn from seed and then changed as init asks.
 * NULL with tensor_last_error() set when it cannot be built. */
Layer *gf_layer_new(CellKind kind, int64_t units, int64_t input_dim, CellInit init, uint64_t seed);

/* What the probe measures on one sequence for a loss L = w . h_{T-1} (w of unit
 * length), at distances d = T-1-t: the norms of dL/dx_t, dL/dh_t and (LSTM) dL/dc_t,
 * all from the library's backward. For the LSTM also the forget gates f_s along the
 * path: the largest unit's product of f_s over s = t+1..T-1 (the 2-norm of the product
 * of diag(f_s)) and what the forget-gate term alone predicts for dL/dc_t: the measured
 * dL/dc_{T-2} carried back through those diagonals only. gc and forget_pred are NaN at
 * d = 0 (c_{T-1} reaches L only inside the last step). */
typedef struct ProbeResult {
    double *gx, *gh, *gc, *forget_prod, *forget_pred; /* n entries each; gc.. NULL unless LSTM */
    double forget_mean; /* mean f over all steps and units (LSTM) */
} ProbeResult;

/* Probes layer on x (1, T, D) with the loss direction w (H floats) at the n distances
 * dist[0..n) (ascending, 0 <= d < T, dist[0] == 0), writing into out's arrays. */
void gf_probe(Layer *layer, CellKind kind, Tape *tape, const Tensor *x, const float *w, int n, const int64_t *dist,
              ProbeResult *out);

/* max distances from 0 to T - 1 (all of them when max >= T), spaced evenly in
 * log(1 + d) except where that spacing is below one step (there: 0, 1, 2, ...); writes
 * them ascending into dist and returns how many. */
int gf_distances(int64_t T, int max, int64_t *dist);

#endif
