/* The orthogonal initialiser's fast path: the Q factor of a tall matrix by CholeskyQR2
 * in double precision (Gram matrix, Cholesky, triangular solve, twice), threaded and
 * vectorised. Not part of the public API; rng.h's tensor_fill_orthogonal is the
 * reference it agrees with. */
#ifndef TENSOR_ORTHOGONAL_INTERNAL_H
#define TENSOR_ORTHOGONAL_INTERNAL_H

#include "tensor/rng.h"

/* tensor_fill_orthogonal's result (the same normal draws from rng, the same Q with a
 * positive diag(R), to double rounding before the conversion to float), computed in
 * O(m k^2) blocked, threaded work instead of a serial Gram-Schmidt. */
void tensor__fill_orthogonal_fast(float *x, int64_t rows, int64_t cols, Rng *rng, float gain);

#endif
