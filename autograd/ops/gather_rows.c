/* gather_rows: embedding lookup. table (V, D) float32 and int32 ids of any shape give
 * (ids..., D), row r of the output being table row ids[r]. Backward scatter-adds the
 * output gradient's rows into the looked-up rows of the table's gradient only. The
 * ids repeat, so the scatter is split over column blocks (each thread owns a range of
 * the D columns and walks all rows in order): no atomics, and the same sums in the
 * same order for any thread count; a table the tape tracks (ag_tape_track_lookup_squares)
 * also gets the squares of those rows summed, in the same loop. The output always remembers the table and ids it
 * came from (a provenance-only node when nothing is recorded), so the LSTM layer can
 * see that its input is a lookup and call ag_lstm_lookup, which folds a
 * small-vocabulary table into the input projection (see autograd/ops.h). */
#include "autograd/ops/lstm_internal.h"

#include <string.h>

#define COLS 16 /* columns per backward task */

static void gather_rows_backward(Node *n) {
    float *gt = ag_input_grad(n, 0);
    if (!gt) return;
    const int32_t *ids = n->inputs[1]->data;
    const float *gy = n->out->grad;
    /* A table under Adam's per-lookup rule also sums the squares of its rows. */
    float *sq = ag_tape_lookup_squares(n->tape, n->inputs[0]);
    int64_t rows = n->inputs[1]->size, D = n->inputs[0]->shape[1];
    int64_t blocks = (D + COLS - 1) / COLS;
    TENSOR_PARALLEL_FOR(rows * D)
    for (int64_t b = 0; b < blocks; b++) {
        int64_t c0 = b * COLS, c1 = c0 + COLS < D ? c0 + COLS : D;
        for (int64_t r = 0; r < rows; r++) {
            float *dst = gt + (int64_t)ids[r] * D;
            const float *src = gy + r * D;
            for (int64_t c = c0; c < c1; c++) dst[c] += src[c];
            if (!sq) continue;
            float *dsq = sq + (int64_t)ids[r] * D;
            for (int64_t c = c0; c < c1; c++) dsq[c] += src[c] * src[c];
        }
    }
}

const OpDef ag__gather_rows_op = {"gather_rows", gather_rows_backward};

/* A node naming y's table and ids, for readers of y->node, when ag_record kept none.
 * It lives in the tape's arena like y, is never on the tape and never run (iargs[0]
 * says so); backward's reachability walk may visit it, which is harmless. */
static void attach_provenance(Tape *tape, Tensor *y, Tensor *table, Tensor *ids) {
    Arena *arena = ag_tape_arena(tape);
    Node *n = tensor_arena_calloc(arena, 1, sizeof *n);
    n->op = &ag__gather_rows_op;
    n->out = y;
    n->n_outputs = 1;
    n->outputs = tensor_arena_alloc(arena, sizeof *n->outputs);
    n->outputs[0] = y;
    n->n_inputs = 2;
    n->inputs = tensor_arena_alloc(arena, 2 * sizeof *n->inputs);
    n->inputs[0] = table;
    n->inputs[1] = ids;
    n->iargs[0] = 1;
    n->tape = tape;
    y->node = n;
}

/* Stops naming the bad id, its index in ids (as a tuple), and V. */
static TENSOR_NORETURN void bad_id(const Tensor *ids, int64_t flat, int64_t V) {
    int32_t id = ((const int32_t *)ids->data)[flat];
    int64_t idx[TENSOR_MAX_DIMS];
    for (int d = ids->ndim - 1; d >= 0; d--) {
        idx[d] = flat % ids->shape[d];
        flat /= ids->shape[d];
    }
    char pos[128], s[128];
    tensor_fatal(__FILE__, __LINE__,
                 "gather_rows: id %d at position %s of ids %s is out of range for a table of "
                 "V = %lld rows",
                 (int)id, tensor_shape_str(ids->ndim, idx, pos, sizeof pos),
                 tensor_shape_str(ids->ndim, ids->shape, s, sizeof s), (long long)V);
}

Tensor *ag_gather_rows(Tape *tape, Tensor *table, Tensor *ids) {
    ag_expect_f32("gather_rows", table);
    ag_expect_i32("gather_rows", ids);
    if (table->ndim != 2) {
        char s[128];
        tensor_fatal(__FILE__, __LINE__, "gather_rows: the table must be 2-D (V, D), got %s",
                     tensor_shape_str(table->ndim, table->shape, s, sizeof s));
    }
    TENSOR_CHECK(ids->ndim < TENSOR_MAX_DIMS, "gather_rows: %d-d ids would give more than %d dims",
                 ids->ndim, TENSOR_MAX_DIMS);
    int64_t V = table->shape[0], D = table->shape[1], rows = ids->size;
    const int32_t *iv = ids->data;
    /* Checked up front and serially, so a bad id stops before anything is written. */
    for (int64_t r = 0; r < rows; r++)
        if (iv[r] < 0 || iv[r] >= V) bad_id(ids, r, V);
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < ids->ndim; d++) shape[d] = ids->shape[d];
    shape[ids->ndim] = D;
    Tensor *y = ag_output(tape, ids->ndim + 1, shape);
    const float *tv = table->data;
    float *yv = y->data;
    if (D > 0) {
        TENSOR_PARALLEL_FOR(rows * D)
        for (int64_t r = 0; r < rows; r++)
            memcpy(yv + r * D, tv + (int64_t)iv[r] * D, (size_t)D * sizeof(float));
    }
    if (!ag_record(tape, &ag__gather_rows_op, y, 2, (Tensor *[]){table, ids}))
        attach_provenance(tape, y, table, ids);
    return y;
}
