/* The 27-symbol scheme: hand-computed encodings, one symbol per UTF-8 character,
 * one space per invalid byte, NULs, CRLF, empty input, never reading past len. */
#include "helpers.h"
#include "nn/text/text.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Encodes exactly len bytes copied into a buffer of that size (no terminator), so
 * ASan catches any read past len, and compares with the expected symbols. */
static void check(const char *text, int64_t len, const int32_t *want, int64_t nwant) {
    char *copy = malloc(len ? (size_t)len : 1);
    memcpy(copy, text, (size_t)len);
    int64_t n = -1;
    int32_t *got = nn_char27_encode(copy, len, &n);
    cr_assert_not_null(got, "%s", tensor_last_error());
    cr_assert_eq(n, nwant, "got %lld symbols, expected %lld", (long long)n, (long long)nwant);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "symbol %lld: got %d, expected %d", (long long)i, got[i], want[i]);
    free(got);
    free(copy);
}
#define CHECK(text, ...)                                                                \
    check(text, (int64_t)sizeof(text) - 1, (int32_t[]){__VA_ARGS__},                    \
          (int64_t)(sizeof((int32_t[]){__VA_ARGS__}) / sizeof(int32_t)))

Test(char27, hand_example) {
    /* H e l l o ,   W o r l d ! */
    CHECK("Hello, World!", 8, 5, 12, 12, 15, 0, 0, 23, 15, 18, 12, 4, 0);
    CHECK("az AZ 09", 1, 26, 0, 1, 26, 0, 0, 0);
}

Test(char27, matches_notebook_scheme_on_ascii) {
    /* text.lower(), then anything outside " abcdefghijklmnopqrstuvwxyz" -> space. */
    char text[128];
    for (int i = 0; i < 127; i++) text[i] = (char)(i + 1); /* every ASCII byte but NUL */
    int64_t n;
    int32_t *got = nn_char27_encode(text, 127, &n);
    cr_assert_eq(n, 127);
    for (int i = 0; i < 127; i++) {
        int c = i + 1, lc = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        int32_t want = (lc >= 'a' && lc <= 'z') ? lc - 'a' + 1 : 0;
        cr_assert_eq(got[i], want, "byte %d", c);
        cr_assert_eq(nn_char27_decode(got[i]), (lc >= 'a' && lc <= 'z') ? lc : ' ');
    }
    free(got);
}

Test(char27, decode_symbols) {
    cr_assert_eq(nn_char27_decode(0), ' ');
    cr_assert_eq(nn_char27_decode(1), 'a');
    cr_assert_eq(nn_char27_decode(26), 'z');
    cr_assert_eq(nn_char27_decode(27), '?');
    cr_assert_eq(nn_char27_decode(-1), '?');
    cr_assert_eq(NN_CHAR27_SIZE, 27);
}

Test(char27, one_symbol_per_utf8_character) {
    CHECK("caf\xc3\xa9", 3, 1, 6, 0);                 /* café: é is 2 bytes, one space */
    CHECK("na\xc3\xafve", 14, 1, 0, 22, 5);           /* naïve */
    CHECK("a\xe2\x80\x94z", 1, 0, 26);                /* em dash, 3 bytes */
    CHECK("\xf0\x9f\x98\x80!", 0, 0);                 /* emoji, 4 bytes */
    CHECK("\xc3\x89T\xc3\x89", 0, 20, 0);             /* ÉTÉ: only ASCII letters map */
    CHECK("\xe2\x84\xaa", 11);                        /* Kelvin sign: Python lowers to k */
}

Test(char27, invalid_bytes_are_one_space_each) {
    CHECK("\xff\xfe", 0, 0);
    CHECK("a\x80" "b", 1, 0, 2);                      /* lone continuation byte */
    CHECK("ab\xe2\x82", 1, 2, 0, 0);                  /* truncated 3-byte character at the end */
    CHECK("\xe2\x82" "c", 0, 0, 3);                   /* truncated before an ASCII byte */
    CHECK("\xc0\xaf", 0, 0);                          /* overlong '/' */
    CHECK("\xed\xa0\x80", 0, 0, 0);                   /* UTF-16 surrogate */
    CHECK("\xf4\x90\x80\x80", 0, 0, 0, 0);            /* beyond U+10FFFF */
}

Test(char27, nul_crlf_and_empty) {
    CHECK("a\0b", 1, 0, 2);
    CHECK("a\r\nb", 1, 0, 0, 2);
    int64_t n = 5;
    int32_t *got = nn_char27_encode("", 0, &n);
    cr_assert_not_null(got, "an empty text gives an empty, valid array");
    cr_assert_eq(n, 0);
    free(got);
    got = nn_char27_encode(NULL, 0, &n);
    cr_assert_not_null(got);
    cr_assert_eq(n, 0);
    free(got);
}

Test(char27, never_reads_past_len) {
    /* The next byte would complete the Kelvin sign (-> 'k'), but it lies beyond len:
     * two invalid bytes, two spaces. */
    const char text[] = "a\xe2\x84\xaa";
    int64_t n;
    int32_t *got = nn_char27_encode(text, 3, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(got[0], 1);
    cr_assert_eq(got[1], 0);
    cr_assert_eq(got[2], 0);
    free(got);
    check("\xf0\x9f\x98", 3, (int32_t[]){0, 0, 0}, 3); /* unterminated, truncated 4-byte */
}

Test(char27, negative_length_aborts, .signal = SIGABRT) {
    int64_t n;
    nn_char27_encode("abc", -1, &n);
}
