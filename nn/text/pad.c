/* pad_sequences (Keras): id lists of different lengths into one (N, maxlen) int32
 * tensor, each padded with a value and cut to maxlen at the front ("pre", Keras's
 * default for both) or at the back ("post"). Post-padding with 0 is what an
 * Embedding(mask_zero) and a masked RNN read best (the backward half of a
 * Bidirectional then starts at each sequence's last real id). */
#include "nn/text/text.h"

#include <string.h>

/* The longest length, or -1 with the error set when an argument is bad. */
static int64_t longest(int64_t n, const int32_t *const *seqs, const int64_t *lens) {
    const char *fn = "nn_pad_sequences";
    if (n < 0) return tensor_set_error("%s: negative number of sequences %lld", fn, (long long)n);
    if (n > 0 && (!seqs || !lens)) return tensor_set_error("%s: seqs and lens must not be NULL", fn);
    int64_t most = 0;
    for (int64_t i = 0; i < n; i++) {
        if (lens[i] < 0)
            return tensor_set_error("%s: sequence %lld has negative length %lld", fn, (long long)i,
                                    (long long)lens[i]);
        if (lens[i] > 0 && !seqs[i])
            return tensor_set_error("%s: sequence %lld is NULL but has length %lld", fn, (long long)i,
                                    (long long)lens[i]);
        if (lens[i] > most) most = lens[i];
    }
    return most;
}

Tensor *nn_pad_sequences_opts(int64_t n, const int32_t *const *seqs, const int64_t *lens,
                              const NnPadOpts *opts) {
    const char *fn = "nn_pad_sequences";
    static const NnPadOpts defaults = {0};
    if (!opts) opts = &defaults;
    if (opts->maxlen < 0) {
        tensor_set_error("%s: maxlen must be >= 0 (0: the longest sequence), got %lld", fn,
                         (long long)opts->maxlen);
        return NULL;
    }
    if ((opts->padding != NN_PAD_PRE && opts->padding != NN_PAD_POST) ||
        (opts->truncating != NN_PAD_PRE && opts->truncating != NN_PAD_POST)) {
        tensor_set_error("%s: padding and truncating must be NN_PAD_PRE or NN_PAD_POST, got %d and %d",
                         fn, (int)opts->padding, (int)opts->truncating);
        return NULL;
    }
    const int64_t most = longest(n, seqs, lens);
    if (most < 0) return NULL;
    const int64_t T = opts->maxlen ? opts->maxlen : most;
    size_t bytes;
    if (tensor_mul_size((size_t)n, (size_t)T, &bytes) != 0 ||
        tensor_mul_size(bytes, sizeof(int32_t), &bytes) != 0 || bytes > (size_t)INT64_MAX) {
        tensor_set_error("%s: %lld sequences of %lld ids are too many to hold", fn, (long long)n,
                         (long long)T);
        return NULL;
    }
    Tensor *out = tensor_i32_zeros(NULL, 2, (int64_t[]){n, T});
    int32_t *o = out->data;
    for (int64_t i = 0; i < n; i++) {
        const int64_t keep = lens[i] < T ? lens[i] : T;
        /* Truncating "pre" drops the first ids, "post" the last. */
        const int32_t *src = seqs[i] ? seqs[i] + (opts->truncating == NN_PAD_PRE ? lens[i] - keep : 0) : NULL;
        int32_t *row = o + i * T, *dst = row + (opts->padding == NN_PAD_PRE ? T - keep : 0);
        for (int64_t t = 0; t < T; t++) row[t] = opts->value;
        if (keep) memcpy(dst, src, (size_t)keep * sizeof(int32_t));
    }
    return out;
}
