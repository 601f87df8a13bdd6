/* Word vectors as a lookup table (word -> row), and the two file formats of the
 * original word2vec tool that gensim's KeyedVectors.load_word2vec_format reads:
 *   text:   "V D\n" then one line per word: "word x1 x2 ... xD\n"
 *   binary: "V D\n" then per word: "word " + D little-endian float32 + "\n"
 * Words are written most frequent first (the order of the table). Both readers take
 * what gensim's save_word2vec_format writes (binary vectors without the "\n") and
 * what word2vec.c writes (text lines ending in a blank), as
 * tests/word2vec/gensim_reference.sh checks. */
#ifndef NN_VECTORS_IO_H
#define NN_VECTORS_IO_H

#include <stdbool.h>
#include <stdint.h>

typedef struct NnWordIndexEntry NnWordIndexEntry;

/* size words of dim floats each. Fields are read-only for users once finished. */
typedef struct NnWordVectors {
    int64_t size;      /* V: number of words */
    int64_t dim;       /* D */
    char **words;      /* V heap strings (owned), row order */
    float *vectors;    /* V * D row-major */
    float *unit;       /* V * D, each row scaled to length 1 (zero rows stay zero); set by finish */
    int64_t *counts;   /* V corpus counts, or NULL when unknown (vectors read from a file) */
    NnWordIndexEntry *index_; /* internal: word -> row (stb_ds map) */
} NnWordVectors;

/* An empty table of size x dim (size >= 0, dim >= 1): words NULL, vectors zero,
 * counts NULL. Returns NULL with tensor_last_error() set when the size would overflow
 * or cannot be allocated. Fill words[i] (heap strings, the table takes ownership) and
 * vectors, then call nn_word_vectors_finish. */
NnWordVectors *nn_word_vectors_new(int64_t size, int64_t dim);

/* Builds the word -> row lookup and the unit-length rows. Returns -1 (naming the
 * row) when a word is missing, empty, holds whitespace, or repeats an earlier one.
 * Call again after changing vectors to refresh the unit rows. */
int nn_word_vectors_finish(NnWordVectors *wv);

/* The row of a word (exact, case-sensitive match), or -1. Not safe to call from
 * several threads on the same table at once (stb_ds lookups write a scratch slot). */
int64_t nn_word_vectors_find(const NnWordVectors *wv, const char *word);

/* Frees the table and everything it owns. Accepts NULL. */
void nn_word_vectors_free(NnWordVectors *wv);

typedef enum {
    NN_VECTORS_AUTO = 0, /* reading: decide from the first entry */
    NN_VECTORS_TEXT,
    NN_VECTORS_BINARY,
} NnVectorsFormat;

/* Writes a finished table to path in the text format (floats as %.9g, so reading the
 * file back gives the same floats) or the binary one. Returns 0, or -1 with
 * tensor_last_error() naming the path and the reason. */
int nn_vectors_write(const NnWordVectors *wv, const char *path, bool binary);

/* Reads a word2vec text or binary file (NN_VECTORS_AUTO: binary unless the first
 * entry parses as a text line of D numbers). A word repeated in the file keeps its
 * first vector, as gensim does. Lines may end in "\r\n". Returns a finished table, or
 * NULL with tensor_last_error() naming the path, the line or entry and what was
 * wrong (bad header, short vector, non-number, truncated file). */
NnWordVectors *nn_vectors_read(const char *path, NnVectorsFormat format);

#endif
