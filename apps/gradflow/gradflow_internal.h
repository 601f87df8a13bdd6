/* gradflow's files share this: the options, the recurrent layers it compares (built
 * with Keras's initialisers, or with the variants --forget-bias and --recurrent-init
 * ask for), the gradient probe, and the three modes. */
#ifndef GRADFLOW_INTERNAL_H
#define GRADFLOW_INTERNAL_H

#include <lamina/nn/nn.h>

#include "common/options.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define APP "gradflow"

/* The layers compared; CELL_LSTM_COMPOSED is the LSTM built from ordinary tape ops
 * (NnRnnOpts.unfused), the reference the fused one is held to. */
typedef enum CellKind { CELL_SIMPLE_RNN, CELL_GRU, CELL_LSTM, CELL_LSTM_COMPOSED, CELL_KIND_COUNT } CellKind;
extern const char *const cell_names[CELL_KIND_COUNT];

typedef enum Mode { MODE_GRADIENT, MODE_MEMORY, MODE_SCAN } Mode;

/* How the recurrent weights start: Keras's defaults unless asked otherwise. */
typedef struct CellInit {
    double forget_bias;    /* LSTM forget-gate bias (Keras: 1) */
    bool recurrent_normal; /* recurrent kernel N(0, 0.05^2), Keras's RandomNormal, not orthogonal */
} CellInit;

typedef struct Options {
    AppOptions common;
    Mode mode;
    int64_t length, units, input_dim, seeds;
    CellInit init;
    /* memory mode */
    int64_t updates, symbols;
    int64_t lags[8];
    int n_lags;
    bool task_recall, task_adding;
    /* scan mode */
    int64_t embed, batch, reps;
    bool peers;
    const char *python, *peers_dir;
} Options;

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

/* Distances 0, 1, 2, ... spaced evenly in log(1 + d) up to T - 1, without repeats:
 * writes at most max of them into dist and returns how many. */
int gf_distances(int64_t T, int max, int64_t *dist);

/* The modes: each prints its table to stdout (and --json's line), progress to stderr,
 * and returns the exit status. */
int gf_run_gradient(const Options *o);
int gf_run_memory(const Options *o);
int gf_run_scan(const Options *o);

#endif
