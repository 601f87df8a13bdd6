/* pad_sequences: Keras's documented examples (pre padding, a pad value, post padding,
 * maxlen truncating the front), truncating at the back, maxlen longer than every
 * sequence, empty sequences, and the refusals of bad arguments. */
#include "helpers.h"
#include "nn/text/text.h"

static const int32_t s1[] = {1}, s2[] = {2, 3}, s3[] = {4, 5, 6};
static const int32_t *const seqs[] = {s1, s2, s3};
static const int64_t lens[] = {1, 2, 3};

static void assert_rows(Tensor *t, int64_t n, int64_t T, const int32_t *want) {
    cr_assert_not_null(t, "%s", tensor_last_error());
    cr_assert_eq(t->dtype, TENSOR_I32);
    cr_assert(t->ndim == 2 && t->shape[0] == n && t->shape[1] == T, "shape (%lld, %lld)",
              (long long)t->shape[0], (long long)t->shape[1]);
    for (int64_t i = 0; i < n * T; i++)
        cr_assert_eq(tensor_i32(t)[i], want[i], "element %lld: %d, expected %d", (long long)i,
                     tensor_i32(t)[i], want[i]);
    tensor_free(t);
}

/* The examples of keras.utils.pad_sequences's documentation. */
Test(pad, keras_examples) {
    assert_rows(nn_pad_sequences(3, seqs, lens), 3, 3, (int32_t[]){0, 0, 1, 0, 2, 3, 4, 5, 6});
    assert_rows(nn_pad_sequences(3, seqs, lens, .value = -1), 3, 3, (int32_t[]){-1, -1, 1, -1, 2, 3, 4, 5, 6});
    assert_rows(nn_pad_sequences(3, seqs, lens, .padding = NN_PAD_POST), 3, 3,
                (int32_t[]){1, 0, 0, 2, 3, 0, 4, 5, 6});
    assert_rows(nn_pad_sequences(3, seqs, lens, .maxlen = 2), 3, 2, (int32_t[]){0, 1, 2, 3, 5, 6});
}

Test(pad, truncating_post_and_long_maxlen) {
    assert_rows(nn_pad_sequences(3, seqs, lens, .maxlen = 2, .truncating = NN_PAD_POST), 3, 2,
                (int32_t[]){0, 1, 2, 3, 4, 5});
    assert_rows(nn_pad_sequences(3, seqs, lens, .maxlen = 2, .truncating = NN_PAD_POST, .padding = NN_PAD_POST),
                3, 2, (int32_t[]){1, 0, 2, 3, 4, 5});
    assert_rows(nn_pad_sequences(3, seqs, lens, .maxlen = 4, .padding = NN_PAD_POST, .value = 9), 3, 4,
                (int32_t[]){1, 9, 9, 9, 2, 3, 9, 9, 4, 5, 6, 9});
    assert_rows(nn_pad_sequences_opts(3, seqs, lens, NULL), 3, 3, (int32_t[]){0, 0, 1, 0, 2, 3, 4, 5, 6});
}

Test(pad, empty_sequences) {
    const int32_t *const some[] = {NULL, s2};
    const int64_t some_lens[] = {0, 2};
    assert_rows(nn_pad_sequences(2, some, some_lens), 2, 2, (int32_t[]){0, 0, 2, 3});
    Tensor *none = nn_pad_sequences(0, NULL, NULL);
    cr_assert_not_null(none, "%s", tensor_last_error());
    cr_assert(none->ndim == 2 && none->shape[0] == 0 && none->shape[1] == 0);
    tensor_free(none);
}

Test(pad, refuses_bad_arguments) {
    cr_assert_null(nn_pad_sequences(-1, seqs, lens));
    cr_assert(strstr(tensor_last_error(), "negative number"), "%s", tensor_last_error());
    const int64_t negative[] = {1, -2}, too_long[] = {1, 2};
    cr_assert_null(nn_pad_sequences(2, seqs, negative));
    cr_assert(strstr(tensor_last_error(), "sequence 1 has negative length"), "%s", tensor_last_error());
    cr_assert_null(nn_pad_sequences(3, seqs, lens, .maxlen = -3));
    cr_assert(strstr(tensor_last_error(), "maxlen"), "%s", tensor_last_error());
    cr_assert_null(nn_pad_sequences(3, seqs, lens, .padding = (NnPadSide)7));
    cr_assert(strstr(tensor_last_error(), "NN_PAD_PRE"), "%s", tensor_last_error());
    const int32_t *const holes[] = {s1, NULL};
    cr_assert_null(nn_pad_sequences(2, holes, too_long));
    cr_assert(strstr(tensor_last_error(), "sequence 1 is NULL"), "%s", tensor_last_error());
    cr_assert_null(nn_pad_sequences(2, NULL, lens));
}
