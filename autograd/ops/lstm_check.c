/* lstm_check: the dtype and shape checks the fused LSTM (lstm.c) and the composed
 * reference (lstm_reference.c) share, so both stop with the same messages, those of
 * ag_lstm_lookup's table and ids, and the check of a sequence mask, which the RNN
 * layers use too. */
#include "autograd/ops/lstm_internal.h"

/* Inputs in the order of the fused op's node (lstm.c). */
enum { IN_X, IN_KERNEL, IN_RECURRENT, IN_BIAS, IN_H0, IN_C0, N_IN };

static char *shape_of(const Tensor *t, char *buf, size_t len) {
    return tensor_shape_str(t->ndim, t->shape, buf, len);
}

void ag__lstm_check(const char *op, const Tensor *x, const Tensor *kernel, const Tensor *recurrent,
                    const Tensor *bias, const Tensor *h0, const Tensor *c0, int64_t dims[4]) {
    char s[128];
    const Tensor *all[] = {x, kernel, recurrent, bias, h0, c0};
    for (int k = 0; k < N_IN; k++) {
        TENSOR_CHECK(k >= IN_H0 || all[k], "%s: input %d is NULL (only h0 and c0 may be)", op, k);
        if (all[k]) ag_expect_f32(op, all[k]);
    }
    TENSOR_CHECK(x->ndim == 3, "%s: x must be (B, T, D): got %s", op, shape_of(x, s, sizeof s));
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    TENSOR_CHECK(T >= 1, "%s: x must have T >= 1 time steps: got %s", op, shape_of(x, s, sizeof s));
    TENSOR_CHECK(recurrent->ndim == 2 && recurrent->shape[0] >= 1 &&
                     recurrent->shape[1] == 4 * recurrent->shape[0],
                 "%s: recurrent must be (H, 4H) with H >= 1: got %s", op,
                 shape_of(recurrent, s, sizeof s));
    int64_t H = recurrent->shape[0];
    TENSOR_CHECK(kernel->ndim == 2 && kernel->shape[0] == D && kernel->shape[1] == 4 * H,
                 "%s: kernel must be (D, 4H) = (%lld, %lld): got %s", op, (long long)D,
                 (long long)(4 * H), shape_of(kernel, s, sizeof s));
    TENSOR_CHECK(bias->ndim == 1 && bias->shape[0] == 4 * H,
                 "%s: bias must be (4H) = (%lld): got %s", op, (long long)(4 * H),
                 shape_of(bias, s, sizeof s));
    const Tensor *states[] = {h0, c0};
    const char *names[] = {"h0", "c0"};
    for (int k = 0; k < 2; k++)
        TENSOR_CHECK(!states[k] || (states[k]->ndim == 2 && states[k]->shape[0] == B &&
                                    states[k]->shape[1] == H),
                     "%s: %s must be (B, H) = (%lld, %lld): got %s", op, names[k], (long long)B,
                     (long long)H, shape_of(states[k], s, sizeof s));
    dims[0] = B, dims[1] = T, dims[2] = D, dims[3] = H;
}

void ag__mask_check(const char *op, const Tensor *mask, int64_t B, int64_t T) {
    if (!mask) return;
    char s[128];
    TENSOR_CHECK(mask->dtype == TENSOR_F32 && mask->ndim == 2 && mask->shape[0] == B &&
                     mask->shape[1] == T,
                 "%s: mask must be float32 (B, T) = (%lld, %lld): got %s %s", op, (long long)B,
                 (long long)T, mask->dtype == TENSOR_I32 ? "int32" : "float32",
                 shape_of(mask, s, sizeof s));
    const float *m = mask->data;
    for (int64_t i = 0; i < mask->size; i++)
        TENSOR_CHECK(m[i] == 0.0f || m[i] == 1.0f,
                     "%s: mask values must be 0 or 1: got %g at (%lld, %lld)", op, (double)m[i],
                     (long long)(i / T), (long long)(i % T));
}

void ag__lstm_lookup_check(const char *op, const Tensor *table, const Tensor *ids, const int64_t dims[4]) {
    const int64_t B = dims[0], T = dims[1], D = dims[2];
    char s[128];
    TENSOR_CHECK(table && ids, "%s: table and ids must not be NULL", op);
    ag_expect_f32(op, table);
    ag_expect_i32(op, ids);
    TENSOR_CHECK(table->ndim == 2 && table->shape[1] == D,
                 "%s: table must be (V, D) with D = %lld: got %s", op, (long long)D,
                 shape_of(table, s, sizeof s));
    TENSOR_CHECK(ids->ndim == 2 && ids->shape[0] == B && ids->shape[1] == T,
                 "%s: ids must be (B, T) = (%lld, %lld): got %s", op, (long long)B, (long long)T,
                 shape_of(ids, s, sizeof s));
}

void ag__lstm_ids_check(const char *op, const Tensor *ids, int64_t V) {
    const int32_t *iv = ids->data;
    for (int64_t r = 0; r < ids->size; r++)
        TENSOR_CHECK(iv[r] >= 0 && iv[r] < V, "%s: id %d at flat index %lld is outside [0, %lld)", op,
                     (int)iv[r], (long long)r, (long long)V);
}
