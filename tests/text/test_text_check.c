/* nn_text_check: malformed UTF-8 and unwanted control characters counted byte by
 * byte, the share a program warns about, and a clean text that counts nothing. */
#include "helpers.h"
#include "nn/text/text.h"

#include <stdlib.h>
#include <string.h>

static NnTextCheck check(const char *s, size_t n) { return nn_text_check(s, (int64_t)n); }

Test(text_check, clean_text_counts_nothing) {
    const char s[] = "Shall I compare thee\tto a summer\xe2\x80\x99s day?\r\n\f\vcaf\xc3\xa9 \xf0\x9f\x98\x80\n";
    NnTextCheck c = check(s, sizeof s - 1);
    cr_assert_eq(c.bytes, (int64_t)sizeof s - 1);
    cr_assert_eq(c.invalid, 0);
    cr_assert_eq(c.control, 0);
    cr_assert_float_eq(nn_text_check_share(&c), 0.0, 0.0);
    c = check("", 0);
    cr_assert_eq(c.bytes, 0);
    cr_assert_float_eq(nn_text_check_share(&c), 0.0, 0.0, "an empty text is not 0/0");
}

Test(text_check, invalid_bytes_one_each) {
    /* Latin-1 é, a stray continuation, a cut 3-byte character, an overlong '/', a
     * surrogate and a code point past U+10FFFF: 1 + 1 + 2 + 2 + 3 + 4 bytes. */
    const char s[] = "caf\xe9 \x80 \xe2\x82 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80";
    NnTextCheck c = check(s, sizeof s - 1);
    cr_assert_eq(c.invalid, 13);
    cr_assert_eq(c.control, 0);
    cr_assert_float_eq(nn_text_check_share(&c), 13.0 / (double)(sizeof s - 1), 1e-12);
}

Test(text_check, control_characters_are_counted_by_their_bytes) {
    /* NUL, BEL, ESC, DEL (1 byte each) and U+0085 (2 bytes); tab and newline are text. */
    const char s[] = "a\0b\x07" "c\x1b[0m\x7f\t\xc2\x85\n";
    NnTextCheck c = check(s, sizeof s - 1);
    cr_assert_eq(c.control, 6);
    cr_assert_eq(c.invalid, 0);
}

Test(text_check, never_reads_past_len) {
    char *s = malloc(3);
    memcpy(s, "a\xe2\x82", 3); /* a character cut by the end: ASan would see an over-read */
    NnTextCheck c = nn_text_check(s, 3);
    cr_assert_eq(c.invalid, 2);
    free(s);
}

Test(text_check, random_bytes_are_mostly_not_text) {
    uint32_t state = 12345u;
    enum { N = 100000 };
    char *s = malloc(N);
    for (int i = 0; i < N; i++) {
        state = state * 1664525u + 1013904223u;
        s[i] = (char)(state >> 24);
    }
    NnTextCheck c = nn_text_check(s, N);
    double share = nn_text_check_share(&c);
    /* Half the bytes are >= 0x80, nearly all of them malformed; an eighth are controls. */
    cr_assert(share > 0.5 && share < 0.7, "share %g", share);
    free(s);
}

Test(text_check, replace_invalid_gives_valid_utf8) {
    const char s[] = "ok caf\xe9 \xe2\x82 \xc3\xa9\xff";
    int64_t n;
    char *out = nn_text_replace_invalid(s, (int64_t)sizeof s - 1, &n);
    cr_assert_str_eq(out, "ok caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd \xc3\xa9\xef\xbf\xbd");
    cr_assert_eq(n, (int64_t)strlen(out));
    NnTextCheck c = nn_text_check(out, n);
    cr_assert_eq(c.invalid, 0);
    free(out);
}
