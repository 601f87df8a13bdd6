/* Keras's masks between layers: a float32 (B, T) tensor, 1 at real steps and 0 at
 * padding. Float rather than bool or int32 so that the RNNs, the fused LSTM and the
 * losses use it directly as an op's operand. Here: asking a layer for its output mask
 * (compute_mask), the hook of layers that hand the mask on, and the real steps of a
 * (B, T, ...) batch as rows, which is how losses and metrics skip padding. */
#include "autograd/ops/lstm_internal.h"
#include "nn/layers/layers.h"

#include <string.h>

const Tensor *nn_layer_compute_mask(Layer *layer, Tape *tape, Tensor *x, const Tensor *mask) {
    TENSOR_CHECK(layer && tape && x, "nn_layer_compute_mask: layer, tape and x must not be NULL");
    return layer->vt->compute_mask ? layer->vt->compute_mask(layer, tape, x, mask) : NULL;
}

const Tensor *nn_mask_keep(Layer *self, Tape *tape, Tensor *x, const Tensor *mask) {
    (void)self, (void)tape;
    return x->ndim >= 3 ? mask : NULL;
}

/* The flat (b * T + t) index of each real step, in order; their count to *n. */
static Tensor *real_steps(Tape *tape, const Tensor *mask, int64_t *n) {
    const float *m = mask->data;
    int64_t count = 0;
    for (int64_t i = 0; i < mask->size; i++) count += m[i] != 0.0f;
    Tensor *ids = tensor_i32_zeros(ag_tape_arena(tape), 1, (int64_t[]){count});
    int32_t *id = ids->data;
    for (int64_t i = 0, k = 0; i < mask->size; i++)
        if (m[i] != 0.0f) id[k++] = (int32_t)i;
    *n = count;
    return ids;
}

Tensor *nn_mask_rows(Tape *tape, Tensor *x, const Tensor *mask) {
    TENSOR_CHECK(tape && x && mask, "nn_mask_rows: tape, x and mask must not be NULL");
    char s[128];
    TENSOR_CHECK(x->ndim >= 2, "nn_mask_rows: x must be (B, T, ...): got %s",
                 tensor_shape_str(x->ndim, x->shape, s, sizeof s));
    const int64_t B = x->shape[0], T = x->shape[1];
    TENSOR_CHECK(B * T <= INT32_MAX, "nn_mask_rows: %lld steps are too many", (long long)(B * T));
    ag__mask_check("nn_mask_rows", mask, B, T);
    int64_t n, shape[TENSOR_MAX_DIMS];
    Tensor *ids = real_steps(tape, mask, &n);
    const int64_t width = B * T != 0 ? x->size / (B * T) : 0;
    shape[0] = n;
    for (int d = 2; d < x->ndim; d++) shape[d - 1] = x->shape[d];
    if (x->dtype == TENSOR_I32) { /* targets: copied, they take no gradient */
        Tensor *y = tensor_i32_zeros(ag_tape_arena(tape), x->ndim - 1, shape);
        for (int64_t k = 0; k < n; k++)
            memcpy((int32_t *)y->data + k * width, (const int32_t *)x->data + tensor_i32(ids)[k] * width,
                   (size_t)width * sizeof(int32_t));
        return y;
    }
    Tensor *steps = ag_reshape(tape, x, 2, (int64_t[]){B * T, width});
    return ag_reshape(tape, ag_gather_rows(tape, steps, ids), x->ndim - 1, shape);
}
