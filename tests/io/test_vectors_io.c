/* Word vectors and the word2vec file formats: exact text and binary round trips, the
 * binary layout byte by byte, format detection, lenient reading (CRLF, blank runs,
 * repeated words keep the first vector), gensim's and word2vec.c's layouts, and clear
 * errors for damaged files. */
#include "helpers.h"
#include "nn/io/bytes_internal.h"
#include "nn/io/vectors_io.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *tmp_path(const char *name) {
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "/tmp/lamina_test_vectors_%d_%s", (int)getpid(), name);
    return p;
}

static void write_file(const char *path, const char *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(bytes, 1, n, f);
    fclose(f);
}

static NnWordVectors *sample_vectors(void) {
    NnWordVectors *wv = nn_word_vectors_new(3, 4);
    const char *words[] = {"the", "cat", "naïve"};
    const float v[] = {1.0f, -2.5f, 1e-8f, 3.14159274f, 0.1f, 0.2f, 0.3f, 0.4f, -1e30f, 7.0f, 0.0f, 1.0f / 3.0f};
    for (int i = 0; i < 3; i++) wv->words[i] = strdup(words[i]);
    memcpy(wv->vectors, v, sizeof v);
    cr_assert_eq(nn_word_vectors_finish(wv), 0, "%s", tensor_last_error());
    return wv;
}

static void assert_same(const NnWordVectors *a, const NnWordVectors *b) {
    cr_assert_eq(a->size, b->size);
    cr_assert_eq(a->dim, b->dim);
    for (int64_t i = 0; i < a->size; i++) cr_assert_str_eq(a->words[i], b->words[i]);
    cr_assert(memcmp(a->vectors, b->vectors, (size_t)(a->size * a->dim) * sizeof(float)) == 0, "vectors differ");
}

Test(vectors_io, lookup_and_unit_rows) {
    NnWordVectors *wv = sample_vectors();
    cr_assert_eq(nn_word_vectors_find(wv, "cat"), 1);
    cr_assert_eq(nn_word_vectors_find(wv, "Cat"), -1);
    cr_assert_eq(nn_word_vectors_find(wv, "dog"), -1);
    for (int i = 0; i < 3; i++) {
        double n = 0;
        for (int k = 0; k < 4; k++) n += wv->unit[i * 4 + k] * wv->unit[i * 4 + k];
        cr_assert(fabs(n - 1.0) < 1e-6, "row %d norm^2 %g", i, n);
    }
    cr_assert(fabsf(wv->unit[4] - 0.1f / sqrtf(0.3f)) < 1e-6f);
    nn_word_vectors_free(wv);

    NnWordVectors *zero = nn_word_vectors_new(1, 2);
    zero->words[0] = strdup("z");
    cr_assert_eq(nn_word_vectors_finish(zero), 0);
    cr_assert_eq(zero->unit[0], 0.0f); /* a zero row stays zero, no NaN */
    nn_word_vectors_free(zero);
}

Test(vectors_io, finish_rejects_bad_words) {
    const char *bad[][2] = {{"a", "a"}, {"a", "b c"}, {"a", ""}};
    for (int t = 0; t < 3; t++) {
        NnWordVectors *wv = nn_word_vectors_new(2, 2);
        wv->words[0] = strdup(bad[t][0]);
        wv->words[1] = strdup(bad[t][1]);
        cr_assert_eq(nn_word_vectors_finish(wv), -1, "case %d", t);
        cr_assert(strstr(tensor_last_error(), "row 1"), "%s", tensor_last_error());
        nn_word_vectors_free(wv);
    }
    NnWordVectors *missing = nn_word_vectors_new(1, 2);
    cr_assert_eq(nn_word_vectors_finish(missing), -1);
    nn_word_vectors_free(missing);
    cr_assert_null(nn_word_vectors_new(2, 0));
}

