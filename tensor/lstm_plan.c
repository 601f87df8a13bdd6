/* How the fused LSTM's time loop is shared among threads (see lstm_internal.h): the
 * split by hidden units or by batch rows and the size of the team, chosen by shape from
 * timings on 2 cores, and the override the tests use to force a split. */
#include "tensor/lstm_internal.h"

#include "tensor/parallel.h"

static TensorLstmSplit forced_split = TENSOR_LSTM_SPLIT_AUTO;

TensorLstmSplit tensor__lstm_force_split(TensorLstmSplit split) {
    const TensorLstmSplit old = forced_split;
    forced_split = split;
    return old;
}

/* The row split's limits. Each thread streams all of the packed recurrent matrix every
 * step, and it is packed on one thread: beyond the 1 MB of a Zen 4 core's L2 (H > 256)
 * the unit split was as fast or faster (H = 512: equal at T = 40, 1.34x slower at
 * T = 3; H = 1000: 1.05x to 1.5x slower). Below 8 rows a thread's packed GEMM wastes
 * most of each pass over the matrix, and below 0.5 MFLOP a step one thread alone is
 * quicker than starting a team. */
#define ROWS_MIN_PER_THREAD 8
#define ROWS_MAX_PACKED_BYTES (1u << 20)
#define ROWS_MIN_STEP_FLOPS 5e5

static int min_int(int a, int64_t b) { return b < a ? (int)b : a; }

/* The split for a (B, H) layer, measured at T = 40 on 2 cores. The row split wherever
 * its limits allow: no barrier per step, and one cell call covers a whole row. Against
 * the unit split on 2 threads it took 0.81-0.87x the time at H = 64 (B = 32..128),
 * 0.87-0.97x at H = 256, and at B = 16..24, H = 32..256 it matched or beat one thread.
 * Otherwise the unit split, and a team only when a step's recurrent GEMM is big enough
 * (>= 2 MFLOP) that it pays for a barrier per step, with never fewer than 8 hidden
 * units per thread (below ~2 MFLOP the barrier wins). */
TensorLstmPlan tensor__lstm_plan(int64_t B, int64_t H) {
    const int nt = tensor_get_num_threads();
    const TensorLstmSplit forced = forced_split;
    if (forced == TENSOR_LSTM_SPLIT_ROWS) return (TensorLstmPlan){TENSOR_LSTM_SPLIT_ROWS, min_int(nt, B)};
    const TensorLstmPlan units = {TENSOR_LSTM_SPLIT_UNITS, min_int(nt, H / 8 > 0 ? H / 8 : 1)};
    if (forced == TENSOR_LSTM_SPLIT_UNITS) return units;
    const double step_flops = 2.0 * (double)B * (double)(4 * H) * (double)H;
    const double packed_bytes = (double)H * (double)(4 * H) * sizeof(float);
    if (nt > 1 && B / nt >= ROWS_MIN_PER_THREAD && packed_bytes <= ROWS_MAX_PACKED_BYTES &&
        step_flops >= ROWS_MIN_STEP_FLOPS)
        return (TensorLstmPlan){TENSOR_LSTM_SPLIT_ROWS, nt};
    if (step_flops < 2e6) return (TensorLstmPlan){TENSOR_LSTM_SPLIT_UNITS, 1};
    return units;
}
