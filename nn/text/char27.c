/* The sonnets notebook's 27-symbol character scheme (0 = space, 1..26 = a..z), and the
 * small UTF-8 decoder/encoder the text utilities share (nn__utf8_decode/encode, also
 * used by char_vocab.c and tokenizer.c; they are internal, so they have no header:
 * nn/text.h is the public contract). */
#include "nn/text/text.h"

#include <stdint.h>
#include <stdlib.h>

/* Decodes one UTF-8 character at text[0..avail) (avail >= 1) into *cp and returns
 * its byte count (1..4), or returns -1 if text[0] does not start a well-formed
 * character (stray continuation, overlong form, surrogate, > U+10FFFF, or a sequence
 * cut short by avail or by a non-continuation byte). Callers then skip exactly that
 * one byte, so every invalid byte stands for one character of its own. Never reads
 * at or past text[avail]. */
int nn__utf8_decode(const char *text, int64_t avail, uint32_t *cp) {
    const unsigned char *s = (const unsigned char *)text;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return -1; /* continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (avail < n) return -1;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return -1;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return -1;
    *cp = v;
    return n;
}

/* Writes the UTF-8 encoding of a code point (<= U+10FFFF) to out; returns 1..4. */
int nn__utf8_encode(uint32_t cp, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

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