Test(vectors_io, text_round_trip_is_exact) {
    NnWordVectors *wv = sample_vectors();
    const char *path = tmp_path("t.txt");
    cr_assert_eq(nn_vectors_write(wv, path, false), 0, "%s", tensor_last_error());
    char head[64] = {0};
    FILE *f = fopen(path, "r");
    cr_assert(fgets(head, sizeof head, f));
    cr_assert_str_eq(head, "3 4\n");
    cr_assert(fgets(head, sizeof head, f));
    cr_assert(strncmp(head, "the 1 -2.5 ", 11) == 0, "%s", head);
    fclose(f);
    for (int fmt = 0; fmt < 2; fmt++) { /* auto-detected and explicit */
        NnWordVectors *back = nn_vectors_read(path, fmt ? NN_VECTORS_TEXT : NN_VECTORS_AUTO);
        cr_assert_not_null(back, "%s", tensor_last_error());
        assert_same(wv, back);
        cr_assert_null(back->counts);
        nn_word_vectors_free(back);
    }
    unlink(path);
    nn_word_vectors_free(wv);
}

Test(vectors_io, binary_layout_and_round_trip) {
    NnWordVectors *wv = sample_vectors();
    const char *path = tmp_path("b.bin");
    cr_assert_eq(nn_vectors_write(wv, path, true), 0, "%s", tensor_last_error());
    unsigned char bytes[256];
    FILE *f = fopen(path, "rb");
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    /* "3 4\n" + 3 x (word + ' ' + 16 bytes + '\n'); "naïve" is 6 bytes of UTF-8 */
    cr_assert_eq(n, 4 + (3 + 1 + 16 + 1) + (3 + 1 + 16 + 1) + (6 + 1 + 16 + 1));
    cr_assert(memcmp(bytes, "3 4\nthe ", 8) == 0);
    cr_assert(memcmp(bytes + 8, (const unsigned char[]){0, 0, 0x80, 0x3f}, 4) == 0, "1.0f little-endian");
    cr_assert_eq(bytes[8 + 16], '\n');
    NnWordVectors *back = nn_vectors_read(path, NN_VECTORS_AUTO);
    cr_assert_not_null(back, "%s", tensor_last_error());
    assert_same(wv, back);
    nn_word_vectors_free(back);
    unlink(path);
    nn_word_vectors_free(wv);
}

Test(vectors_io, lenient_text_reading) {
    const char *text = "3 2\r\nthe  1 2 \r\ncat\t0.5 -0.5\r\nthe 9 9\r\n";
    const char *path = tmp_path("l.txt");
    write_file(path, text, strlen(text));
    NnWordVectors *wv = nn_vectors_read(path, NN_VECTORS_AUTO);
    cr_assert_not_null(wv, "%s", tensor_last_error());
    cr_assert_eq(wv->size, 2); /* the repeated "the" keeps its first vector */
    cr_assert_eq(wv->vectors[0], 1.0f);
    cr_assert_eq(wv->vectors[1], 2.0f);
    cr_assert_eq(nn_word_vectors_find(wv, "cat"), 1);
    cr_assert_eq(wv->vectors[3], -0.5f);
    nn_word_vectors_free(wv);
    unlink(path);
}

/* gensim's save_word2vec_format(binary=True) writes no "\n" after a vector; word2vec.c's
 * text lines end in a blank; a last line may lack its "\n". */
