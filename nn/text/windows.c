/* Sliding-window datasets over an id sequence: many-to-one (a window and the id after
 * it, for the sonnets char model) and many-to-many (a window and the same window
 * shifted by one, for per-step targets). Both return heap int32 tensors. */
#include "nn/text/text.h"

#include <stdint.h>
#include <string.h>

/* Validates the arguments and returns the number of windows, or -1 with a reason. */
static int64_t windows_count(const char *fn, const int32_t *ids, int64_t n, int64_t window,
                             int64_t stride, Tensor **x, Tensor **y) {
    TENSOR_CHECK(x != NULL && y != NULL, "%s: x and y must not be NULL", fn);
    *x = *y = NULL;
    if (window <= 0) return tensor_set_error("%s: window must be positive (got %lld)", fn, (long long)window);
    if (stride <= 0) return tensor_set_error("%s: stride must be positive (got %lld)", fn, (long long)stride);
    if (n < 0) return tensor_set_error("%s: negative sequence length %lld", fn, (long long)n);
    TENSOR_CHECK(ids != NULL || n == 0, "%s: ids is NULL", fn);
    /* n - 1 < window rather than n < window + 1: window may be INT64_MAX. */
    if (n - 1 < window)
        return tensor_set_error("%s: sequence of %lld ids is shorter than window %lld + 1", fn,
                                (long long)n, (long long)window);
    int64_t count = (n - 1 - window) / stride + 1; /* last start s satisfies s + window < n */
    size_t bytes;
    if (tensor_mul_size((size_t)count, (size_t)window, &bytes) != 0 ||
        tensor_mul_size(bytes, sizeof(int32_t), &bytes) != 0 || bytes > (size_t)INT64_MAX)
        return tensor_set_error("%s: %lld windows of %lld ids are too many to hold", fn,
                                (long long)count, (long long)window);
    return count;
}

int nn_windows_next(const int32_t *ids, int64_t n, int64_t window, int64_t stride, Tensor **x,
                    Tensor **y) {
    int64_t count = windows_count("nn_windows_next", ids, n, window, stride, x, y);
    if (count < 0) return -1;
    Tensor *tx = tensor_empty(NULL, TENSOR_I32, 2, (int64_t[]){count, window});
    Tensor *ty = tensor_empty(NULL, TENSOR_I32, 1, (int64_t[]){count});
    int32_t *dx = tensor_i32(tx), *dy = tensor_i32(ty);
    for (int64_t i = 0; i < count; i++) {
        int64_t s = i * stride;
        memcpy(dx + i * window, ids + s, (size_t)window * sizeof(int32_t));
        dy[i] = ids[s + window];
    }
    *x = tx;
    *y = ty;
    return 0;
}

int nn_windows_shifted(const int32_t *ids, int64_t n, int64_t window, int64_t stride, Tensor **x,
                       Tensor **y) {
    int64_t count = windows_count("nn_windows_shifted", ids, n, window, stride, x, y);
    if (count < 0) return -1;
    Tensor *tx = tensor_empty(NULL, TENSOR_I32, 2, (int64_t[]){count, window});
    Tensor *ty = tensor_empty(NULL, TENSOR_I32, 2, (int64_t[]){count, window});
    int32_t *dx = tensor_i32(tx), *dy = tensor_i32(ty);
    for (int64_t i = 0; i < count; i++) {
        int64_t s = i * stride;
        memcpy(dx + i * window, ids + s, (size_t)window * sizeof(int32_t));
        memcpy(dy + i * window, ids + s + 1, (size_t)window * sizeof(int32_t));
    }
    *x = tx;
    *y = ty;
    return 0;
}
