/* The LSTM's bias gradient: column sums of a (rows, G) matrix (see lstm_internal.h). */
#include "tensor/lstm_internal.h"

#include "tensor/parallel.h"

void tensor__lstm_bias_grad_add(const float *m, int64_t rows, int64_t G, float *out) {
    const int64_t CB = 64, nblocks = (G + CB - 1) / CB;
    TENSOR_PARALLEL_FOR(rows * G)
    for (int64_t blk = 0; blk < nblocks; blk++) {
        double acc[64] = {0};
        const int64_t j0 = blk * CB, j1 = j0 + CB < G ? j0 + CB : G;
        for (int64_t r = 0; r < rows; r++) {
            const float *row = m + r * G;
#pragma omp simd
            for (int64_t j = j0; j < j1; j++) acc[j - j0] += row[j];
        }
        for (int64_t j = j0; j < j1; j++) out[j] += (float)acc[j - j0];
    }
}
