/* NnCharVocab: the set of Unicode code points a text uses, numbered 0..size-1 in
 * code-point order (invalid UTF-8 bytes count as U+FFFD), with encoding of texts to
 * ids and decoding of ids back to UTF-8. */
#include "nn/text/text.h"
#include "nn/text/utf8_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define CV_MAX_CP 0x110000u
#define CV_REPLACEMENT 0xFFFDu
#define CV_FAST 256 /* code points below this are looked up in a table */

struct NnCharVocab {
    int32_t size;
    uint32_t *cps;         /* size code points, increasing */
    int32_t fast[CV_FAST]; /* id of each code point < CV_FAST, or -1 */
};

/* Next character of text at *i (advancing *i), invalid bytes as U+FFFD. */
static uint32_t cv_next(const char *text, int64_t len, int64_t *i) {
    uint32_t cp;
    int k = nn__utf8_decode(text + *i, len - *i, &cp);
    if (k < 0) {
        *i += 1;
        return CV_REPLACEMENT;
    }
    *i += k;
    return cp;
}

NnCharVocab *nn_char_vocab_build(const char *text, int64_t len) {
    TENSOR_CHECK(len >= 0, "nn_char_vocab_build: negative length %lld", (long long)len);
    TENSOR_CHECK(text != NULL || len == 0, "nn_char_vocab_build: text is NULL");
    /* One bit per possible code point (136 KiB): building is a single linear pass. */
    uint8_t *seen = calloc(CV_MAX_CP / 8, 1);
    NnCharVocab *v = calloc(1, sizeof *v);
    if (!seen || !v) {
        free(seen);
        free(v);
        tensor_set_error("nn_char_vocab_build: out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < len;) {
        uint32_t cp = cv_next(text, len, &i);
        seen[cp >> 3] |= (uint8_t)(1u << (cp & 7));
    }
    int32_t n = 0;
    for (uint32_t b = 0; b < CV_MAX_CP / 8; b++)
        for (uint8_t bits = seen[b]; bits; bits &= (uint8_t)(bits - 1)) n++;
    v->cps = malloc((size_t)(n ? n : 1) * sizeof(uint32_t));
    if (!v->cps) {
        free(seen);
        free(v);
        tensor_set_error("nn_char_vocab_build: out of memory");
        return NULL;
    }
    for (int c = 0; c < CV_FAST; c++) v->fast[c] = -1;
    for (uint32_t cp = 0; cp < CV_MAX_CP; cp++) {
        if (!(seen[cp >> 3] & (1u << (cp & 7)))) continue;
        if (cp < CV_FAST) v->fast[cp] = v->size;
        v->cps[v->size++] = cp;
    }
    free(seen);
    return v;
}

int32_t nn_char_vocab_size(const NnCharVocab *vocab) {
    TENSOR_CHECK(vocab != NULL, "nn_char_vocab_size: vocab is NULL");
    return vocab->size;
}

static int32_t cv_id(const NnCharVocab *v, uint32_t cp) {
    if (cp < CV_FAST) return v->fast[cp];
    int32_t lo = 0, hi = v->size; /* binary search in [lo, hi) */
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (v->cps[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->size && v->cps[lo] == cp ? lo : -1;
}

int32_t *nn_char_vocab_encode(const NnCharVocab *vocab, const char *text, int64_t len,
                              int64_t *out_len) {
    TENSOR_CHECK(vocab != NULL, "nn_char_vocab_encode: vocab is NULL");
    TENSOR_CHECK(len >= 0, "nn_char_vocab_encode: negative length %lld", (long long)len);
    TENSOR_CHECK(text != NULL || len == 0, "nn_char_vocab_encode: text is NULL");
    TENSOR_CHECK(out_len != NULL, "nn_char_vocab_encode: out_len is NULL");
    size_t bytes;
    if ((uint64_t)len > SIZE_MAX || tensor_mul_size((size_t)len + 1, sizeof(int32_t), &bytes) != 0) {
        tensor_set_error("nn_char_vocab_encode: a text of %lld bytes is too long", (long long)len);
        return NULL;
    }
    int32_t *out = malloc(bytes);
    if (!out) {
        tensor_set_error("nn_char_vocab_encode: out of memory for %lld ids", (long long)len);
        return NULL;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < len;) {
        int64_t at = i;
        uint32_t cp = cv_next(text, len, &i);
        int32_t id = cv_id(vocab, cp);
        if (id < 0) {
            char utf8[5] = {0};
            if (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0)) nn__utf8_encode(cp, utf8);
            tensor_set_error("nn_char_vocab_encode: character U+%04X%s%s%s at byte %lld is not in "
                             "the vocabulary",
                             (unsigned)cp, utf8[0] ? " '" : "", utf8, utf8[0] ? "'" : "",
                             (long long)at);
            free(out);
            return NULL;
        }
        out[n++] = id;
    }
    int32_t *shrunk = realloc(out, (size_t)(n + 1) * sizeof(int32_t));
    if (shrunk) out = shrunk;
    *out_len = n;
    return out;
}

int nn_char_vocab_decode(const NnCharVocab *vocab, int32_t id, char *out) {
    TENSOR_CHECK(vocab != NULL && out != NULL, "nn_char_vocab_decode: NULL argument");
    if (id < 0 || id >= vocab->size) {
        out[0] = '\0';
        return 0;
    }
    int k = nn__utf8_encode(vocab->cps[id], out);
    out[k] = '\0';
    return k;
}

void nn_char_vocab_free(NnCharVocab *vocab) {
    if (!vocab) return;
    free(vocab->cps);
    free(vocab);
}
