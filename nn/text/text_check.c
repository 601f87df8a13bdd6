/* nn_text_check: how much of a corpus is not UTF-8 text, so a program can warn before
 * it trains on random bytes or a file in another encoding (see text.h). */
#include "nn/text/text.h"
#include "nn/text/utf8_internal.h"

#include "tensor/error.h"

#include <stdint.h>
#include <string.h>

/* Control characters a text may hold: tab, line feed, form feed, carriage return
 * (and the vertical tab, which some old texts use as a line break). */
static bool allowed_control(uint32_t cp) { return cp == '\t' || cp == '\n' || cp == '\v' || cp == '\f' || cp == '\r'; }

NnTextCheck nn_text_check(const char *text, int64_t len) {
    TENSOR_CHECK(len >= 0 && (text != NULL || len == 0), "nn_text_check: bad text (len %lld)", (long long)len);
    NnTextCheck r = {.bytes = len};
    for (int64_t i = 0; i < len;) {
        uint32_t cp;
        int k = nn__utf8_decode(text + i, len - i, &cp);
        if (k < 0) { /* one invalid byte: the readers turn it into one U+FFFD (or a space) */
            r.invalid++;
            i++;
            continue;
        }
        /* C0 controls, DEL and the C1 controls (U+0080..U+009F, two bytes each). */
        if ((cp < 0x20 && !allowed_control(cp)) || (cp >= 0x7F && cp <= 0x9F)) r.control += k;
        i += k;
    }
    return r;
}

double nn_text_check_share(const NnTextCheck *check) {
    TENSOR_CHECK(check != NULL, "nn_text_check_share: check is NULL");
    return check->bytes > 0 ? (double)(check->invalid + check->control) / (double)check->bytes : 0.0;
}

char *nn_text_replace_invalid(const char *text, int64_t len, int64_t *out_len) {
    TENSOR_CHECK(len >= 0 && (text != NULL || len == 0) && out_len != NULL,
                 "nn_text_replace_invalid: bad arguments (len %lld)", (long long)len);
    TENSOR_CHECK((uint64_t)len <= (SIZE_MAX - 1) / 3, "nn_text_replace_invalid: text too long (%lld bytes)",
                 (long long)len);
    char *out = tensor_xmalloc((size_t)len * 3 + 1); /* one byte becomes at most 3 */
    int64_t n = 0;
    for (int64_t i = 0; i < len;) {
        uint32_t cp;
        int k = nn__utf8_decode(text + i, len - i, &cp);
        if (k < 0) {
            n += nn__utf8_encode(NN__UTF8_REPLACEMENT, out + n);
            i++;
            continue;
        }
        memcpy(out + n, text + i, (size_t)k);
        n += k;
        i += k;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}
