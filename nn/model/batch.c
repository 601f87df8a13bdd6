/* Batch by batch, what fit, evaluate, predict and train_on_batch share: building the
 * model from the data and checking it, batches as row views or gathered rows, one
 * training step, and evaluation over a range of rows. The epoch loop is in fit.c. */
#include "nn/model/model_internal.h"

#include <math.h>
#include <string.h>

/* Elements of one sample (the product of all dims but the first). */
static int64_t row_size(const Tensor *t) { return t->ndim ? t->size / (t->shape[0] ? t->shape[0] : 1) : 1; }

Tensor *nn__model_gather(Tape *tape, const Tensor *src, const int64_t *idx, int64_t count) {
    int64_t shape[TENSOR_MAX_DIMS];
    shape[0] = count;
    for (int d = 1; d < src->ndim; d++) shape[d] = src->shape[d];
    Tensor *b = tensor_empty(ag_tape_arena(tape), src->dtype, src->ndim, shape);
    size_t bytes = (size_t)row_size(src) * (src->dtype == TENSOR_I32 ? sizeof(int32_t) : sizeof(float));
    for (int64_t i = 0; i < count; i++)
        memcpy((char *)b->data + (size_t)i * bytes, (const char *)src->data + (size_t)idx[i] * bytes, bytes);
    return b;
}

Tensor *nn__model_rows(Arena *arena, const Tensor *src, int64_t start, int64_t count) {
    int64_t shape[TENSOR_MAX_DIMS];
    shape[0] = count;
    for (int d = 1; d < src->ndim; d++) shape[d] = src->shape[d];
    size_t elem = src->dtype == TENSOR_I32 ? sizeof(int32_t) : sizeof(float);
    return tensor_view(arena, src->dtype, (char *)src->data + (size_t)(start * row_size(src)) * elem, NULL,
                       src->ndim, shape);
}

/* A view of rows [start, start+count) of src, in the tape's arena (no copy). */
static Tensor *row_range(Tape *tape, const Tensor *src, int64_t start, int64_t count) {
    return nn__model_rows(ag_tape_arena(tape), src, start, count);
}

int nn__model_check_input(const Model *m, const Tensor *x, const char *what) {
    if (x->dtype != m->input.dtype || x->ndim - 1 != m->input.ndim)
        return tensor_set_error("%s: inputs do not match the model's input", what);
    for (int d = 0; d < m->input.ndim; d++)
        if (m->input.dim[d] >= 0 && m->input.dim[d] != x->shape[d + 1])
            return tensor_set_error("%s: input dim %d is %lld, the model was built for %lld", what, d + 1,
                                    (long long)x->shape[d + 1], (long long)m->input.dim[d]);
    return 0;
}

int nn__model_prepare(Model *m, const Tensor *x, const Tensor *y, const char *what) {
    if (m->failed) return tensor_set_error("%s", m->error);
    if (m->custom) return tensor_set_error("%s: custom models train with nn_custom_step", what);
    if (!m->compiled && y) return tensor_set_error("%s: compile the model first", what);
    if (x->ndim < 1) return tensor_set_error("%s: inputs need a batch dimension", what);
    if (y && (y->ndim < 1 || y->shape[0] != x->shape[0]))
        return tensor_set_error("%s: inputs have %lld samples but targets have %lld", what,
                                (long long)x->shape[0], (long long)(y->ndim ? y->shape[0] : 0));
    if (!m->built) {
        NnShape in = {.dtype = x->dtype, .ndim = x->ndim - 1};
        for (int d = 1; d < x->ndim; d++) in.dim[d - 1] = x->shape[d];
        if (nn_build(m, in) != 0) return -1;
    }
    if (nn__model_check_input(m, x, what) != 0) return -1;
    nn__model_draw_init(m);
    if (y) {
        bool sparse = m->loss == NN_SPARSE_CATEGORICAL_CROSSENTROPY;
        if (sparse && y->dtype != TENSOR_I32)
            return tensor_set_error("%s: sparse_categorical_crossentropy needs int32 class targets", what);
        if (!sparse && y->dtype != TENSOR_F32)
            return tensor_set_error("%s: this loss needs float32 targets", what);
    }
    return 0;
}