Test(vectors_io, gensim_and_word2vec_c_layouts) {
    unsigned char bin[4 + 2 * (3 + 8)];
    memcpy(bin, "2 2\n", 4);
    const float v[] = {1.0f, -2.0f, 0.5f, 3.0f};
    for (int w = 0; w < 2; w++) {
        unsigned char *e = bin + 4 + w * 11;
        memcpy(e, w ? "cd " : "ab ", 3);
        for (int k = 0; k < 2; k++) {
            uint32_t bits;
            memcpy(&bits, &v[2 * w + k], 4);
            nn__store_le32(e + 3 + 4 * k, bits);
        }
    }
    const char *path = tmp_path("g.bin");
    write_file(path, (const char *)bin, sizeof bin);
    for (int format = NN_VECTORS_AUTO; format <= NN_VECTORS_BINARY; format += 2) {
        NnWordVectors *wv = nn_vectors_read(path, (NnVectorsFormat)format);
        cr_assert_not_null(wv, "%s", tensor_last_error());
        cr_assert_eq(wv->size, 2);
        cr_assert_str_eq(wv->words[1], "cd");
        cr_assert(memcmp(wv->vectors, v, sizeof v) == 0, "vectors differ");
        nn_word_vectors_free(wv);
    }
    const char *text = "2 2 \nab 1 -2 \ncd 0.5 3 ";
    write_file(path, text, strlen(text));
    NnWordVectors *wv = nn_vectors_read(path, NN_VECTORS_AUTO);
    cr_assert_not_null(wv, "%s", tensor_last_error());
    cr_assert_eq(wv->size, 2);
    cr_assert(memcmp(wv->vectors, v, sizeof v) == 0, "vectors differ");
    nn_word_vectors_free(wv);
    unlink(path);
}

static void assert_read_fails(const char *bytes, size_t n, NnVectorsFormat fmt, const char *expect) {
    const char *path = tmp_path("bad");
    write_file(path, bytes, n);
    cr_assert_null(nn_vectors_read(path, fmt), "read %s", bytes);
    cr_assert(strstr(tensor_last_error(), expect), "error '%s' lacks '%s'", tensor_last_error(), expect);
    cr_assert(strstr(tensor_last_error(), path), "error '%s' lacks the path", tensor_last_error());
    unlink(path);
}

Test(vectors_io, damaged_files_are_reported) {
    assert_read_fails("", 0, NN_VECTORS_AUTO, "empty file");
    assert_read_fails("hello\n", 6, NN_VECTORS_AUTO, "line 1");
    assert_read_fails("2 3 4\n", 6, NN_VECTORS_AUTO, "line 1");
    assert_read_fails("2 0\n", 4, NN_VECTORS_AUTO, "line 1");
    const char *short_vec = "2 3\na 1 2 3\nb 1 2\n";
    assert_read_fails(short_vec, strlen(short_vec), NN_VECTORS_TEXT, "line 3: fewer numbers");
    const char *long_vec = "1 2\na 1 2 3\n";
    assert_read_fails(long_vec, strlen(long_vec), NN_VECTORS_TEXT, "line 2: more numbers");
    const char *nan_word = "2 2\na 1 2\nb 1 x2\n";
    assert_read_fails(nan_word, strlen(nan_word), NN_VECTORS_TEXT, "line 3: a value that is not a number");
    const char *early = "3 1\na 1\nb 2\n";
    assert_read_fails(early, strlen(early), NN_VECTORS_TEXT, "line 4: the file ends early");
    const char *huge = "1000000000 100\na 1\n";
    assert_read_fails(huge, strlen(huge), NN_VECTORS_AUTO, "more than the file holds");
    /* binary cut inside a vector, and inside a word */
    char bin[32] = "2 2\nab ";
    memset(bin + 7, 0, 8);
    memcpy(bin + 15, "\ncd \x01\x02", 6);
    assert_read_fails(bin, 21, NN_VECTORS_BINARY, "entry 2 of 2: the file ends inside a vector");
    assert_read_fails(bin, 17, NN_VECTORS_BINARY, "entry 2 of 2: the file ends inside a word");
    cr_assert_null(nn_vectors_read("/nonexistent/dir/v.txt", NN_VECTORS_AUTO));
    cr_assert(strstr(tensor_last_error(), "/nonexistent/dir/v.txt"), "%s", tensor_last_error());
}

Test(vectors_io, unwritable_path_is_reported) {
    NnWordVectors *wv = sample_vectors();
    cr_assert_eq(nn_vectors_write(wv, "/nonexistent/dir/v.txt", false), -1);
    cr_assert(strstr(tensor_last_error(), "/nonexistent/dir/v.txt"), "%s", tensor_last_error());
    nn_word_vectors_free(wv);
}
