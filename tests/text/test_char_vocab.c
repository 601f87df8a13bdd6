/* NnCharVocab: code-point order, multi-byte characters, invalid bytes as U+FFFD,
 * unknown characters reported, decode round trips, empty and NUL-bearing texts. */
#include "helpers.h"
#include "nn/text/text.h"

#include <stdlib.h>
#include <string.h>

Test(char_vocab, ids_in_code_point_order) {
    NnCharVocab *v = nn_char_vocab_build("hello", 5);
    cr_assert_not_null(v);
    cr_assert_eq(nn_char_vocab_size(v), 4); /* e h l o */
    int64_t n;
    int32_t *ids = nn_char_vocab_encode(v, "hello", 5, &n);
    cr_assert_not_null(ids, "%s", tensor_last_error());
    int32_t want[] = {1, 0, 2, 2, 3};
    cr_assert_eq(n, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(ids[i], want[i], "id %d", i);
    char out[5];
    const char *letters = "ehlo";
    for (int id = 0; id < 4; id++) {
        cr_assert_eq(nn_char_vocab_decode(v, id, out), 1);
        cr_assert_eq(out[0], letters[id]);
        cr_assert_eq(out[1], '\0');
    }
    free(ids);
    nn_char_vocab_free(v);
}

Test(char_vocab, multibyte_characters_round_trip) {
    const char text[] = "\xf0\x9f\x98\x80" "\xe2\x82\xac" "\xc3\xa9" "a" "\xc3\xa9"; /* 😀€éaé */
    NnCharVocab *v = nn_char_vocab_build(text, sizeof text - 1);
    cr_assert_eq(nn_char_vocab_size(v), 4);
    int64_t n;
    int32_t *ids = nn_char_vocab_encode(v, text, sizeof text - 1, &n);
    int32_t want[] = {3, 2, 1, 0, 1}; /* a < é < € < 😀 */
    cr_assert_eq(n, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(ids[i], want[i], "id %d", i);
    /* Decoding every id and concatenating gives the text back. */
    char back[64] = {0}, out[5];
    size_t used = 0;
    for (int64_t i = 0; i < n; i++) {
        int k = nn_char_vocab_decode(v, ids[i], out);
        memcpy(back + used, out, (size_t)k);
        used += (size_t)k;
    }
    cr_assert_eq(used, sizeof text - 1);
    cr_assert_eq(memcmp(back, text, used), 0);
    int sizes[] = {1, 2, 3, 4};
    for (int id = 0; id < 4; id++) cr_assert_eq(nn_char_vocab_decode(v, id, out), sizes[id]);
    free(ids);
    nn_char_vocab_free(v);
}

Test(char_vocab, invalid_bytes_count_as_replacement_character) {
    const char text[] = "a\xff\x80" "b\xe2\x82"; /* three different kinds of invalid byte */
    NnCharVocab *v = nn_char_vocab_build(text, sizeof text - 1);
    cr_assert_eq(nn_char_vocab_size(v), 3); /* a b U+FFFD */
    char out[5];
    cr_assert_eq(nn_char_vocab_decode(v, 2, out), 3);
    cr_assert_str_eq(out, "\xef\xbf\xbd");
    int64_t n;
    int32_t *ids = nn_char_vocab_encode(v, text, sizeof text - 1, &n);
    int32_t want[] = {0, 2, 2, 1, 2, 2}; /* each invalid byte is one U+FFFD */
    cr_assert_eq(n, 6);
    for (int i = 0; i < 6; i++) cr_assert_eq(ids[i], want[i], "id %d", i);
    free(ids);
    /* A real U+FFFD in the text is the same character. */
    ids = nn_char_vocab_encode(v, "\xef\xbf\xbd", 3, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(ids[0], 2);
    free(ids);
    nn_char_vocab_free(v);
}

Test(char_vocab, unknown_character_is_reported) {
    NnCharVocab *v = nn_char_vocab_build("abc", 3);
    int64_t n = 0;
    tensor_clear_error();
    cr_assert_null(nn_char_vocab_encode(v, "abx", 3, &n));
    cr_assert(strstr(tensor_last_error(), "U+0078 'x'") != NULL, "got: %s", tensor_last_error());
    cr_assert(strstr(tensor_last_error(), "byte 2") != NULL, "got: %s", tensor_last_error());
    cr_assert_null(nn_char_vocab_encode(v, "a\n", 2, &n));
    cr_assert(strstr(tensor_last_error(), "U+000A") != NULL, "got: %s", tensor_last_error());
    char out[5] = "zzzz";
    cr_assert_eq(nn_char_vocab_decode(v, 3, out), 0);
    cr_assert_eq(out[0], '\0');
    cr_assert_eq(nn_char_vocab_decode(v, -1, out), 0);
    nn_char_vocab_free(v);
}

Test(char_vocab, nul_crlf_and_empty) {
    NnCharVocab *v = nn_char_vocab_build("a\0b\r\n", 5);
    cr_assert_eq(nn_char_vocab_size(v), 5); /* \0 \n \r a b */
    char out[5];
    cr_assert_eq(nn_char_vocab_decode(v, 0, out), 1);
    cr_assert_eq(out[0], '\0');
    cr_assert_eq(nn_char_vocab_decode(v, 1, out), 1);
    cr_assert_eq(out[0], '\n');
    nn_char_vocab_free(v);

    NnCharVocab *e = nn_char_vocab_build(NULL, 0);
    cr_assert_not_null(e);
    cr_assert_eq(nn_char_vocab_size(e), 0);
    int64_t n = 3;
    int32_t *ids = nn_char_vocab_encode(e, "", 0, &n);
    cr_assert_not_null(ids);
    cr_assert_eq(n, 0);
    free(ids);
    cr_assert_null(nn_char_vocab_encode(e, "a", 1, &n));
    nn_char_vocab_free(e);
    nn_char_vocab_free(NULL);
}

Test(char_vocab, never_reads_past_len) {
    char *text = malloc(3);
    memcpy(text, "x\xc3\xa9", 3); /* no terminator: ASan would see an over-read */
    NnCharVocab *v = nn_char_vocab_build(text, 2); /* é cut in half */
    cr_assert_eq(nn_char_vocab_size(v), 2);        /* x and U+FFFD */
    int64_t n;
    int32_t *ids = nn_char_vocab_encode(v, text, 3, &n);
    cr_assert_null(ids, "é itself is not in a vocabulary built from its first byte");
    free(text);
    nn_char_vocab_free(v);
}