int nn__model_evaluate_rows(Model *m, Tensor *x, Tensor *y, int64_t n, int64_t batch, double *loss, double *acc) {
    Tape *tape = m->tape;
    bool previous = ag_set_grad_enabled(tape, false);
    double total = 0;
    int64_t correct = 0, predictions = 0;
    for (int64_t start = 0; start < n; start += batch) {
        int64_t count = n - start < batch ? n - start : batch;
        ag_tape_reset(tape);
        Tensor *xb = row_range(tape, x, start, count), *yb = row_range(tape, y, start, count);
        const Tensor *mask;
        Tensor *out = nn__model_forward(m, tape, xb, false, nn__model_loss_uses_logits(m), &mask);
        Tensor *l = nn__model_loss(m, tape, out, yb, mask, &correct, &predictions);
        total += (double)((const float *)l->data)[0] * (double)count;
    }
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, previous);
    *loss = n ? total / (double)n : NAN;
    if (acc) *acc = predictions ? (double)correct / (double)predictions : NAN;
    return 0;
}

int nn_evaluate(Model *m, Tensor *x, Tensor *y, int64_t batch_size, double *loss, double *accuracy) {
    if (nn__model_prepare(m, x, y, "evaluate") != 0) return -1;
    if (batch_size <= 0) batch_size = 32;
    return nn__model_evaluate_rows(m, x, y, x->shape[0], batch_size, loss, accuracy);
}

Tensor *nn_predict(Model *m, Tensor *x, int64_t batch_size) {
    if (nn__model_prepare(m, x, NULL, "predict") != 0) return NULL;
    if (batch_size <= 0) batch_size = 32;
    Tape *tape = m->tape;
    bool previous = ag_set_grad_enabled(tape, false);
    int64_t n = x->shape[0];
    const NnShape *os = &m->layers[m->n_layers - 1]->out_shape;
    Tensor *result = NULL;
    for (int64_t start = 0; start < n; start += batch_size) {
        int64_t count = n - start < batch_size ? n - start : batch_size;
        ag_tape_reset(tape);
        Tensor *out = nn__model_forward(m, tape, row_range(tape, x, start, count), false, false, NULL);
        if (!result) {
            int64_t shape[TENSOR_MAX_DIMS];
            shape[0] = n;
            for (int d = 1; d < out->ndim; d++) shape[d] = out->shape[d];
            result = tensor_zeros(NULL, out->ndim, shape);
        }
        memcpy((float *)result->data + start * row_size(result), out->data, (size_t)out->size * sizeof(float));
    }
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, previous);
    if (!result) {
        int64_t shape[TENSOR_MAX_DIMS] = {0};
        for (int d = 0; d < os->ndim; d++) shape[d + 1] = os->dim[d] > 0 ? os->dim[d] : 0;
        result = tensor_zeros(NULL, os->ndim + 1, shape);
    }
    return result;
}

int nn__model_train_step(Model *m, Tensor *xb, Tensor *yb, double *loss, int64_t *correct, int64_t *total) {
    Tape *tape = m->tape;
    nn__model_zero_grad(m);
    const Tensor *mask;
    Tensor *out = nn__model_forward(m, tape, xb, true, nn__model_loss_uses_logits(m), &mask);
    Tensor *l = nn__model_loss(m, tape, out, yb, mask, correct, total);
    double value = ((const float *)l->data)[0];
    *loss = value;
    if (!isfinite(value)) {
        int rc = nn__model_nonfinite_loss(m, value);
        ag_tape_reset(tape);
        return rc;
    }
    ag_backward(tape, l);
    int rc = nn__model_apply_gradients(m);
    ag_tape_reset(tape);
    return rc;
}

int nn_train_on_batch(Model *m, Tensor *x, Tensor *y, double *loss) {
    if (nn__model_prepare(m, x, y, "train_on_batch") != 0) return -1;
    double value;
    ag_tape_reset(m->tape);
    Tensor *xb = row_range(m->tape, x, 0, x->shape[0]), *yb = row_range(m->tape, y, 0, y->shape[0]);
    int rc = nn__model_train_step(m, xb, yb, &value, NULL, NULL);
    if (loss) *loss = value;
    return rc;
}
