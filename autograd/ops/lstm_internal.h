/* Internal to the LSTM ops and their callers in the library: the shape and mask checks
 * the fused op (lstm.c) and the composed reference (lstm_reference.c) share, and the
 * gather_rows op (gather_rows.c), whose outputs name the table and ids they came from,
 * so a caller can tell that an LSTM's input is a lookup and call ag_lstm_lookup. Not
 * part of the public API. The LSTM's raw kernels are in tensor/lstm_internal.h. */
#ifndef AUTOGRAD_OPS_LSTM_INTERNAL_H
#define AUTOGRAD_OPS_LSTM_INTERNAL_H

#include "autograd/ops.h"

/* The gather_rows op. Its outputs always point at a node naming the table and the ids
 * (inputs[0], inputs[1]); when nothing was recorded (grad mode off, or no gradient
 * needed) that node is provenance only — iargs[0] == 1, never on the tape, never run. */
extern const OpDef ag__gather_rows_op;

/* Checks the dtypes and shapes of an LSTM call (op names it in messages) and returns
 * B, T, D, H through dims[4], so the fused and the composed op stop with the same
 * messages. */
void ag__lstm_check(const char *op, const Tensor *x, const Tensor *kernel, const Tensor *recurrent,
                    const Tensor *bias, const Tensor *h0, const Tensor *c0, int64_t dims[4]);

/* ag_lstm_lookup's table (V, D) float32 and ids (B, T) int32 for dims B, T, D, H, and
 * (when the lookup is folded) every id in [0, V). */
void ag__lstm_lookup_check(const char *op, const Tensor *table, const Tensor *ids, const int64_t dims[4]);
void ag__lstm_ids_check(const char *op, const Tensor *ids, int64_t V);

/* Stops (op names it) unless mask is NULL or a float32 (B, T) of 0 and 1: the mask of
 * the masked LSTM ops and of the RNN layers (lstm_check.c). */
void ag__mask_check(const char *op, const Tensor *mask, int64_t B, int64_t T);

#endif
