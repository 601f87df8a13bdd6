/* gradflow's files share this: the options and the three modes (the layers and the
 * gradient probe are in probe.h). */
#ifndef GRADFLOW_INTERNAL_H
#define GRADFLOW_INTERNAL_H

#include <lamina/nn/nn.h>

#include "common/options.h"
#include "gradflow/probe.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define APP "gradflow"

typedef enum Mode { MODE_GRADIENT, MODE_MEMORY, MODE_SCAN } Mode;

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
    bool fixed_lags;  /* train every batch at lag L, instead of at lags drawn from 2..L */
    bool layer_on[3]; /* SimpleRNN, GRU, LSTM: which ones memory mode trains */
    /* scan mode */
    int64_t embed, batch, reps;
    bool peers;
    const char *python, *peers_dir;
} Options;

/* The modes: each prints its table to stdout (and --json's line), progress to stderr,
 * and returns the exit status. */
int gf_run_gradient(const Options *o);
int gf_run_memory(const Options *o);
int gf_run_scan(const Options *o);

#endif
