/* Sliding windows: counts and contents for several strides, the exact-fit edge, and
 * refusal of too-short sequences and non-positive arguments. */
#include "helpers.h"
#include "nn/text/text.h"

#include <signal.h>
#include <string.h>

static int32_t ids10[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

Test(windows, next_counts_and_contents) {
    int64_t strides[] = {1, 2, 4, 6, 7};
    int64_t counts[] = {7, 4, 2, 2, 1}; /* (10 - 1 - 3) / stride + 1 */
    for (int k = 0; k < 5; k++) {
        Tensor *x = NULL, *y = NULL;
        cr_assert_eq(nn_windows_next(ids10, 10, 3, strides[k], &x, &y), 0, "%s", tensor_last_error());
        cr_assert_eq(x->dtype, TENSOR_I32);
        cr_assert_eq(y->dtype, TENSOR_I32);
        cr_assert_eq(x->ndim, 2);
        cr_assert_eq(y->ndim, 1);
        cr_assert_eq(x->shape[0], counts[k], "stride %lld", (long long)strides[k]);
        cr_assert_eq(x->shape[1], 3);
        cr_assert_eq(y->shape[0], counts[k]);
        for (int64_t i = 0; i < counts[k]; i++) {
            int32_t s = (int32_t)(i * strides[k]);
            for (int j = 0; j < 3; j++) cr_assert_eq(tensor_i32(x)[i * 3 + j], s + j);
            cr_assert_eq(tensor_i32(y)[i], s + 3);
        }
        tensor_free(x);
        tensor_free(y);
    }
}

Test(windows, shifted_contents) {
    Tensor *x = NULL, *y = NULL;
    cr_assert_eq(nn_windows_shifted(ids10, 10, 4, 3, &x, &y), 0);
    /* starts 0 and 3: the last needs ids[3 + 4] for its final target; 6 would need ids[10]. */
    cr_assert_eq(x->shape[0], 2);
    cr_assert_eq(y->ndim, 2);
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 4);
    int32_t wx[] = {0, 1, 2, 3, 3, 4, 5, 6}, wy[] = {1, 2, 3, 4, 4, 5, 6, 7};
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(tensor_i32(x)[i], wx[i]);
        cr_assert_eq(tensor_i32(y)[i], wy[i]);
    }
    tensor_free(x);
    tensor_free(y);
}

Test(windows, exact_fit_gives_one_window) {
    Tensor *x, *y;
    cr_assert_eq(nn_windows_next(ids10, 10, 9, 1, &x, &y), 0);
    cr_assert_eq(x->shape[0], 1);
    cr_assert_eq(tensor_i32(y)[0], 9);
    tensor_free(x);
    tensor_free(y);
    cr_assert_eq(nn_windows_shifted(ids10, 10, 9, 100, &x, &y), 0);
    cr_assert_eq(x->shape[0], 1);
    cr_assert_eq(tensor_i32(y)[8], 9);
    tensor_free(x);
    tensor_free(y);
}

Test(windows, too_short_sequence_is_refused) {
    Tensor *x = (Tensor *)1, *y = (Tensor *)1;
    cr_assert_eq(nn_windows_next(ids10, 10, 40, 1, &x, &y), -1);
    cr_assert(strstr(tensor_last_error(), "sequence of 10 ids is shorter than window 40 + 1") != NULL,
              "got: %s", tensor_last_error());
    cr_assert_null(x);
    cr_assert_null(y);
    cr_assert_eq(nn_windows_shifted(ids10, 10, 10, 1, &x, &y), -1, "n == window is one short");
    cr_assert_eq(nn_windows_next(NULL, 0, 1, 1, &x, &y), -1);
    cr_assert_eq(nn_windows_next(ids10, 10, INT64_MAX, 1, &x, &y), -1, "no overflow in window + 1");
}

Test(windows, non_positive_arguments_are_refused) {
    Tensor *x, *y;
    cr_assert_eq(nn_windows_next(ids10, 10, 0, 1, &x, &y), -1);
    cr_assert(strstr(tensor_last_error(), "window must be positive (got 0)") != NULL, "got: %s",
              tensor_last_error());
    cr_assert_eq(nn_windows_shifted(ids10, 10, 3, 0, &x, &y), -1);
    cr_assert(strstr(tensor_last_error(), "stride must be positive (got 0)") != NULL, "got: %s",
              tensor_last_error());
    cr_assert_eq(nn_windows_next(ids10, 10, -3, 1, &x, &y), -1);
    cr_assert_eq(nn_windows_next(ids10, 10, 3, -1, &x, &y), -1);
    cr_assert_eq(nn_windows_next(ids10, -5, 3, 1, &x, &y), -1);
}

Test(windows, null_outputs_abort, .signal = SIGABRT) {
    Tensor *x;
    nn_windows_next(ids10, 10, 3, 1, &x, NULL);
}
