/* The sonnets notebook's 27-symbol character scheme (0 = space, 1..26 = a..z). */
#include "nn/text/text.h"
#include "nn/text/utf8_internal.h"

#include <stdint.h>
#include <stdlib.h>

/* The notebook does text.lower() and then keeps only " abcdefghijklmnopqrstuvwxyz".
 * Python's lower() turns two non-ASCII characters into ASCII letters: the Kelvin sign
 * U+212A into 'k', and U+0130 (capital I with dot) into 'i' plus a combining dot,
 * which the notebook's filter makes a space; we keep one symbol per character, so
 * U+0130 gives just 'i'. */
static int32_t char27_of(uint32_t cp) {
    if (cp >= 'a' && cp <= 'z') return (int32_t)(cp - 'a' + 1);
    if (cp >= 'A' && cp <= 'Z') return (int32_t)(cp - 'A' + 1);
    if (cp == 0x212A) return 'k' - 'a' + 1;
    if (cp == 0x0130) return 'i' - 'a' + 1;
    return 0;
}

int32_t *nn_char27_encode(const char *text, int64_t len, int64_t *out_len) {
    TENSOR_CHECK(len >= 0, "nn_char27_encode: negative length %lld", (long long)len);
    TENSOR_CHECK(text != NULL || len == 0, "nn_char27_encode: text is NULL");
    TENSOR_CHECK(out_len != NULL, "nn_char27_encode: out_len is NULL");
    /* At most one symbol per byte; shrink afterwards. */
    size_t bytes;
    if ((uint64_t)len > SIZE_MAX || tensor_mul_size((size_t)len + 1, sizeof(int32_t), &bytes) != 0) {
        tensor_set_error("nn_char27_encode: a text of %lld bytes is too long", (long long)len);
        return NULL;
    }
    int32_t *out = malloc(bytes);
    if (!out) {
        tensor_set_error("nn_char27_encode: out of memory for %lld symbols", (long long)len);
        return NULL;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < len;) {
        uint32_t cp;
        int k = nn__utf8_decode(text + i, len - i, &cp);
        if (k < 0) {
            out[n++] = 0; /* one space per invalid byte */
            i += 1;
        } else {
            out[n++] = char27_of(cp);
            i += k;
        }
    }
    int32_t *shrunk = realloc(out, (size_t)(n + 1) * sizeof(int32_t));
    if (shrunk) out = shrunk;
    *out_len = n;
    return out;
}

char nn_char27_decode(int32_t symbol) {
    if (symbol == 0) return ' ';
    if (symbol >= 1 && symbol <= 26) return (char)('a' + symbol - 1);
    return '?';
}
